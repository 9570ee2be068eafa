/** The pure planner and the sections: config + facts → desired resources → steps. No AWS. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { buildPlan, desiredSections } from '../../src/engine/engine.js';
import { offlineFacts } from '../../src/engine/facts.js';
import type { CurrentPolicy, CurrentRole, DesiredPolicy, DesiredRole, Facts } from '../../src/model.js';
import { planOidcProvider, planPolicy, planRole, resourceKey } from '../../src/engine/plan.js';
import { bucketPolicyDocument, serviceTrustPolicy } from '../../src/policy/document.js';

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

const MANAGED = { 'managed-by': 'flyte-aws-setup', team: 'ml' };

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
  it("the seven sections in the documents' order, then global access, the cluster VPC and Pod Identity", () => {
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
      tags: MANAGED,
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
      'trust: the role also holds AmazonEC2FullAccess, the inline policy admin, not from this config; whoever the ' +
        'new trust lets in gets that too',
    );
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
