/**
 * The access check without AWS: the identities derived from the config's sections and target, their neighbours,
 * the capabilities, and the matrix and findings from documents handed in (as src/access/read.ts would read them).
 */
import { describe, expect, it } from 'vitest';
import { accessFindings, checkAccess, OTHER_CLUSTER } from '../../src/access/check.js';
import {
  flytePrefixes,
  grantCapabilities,
  neededCapabilities,
  overGrantProbes,
} from '../../src/access/capabilities.js';
import {
  findIdentity,
  flyteIdentities,
  neighboursOf,
  subjectMatches,
  type FlyteIdentity,
} from '../../src/access/identities.js';
import { isWrong } from '../../src/access/matrix.js';
import { renderIdentity } from '../../src/render/access-text.js';
import { plainStyle } from '../../src/render/style.js';
import type { RoleRead, RolePolicy } from '../../src/access/read.js';
import { resolveConfig, type RawConfig } from '../../src/config/schema.js';
import { desiredSections } from '../../src/engine/engine.js';
import type { CurrentOidcProvider, Facts } from '../../src/model.js';
import { bucketPolicyDocument, type PolicyDocument } from '../../src/policy/document.js';
import { grantsPolicyDocument } from '../../src/policy/grants.js';
import { grantsByRole } from '../../src/sections/grantees.js';
import { SIMULATED_SERVICES } from '../../src/policy/simulate.js';
import { ACCOUNT, ISSUER, facts, custom, doc } from '../helpers/access-fixtures.js';

const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.slice(8)}`;
const RAW: RawConfig = {
  region: 'eu-west-1',
  cluster: 'acme-ml',
  bucket: 'acme-flyte-data',
  projectRoles: [{ project: 'fraud', domains: ['development'] }],
};
const config = (over: Partial<RawConfig> = {}) => resolveConfig({ ...RAW, ...over });
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
    const c = config({
      bucketKmsKey: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      grants: [
        { to: 'workers', bucket: 'acme-features', access: 'read-write' },
        { to: 'workers', secret: 'prod/db' },
        { to: 'workers', ecrRepository: 'arn:aws:ecr:eu-west-1:210987654321:repository/base' },
      ],
    });
    const actions = [
      ...neededCapabilities(c, facts),
      ...grantCapabilities(c, facts, 'flyte-workers-role'),
      ...overGrantProbes(c, facts),
    ].map((x) => x.action);
    expect(actions).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'secretsmanager:GetSecretValue', 'ecr:BatchGetImage']),
    );
    for (const a of [...actions, 'sts:AssumeRoleWithWebIdentity', 'sts:AssumeRole', 'sts:TagSession']) {
      expect(SIMULATED_SERVICES).toContain(a.split(':')[0]);
    }
  });
});

// The documents of each role, as the sections write them, with changes.

function rolesOf(
  c: ReturnType<typeof config>,
  change: (
    name: string,
    d: { trust: PolicyDocument; policies: RolePolicy[]; unreadable: string[]; boundary?: RolePolicy },
  ) => void = () => {},
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

  it("verify --as: the other roles whose trust lets the pods in too (the workers role's *:default a project's)", async () => {
    const c = config();
    const roles = rolesOf(c);
    const identities = flyteIdentities(c);
    const report = await checkAccess({ config: c, facts, identities, roles, focus: 'fraud-development/default' });
    const fraud = report.identities.find((i) => i.id === 'fraud-development/default')!;
    expect(fraud.alsoAssumes?.map((a) => a.roleName)).toEqual(['flyte-workers-role']);
    expect(renderIdentity(fraud, plainStyle).join('\n')).toMatch(
      /! may also assume flyte-workers-role: its trust lets these pods in too/,
    );
    // The backend's pods are let in by no other role; nothing is said of the identities not asked about.
    const backend = await checkAccess({
      config: c,
      facts,
      identities,
      roles,
      focus: 'flyte/flyte-backend-flyte-binary',
    });
    expect(backend.identities.find((i) => i.id === 'flyte/flyte-backend-flyte-binary')!.alsoAssumes).toEqual([]);
    expect(backend.identities.find((i) => i.id === 'fraud-development/default')!.alsoAssumes).toBeUndefined();
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

const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab`;
const REPOSITORY = 'arn:aws:ecr:eu-west-1:210987654321:repository/base-images';
const GRANTS: RawConfig['grants'] = [
  { to: 'workers', bucket: 'acme-features', prefix: 'features/', access: 'read-write', kmsKey: OTHER_KEY },
  { to: 'fraud', secret: 'prod/db' },
  { to: ['workers', 'fraud'], ecrRepository: REPOSITORY },
];
const via = { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT };

