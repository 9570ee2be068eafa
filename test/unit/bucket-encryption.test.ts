/**
 * Reading the bucket's default encryption and its key policy (the gateway, against mocked SDK clients): what each
 * answer of S3 and KMS means for the policy, and what is "not checked".
 */
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../src/engine/engine.js';
import { parseConfigText } from '../../src/load/config.js';
import type { DesiredPolicy } from '../../src/model.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY_ID}`;

/** An account without any of the config's IAM resources. */
function emptyAccount(): ReturnType<typeof mockAws> {
  const m = mockAws({ account: ACCOUNT });
  m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'The role cannot be found.'));
  m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
  return m;
}

function kmsRule(KMSMasterKeyID?: string) {
  return {
    ServerSideEncryptionConfiguration: {
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms' as const,
            ...(KMSMasterKeyID !== undefined ? { KMSMasterKeyID } : {}),
          },
        },
      ],
    },
  };
}

describe("the bucket's default encryption", () => {
  it.each([
    ['a key ARN', KEY, { kind: 'kms', keyArn: KEY }],
    ['a bare key ID: made an ARN of the run region and account', KEY_ID, { kind: 'kms', keyArn: KEY }],
    ['no key named: the AWS managed key aws/s3', undefined, { kind: 's3' }],
    ['the alias aws/s3', 'alias/aws/s3', { kind: 's3' }],
  ])('%s', async (_what, keyId, expected) => {
    const m = mockAws({ account: ACCOUNT });
    m.s3.on(GetBucketEncryptionCommand).resolves(kmsRule(keyId));
    expect(await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' })).toEqual(
      expected,
    );
    expect(m.kms.commandCalls(DescribeKeyCommand)).toHaveLength(0);
  });

  it('an alias: the key behind it (kms:DescribeKey); an alias of an AWS managed key needs nothing', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.s3.on(GetBucketEncryptionCommand).resolves(kmsRule('alias/flyte-data'));
    m.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY, KeyManager: 'CUSTOMER' } });
    expect(await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' })).toEqual({
      kind: 'kms',
      keyArn: KEY,
    });
    m.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY, KeyManager: 'AWS' } });
    expect(await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' })).toEqual({
      kind: 's3',
    });
    m.kms.on(DescribeKeyCommand).rejects(awsError('AccessDeniedException'));
    const unknown = await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' });
    expect(unknown).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('alias/flyte-data') });
  });

  it('SSE-S3, or no configuration: nothing to grant; refused: unknown, with why', async () => {
    const m = mockAws({ account: ACCOUNT });
    // The helper's bucket: SSE-S3 (AES256).
    expect(await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' })).toEqual({
      kind: 's3',
    });
    m.s3.on(GetBucketEncryptionCommand).rejects(awsError('ServerSideEncryptionConfigurationNotFoundError'));
    expect(await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' })).toEqual({
      kind: 's3',
    });
    m.s3.on(GetBucketEncryptionCommand).rejects(awsError('AccessDenied'));
    expect(await m.gateway.bucketEncryption('acme-flyte-data', { accountId: ACCOUNT, partition: 'aws' })).toEqual({
      kind: 'unknown',
      reason: 's3:GetBucketEncryption is denied to the caller',
    });
  });
});

