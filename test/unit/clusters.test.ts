/** Several clusters: the facts of each (in its region), the sections per cluster, the plan's trust and waiting. */
import { DescribeClusterCommand, DescribeNodegroupCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { readDestroyState } from '../../src/engine/destroy-run.js';
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { findLeftovers } from '../../src/engine/leftovers.js';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { buildPlan, desiredSections } from '../../src/engine/engine.js';
import { gatherFacts, offlineFacts } from '../../src/engine/facts.js';
import { planRole } from '../../src/engine/plan.js';
import type { CurrentRole, DesiredRole, Facts } from '../../src/model.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePlan } from '../../src/engine/engine.js';
import { handOff } from '../../src/session/hand-off.js';
import { permissionPolicy } from '../../src/permissions/policy.js';
import { renderFacts } from '../../src/render/plan-text.js';
import { auditTrust } from '../../src/audit/trust.js';

const BLUE = 'https://oidc.eks.eu-west-1.amazonaws.com/id/BLUE';
const GREEN = 'https://oidc.eks.us-east-2.amazonaws.com/id/GREEN';

function config(extra = '') {
  return parseConfigText(`
region: eu-west-1
bucket: acme-flyte-data
cluster:
  - blue
  - { name: green, region: us-east-2 }
${extra}`);
}

function facts(
  green: Facts['cluster'] = { state: 'ready', name: 'green', status: 'ACTIVE', issuerUrl: GREEN, region: 'us-east-2' },
): Facts {
  const blue: Facts['cluster'] = { state: 'ready', name: 'blue', status: 'ACTIVE', issuerUrl: BLUE };
  return {
    partition: 'aws',
    accountId: '111122223333',
    region: 'eu-west-1',
    offline: false,
    cluster: blue,
    clusters: [blue, green],
  };
}

function resources(cfg: ReturnType<typeof config>, f: Facts) {
  return desiredSections(cfg, f).flatMap((s) => s.resources);
}

function federated(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) => {
    const p = (s as { Principal?: { Federated?: string } }).Principal?.Federated;
    return p !== undefined ? [p] : [];
  });
}

