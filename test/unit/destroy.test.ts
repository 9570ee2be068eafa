/**
 * The destroy planner (pure) and its runner against mocked IAM (what the emulator does not do: refuse to delete a
 * policy that still has versions or attachments, answer late).
 */
import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  destroyCounts,
  destroySteps,
  foreignPrincipals,
  planDestroy,
  type DestroyPlan,
  type DestroyRoleState,
  type DestroyState,
} from '../../src/engine/destroy.js';
import { applyDestroy, readDestroyState } from '../../src/engine/destroy-run.js';
import { encodeDescription, encodeTrust, recordTags } from '../../src/engine/records.js';
import { DESCRIPTION_MARK } from '../../src/config/rules.js';
import { parseConfigText } from '../../src/load/config.js';
import type { CurrentRole, Facts, Step } from '../../src/model.js';
import { serviceTrustPolicy } from '../../src/policy/document.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const OWN = { 'managed-by': 'flyte-aws-setup' };
const POLICY = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC`;
const CLUSTER_POLICY = 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy';
const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';

const FACTS: Facts = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  offline: false,
  cluster: { state: 'not-needed' },
};

function role(name: string, attached: string[], tags: Record<string, string> = OWN): CurrentRole {
  return {
    kind: 'role',
    name,
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    path: '/',
    trust: serviceTrustPolicy('eks.amazonaws.com'),
    attached,
    tags,
  };
}

function roleState(section: DestroyRoleState['section'], current?: CurrentRole, over: Partial<DestroyRoleState> = {}) {
  return {
    section,
    name: current?.name ?? `${section}-role`,
    // As destroy reads it: the global-access role is adopted (the config names a role that exists already).
    ...(section === 'globalAccess' ? { adopted: true } : {}),
    inlinePolicies: [],
    instanceProfiles: [],
    ...(current ? { current } : {}),
    ...over,
  };
}

/** A set-up account as the tool leaves it: every resource its own. */
function state(over: Partial<DestroyState> = {}): DestroyState {
  return {
    facts: FACTS,
    setup: 'acme',
    clusterExists: true,
    roles: [
      roleState('clusterRole', role('flyte-eks-cluster-role', [CLUSTER_POLICY])),
      roleState('systemRole', role('flyte-system-role', [POLICY])),
      roleState('projectRoles', role('flyte-fraud-role', [POLICY, ATHENA])),
    ],
    policy: {
      name: 'flyte-custom-policy',
      arn: POLICY,
      current: {
        kind: 'policy',
        arn: POLICY,
        name: 'flyte-custom-policy',
        path: '/',
        defaultVersionId: 'v3',
        document: { Version: '2012-10-17', Statement: [] },
        tags: OWN,
      },
      versions: [
        { id: 'v3', isDefault: true },
        { id: 'v10', isDefault: false },
        { id: 'v2', isDefault: false },
      ],
      attachments: { roles: ['flyte-system-role', 'flyte-fraud-role'], users: [], groups: [] },
    },
    provider: {
      arn: PROVIDER,
      foundBy: 'cluster',
      current: { kind: 'oidc-provider', arn: PROVIDER, url: '', clientIds: ['sts.amazonaws.com'], tags: OWN },
      trustedBy: ['flyte-system-role', 'flyte-fraud-role'],
    },
    ...over,
  };
}

const describeStep = (s: Step) => {
  switch (s.op) {
    case 'DetachRolePolicy':
      return `${s.op} ${s.roleName} ${s.policyArn.split('/').pop()}`;
    case 'DeleteRole':
      return `${s.op} ${s.roleName}`;
    case 'DeletePolicyVersion':
      return `${s.op} ${s.versionId}`;
    default:
      return s.op;
  }
};

describe('planning destroy', () => {
  it("removes everything the tool made, in the documents' reverse order, phase by phase", () => {
    const plan = planDestroy(state());
    expect(plan.items.map((i) => `${i.action} ${i.name}`)).toEqual([
      'delete flyte-fraud-role',
      'delete flyte-system-role',
      'delete flyte-eks-cluster-role',
      'delete flyte-custom-policy',
      'delete oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    ]);
    expect(destroySteps(plan).map(describeStep)).toEqual([
      'DetachRolePolicy flyte-fraud-role flyte-custom-policy',
      'DetachRolePolicy flyte-fraud-role AmazonAthenaFullAccess',
      'DetachRolePolicy flyte-system-role flyte-custom-policy',
      'DetachRolePolicy flyte-eks-cluster-role AmazonEKSClusterPolicy',
      // Non-default versions first (oldest first), then the policy.
      'DeletePolicyVersion v2',
      'DeletePolicyVersion v10',
      'DeletePolicy',
      'DeleteRole flyte-fraud-role',
      'DeleteRole flyte-system-role',
      'DeleteRole flyte-eks-cluster-role',
      'DeleteOpenIDConnectProvider',
    ]);
  });

  it('never deletes a role that existed before; detaches only its own policy from it, and says so', () => {
    const s = state();
    s.roles[1] = roleState('systemRole', role('flyte-system-role', [POLICY, CLUSTER_POLICY], { owner: 'platform' }));
    s.roles[0] = roleState('clusterRole', role('flyte-eks-cluster-role', [CLUSTER_POLICY], {}));
    const plan = planDestroy(s);
    const system = plan.items.find((i) => i.name === 'flyte-system-role')!;
    expect(system.action).toBe('detach');
    expect(system.steps.map(describeStep)).toEqual(['DetachRolePolicy flyte-system-role flyte-custom-policy']);
    expect(system.reason).toContain('existed before flyte-aws-setup');
    expect(system.notes.join()).toContain(
      'the policies flyte-aws-setup attached are detached (flyte-custom-policy); its other policies stay',
    );
    const cluster = plan.items.find((i) => i.name === 'flyte-eks-cluster-role')!;
    expect(cluster).toMatchObject({ action: 'keep', steps: [] });
    expect(destroySteps(plan).some((x) => x.op === 'DeleteRole' && x.roleName !== 'flyte-fraud-role')).toBe(false);
  });

  it("the setup's roles the config no longer names go too, with the custom policy; one that must stay keeps it", () => {
    const leftover = {
      kind: 'role' as const,
      name: 'flyte-old-role',
      arn: `arn:aws:iam::${ACCOUNT}:role/flyte-old-role`,
      trustedBy: [`Federated ${PROVIDER}`],
      holds: [POLICY],
      action: 'remove' as const,
      steps: [
        { op: 'DetachRolePolicy' as const, roleName: 'flyte-old-role', policyArn: POLICY },
        { op: 'DeleteRole' as const, roleName: 'flyte-old-role' },
      ],
    };
    const s = state({
      leftovers: [leftover],
      provider: { ...state().provider!, trustedBy: ['flyte-system-role', 'flyte-old-role'] },
    });
    s.policy!.attachments.roles.push('flyte-old-role');
    const plan = planDestroy(s);
    expect(plan.items[0]).toMatchObject({ name: 'flyte-old-role', action: 'delete' });
    expect(plan.items[0]!.notes[0]).toMatch(/a role of this setup that the config no longer names/);
    expect(plan.items.find((i) => i.kind === 'policy')!.action).toBe('delete');
    expect(plan.items.find((i) => i.kind === 'oidc-provider')!.action).toBe('delete');

    const kept = planDestroy({ ...s, leftovers: [{ ...leftover, action: 'blocked', steps: [], reason: 'in use' }] });
    expect(kept.items[0]).toMatchObject({ action: 'blocked', reason: 'in use' });
    expect(kept.items.find((i) => i.kind === 'policy')!.action).toBe('blocked');
  });

  it("another setup's role, policy and provider are kept, saying whose they are; nothing of theirs is removed", () => {
    const theirs = { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other' };
    const s = state();
    s.roles = s.roles.map((r) => ({ ...r, current: { ...r.current!, tags: theirs } }));
    s.policy!.current!.tags = theirs;
    s.provider!.current!.tags = theirs;
    const plan = planDestroy(s);
    expect(plan.items.map((i) => i.action)).toEqual(['keep', 'keep', 'keep', 'keep', 'keep']);
    expect(plan.items[0]!.reason).toBe(
      'it belongs to the setup "other" (its tag flyte-aws-setup:setup), which another config made or changed; ' +
        "destroy of this config's setup leaves it alone",
    );
    expect(destroySteps(plan)).toEqual([]);
  });

  it('a role that existed before gets back its trust and loses what the tool attached and its records', () => {
    const before = serviceTrustPolicy('ec2.amazonaws.com');
    const tags = {
      owner: 'platform',
      'flyte-aws-setup:setup': 'acme',
      'flyte-aws-setup:attached': 'aws:AmazonAthenaFullAccess flyte-custom-policy',
      ...recordTags('flyte-aws-setup:trust', encodeTrust(before)),
    };
    const s = state();
    s.roles[1] = roleState('systemRole', role('flyte-system-role', [POLICY, ATHENA, CLUSTER_POLICY], tags));
    const plan = planDestroy(s);
    const system = plan.items.find((i) => i.name === 'flyte-system-role')!;
    expect(system.action).toBe('restore');
    expect(system.steps).toEqual([
      { op: 'UpdateAssumeRolePolicy', roleName: 'flyte-system-role', trust: before, before: role('x', []).trust },
      { op: 'DetachRolePolicy', roleName: 'flyte-system-role', policyArn: POLICY },
      { op: 'DetachRolePolicy', roleName: 'flyte-system-role', policyArn: ATHENA },
      {
        op: 'UntagRole',
        roleName: 'flyte-system-role',
        keys: ['flyte-aws-setup:attached', 'flyte-aws-setup:setup', 'flyte-aws-setup:trust'],
      },
    ]);
    // Its own AmazonEKSClusterPolicy (not the tool's) stays. The trust comes back once nothing the tool attached is
    // left on it; the records go after everything else.
    const order = destroySteps(plan).map((x) => x.op);
    expect(order.indexOf('UpdateAssumeRolePolicy')).toBeGreaterThan(order.lastIndexOf('DetachRolePolicy'));
    expect(order.at(-1)).toBe('UntagRole');
    expect(destroyCounts(plan).restore).toBe(1);
  });

  it('a role this setup adopted gets back its description too, before its records go', () => {
    const tags = {
      'flyte-aws-setup:setup': 'acme',
      'flyte-aws-setup:description': encodeDescription('CI deploys'),
    };
    const s = state();
    const adopted = {
      ...role('flyte-system-role', [], tags),
      description: `CI deploys; adopted for Flyte, ${DESCRIPTION_MARK}`,
    };
    s.roles[1] = roleState('systemRole', adopted);
    const plan = planDestroy(s);
    const system = plan.items.find((i) => i.name === 'flyte-system-role')!;
    expect(system.action).toBe('restore');
    expect(system.steps).toEqual([
      { op: 'UpdateRole', roleName: 'flyte-system-role', description: 'CI deploys', before: adopted.description },
      {
        op: 'UntagRole',
        roleName: 'flyte-system-role',
        keys: ['flyte-aws-setup:description', 'flyte-aws-setup:setup'],
      },
    ]);
    const order = destroySteps(plan).map((x) => x.op);
    expect(order.indexOf('UpdateRole')).toBeLessThan(order.indexOf('UntagRole'));
    // A leftover this setup adopted is put back with the others, not deleted.
    const leftover = {
      kind: 'role' as const,
      name: 'fraud-hand-made',
      arn: `arn:aws:iam::${ACCOUNT}:role/fraud-hand-made`,
      trustedBy: [],
      holds: [POLICY],
      action: 'restore' as const,
      adopted: true as const,
      steps: [
        { op: 'DetachRolePolicy' as const, roleName: 'fraud-hand-made', policyArn: POLICY },
        { op: 'UntagRole' as const, roleName: 'fraud-hand-made', keys: ['flyte-aws-setup:setup'] },
      ],
    };
    const base = state();
    base.policy!.attachments.roles.push('fraud-hand-made');
    const withLeftover = planDestroy({ ...base, leftovers: [leftover] });
    expect(withLeftover.items.find((i) => i.name === 'fraud-hand-made')).toMatchObject({ action: 'restore' });
    // It loses the custom policy in the same run: the policy is not kept as attached outside the config.
    expect(withLeftover.items.find((i) => i.kind === 'policy')).toMatchObject({ action: 'delete' });
  });

  it('a role that existed before, its trust put back without the provider, no longer keeps the provider', () => {
    const tags = {
      'flyte-aws-setup:setup': 'acme',
      ...recordTags('flyte-aws-setup:trust', encodeTrust(serviceTrustPolicy('ec2.amazonaws.com'))),
    };
    const s = state({ provider: { ...state().provider!, trustedBy: ['flyte-system-role'] } });
    s.roles[1] = roleState('systemRole', role('flyte-system-role', [POLICY], tags));
    expect(planDestroy(s).items.find((i) => i.kind === 'oidc-provider')!.action).toBe('delete');
    // Put back to a trust that names it: it stays while the cluster runs.
    const irsa = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow' as const, Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity' },
      ],
    };
    s.roles[1] = roleState(
      'systemRole',
      role('flyte-system-role', [POLICY], { ...tags, ...recordTags('flyte-aws-setup:trust', encodeTrust(irsa)) }),
    );
    expect(planDestroy(s).items.find((i) => i.kind === 'oidc-provider')!.action).toBe('blocked');
  });

  it('a trust record that cannot be read: the role is kept for now, with what to do, and destroy is not done', () => {
    const s = state();
    const tags = { 'flyte-aws-setup:setup': 'acme', 'flyte-aws-setup:trust': 'eJxLTEoGAAJNASc=broken' };
    s.roles[1] = roleState('systemRole', role('flyte-system-role', [POLICY], tags));
    const system = planDestroy(s).items.find((i) => i.name === 'flyte-system-role')!;
    expect(system.action).toBe('blocked');
    expect(system.reason).toContain('the trust flyte-aws-setup wrote stays');
    expect(system.reason).toContain('aws iam update-assume-role-policy --role-name flyte-system-role');
    expect(system.reason).toContain(
      'aws iam untag-role --role-name flyte-system-role --tag-keys flyte-aws-setup:setup flyte-aws-setup:trust',
    );
    // Detaching what the tool attached still happens; the records stay for the next run.
    expect(system.steps.map((x) => x.op)).toEqual(['DetachRolePolicy']);
  });

  it('a policy that existed before gets its default version back, or is kept for now when that version is gone', () => {
    const s = state();
    s.policy!.current!.tags = { 'flyte-aws-setup:setup': 'acme', 'flyte-aws-setup:default-version': 'v2' };
    const policy = planDestroy(s).items.find((i) => i.kind === 'policy')!;
    expect(policy.action).toBe('restore');
    expect(policy.steps).toEqual([
      { op: 'SetDefaultPolicyVersion', policyArn: POLICY, versionId: 'v2', before: 'v3' },
      { op: 'UntagPolicy', policyArn: POLICY, keys: ['flyte-aws-setup:default-version', 'flyte-aws-setup:setup'] },
    ]);
    s.policy!.versions = [{ id: 'v3', isDefault: true }];
    const gone = planDestroy(s).items.find((i) => i.kind === 'policy')!;
    expect(gone.action).toBe('blocked');
    expect(gone.reason).toContain('the version that was its default before (v2) is gone');
    expect(gone.reason).toContain(`aws iam set-default-policy-version --policy-arn ${POLICY} --version-id VERSION`);
  });

  it('a role of its own that someone extended to another principal is kept, with the reason, and its policy', () => {
    const s = state();
    const extended = role('flyte-system-role', [POLICY]);
    extended.trust = {
      Version: '2012-10-17',
      Statement: [
        ...extended.trust.Statement,
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' },
      ],
    };
    s.roles[1] = roleState('systemRole', extended);
    const plan = planDestroy(s);
    const system = plan.items.find((i) => i.name === 'flyte-system-role')!;
    expect(system).toMatchObject({ action: 'blocked', steps: [] });
    expect(system.reason).toMatch(
      /^its trust now also lets in AWS arn:aws:iam::999999999999:root, which flyte-aws-setup never writes: someone extended it/,
    );
    expect(plan.items.find((i) => i.kind === 'policy')!.action).toBe('blocked');
    expect(destroySteps(plan).some((x) => x.op === 'DeleteRole' && x.roleName === 'flyte-system-role')).toBe(false);
  });

  it('the principals the tool never writes: another account, a role, another service, anyone', () => {
    const trust = (Principal: unknown) =>
      ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal, Action: 'sts:AssumeRole' }] }) as never;
    expect(foreignPrincipals(serviceTrustPolicy('eks.amazonaws.com'), 'aws')).toEqual([]);
    expect(foreignPrincipals(trust({ Federated: PROVIDER }), 'aws')).toEqual([]);
    expect(foreignPrincipals(trust({ Service: 'pods.eks.amazonaws.com' }), 'aws')).toEqual([]); // Pod Identity
    expect(foreignPrincipals(trust({ Service: ['ec2.amazonaws.com', 'lambda.amazonaws.com'] }), 'aws')).toEqual([
      'Service lambda.amazonaws.com',
    ]);
    expect(foreignPrincipals(trust({ AWS: 'arn:aws:iam::1:role/x' }), 'aws')).toEqual(['AWS arn:aws:iam::1:role/x']);
    expect(foreignPrincipals(trust('*'), 'aws')).toEqual(['anyone (Principal "*")']);
  });

  it("Union's role (global access) is never deleted, even when someone tagged it as the tool's", () => {
    const s = state();
    s.roles.push(roleState('globalAccess', role('acme-userflyterole', [POLICY, ATHENA])));
    const item = planDestroy(s).items.find((i) => i.name === 'acme-userflyterole')!;
    expect(item.action).toBe('detach');
    expect(item.steps.map(describeStep)).toEqual(['DetachRolePolicy acme-userflyterole flyte-custom-policy']);
    expect(item.reason).toContain("Union's role");
    expect(destroySteps(planDestroy(s)).some((x) => x.op === 'DeleteRole' && x.roleName === 'acme-userflyterole')).toBe(
      false,
    );
  });

  it('a role of its own that now serves another cluster is kept, and so is the provider it leaves trusted', () => {
    const s = state();
    s.roles[1] = roleState('systemRole', role('flyte-system-role', [POLICY]), {
      trustsElsewhere: 'its trust names the OIDC provider of the running EKS cluster green',
    });
    const plan = planDestroy(s);
    const system = plan.items.find((i) => i.name === 'flyte-system-role')!;
    expect(system).toMatchObject({ action: 'blocked' });
    expect(system.reason).toContain('running EKS cluster green');
    expect(system.reason).toContain('may serve that cluster now');
    expect(destroySteps(plan).some((x) => x.op === 'DeleteRole' && x.roleName === 'flyte-system-role')).toBe(false);
    // It keeps the custom policy (its pods still need the bucket), so the policy stays too.
    expect(system.steps).toEqual([]);
    const policy = plan.items.find((i) => i.kind === 'policy')!;
    expect(policy.action).toBe('blocked');
    expect(policy.reason).toContain('flyte-system-role');
    expect(destroySteps(plan).some((x) => x.op === 'DeletePolicy' || x.op === 'DeletePolicyVersion')).toBe(false);
    // The provider: the blocked role still trusts it, and the cluster runs.
    expect(plan.items.find((i) => i.kind === 'oidc-provider')!.action).toBe('blocked');
  });

  it('a policy that existed before is never deleted nor detached from a kept role', () => {
    const s = state();
    s.policy!.current!.tags = {};
    s.roles[1] = roleState('systemRole', role('flyte-system-role', [POLICY], {}));
    const plan = planDestroy(s);
    expect(plan.items.find((i) => i.kind === 'policy')).toMatchObject({ action: 'keep', steps: [] });
    expect(plan.items.find((i) => i.name === 'flyte-system-role')).toMatchObject({ action: 'keep', steps: [] });
    // The tool's own role still lets go of it, as it must to be deleted.
    expect(plan.items.find((i) => i.name === 'flyte-fraud-role')!.steps.map(describeStep)).toContain(
      'DetachRolePolicy flyte-fraud-role flyte-custom-policy',
    );
  });

  it('a custom policy attached outside the config stays, detached from nothing outside, and says what blocks it', () => {
    const s = state();
    s.policy!.attachments = { roles: ['flyte-system-role', 'analytics'], users: ['bob'], groups: ['data'] };
    const plan = planDestroy(s);
    const policy = plan.items.find((i) => i.kind === 'policy')!;
    expect(policy).toMatchObject({ action: 'blocked', steps: [] });
    expect(policy.reason).toContain('role analytics, user bob, group data');
    expect(policy.reason).toContain(`aws iam detach-role-policy --role-name analytics --policy-arn ${POLICY}`);
    expect(policy.reason).toContain(`aws iam detach-user-policy --user-name bob`);
    const steps = destroySteps(plan);
    expect(
      steps.filter((x) => x.op === 'DetachRolePolicy').map((x) => (x as { roleName: string }).roleName),
    ).not.toContain('analytics');
    expect(steps.some((x) => x.op === 'DeletePolicy' || x.op === 'DeletePolicyVersion')).toBe(false);
    expect(destroyCounts(plan).blocked).toBe(1);
  });

  it.each([
    [{ inUse: 'the EKS cluster acme runs with it (its cluster role)' }, /the EKS cluster acme runs with it/],
    [{ instanceProfiles: ['nodes'] }, /aws iam remove-role-from-instance-profile --instance-profile-name nodes/],
    [
      { inlinePolicies: ['extra'] },
      /aws iam delete-role-policy --role-name flyte-eks-cluster-role --policy-name extra/,
    ],
  ])('a role of its own that must stay for now (%o) is kept, saying what to do', (over, reason) => {
    const s = state();
    s.roles[0] = roleState('clusterRole', role('flyte-eks-cluster-role', [CLUSTER_POLICY]), over);
    const item = planDestroy(s).items.find((i) => i.name === 'flyte-eks-cluster-role')!;
    expect(item).toMatchObject({ action: 'blocked', steps: [] });
    expect(item.reason).toMatch(reason);
  });

  it('the OIDC provider: kept while a role that stays trusts it and the cluster runs; deleted once the cluster is gone', () => {
    const s = state({ provider: { ...state().provider!, trustedBy: ['flyte-system-role', 'alb-controller'] } });
    const item = planDestroy(s).items.find((i) => i.kind === 'oidc-provider')!;
    expect(item).toMatchObject({ action: 'blocked', steps: [] });
    expect(item.reason).toContain('alb-controller');
    expect(item.reason).not.toContain('flyte-system-role');

    const gone = planDestroy({ ...s, clusterExists: false }).items.find((i) => i.kind === 'oidc-provider')!;
    expect(gone.action).toBe('delete');
    expect(gone.notes.join()).toContain('alb-controller');
  });

  it("the OIDC provider found through the roles' trust: kept when a running cluster has its issuer, or that is unknown", () => {
    const found = { ...state().provider!, foundBy: 'trust' as const, trustedBy: ['flyte-system-role'] };
    const live = planDestroy(state({ clusterExists: false, provider: { ...found, liveCluster: 'green' } }));
    const item = live.items.find((i) => i.kind === 'oidc-provider')!;
    expect(item).toMatchObject({ action: 'blocked', steps: [] });
    expect(item.reason).toContain('running EKS cluster green');

    const unchecked = planDestroy(
      state({ clusterExists: false, provider: { ...found, unchecked: 'ListClusters: access denied' } }),
    ).items.find((i) => i.kind === 'oidc-provider')!;
    expect(unchecked).toMatchObject({ action: 'blocked', steps: [] });
    expect(unchecked.reason).toContain('ListClusters: access denied');
    expect(unchecked.reason).toContain('aws iam delete-open-id-connect-provider');
  });

  it('the OIDC provider: one that existed before is kept; one that cannot be told is reported with candidates', () => {
    const s = state();
    s.provider!.current!.tags = {};
    expect(planDestroy(s).items.find((i) => i.kind === 'oidc-provider')).toMatchObject({ action: 'keep', steps: [] });

    const unknown = planDestroy(
      state({
        provider: {
          trustedBy: [],
          unknown: { reason: 'the EKS cluster acme no longer exists', candidates: [PROVIDER] },
        },
      }),
    ).items.find((i) => i.kind === 'oidc-provider')!;
    expect(unknown).toMatchObject({ action: 'unknown', steps: [] });
    expect(unknown.reason).toContain(PROVIDER);
    expect(unknown.reason).toContain('aws iam delete-open-id-connect-provider');
  });

  it('nothing there: nothing to do', () => {
    const s = state({
      roles: [roleState('clusterRole'), roleState('systemRole')],
      provider: { arn: PROVIDER, foundBy: 'cluster', trustedBy: [] },
    });
    delete s.policy!.current;
    const plan = planDestroy(s);
    expect(destroySteps(plan)).toEqual([]);
    expect(plan.items.every((i) => i.action === 'absent')).toBe(true);
  });
});

function succeedAll(m: ReturnType<typeof mockAws>): void {
  m.iam.on(DetachRolePolicyCommand).resolves({});
  m.iam.on(DeletePolicyVersionCommand).resolves({});
  m.iam.on(DeletePolicyCommand).resolves({});
  m.iam.on(DeleteRoleCommand).resolves({});
  m.iam.on(DeleteOpenIDConnectProviderCommand).resolves({});
}

describe('running destroy against IAM that answers like AWS', () => {
  const FAST = { consistency: { timeoutMs: 2_000, initialDelayMs: 1 } };
  const emptyPlan = async (): Promise<DestroyPlan> => ({ facts: FACTS, items: [] });

  it('retries a delete IAM refuses for a moment after the detaches, and counts an already-gone resource as done', async () => {
    const m = mockAws();
    m.iam.on(DetachRolePolicyCommand).resolves({});
    m.iam.on(DeletePolicyVersionCommand).resolves({});
    m.iam
      .on(DeletePolicyCommand)
      .rejectsOnce(awsError('DeleteConflict', 'Cannot delete a policy attached to entities.'))
      .resolves({});
    m.iam.on(DeleteRoleCommand).rejects(awsError('NoSuchEntity', 'The role cannot be found.'));
    m.iam.on(DeleteOpenIDConnectProviderCommand).resolves({});
    const plan = planDestroy(state());
    const result = await applyDestroy(plan, emptyPlan, m.gateway, FAST);
    expect(result.outcome).toBe('complete');
    expect(result.done).toHaveLength(destroySteps(plan).length);
    expect(m.iam.commandCalls(DeletePolicyCommand)).toHaveLength(2);
  });

  /** An adopted role put back: its records untagged, its description back, then its last records untagged. */
  const putBack = (name: string, description: string): DestroyPlan['items'][number] => ({
    kind: 'role',
    name,
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    action: 'restore',
    notes: [],
    steps: [
      { op: 'UntagRole', roleName: name, keys: ['flyte-aws-setup:attached'] },
      { op: 'UpdateRole', roleName: name, description, before: `${description}; adopted for Flyte` },
      { op: 'UntagRole', roleName: name, keys: ['flyte-aws-setup:description', 'flyte-aws-setup:setup'] },
    ],
  });

  it('interrupted once an adopted role has its description back: its last records go too, nothing else', async () => {
    const m = mockAws();
    const plan: DestroyPlan = {
      facts: FACTS,
      items: [putBack('a-role', 'CI'), putBack('c-role', 'web')],
    };
    const stop = new AbortController();
    const result = await applyDestroy(plan, emptyPlan, m.gateway, {
      ...FAST,
      signal: stop.signal,
      onStep: (step) => {
        if (step.op === 'UpdateRole') stop.abort();
      },
    });
    // a-role, whose description is back, loses its last records; c-role, not begun, is left as it was.
    expect(result.outcome).toBe('interrupted');
    expect(result.done.map((s) => `${s.op} ${'roleName' in s ? s.roleName : ''}`)).toEqual([
      'UntagRole a-role',
      'UntagRole c-role',
      'UpdateRole a-role',
      'UntagRole a-role',
    ]);
    expect(result.remaining.map((s) => `${s.op} ${'roleName' in s ? s.roleName : ''}`)).toEqual([
      'UpdateRole c-role',
      'UntagRole c-role',
    ]);
  });

  it('stops at a refusal that is not about timing, and says what was done and what is left', async () => {
    const m = mockAws();
    m.iam.on(DetachRolePolicyCommand).resolves({});
    m.iam.on(DeletePolicyVersionCommand).rejects(awsError('AccessDenied', 'not allowed'));
    const plan = planDestroy(state());
    const result = await applyDestroy(plan, emptyPlan, m.gateway, FAST);
    expect(result.outcome).toBe('failed');
    expect(result.done.every((s) => s.op === 'DetachRolePolicy')).toBe(true);
    expect(result.remaining[0]!.op).toBe('DeletePolicyVersion');
    expect(result.error!.message).toMatch(/iam:DeletePolicyVersion/);
    expect(m.iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('reads back until nothing is left, and fails if something stays', async () => {
    const m = mockAws();
    succeedAll(m);
    const plan = planDestroy(state());
    const stays = async () => planDestroy(state());
    const result = await applyDestroy(plan, stays, m.gateway, { consistency: { timeoutMs: 20, initialDelayMs: 5 } });
    expect(result.outcome).toBe('failed');
    expect(result.error!.message).toContain('still shows');
  });

  it('a plan with something kept for now ends blocked, after doing the rest', async () => {
    const m = mockAws();
    succeedAll(m);
    const s = state();
    s.roles[0] = roleState('clusterRole', role('flyte-eks-cluster-role', [CLUSTER_POLICY]), { inUse: 'in use' });
    delete s.provider;
    const result = await applyDestroy(planDestroy(s), emptyPlan, m.gateway, FAST);
    expect(result.outcome).toBe('blocked');
    expect(m.iam.commandCalls(DeleteRoleCommand).map((c) => c.args[0].input.RoleName)).toEqual([
      'flyte-fraud-role',
      'flyte-system-role',
    ]);
  });
});

describe('reading the state when the cluster is gone', () => {
  it("with no role left to name the provider, lists the tool's providers and deletes none", async () => {
    const m = mockAws();
    m.eks.on(DescribeClusterCommand).rejects(awsError('ResourceNotFoundException', 'No cluster found'));
    m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
    const mine = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/MINE`;
    const theirs = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/THEIRS`;
    m.iam
      .on(ListOpenIDConnectProvidersCommand)
      .resolves({ OpenIDConnectProviderList: [{ Arn: mine }, { Arn: theirs }] });
    m.iam
      .on(GetOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: mine })
      .resolves({ Url: 'x', ClientIDList: [], Tags: [{ Key: 'managed-by', Value: 'flyte-aws-setup' }] });
    m.iam.on(GetOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: theirs }).resolves({ Url: 'y', Tags: [] });
    const config = parseConfigText('region: eu-west-1\ncluster: gone\nbucket: acme-flyte-data\n');
    const s = await readDestroyState(config, m.gateway);
    expect(s.clusterExists).toBe(false);
    expect(s.provider!.unknown).toEqual({
      reason:
        'the EKS cluster gone no longer exists (its issuer names the provider), and no role the tool made for the config names one',
      candidates: [mine],
    });
    const plan = planDestroy(s);
    expect(destroySteps(plan)).toEqual([]);
    expect(plan.items.find((i) => i.kind === 'oidc-provider')!.action).toBe('unknown');
  });
});

describe('reading the state when the cluster is gone: does another cluster use what is left?', () => {
  const GREEN_ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/GREEN';
  const GREEN = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/GREEN`;
  const irsaTrust = (provider: string) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity' }],
  });

  /** GetRole's answer for the tool's system role, trusting this provider. */
  const systemRoleTrusting = (provider: string) => ({
    Role: {
      RoleName: 'flyte-system-role',
      Arn: `arn:aws:iam::${ACCOUNT}:role/flyte-system-role`,
      Path: '/',
      RoleId: 'AROA1',
      CreateDate: new Date(),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(irsaTrust(provider))),
      Tags: [{ Key: 'managed-by', Value: 'flyte-aws-setup' }],
    },
  });

  function setUp(listClusters: 'green' | 'denied') {
    const m = mockAws();
    m.eks.on(DescribeClusterCommand, { name: 'blue' }).rejects(awsError('ResourceNotFoundException', 'gone'));
    m.eks.on(DescribeClusterCommand, { name: 'green' }).resolves({
      cluster: { name: 'green', status: 'ACTIVE', identity: { oidc: { issuer: GREEN_ISSUER } } },
    });
    if (listClusters === 'green') m.eks.on(ListClustersCommand).resolves({ clusters: ['green'] });
    else m.eks.on(ListClustersCommand).rejects(awsError('AccessDeniedException', 'not allowed: eks:ListClusters'));
    m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetRoleCommand, { RoleName: 'flyte-system-role' }).resolves(systemRoleTrusting(GREEN));
    m.iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'flyte-system-role' }).resolves({ AttachedPolicies: [] });
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    m.iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [] });
    m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: GREEN }).resolves({
      Url: GREEN_ISSUER,
      ClientIDList: ['sts.amazonaws.com'],
      Tags: [{ Key: 'managed-by', Value: 'flyte-aws-setup' }],
    });
    m.iam.on(ListRolesCommand).resolves({ Roles: [] });
    return m;
  }
  const config = parseConfigText(
    'region: eu-west-1\ncluster: blue\nbucket: acme-flyte-data\nclusterRole: false\nnodeRole: false\n' +
      'workersRole: false\ncustomPolicy: false\n',
  );

  it("keeps a role re-pointed at a running cluster, and that cluster's provider", async () => {
    const plan = planDestroy(await readDestroyState(config, setUp('green').gateway));
    expect(destroySteps(plan)).toEqual([]);
    const system = plan.items.find((i) => i.name === 'flyte-system-role')!;
    expect(system.action).toBe('blocked');
    expect(system.reason).toContain('running EKS cluster green');
    const provider = plan.items.find((i) => i.kind === 'oidc-provider')!;
    expect(provider).toMatchObject({ action: 'blocked', arn: GREEN });
    expect(provider.reason).toContain('running EKS cluster green');
  });

  it('when the clusters cannot be listed, keeps the role and the provider, saying why', async () => {
    const plan = planDestroy(await readDestroyState(config, setUp('denied').gateway));
    expect(destroySteps(plan)).toEqual([]);
    expect(plan.items.find((i) => i.name === 'flyte-system-role')!.reason).toContain('could not be checked');
    const provider = plan.items.find((i) => i.kind === 'oidc-provider')!;
    expect(provider.action).toBe('blocked');
    expect(provider.reason).toContain('access denied: eks:ListClusters');
  });

  it('a re-created cluster of the same name: a role still trusting the old, dead provider goes', async () => {
    const m = setUp('green');
    // blue exists again, with a new issuer; the role trusts GREEN's provider, which is no running cluster's now.
    m.eks.on(DescribeClusterCommand, { name: 'blue' }).resolves({
      cluster: {
        name: 'blue',
        status: 'ACTIVE',
        identity: { oidc: { issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/BLUE2' } },
      },
    });
    m.eks.on(ListClustersCommand).resolves({ clusters: ['blue'] });
    const plan = planDestroy(await readDestroyState(config, m.gateway));
    expect(plan.items.find((i) => i.name === 'flyte-system-role')!.action).toBe('delete');
  });

  it("a role trusting another region's cluster is kept: destroy cannot see that cluster", async () => {
    const m = setUp('green');
    const west = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/WEST`;
    m.iam.on(GetRoleCommand, { RoleName: 'flyte-system-role' }).resolves(systemRoleTrusting(west));
    m.iam
      .on(GetOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: west })
      .resolves({ Url: 'x', ClientIDList: [], Tags: [{ Key: 'managed-by', Value: 'flyte-aws-setup' }] });
    const plan = planDestroy(await readDestroyState(config, m.gateway));
    expect(destroySteps(plan)).toEqual([]);
    expect(plan.items.find((i) => i.name === 'flyte-system-role')!.reason).toContain("another region's cluster");
    expect(plan.items.find((i) => i.kind === 'oidc-provider')!.reason).toContain('us-west-2');
  });
});
