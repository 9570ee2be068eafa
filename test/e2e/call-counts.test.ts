/**
 * The AWS calls of the documents' whole setup (examples/flyte-aws-setup.yaml: seven sections, one project with
 * three domains), counted per operation from the CLI's call log. These numbers are deterministic against the
 * emulator (it answers at once, so no read-back has to wait for IAM); `npm run bench` reports them beside the
 * timings, which are not tested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/aws/clients.js';
import { DetachRolePolicyCommand } from '@aws-sdk/client-iam';
import { clients, createCluster, POLICY_ARN } from '../helpers/aws.js';
import { join } from 'node:path';
import { ROOT, runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

function byOperation(calls: CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[`${c.service}:${c.operation}`] = (out[`${c.service}:${c.operation}`] ?? 0) + 1;
  return out;
}

// What the config holds: 5 roles (cluster, node, system, workers, fraud), 1 OIDC provider, 1 policy; 8 policy
// attachments (cluster 1, node 3, system 1, workers 1, fraud 2).
const ROLES = 5;
const ATTACHMENTS = 8;
// The roles of Flyte identities (system, workers, fraud), which the access check at the end of the run evaluates,
// and the managed policies they carry that the tool does not write (AmazonAthenaFullAccess).
const FLYTE_ROLES = 3;
const AWS_MANAGED_EXTRAS = 1;

// Reading the account: who the caller is and the cluster's issuer, then each resource: a role is GetRole, then
// ListAttachedRolePolicies once GetRole found it (a role not made yet costs one call), the provider one Get, the policy GetPolicy (and GetPolicyVersion when it exists). Beside
// them, what the config names is looked up: the fraud project's extra policy (AmazonAthenaFullAccess, one GetPolicy;
// the AWS managed policies the tool attaches itself are not looked up) and the bucket (one GetBucketLocation); and
// one ListRoles (one page here) for the setup's roles the config no longer names, which costs no call per role:
// none of the account's roles is such a role, so no GetRole follows. With the facts, the bucket's default
// encryption (one GetBucketEncryption; no KMS call, as the bucket has no KMS key).
const LOOK_UPS = { 'iam:GetPolicy': 1, 's3:GetBucketLocation': 1, 's3:GetBucketEncryption': 1 };
const PLAN_ON_EMPTY = {
  'sts:GetCallerIdentity': 1,
  'eks:DescribeCluster': 1,
  'iam:ListRoles': 1,
  'iam:GetRole': ROLES,
  'iam:GetOpenIDConnectProvider': 1,
  'iam:GetPolicy': 1 + LOOK_UPS['iam:GetPolicy'],
  's3:GetBucketLocation': LOOK_UPS['s3:GetBucketLocation'],
  's3:GetBucketEncryption': LOOK_UPS['s3:GetBucketEncryption'],
};
// The same reads where the roles exist: each role's attachments too; and no look-up of the extra policy, which
// the fraud role's attachments show attached (IAM deletes no policy that is still attached).
const PLAN_ON_SETUP = {
  ...PLAN_ON_EMPTY,
  'iam:ListAttachedRolePolicies': ROLES,
  'iam:GetPolicy': PLAN_ON_EMPTY['iam:GetPolicy'] - LOOK_UPS['iam:GetPolicy'],
};

describe.skipIf(skip !== undefined)('AWS calls of the whole setup', () => {
  let moto: Moto;
  const args = ['--config', join(ROOT, 'examples/flyte-aws-setup.yaml')];

  beforeAll(async () => {
    moto = await acquireMoto();
    await createCluster(moto.url, 'acme-ml');
  });
  afterAll(async () => moto?.stop());

  it('plan, fresh setup, re-run: exact counts per operation', async () => {
    const plan = await runCli([...args, '--dry-run'], { endpoint: moto.url });
    expect(plan.code).toBe(0);
    expect(byOperation(plan.calls)).toEqual(PLAN_ON_EMPTY);

    const fresh = await runCli([...args, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(fresh.code).toBe(0);
    // The plan's reads, the permission preflight (its seven simulations go at once, within the default bound of 10
    // in flight; the emulator cannot answer them, and the run says so and goes on), one mutating call per resource
    // created and per attachment, then each resource read back once (the policy with its default version).
    // The access check takes the roles and the custom policy from those read-backs, and knows that the roles this run
    // created have no inline policies (it never writes one): it reads only the document of the managed policy the
    // run does not write (the fraud project's AmazonAthenaFullAccess: one GetPolicyVersion of the default version the
    // plan's look-up saw, which says it still is), beside the writes; and the bucket's own policy (one
    // GetBucketPolicy, started beside the writes too: the bucket has none).
    // ListRoles is asked beside the caller and the cluster: a role read of the plan that starts once it has answered
    // makes no GetRole for a role it lacks, so a first setup normally reads none of its roles (one that started
    // before the answer was in is read: at most one GetRole each). A role this run made is read back by its
    // attachments alone (CreateRole's answer describes the rest of it), the policy it made by its default version
    // alone (CreatePolicy's answer describes the rest): no GetRole, and no GetPolicy, after a write.
    const { 'iam:GetRole': planned = 0, ...others } = byOperation(fresh.calls);
    expect(planned).toBeGreaterThanOrEqual(0);
    expect(planned).toBeLessThanOrEqual(ROLES);
    // The permission preflight's simulations are asked beside the plan's reads, for the plan of a first setup, as
    // ListRoles lacks the config's roles; they are not asked again after the plan.
    expect(others).toEqual({
      'iam:SimulatePrincipalPolicy': 7,
      'sts:GetCallerIdentity': 1,
      'eks:DescribeCluster': 1,
      'iam:ListRoles': 1,
      'iam:ListAttachedRolePolicies': ROLES,
      'iam:GetOpenIDConnectProvider': 2,
      'iam:GetPolicy': 1 + LOOK_UPS['iam:GetPolicy'],
      's3:GetBucketLocation': LOOK_UPS['s3:GetBucketLocation'],
      's3:GetBucketEncryption': LOOK_UPS['s3:GetBucketEncryption'],
      's3:GetBucketPolicy': 1,
      'iam:GetPolicyVersion': 1 + AWS_MANAGED_EXTRAS,
      'iam:CreateRole': ROLES,
      'iam:AttachRolePolicy': ATTACHMENTS,
      'iam:CreateOpenIDConnectProvider': 1,
      'iam:CreatePolicy': 1,
    });
    expect(fresh.mutating).toHaveLength(ROLES + ATTACHMENTS + 2);
    // 43 before the look-ups, which add 2 (and no round trip: they are read with the plan's reads), the ListRoles,
    // the bucket's encryption 1 (read beside the cluster), and the preflight's one round of 7 instead of one call
    // alone.
    // The access check adds 2 (it read everything again before: 13), the bucket's own policy among them. The
    // attachments of roles not made yet are not listed: 5 fewer (56 before); nor the roles themselves, once
    // ListRoles has answered: 5 fewer again; nor read back but by their attachments, nor the policy but by its
    // version: 6 fewer (45 before).
    expect(fresh.calls).toHaveLength(39 + planned);

    const rerun = await runCli([...args, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(rerun.code).toBe(0);
    expect(rerun.mutating).toEqual([]);
    expect(byOperation(rerun.calls)).toEqual({ ...PLAN_ON_SETUP, 'iam:GetPolicyVersion': 1 });
    // 15 before the look-up of the bucket, which adds 1, the one ListRoles that looks for roles the config no longer
    // names, and the bucket's encryption 1 (the extra policy's look-up was the 19th: its attachment proves it).
    expect(rerun.calls).toHaveLength(18);

    // One thing changed behind the tool's back: the custom policy detached from the workers role.
    await clients(moto.url).iam.send(
      new DetachRolePolicyCommand({ RoleName: 'flyte-workers-role', PolicyArn: POLICY_ARN }),
    );
    const mend = await runCli([...args, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(mend.code).toBe(0);
    expect(mend.mutating.map((c) => c.operation)).toEqual(['AttachRolePolicy']);
    // The plan's reads, one simulation, the attachment and the role read back; the access check takes the roles and
    // the custom policy from the plan and the read-back, and reads beside the write what the plan did not: the
    // inline policies of the three roles (they existed before the run, and are the tool's, so the plan did not list
    // them; none has any, so no GetRolePolicy follows), AmazonAthenaFullAccess (GetPolicy, then its default
    // version: the plan did not look it up, its attachment proved it) and the bucket's own policy.
    expect(byOperation(mend.calls)).toEqual({
      ...PLAN_ON_SETUP,
      'iam:GetPolicy': PLAN_ON_SETUP['iam:GetPolicy'] + AWS_MANAGED_EXTRAS,
      'iam:SimulatePrincipalPolicy': 1,
      'iam:AttachRolePolicy': 1,
      'iam:GetRole': ROLES + 1,
      'iam:ListAttachedRolePolicies': ROLES + 1,
      'iam:ListRolePolicies': FLYTE_ROLES,
      'iam:GetPolicyVersion': 1 + AWS_MANAGED_EXTRAS,
      's3:GetBucketPolicy': 1,
    });
    // The re-run's 18, 4 for the change (simulation, attachment, read-back), 6 for the access check (it read all
    // three roles and both policies again after the write before: 13), the bucket's own policy and the two reads of
    // AmazonAthenaFullAccess among them.
    expect(mend.calls).toHaveLength(28);

    // verify: the access check reads the bucket's own policy once, and asks IAM's simulator once per Flyte role
    // (the emulator cannot answer: the second opinion is said not made); --no-second-opinion asks it nothing.
    const verify = await runCli(['verify', ...args], { endpoint: moto.url });
    expect(verify.code).toBe(0);
    // The plan's reads with every role's inline policies (ListRolePolicies) and the look-up of the extra policy
    // (verify looks it up, as its access check needs the default version that GetPolicy tells), and the documents
    // of the Flyte roles' policies (GetPolicyVersion of the custom policy and of AmazonAthenaFullAccess, whose
    // default version the plan's look-up saw).
    expect(byOperation(verify.calls)).toEqual({
      ...PLAN_ON_SETUP,
      'iam:GetPolicy': PLAN_ON_EMPTY['iam:GetPolicy'],
      'iam:ListRolePolicies': ROLES,
      'iam:GetPolicyVersion': 1 + AWS_MANAGED_EXTRAS,
      's3:GetBucketPolicy': 1,
      'iam:SimulatePrincipalPolicy': FLYTE_ROLES,
    });
    // 25 before the bucket's policy (1) and the second opinion (3).
    expect(verify.calls).toHaveLength(29);
    const alone = await runCli(['verify', ...args, '--no-second-opinion'], { endpoint: moto.url });
    expect(byOperation(alone.calls)['iam:SimulatePrincipalPolicy']).toBeUndefined();
    expect(alone.calls).toHaveLength(verify.calls.length - FLYTE_ROLES);
  });

  it('more roles than reads in flight: a run that applies skips those ListRoles lacks; a dry run reads each', async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
    const projects = Array.from({ length: 20 }, (_, i) => `  - { project: p${i}, domains: [development] }`);
    const file = writeConfig(
      `region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nprojectRoles:\n${projects.join('\n')}\n`,
    );
    const roles = 24; // the cluster, node, backend and workers roles, and 20 project roles
    const getRoles = (calls: CallRecord[]) => calls.filter((c) => c.operation === 'GetRole').length;
    const dry = await runCli(['--config', file, '--dry-run'], { endpoint: moto.url });
    expect(dry.code, dry.stderr).toBe(0);
    expect(getRoles(dry.calls)).toBe(roles);
    const apply = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(apply.code, apply.stderr).toBe(0);
    // The plan's reads come before the first write: only those sent before ListRoles answered (asked beside the
    // caller and the cluster, it normally has by the time the plan's reads start).
    const firstWrite = apply.calls.findIndex((c) => c.mutating);
    expect(getRoles(apply.calls.slice(0, firstWrite))).toBeLessThan(roles);
  });
});
