/**
 * The permission preflight with mocked IAM (moto does not implement iam:SimulatePrincipalPolicy): which actions
 * and resources it asks about, how it reads the answers, and that the simulation's own failures never stop a run.
 */
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { parseConfigText } from '../../src/load/config.js';
import { firstSetupPlan, makePlan } from '../../src/engine/engine.js';
import { planSteps } from '../../src/model.js';
import {
  askPermissionsAhead,
  checkPermissions,
  planChecks,
  principalOf,
  type PermissionsAhead,
} from '../../src/permissions/preflight.js';
import { writeConfig } from '../helpers/cli.js';
import { captureIo } from '../helpers/in-process.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';

const ROLES_ONLY = parseConfigText(
  'bucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n',
);
const ACCOUNT = '111122223333';

function emptyAccount(m: ReturnType<typeof mockAws>) {
  m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
}

/** IAM's answer for a request: `decide(action, resource)` per pair. */
function simulator(decide: (action: string, resource: string) => string, missing: string[] = []) {
  return (input: SimulatePrincipalPolicyCommandInput) => ({
    EvaluationResults: (input.ActionNames ?? []).map((action) => ({
      EvalActionName: action,
      EvalDecision: 'allowed' as const,
      ResourceSpecificResults: (input.ResourceArns ?? []).map((resource) => ({
        EvalResourceName: resource,
        EvalResourceDecision: decide(action, resource) as 'allowed',
        MissingContextValues: decide(action, resource) === 'allowed' ? [] : missing,
      })),
    })),
    IsTruncated: false,
  });
}

/** A role of the tool's (its mark and tag) trusting `service` (nobody when absent), as GetRole and ListRoles give it. */
function ownedRole(name: string, service?: string) {
  const statements =
    service === undefined ? [] : [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }];
  return {
    RoleName: name,
    Path: '/',
    Arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    RoleId: 'x',
    CreateDate: new Date(),
    Description: 'managed by flyte-aws-setup',
    Tags: [{ Key: 'managed-by', Value: 'flyte-aws-setup' }],
    AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statements })),
  };
}

describe('the caller whose policies are simulated', () => {
  it.each([
    [
      'arn:aws:sts::111122223333:assumed-role/ci-deployer/run-42',
      { kind: 'role', name: 'ci-deployer', arn: 'arn:aws:iam::111122223333:role/ci-deployer' },
    ],
    [
      'arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/me@example.com',
      {
        kind: 'role',
        name: 'AWSReservedSSO_Admin_0123',
        arn: 'arn:aws-cn:iam::111122223333:role/AWSReservedSSO_Admin_0123',
      },
    ],
    ['arn:aws:iam::111122223333:user/ops/alice', { kind: 'user', arn: 'arn:aws:iam::111122223333:user/ops/alice' }],
    ['arn:aws:iam::111122223333:root', { kind: 'root' }],
    [
      'arn:aws:sts::111122223333:federated-user/bob',
      { kind: 'other', arn: 'arn:aws:sts::111122223333:federated-user/bob' },
    ],
  ])('%s', (caller, expected) => {
    expect(principalOf(caller)).toEqual(expected);
  });
});