describe('several clusters', () => {
  it('an OIDC provider per cluster; each IRSA role trusts both providers with the same subjects', () => {
    const all = resources(config(), facts());
    const providers = all.filter((r) => r.kind === 'oidc-provider');
    expect(providers.map((p) => p.url)).toEqual([BLUE, GREEN]);
    const roles = all.filter(
      (r): r is DesiredRole => r.kind === 'role' && ['flyte-system-role', 'flyte-workers-role'].includes(r.name),
    );
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      expect(federated(role.trust)).toEqual([
        'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BLUE',
        'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/GREEN',
      ]);
      const [a, b] = role.trust.Statement.map((s) =>
        JSON.stringify(Object.values((s as { Condition: object }).Condition)).replace(
          /BLUE|GREEN|eu-west-1|us-east-2/g,
          '',
        ),
      );
      expect(a).toBe(b);
    }
  });

  it('with Pod Identity, each cluster gets its add-on and associations, in its own region', () => {
    const all = resources(config('identity: both'), facts());
    const associations = all.filter((r) => r.kind === 'pod-identity-association');
    const byCluster = (name: string) =>
      associations.filter((a) => a.kind === 'pod-identity-association' && a.cluster === name);
    expect(byCluster('blue').length).toBeGreaterThan(0);
    expect(byCluster('green').length).toBe(byCluster('blue').length);
    expect(byCluster('green').every((a) => a.kind === 'pod-identity-association' && a.region === 'us-east-2')).toBe(
      true,
    );
    expect(byCluster('blue').every((a) => a.kind === 'pod-identity-association' && a.region === undefined)).toBe(true);
    expect(
      all.filter((r) => r.kind === 'addon').map((a) => a.kind === 'addon' && `${a.cluster}@${a.region ?? '-'}`),
    ).toEqual(['blue@-', 'green@us-east-2']);
    const names = associations.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    // Pod Identity's trust: one statement per cluster, bounded to that cluster's ARN in its region.
    const workers = all.find((r): r is DesiredRole => r.kind === 'role' && r.name === 'flyte-workers-role')!;
    const text = JSON.stringify(workers.trust);
    expect(text).toContain('arn:aws:eks:eu-west-1:111122223333:cluster/blue');
    expect(text).toContain('arn:aws:eks:us-east-2:111122223333:cluster/green');
    // A plan that creates an association in another region says so in its step.
    const plan = buildPlan(facts(), desiredSections(config('identity: both'), facts()), new Map());
    const steps = plan.sections.flatMap((s) => s.resources.flatMap((r) => r.steps));
    expect(steps.filter((s) => s.op === 'CreatePodIdentityAssociation' && s.region === 'us-east-2')).toHaveLength(
      byCluster('green').length,
    );
  });

  it('the sections that need a cluster wait while one of them is missing, naming it and its region', () => {
    const sections = desiredSections(config(), facts({ state: 'missing', name: 'green', region: 'us-east-2' }));
    const waiting = sections.filter((s) => s.waiting !== undefined);
    expect(waiting.map((s) => s.def.id)).toContain('oidcProvider');
    expect(waiting[0]!.waiting!.reason).toBe('the EKS cluster green does not exist yet in us-east-2');
    expect(sections.find((s) => s.def.id === 'clusterRole')!.resources.length).toBe(1);
  });

  it('adding a cluster to a role that exists is a broadening change; removing one is not', () => {
    const cfg = config();
    const role = resources(cfg, facts()).find(
      (r): r is DesiredRole => r.kind === 'role' && r.name === 'flyte-workers-role',
    )!;
    const one = parseConfigText('region: eu-west-1\nbucket: acme-flyte-data\ncluster: blue\n');
    const single: Facts = { ...facts(), clusters: undefined };
    const oneRole = resources(one, single).find(
      (r): r is DesiredRole => r.kind === 'role' && r.name === 'flyte-workers-role',
    )!;
    expect(federated(oneRole.trust)).toHaveLength(1);
    const current = (trust: PolicyDocument): CurrentRole => ({
      kind: 'role',
      name: role.name,
      arn: role.arn,
      path: '/',
      trust,
      attached: role.managedPolicies,
      tags: role.tags,
    });
    const added = planRole(role, current(oneRole.trust));
    expect(added.steps.map((s) => s.op)).toEqual(['UpdateAssumeRolePolicy']);
    expect(added.security.join('\n')).toMatch(/GREEN|trust/);
    const removed = planRole({ ...oneRole, tags: role.tags }, current(role.trust));
    expect(removed.steps.map((s) => s.op)).toEqual(['UpdateAssumeRolePolicy']);
    expect(removed.security).toEqual([]);
  });

  it('gathers each cluster with EKS of its region, at the same time', async () => {
    const aws = mockAws({ region: 'eu-west-1' });
    const regions: string[] = [];
    aws.eks.on(DescribeClusterCommand).callsFake(async (input: { name: string }, getClient) => {
      const region = await getClient().config.region();
      regions.push(`${input.name}@${region}`);
      return input.name === 'green'
        ? { cluster: { name: 'green', status: 'CREATING' } }
        : { cluster: { name: 'blue', status: 'ACTIVE', identity: { oidc: { issuer: BLUE } } } };
    });
    const f = await gatherFacts(aws.gateway, config());
    expect(regions.sort()).toEqual(['blue@eu-west-1', 'green@us-east-2']);
    expect(f.cluster).toMatchObject({ state: 'ready', name: 'blue', issuerUrl: BLUE });
    expect(f.clusters).toEqual([
      f.cluster,
      { state: 'not-ready', name: 'green', status: 'CREATING', region: 'us-east-2' },
    ]);
  });

  it('one cluster: the facts hold no list, as before', async () => {
    const aws = mockAws({ region: 'eu-west-1' });
    const f = await gatherFacts(
      aws.gateway,
      parseConfigText('region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\n'),
    );
    expect(f.clusters).toBeUndefined();
    expect(f.cluster.state).toBe('ready');
  });

  it('offline: an issuer placeholder per cluster, in its region', () => {
    const f = offlineFacts(config());
    expect(f.clusters?.map((c) => (c.state === 'ready' ? c.issuerUrl : c.state))).toEqual([
      'https://oidc.eks.eu-west-1.amazonaws.com/id/<oidc-id-blue>',
      'https://oidc.eks.us-east-2.amazonaws.com/id/<oidc-id-green>',
    ]);
  });

  it('the trust-size check counts every cluster and names the ones to drop', () => {
    const ns = Array.from({ length: 8 }, (_, i) => `team-namespace-${i}`).join(', ');
    const text = (cluster: string) =>
      `region: eu-west-1\nbucket: acme-flyte-data\ncluster: ${cluster}\nworkersRole: { allNamespaces: false, namespaces: [${ns}] }\n`;
    expect(parseConfigText(text('blue')).clusters).toHaveLength(1);
    let messages: string[] = [];
    try {
      parseConfigText(text('[blue, green, { name: red, region: us-east-2 }]'));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      messages = err.problems.map(formatProblem);
    }
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /workersRole\.namespaces: the trust policy would be about \d+ characters with 3 clusters/,
    );
    expect(messages[0]).toMatch(/it fits with blue(, green)?: drop (green, )?red from this config/);
  });

  it("the trust audit takes each statement for its cluster's: as the tool writes it, no finding", () => {
    const cfg = config('identity: both');
    const all = resources(cfg, facts());
    const workers = all.find((r): r is DesiredRole => r.kind === 'role' && r.name === 'flyte-workers-role')!;
    const providers = new Map(
      all.flatMap((r) =>
        r.kind === 'oidc-provider'
          ? [[r.arn, { kind: 'oidc-provider' as const, arn: r.arn, url: r.url, clientIds: r.clientIds, tags: {} }]]
          : [],
      ),
    );
    const cluster = (issuer: string, region: string, name: string) => ({
      issuerHost: issuer.slice(8),
      providerArn: `arn:aws:iam::111122223333:oidc-provider/${issuer.slice(8)}`,
      clusterArn: `arn:aws:eks:${region}:111122223333:cluster/${name}`,
    });
    const blue = cluster(BLUE, 'eu-west-1', 'blue');
    const input = {
      section: 'workersRole' as const,
      roleName: workers.name,
      trust: workers.trust,
      ...blue,
      providers,
      createsProvider: true,
      rerun: 'flyte-aws-setup apply',
    };
    expect(auditTrust({ ...input, clusters: [blue, cluster(GREEN, 'us-east-2', 'green')] })).toEqual([]);
    // Without the second cluster known, its statements are another cluster's.
    const codes = auditTrust(input).map((f) => f.code);
    expect(codes).toContain('other-provider');
    expect(codes).toContain('pod-trust-other-cluster');
  });

  it('the hand-off: a set of files per cluster, in a sub-folder named after it; one cluster keeps the folder itself', async () => {
    const write = async (cfg: ReturnType<typeof config>) => {
      const plan = await makePlan(cfg, undefined, { offline: true });
      const arns = new Map(
        plan.sections.flatMap((s) => s.resources).flatMap((r) => (r.kind === 'role' ? [[r.name, r.arn] as const] : [])),
      );
      const dir = mkdtempSync(join(tmpdir(), 'out-'));
      const outcome = await handOff(
        { config: cfg, facts: plan.facts, arns, sections: plan.sections, rerun: 'flyte-aws-setup' },
        { outDir: dir },
        undefined,
      );
      return { dir, outcome };
    };
    const one = await write(parseConfigText('region: eu-west-1\nbucket: acme-flyte-data\ncluster: blue\n'));
    const single = readdirSync(one.dir).filter((f) => !f.startsWith('.'));
    expect(single.length).toBeGreaterThan(0);
    expect(single).not.toContain('blue');

    const two = await write(config());
    expect(
      readdirSync(two.dir)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual(['blue', 'green']);
    const files = (name: string) =>
      readdirSync(join(two.dir, name))
        .filter((f) => !f.startsWith('.'))
        .sort();
    expect(files('blue')).toEqual(single.sort());
    expect(files('green')).toEqual(single.sort());
    const values = single.find((f) => f.endsWith('.yaml'))!;
    expect(readFileSync(join(two.dir, 'green', values), 'utf8')).toContain('cluster green');
    expect(readFileSync(join(two.dir, 'blue', values), 'utf8')).toContain('cluster blue');
    const paths = two.outcome.result!.files.map((f) => f.path);
    const onePaths = one.outcome.result!.files.map((f) => f.path);
    expect(paths).toEqual([...onePaths.map((f) => join('blue', f)), ...onePaths.map((f) => join('green', f))]);
  });

  it("the operator's permissions name every cluster, each in its region", () => {
    const text = JSON.stringify(
      permissionPolicy(
        config('identity: both'),
        { partition: 'aws', accountId: '111122223333', region: 'eu-west-1' },
        'apply',
      ).document,
    );
    for (const arn of [
      'arn:aws:eks:eu-west-1:111122223333:cluster/blue',
      'arn:aws:eks:us-east-2:111122223333:cluster/green',
      'arn:aws:eks:us-east-2:111122223333:podidentityassociation/green/*',
      'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/*',
    ])
      expect(text).toContain(arn);
  });

  it("with vpcDns: fix, the operator may turn DNS on in every cluster's VPC, each in its region", () => {
    const p = permissionPolicy(
      config('vpcDns: fix'),
      { partition: 'aws', accountId: '111122223333', region: 'eu-west-1', vpcId: 'vpc-blue' },
      'apply',
    );
    const modify = p.document.Statement.filter((s) => [s.Action].flat().includes('ec2:ModifyVpcAttribute'));
    // The first cluster's VPC was read; the other's is not known here: every VPC of its region.
    expect(modify.flatMap((s) => [s.Resource].flat())).toEqual([
      'arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-blue',
      'arn:aws:ec2:us-east-2:111122223333:vpc/*',
    ]);
    expect(p.notes.join('\n')).toMatch(/ModifyVpcAttribute is scoped to every VPC of the cluster's region/);
  });

  it('the other clusters as read: their providers and VPCs pinned, and no note of an unknown issuer', () => {
    const pf = {
      partition: 'aws' as const,
      accountId: '111122223333',
      region: 'eu-west-1',
      issuerUrl: BLUE,
      vpcId: 'vpc-blue',
    };
    const unknown = permissionPolicy(config('vpcDns: fix'), pf, 'apply');
    expect(unknown.notes.join('\n')).toMatch(
      /the OIDC issuer of a cluster is not known, so its provider is scoped to oidc\.eks\.us-east-2\.amazonaws\.com\/id\/\*/,
    );
    const p = permissionPolicy(
      config('vpcDns: fix'),
      { ...pf, otherClusters: [{ issuerUrl: GREEN, vpcId: 'vpc-green' }] },
      'apply',
    );
    const resourcesOf = (action: string) =>
      p.document.Statement.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
    expect(resourcesOf('ec2:ModifyVpcAttribute')).toEqual([
      'arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-blue',
      'arn:aws:ec2:us-east-2:111122223333:vpc/vpc-green',
    ]);
    expect(resourcesOf('iam:CreateOpenIDConnectProvider')).toContain(
      'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/GREEN',
    );
    expect(p.notes.join('\n')).not.toMatch(/is not known/);
  });

  it('a first cluster in another region than the run: its ARNs, issuer and VPC in its region', () => {
    const east = parseConfigText(
      'region: eu-west-1\nbucket: acme-flyte-data\nsetup: acme\nvpcDns: fix\ncluster:\n  - { name: east, region: us-east-2 }\n',
    );
    const p = permissionPolicy(
      east,
      { partition: 'aws', accountId: '111122223333', region: 'eu-west-1', vpcId: 'vpc-east' },
      'apply',
    );
    const resourcesOf = (action: string) =>
      p.document.Statement.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
    expect(resourcesOf('ec2:ModifyVpcAttribute')).toEqual(['arn:aws:ec2:us-east-2:111122223333:vpc/vpc-east']);
    expect(resourcesOf('eks:DescribeCluster')).toEqual(['arn:aws:eks:us-east-2:111122223333:cluster/east']);
    expect(resourcesOf('iam:CreateOpenIDConnectProvider')).toEqual([
      'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/*',
    ]);
  });

  it("the plan names every cluster, with its region when it is not the run's", () => {
    const f = facts({ state: 'not-ready', name: 'green', status: 'CREATING', region: 'us-east-2' });
    expect(renderFacts(f).split('\n')[0]).toBe(
      'Account 111122223333 (aws), region eu-west-1, clusters blue (ACTIVE), green in us-east-2 (CREATING)',
    );
    expect(renderFacts({ ...f, clusters: undefined }).split('\n')[0]).toBe(
      'Account 111122223333 (aws), region eu-west-1, cluster blue (ACTIVE)',
    );
  });
});

