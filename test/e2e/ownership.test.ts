/**
 * What the tool owns, end to end against the emulator: a setup never takes over another setup's resources of the
 * same names; what it attached and the config no longer names is detached; a role or policy that existed before
 * gets back exactly its trust, attachments and default version on destroy; a role of its own that someone extended
 * to another account is kept by destroy.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  GetRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodePolicyDocument } from '../../src/policy/compare.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { clients, createBucket, createCluster, POLICY_ARN, readPolicy, readRole } from '../helpers/aws.js';
import { iamSnapshot } from '../helpers/iam-state.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { motoSkipReason, startMoto, type Moto } from '../helpers/moto.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
`;

const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';

const EC2_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

describe.skipIf(skip !== undefined)('ownership against the emulator', () => {
  let moto: Moto;

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
  });

  // The default workers role trusts `default` in every namespace, a broadening change: these runs approve it, so
  // that what they test is ownership, not the approval of broadening.
  const cli = (config: string, ...args: string[]) =>
    runCli(['--config', writeConfig(config), ...args, ...(args.includes('--yes') ? ['--approve-broadening'] : [])], {
      endpoint: moto.url,
    });
  const destroy = (config: string, ...args: string[]) =>
    runCli(['destroy', '--config', writeConfig(config), ...args], { endpoint: moto.url });

  it("two configs with the same names: the second setup is refused and takes nothing of the first's", async () => {
    expect((await cli(CONFIG, '--yes')).code).toBe(0);
    const before = await iamSnapshot(moto.url);

    // Another team's config: the same role and policy names, another bucket.
    const other = `${CONFIG.replace('acme-flyte-data', 'team-b-data')}setup: team-b\n`;
    const plan = await cli(other, '--dry-run');
    expect(plan.stdout).toContain('2. EKS node role  cannot be done');
    expect(plan.stdout).toContain(
      'it belongs to the setup "acme-ml" (its tag flyte-aws-setup:setup), not to this config\'s setup "team-b": ' +
        'another config made or changed it, and it is never changed from here. Give the role another name in this ' +
        'config, or, if this config really is that setup, set setup: acme-ml in it',
    );
    expect(plan.stdout).toContain('set oidcProvider: false in this config');

    const run = await cli(other, '--yes');
    expect(run.code).toBe(1);
    expect(run.mutating).toEqual([]);
    // The shared policy still grants the first setup's bucket.
    expect(JSON.stringify((await readPolicy(moto.url, POLICY_ARN)).document)).toContain('acme-flyte-data');
    expect(await iamSnapshot(moto.url)).toEqual(before);

    const removal = await destroy(other, '--yes');
    expect(removal.code).toBe(0);
    expect(removal.mutating).toEqual([]);
    expect(removal.stdout).toContain(
      "which another config made or changed; destroy of this config's setup leaves it alone",
    );
    expect(await iamSnapshot(moto.url)).toEqual(before);

    // The first setup's destroy still removes its own.
    expect((await destroy(CONFIG, '--yes')).code).toBe(0);
    expect(await readRole(moto.url, 'flyte-system-role')).toBeUndefined();
  });

  it('an extraPolicies entry removed: the next run detaches it; a policy attached by hand stays', async () => {
    const withAthena = `${CONFIG}systemRole: { extraPolicies: [${ATHENA}] }\n`;
    expect((await cli(withAthena, '--yes')).code).toBe(0);
    await clients(moto.url).iam.send(
      new AttachRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyArn: S3_READ }),
    );
    expect((await readRole(moto.url, 'flyte-system-role'))!.attached).toEqual([ATHENA, S3_READ, POLICY_ARN].sort());

    const plan = await cli(CONFIG, '--dry-run');
    expect(plan.stdout).toMatch(/5\. Flyte backend role {2}change\n/);
    expect(plan.stdout).toContain('- detach AmazonAthenaFullAccess');
    expect(plan.stdout).toContain(
      'note: detaches AmazonAthenaFullAccess: flyte-aws-setup attached it, and the config no longer names it',
    );
    // The policy attached by hand stays: a warning (pods get it), with its fix, but no step.
    expect(plan.stdout).toContain(`warning: also has ${S3_READ} attached, which the config does not list`);
    expect(plan.stdout).not.toContain('- detach AmazonS3ReadOnlyAccess');
    // A narrowing change: nothing security-relevant.
    expect(plan.stdout).not.toContain('(!)');

    const run = await cli(CONFIG, '--yes');
    expect(run.code).toBe(0);
    const role = await readRole(moto.url, 'flyte-system-role');
    expect(role!.attached).toEqual([S3_READ, POLICY_ARN].sort());
    expect(role!.tags['flyte-aws-setup:attached']).toBe('flyte-custom-policy');
    expect((await cli(CONFIG, '--yes')).mutating).toEqual([]);
  });

  it('a project removed: the plan and verify list its role (verify exits 1); --prune removes it', async () => {
    const withFraud = `${CONFIG}projectRoles: [{ project: fraud, extraPolicies: [${ATHENA}] }]\n`;
    expect((await cli(withFraud, '--yes')).code).toBe(0);

    const plan = await cli(CONFIG, '--dry-run');
    expect(plan.code).toBe(0);
    // A drift gate sees it: AWS does not match the config while the role is left.
    expect((await cli(CONFIG, '--dry-run', '--detailed-exitcode')).code).toBe(6);
    expect(plan.stdout).toContain('Roles of this setup that the config no longer names');
    expect(plan.stdout).toContain('[!] role flyte-fraud-role  still grants access');
    expect(plan.stdout).toContain('to remove it: run again with --prune');
    expect(plan.stdout).toContain('--prune removes them.');

    const verify = await runCli(['verify', '--config', writeConfig(CONFIG)], { endpoint: moto.url });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('✗ Roles of this setup that the config no longer names: 1 error(s)');
    expect(verify.stdout).toContain(
      "role flyte-fraud-role: is this setup's (made by flyte-aws-setup), but the config no longer names it",
    );
    expect(verify.stdout).not.toContain('AWS matches the config');

    // A run without --prune leaves it, and names it (the rest of the plan has nothing to say: the leftover is shown).
    const left = await cli(CONFIG, '--yes');
    expect(left.mutating).toEqual([]);
    expect(left.stdout).toContain('[!] role flyte-fraud-role  still grants access');
    expect(left.stdout).toContain('still grant access (listed above); --prune removes them.');
    expect(await readRole(moto.url, 'flyte-fraud-role')).toBeDefined();

    const dry = await cli(CONFIG, '--dry-run', '--prune');
    expect(dry.stdout).toContain('[-] role flyte-fraud-role');
    expect(dry.stdout).toContain('- delete the role');
    expect(dry.stdout).toContain('1 role(s) to remove (--prune)');
    expect(dry.mutating).toEqual([]);

    const run = await cli(CONFIG, '--yes', '--prune');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✓ role flyte-fraud-role (no longer in the config): removed');
    expect(run.mutating.map((c) => c.operation).sort()).toEqual(['DeleteRole', 'DetachRolePolicy', 'DetachRolePolicy']);
    expect(await readRole(moto.url, 'flyte-fraud-role')).toBeUndefined();
    const again = await runCli(['verify', '--config', writeConfig(CONFIG)], { endpoint: moto.url });
    expect(again.code).toBe(0);
  });

  it('an adopted role the config no longer names: listed, verify fails, --prune puts it back as it was', async () => {
    const { iam } = clients(moto.url);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'flyte-fraud-role',
        AssumeRolePolicyDocument: JSON.stringify(EC2_TRUST),
        Description: 'Made by hand',
        Tags: [{ Key: 'owner', Value: 'platform' }],
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'flyte-fraud-role', PolicyArn: S3_READ }));
    const before = await readRole(moto.url, 'flyte-fraud-role');
    const withFraud = `${CONFIG}projectRoles: [{ project: fraud, extraPolicies: [${ATHENA}] }]\n`;
    expect((await cli(withFraud, '--yes')).code).toBe(0);
    const adopted = await readRole(moto.url, 'flyte-fraud-role');
    expect(adopted!.attached).toEqual([ATHENA, POLICY_ARN, S3_READ].sort());
    expect(adopted!.description).toBe('Made by hand; adopted for Flyte, managed by flyte-aws-setup');

    const plan = await cli(CONFIG, '--dry-run');
    expect(plan.stdout).toContain('[!] role flyte-fraud-role  still grants access');
    expect(plan.stdout).toContain('to put it back: run again with --prune');
    const verify = await runCli(['verify', '--config', writeConfig(CONFIG)], { endpoint: moto.url });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(
      "role flyte-fraud-role: is this setup's (it existed before flyte-aws-setup, which adopted it)",
    );

    const dry = await cli(CONFIG, '--dry-run', '--prune');
    expect(dry.stdout).toContain('[~] role flyte-fraud-role  put back as it was');
    expect(dry.stdout).not.toContain('delete the role');
    const run = await cli(CONFIG, '--yes', '--prune');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('✓ role flyte-fraud-role (no longer in the config): put back as it was');
    expect(run.mutating.map((c) => c.operation)).not.toContain('DeleteRole');
    // Exactly what was there before: its trust, description, policies and tags.
    expect(await readRole(moto.url, 'flyte-fraud-role')).toEqual(before);
    const again = await runCli(['verify', '--config', writeConfig(CONFIG)], { endpoint: moto.url });
    expect(again.code, again.stdout).toBe(0);
  });

  it("destroy removes the setup's roles the config no longer names too", async () => {
    expect((await cli(`${CONFIG}projectRoles: [{ project: fraud }]\n`, '--yes')).code).toBe(0);
    const run = await destroy(CONFIG, '--yes');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('note: a role of this setup that the config no longer names');
    expect(run.stdout).toContain('Destroy complete');
    expect(await readRole(moto.url, 'flyte-fraud-role')).toBeUndefined();
    expect(await readRole(moto.url, 'flyte-system-role')).toBeUndefined();
  });

  it('apply then destroy on a role and a policy that existed before: exactly their trust, attachments and default version again', async () => {
    const { iam } = clients(moto.url);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'flyte-system-role',
        AssumeRolePolicyDocument: JSON.stringify(EC2_TRUST),
        Description: 'Platform: CI runners',
        Tags: [{ Key: 'owner', Value: 'platform' }],
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyArn: S3_READ }));
    const handMade = (bucket: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
      });
    await iam.send(new CreatePolicyCommand({ PolicyName: 'flyte-custom-policy', PolicyDocument: handMade('old-1') }));
    await iam.send(
      new CreatePolicyVersionCommand({ PolicyArn: POLICY_ARN, PolicyDocument: handMade('old-2'), SetAsDefault: true }),
    );
    const roleBefore = await readRole(moto.url, 'flyte-system-role');
    const policyBefore = await readPolicy(moto.url, POLICY_ARN);
    expect(policyBefore.policy.DefaultVersionId).toBe('v2');

    const plan = await cli(CONFIG, '--dry-run');
    // Adopting a role that holds more than the config gives it, with a broader trust: security-relevant.
    expect(plan.stdout).toContain(
      '(!) adopts a role that existed before flyte-aws-setup and holds more than this config gives it ' +
        '(AmazonS3ReadOnlyAccess): whoever its trust lets in gets that too',
    );
    expect(plan.stdout).toContain(
      "(!) adopts a role that existed before flyte-aws-setup whose trust lets in more than the config's",
    );
    expect(plan.stdout).toContain(
      'its default version now, v2, is recorded in its flyte-aws-setup:default-version tag',
    );

    expect((await cli(CONFIG, '--yes')).code).toBe(0);
    const applied = await readRole(moto.url, 'flyte-system-role');
    expect(applied!.attached).toEqual([S3_READ, POLICY_ARN].sort());
    expect(applied!.tags['managed-by']).toBeUndefined();
    // Marked, so that it is found once the config no longer names it; its own description recorded.
    expect(applied!.description).toBe('Platform: CI runners; adopted for Flyte, managed by flyte-aws-setup');
    expect((await readPolicy(moto.url, POLICY_ARN)).policy.DefaultVersionId).toBe('v3');

    const dry = await destroy(CONFIG, '--dry-run');
    expect(dry.stdout).toMatch(/\[~\] role flyte-system-role {2}kept, put back as it was/);
    expect(dry.stdout).toContain('- put back the trust it had before flyte-aws-setup changed it');
    expect(dry.stdout).toMatch(/\[~\] policy flyte-custom-policy {2}kept, put back as it was/);
    expect(dry.stdout).toContain('- make v2 the default version again (now v3)');

    const run = await destroy(CONFIG, '--yes');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('✓ role flyte-system-role: put back as it was before flyte-aws-setup');
    expect(run.stdout).toContain('Destroy complete');

    // Read back with the SDK: exactly what was there before.
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'flyte-system-role' }))).Role!;
    expect(decodePolicyDocument(role.AssumeRolePolicyDocument!)).toEqual(roleBefore!.trust);
    const roleAfter = await readRole(moto.url, 'flyte-system-role');
    expect(roleAfter).toEqual(roleBefore);
    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: POLICY_ARN }))).Policy!;
    expect(policy.DefaultVersionId).toBe('v2');
    const policyAfter = await readPolicy(moto.url, POLICY_ARN);
    expect(policyAfter.document).toEqual(policyBefore.document);
    expect(policyAfter.tags).toEqual(policyBefore.tags);
    expect((await destroy(CONFIG, '--yes')).mutating).toEqual([]);
  });

  it('a role of its own that someone extended to another account is kept by destroy, saying why', async () => {
    expect((await cli(CONFIG, '--yes')).code).toBe(0);
    const { iam } = clients(moto.url);
    const trust = (await readRole(moto.url, 'flyte-workers-role'))!.trust;
    const extended = {
      ...trust,
      Statement: [
        ...trust.Statement,
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' },
      ],
    };
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'flyte-workers-role', PolicyDocument: JSON.stringify(extended) }),
    );

    const run = await destroy(CONFIG, '--yes');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[!\] role flyte-workers-role {2}kept for now/);
    expect(run.stdout).toContain(
      'why: its trust now also lets in AWS arn:aws:iam::999999999999:root, which flyte-aws-setup never writes: ' +
        'someone extended it, so it is kept, with its policies',
    );
    expect(run.stdout).toContain('Destroy done as far as it can go');
    const kept = await readRole(moto.url, 'flyte-workers-role');
    expect(kept!.attached).toEqual([POLICY_ARN]);
    expect(await readRole(moto.url, 'flyte-system-role')).toBeUndefined();
  });
});