describe('what the plan needs', () => {
  it("one check per action of each step, on the resource's ARN, with the attached policy as context", async () => {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    const checks = planChecks(plan);
    const role = `arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`;
    expect(checks.filter((c) => c.resource === role)).toEqual([
      { action: 'iam:CreateRole', resource: role, context: [] },
      // Tags given at creation are authorized as iam:TagRole.
      { action: 'iam:TagRole', resource: role, context: [] },
      {
        action: 'iam:AttachRolePolicy',
        resource: role,
        context: [{ key: 'iam:PolicyARN', values: ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy'] }],
      },
    ]);
    // Every step is covered.
    expect(new Set(checks.map((c) => c.action.split(':')[1]))).toEqual(
      new Set([...planSteps(plan).map((s) => s.op), 'TagRole']),
    );
  });
});

describe('checkPermissions', () => {
  async function planned() {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    m.iam.on(GetRoleCommand, { RoleName: 'Admin' }).resolves({
      Role: {
        RoleName: 'Admin',
        Path: '/ops/',
        Arn: `arn:aws:iam::${ACCOUNT}:role/ops/Admin`,
        RoleId: 'x',
        CreateDate: new Date(),
      },
    });
    return { m, plan };
  }

  it('all allowed: checked, nothing denied; the role is simulated by its own ARN (with its path)', async () => {
    const { m, plan } = await planned();
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    const outcome = await checkPermissions(plan, m.gateway);
    expect(outcome).toEqual({
      status: 'checked',
      principal: `arn:aws:iam::${ACCOUNT}:role/ops/Admin`,
      checks: 8,
      denied: [],
      uncertain: [],
    });
    const inputs = m.iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(new Set(inputs.map((i) => i.PolicySourceArn))).toEqual(new Set([`arn:aws:iam::${ACCOUNT}:role/ops/Admin`]));
    // Grouped by context: one call for both roles' creation and tags, one per attached policy.
    expect(inputs).toHaveLength(5);
    const creates = inputs.find((i) => i.ActionNames?.includes('iam:CreateRole'));
    expect(creates).toMatchObject({
      ActionNames: ['iam:CreateRole', 'iam:TagRole'],
      ResourceArns: [
        `arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`,
        `arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`,
      ],
    });
    expect(creates?.ContextEntries).toBeUndefined();
    const attachNode = inputs.find(
      (i) =>
        i.ActionNames?.includes('iam:AttachRolePolicy') &&
        i.ContextEntries?.[0]?.ContextKeyValues?.[0] === 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
    );
    expect(attachNode).toMatchObject({
      ResourceArns: [`arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`],
      ContextEntries: [{ ContextKeyName: 'iam:PolicyARN', ContextKeyType: 'string' }],
    });
  });

  it('lists what IAM refuses; an implicit deny that needs context it could not give is only uncertain', async () => {
    const { m, plan } = await planned();
    m.iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(
        simulator((action, resource) =>
          action === 'iam:CreateRole' && resource.endsWith('/flyte-eks-node-role')
            ? 'implicitDeny'
            : action === 'iam:TagRole'
              ? 'explicitDeny'
              : 'allowed',
        ),
      );
    const outcome = await checkPermissions(plan, m.gateway);
    expect(outcome.status).toBe('checked');
    if (outcome.status !== 'checked') return;
    expect(outcome.denied.map((d) => `${d.action} ${d.resource.split('/').pop()} ${d.decision}`).sort()).toEqual([
      'iam:CreateRole flyte-eks-node-role implicitDeny',
      'iam:TagRole flyte-eks-cluster-role explicitDeny',
      'iam:TagRole flyte-eks-node-role explicitDeny',
    ]);
    expect(outcome.uncertain).toEqual([]);

    m.iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(simulator((a) => (a === 'iam:CreateRole' ? 'implicitDeny' : 'allowed'), ['aws:RequestTag/team']));
    const unsure = await checkPermissions(plan, m.gateway);
    if (unsure.status !== 'checked') throw new Error('expected a check');
    expect(unsure.denied).toEqual([]);
    expect(unsure.uncertain.map((d) => d.missingContext)).toEqual([['aws:RequestTag/team'], ['aws:RequestTag/team']]);
  });

  it('keeps only the pairs the plan needs from a call that asks about several resources', async () => {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(
      parseConfigText('bucket: acme-flyte-data\ncluster: acme\nsystemRole: false\nworkersRole: false\n'),
      m.gateway,
    );
    const asked = planChecks(plan);
    // IAM evaluates every action on every resource of a call: a policy's creation "on a role" is not a question the
    // plan asks, so its refusal does not count.
    m.iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(
        simulator((action, resource) =>
          action === 'iam:CreatePolicy' && resource.includes(':role/') ? 'implicitDeny' : 'allowed',
        ),
      );
    const outcome = await checkPermissions(plan, m.gateway, `arn:aws:iam::${ACCOUNT}:user/alice`);
    expect(outcome).toMatchObject({ status: 'checked', checks: asked.length, denied: [], uncertain: [] });
    const calls = m.iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(
      calls.some(
        (i) => i.ActionNames?.includes('iam:CreatePolicy') && i.ResourceArns!.some((r) => r.includes(':role/')),
      ),
    ).toBe(true);
    // A refusal of a pair the plan asks is still found.
    m.iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(
        simulator((action, resource) =>
          action === 'iam:CreatePolicy' && resource.includes(':policy/') ? 'implicitDeny' : 'allowed',
        ),
      );
    const refused = await checkPermissions(plan, m.gateway, `arn:aws:iam::${ACCOUNT}:user/alice`);
    expect(refused.status === 'checked' && refused.denied.map((d) => d.action)).toEqual(['iam:CreatePolicy']);
  });

  it('the simulation itself denied: not checked, says why, after one round of calls', async () => {
    const { m, plan } = await planned();
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied', 'not authorized'));
    const outcome = await checkPermissions(plan, m.gateway);
    expect(outcome).toEqual({
      status: 'not-checked',
      reason: `iam:SimulatePrincipalPolicy is not allowed for arn:aws:iam::${ACCOUNT}:role/ops/Admin`,
    });
    // All five at once (one round trip, within the default bound of 10), and none asked again after the refusal.
    expect(m.iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(5);
  });

  it('unsupported or failing (as in an emulator): not checked, with the error code', async () => {
    const { m, plan } = await planned();
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('InternalFailure', 'boom'));
    expect(await checkPermissions(plan, m.gateway)).toEqual({
      status: 'not-checked',
      reason: 'iam:SimulatePrincipalPolicy failed (InternalFailure)',
    });
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('InvalidAction'));
    expect(await checkPermissions(plan, m.gateway)).toMatchObject({
      reason: 'this endpoint does not support iam:SimulatePrincipalPolicy',
    });
  });

  it("without iam:GetRole on the caller's role, the role ARN at / is used", async () => {
    const { m, plan } = await planned();
    m.iam.on(GetRoleCommand, { RoleName: 'Admin' }).rejects(awsError('AccessDenied'));
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    const outcome = await checkPermissions(plan, m.gateway);
    expect(outcome).toMatchObject({ status: 'checked', principal: `arn:aws:iam::${ACCOUNT}:role/Admin` });
  });

  it('the root user is not simulated', async () => {
    const { m, plan } = await planned();
    const outcome = await checkPermissions(plan, m.gateway, `arn:aws:iam::${ACCOUNT}:root`);
    expect(outcome).toMatchObject({ status: 'not-checked', reason: expect.stringMatching(/root user/) });
    expect(m.iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0);
  });
});

describe('the preflight asked ahead, for the plan of a first setup', () => {
  const simulated = (m: ReturnType<typeof mockAws>) =>
    m.iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
  const pairs = (inputs: SimulatePrincipalPolicyCommandInput[]) =>
    inputs.flatMap((i) => (i.ActionNames ?? []).flatMap((a) => (i.ResourceArns ?? []).map((r) => `${a} ${r}`)));

  it('covers the plan of an empty account: the preflight then asks IAM nothing more, and keeps its verdicts', async () => {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    m.iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake(
        simulator((action, resource) =>
          action === 'iam:TagRole' && resource.endsWith('/flyte-eks-node-role') ? 'implicitDeny' : 'allowed',
        ),
      );
    const ahead = await askPermissionsAhead(firstSetupPlan(ROLES_ONLY, plan.facts), m.gateway);
    expect(ahead).toMatchObject({ status: 'answered', principal: `arn:aws:iam::${ACCOUNT}:role/Admin` });
    const asked = simulated(m).length;
    expect(asked).toBe(5);
    const outcome = await checkPermissions(plan, m.gateway, undefined, Promise.resolve(ahead));
    expect(simulated(m)).toHaveLength(asked);
    expect(outcome).toMatchObject({ status: 'checked', checks: planChecks(plan).length, uncertain: [] });
    if (outcome.status !== 'checked') return;
    expect(outcome.denied.map((d) => `${d.action} ${d.resource.split('/').pop()}`)).toEqual([
      'iam:TagRole flyte-eks-node-role',
    ]);
  });

  it('asks only what its answers do not cover (a change a first setup does not make), as the same principal', async () => {
    const m = mockAws();
    emptyAccount(m);
    // The node role is there, with another trust: the plan updates it, which a first setup never does.
    m.iam
      .on(GetRoleCommand, { RoleName: 'flyte-eks-node-role' })
      .resolves({ Role: ownedRole('flyte-eks-node-role', 'lambda.amazonaws.com') });
    m.iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'flyte-eks-node-role' }).resolves({ AttachedPolicies: [] });
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    expect(planSteps(plan).map((s) => s.op)).toContain('UpdateAssumeRolePolicy');
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    const ahead = await askPermissionsAhead(firstSetupPlan(ROLES_ONLY, plan.facts), m.gateway);
    const before = simulated(m).length;
    // The principal was read once (its path), ahead: not again.
    const principalReads = m.iam.commandCalls(GetRoleCommand, { RoleName: 'Admin' }).length;
    const outcome = await checkPermissions(plan, m.gateway, undefined, Promise.resolve(ahead));
    expect(outcome).toMatchObject({ status: 'checked', checks: planChecks(plan).length, denied: [] });
    const after = simulated(m).slice(before);
    expect(pairs(after)).toEqual([`iam:UpdateAssumeRolePolicy arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`]);
    expect(new Set(after.map((i) => i.PolicySourceArn))).toEqual(new Set([`arn:aws:iam::${ACCOUNT}:role/Admin`]));
    expect(m.iam.commandCalls(GetRoleCommand, { RoleName: 'Admin' })).toHaveLength(principalReads);
  });

  it('could not ask: the preflight says so and asks nothing again', async () => {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied', 'not authorized'));
    const ahead: PermissionsAhead = await askPermissionsAhead(firstSetupPlan(ROLES_ONLY, plan.facts), m.gateway);
    const notChecked = {
      status: 'not-checked',
      reason: `iam:SimulatePrincipalPolicy is not allowed for arn:aws:iam::${ACCOUNT}:role/Admin`,
    };
    expect(ahead).toMatchObject(notChecked);
    const asked = simulated(m).length;
    expect(await checkPermissions(plan, m.gateway, undefined, Promise.resolve(ahead))).toEqual(notChecked);
    expect(simulated(m)).toHaveLength(asked);
    // Asked for another caller (credentials changed since): not taken; asked again, as that caller.
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    const other = `arn:aws:iam::${ACCOUNT}:user/alice`;
    expect(await checkPermissions(plan, m.gateway, other, Promise.resolve(ahead))).toMatchObject({
      status: 'checked',
      principal: other,
    });
    expect(simulated(m).length).toBeGreaterThan(asked);
  });

  it('the apply command asks it while the plan is read, when ListRoles lacks a role of the config', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    m.iam.on(CreateRoleCommand).rejects(awsError('AccessDenied', 'stop here'));
    m.iam.on(CreateOpenIDConnectProviderCommand).rejects(awsError('AccessDenied', 'stop here'));
    // The plan's read of the OIDC provider answers late: the simulations are asked before it answers.
    let askedBeforeTheRead: number | undefined;
    m.iam.on(GetOpenIDConnectProviderCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      askedBeforeTheRead ??= simulated(m).length;
      throw awsError('NoSuchEntity');
    });
    const file = writeConfig(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n',
    );
    const c = captureIo();
    await main(['--config', file, '--yes', '--approve-broadening'], c.io);
    expect(c.out()).toMatch(/Permissions checked for arn:aws:iam::111122223333:role\/Admin: all \d+ action\(s\)/);
    // One round of simulations, for the plan of a first setup, not a second one for the plan.
    expect(askedBeforeTheRead).toBe(5);
    expect(simulated(m)).toHaveLength(5);
    // ListRoles had answered before the plan's role reads started: none of the roles to make was read.
    expect(m.iam.commandCalls(GetRoleCommand).filter((c) => c.args[0].input.RoleName !== 'Admin')).toHaveLength(0);

    // ListRoles lists both roles (the tool's, from an older config): nothing is asked ahead (a run with nothing to
    // change asks IAM nothing); the preflight asks once the plan is read, for what it changes.
    const again = mockAws();
    emptyAccount(again);
    const names = ['flyte-eks-cluster-role', 'flyte-eks-node-role'];
    again.iam.on(ListRolesCommand).resolves({ Roles: names.map((n) => ownedRole(n)) });
    for (const name of names) again.iam.on(GetRoleCommand, { RoleName: name }).resolves({ Role: ownedRole(name) });
    again.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    again.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    // Refused: the run stops after its preflight, before any change.
    again.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'implicitDeny'));
    const refused = captureIo();
    expect(await main(['--config', file, '--yes', '--approve-broadening'], refused.io)).toBe(1);
    expect(refused.err()).toMatch(/iam:UpdateAssumeRolePolicy on arn:aws:iam::111122223333:role\/flyte-eks-node-role/);
    const order = again.iam.calls().map((c) => c.args[0].constructor.name);
    expect(order.filter((o) => o === 'SimulatePrincipalPolicyCommand').length).toBeGreaterThan(0);
    expect(order.indexOf('SimulatePrincipalPolicyCommand')).toBeGreaterThan(
      order.lastIndexOf('ListAttachedRolePoliciesCommand'),
    );
  });

  it('--yes without --approve-broadening, for a plan that broadens access: nothing is asked ahead', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    const file = writeConfig('region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\nvpcDns: off\n');
    const c = captureIo();
    const code = await main(['--config', file, '--yes'], c.io);
    expect(c.err()).toMatch(/broaden/i);
    expect(code).not.toBe(0);
    expect(simulated(m)).toHaveLength(0);
  });

  it('--yes without --approve-broadening: nothing is asked ahead, also where a first setup would not broaden', async () => {
    // The cluster role is to be made (not broadening); the node role is there, trusting Lambda: trusting EC2 instead
    // lets another principal in. The plan of a first setup does not broaden; the run's plan does, and is refused.
    const m = mockAws();
    emptyAccount(m);
    const node = ownedRole('flyte-eks-node-role', 'lambda.amazonaws.com');
    m.iam.on(ListRolesCommand).resolves({ Roles: [node] });
    m.iam.on(GetRoleCommand, { RoleName: 'flyte-eks-node-role' }).resolves({ Role: node });
    m.iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'flyte-eks-node-role' }).resolves({ AttachedPolicies: [] });
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    const file = writeConfig(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n',
    );
    const c = captureIo();
    const code = await main(['--config', file, '--yes'], c.io);
    expect(c.err()).toMatch(/broaden/i);
    expect(code).not.toBe(0);
    expect(simulated(m)).toHaveLength(0);
    expect(m.iam.commandCalls(GetRoleCommand, { RoleName: 'Admin' })).toHaveLength(0);
  });

  it("a role session's role is found in the account's listing, not read", async () => {
    const m = mockAws();
    emptyAccount(m);
    const admin = {
      RoleName: 'Admin',
      Path: '/ops/',
      Arn: `arn:aws:iam::${ACCOUNT}:role/ops/Admin`,
      RoleId: 'x',
      CreateDate: new Date(),
    };
    m.iam.on(ListRolesCommand).resolves({ Roles: [admin] });
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'allowed'));
    m.iam.on(CreateRoleCommand).rejects(awsError('AccessDenied', 'stop here'));
    const file = writeConfig(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n',
    );
    const c = captureIo();
    await main(['--config', file, '--yes', '--approve-broadening'], c.io);
    expect(c.out()).toContain(`Permissions checked for arn:aws:iam::${ACCOUNT}:role/ops/Admin`);
    expect(new Set(simulated(m).map((i) => i.PolicySourceArn))).toEqual(new Set([admin.Arn]));
    expect(m.iam.commandCalls(GetRoleCommand, { RoleName: 'Admin' })).toHaveLength(0);

    // The roles are there (nothing asked ahead), with a trust to change: the preflight after the reads finds the
    // role in the plan's listing too.
    const mend = mockAws();
    emptyAccount(mend);
    const roles = ['flyte-eks-cluster-role', 'flyte-eks-node-role'].map((n) => ownedRole(n));
    mend.iam.on(ListRolesCommand).resolves({ Roles: [admin, ...roles] });
    for (const r of roles) mend.iam.on(GetRoleCommand, { RoleName: r.RoleName }).resolves({ Role: r });
    mend.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    mend.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    mend.iam.on(SimulatePrincipalPolicyCommand).callsFake(simulator(() => 'implicitDeny'));
    const refused = captureIo();
    expect(await main(['--config', file, '--yes', '--approve-broadening'], refused.io)).toBe(1);
    expect(refused.err()).toContain(`${admin.Arn} lacks`);
    expect(mend.iam.commandCalls(GetRoleCommand, { RoleName: 'Admin' })).toHaveLength(0);
  });
});

