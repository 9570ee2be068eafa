/** The pure planner and the sections: config + facts → desired resources → steps. No AWS. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { buildPlan, desiredSections } from '../../src/engine/engine.js';
import { offlineFacts } from '../../src/engine/facts.js';
import type { CurrentPolicy, CurrentRole, DesiredPolicy, DesiredRole, Facts } from '../../src/model.js';
import { planOidcProvider, planPolicy, planRole, resourceKey } from '../../src/engine/plan.js';
import { bucketPolicyDocument, serviceTrustPolicy } from '../../src/policy/document.js';
import {
  decodePolicyArns,
  decodeTrust,
  encodePolicyArns,
  encodeTrust,
  readRecord,
  recordTags,
  decodeDescription,
  encodeDescription,
  markedDescription,
} from '../../src/engine/records.js';

const CONFIG = parseConfigText(`
region: eu-west-1
cluster: acme
bucket: acme-flyte-data
tags: { team: ml }
projectRoles:
  - project: fraud
    domains: [development, production]
    extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]
`);

function facts(
  partition: Facts['partition'] = 'aws',
  cluster: Facts['cluster'] = {
    state: 'ready',
    name: 'acme',
    status: 'ACTIVE',
    issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  },
): Facts {
  return {
    partition,
    accountId: '111122223333',
    region: partition === 'aws-cn' ? 'cn-north-1' : 'eu-west-1',
    offline: false,
    cluster,
  };
}

const MANAGED = { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'acme', team: 'ml' };
const CURRENT_ROLE_ARN = 'arn:aws:iam::111122223333:role/r';

const POLICY: DesiredPolicy = {
  kind: 'policy',
  name: 'flyte-custom-policy',
  path: '/',
  arn: 'arn:aws:iam::111122223333:policy/flyte-custom-policy',
  description: 'd',
  document: bucketPolicyDocument('aws', 'acme-flyte-data'),
  tags: MANAGED,
};
const OLD_DOCUMENT = bucketPolicyDocument('aws', 'old-bucket');
const CURRENT_POLICY: CurrentPolicy = {
  kind: 'policy',
  arn: POLICY.arn,
  name: POLICY.name,
  path: '/',
  defaultVersionId: 'v1',
  document: POLICY.document,
  tags: MANAGED,
};
const PROVIDER = {
  kind: 'oidc-provider' as const,
  url: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  clientIds: ['sts.amazonaws.com'],
  tags: MANAGED,
};
const CURRENT_PROVIDER = {
  kind: 'oidc-provider' as const,
  arn: PROVIDER.arn,
  url: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  clientIds: ['sts.amazonaws.com'],
  tags: MANAGED,
};

function role(over: Partial<DesiredRole> = {}): DesiredRole {
  return {
    kind: 'role',
    name: 'r',
    path: '/',
    arn: 'arn:aws:iam::111122223333:role/r',
    description: 'd',
    trust: serviceTrustPolicy('eks.amazonaws.com'),
    managedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy'],
    tags: MANAGED,
    ...over,
  };
}

function current(over: Partial<CurrentRole> = {}): CurrentRole {
  return {
    kind: 'role',
    name: 'r',
    arn: 'arn:aws:iam::111122223333:role/r',
    path: '/',
    trust: serviceTrustPolicy('eks.amazonaws.com'),
    attached: ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy'],
    tags: MANAGED,
    ...over,
  };
}

describe('sections: what each wants', () => {
  it("the seven sections in the documents' order, then global access, the cluster VPC, Pod Identity and the grants", () => {
    const sections = desiredSections(CONFIG, facts());
    expect(sections.map((s) => s.def.id)).toEqual([
      'clusterRole',
      'nodeRole',
      'oidcProvider',
      'customPolicy',
      'systemRole',
      'workersRole',
      'projectRoles',
      'globalAccess',
      'clusterVpc',
      'podIdentity',
      'grants',
    ]);
    const byId = Object.fromEntries(sections.map((s) => [s.def.id, s.resources]));
    expect(byId.clusterRole!.map((r) => r.kind === 'role' && r.managedPolicies)).toEqual([
      ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy'],
    ]);
    expect(byId.oidcProvider![0]).toMatchObject({
      kind: 'oidc-provider',
      arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      clientIds: ['sts.amazonaws.com'],
    });
    expect(byId.customPolicy![0]).toMatchObject({
      kind: 'policy',
      arn: 'arn:aws:iam::111122223333:policy/flyte-custom-policy',
    });
    const fraud = byId.projectRoles![0] as DesiredRole;
    expect(fraud.name).toBe('flyte-fraud-role');
    expect(fraud.managedPolicies).toEqual([
      'arn:aws:iam::111122223333:policy/flyte-custom-policy',
      'arn:aws:iam::aws:policy/AmazonAthenaFullAccess',
    ]);
    expect(JSON.stringify(fraud.trust)).toContain('system:serviceaccount:fraud-production:default');
    const all = sections.flatMap((s) => s.resources);
    expect(new Set(all.map((r) => r.kind))).toEqual(new Set(['role', 'oidc-provider', 'policy', 'bucket']));
    // The bucket is only looked up, in the config's region.
    expect(byId.customPolicy![1]).toEqual({
      kind: 'bucket',
      name: 'acme-flyte-data',
      arn: 'arn:aws:s3:::acme-flyte-data',
      region: 'eu-west-1',
    });
    for (const r of all)
      if (r.kind === 'role' || r.kind === 'oidc-provider' || r.kind === 'policy') expect(r.tags).toEqual(MANAGED);
  });

  it('China: every ARN in aws-cn, and the node role trusts ec2.amazonaws.com.cn', () => {
    const cn = facts('aws-cn', {
      state: 'ready',
      name: 'acme',
      status: 'ACTIVE',
      issuerUrl: 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC',
    });
    const china = parseConfigText(
      'region: cn-north-1\ncluster: acme\nbucket: acme-flyte-data\nprojectRoles: [{ project: fraud }]\n',
    );
    const resources = desiredSections(china, cn).flatMap((s) => s.resources);
    const text = JSON.stringify(resources);
    expect(text).not.toMatch(/arn:aws:/);
    expect(text).toContain('arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy');
    expect(text).toContain('arn:aws-cn:s3:::acme-flyte-data/*');
    const node = resources.find((r) => r.kind === 'role' && r.name === 'flyte-eks-node-role') as DesiredRole;
    expect(node.trust.Statement[0]!.Principal).toEqual({ Service: 'ec2.amazonaws.com.cn' });
  });

  it('without the cluster, sections 3-7 wait for it and say what to do', () => {
    const sections = desiredSections(CONFIG, facts('aws', { state: 'missing', name: 'acme' }));
    const plan = buildPlan(facts('aws', { state: 'missing', name: 'acme' }), sections, new Map());
    expect(plan.sections.map((s) => s.status)).toEqual([
      'create',
      'create',
      'waiting',
      'waiting',
      'waiting',
      'waiting',
      'waiting',
      'skipped', // no globalAccess in this config
      'waiting', // the VPC check needs the cluster too
      'skipped', // identity: irsa, no pod identity associations
      'skipped', // no grants
    ]);
    expect(plan.sections[2]!.waiting!.todo).toContain(
      'aws eks create-cluster --name acme --region eu-west-1 --role-arn arn:aws:iam::111122223333:role/flyte-eks-cluster-role',
    );
    const creating = buildPlan(
      facts('aws', { state: 'not-ready', name: 'acme', status: 'CREATING' }),
      desiredSections(CONFIG, facts('aws', { state: 'not-ready', name: 'acme', status: 'CREATING' })),
      new Map(),
    );
    expect(creating.sections[4]!.waiting!.reason).toMatch(/is CREATING and has no OIDC issuer yet/);
  });

  it('disabled sections are skipped and want nothing', () => {
    const config = parseConfigText('cluster: acme\nbucket: acme-flyte-data\nnodeRole: false\ncustomPolicy: false\n');
    const sections = desiredSections(config, facts());
    expect(sections.find((s) => s.def.id === 'nodeRole')!.enabled).toBe(false);
    // Without the custom policy, the IRSA roles carry only their extras.
    const system = sections.find((s) => s.def.id === 'systemRole')!.resources[0] as DesiredRole;
    expect(system.managedPolicies).toEqual([]);
  });

  it("the offline plan uses placeholders and the region's partition", () => {
    const f = offlineFacts(parseConfigText('region: us-gov-west-1\ncluster: c\nbucket: acme-flyte-data\n'), undefined);
    expect(f).toMatchObject({ partition: 'aws-us-gov', accountId: '<account-id>', offline: true });
    expect(f.cluster).toMatchObject({
      state: 'ready',
      issuerUrl: 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/<oidc-id>',
      placeholder: true,
    });
    const plan = buildPlan(f, desiredSections(CONFIG, f), new Map());
    const status = Object.fromEntries(plan.sections.map((s) => [s.id, s.status]));
    expect(status).toEqual({
      clusterRole: 'create',
      nodeRole: 'create',
      oidcProvider: 'create',
      customPolicy: 'create',
      systemRole: 'create',
      workersRole: 'create',
      projectRoles: 'create',
      globalAccess: 'skipped',
      grants: 'skipped',
      // Offline, the VPC is not read: nothing to plan, and the section says so.
      clusterVpc: 'unchanged',
      podIdentity: 'skipped',
    });
    const vpc = plan.sections.find((s) => s.id === 'clusterVpc')!;
    expect(vpc.resources).toEqual([]);
    expect(vpc.notes[0]!.message).toMatch(/^offline: the VPC is not read/);
  });
});

describe('planning a role', () => {
  it('creates a missing role with its trust, boundary, path and tags, then attaches each policy', () => {
    const p = planRole(role({ boundary: 'arn:aws:iam::aws:policy/PowerUserAccess', path: '/f/' }), undefined);
    expect(p.action).toBe('create');
    expect(p.steps.map((s) => s.op)).toEqual(['CreateRole', 'AttachRolePolicy']);
    expect(p.steps[0]).toMatchObject({
      roleName: 'r',
      path: '/f/',
      boundary: 'arn:aws:iam::aws:policy/PowerUserAccess',
      // What it attaches is recorded as it is made.
      tags: { ...MANAGED, 'flyte-aws-setup:attached': 'aws:AmazonEKSClusterPolicy' },
    });
  });

  it('leaves a matching role alone, even with its trust written differently', () => {
    const spelled = {
      Version: '2012-10-17',
      Statement: [
        { Action: ['sts:AssumeRole'], Principal: { Service: ['eks.amazonaws.com'] }, Effect: 'Allow' as const },
      ],
    };
    const p = planRole(role(), current({ trust: spelled }));
    expect(p.action).toBe('none');
    expect(p.steps).toEqual([]);
  });

  it('updates the trust, keeping the old one for the diff', () => {
    const p = planRole(role(), current({ trust: serviceTrustPolicy('ec2.amazonaws.com') }));
    expect(p.steps).toEqual([
      {
        op: 'UpdateAssumeRolePolicy',
        roleName: 'r',
        trust: role().trust,
        before: serviceTrustPolicy('ec2.amazonaws.com'),
      },
    ]);
    expect(p.security.join()).toMatch(/lets in more: Service:eks.amazonaws.com/);
  });

  it('attaches only what is missing; reports (and leaves) what others attached, a broad one as a finding', () => {
    const p = planRole(
      role(),
      current({ attached: ['arn:aws:iam::aws:policy/AmazonS3FullAccess', 'arn:aws:iam::1:policy/theirs'] }),
    );
    expect(p.steps).toEqual([
      { op: 'TagRole', roleName: 'r', tags: { 'flyte-aws-setup:attached': 'aws:AmazonEKSClusterPolicy' } },
      { op: 'AttachRolePolicy', roleName: 'r', policyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' },
    ]);
    expect(p.security).toEqual(['attaches AmazonEKSClusterPolicy']);
    // A role no pod assumes (its trust is a service's): a broad policy is a warning, another policy a note.
    expect(p.findings).toEqual([
      expect.objectContaining({
        code: 'broad-policy-non-irsa',
        severity: 'warning',
        message: expect.stringContaining('has AmazonS3FullAccess attached: it grants every S3 bucket'),
        fix: expect.stringContaining('aws iam detach-role-policy --role-name r'),
      }),
    ]);
    expect(p.notes).toEqual([
      expect.objectContaining({
        level: 'info',
        message: expect.stringContaining('arn:aws:iam::1:policy/theirs attached (not by this config; left alone)'),
      }),
    ]);
  });

  it('a trust handed to new principals on a role that holds more than the config is security-relevant', () => {
    const theirs = current({
      trust: serviceTrustPolicy('ec2.amazonaws.com'),
      attached: ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy', 'arn:aws:iam::aws:policy/AmazonEC2FullAccess'],
      inline: ['admin'],
      tags: {},
    });
    const p = planRole(role(), theirs);
    expect(p.security).toContain(
      'adopts a role that existed before flyte-aws-setup and holds more than this config gives it ' +
        '(AmazonEC2FullAccess, the inline policy admin): whoever its trust lets in gets that too',
    );
    // The same once this setup has adopted it (it carries the setup's tag): the trust change is what is marked.
    const adopted = planRole(role(), { ...theirs, tags: { 'flyte-aws-setup:setup': 'acme' } });
    expect(adopted.security).toEqual([
      'trust: lets in more: Service:eks.amazonaws.com (sts:assumerole)',
      'trust: the role also holds AmazonEC2FullAccess, the inline policy admin, not from this config; whoever the ' +
        'new trust lets in gets that too',
    ]);
    expect((p.findings ?? []).map((f) => `${f.severity} ${f.code} ${f.message}`)).toContain(
      'warning inline-policy has the inline policy admin, which flyte-aws-setup did not write',
    );
    // The same role with the trust already right: nobody new gets in, so nothing to mark (the findings still say it).
    const same = planRole(role(), { ...theirs, trust: role().trust });
    expect(same.security).toEqual([]);
    expect(same.findings?.some((f) => f.code === 'inline-policy')).toBe(true);
  });

  it('a broad policy the config attaches is security-relevant on a new role as on an existing one', () => {
    const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
    const created = planRole(role({ managedPolicies: [admin] }), undefined);
    expect(created.security).toEqual(['attaches AdministratorAccess, which grants everything']);
    const attached = planRole(role({ managedPolicies: [admin] }), current({ attached: [] }));
    expect(attached.security).toEqual(['attaches AdministratorAccess, which grants everything']);
    // A customer policy of the same name is not AWS's.
    expect(
      planRole(role({ managedPolicies: ['arn:aws:iam::1:policy/AdministratorAccess'] }), undefined).security,
    ).toEqual([]);
  });

  it('sets or replaces the permissions boundary; a boundary the config does not name is left alone', () => {
    const b = 'arn:aws:iam::aws:policy/PowerUserAccess';
    expect(planRole(role({ boundary: b }), current()).steps).toEqual([
      { op: 'PutRolePermissionsBoundary', roleName: 'r', boundary: b },
    ]);
    const replace = planRole(role({ boundary: b }), current({ boundary: 'arn:aws:iam::1:policy/old' }));
    expect(replace.security).toEqual(['replaces the permissions boundary old']);
    const keep = planRole(role(), current({ boundary: 'arn:aws:iam::1:policy/old' }));
    expect(keep.steps).toEqual([]);
    expect(keep.notes[0]!.message).toMatch(/has the permissions boundary .* left alone/);
  });

  it('tags its own roles with missing config tags; never tags a role it did not create', () => {
    const own = planRole(role({ tags: { ...MANAGED, extra: 'x' } }), current());
    expect(own.steps).toEqual([{ op: 'TagRole', roleName: 'r', tags: { extra: 'x' } }]);
    const theirs = planRole(role(), current({ tags: { owner: 'them' } }));
    expect(theirs.steps).toEqual([]);
    expect(theirs.owned).toBe(false);
    expect(theirs.notes.map((n) => n.message).join()).toMatch(/existed before flyte-aws-setup/);
  });

  it('a trust policy over the size limit is not sent: the role is blocked, saying why', () => {
    const subjects = Array.from({ length: 80 }, (_, i) => `system:serviceaccount:project-${i}-development:default`);
    const trust = serviceTrustPolicy('eks.amazonaws.com');
    trust.Statement[0]!.Condition = { StringEquals: { 'oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub': subjects } };
    for (const existing of [undefined, current()]) {
      const p = planRole(role({ trust }), existing);
      expect(p.steps).toEqual([]);
      expect(p.blocked).toMatch(/its trust policy would be \d+ characters, and IAM allows 2048/);
    }
  });

  it('warns that a role at another path cannot be moved', () => {
    const p = planRole(role({ path: '/flyte/' }), current());
    expect(p.steps).toEqual([]);
    expect(p.findings).toEqual([
      expect.objectContaining({
        code: 'path-differs',
        severity: 'warning',
        message: expect.stringMatching(/is at path \/, the config says \/flyte\//),
      }),
    ]);
  });
});

describe('planning the OIDC provider and the policy', () => {
  const provider = {
    kind: 'oidc-provider' as const,
    url: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    arn: 'arn:aws:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    clientIds: ['sts.amazonaws.com'],
    tags: MANAGED,
  };

  it('creates a provider without thumbprints; adds sts.amazonaws.com to an existing one that lacks it', () => {
    expect(planOidcProvider(provider, undefined).steps).toEqual([
      { op: 'CreateOpenIDConnectProvider', url: provider.url, clientIds: ['sts.amazonaws.com'], tags: MANAGED },
    ]);
    const eksctl = {
      kind: 'oidc-provider' as const,
      arn: provider.arn,
      url: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      clientIds: ['other'],
      tags: {},
    };
    const p = planOidcProvider(provider, eksctl);
    expect(p.steps).toEqual([
      { op: 'AddClientIDToOpenIDConnectProvider', arn: provider.arn, clientId: 'sts.amazonaws.com' },
    ]);
    expect(p.owned).toBe(false);
    expect(planOidcProvider(provider, { ...eksctl, clientIds: ['sts.amazonaws.com'] }).action).toBe('none');
  });

  const desired: DesiredPolicy = {
    kind: 'policy',
    name: 'flyte-custom-policy',
    path: '/',
    arn: 'arn:aws:iam::1:policy/flyte-custom-policy',
    description: 'd',
    document: bucketPolicyDocument('aws', 'b-bucket'),
    tags: MANAGED,
  };
  const existing = (over: Partial<CurrentPolicy>): CurrentPolicy => ({
    kind: 'policy',
    arn: desired.arn,
    name: desired.name,
    path: '/',
    defaultVersionId: 'v1',
    document: desired.document,
    tags: MANAGED,
    ...over,
  });

  it('creates, leaves alone, or makes a new default version', () => {
    expect(planPolicy(desired, undefined).steps.map((s) => s.op)).toEqual(['CreatePolicy']);
    expect(planPolicy(desired, existing({})).action).toBe('none');
    const changed = planPolicy(
      desired,
      existing({ document: bucketPolicyDocument('aws', 'old-bucket'), versions: [{ id: 'v1', isDefault: true }] }),
    );
    expect(changed.steps.map((s) => s.op)).toEqual(['CreatePolicyVersion']);
    expect(changed.security[0]).toMatch(/allows .* on arn:aws:s3:::b-bucket/);
  });

  it('with five versions, deletes the oldest non-default one first', () => {
    const versions = [
      { id: 'v7', isDefault: false, created: '2024-03-01T00:00:00Z' },
      { id: 'v3', isDefault: true, created: '2023-01-01T00:00:00Z' },
      { id: 'v5', isDefault: false, created: '2024-01-01T00:00:00Z' },
      { id: 'v6', isDefault: false, created: '2024-02-01T00:00:00Z' },
      { id: 'v4', isDefault: false, created: '2023-06-01T00:00:00Z' },
    ];
    const p = planPolicy(desired, existing({ document: bucketPolicyDocument('aws', 'old-bucket'), versions }));
    expect(p.steps.map((s) => s.op)).toEqual(['DeletePolicyVersion', 'CreatePolicyVersion']);
    expect(p.steps[0]).toMatchObject({ versionId: 'v4' });
  });

  it('resource keys tell roles by name and the rest by ARN', () => {
    expect(resourceKey(role())).toBe('role:r');
    expect(resourceKey(desired)).toBe('policy:arn:aws:iam::1:policy/flyte-custom-policy');
  });
});

describe('ownership: the setup a resource belongs to', () => {
  const OTHER = { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other-cluster' };

  it("another setup's role, policy or provider is never changed: blocked, naming the owner and the way on", () => {
    const r = planRole(role(), current({ tags: OTHER, trust: serviceTrustPolicy('ec2.amazonaws.com') }));
    expect(r.steps).toEqual([]);
    expect(r.blocked).toBe(
      'it belongs to the setup "other-cluster" (its tag flyte-aws-setup:setup), not to this config\'s setup "acme": ' +
        'another config made or changed it, and it is never changed from here. Give the role another name in this ' +
        'config, or, if this config really is that setup, set setup: other-cluster in it',
    );
    // Even when it matches: using it would make it this setup's too.
    expect(planRole(role(), current({ tags: OTHER })).blocked).toMatch(/belongs to the setup "other-cluster"/);
    // A role that existed before the tool and that another setup changed (its records) is that setup's as well.
    expect(planRole(role(), current({ tags: { 'flyte-aws-setup:setup': 'other-cluster' } })).blocked).toBeDefined();

    const policy = planPolicy(
      { ...POLICY, document: bucketPolicyDocument('aws', 'mine') },
      { ...CURRENT_POLICY, tags: OTHER },
    );
    expect(policy.steps).toEqual([]);
    expect(policy.blocked).toMatch(/Give the policy another name in this config/);
    const provider = planOidcProvider(PROVIDER, { ...CURRENT_PROVIDER, tags: OTHER });
    expect(provider.blocked).toMatch(/set oidcProvider: false in this config/);
  });

  it("made before setups existed: taken as this setup's, tagged, said in a note; its attachments are recorded", () => {
    const legacy = current({ tags: { 'managed-by': 'flyte-aws-setup', team: 'ml' } });
    const p = planRole(role(), legacy);
    expect(p.steps).toEqual([
      {
        op: 'TagRole',
        roleName: 'r',
        tags: { 'flyte-aws-setup:setup': 'acme', 'flyte-aws-setup:attached': 'aws:AmazonEKSClusterPolicy' },
      },
    ]);
    expect(p.owned).toBe(true);
    expect(p.security).toEqual([]);
    expect(p.notes.map((n) => n.message)).toContain(
      'made by an earlier version of flyte-aws-setup (managed-by, but no flyte-aws-setup:setup tag): taken as this ' +
        "setup's (acme) and tagged flyte-aws-setup:setup: acme",
    );
    const policy = planPolicy(POLICY, { ...CURRENT_POLICY, tags: { 'managed-by': 'flyte-aws-setup' } });
    expect(policy.steps).toEqual([
      { op: 'TagPolicy', policyArn: POLICY.arn, tags: { 'flyte-aws-setup:setup': 'acme', team: 'ml' } },
    ]);
    expect(policy.notes[0]!.message).toMatch(/^made by an earlier version/);
  });
});

describe('the record of what the tool attached', () => {
  const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';
  const EKS = 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy';
  const HAND = 'arn:aws:iam::111122223333:policy/hand-made';
  const recorded = (value: string) => ({ ...MANAGED, 'flyte-aws-setup:attached': value });

  it('a policy the tool attached that the config no longer names is detached; one attached by hand stays', () => {
    const p = planRole(
      role(),
      current({
        attached: [EKS, ATHENA, HAND],
        tags: recorded('aws:AmazonAthenaFullAccess aws:AmazonEKSClusterPolicy'),
      }),
    );
    expect(p.steps).toEqual([
      { op: 'DetachRolePolicy', roleName: 'r', policyArn: ATHENA },
      { op: 'TagRole', roleName: 'r', tags: { 'flyte-aws-setup:attached': 'aws:AmazonEKSClusterPolicy' } },
    ]);
    // A narrowing change: nothing is marked.
    expect(p.security).toEqual([]);
    expect(p.notes.map((n) => n.message)).toEqual([
      'detaches AmazonAthenaFullAccess: flyte-aws-setup attached it, and the config no longer names it',
      `also has ${HAND} attached (not by this config; left alone)`,
    ]);
  });

  it('attaching and detaching in one run: the record holds both while it changes, then what stays', () => {
    const p = planRole(
      role({ managedPolicies: [EKS] }),
      current({ attached: [ATHENA], tags: recorded('aws:AmazonAthenaFullAccess') }),
    );
    expect(p.steps).toEqual([
      {
        op: 'TagRole',
        roleName: 'r',
        tags: { 'flyte-aws-setup:attached': 'aws:AmazonAthenaFullAccess aws:AmazonEKSClusterPolicy' },
      },
      { op: 'AttachRolePolicy', roleName: 'r', policyArn: EKS },
      { op: 'DetachRolePolicy', roleName: 'r', policyArn: ATHENA },
      { op: 'TagRole', roleName: 'r', tags: { 'flyte-aws-setup:attached': 'aws:AmazonEKSClusterPolicy' } },
    ]);
  });

  it('a record grown shorter loses its extra tags; the last policy detached removes the record', () => {
    const long = Array.from({ length: 12 }, (_, i) => `arn:aws:iam::111122223333:policy/some-long-policy-name-${i}`);
    const tags = { ...MANAGED, ...recordTags('flyte-aws-setup:attached', encodePolicyArns(long, CURRENT_ROLE_ARN)) };
    expect(Object.keys(tags)).toContain('flyte-aws-setup:attached-2');
    const p = planRole(role({ managedPolicies: long.slice(0, 1) }), current({ attached: long, tags }));
    expect(p.steps.at(-1)).toEqual({ op: 'UntagRole', roleName: 'r', keys: ['flyte-aws-setup:attached-2'] });
    const none = planRole(
      role({ managedPolicies: [] }),
      current({ attached: [EKS], tags: recorded('aws:AmazonEKSClusterPolicy') }),
    );
    expect(none.steps).toEqual([
      { op: 'DetachRolePolicy', roleName: 'r', policyArn: EKS },
      { op: 'UntagRole', roleName: 'r', keys: ['flyte-aws-setup:attached'] },
    ]);
  });

  it('no room for the record under the 50-tag limit: blocked, saying so', () => {
    const many = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`k${i}`, 'v']));
    const p = planRole(role({ tags: { ...MANAGED, ...many } }), undefined);
    expect(p.steps).toEqual([]);
    expect(p.blocked).toMatch(/^it would need 51 tags, and IAM allows 50 per role/);
  });
});

describe('a role or policy that existed before the tool: what it changes is recorded, for destroy', () => {
  const IRSA = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow' as const,
        Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC' },
        Action: 'sts:AssumeRoleWithWebIdentity',
      },
    ],
  };

  it('its trust before the first change is recorded (compressed) with the setup, before the trust changes', () => {
    const before = current({ tags: { owner: 'platform' }, trust: IRSA, attached: [], description: 'Platform: CI' });
    const p = planRole(role(), before);
    expect(p.steps.map((s) => s.op)).toEqual(['TagRole', 'UpdateRole', 'UpdateAssumeRolePolicy', 'AttachRolePolicy']);
    const tags = (p.steps[0] as { tags: Record<string, string> }).tags;
    expect(tags['flyte-aws-setup:setup']).toBe('acme');
    expect(tags['flyte-aws-setup:attached']).toBe('aws:AmazonEKSClusterPolicy');
    expect(decodeTrust(readRecord(tags, 'flyte-aws-setup:trust')!)).toEqual(IRSA);
    // Its description gets the tool's mark (ListRoles finds it by it once the config no longer names it), its own
    // recorded first.
    expect(tags['flyte-aws-setup:description']).toBe('Platform=3a CI');
    expect(p.steps[1]).toEqual({
      op: 'UpdateRole',
      roleName: 'r',
      description: 'Platform: CI; adopted for Flyte, managed by flyte-aws-setup',
      before: 'Platform: CI',
    });
    expect(p.security.join('\n')).not.toMatch(/description/);
    // Never tagged managed-by, nor with the config's tags.
    expect(tags['managed-by']).toBeUndefined();
    expect(tags.team).toBeUndefined();
    expect(p.notes.map((n) => n.message).join('\n')).toMatch(/its trust before this change is recorded/);
    // Adopting a role whose trust lets in more than the config's is security-relevant.
    expect(p.security.join('\n')).toMatch(
      /adopts a role that existed before flyte-aws-setup whose trust lets in more than the config's: Federated:/,
    );

    // Once recorded, a later change keeps the first record: it is the trust from before the tool.
    const recordedTags = { owner: 'platform', ...tags };
    const marked = (p.steps[1] as { description: string }).description;
    const again = planRole(role(), current({ tags: recordedTags, trust: IRSA, description: marked }));
    expect(again.steps.map((s) => s.op)).toEqual(['UpdateAssumeRolePolicy']);
  });

  it('a role that needs no change is left untagged', () => {
    expect(planRole(role(), current({ tags: { owner: 'platform' } })).steps).toEqual([]);
  });

  it("a policy's default version before the first change is recorded; a hand-made version deleted is marked", () => {
    const versions = [
      { id: 'v1', isDefault: false },
      { id: 'v2', isDefault: false },
      { id: 'v3', isDefault: false },
      { id: 'v4', isDefault: false },
      { id: 'v5', isDefault: true },
    ];
    const hand = { ...CURRENT_POLICY, tags: {}, defaultVersionId: 'v5', document: OLD_DOCUMENT, versions };
    const p = planPolicy(POLICY, hand);
    expect(p.steps).toEqual([
      {
        op: 'TagPolicy',
        policyArn: POLICY.arn,
        tags: { 'flyte-aws-setup:default-version': 'v5', 'flyte-aws-setup:setup': 'acme' },
      },
      { op: 'DeletePolicyVersion', policyArn: POLICY.arn, versionId: 'v1' },
      { op: 'CreatePolicyVersion', policyArn: POLICY.arn, document: POLICY.document, before: OLD_DOCUMENT },
    ]);
    expect(p.security).toContain('deletes version v1 of a policy that existed before the tool');

    // Later: the recorded version is never the one deleted, and a version the tool made is not marked.
    const later = planPolicy(POLICY, {
      ...hand,
      tags: { 'flyte-aws-setup:default-version': 'v1', 'flyte-aws-setup:setup': 'acme' },
      versions: [
        { id: 'v1', isDefault: false },
        { id: 'v2', isDefault: false },
        { id: 'v3', isDefault: false },
        { id: 'v4', isDefault: false },
        { id: 'v5', isDefault: true },
      ],
    });
    expect(later.steps.map((s) => s.op)).toEqual(['DeletePolicyVersion', 'CreatePolicyVersion']);
    expect(later.steps[0]).toMatchObject({ versionId: 'v2' });
    expect(later.security.filter((r) => r.startsWith('deletes'))).toEqual([]);
    // The tool's own policy: its versions are the tool's.
    const own = planPolicy(POLICY, { ...hand, tags: MANAGED });
    expect(own.security.filter((r) => r.startsWith('deletes'))).toEqual([]);
  });
});

describe('records on tags', () => {
  it('policy ARNs in compact form, relative to the role; what a tag cannot hold is escaped', () => {
    const arns = [
      'arn:aws:iam::aws:policy/service-role/AmazonEKSClusterPolicy',
      'arn:aws:iam::111122223333:policy/team/a,b=c',
      'arn:aws:iam::999999999999:policy/elsewhere',
    ];
    const value = encodePolicyArns(arns, CURRENT_ROLE_ARN);
    expect(value).toBe(
      'arn:aws=3aiam=3a=3a999999999999=3apolicy/elsewhere aws:service-role/AmazonEKSClusterPolicy team/a=2cb=3dc',
    );
    expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    expect(decodePolicyArns(value, CURRENT_ROLE_ARN).sort()).toEqual([...arns].sort());
  });

  it('a trust survives the round trip; a damaged record is undefined', () => {
    const doc = serviceTrustPolicy('eks.amazonaws.com');
    const tags = recordTags('flyte-aws-setup:trust', encodeTrust(doc));
    expect(decodeTrust(readRecord(tags, 'flyte-aws-setup:trust')!)).toEqual(doc);
    expect(decodeTrust('AAAA')).toBeUndefined();
  });

  it('a description survives the round trip in a tag value; none is a record too; a damaged one is undefined', () => {
    const text = 'Team: ML (prod) = 100% "fine", café';
    const value = encodeDescription(text);
    // Only what a tag value may hold (letters, digits, spaces and _ . : / = + - @).
    expect(value).toMatch(/^[A-Za-z0-9 _.:/=+@-]+$/);
    expect(decodeDescription(value)).toBe(text);
    expect(encodeDescription(undefined)).toBe('=');
    expect(encodeDescription('')).toBe('=');
    expect(decodeDescription('=')).toBe('');
    expect(decodeDescription('bad=zz')).toBeUndefined();
    // Whatever a description holds comes back as it was (as UTF-8 bytes where a tag value cannot hold it).
    expect(decodeDescription(encodeDescription('5 € & ü'))).toBe('5 € & ü');
  });

  it("an adopted role's description ends with the tool's mark, within IAM's 1,000 characters", () => {
    expect(markedDescription('CI deploys')).toBe('CI deploys; adopted for Flyte, managed by flyte-aws-setup');
    expect(markedDescription(undefined)).toBe('Adopted for Flyte, managed by flyte-aws-setup');
    const long = markedDescription('x'.repeat(1000));
    expect(long.length).toBeLessThanOrEqual(1000);
    expect(long.endsWith('managed by flyte-aws-setup')).toBe(true);
    expect(long).toMatch(/^x+\.\.\.; adopted/);
  });

  it('a role adopted before the mark gets it, its description recorded; a marked one needs nothing', () => {
    const adopted = { owner: 'platform', 'flyte-aws-setup:setup': 'acme' };
    const p = planRole(role(), current({ tags: adopted, description: 'CI deploys' }));
    expect(p.steps).toEqual([
      { op: 'TagRole', roleName: 'r', tags: { 'flyte-aws-setup:description': 'CI deploys' } },
      {
        op: 'UpdateRole',
        roleName: 'r',
        description: 'CI deploys; adopted for Flyte, managed by flyte-aws-setup',
        before: 'CI deploys',
      },
    ]);
    expect(p.security).toEqual([]);
    const marked = current({
      tags: { ...adopted, 'flyte-aws-setup:description': 'CI deploys' },
      description: 'CI deploys; adopted for Flyte, managed by flyte-aws-setup',
    });
    expect(planRole(role(), marked).steps).toEqual([]);
    // No room for the record under the 50-tag limit: used without the mark, saying so; not blocked.
    const crowded = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`team-${i}`, 'x']));
    const full = planRole(role(), current({ tags: { ...crowded, ...adopted }, description: 'CI deploys' }));
    expect(full.blocked).toBeUndefined();
    expect(full.steps).toEqual([]);
    expect(full.notes.map((n) => n.message).join('\n')).toMatch(/cannot get flyte-aws-setup's mark/);
    // Never on a role the tool made, nor on one no setup adopted.
    expect(planRole(role(), current({ tags: { owner: 'platform' }, description: 'CI' })).steps).toEqual([]);
  });

  it('a long record is split over key, key-2, key-3, each at most 256 characters', () => {
    const tags = recordTags('k', 'x'.repeat(600));
    expect(Object.keys(tags)).toEqual(['k', 'k-2', 'k-3']);
    expect(Object.values(tags).map((v) => v.length)).toEqual([256, 256, 88]);
    expect(readRecord(tags, 'k')).toBe('x'.repeat(600));
  });
});