describe("--prune and a dropped cluster's OIDC provider", () => {
  const GONE = 'https://oidc.eks.us-east-2.amazonaws.com/id/GONE';
  const arnOf = (issuer: string) => `arn:aws:iam::111122223333:oidc-provider/${issuer.slice(8)}`;
  const one = parseConfigText('region: eu-west-1\nbucket: acme-flyte-data\nsetup: acme\ncluster: [blue]\n');
  const blueFacts: Facts = {
    partition: 'aws',
    accountId: '111122223333',
    region: 'eu-west-1',
    offline: false,
    cluster: { state: 'ready', name: 'blue', status: 'ACTIVE', issuerUrl: BLUE },
  };
  const MINE = { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'acme' };

  function account(trustedBy: string[], tags: Record<string, string> = MINE) {
    const aws = mockAws({ region: 'eu-west-1' });
    aws.iam.on(ListOpenIDConnectProvidersCommand).resolves({
      OpenIDConnectProviderList: [{ Arn: arnOf(BLUE) }, { Arn: arnOf(GONE) }],
    });
    aws.iam.on(GetOpenIDConnectProviderCommand).callsFake((input: { OpenIDConnectProviderArn: string }) => ({
      Url: input.OpenIDConnectProviderArn.split('oidc-provider/')[1],
      ClientIDList: ['sts.amazonaws.com'],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }));
    const trust = encodeURIComponent(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Federated: arnOf(GONE) }, Action: 'sts:AssumeRoleWithWebIdentity' },
        ],
      }),
    );
    aws.iam.on(ListRolesCommand).resolves({
      Roles: trustedBy.map((name) => ({
        RoleName: name,
        Arn: `arn:aws:iam::111122223333:role/${name}`,
        Path: '/',
        RoleId: name,
        CreateDate: new Date(),
        AssumeRolePolicyDocument: trust,
      })),
    });
    return aws;
  }

  it("is removed when only the config's roles trust it (their statement goes in the same run)", async () => {
    const aws = account(['flyte-workers-role']);
    const found = await findLeftovers(aws.gateway, one, blueFacts, { prune: true, providers: true, concurrency: 2 });
    expect(found).toEqual([
      expect.objectContaining({
        kind: 'oidc-provider',
        arn: arnOf(GONE),
        action: 'remove',
        steps: [{ op: 'DeleteOpenIDConnectProvider', arn: arnOf(GONE) }],
      }),
    ]);
  });

  it('is kept while a role the config does not name trusts it', async () => {
    const aws = account(['someone-elses-role']);
    const [found] = await findLeftovers(aws.gateway, one, blueFacts, { prune: true, providers: true, concurrency: 2 });
    expect(found).toMatchObject({ kind: 'oidc-provider', action: 'blocked', steps: [] });
    expect(found!.reason).toContain('someone-elses-role');
  });

  it("another setup's provider, a cluster not ready, or no --prune: nothing", async () => {
    const other = account([], { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other' });
    expect(
      await findLeftovers(other.gateway, one, blueFacts, { prune: true, providers: true, concurrency: 2 }),
    ).toEqual([]);
    const aws = account([]);
    const waiting: Facts = { ...blueFacts, cluster: { state: 'missing', name: 'blue' } };
    expect(await findLeftovers(aws.gateway, one, waiting, { prune: true, providers: true, concurrency: 2 })).toEqual(
      [],
    );
    expect(await findLeftovers(aws.gateway, one, blueFacts, { concurrency: 2 })).toEqual([]);
    expect(aws.iam.commandCalls(ListOpenIDConnectProvidersCommand)).toHaveLength(0);
  });
});