describe("the bucket's KMS key and the config's grants, as capabilities", () => {
  it('a customer managed key (bucketKmsKey, or read from the bucket): decrypt and generate a data key, through S3', () => {
    const kms = (c: ReturnType<typeof config>, f: Facts) =>
      neededCapabilities(c, f)
        .filter((x) => x.column === 'kms')
        .map((x) => [x.action, x.resource, x.context]);
    const want = [
      ['kms:Decrypt', KEY, via],
      ['kms:GenerateDataKey', KEY, via],
    ];
    expect(kms(config({ bucketKmsKey: KEY }), facts)).toEqual(want);
    expect(kms(config(), { ...facts, bucketEncryption: { kind: 'kms', keyArn: KEY } })).toEqual(want);
    // SSE-S3, the AWS managed key, or nothing known: no KMS need.
    expect(kms(config(), { ...facts, bucketEncryption: { kind: 's3' } })).toEqual([]);
    expect(kms(config(), facts)).toEqual([]);
  });

  it("each grant gives the roles it names its requests: objects under the prefix, the grant's key, a secret, an image", () => {
    const c = config({ grants: GRANTS });
    const of = (role: string) => grantCapabilities(c, facts, role).map((x) => `${x.action} ${x.resource}`);
    expect(of('flyte-workers-role')).toEqual([
      's3:GetObject arn:aws:s3:::acme-features/features/flyte-aws-setup-access-check',
      's3:PutObject arn:aws:s3:::acme-features/features/flyte-aws-setup-access-check',
      `kms:Decrypt ${OTHER_KEY}`,
      `kms:GenerateDataKey ${OTHER_KEY}`,
      `ecr:BatchGetImage ${REPOSITORY}`,
    ]);
    const fraud = [...grantsByRole(c).keys()].find((r) => r !== 'flyte-workers-role')!;
    expect(of(fraud)).toEqual([
      `secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/db-AbC123`,
      `ecr:BatchGetImage ${REPOSITORY}`,
    ]);
    expect(of('flyte-system-role')).toEqual([]);
    // A read grant gets, and decrypts; a name prefix is checked on one secret under it.
    const read = config({
      grants: [
        { to: 'workers', bucket: 'acme-features', kmsKey: OTHER_KEY },
        { to: 'workers', secret: 'prod/*' },
      ],
    });
    expect(grantCapabilities(read, facts, 'flyte-workers-role').map((x) => `${x.action} ${x.resource}`)).toEqual([
      's3:GetObject arn:aws:s3:::acme-features/flyte-aws-setup-access-check',
      `kms:Decrypt ${OTHER_KEY}`,
      `secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/flyte-aws-setup-access-check-AbC123`,
    ]);
  });
});

