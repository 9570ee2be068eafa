/**
 * `identity: irsa | pod-identity | both`: the trust documents of the roles pods assume, the OIDC provider it needs or
 * not, what the broadening check and the trust audit make of a Pod Identity statement.
 */
import { describe, expect, it } from 'vitest';
import { auditTrust } from '../../src/audit/trust.js';
import type { CurrentResource, CurrentRole, DesiredResource, DesiredRole } from '../../src/model.js';
import { buildPlan, type DesiredSection } from '../../src/engine/engine.js';
import { dropsIrsa, planRole, resourceKey } from '../../src/engine/plan.js';
import { sectionById } from '../../src/sections/derived.js';
import { broadeningReasons } from '../../src/policy/broadening.js';
import {
  clustersThatFit,
  isPodIdentityStatement,
  podIdentityTrustStatement,
  serviceAccountTrustPolicy,
  type PolicyDocument,
} from '../../src/policy/document.js';
import { sectionEnabled, sectionSkipReason } from '../../src/sections/derived.js';
import { projectRoles } from '../../src/sections/project-roles.js';
import { systemRole } from '../../src/sections/system-role.js';
import { workersRole } from '../../src/sections/workers-role.js';
import { estimatedTrustSize, trustTooLong } from '../../src/sections/section.js';
import { ACCOUNT, AWS, PARTITION_CASES, context, irsaTrust, loadConfig, loaderProblems } from './sections/fixtures.js';