describe('a plan of a bucket under a customer managed key', () => {
  const config = parseConfigText('region: eu-west-1\ncluster: acme\nbucket: acme-flyte-data\nvpcDns: off\n');

  it('grants the key in the custom policy and checks its key policy', async () => {
    const m = emptyAccount();
    m.s3.on(GetBucketEncryptionCommand).resolves(kmsRule(KEY));
    m.kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` }, Action: 'kms:*', Resource: '*' },
        ],
      }),
    });
    const plan = await makePlan(config, m.gateway);
    const section = plan.sections.find((s) => s.id === 'customPolicy')!;
    const policy = section.resources.find((r) => r.kind === 'policy')!.desired as DesiredPolicy;
    expect(JSON.stringify(policy.document)).toContain(KEY);
    const bucket = section.resources.find((r) => r.kind === 'bucket')!;
    expect(bucket.findings?.map((f) => f.code)).toEqual(['kms-key-policy']);
    expect(m.kms.commandCalls(GetKeyPolicyCommand)[0]!.args[0].input).toEqual({ KeyId: KEY, PolicyName: 'default' });
  });

  it('a key policy the caller may not read: not checked, never passed', async () => {
    const m = emptyAccount();
    m.s3.on(GetBucketEncryptionCommand).resolves(kmsRule(KEY));
    m.kms.on(GetKeyPolicyCommand).rejects(awsError('AccessDeniedException'));
    const plan = await makePlan(config, m.gateway);
    const bucket = plan.sections.find((s) => s.id === 'customPolicy')!.resources.find((r) => r.kind === 'bucket')!;
    expect(bucket.findings).toEqual([
      expect.objectContaining({ code: 'unchecked', message: expect.stringContaining('kms:GetKeyPolicy is denied') }),
    ]);
  });

  it('without a customer managed key, KMS is never called', async () => {
    const m = emptyAccount();
    await makePlan(config, m.gateway);
    expect(m.kms.calls()).toHaveLength(0);
  });

  it('the reads go out while S3 answers; only the key policy waits for the key', async () => {
    const m = emptyAccount();
    const order: string[] = [];
    let roleAsked!: () => void;
    const firstRole = new Promise<void>((resolve) => (roleAsked = resolve));
    m.iam.on(GetRoleCommand).callsFake(async () => {
      order.push('GetRole');
      roleAsked();
      throw awsError('NoSuchEntity', 'The role cannot be found.');
    });
    m.iam.on(GetPolicyCommand).callsFake(async () => {
      order.push('GetPolicy');
      throw awsError('NoSuchEntity');
    });
    // S3 answers only once a role has been asked for (or after a second, for the assertion to fail).
    m.s3.on(GetBucketEncryptionCommand).callsFake(async () => {
      await Promise.race([firstRole, new Promise((resolve) => setTimeout(resolve, 1000))]);
      order.push('GetBucketEncryption');
      return kmsRule(KEY);
    });
    m.kms.on(GetKeyPolicyCommand).callsFake(async () => {
      order.push('GetKeyPolicy');
      throw awsError('AccessDeniedException');
    });
    const plan = await makePlan(config, m.gateway);
    expect(order.indexOf('GetRole')).toBeLessThan(order.indexOf('GetBucketEncryption'));
    expect(order.indexOf('GetPolicy')).toBeLessThan(order.indexOf('GetBucketEncryption'));
    expect(order.indexOf('GetKeyPolicy')).toBeGreaterThan(order.indexOf('GetBucketEncryption'));
    // The plan is the same as when everything was read after S3: the key in the policy, its key policy not read.
    const section = plan.sections.find((s) => s.id === 'customPolicy')!;
    const policy = section.resources.find((r) => r.kind === 'policy')!;
    expect(JSON.stringify((policy.desired as DesiredPolicy).document)).toContain(KEY);
    expect(section.resources.find((r) => r.kind === 'bucket')!.findings).toEqual([
      expect.objectContaining({ code: 'unchecked', message: expect.stringContaining('kms:GetKeyPolicy is denied') }),
    ]);
    // Each resource read once.
    const roles = m.iam.commandCalls(GetRoleCommand).map((c) => c.args[0].input.RoleName);
    expect(roles.length).toBe(new Set(roles).size);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
  });

  it('a policy read before the key was known, whose document now lacks the key: its versions are read after', async () => {
    // The policy as a run without the key would have made it.
    const plain = emptyAccount();
    const before = await makePlan(config, plain.gateway);
    const document = (
      before.sections.find((s) => s.id === 'customPolicy')!.resources.find((r) => r.kind === 'policy')!
        .desired as DesiredPolicy
    ).document;
    const arn = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
    const m = emptyAccount();
    m.iam.on(GetPolicyCommand).resolves({
      Policy: { Arn: arn, PolicyName: 'flyte-custom-policy', Path: '/', DefaultVersionId: 'v1', Tags: [] },
    });
    m.iam.on(GetPolicyVersionCommand).resolves({
      PolicyVersion: {
        VersionId: 'v1',
        IsDefaultVersion: true,
        Document: encodeURIComponent(JSON.stringify(document)),
      },
    });
    m.iam.on(ListPolicyVersionsCommand).resolves({ Versions: [{ VersionId: 'v1', IsDefaultVersion: true }] });
    m.s3.on(GetBucketEncryptionCommand).resolves(kmsRule(KEY));
    m.kms.on(GetKeyPolicyCommand).rejects(awsError('AccessDeniedException'));
    const plan = await makePlan(config, m.gateway);
    const policy = plan.sections.find((s) => s.id === 'customPolicy')!.resources.find((r) => r.kind === 'policy')!;
    expect(policy.action).toBe('update');
    expect(policy.steps.map((step) => step.op)).toContain('CreatePolicyVersion');
    expect(m.iam.commandCalls(ListPolicyVersionsCommand)).toHaveLength(1);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
  });
});
