/**
 * The operator's least-privilege policy: the operation table against the code (every AWS command the code sends
 * is in it), and the policy built from it (every action the code needs, scoped to the config's ARNs). Expected
 * ARNs are written out here, not computed by the code under test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { AWS_OPERATIONS, PERMISSION_MODES, type PermissionMode } from '../../src/permissions/operations.js';
import { permissionPolicy, SELF, type PermissionFacts } from '../../src/permissions/policy.js';
import type { PolicyStatement } from '../../src/policy/document.js';
import { ROOT, writeConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/in-process.js';

/**
 * Command name -> AWS service, from every `import { ... } from '@aws-sdk/client-*'` and `export { ... } from` of
 * the sources (a module may re-export commands that another imports lazily). A name two services share is left
 * out, so that it cannot be counted for the wrong one.
 */
export function commandServices(sources: string[]): Map<string, string> {
  const found = new Map<string, Set<string>>();
  for (const source of sources) {
    for (const m of source.matchAll(
      /(?:import|export)\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([\w-]+)'/g,
    )) {
      for (const name of m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) {
        if (!name) continue;
        const local = name.split(/\s+as\s+/).pop()!;
        found.set(local, (found.get(local) ?? new Set()).add(m[2]!));
      }
    }
  }
  return new Map([...found].flatMap(([name, services]) => (services.size === 1 ? [[name, [...services][0]!]] : [])));
}