describe("the matrix with the bucket's KMS key and the grants", () => {
  const keyed: RolePolicy = {
    name: 'flyte-custom-policy',
    arn: `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`,
    document: bucketPolicyDocument('aws', 'acme-flyte-data', KEY),
  };
  /** The boundary an operator might set: S3 only, so the key is refused. */
  const s3Only: RolePolicy = {
    name: 'acme-boundary',
    arn: `arn:aws:iam::${ACCOUNT}:policy/acme-boundary`,
    document: doc([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]),
  };

  it("the tool's own policy with the key: decrypt and generate a data key allowed; a boundary without kms refuses them, naming the identity and kms:Decrypt", async () => {
    const c = config({ bucketKmsKey: KEY });
    const ok = await check(
      c,
      rolesOf(c, (_, d) => (d.policies = [keyed])),
    );
    expect(ok.findings).toEqual([]);
    const workers = ok.report.identities.find((i) => i.id === '*/default')!;
    expect(workers.cells.filter((x) => x.column === 'kms').map((x) => [x.action, x.state])).toEqual([
      ['kms:Decrypt', 'allowed'],
      ['kms:GenerateDataKey', 'allowed'],
    ]);
    // The custom policy without the key (as before the bucket was encrypted): no statement allows it.
    const unkeyed = await check(c, rolesOf(c));
    expect(unkeyed.findings.filter((f) => f.code === 'access-denied').map((f) => f.problem)).toContainEqual(
      expect.stringMatching(/cannot kms:Decrypt with the key .*no statement allows it/),
    );

    const bounded = await check(
      c,
      rolesOf(c, (name, d) => {
        d.policies = [keyed];
        if (name === 'flyte-workers-role') d.boundary = s3Only;
      }),
    );
    const denied = bounded.findings.filter((f) => f.code === 'access-denied');
    // One finding per action refused, on the workers role only (the others have no boundary).
    expect(denied.map((f) => f.resource)).toEqual(['role flyte-workers-role', 'role flyte-workers-role']);
    expect(denied[0]!.problem).toMatch(/^\*\/default .*cannot kms:Decrypt with the key /);
    expect(denied[1]!.problem).toMatch(/^\*\/default .*cannot kms:GenerateDataKey with the key /);
    expect(denied[0]!.problem).toContain(KEY);
    expect(denied[0]!.fix).toContain('allow kms:Decrypt in the permissions boundary acme-boundary');
  });

  it("each grant allowed through the role's grants policy; a grant refused (a Deny, no policy) is access-denied naming the action", async () => {
    const c = config({ grants: GRANTS });
    const byRole = grantsByRole(c);
    const scope = { partition: 'aws' as const, region: 'eu-west-1', accountId: ACCOUNT };
    const withGrants = (name: string, d: { policies: RolePolicy[] }) => {
      const g = byRole.get(name);
      if (g !== undefined) {
        d.policies = [
          custom,
          {
            name: `${name}-grants`,
            arn: `arn:aws:iam::${ACCOUNT}:policy/${name}-grants`,
            document: grantsPolicyDocument(scope, g),
          },
        ];
      }
    };
    const ok = await check(c, rolesOf(c, withGrants));
    expect(ok.findings).toEqual([]);
    const workers = ok.report.identities.find((i) => i.id === '*/default')!;
    expect(workers.cells.filter((x) => x.column === 'grant').every((x) => x.state === 'allowed')).toBe(true);
    expect(workers.cells.filter((x) => x.column === 'grant')).toHaveLength(5);

    // The fraud role without its grants policy, and a Deny on the features prefix for the workers.
    const fraudRole = [...byRole.keys()].find((r) => r !== 'flyte-workers-role')!;
    const broken = await check(
      c,
      rolesOf(c, (name, d) => {
        withGrants(name, d);
        if (name === fraudRole) d.policies = [custom];
        if (name === 'flyte-workers-role') {
          d.policies.push({
            name: 'inline no-features',
            inline: 'no-features',
            document: doc([{ Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::acme-features/*' }]),
          });
        }
      }),
    );
    const denied = broken.findings.filter((f) => f.code === 'access-denied').map((f) => [f.resource, f.problem, f.fix]);
    expect(denied).toHaveLength(3);
    expect(denied[0]![0]).toBe('role flyte-workers-role');
    expect(denied[0]![1]).toMatch(
      /^\*\/default .*cannot s3:PutObject under s3:\/\/acme-features\/features\/ \(a grant of the config\): refused by the Deny statement/,
    );
    expect(denied[1]![0]).toBe(`role ${fraudRole}`);
    expect(denied[1]![1]).toMatch(
      /^fraud-development\/default .*cannot secretsmanager:GetSecretValue on .*secret:prod\/db-AbC123 \(a grant of the config\): no statement allows it/,
    );
    expect(denied[1]![2]).toContain(`${fraudRole}-grants`);
    expect(denied[2]![1]).toMatch(/cannot ecr:BatchGetImage on .*repository\/base-images/);
  });
});