const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme`;
const POD_STATEMENT = {
  Effect: 'Allow',
  Principal: { Service: 'pods.eks.amazonaws.com' },
  Action: ['sts:AssumeRole', 'sts:TagSession'],
  Condition: {
    StringEquals: { 'aws:SourceAccount': ACCOUNT },
    ArnEquals: { 'aws:SourceArn': CLUSTER_ARN },
  },
};
const BACKEND = 'system:serviceaccount:flyte:flyte-backend-flyte-binary';

function roleOf(yaml: string, section = systemRole, partition = AWS): DesiredRole {
  return section.desired(context(loadConfig(yaml), { partition }))[0] as DesiredRole;
}

describe('identity in the config', () => {
  it('defaults to irsa, takes pod-identity and both, and refuses anything else at its key', () => {
    expect(loadConfig().identity).toBe('irsa');
    expect(loadConfig('identity: pod-identity\n').identity).toBe('pod-identity');
    expect(loadConfig('identity: both\n').identity).toBe('both');
    const problems = loaderProblems('identity: podidentity\n');
    expect(problems.map((p) => p.path)).toEqual([['identity']]);
  });
});

describe('the trust of the roles pods assume', () => {
  it('irsa: the IRSA statement only, as before', () => {
    expect(roleOf('').trust).toEqual(irsaTrust(AWS, BACKEND, 'StringEquals'));
  });

  it("pod-identity: pods.eks.amazonaws.com, AssumeRole and TagSession, bounded to the account and the cluster's ARN", () => {
    const trust = roleOf('identity: pod-identity\n').trust;
    expect(trust).toEqual({ Version: '2012-10-17', Statement: [POD_STATEMENT] });
  });

  it('both: the IRSA statement, then the Pod Identity one', () => {
    const trust = roleOf('identity: both\n').trust;
    expect(trust.Statement).toEqual([...irsaTrust(AWS, BACKEND, 'StringEquals').Statement, POD_STATEMENT]);
  });

  it.each(PARTITION_CASES.map((p) => [p.partition, p] as const))(
    "%s: the cluster's ARN is in the account's partition and region",
    (_name, p) => {
      const trust = roleOf('identity: pod-identity\n', workersRole, p).trust;
      expect(trust.Statement[0]!.Condition!.ArnEquals).toEqual({
        'aws:SourceArn': `arn:${p.partition}:eks:${p.region}:${ACCOUNT}:cluster/acme`,
      });
    },
  );

  it('every role section follows it: backend, workers and project roles', () => {
    const yaml = 'identity: pod-identity\nprojectRoles: [{ project: fraud }]\n';
    for (const s of [systemRole, workersRole, projectRoles]) {
      const role = roleOf(yaml, s);
      expect(role.trust.Statement.every(isPodIdentityStatement), s.id).toBe(true);
    }
  });

  it('serviceAccountTrustPolicy refuses a side it is not given, and no cluster', () => {
    const pod = { accountId: ACCOUNT, clusterArn: CLUSTER_ARN };
    expect(() => serviceAccountTrustPolicy({ mode: 'both', clusters: [{ pod }], subjects: [BACKEND] })).toThrow(
      /IRSA needs the issuer/,
    );
    expect(() => serviceAccountTrustPolicy({ mode: 'pod-identity', clusters: [{}], subjects: [] })).toThrow(
      /Pod Identity needs the cluster/,
    );
    expect(() => serviceAccountTrustPolicy({ mode: 'irsa', clusters: [], subjects: [BACKEND] })).toThrow(/no cluster/);
  });

  it('the size estimate counts the statements the mode writes', () => {
    const subjects = [BACKEND];
    const irsa = estimatedTrustSize(loadConfig(), subjects);
    const pod = estimatedTrustSize(loadConfig('identity: pod-identity\n'), subjects);
    const both = estimatedTrustSize(loadConfig('identity: both\n'), subjects);
    expect(both).toBeGreaterThan(irsa);
    expect(both).toBeGreaterThan(pod);
    // The two statements and the separating comma, in one document.
    const envelope = JSON.stringify({ Version: '2012-10-17', Statement: [] }).length;
    expect(both).toBe(irsa + pod - envelope + 1);
  });

  it("the workers role's size rule counts the Pod Identity statement with both", () => {
    // Namespaces that fit under irsa alone, but not once the Pod Identity statement is added.
    const namespaces = (n: number) => Array.from({ length: n }, (_, i) => `project-${i}-development`).join(', ');
    let n = 1;
    while (loaderProblems(`workersRole: { allNamespaces: false, namespaces: [${namespaces(n + 1)}] }\n`).length === 0)
      n++;
    const yaml = `workersRole: { allNamespaces: false, namespaces: [${namespaces(n)}] }\n`;
    expect(loaderProblems(yaml)).toEqual([]);
    expect(loaderProblems(`identity: both\n${yaml}`).map((p) => p.path)).toEqual([['workersRole', 'namespaces']]);
  });
});

describe('the OIDC provider with each mode', () => {
  it('is on with irsa and both, off with pod-identity, which says why', () => {
    expect(sectionEnabled(loadConfig(), 'oidcProvider')).toBe(true);
    expect(sectionEnabled(loadConfig('identity: both\n'), 'oidcProvider')).toBe(true);
    const pod = loadConfig('identity: pod-identity\n');
    expect(sectionEnabled(pod, 'oidcProvider')).toBe(false);
    expect(sectionSkipReason(pod, 'oidcProvider')).toMatch(/^identity: pod-identity: .*pods\.eks\.amazonaws\.com/);
    expect(sectionSkipReason(loadConfig('oidcProvider: false\n'), 'oidcProvider')).toBeUndefined();
  });
});

describe('broadening: a Pod Identity statement', () => {
  const trust = (...statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements }) as PolicyDocument;
  const unbounded = { ...POD_STATEMENT, Condition: undefined };

  it('a new bounded one is not broad in itself', () => {
    expect(broadeningReasons(undefined, trust(POD_STATEMENT))).toEqual([]);
  });

  it('one without aws:SourceArn is broad, and says whether the account is bounded', () => {
    expect(broadeningReasons(undefined, trust(unbounded))).toEqual([
      'EKS Pod Identity of any cluster of any account (no aws:SourceArn or aws:SourceAccount condition)',
    ]);
    const accountOnly = { ...POD_STATEMENT, Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } };
    expect(broadeningReasons(undefined, trust(accountOnly))).toEqual([
      "EKS Pod Identity of any of the account's clusters (no aws:SourceArn condition)",
    ]);
  });

  it('adding it to an IRSA trust (irsa to both) lets in more: the cluster named', () => {
    const irsa = irsaTrust(AWS, BACKEND, 'StringEquals') as PolicyDocument;
    const both = trust(...irsa.Statement, POD_STATEMENT);
    expect(broadeningReasons(irsa, both)).toEqual([`lets in more: EKS Pod Identity of ${CLUSTER_ARN}`]);
    // The other way (both to irsa) takes something away: not broadening.
    expect(broadeningReasons(both, irsa)).toEqual([]);
  });

  it('dropping its bounds, or pointing it at another cluster, lets in more', () => {
    expect(broadeningReasons(trust(POD_STATEMENT), trust(unbounded)).length).toBeGreaterThan(0);
    const other = podIdentityTrustStatement({ accountId: ACCOUNT, clusterArn: `${CLUSTER_ARN}-blue` });
    expect(broadeningReasons(trust(POD_STATEMENT), trust(other))).toEqual([
      `lets in more: EKS Pod Identity of ${CLUSTER_ARN}-blue`,
    ]);
  });
});

describe('the trust audit of a Pod Identity statement', () => {
  const audit = (doc: PolicyDocument) =>
    auditTrust({
      section: 'systemRole',
      roleName: 'flyte-system-role',
      trust: doc,
      issuerHost: AWS.host,
      providerArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${AWS.host}`,
      clusterArn: CLUSTER_ARN,
      providers: new Map(),
      createsProvider: true,
      rerun: 'flyte-aws-setup --yes',
    });
  const doc = (s: object) => ({ Version: '2012-10-17', Statement: [s] }) as PolicyDocument;

  it('as the tool writes it: no finding (and none of the IRSA checks, which are not about it)', () => {
    expect(audit(doc(POD_STATEMENT))).toEqual([]);
  });

  it('without aws:SourceArn: pod-trust-unbounded, with the fix', () => {
    const found = audit(doc({ ...POD_STATEMENT, Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }));
    expect(found.map((f) => [f.code, f.severity])).toEqual([['pod-trust-unbounded', 'error']]);
    expect(found[0]!.problem).toContain('any cluster of the account');
    expect(found[0]!.fix).toContain(`aws:SourceArn = ${CLUSTER_ARN}`);
    const none = audit(doc({ ...POD_STATEMENT, Condition: undefined }));
    expect(none[0]!.problem).toContain('(nor aws:SourceAccount)');
  });

  it("bounded to another cluster: pod-trust-other-cluster; a pattern that matches the cluster's ARN is fine", () => {
    const other = podIdentityTrustStatement({ accountId: ACCOUNT, clusterArn: `${CLUSTER_ARN}-old` });
    expect(audit(doc(other)).map((f) => f.code)).toEqual(['pod-trust-other-cluster']);
    const pattern = {
      ...POD_STATEMENT,
      Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:eks:*:${ACCOUNT}:cluster/*` } },
    };
    expect(audit(doc(pattern))).toEqual([]);
  });
});

describe('several clusters: the trust documents and their size', () => {
  const blue = {
    irsa: {
      providerArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BLUE`,
      issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/BLUE',
    },
    pod: { accountId: ACCOUNT, clusterArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/blue` },
  };
  const green = {
    irsa: {
      providerArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/GREEN`,
      issuerUrl: 'https://oidc.eks.us-east-2.amazonaws.com/id/GREEN',
    },
    pod: { accountId: ACCOUNT, clusterArn: `arn:aws:eks:us-east-2:${ACCOUNT}:cluster/green` },
  };

  it("IRSA: one statement per cluster's provider, its own condition keys, the same subjects", () => {
    const doc = serviceAccountTrustPolicy({ mode: 'irsa', clusters: [blue, green], subjects: [BACKEND] });
    expect(doc.Statement.map((s) => s.Principal)).toEqual([
      { Federated: blue.irsa.providerArn },
      { Federated: green.irsa.providerArn },
    ]);
    expect(Object.keys(doc.Statement[1]!.Condition!.StringEquals!)).toEqual([
      'oidc.eks.us-east-2.amazonaws.com/id/GREEN:aud',
      'oidc.eks.us-east-2.amazonaws.com/id/GREEN:sub',
    ]);
    expect(doc.Statement.map((s) => Object.values(s.Condition!.StringEquals!)[1])).toEqual([BACKEND, BACKEND]);
  });

  it('both: the IRSA statements, then a Pod Identity statement bounded to each cluster', () => {
    const doc = serviceAccountTrustPolicy({ mode: 'both', clusters: [blue, green], subjects: [BACKEND] });
    expect(doc.Statement.map((s) => Object.keys(s.Principal as object)[0])).toEqual([
      'Federated',
      'Federated',
      'Service',
      'Service',
    ]);
    expect(doc.Statement.slice(2).map((s) => s.Condition!.ArnEquals)).toEqual([
      { 'aws:SourceArn': blue.pod.clusterArn },
      { 'aws:SourceArn': green.pod.clusterArn },
    ]);
  });

  it('adding a cluster is broadening (its provider named); removing one is narrowing', () => {
    const one = serviceAccountTrustPolicy({ mode: 'irsa', clusters: [blue], subjects: [BACKEND] });
    const two = serviceAccountTrustPolicy({ mode: 'irsa', clusters: [blue, green], subjects: [BACKEND] });
    // The new statement's subjects are let in through another provider.
    expect(broadeningReasons(one, two)).toEqual([`lets in more: ${BACKEND}`]);
    expect(broadeningReasons(two, one)).toEqual([]);
  });

  it('the size estimate counts every cluster; the advice names the clusters to drop, or the quota', () => {
    const config = loadConfig('identity: both\n');
    const one = estimatedTrustSize(config, [BACKEND], 1);
    expect(estimatedTrustSize(config, [BACKEND], 3)).toBeGreaterThan(2 * one);
    // Enough subjects that two clusters fit and three do not.
    const many = (n: number) => Array.from({ length: n }, (_, i) => `system:serviceaccount:project-${i}-dev:default`);
    let n = 1;
    while (estimatedTrustSize(config, many(n + 1), 2) <= 2048) n++;
    const subjects = many(n);
    expect(estimatedTrustSize(config, subjects, 2)).toBeLessThanOrEqual(2048);
    expect(trustTooLong(config, subjects, ['blue', 'green'], 'Trust fewer namespaces')).toBeUndefined();
    const advice = trustTooLong(config, subjects, ['blue', 'green', 'canary'], 'Trust fewer namespaces')!;
    expect(advice).toMatch(
      /^the trust policy would be about \d+ characters with 3 clusters; IAM allows 2048 by default/,
    );
    expect(advice).toContain('it fits with blue, green: drop canary from this config');
    expect(advice).toContain(
      'Trust fewer namespaces, or have the "Role trust policy length" quota raised (up to 4,096)',
    );
    // One cluster alone over the limit: no cluster to drop, only fewer namespaces or the quota.
    const alone = trustTooLong(config, many(n * 6), ['blue'], 'Trust fewer namespaces')!;
    expect(alone).not.toContain('drop');
    expect(alone).toContain('quota raised');
  });

  it('clustersThatFit: all, some or none', () => {
    const size = (n: number) => 100 + 1000 * n;
    expect(clustersThatFit(1, size)).toEqual({ size: 1100, fit: 1 });
    expect(clustersThatFit(3, size)).toEqual({ size: 3100, fit: 1 });
    expect(clustersThatFit(2, (n) => 3000 * n)).toEqual({ size: 6000, fit: 0 });
  });
});

describe("the roles' descriptions say how pods assume them", () => {
  it.each([
    ['', 'Flyte backend (IRSA), managed by flyte-aws-setup'],
    ['identity: pod-identity\n', 'Flyte backend (Pod Identity), managed by flyte-aws-setup'],
    ['identity: both\n', 'Flyte backend (IRSA, Pod Identity), managed by flyte-aws-setup'],
  ])('%j', (yaml, description) => {
    expect(roleOf(yaml).description).toBe(description);
  });
});

describe('irsa to pod-identity on roles that exist', () => {
  const current = (trust: PolicyDocument): CurrentRole => ({
    kind: 'role',
    name: 'flyte-system-role',
    arn: `arn:aws:iam::${ACCOUNT}:role/flyte-system-role`,
    path: '/',
    trust,
    attached: [],
    tags: { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'acme' },
  });

  it("the plan warns that the role's IRSA trust goes before Flyte is upgraded; through both, it does not", () => {
    const irsa = roleOf('');
    const plan = planRole(roleOf('identity: pod-identity\n'), current(irsa.trust));
    expect(plan.notes.map((n) => `${n.level} ${n.message}`).join('\n')).toMatch(
      /^warn its IRSA trust goes in this run, for Pod Identity: .*apply identity: both first/m,
    );
    const both = planRole(roleOf('identity: both\n'), current(irsa.trust));
    expect(both.notes.map((n) => n.message).join('\n')).not.toMatch(/IRSA trust goes/);
    expect(dropsIrsa(irsa.trust, roleOf('identity: both\n').trust)).toBe(false);
  });

  it('when the associations cannot be made, a role whose trust would lose IRSA is held, blocked, saying why', () => {
    const ctx = context(loadConfig('identity: pod-identity\n'));
    const systemDesired = systemRole.desired(ctx)[0] as DesiredRole;
    const association = {
      kind: 'pod-identity-association',
      name: 'flyte/flyte-backend-flyte-binary',
      arn: `${CLUSTER_ARN}/flyte/flyte-backend-flyte-binary`,
      cluster: 'acme',
      namespace: 'flyte',
      serviceAccount: 'flyte-backend-flyte-binary',
      roleArn: systemDesired.arn,
      tags: systemDesired.tags,
    } satisfies DesiredResource;
    const sections: DesiredSection[] = [
      { def: systemRole, enabled: true, resources: [systemDesired] },
      { def: sectionById('podIdentity'), enabled: true, resources: [association] },
    ];
    // Another setup's association for the same service account: the section cannot be done.
    const others = {
      ...association,
      associationId: 'a-1',
      tags: { ...association.tags, 'flyte-aws-setup:setup': 'other' },
    };
    const state = new Map<string, CurrentResource | undefined>([
      [resourceKey(systemDesired), current(roleOf('').trust)],
      [resourceKey(association), others],
    ]);
    const plan = buildPlan(ctx.facts, sections, state);
    expect(plan.sections.find((s) => s.id === 'podIdentity')!.status).toBe('blocked');
    const system = plan.sections.find((s) => s.id === 'systemRole')!;
    expect(system.status).toBe('blocked');
    expect(system.resources[0]!.steps).toEqual([]);
    expect(system.resources[0]!.blocked).toMatch(/would lose IRSA for Pod Identity, but the pod identity associations/);

    // The associations can be made: the role's trust changes as planned.
    const free = buildPlan(ctx.facts, sections, new Map([[resourceKey(systemDesired), current(roleOf('').trust)]]));
    expect(free.sections.find((s) => s.id === 'systemRole')!.status).toBe('update');
  });
});