/** `service:Operation` for every `new XxxCommand(` in a source file (`?` when its service is not known). */
export function sentCommands(source: string, services = commandServices([source])): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/new\s+(\w+)Command\s*\(/g)) {
    out.push(`${services.get(`${m[1]}Command`) ?? '?'}:${m[1]}`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const SOURCES = sourceFiles(join(ROOT, 'src')).map((f) => readFileSync(f, 'utf8'));
const SERVICES = commandServices(SOURCES);
const SENT = new Set(SOURCES.flatMap((source) => sentCommands(source, SERVICES)));
const TABLE = new Set(AWS_OPERATIONS.map((o) => `${o.service}:${o.operation}`));

describe('the operation table covers every AWS call of the code', () => {
  it('the scanner reads imports and constructions (a new call without a table entry is caught)', () => {
    const added = `import { EKSClient, CreateNodegroupCommand } from '@aws-sdk/client-eks';\nawait eks.send(new CreateNodegroupCommand({}));`;
    expect(sentCommands(added)).toEqual(['eks:CreateNodegroup']);
    expect(TABLE.has('eks:CreateNodegroup')).toBe(false);
  });

  it('a command imported lazily through a module that re-exports it still counts', () => {
    const services = commandServices([
      "export { EC2Client, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';",
      "const { ModifyVpcAttributeCommand } = await import('./ec2.js');\nawait ec2.send(new ModifyVpcAttributeCommand({}));",
    ]);
    expect(sentCommands('await ec2.send(new ModifyVpcAttributeCommand({}));', services)).toEqual([
      'ec2:ModifyVpcAttribute',
    ]);
    expect(sentCommands('await x.send(new UnknownThingCommand({}));', services)).toEqual(['?:UnknownThing']);
  });

  it('finds the calls of src/ (the scan is not empty)', () => {
    for (const known of ['iam:CreateRole', 'eks:DescribeCluster', 'sts:GetCallerIdentity', 'ec2:ModifyVpcAttribute']) {
      expect(SENT).toContain(known);
    }
  });

  it('every command src/ sends has its IAM actions in the table', () => {
    const missing = [...SENT].filter((c) => !TABLE.has(c));
    expect(missing, 'add these to src/permissions/operations.ts').toEqual([]);
  });

  it('every entry is sent by src/ (the table lists nothing the code does not call)', () => {
    for (const op of AWS_OPERATIONS) {
      const key = `${op.service}:${op.operation}`;
      expect(SENT.has(key), key).toBe(true);
    }
  });

  it('operation names are unique across services (a plan step names its operation alone)', () => {
    const names = AWS_OPERATIONS.map((o) => o.operation);
    expect(new Set(names).size).toBe(names.length);
  });

  it("each entry's first action is its own operation, and no action holds a wildcard", () => {
    // The operations AWS authorizes under another action's name (the S3 API reference says which).
    const authorizedAs: Record<string, string> = { 's3:GetBucketEncryption': 's3:GetEncryptionConfiguration' };
    for (const op of AWS_OPERATIONS) {
      const key = `${op.service}:${op.operation}`;
      expect(op.actions[0]).toBe(authorizedAs[key] ?? key);
      for (const a of op.actions) expect(a).not.toContain('*');
    }
  });
});

const FULL = parseConfigText(`
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
path: /flyte/
permissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess
vpcDns: fix
globalAccess: { role: acme-userflyterole }
projectRoles:
  - project: fraud
    userFlyteRolePolicy: true
    extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]
grants:
  - { to: fraud, bucket: acme-shared-data }
`);

const FACTS: PermissionFacts = {
  partition: 'aws',
  accountId: '111122223333',
  region: 'eu-west-1',
  issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123',
  vpcId: 'vpc-0abc',
  existingRoleArns: { 'acme-userflyterole': 'arn:aws:iam::111122223333:role/union/acme-userflyterole' },
};

const ROLES = [
  'arn:aws:iam::111122223333:role/flyte/flyte-eks-cluster-role',
  'arn:aws:iam::111122223333:role/flyte/flyte-eks-node-role',
  'arn:aws:iam::111122223333:role/flyte/flyte-system-role',
  'arn:aws:iam::111122223333:role/flyte/flyte-workers-role',
  'arn:aws:iam::111122223333:role/flyte/flyte-fraud-role',
];
const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123';
const POLICY = 'arn:aws:iam::111122223333:policy/flyte/flyte-custom-policy';
/** The fraud role's grants policy (grants:). */
const GRANTS = 'arn:aws:iam::111122223333:policy/flyte/flyte-fraud-role-grants';
// The grants policies of the roles the config gives no grants: removed when they are the tool's.
const GONE = ['flyte-workers-role', 'flyte-system-role', 'flyte-eks-node-role'].map(
  (r) => `arn:aws:iam::111122223333:policy/flyte/${r}-grants`,
);
const EXISTING = 'arn:aws:iam::111122223333:role/union/acme-userflyterole';

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Which resources each action is allowed on, across the statements (and under which conditions). */
function grants(statements: PolicyStatement[]): Map<string, { resources: string[]; conditions: unknown[] }> {
  const out = new Map<string, { resources: string[]; conditions: unknown[] }>();
  for (const s of statements) {
    for (const a of list(s.Action)) {
      const g = out.get(a) ?? { resources: [], conditions: [] };
      g.resources.push(...list(s.Resource));
      if (s.Condition) g.conditions.push(s.Condition);
      out.set(a, g);
    }
  }
  return out;
}

describe('the policy for a config', () => {
  const apply = permissionPolicy(FULL, FACTS, 'apply');
  const byAction = grants(apply.document.Statement);

  it('holds every action the code calls when applying this config, each scoped to its ARNs', () => {
    const wanted = AWS_OPERATIONS.filter(
      (o) => o.modes.includes('apply') && o.service !== 'sts' && (o.when?.(FULL) ?? true),
    ).flatMap((o) => o.actions);
    for (const action of wanted) expect(byAction.has(action), action).toBe(true);
    expect(byAction.get('iam:CreateRole')!.resources.sort()).toEqual([...ROLES].sort());
    // Any role too, only with the setup's tag: --prune puts back a role this setup adopted that the config no longer
    // names (its trust, its description, the tool's records).
    expect(byAction.get('iam:UpdateAssumeRolePolicy')!.resources.sort()).toEqual(
      [...ROLES, 'arn:aws:iam::111122223333:role/*'].sort(),
    );
    for (const action of ['iam:UpdateAssumeRolePolicy', 'iam:UpdateRole', 'iam:UntagRole']) {
      const anyRole = apply.document.Statement.filter(
        (st) => list(st.Action).includes(action) && list(st.Resource).includes('arn:aws:iam::111122223333:role/*'),
      );
      expect(
        anyRole.map((st) => st.Condition),
        action,
      ).toEqual([{ StringEquals: { 'aws:ResourceTag/flyte-aws-setup:setup': expect.any(String) } }]);
    }
    // Any role: the setup's roles the config no longer names are found among the account's.
    expect(byAction.get('iam:GetRole')!.resources.sort()).toEqual(
      [...ROLES, EXISTING, SELF, 'arn:aws:iam::111122223333:role/*'].sort(),
    );
    expect(byAction.get('iam:AttachRolePolicy')!.resources.sort()).toEqual([...ROLES, EXISTING].sort());
    expect(byAction.get('iam:CreateOpenIDConnectProvider')!.resources).toEqual([PROVIDER]);
    // --prune reads the account's other providers (the setup's of a cluster the config no longer names): any.
    expect(byAction.get('iam:GetOpenIDConnectProvider')!.resources).toContain(
      'arn:aws:iam::111122223333:oidc-provider/*',
    );
    expect(byAction.get('iam:CreatePolicyVersion')!.resources).toEqual([POLICY, GRANTS]);
    // A plan reads the roles a grants policy is attached to: only the grants policy's.
    expect(byAction.get('iam:ListEntitiesForPolicy')!.resources.sort()).toEqual([GRANTS, ...GONE].sort());
    // Only those are deleted by apply, and only with the tool's tag; the custom policy and the grants policies
    // the config gives are never deleted by apply.
    const deletes = apply.document.Statement.filter((st) => list(st.Action).includes('iam:DeletePolicy'));
    expect(deletes.flatMap((st) => list(st.Resource)).sort()).toEqual([...GONE].sort());
    expect(deletes.map((st) => st.Condition)).toEqual([
      { StringEquals: { 'aws:ResourceTag/managed-by': 'flyte-aws-setup' } },
    ]);
    expect(byAction.get('eks:DescribeCluster')!.resources).toEqual([
      'arn:aws:eks:eu-west-1:111122223333:cluster/acme-ml',
    ]);
    expect(byAction.get('ec2:ModifyVpcAttribute')!.resources).toEqual([
      'arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0abc',
    ]);
    expect(byAction.get('iam:SimulatePrincipalPolicy')!.resources).toEqual([SELF]);
  });

  it('no action is a wildcard; only what takes no resource-level permissions has Resource "*"', () => {
    for (const s of apply.document.Statement) {
      for (const a of list(s.Action)) expect(a).not.toContain('*');
      if (list(s.Resource).includes('*'))
        // EC2 Describe*, the region's clusters and the AWS managed policies (each listed only when a look-up fails), and
        // ListRoles for the setup's roles the config no longer names.
        expect(list(s.Action)).toEqual([
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcAttribute',
          'eks:ListClusters',
          'iam:ListOpenIDConnectProviders',
          'iam:ListPolicies',
          'iam:ListRoles',
        ]);
    }
    expect(apply.notes.join('\n')).toContain(
      'ec2:DescribeSubnets, ec2:DescribeVpcAttribute, eks:ListClusters, iam:ListOpenIDConnectProviders, iam:ListPolicies and iam:ListRoles take no resource-level permissions: Resource "*"',
    );
  });

  it('what the config names is looked up: its policies, the boundary, and the bucket', () => {
    expect([...byAction.get('iam:GetPolicy')!.resources].sort()).toEqual(
      [
        POLICY,
        GRANTS,
        ...GONE,
        'arn:aws:iam::aws:policy/PowerUserAccess',
        'arn:aws:iam::111122223333:policy/userflyterole',
        'arn:aws:iam::aws:policy/AmazonAthenaFullAccess',
        // The access check reads whatever is attached to the Flyte roles, by hand or not.
        'arn:aws:iam::aws:policy/*',
        'arn:aws:iam::111122223333:policy/*',
      ].sort(),
    );
    expect(byAction.get('s3:GetBucketLocation')!.resources).toEqual(['arn:aws:s3:::acme-flyte-data']);
  });

  it("--prune deletes only the roles that carry the config's setup", () => {
    const setupOnly = { StringEquals: { 'aws:ResourceTag/flyte-aws-setup:setup': 'acme-ml' } };
    for (const action of ['iam:DeleteRole', 'iam:DetachRolePolicy']) {
      const s = apply.document.Statement.filter(
        (x) => list(x.Action).includes(action) && list(x.Resource).includes('arn:aws:iam::111122223333:role/*'),
      );
      expect(s.map((x) => x.Condition)).toEqual([setupOnly]);
    }
  });

  it('no iam:PassRole (the tool hands no role to a service), and says so', () => {
    expect(byAction.has('iam:PassRole')).toBe(false);
    expect(apply.notes.join('\n')).toMatch(/no iam:PassRole: flyte-aws-setup never hands a role to a service/);
  });

  it('with Pod Identity: the associations on the cluster, iam:PassRole of the pod roles to EKS Pod Identity only', () => {
    const config = parseConfigText(`region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nidentity: both\n`);
    const policy = permissionPolicy(config, FACTS, 'apply');
    const got = grants(policy.document.Statement);
    const cluster = 'arn:aws:eks:eu-west-1:111122223333:cluster/acme-ml';
    const associations = 'arn:aws:eks:eu-west-1:111122223333:podidentityassociation/acme-ml/*';
    expect(got.get('eks:CreatePodIdentityAssociation')!.resources).toEqual([cluster]);
    // And those of a cluster the config no longer names (any of the account's: only the roles' trust names it).
    const dropped = 'arn:aws:eks:*:111122223333:cluster/*';
    const setupAssociations = 'arn:aws:eks:*:111122223333:podidentityassociation/*/*';
    expect(got.get('eks:ListPodIdentityAssociations')!.resources).toEqual([cluster, dropped]);
    expect(got.get('eks:CreateAddon')!.resources).toEqual([cluster]);
    expect(got.get('eks:DescribePodIdentityAssociation')!.resources).toEqual([associations, setupAssociations]);
    expect(got.get('eks:UpdatePodIdentityAssociation')!.resources).toEqual([associations]);
    // Tagging: a new association (on the cluster, with its creation) and one taken over (the association's).
    expect(got.get('eks:TagResource')!.resources.sort()).toEqual([cluster, associations]);
    expect(got.get('eks:DescribeAddon')!.resources).toEqual([
      'arn:aws:eks:eu-west-1:111122223333:addon/acme-ml/eks-pod-identity-agent/*',
    ]);
    // The roles pods assume, not the cluster or node role; only to pods.eks.amazonaws.com.
    expect(got.get('iam:PassRole')!.resources.sort()).toEqual([
      'arn:aws:iam::111122223333:role/flyte-system-role',
      'arn:aws:iam::111122223333:role/flyte-workers-role',
    ]);
    expect(got.get('iam:PassRole')!.conditions).toEqual([
      { StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } },
    ]);
    expect(policy.notes.join('\n')).toContain('iam:PassRole only on the roles pods assume');
    // apply and destroy delete only this setup's associations (another setup's carry managed-by too).
    const destroy = grants(permissionPolicy(config, FACTS, 'destroy').document.Statement);
    // --prune and destroy: this setup's in a cluster the config no longer names, and only those.
    const setupOnly = { StringEquals: { 'aws:ResourceTag/flyte-aws-setup:setup': 'acme-ml' } };
    expect(got.get('eks:DeletePodIdentityAssociation')).toEqual({
      resources: [associations, setupAssociations],
      conditions: [setupOnly, setupOnly],
    });
    expect(destroy.get('eks:DeletePodIdentityAssociation')).toEqual({
      resources: [associations, setupAssociations],
      conditions: [setupOnly, setupOnly],
    });
    // verify reads them, and deletes nothing.
    const verify = grants(permissionPolicy(config, FACTS, 'verify').document.Statement);
    expect(verify.get('eks:ListPodIdentityAssociations')!.resources).toEqual([cluster, dropped]);
    expect(verify.has('eks:DeletePodIdentityAssociation')).toBe(false);
    // With IRSA none of it.
    expect(byAction.has('eks:CreatePodIdentityAssociation')).toBe(false);
  });

  it('attachments only of the policies the config names; creation only with its boundary', () => {
    const attach = apply.document.Statement.filter((s) => list(s.Action).includes('iam:AttachRolePolicy'));
    expect(attach.map((s) => [list(s.Resource).sort(), s.Condition])).toEqual([
      [
        [...ROLES].sort(),
        {
          ArnEquals: {
            'iam:PolicyARN': [
              POLICY,
              GRANTS,
              'arn:aws:iam::111122223333:policy/userflyterole',
              'arn:aws:iam::aws:policy/AmazonAthenaFullAccess',
              'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
              'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy',
              'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
              'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
            ].sort(),
          },
        },
      ],
      // The existing role gets the custom policy and nothing else.
      [[EXISTING], { ArnEquals: { 'iam:PolicyARN': POLICY } }],
    ]);
    expect(byAction.get('iam:CreateRole')!.conditions).toEqual([
      { StringEquals: { 'iam:PermissionsBoundary': 'arn:aws:iam::aws:policy/PowerUserAccess' } },
    ]);
    // The existing role is never created, retagged, changed or deleted.
    for (const action of ['iam:CreateRole', 'iam:TagRole', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole']) {
      expect(byAction.get(action)?.resources ?? []).not.toContain(EXISTING);
    }
  });

  it('Sids are unique and alphanumeric, as IAM wants', () => {
    const sids = apply.document.Statement.map((s) => s.Sid!);
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
  });

  it.each<[PermissionMode, RegExp]>([
    // iam:SimulatePrincipalPolicy evaluates, and changes nothing: the access check's second opinion.
    ['verify', /^(iam:(Get|List|SimulatePrincipalPolicy$)|eks:(Describe|List)|ec2:Describe|s3:Get|kms:(Get|Describe))/],
    // destroy also puts back what it changed on what existed before: trust, description, default version, and its
    // own records; and deletes the setup's pod identity associations (also those left from identity: pod-identity).
    [
      'destroy',
      /^(iam:(Get|List|Delete|Detach|Untag|UpdateAssumeRolePolicy|UpdateRole$|SetDefaultPolicyVersion)|eks:(Describe|List|DeletePodIdentityAssociation$))/,
    ],
  ])('--for %s holds only what that command does', (mode, allowed) => {
    const actions = [...grants(permissionPolicy(FULL, FACTS, mode).document.Statement).keys()];
    for (const a of actions) expect(a).toMatch(allowed);
    if (mode === 'destroy') {
      for (const a of [
        'iam:DeleteRole',
        'iam:DetachRolePolicy',
        'iam:DeletePolicy',
        'iam:DeletePolicyVersion',
        'iam:ListPolicyVersions',
        'iam:DeleteOpenIDConnectProvider',
        'iam:ListEntitiesForPolicy',
      ]) {
        expect(actions).toContain(a);
      }
    }
  });

  it("verify reads the bucket's policy, and asks IAM's simulator about the Flyte roles only", () => {
    const verify = grants(permissionPolicy(FULL, FACTS, 'verify').document.Statement);
    expect(verify.get('s3:GetBucketPolicy')!.resources).toEqual(['arn:aws:s3:::acme-flyte-data']);
    const simulated = verify.get('iam:SimulatePrincipalPolicy')!.resources;
    expect(simulated).toContain(EXISTING);
    expect(simulated).toContain('arn:aws:iam::111122223333:role/flyte/flyte-system-role');
    for (const r of simulated) expect(r).not.toMatch(/\*|cluster-role|node-role/);
    // apply simulates only the caller's own policies (the preflight), never the roles.
    const apply = grants(permissionPolicy(FULL, FACTS, 'apply').document.Statement);
    expect(apply.get('iam:SimulatePrincipalPolicy')!.resources).not.toContain(EXISTING);
    expect(apply.get('s3:GetBucketPolicy')!.resources).toEqual(['arn:aws:s3:::acme-flyte-data']);
  });

  it('destroy deletes only the roles the tool made; from the existing role it only detaches the custom policy', () => {
    const destroy = grants(permissionPolicy(FULL, FACTS, 'destroy').document.Statement);
    // The config's roles, and any role that carries the setup's tag (one the config no longer names).
    expect(destroy.get('iam:DeleteRole')!.resources.sort()).toEqual(
      [...ROLES, 'arn:aws:iam::111122223333:role/*'].sort(),
    );
    const detach = permissionPolicy(FULL, FACTS, 'destroy').document.Statement.filter(
      (s) => list(s.Action).includes('iam:DetachRolePolicy') && list(s.Resource).includes(EXISTING),
    );
    expect(detach.map((s) => s.Condition)).toEqual([{ ArnEquals: { 'iam:PolicyARN': POLICY } }]);
  });

  it("destroy's deletes are allowed only on what carries the tool's managed-by tag", () => {
    const destroy = grants(permissionPolicy(FULL, FACTS, 'destroy').document.Statement);
    const owned = { StringEquals: { 'aws:ResourceTag/managed-by': 'flyte-aws-setup' } };
    for (const action of ['iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:DeleteOpenIDConnectProvider']) {
      expect(destroy.get(action)!.conditions, action).toEqual([owned]);
    }
    // A role: the config's with the tool's tag, any other only with the setup's.
    const setupOnly = { StringEquals: { 'aws:ResourceTag/flyte-aws-setup:setup': 'acme-ml' } };
    expect(destroy.get('iam:DeleteRole')!.conditions).toEqual([owned, setupOnly]);
    // Apply keeps an existing policy in line (a version deleted under the limit of five): no tag condition there;
    // before a grants policy the config no longer gives is deleted, its versions are, with the tool's tag only.
    const versions = apply.document.Statement.filter((st) => list(st.Action).includes('iam:DeletePolicyVersion'));
    expect(versions.map((st) => [list(st.Resource).sort(), st.Condition])).toEqual([
      [[POLICY, GRANTS].sort(), undefined],
      [[...GONE].sort(), owned],
    ]);
  });

  it('verify and destroy may read what they read: the versions, every document, any OIDC provider a trust names', () => {
    for (const mode of ['verify', 'destroy'] as const) {
      const g = grants(permissionPolicy(FULL, FACTS, mode).document.Statement);
      for (const action of ['iam:GetPolicyVersion', 'iam:ListPolicyVersions', 'iam:ListRolePolicies']) {
        expect(g.has(action), `${mode} ${action}`).toBe(true);
      }
      expect(g.get('iam:GetOpenIDConnectProvider')!.resources).toContain('arn:aws:iam::111122223333:oidc-provider/*');
    }
    const destroy = grants(permissionPolicy(FULL, FACTS, 'destroy').document.Statement);
    expect(destroy.get('eks:ListClusters')!.resources).toEqual(['*']);
    expect(destroy.get('eks:DescribeCluster')!.resources).toContain('arn:aws:eks:eu-west-1:111122223333:cluster/*');
  });

  it('every mode is a valid-looking document', () => {
    for (const mode of PERMISSION_MODES) {
      const doc = permissionPolicy(FULL, FACTS, mode).document;
      expect(doc.Version).toBe('2012-10-17');
      for (const s of doc.Statement) {
        expect(s.Effect).toBe('Allow');
        expect(list(s.Action).length).toBeGreaterThan(0);
        expect(list(s.Resource).length).toBeGreaterThan(0);
      }
    }
  });
});

describe('what is not known is scoped with a wildcard, and said', () => {
  it("no issuer: the region's EKS issuers; no VPC: the region's VPCs; an unread role: path /", () => {
    const p = permissionPolicy(FULL, { partition: 'aws', accountId: '111122223333', region: 'eu-west-1' }, 'apply');
    const byAction = grants(p.document.Statement);
    expect(byAction.get('iam:CreateOpenIDConnectProvider')!.resources).toEqual([
      'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/*',
    ]);
    expect(byAction.get('ec2:ModifyVpcAttribute')!.resources).toEqual(['arn:aws:ec2:eu-west-1:111122223333:vpc/*']);
    expect(byAction.get('iam:AttachRolePolicy')!.resources).toContain(
      'arn:aws:iam::111122223333:role/acme-userflyterole',
    );
    const notes = p.notes.join('\n');
    expect(notes).toMatch(
      /OIDC issuer is not known, so the provider is scoped to oidc.eks.eu-west-1.amazonaws.com\/id\/\*/,
    );
    expect(notes).toMatch(/VPC is not known, so ec2:ModifyVpcAttribute is scoped to every VPC of the cluster's region/);
    expect(notes).toMatch(/its ARN assumes the path \//);
  });

  it('China: every ARN in aws-cn, issuers under amazonaws.com.cn', () => {
    const china = parseConfigText('region: cn-north-1\ncluster: acme\nbucket: acme-flyte-data\n');
    const p = permissionPolicy(
      china,
      { partition: 'aws-cn', accountId: '111122223333', region: 'cn-north-1' },
      'apply',
    );
    const text = JSON.stringify(p.document);
    expect(text).not.toMatch(/arn:aws:/);
    expect(text).toContain('arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/*');
    expect(text).toContain('arn:aws-cn:eks:cn-north-1:111122223333:cluster/acme');
  });

  it('only what the config enables: the first two roles alone need no EKS, EC2, provider or policy', () => {
    const roles = parseConfigText(
      'bucket: acme-flyte-data\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
    );
    const p = permissionPolicy(roles, { partition: 'aws', accountId: '111122223333', region: 'eu-west-1' }, 'apply');
    const actions = [...grants(p.document.Statement).keys()];
    expect(actions.sort()).toEqual([
      'iam:AttachRolePolicy',
      'iam:CreateRole',
      // --prune: the setup's roles the config no longer names.
      'iam:DeleteRole',
      'iam:DetachRolePolicy',
      'iam:GetRole',
      'iam:GetRolePolicy',
      'iam:ListAttachedRolePolicies',
      'iam:ListInstanceProfilesForRole',
      'iam:ListRolePolicies',
      'iam:ListRoles',
      'iam:SimulatePrincipalPolicy',
      'iam:TagRole',
      'iam:UntagRole',
      'iam:UpdateAssumeRolePolicy',
      // The mark on the description of a role it adopts.
      'iam:UpdateRole',
    ]);
    expect(grants(p.document.Statement).get('iam:CreateRole')!.resources).toEqual([
      'arn:aws:iam::111122223333:role/flyte-eks-cluster-role',
      'arn:aws:iam::111122223333:role/flyte-eks-node-role',
    ]);
    // Without a boundary in the config, no PutRolePermissionsBoundary and no boundary condition.
    expect(actions).not.toContain('iam:PutRolePermissionsBoundary');
    expect(JSON.stringify(p.document)).not.toContain('iam:PermissionsBoundary');
  });

  it('a policy too large for one managed policy is reported', () => {
    const projects = Array.from({ length: 60 }, (_, i) => `  - project: project-number-${i}\n`).join('');
    const big = parseConfigText(`cluster: acme\nbucket: acme-flyte-data\nprojectRoles:\n${projects}`);
    const p = permissionPolicy(big, FACTS, 'apply');
    expect(p.notes.join('\n')).toMatch(/a managed policy holds at most 6144/);
  });
});

describe('the command line', () => {
  const run = (args: string[]) => runMain(args);

  it('permissions --help lists its options; the main help lists --no-preflight', async () => {
    const help = await run(['permissions', '--help']);
    expect(help.code).toBe(0);
    for (const opt of ['--config', '--for <command>', '"verify"', '"destroy"', '--offline', '--region', '--profile']) {
      expect(help.stdout).toContain(opt);
    }
    expect((await run(['--help'])).stdout).toContain('--no-preflight');
  });

  it('permissions --offline prints the policy on stdout and the notes on stderr', async () => {
    const file = writeConfig('accountId: "111122223333"\nregion: eu-west-1\ncluster: acme\nbucket: acme-flyte-data\n');
    const r = await run(['permissions', '--config', file, '--offline', '--for', 'verify']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { Statement: PolicyStatement[] };
    expect(doc.Statement.length).toBeGreaterThan(0);
    expect(
      r.stderr
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('note: ')),
    ).toBe(true);
  });

  it('permissions --offline without a region is bad input', async () => {
    const file = writeConfig('accountId: "111122223333"\ncluster: acme\nbucket: acme-flyte-data\n');
    const r = await run(['permissions', '--config', file, '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --offline needs a region');
  });
});