describe('destroy with several clusters', () => {
  it('keeps a role a node group of another cluster (in its region) runs with', async () => {
    const m = mockAws({ region: 'eu-west-1' });
    const nodeRole = 'arn:aws:iam::111122223333:role/flyte-eks-node-role';
    m.eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => ({
      cluster: {
        name: input.name,
        status: 'ACTIVE',
        identity: { oidc: { issuer: input.name === 'green' ? GREEN : BLUE } },
      },
    }));
    const regions: string[] = [];
    m.eks.on(ListNodegroupsCommand).callsFake(async (input: { clusterName: string }, getClient) => {
      regions.push(`${input.clusterName}@${await getClient().config.region()}`);
      return { nodegroups: input.clusterName === 'green' ? ['workers'] : [] };
    });
    m.eks.on(DescribeNodegroupCommand).resolves({ nodegroup: { nodeRole } });
    m.iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => {
      if (input.RoleName !== 'flyte-eks-node-role') throw awsError('NoSuchEntity');
      return {
        Role: {
          RoleName: input.RoleName,
          Arn: nodeRole,
          Path: '/',
          RoleId: 'x',
          CreateDate: new Date(),
          AssumeRolePolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}'),
          Tags: [
            { Key: 'managed-by', Value: 'flyte-aws-setup' },
            { Key: 'flyte-aws-setup:setup', Value: 'blue' },
          ],
        },
      };
    });
    m.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    m.iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [] });
    m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
    const s = await readDestroyState(config('oidcProvider: false'), m.gateway);
    expect(regions.sort()).toEqual(['blue@eu-west-1', 'green@us-east-2']);
    expect(s.roles.find((r) => r.name === 'flyte-eks-node-role')!.inUse).toBe(
      'node group(s) workers of the EKS cluster green run with it',
    );
  });
});
