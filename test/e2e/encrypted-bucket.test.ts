/**
 * A bucket encrypted by default with SSE-KMS under a customer managed key: the plan reads the bucket's default
 * encryption and the key's policy, the custom policy grants the key's use through S3 only, verify checks it, and a
 * key policy that does not let the account's IAM policies grant its use is reported with what to add. The access
 * check asks for the key's use (decrypt, generate a data key, through S3) identity by identity.
 */
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  CreatePolicyCommand,
  DeleteRolePermissionsBoundaryCommand,
  PutRolePermissionsBoundaryCommand,
} from '@aws-sdk/client-iam';
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, POLICY_ARN, clients, createBucket, createCluster, readPolicy } from '../helpers/aws.js';
import { FAKE_KEYS, runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const BASE = 'region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nvpcDns: off\n';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;

function kms(endpoint: string): KMSClient {
  return new KMSClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: FAKE_KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_KEYS.AWS_SECRET_ACCESS_KEY },
  });
}

/** A customer managed key (with the default key policy, or `policy`), and the bucket encrypted with it. */
async function encryptedBucket(endpoint: string, policy?: object): Promise<string> {
  await createBucket(endpoint, 'acme-flyte-data');
  const key = await kms(endpoint).send(new CreateKeyCommand({ Description: 'flyte data' }));
  const arn = key.KeyMetadata!.Arn!;
  if (policy !== undefined) {
    await kms(endpoint).send(
      new PutKeyPolicyCommand({ KeyId: arn, PolicyName: 'default', Policy: JSON.stringify(policy) }),
    );
  }
  await clients(endpoint).s3.send(
    new PutBucketEncryptionCommand({
      Bucket: 'acme-flyte-data',
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn } }],
      },
    }),
  );
  return arn;
}

const kmsStatement = (arn: string) => ({
  Effect: 'Allow',
  Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
  Resource: arn,
  Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
});

