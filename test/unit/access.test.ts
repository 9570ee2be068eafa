/**
 * The access check without AWS: the identities derived from the config's sections and target, their neighbours,
 * the capabilities, and the matrix and findings from documents handed in (as src/access/read.ts would read them).
 */
import { describe, expect, it } from 'vitest';
import { accessFindings, checkAccess, OTHER_CLUSTER } from '../../src/access/check.js';
import { flytePrefixes, neededCapabilities, overGrantProbes } from '../../src/access/capabilities.js';
import {
  findIdentity,
  flyteIdentities,
  neighboursOf,
  subjectMatches,
  type FlyteIdentity,
} from '../../src/access/identities.js';
import { isWrong } from '../../src/access/matrix.js';
import type { RoleRead, RolePolicy } from '../../src/access/read.js';
import { resolveConfig, type RawConfig } from '../../src/config/schema.js';
import { desiredSections } from '../../src/engine/engine.js';
import type { CurrentOidcProvider, Facts } from '../../src/model.js';
import { bucketPolicyDocument, type PolicyDocument } from '../../src/policy/document.js';
import { SIMULATED_SERVICES } from '../../src/policy/simulate.js';

const ACCOUNT = '123456789012';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.slice(8)}`;
const RAW: RawConfig = {
  region: 'eu-west-1',
  cluster: 'acme-ml',
  bucket: 'acme-flyte-data',
  projectRoles: [{ project: 'fraud', domains: ['development'] }],
};
const config = (over: Partial<RawConfig> = {}) => resolveConfig({ ...RAW, ...over });
const facts: Facts = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  offline: false,
  cluster: { state: 'ready', name: 'acme-ml', status: 'ACTIVE', issuerUrl: ISSUER },
};
const ids = (over: Partial<RawConfig> = {}) => flyteIdentities(config(over)).map((i) => i.id);

describe('the identities, from the sections and the target', () => {
  it('flyte-binary: the backend, the workers (every namespace), each project-domain namespace', () => {
    expect(ids()).toEqual(['flyte/flyte-backend-flyte-binary', '*/default', 'fraud-development/default']);
    const [backend, workers] = flyteIdentities(config());
    expect(backend).toMatchObject({ section: 'systemRole', roleName: 'flyte-system-role', paths: ['irsa'] });
    expect(workers!.pod).toEqual({
      namespace: 'flytesnacks-development',
      serviceAccount: 'default',
      anyNamespace: true,
    });
  });

  it('identity: each way in the config trusts is checked (IRSA, Pod Identity, or both)', () => {
    const paths = (identity: RawConfig['identity']) =>
      flyteIdentities(config({ identity })).map((i) => `${i.id} ${i.paths.join('+')}`);
    expect(paths('irsa')).toContain('fraud-development/default irsa');
    expect(paths('pod-identity')).toEqual([
      'flyte/flyte-backend-flyte-binary pod-identity',
      '*/default pod-identity',
      'fraud-development/default pod-identity',
    ]);
    expect(paths('both')).toContain('flyte/flyte-backend-flyte-binary irsa+pod-identity');
  });

  it('a workers role with a list: the Flyte namespace and each one listed', () => {
    expect(ids({ workersRole: { allNamespaces: false, namespaces: ['ml-dev', 'ml-prod'] }, projectRoles: [] })).toEqual(
      ['flyte/flyte-backend-flyte-binary', 'flyte/default', 'ml-dev/default', 'ml-prod/default'],
    );
  });

  it("flyte-core: each component; Flyte 2: the backend's one service account (its task pods use it)", () => {
    expect(ids({ target: 'flyte-core', projectRoles: [] })).toEqual([
      'flyte/flyteadmin',
      'flyte/flytepropeller',
      'flyte/datacatalog',
      '*/default',
    ]);
    const flyte2 = flyteIdentities(config({ target: 'flyte2', projectRoles: [] }));
    expect(flyte2.map((i) => [i.id, i.who])).toEqual([
      ['flyte/flyte-backend-flyte-binary', 'the Flyte 2 backend and its task pods'],
    ]);
  });

  it("union: the project roles, and Union's role (its trust is Union's: no pod, no assume)", () => {
    const union = flyteIdentities(config({ target: 'union', globalAccess: { role: 'acme-userflyterole' } }));
    expect(union.map((i) => [i.id, i.paths])).toEqual([
      ['fraud-development/default', ['irsa']],
      ['role acme-userflyterole', []],
    ]);
  });

  it('neighbours: another service account, another namespace (unless the trust lets every one in), audience, cluster', () => {
    const [backend, workers, fraud] = flyteIdentities(config());
    expect(neighboursOf(backend!).map((n) => n.what)).toEqual([
      'another service account of flyte: default',
      'flyte-backend-flyte-binary of another namespace: flyte-aws-setup-other',
      'another audience: https://kubernetes.default.svc',
      "another cluster's issuer",
    ]);
    expect(neighboursOf(workers!).map((n) => n.what)).toEqual([
      'another service account of flytesnacks-development: flyte-aws-setup-other',
      'another audience: https://kubernetes.default.svc',
      "another cluster's issuer",
    ]);
    expect(neighboursOf(fraud!)[0]!.serviceAccount).toBe('flyte-aws-setup-other');
    // flyte-core: another component of the namespace is the role's too, so the neighbour is `default`.
    const core = flyteIdentities(config({ target: 'flyte-core', projectRoles: [] }))[0]!;
    expect(neighboursOf(core)[0]!.serviceAccount).toBe('default');
  });

  it('a sub pattern matches as StringLike does', () => {
    expect(subjectMatches('system:serviceaccount:*:default', 'system:serviceaccount:ml:default')).toBe(true);
    expect(subjectMatches('system:serviceaccount:*:default', 'system:serviceaccount:ml:spark')).toBe(false);
    expect(subjectMatches('system:serviceaccount:ml-?:x', 'system:serviceaccount:ml-a:x')).toBe(true);
    expect(subjectMatches('system:serviceaccount:a.b:x', 'system:serviceaccount:aXb:x')).toBe(false);
  });

  it('--as finds an identity, a namespace a `*` trust covers, or Union role by name', () => {
    const list = flyteIdentities(config({ target: 'union', globalAccess: { role: 'acme-userflyterole' } }));
    expect(findIdentity(list, 'fraud-development/default')?.roleName).toBe('flyte-fraud-role');
    expect(findIdentity(list, 'acme-userflyterole')?.id).toBe('role acme-userflyterole');
    expect(findIdentity(list, 'kube-system/default')).toBeUndefined();
    const star = findIdentity(flyteIdentities(config()), 'ml-dev/default');
    expect(star).toMatchObject({ id: 'ml-dev/default', roleName: 'flyte-workers-role', pod: { namespace: 'ml-dev' } });
  });
});

describe('the capabilities, built in one place', () => {
  it("what Flyte needs: list the bucket, get, put and delete under the target's prefixes", () => {
    expect(flytePrefixes('flyte-binary').map((p) => p.prefix)).toEqual(['metadata/', '']);
    expect(flytePrefixes('flyte2').map((p) => p.prefix)).toEqual(['']);
    expect(neededCapabilities(config(), facts).map((c) => `${c.action} ${c.resource}`)).toEqual([
      's3:ListBucket arn:aws:s3:::acme-flyte-data',
      's3:GetObject arn:aws:s3:::acme-flyte-data/metadata/flyte-aws-setup-access-check',
      's3:PutObject arn:aws:s3:::acme-flyte-data/metadata/flyte-aws-setup-access-check',
      's3:DeleteObject arn:aws:s3:::acme-flyte-data/metadata/flyte-aws-setup-access-check',
      's3:GetObject arn:aws:s3:::acme-flyte-data/flyte-aws-setup-access-check',
      's3:PutObject arn:aws:s3:::acme-flyte-data/flyte-aws-setup-access-check',
      's3:DeleteObject arn:aws:s3:::acme-flyte-data/flyte-aws-setup-access-check',
    ]);
  });

  it('every action asked is of a service whose IAM data the build bundles', () => {
    const actions = [...neededCapabilities(config(), facts), ...overGrantProbes(config(), facts)].map((c) => c.action);
    for (const a of [...actions, 'sts:AssumeRoleWithWebIdentity', 'sts:AssumeRole', 'sts:TagSession']) {
      expect(SIMULATED_SERVICES).toContain(a.split(':')[0]);
    }
  });
});

// The documents of each role, as the sections write them, with changes.
const custom: RolePolicy = {
  name: 'flyte-custom-policy',
  arn: `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`,
  document: bucketPolicyDocument('aws', 'acme-flyte-data'),
};
const doc = (statement: PolicyDocument['Statement']): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statement,
});

function rolesOf(
  c: ReturnType<typeof config>,
  change: (name: string, d: { trust: PolicyDocument; policies: RolePolicy[]; unreadable: string[] }) => void = () => {},
): Map<string, RoleRead> {
  const roles = new Map<string, RoleRead>();
  for (const s of desiredSections(c, facts)) {
    for (const r of s.resources) {
      if (r.kind === 'role') {
        const d = { trust: r.trust, policies: [custom], unreadable: [] as string[] };
        change(r.name, d);
        roles.set(r.name, { kind: 'found', documents: { name: r.name, arn: r.arn, ...d } });
      } else if (r.kind === 'attachment') {
        const d = { trust: doc([]), policies: [custom], unreadable: [] as string[] };
        change(r.name, d);
        roles.set(r.name, { kind: 'found', documents: { name: r.name, arn: r.arn, ...d } });
      }
    }
  }
  return roles;
}

async function check(
  c: ReturnType<typeof config>,
  roles: Map<string, RoleRead>,
  identities: FlyteIdentity[] = flyteIdentities(c),
  providers?: Map<string, CurrentOidcProvider | undefined>,
) {
  const report = await checkAccess({ config: c, facts, identities, roles, ...(providers ? { providers } : {}) });
  return {
    report,
    findings: accessFindings(report, { rerun: 'flyte-aws-setup --config c.yaml --yes', roles, identities }),
  };
}

describe('the matrix and its findings', () => {
  it("the tool's own documents: every need allowed, every neighbour and over-grant refused, no finding", async () => {
    const c = config();
    const { report, findings } = await check(c, rolesOf(c));
    expect(findings).toEqual([]);
    for (const i of report.identities) {
      expect([...i.assume, ...i.neighbours, ...i.cells].filter(isWrong)).toEqual([]);
      expect(i.cells).toHaveLength(13);
    }
  });

  it('a trust that lets in every service account of the namespace: access-admits, naming who got in', async () => {
    const c = config();
    const host = ISSUER.slice(8);
    const roles = rolesOf(c, (name, d) => {
      if (name !== 'flyte-system-role') return;
      d.trust = doc([
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com' },
            StringLike: { [`${host}:sub`]: 'system:serviceaccount:flyte:*' },
          },
        },
      ]);
    });
    const { findings } = await check(c, roles);
    expect(findings.map((f) => [f.code, f.severity, f.resource])).toEqual([
      ['access-admits', 'error', 'role flyte-system-role'],
    ]);
    expect(findings[0]!.problem).toContain('its trust lets in another service account of flyte: default');
  });

  it("the cluster's OIDC provider missing or without the audience: the pods cannot assume, whatever the trust says", async () => {
    const c = config();
    const missing = await check(c, rolesOf(c), undefined, new Map([[PROVIDER, undefined]]));
    expect(missing.findings.filter((f) => f.code === 'access-denied')).toHaveLength(3);
    expect(missing.findings[0]!.problem).toContain(`the OIDC provider ${ISSUER.slice(8)} does not exist in IAM`);
    const noAudience = await check(
      c,
      rolesOf(c),
      undefined,
      new Map([[PROVIDER, { kind: 'oidc-provider', arn: PROVIDER, url: ISSUER, clientIds: [], tags: {} }]]),
    );
    expect(noAudience.findings[0]!.problem).toContain('lacks the audience sts.amazonaws.com');
  });

  it('an over-grant through a policy the config lists on purpose is a warning; one attached by hand an error', async () => {
    const readAll: RolePolicy = {
      name: 'read-everything',
      arn: `arn:aws:iam::${ACCOUNT}:policy/read-everything`,
      document: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]),
    };
    const listed = config({
      projectRoles: [{ project: 'fraud', domains: ['development'], extraPolicies: [readAll.arn!] }],
    });
    const withIt = (c: ReturnType<typeof config>) =>
      rolesOf(c, (name, d) => {
        if (name === 'flyte-fraud-role') d.policies.push(readAll);
      });
    const a = await check(listed, withIt(listed));
    expect(a.findings.map((f) => [f.code, f.severity])).toEqual([['over-grant-listed', 'warning']]);
    expect(a.findings[0]!.problem).toBe(
      'fraud-development/default can read any other bucket (s3:GetObject), beyond the Flyte bucket: allowed by read-everything #1',
    );
    const byHand = await check(config(), withIt(config()));
    expect(byHand.findings.map((f) => [f.code, f.severity])).toEqual([['over-grant', 'error']]);
  });

  it("Union's role: its permissions are checked, an over-grant on it is a warning, its assume is not checked", async () => {
    const c = config({ target: 'union', globalAccess: { role: 'acme-userflyterole' } });
    const roles = rolesOf(c, (name, d) => {
      if (name === 'acme-userflyterole') {
        d.policies.push({
          name: 'union-own',
          arn: `arn:aws:iam::${ACCOUNT}:policy/union-own`,
          document: doc([{ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }]),
        });
      }
    });
    const { report, findings } = await check(c, roles);
    const union = report.identities.find((i) => i.id === 'role acme-userflyterole')!;
    expect(union.assume).toEqual([]);
    expect(union.cells.filter((x) => x.want === 'allowed').every((x) => x.state === 'allowed')).toBe(true);
    expect(findings.map((f) => [f.code, f.severity, f.section])).toEqual([
      ['over-grant-non-irsa', 'warning', 'globalAccess'],
    ]);
  });

  it('a broad grant the plan reports already (AmazonS3FullAccess) is not reported again; the matrix shows its reach', async () => {
    const c = config();
    const roles = rolesOf(c, (name, d) => {
      if (name === 'flyte-workers-role') {
        d.policies.push({
          name: 'AmazonS3FullAccess',
          arn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess',
          document: doc([{ Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }]),
        });
      }
    });
    const { report, findings } = await check(c, roles);
    expect(findings).toEqual([]);
    const workers = report.identities.find((i) => i.id === '*/default')!;
    expect(workers.cells.filter(isWrong).map((x) => x.capability)).toEqual([
      'read another bucket',
      'write another bucket',
      'bucket settings',
    ]);
  });

  it('a document that could not be read: the role is not checked (never a pass), and said so', async () => {
    const c = config();
    const roles = rolesOf(c, (name, d) => {
      if (name === 'flyte-fraud-role') d.unreadable.push('the policy arn:aws:iam::aws:policy/X (iam:GetPolicy denied)');
    });
    const { report, findings } = await check(c, roles);
    const fraud = report.identities.find((i) => i.roleName === 'flyte-fraud-role')!;
    expect(fraud.cells.every((x) => x.state === 'not-checked')).toBe(true);
    expect(findings.map((f) => [f.code, f.severity])).toEqual([['unchecked', 'warning']]);
    expect(findings[0]!.problem).toContain('iam:GetPolicy denied');
  });

  it('a role that does not exist: its identities are not checked', async () => {
    const c = config();
    const roles = rolesOf(c);
    roles.set('flyte-fraud-role', { kind: 'missing' });
    const { report } = await check(c, roles);
    expect(report.identities.find((i) => i.roleName === 'flyte-fraud-role')!.notChecked).toBe(
      'the role flyte-fraud-role does not exist',
    );
  });

  it('EKS Pod Identity: assumed from the cluster, refused from another; an IRSA trust refuses it', async () => {
    const c = config();
    const CLUSTER = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-ml`;
    const viaPods = flyteIdentities(c).map((i) => (i.pod ? { ...i, paths: ['pod-identity' as const] } : i));
    const podTrust = doc([
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': CLUSTER } },
      },
    ]);
    const ok = await check(
      c,
      rolesOf(c, (_n, d) => (d.trust = podTrust)),
      viaPods,
    );
    expect(ok.findings).toEqual([]);
    const backend = ok.report.identities[0]!;
    expect(backend.assume).toEqual([
      expect.objectContaining({ via: 'pod-identity', state: 'allowed', cluster: CLUSTER, account: ACCOUNT }),
    ]);
    expect(backend.neighbours).toEqual([
      expect.objectContaining({
        via: 'pod-identity',
        state: 'denied',
        who: `a pod of another cluster: ${OTHER_CLUSTER}`,
      }),
    ]);
    // The roles as IRSA trusts them: Pod Identity is refused, and the finding says how it was asked.
    const irsaOnly = await check(c, rolesOf(c), viaPods);
    expect(irsaOnly.findings[0]).toMatchObject({ code: 'access-denied', resource: 'role flyte-system-role' });
    expect(irsaOnly.findings[0]!.problem).toContain('EKS Pod Identity: sts:AssumeRole and sts:TagSession');
  });
});
