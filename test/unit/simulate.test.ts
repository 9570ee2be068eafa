/**
 * The IAM evaluator (src/policy/simulate.ts) against hand-checked answers: what IAM decides for IRSA and Pod
 * Identity trusts, and for a role's policies capped by its boundary, including the mistakes of the documents that
 * people copy (aud under StringLike, the us-east-1 issuer, a wildcard under StringEquals).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketPolicyDocument, irsaTrustPolicy, type PolicyDocument } from '../../src/policy/document.js';
import {
  evaluateAction,
  evaluatePodIdentityAssume,
  evaluateWebIdentityAssume,
  loadEvaluator,
  sessionArn,
  sessionContext,
  type RolePolicies,
  type WebIdentityToken,
  warmEvaluator,
} from '../../src/policy/simulate.js';

// The evaluator is a devDependency here; the CLI loads it from where it is installed (src/policy/simulate.ts).
beforeAll(async () => {
  expect(await loadEvaluator()).toBe(true);
});

const ACCOUNT = '123456789012';
const ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
const OTHER_ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/FEDCBA9876543210FEDCBA9876543210';
const US_EAST_1 = 'oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
const provider = (host: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`;
const ROLE = { arn: `arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`, accountId: ACCOUNT };
const sa = (ns: string, name: string) => `system:serviceaccount:${ns}:${name}`;

function token(sub: string, over: Partial<WebIdentityToken> = {}): WebIdentityToken {
  return { providerArn: provider(ISSUER), issuerHost: ISSUER, sub, aud: 'sts.amazonaws.com', ...over };
}

const otherCluster = (sub: string) => token(sub, { providerArn: provider(OTHER_ISSUER), issuerHost: OTHER_ISSUER });

function trust(condition: Record<string, Record<string, string | string[]>>, host = ISSUER): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider(host) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

describe('IRSA trust: sts:AssumeRoleWithWebIdentity with the issuer keys (which hold a "/")', () => {
  const backend = irsaTrustPolicy({
    providerArn: provider(ISSUER),
    issuerUrl: `https://${ISSUER}`,
    subjects: [sa('flyte', 'flyte-backend')],
  });

  it("lets in the tool's own subject, and names the statement that did", () => {
    const d = evaluateWebIdentityAssume(backend, ROLE, token(sa('flyte', 'flyte-backend')));
    expect(d).toEqual({
      allowed: true,
      reason: 'allow',
      statements: [{ policy: 'trust', statement: '#1', effect: 'Allow' }],
    });
  });

  it.each([
    ['another service account of the namespace', token(sa('flyte', 'default'))],
    ['the service account in another namespace', token(sa('other', 'flyte-backend'))],
    ['another audience', token(sa('flyte', 'flyte-backend'), { aud: 'sts.amazonaws.com.evil' })],
    ["another cluster's issuer", otherCluster(sa('flyte', 'flyte-backend'))],
  ])('refuses %s', (_what, t) => {
    expect(evaluateWebIdentityAssume(backend, ROLE, t)).toEqual({ allowed: false, reason: 'no-allow', statements: [] });
  });

  it("refuses the right subject when the provider is the cluster's but the keys are another issuer's", () => {
    const crossed = trust({ StringEquals: { [`${OTHER_ISSUER}:sub`]: sa('flyte', 'flyte-backend') } });
    expect(evaluateWebIdentityAssume(crossed, ROLE, token(sa('flyte', 'flyte-backend'))).allowed).toBe(false);
  });

  it('the us-east-1 mix-up of the documents: keys of the us-east-1 issuer never hold for a eu-west-1 token', () => {
    const mixed = trust({
      StringEquals: { [`${US_EAST_1}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: sa('flyte', 'flyte-backend') },
    });
    expect(evaluateWebIdentityAssume(mixed, ROLE, token(sa('flyte', 'flyte-backend'))).reason).toBe('no-allow');
  });

  it('aud under StringLike (the guide moves it there with sub): sts.amazonaws.com still holds, another does not', () => {
    const like = trust({
      StringLike: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: sa('*', 'default') },
    });
    expect(evaluateWebIdentityAssume(like, ROLE, token(sa('ml-development', 'default'))).allowed).toBe(true);
    expect(evaluateWebIdentityAssume(like, ROLE, token(sa('ml-development', 'default'), { aud: 'x' })).allowed).toBe(
      false,
    );
  });

  it('a wildcard subject under StringLike lets in every namespace, but only that service account', () => {
    const workers = irsaTrustPolicy({
      providerArn: provider(ISSUER),
      issuerUrl: `https://${ISSUER}`,
      subjects: [sa('*', 'default')],
    });
    expect(evaluateWebIdentityAssume(workers, ROLE, token(sa('ml-development', 'default'))).allowed).toBe(true);
    expect(evaluateWebIdentityAssume(workers, ROLE, token(sa('kube-system', 'default'))).allowed).toBe(true);
    expect(evaluateWebIdentityAssume(workers, ROLE, token(sa('ml-development', 'spark'))).allowed).toBe(false);
  });

  it('a wildcard under StringEquals compares literally: it never matches a real service account', () => {
    const literal = trust({
      StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: sa('*', 'default') },
    });
    expect(evaluateWebIdentityAssume(literal, ROLE, token(sa('ml-development', 'default'))).allowed).toBe(false);
    // ... only the literal string, which no pod has.
    expect(evaluateWebIdentityAssume(literal, ROLE, token(sa('*', 'default'))).allowed).toBe(true);
  });

  it('no sub condition: any service account of the cluster gets in', () => {
    const open = trust({ StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' } });
    expect(evaluateWebIdentityAssume(open, ROLE, token(sa('anything', 'anyone'))).allowed).toBe(true);
  });

  it('condition keys are compared without case, as IAM does', () => {
    const upper = trust({
      StringEquals: {
        [`${ISSUER.toUpperCase()}:AUD`]: 'sts.amazonaws.com',
        [`${ISSUER}:Sub`]: sa('flyte', 'flyte-backend'),
      },
    });
    expect(evaluateWebIdentityAssume(upper, ROLE, token(sa('flyte', 'flyte-backend'))).allowed).toBe(true);
  });

  it('an explicit Deny wins, and is named by its Sid', () => {
    const doc = irsaTrustPolicy({
      providerArn: provider(ISSUER),
      issuerUrl: `https://${ISSUER}`,
      subjects: [sa('*', 'default')],
    });
    doc.Statement.push({
      Sid: 'NotKubeSystem',
      Effect: 'Deny',
      Principal: { Federated: provider(ISSUER) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { [`${ISSUER}:sub`]: sa('kube-system', '*') } },
    });
    expect(evaluateWebIdentityAssume(doc, ROLE, token(sa('kube-system', 'default')))).toEqual({
      allowed: false,
      reason: 'explicit-deny',
      statements: [{ policy: 'trust', statement: 'NotKubeSystem', effect: 'Deny' }],
    });
    expect(evaluateWebIdentityAssume(doc, ROLE, token(sa('ml-development', 'default'))).allowed).toBe(true);
  });

  it('with one statement per cluster, each lets in its own cluster and names which', () => {
    const two: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [ISSUER, OTHER_ISSUER].map((host, i) => ({
        Sid: `Cluster${i + 1}`,
        Effect: 'Allow' as const,
        Principal: { Federated: provider(host) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com', [`${host}:sub`]: sa('flyte', 'flyte-backend') },
        },
      })),
    };
    expect(evaluateWebIdentityAssume(two, ROLE, otherCluster(sa('flyte', 'flyte-backend'))).statements).toEqual([
      { policy: 'trust', statement: 'Cluster2', effect: 'Allow' },
    ]);
  });

  it('a trust of another service (the node role) does not let a pod in', () => {
    const ec2: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    };
    expect(evaluateWebIdentityAssume(ec2, ROLE, token(sa('flyte', 'flyte-backend'))).allowed).toBe(false);
  });

  it('a document IAM would refuse is not evaluated: the decision says so', () => {
    const bad = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity' }] };
    const d = evaluateWebIdentityAssume(bad as PolicyDocument, ROLE, token(sa('flyte', 'flyte-backend')));
    expect(d.reason).toBe('invalid');
    expect(d.detail).toMatch(/^trust policy: /);
  });
});

describe('Pod Identity trust: sts:AssumeRole and sts:TagSession from pods.eks.amazonaws.com', () => {
  const CLUSTER = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-ml`;
  const podTrust = (actions: string[], condition?: PolicyDocument['Statement'][number]['Condition']) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow' as const,
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: actions,
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
  const bounded = podTrust(['sts:AssumeRole', 'sts:TagSession'], {
    StringEquals: { 'aws:SourceAccount': ACCOUNT },
    ArnEquals: { 'aws:SourceArn': CLUSTER },
  });
  const request = { accountId: ACCOUNT, clusterArn: CLUSTER, namespace: 'flyte', serviceAccount: 'flyte-backend' };

  it('lets the cluster in when both actions are allowed, bounded to the account and the cluster', () => {
    expect(evaluatePodIdentityAssume(bounded, ROLE, request)).toEqual({
      allowed: true,
      reason: 'allow',
      statements: [{ policy: 'trust', statement: '#1', effect: 'Allow' }],
    });
  });

  it('refuses another cluster and another account', () => {
    const other = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/other`;
    expect(evaluatePodIdentityAssume(bounded, ROLE, { ...request, clusterArn: other }).allowed).toBe(false);
    expect(evaluatePodIdentityAssume(bounded, ROLE, { ...request, accountId: '210987654321' }).allowed).toBe(false);
  });

  it('refuses when the trust allows sts:AssumeRole without sts:TagSession, and says which is missing', () => {
    const d = evaluatePodIdentityAssume(podTrust(['sts:AssumeRole']), ROLE, request);
    expect(d).toMatchObject({ allowed: false, reason: 'no-allow', detail: 'sts:TagSession is not allowed' });
  });

  it("evaluates the pod's session tags: a trust bounded to one namespace refuses another", () => {
    const ns = podTrust(['sts:AssumeRole', 'sts:TagSession'], {
      StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'flyte' },
    });
    expect(evaluatePodIdentityAssume(ns, ROLE, request).allowed).toBe(true);
    expect(evaluatePodIdentityAssume(ns, ROLE, { ...request, namespace: 'other' }).allowed).toBe(false);
  });

  it('an IRSA trust does not let Pod Identity in', () => {
    const irsa = irsaTrustPolicy({
      providerArn: provider(ISSUER),
      issuerUrl: `https://${ISSUER}`,
      subjects: [sa('flyte', 'flyte-backend')],
    });
    expect(evaluatePodIdentityAssume(irsa, ROLE, request).allowed).toBe(false);
  });
});

describe("a role's permissions: its policies capped by its boundary", () => {
  const BUCKET = 'acme-flyte-data';
  const object = (key: string, bucket = BUCKET) => `arn:aws:s3:::${bucket}/${key}`;
  const custom = { name: 'flyte-s3-policy', document: bucketPolicyDocument('aws', BUCKET) };
  const role = (over: Partial<RolePolicies> = {}): RolePolicies => ({
    accountId: ACCOUNT,
    roleArn: ROLE.arn,
    policies: [custom],
    ...over,
  });
  const S3_READ_ONLY: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'],
        Resource: '*',
      },
    ],
  };

  it('the custom policy allows what Flyte does on its bucket, and names its statement', async () => {
    for (const [action, resource] of [
      ['s3:ListBucket', `arn:aws:s3:::${BUCKET}`],
      ['s3:GetObject', object('metadata/x')],
      ['s3:PutObject', object('metadata/x')],
      ['s3:DeleteObject', object('ab/x')],
    ] as const) {
      expect(await evaluateAction(role(), action, resource)).toEqual({
        allowed: true,
        reason: 'allow',
        statements: [{ policy: 'flyte-s3-policy', statement: '#1', effect: 'Allow' }],
      });
    }
  });

  it('and nothing else: another bucket, bucket administration, IAM', async () => {
    for (const [action, resource] of [
      ['s3:GetObject', object('x', 'another-bucket')],
      ['s3:PutBucketPolicy', `arn:aws:s3:::${BUCKET}`],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`],
      ['sqs:DeleteQueue', `arn:aws:sqs:eu-west-1:${ACCOUNT}:q`],
    ] as const) {
      expect(await evaluateAction(role(), action, resource)).toEqual({
        allowed: false,
        reason: 'no-allow',
        statements: [],
      });
    }
  });

  it('a boundary without s3:PutObject caps it: allowed by the policy, refused by the boundary', async () => {
    const boundary = {
      name: 'read-only-boundary',
      document: {
        Version: '2012-10-17',
        Statement: [{ Sid: 'ReadOnly', Effect: 'Allow' as const, Action: ['s3:Get*', 's3:List*'], Resource: '*' }],
      },
    };
    expect(await evaluateAction(role({ boundary }), 's3:PutObject', object('metadata/x'))).toEqual({
      allowed: false,
      reason: 'boundary',
      statements: [{ policy: 'flyte-s3-policy', statement: '#1', effect: 'Allow' }],
      detail: 'read-only-boundary',
    });
    expect((await evaluateAction(role({ boundary }), 's3:GetObject', object('metadata/x'))).allowed).toBe(true);
  });

  it("a boundary's own Deny is named", async () => {
    const boundary = {
      name: 'boundary',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow' as const, Action: '*', Resource: '*' },
          { Sid: 'NoDeletes', Effect: 'Deny' as const, Action: 's3:DeleteObject*', Resource: '*' },
        ],
      },
    };
    expect(await evaluateAction(role({ boundary }), 's3:DeleteObject', object('x'))).toEqual({
      allowed: false,
      reason: 'explicit-deny',
      statements: [{ policy: 'boundary', statement: 'NoDeletes', effect: 'Deny' }],
    });
  });

  it('an inline Deny on the bucket wins over the custom policy', async () => {
    const deny = {
      name: 'inline deny-bucket',
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyFlyteBucket',
            Effect: 'Deny' as const,
            Action: 's3:*',
            Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
          },
        ],
      },
    };
    const d = await evaluateAction(role({ policies: [custom, deny] }), 's3:GetObject', object('metadata/x'));
    expect(d).toEqual({
      allowed: false,
      reason: 'explicit-deny',
      statements: [{ policy: 'inline deny-bucket', statement: 'DenyFlyteBucket', effect: 'Deny' }],
    });
  });

  it('s3:* on * reaches every bucket and its administration', async () => {
    const star = {
      name: 'inline everything-s3',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: 's3:*', Resource: '*' }] },
    };
    const r = role({ policies: [custom, star] });
    expect((await evaluateAction(r, 's3:GetObject', object('x', 'another-bucket'))).statements).toEqual([
      { policy: 'inline everything-s3', statement: '#1', effect: 'Allow' },
    ]);
    expect((await evaluateAction(r, 's3:PutBucketPolicy', `arn:aws:s3:::${BUCKET}`)).allowed).toBe(true);
    expect((await evaluateAction(r, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`)).allowed).toBe(false);
  });

  it('AmazonS3ReadOnlyAccess reads every bucket, but writes none', async () => {
    const r = role({ policies: [custom, { name: 'AmazonS3ReadOnlyAccess', document: S3_READ_ONLY }] });
    expect(await evaluateAction(r, 's3:GetObject', object('x', 'another-bucket'))).toMatchObject({
      allowed: true,
      statements: [{ policy: 'AmazonS3ReadOnlyAccess', statement: '#1', effect: 'Allow' }],
    });
    expect((await evaluateAction(r, 's3:PutObject', object('x', 'another-bucket'))).allowed).toBe(false);
  });

  it('"*" on "*" reaches every service', async () => {
    const admin = {
      name: 'AdministratorAccess',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: '*', Resource: '*' }] },
    };
    const r = role({ policies: [admin] });
    expect((await evaluateAction(r, 'sqs:DeleteQueue', `arn:aws:sqs:eu-west-1:${ACCOUNT}:q`)).allowed).toBe(true);
    expect((await evaluateAction(r, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`)).allowed).toBe(true);
  });

  it('conditions are evaluated with the context of a role session over TLS', async () => {
    const tls = {
      name: 'inline tls-only',
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'TlsOnly',
            Effect: 'Deny' as const,
            Action: 's3:*',
            Resource: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    };
    const r = role({ policies: [custom, tls] });
    expect((await evaluateAction(r, 's3:GetObject', object('x'), sessionContext(r))).allowed).toBe(true);
    expect(
      (await evaluateAction(r, 's3:GetObject', object('x'), { ...sessionContext(r), 'aws:SecureTransport': 'false' }))
        .reason,
    ).toBe('explicit-deny');
  });

  it('a document IAM would refuse is not evaluated: the decision says which', async () => {
    const bad = {
      name: 'inline broken',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3GetObject', Resource: '*' }] },
    };
    const d = await evaluateAction(role({ policies: [custom, bad as never] }), 's3:GetObject', object('x'));
    expect(d.reason).toBe('invalid');
    expect(d.detail).toMatch(/^inline broken: /);
  });

  it("a role's session ARN, which the policies are evaluated for", () => {
    expect(sessionArn(`arn:aws:iam::${ACCOUNT}:role/flyte/flyte-workers-role`)).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/flyte-workers-role/flyte-aws-setup-check`,
    );
  });
});

describe('a KMS key: used only as its key policy allows, through S3 as the identity policy says', () => {
  const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const role: RolePolicies = {
    accountId: ACCOUNT,
    roleArn: ROLE.arn,
    policies: [{ name: 'flyte-custom-policy', document: bucketPolicyDocument('aws', 'acme-flyte-data', KEY) }],
  };
  const delegating = {
    name: 'key policy',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow' as const,
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
  };
  const viaS3 = { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT };

  it('allowed through S3 when the key policy lets the account grant it; refused without it, or not through S3', async () => {
    const allowed = await evaluateAction(role, 'kms:Decrypt', KEY, viaS3, delegating);
    expect(allowed).toMatchObject({ allowed: true, reason: 'allow' });
    expect(allowed.statements.map((s) => `${s.policy} ${s.statement}`)).toEqual(['flyte-custom-policy #2']);
    // Without a key policy that names the account, IAM policies grant nothing on a key.
    expect((await evaluateAction(role, 'kms:Decrypt', KEY, viaS3)).allowed).toBe(false);
    // Called directly (not through S3), or through S3 of another region: the condition does not hold.
    expect((await evaluateAction(role, 'kms:Decrypt', KEY, { 'kms:CallerAccount': ACCOUNT }, delegating)).allowed).toBe(
      false,
    );
    const elsewhere = { ...viaS3, 'kms:ViaService': 's3.us-east-1.amazonaws.com' };
    expect((await evaluateAction(role, 'kms:GenerateDataKey', KEY, elsewhere, delegating)).allowed).toBe(false);
  });
});

describe('warming the evaluator up while the writes wait', () => {
  it('loads it and changes no answer: a role with a warm-up-like policy is still decided on its own documents', async () => {
    const role: RolePolicies = {
      accountId: ACCOUNT,
      roleArn: ROLE.arn,
      policies: [
        {
          name: 'list-only',
          document: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::warm-up' }],
          },
        },
      ],
    };
    const ask = () =>
      Promise.all([
        evaluateAction(role, 's3:ListBucket', 'arn:aws:s3:::warm-up', sessionContext(role)),
        evaluateAction(role, 's3:PutObject', 'arn:aws:s3:::warm-up/k', sessionContext(role)),
      ]);
    const before = await ask();
    await warmEvaluator();
    expect(await ask()).toEqual(before);
    // Once per process: a second call (the run's start, after the plan's) is the first one's.
    expect(warmEvaluator()).toBe(warmEvaluator());
    expect(before.map((d) => d.allowed)).toEqual([true, false]);
  });
});
