/**
 * The operator policies of `flyte-aws-setup permissions`, enforced: the emulator is switched to checking every
 * request against the caller's IAM policies, and each command runs as a user that holds only the actions its
 * policy grants. A call the code makes that the policy lacks fails the run with "access denied".
 *
 * moto checks actions, not resource ARNs or condition keys, so each user gets the policy's actions on Resource
 * "*": this proves the action lists are complete for each command, including the paths taken only on drift.
 * The scoping of those actions to the config's ARNs is asserted in test/unit/permissions.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  ListAttachedRolePoliciesCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { IAMClient as Iam } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import type { PolicyDocument } from '../../src/policy/document.js';
import {
  ACCOUNT,
  UNION_CONFIG,
  clients,
  createBucket,
  createCluster,
  createUnionRole,
  createUserFlyteRolePolicy,
  createVpc,
} from '../helpers/aws.js';
import { FAKE_KEYS, runCli, writeConfig, type CliRun } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const MODES = ['apply', 'verify', 'destroy'] as const;
type Keys = { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };

function actionsOf(doc: PolicyDocument): string[] {
  return [...new Set(doc.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action!])))].sort();
}

async function userWith(iam: IAMClient, name: string, document: PolicyDocument | undefined): Promise<Keys> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  if (document === undefined) {
    await iam.send(
      new AttachUserPolicyCommand({ UserName: name, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
    );
  } else {
    await iam.send(
      new PutUserPolicyCommand({ UserName: name, PolicyName: 'operator', PolicyDocument: JSON.stringify(document) }),
    );
  }
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { AWS_ACCESS_KEY_ID: key.AccessKeyId!, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey! };
}

function iamAs(endpoint: string, keys: Keys): IAMClient {
  return new Iam({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: keys.AWS_ACCESS_KEY_ID, secretAccessKey: keys.AWS_SECRET_ACCESS_KEY },
  });
}

function noDenial(r: CliRun): void {
  expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/access denied|not authorized/i);
}

describe.skipIf(skip !== undefined)('each command runs with only the actions of its operator policy', () => {
  let moto: Moto;
  let file: string;
  const keys = {} as Record<(typeof MODES)[number] | 'admin', Keys>;
  const policies = {} as Record<(typeof MODES)[number], string[]>;
  const run = (mode: keyof typeof keys, args: string[]) => runCli(args, { endpoint: moto.url, env: keys[mode] });
  /** A role's attached policies, read as the admin (the test's own keys are refused once checks are on). */
  const attachedTo = async (role: string): Promise<string[] | undefined> => {
    try {
      const out = await iamAs(moto.url, keys.admin).send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
      return (out.AttachedPolicies ?? []).map((p) => p.PolicyArn!);
    } catch (err) {
      if ((err as Error).name.startsWith('NoSuchEntity')) return undefined;
      throw err;
    }
  };

  beforeAll(async () => {
    moto = await acquireMoto();
    const vpc = await createVpc(moto.url, { hostnames: false, support: true });
    await createCluster(moto.url, 'acme-ml', 'eu-west-1', vpc.subnetIds);
    // Union's existing role and policy, as Union's own setup leaves them.
    await createUnionRole(moto.url);
    await createUserFlyteRolePolicy(moto.url);
    const { iam } = clients(moto.url);
    // A cluster role made by hand before the tool, with another trust: the run adopts it, destroy puts it back.
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'flyte-eks-cluster-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    // The bucket, encrypted by default with a customer managed KMS key: the plan reads its encryption and key policy.
    await createBucket(moto.url, 'acme-flyte-data');
    const kms = new KMSClient({
      endpoint: moto.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: FAKE_KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_KEYS.AWS_SECRET_ACCESS_KEY },
    });
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await clients(moto.url).s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'acme-flyte-data',
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key } }],
        },
      }),
    );
    // And a grant: its policy is made, attached, read and deleted with the operator policies alone.
    file = writeConfig(`${UNION_CONFIG}grants:\n  - { to: fraud, bucket: acme-shared-data, prefix: features/ }\n`);
    for (const mode of MODES) {
      const r = await runCli(['permissions', '--config', file, '--for', mode], { endpoint: moto.url });
      expect(r.code, r.stderr).toBe(0);
      policies[mode] = actionsOf(JSON.parse(r.stdout) as PolicyDocument);
      // The emulator authorizes GetBucketEncryption as s3:ListBucket (its action map has no entry for it); AWS
      // authorizes it as s3:GetEncryptionConfiguration, which the policy holds.
      const emulatorGap = mode === 'destroy' ? [] : ['s3:ListBucket'];
      if (mode !== 'destroy') expect(policies[mode]).toContain('s3:GetEncryptionConfiguration');
      keys[mode] = await userWith(iam, `operator-${mode}`, {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: [...policies[mode], ...emulatorGap], Resource: '*' }],
      });
    }
    keys.admin = await userWith(iam, 'admin', undefined);
    // From here on every request is checked against its caller's policies.
    const res = await fetch(`${moto.url}/moto-api/reset-auth`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '0',
    });
    expect(res.ok).toBe(true);
  }, 60_000);
  afterAll(async () => moto?.stop());

  it('the emulator refuses what a policy does not grant (the check has teeth)', async () => {
    const r = await run('verify', ['--config', file, '--yes', '--approve-broadening']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/access denied: iam:Create/);
    expect(policies.verify.filter((a) => a.startsWith('iam:Create'))).toEqual([]);
  });

  it('apply: the whole setup, with the apply policy alone', async () => {
    const r = await run('apply', ['--config', file, '--yes', '--approve-broadening']);
    noDenial(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await attachedTo('acme-userflyterole')).toContain(`arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`);
    expect(await attachedTo('flyte-fraud-role')).toContain(`arn:aws:iam::${ACCOUNT}:policy/flyte-fraud-role-grants`);
    expect(r.stdout).toContain('the bucket is encrypted with the KMS key');
    expect(r.calls.map((c) => c.operation)).toEqual(expect.arrayContaining(['GetBucketEncryption', 'GetKeyPolicy']));
  });

  it('verify and apply on drift: a changed policy document and trust are read, reported and mended', async () => {
    const admin = iamAs(moto.url, keys.admin);
    await admin.send(
      new CreatePolicyVersionCommand({
        PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`,
        SetAsDefault: true,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );
    await admin.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'flyte-workers-role',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const drifted = await run('verify', ['verify', '--config', file]);
    noDenial(drifted);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toContain('policy flyte-custom-policy: its policy document differs from the config');
    expect(drifted.stdout).toContain('role flyte-workers-role: its trust policy differs from the config');

    const mended = await run('apply', ['--config', file, '--yes', '--approve-broadening']);
    noDenial(mended);
    expect(mended.code, mended.stdout + mended.stderr).toBe(0);
    const clean = await run('verify', ['verify', '--config', file]);
    noDenial(clean);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it("a grant moved to another role: the old role's grants policy is detached and deleted with the apply policy alone", async () => {
    const grantsOf = (role: string) => `arn:aws:iam::${ACCOUNT}:policy/${role}-grants`;
    const moved = writeConfig(readFileSync(file, 'utf8').replace('to: fraud', 'to: workers'));
    const r = await run('apply', ['--config', moved, '--yes', '--approve-broadening']);
    noDenial(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.calls.map((c) => c.operation)).toContain('DeletePolicy');
    expect(await attachedTo('flyte-fraud-role')).not.toContain(grantsOf('flyte-fraud-role'));
    expect(await attachedTo('flyte-workers-role')).toContain(grantsOf('flyte-workers-role'));
    // And back: the workers role's goes, the fraud role's is made again.
    const back = await run('apply', ['--config', file, '--yes', '--approve-broadening']);
    noDenial(back);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await attachedTo('flyte-workers-role')).not.toContain(grantsOf('flyte-workers-role'));
    expect(await attachedTo('flyte-fraud-role')).toContain(grantsOf('flyte-fraud-role'));
  });

  it('--prune: a project removed from the config, its role removed with the apply policy alone', async () => {
    const noProject = writeConfig(UNION_CONFIG.replace(/projectRoles:[\s\S]*$/, ''));
    const r = await run('apply', ['--config', noProject, '--yes', '--prune']);
    noDenial(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('✓ role flyte-fraud-role (no longer in the config): removed');
    expect(await attachedTo('flyte-fraud-role')).toBeUndefined();
  });

  it('destroy: the plan, then the removal, with the destroy policy alone', async () => {
    const plan = await run('destroy', ['destroy', '--config', file, '--dry-run']);
    noDenial(plan);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const r = await run('destroy', ['destroy', '--config', file, '--yes']);
    noDenial(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await attachedTo('flyte-workers-role')).toBeUndefined();
    // Union's role stays, without the tool's policy; the cluster role that existed before is put back.
    expect(await attachedTo('acme-userflyterole')).toEqual([]);
    expect(await attachedTo('flyte-eks-cluster-role')).toEqual([]);
    expect(r.stdout).toContain('✓ role flyte-eks-cluster-role: put back as it was before flyte-aws-setup');
  });
});