describe.skipIf(skip !== undefined)('a bucket encrypted with a customer managed KMS key', () => {
  let moto: Moto;

  beforeAll(async () => {
    moto = await acquireMoto();
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
  });

  it('the key is read from the bucket: the policy grants it through S3 only, and verify checks it', async () => {
    const arn = await encryptedBucket(moto.url);
    const file = writeConfig(BASE);
    const dry = await runCli(['--config', file, '--dry-run'], { endpoint: moto.url });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`the bucket is encrypted with the KMS key ${arn}`);
    // The default key policy lets the account's IAM policies grant its use: nothing to report about it.
    expect(dry.stdout).not.toContain('key policy');
    expect(dry.calls.filter((c) => c.operation === 'GetBucketEncryption')).toHaveLength(1);
    expect(dry.calls.filter((c) => c.operation === 'GetKeyPolicy')).toHaveLength(1);

    const run = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(run.code).toBe(0);
    const { document } = await readPolicy(moto.url, POLICY_ARN);
    expect(document.Statement).toHaveLength(2);
    expect(document.Statement[1]).toEqual(kmsStatement(arn));

    const verify = await runCli(['verify', '--config', file], { endpoint: moto.url });
    expect(verify.code).toBe(0);

    // The policy made before the bucket was encrypted lacks the key: verify says the document differs.
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
    expect((await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url })).code).toBe(0);
    const key = await kms(moto.url).send(new CreateKeyCommand({}));
    await clients(moto.url).s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'acme-flyte-data',
        ServerSideEncryptionConfiguration: {
          Rules: [
            { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.KeyMetadata!.Arn! } },
          ],
        },
      }),
    );
    const drift = await runCli(['verify', '--config', file], { endpoint: moto.url });
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('policy flyte-custom-policy: its policy document differs from the config');
    const mended = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(mended.code).toBe(0);
    expect((await readPolicy(moto.url, POLICY_ARN)).document.Statement[1]).toEqual(kmsStatement(key.KeyMetadata!.Arn!));
  });

  it('a key policy that does not delegate to IAM: a warning in the plan and verify, with the statement to add', async () => {
    const arn = await encryptedBucket(moto.url, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    });
    const file = writeConfig(BASE);
    const dry = await runCli(['--config', file, '--dry-run'], { endpoint: moto.url });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      `warning: the key policy of the bucket's KMS key ${arn} does not let the account's IAM policies grant ` +
        'kms:Decrypt, kms:Encrypt, kms:GenerateDataKey',
    );
    expect(dry.stdout).toContain(`"Principal":{"AWS":"${ROOT}"}`);

    expect((await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url })).code).toBe(0);
    const verify = await runCli(['verify', '--config', file, '--json'], { endpoint: moto.url });
    expect(verify.code).toBe(0);
    const doc = JSON.parse(verify.stdout) as { sections: { findings: { code: string; severity: string }[] }[] };
    const findings = doc.sections.flatMap((s) => s.findings);
    expect(findings.filter((f) => f.code === 'kms-key-policy')).toEqual([
      expect.objectContaining({ code: 'kms-key-policy', severity: 'warning' }),
    ]);
  });

  it('bucketKmsKey names the key: the bucket is not read for it, and the policy grants it', async () => {
    await createBucket(moto.url, 'acme-flyte-data');
    const key = await kms(moto.url).send(new CreateKeyCommand({}));
    const arn = key.KeyMetadata!.Arn!;
    const file = writeConfig(`${BASE}bucketKmsKey: ${arn}\n`);
    const run = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => c.operation === 'GetBucketEncryption')).toEqual([]);
    expect((await readPolicy(moto.url, POLICY_ARN)).document.Statement[1]).toEqual(kmsStatement(arn));
  });

  it('the access check asks for the key: a boundary without kms:Decrypt fails verify naming the identity and the action, and it passes once mended', async () => {
    const arn = await encryptedBucket(moto.url);
    const file = writeConfig(BASE);
    expect((await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url })).code).toBe(0);
    interface Cell {
      column: string;
      action: string;
      resource: string;
      state: string;
    }
    interface Report {
      sections: { findings: { code: string; resource: string; problem: string }[] }[];
      access: { identities: { id: string; cells: Cell[] }[] };
    }
    const verify = async () => {
      const run = await runCli(['verify', '--config', file, '--json'], { endpoint: moto.url });
      const report = JSON.parse(run.stdout) as Report;
      return { code: run.code, report, findings: report.sections.flatMap((s) => s.findings) };
    };
    const fresh = await verify();
    expect(fresh.code).toBe(0);
    const workers = fresh.report.access.identities.find((i) => i.id === '*/default')!;
    expect(workers.cells.filter((c) => c.column === 'kms').map((c) => [c.action, c.resource, c.state])).toEqual([
      ['kms:Decrypt', arn, 'allowed'],
      ['kms:GenerateDataKey', arn, 'allowed'],
    ]);

    // A boundary that allows S3 but not the key: the tasks could not read or write an object of the bucket.
    const iam = clients(moto.url).iam;
    const boundary = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 's3-only-boundary',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );
    await iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: 'flyte-workers-role',
        PermissionsBoundary: boundary.Policy!.Arn!,
      }),
    );
    const broken = await verify();
    expect(broken.code).toBe(1);
    const denied = broken.findings.filter(
      (f) => f.code === 'access-denied' && f.resource === 'role flyte-workers-role',
    );
    expect(denied.map((f) => f.problem).join('\n')).toMatch(
      /\*\/default .*cannot kms:Decrypt with the key .*the permissions boundary s3-only-boundary does not allow it/,
    );
    const shown = await runCli(['verify', '--config', file], { endpoint: moto.url });
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(/\*\/default\s+flyte-workers-role\s+✓\s+✓\s+✓\s+✓\s+✓\s+✓\s+✗\s+-/);

    await iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'flyte-workers-role' }));
    const mended = await verify();
    expect(mended.code).toBe(0);
    expect(mended.findings.filter((f) => f.code === 'access-denied')).toEqual([]);
  });
});