describe('the apply command with the preflight', () => {
  const file = () =>
    writeConfig(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n',
    );

  it('stops before any change with the list of what is denied (exit 1)', async () => {
    const m = mockAws();
    emptyAccount(m);
    // The operator's policy lacks CreateRole, and allows attaching every policy but the CNI one.
    m.iam
      .on(SimulatePrincipalPolicyCommand)
      .callsFake((input: SimulatePrincipalPolicyCommandInput) =>
        simulator((a) =>
          a === 'iam:CreateRole' ||
          (a === 'iam:AttachRolePolicy' &&
            input.ContextEntries?.[0]?.ContextKeyValues?.[0]?.endsWith('/AmazonEKS_CNI_Policy'))
            ? 'implicitDeny'
            : 'allowed',
        )(input),
      );
    const c = captureIo();
    const code = await main(['--config', file(), '--yes'], c.io);
    expect(code).toBe(1);
    expect(c.err()).toContain(
      'error: arn:aws:iam::111122223333:role/Admin lacks 3 permission(s) this plan needs; nothing was changed:',
    );
    expect(c.err()).toContain('  - iam:CreateRole on arn:aws:iam::111122223333:role/flyte-eks-cluster-role\n');
    expect(c.err()).toContain('  - iam:CreateRole on arn:aws:iam::111122223333:role/flyte-eks-node-role\n');
    expect(c.err()).toContain(
      '  - iam:AttachRolePolicy on arn:aws:iam::111122223333:role/flyte-eks-node-role with iam:PolicyARN arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy\n',
    );
    expect(c.err()).toMatch(
      /flyte-aws-setup permissions --config .* prints a policy .*; --no-preflight skips this check/,
    );
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  });

  it('when it cannot check, it says so in one line and applies', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.sts.on(GetCallerIdentityCommand).resolves({
      Account: ACCOUNT,
      Arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
      UserId: 'AIDA',
    });
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied'));
    m.iam.on(CreateRoleCommand).rejects(awsError('AccessDenied', 'no'));
    const c = captureIo();
    const code = await main(['--config', file(), '--yes'], c.io);
    expect(c.out()).toContain(
      `Permissions not checked: iam:SimulatePrincipalPolicy is not allowed for arn:aws:iam::${ACCOUNT}:user/ci; going on (--no-preflight skips this check).`,
    );
    // It went on: the real call was made (and refused).
    expect(m.iam.commandCalls(CreateRoleCommand).length).toBeGreaterThan(0);
    expect(code).toBe(1);
  });

  it('--no-preflight makes no simulation call', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(CreateRoleCommand).rejects(awsError('AccessDenied', 'no'));
    const c = captureIo();
    await main(['--config', file(), '--yes', '--no-preflight'], c.io);
    expect(m.iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(CreateRoleCommand).length).toBeGreaterThan(0);
    expect(c.out()).not.toContain('Permissions');
  });
});
