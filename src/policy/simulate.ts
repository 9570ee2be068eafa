/**
 * IAM's evaluation of policy documents, as AWS does it, by @cloud-copilot/iam-simulate: can a principal assume a
 * role (its trust policy), and can a role do an action on a resource (its managed and inline policies, capped by its
 * permissions boundary), with the statements that decided. Pure: documents in, decisions out; no AWS call. Heavy
 * (the library and the IAM service data it validates against): only imported lazily, by the access check.
 *
 * How the library is used, and why: every document is validated first (as an identity or a trust policy, by
 * @cloud-copilot/iam-policy; one IAM would refuse makes the decision `invalid`), then evaluated by the library's
 * core through `runUnsafeSimulation`, not its validating entry point `runSimulation`:
 * - that entry point drops every request context key the IAM service data does not list for the action, and the EKS
 *   issuer keys (`oidc.eks.REGION.amazonaws.com/id/ID:sub`, which hold a `/`) are not listed for
 *   `sts:AssumeRoleWithWebIdentity`: an IRSA trust's conditions would never hold;
 * - it looks up the action's resource types and context keys on every call, ten times the cost of the evaluation
 *   itself, and the same for every role (the actions asked are the access check's own, all valid).
 * The core reports only the result, so the statements that decided are found by evaluating each policy, then each
 * statement, alone (skipped where only one can have decided).
 */
import { createRequire } from 'node:module';
import type { ValidatedPolicy } from '@cloud-copilot/iam-policy';
import type { PolicyDocument, PolicyStatement } from './document.js';
import { nextTurn } from '../util/concurrency.js';

/**
 * The evaluator's package. It is licensed AGPL-3.0-or-later, so it is not bundled with flyte-aws-setup (Apache-2.0)
 * nor one of its dependencies: it is loaded from where it is installed beside the tool (globally, or in the same
 * project or npx cache), and the access check says it was not made when it is not.
 */
export const EVALUATOR_PACKAGE = '@cloud-copilot/iam-simulate';
const POLICY_PACKAGE = '@cloud-copilot/iam-policy';

/** Why the access check was not made, and how to make it. */
export const EVALUATOR_MISSING =
  `the IAM policy evaluator ${EVALUATOR_PACKAGE} is not installed (it is AGPL-3.0-licensed, so flyte-aws-setup ` +
  `does not bundle it); install it beside flyte-aws-setup: npm install --global ${EVALUATOR_PACKAGE}, or ` +
  `npx --package flyte-aws-setup --package ${EVALUATOR_PACKAGE} flyte-aws-setup verify ...`;

interface Library {
  runUnsafeSimulation: typeof import('@cloud-copilot/iam-simulate').runUnsafeSimulation;
  createValidatedPolicy: typeof import('@cloud-copilot/iam-policy').createValidatedPolicy;
  validateIdentityPolicy: typeof import('@cloud-copilot/iam-policy').validateIdentityPolicy;
  validateTrustPolicy: typeof import('@cloud-copilot/iam-policy').validateTrustPolicy;
  validateResourcePolicy: typeof import('@cloud-copilot/iam-policy').validateResourcePolicy;
}

let library: Library | undefined;

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Load the evaluator (once): true when it is there. Its policy package is the one it depends on, found from where
 * the evaluator is (a global install does not hoist it beside the tool), so that both agree on the policy objects.
 * Both are loaded with require(), from their CommonJS builds: Node's ES module loader resolved and linked their
 * hundred-odd files in about 50 ms of the run's own thread, where require() takes about 35 (and a setup at no added
 * latency about 30 ms less in all, on two cores).
 */
export async function loadEvaluator(): Promise<boolean> {
  if (library !== undefined) return true;
  let simulate: typeof import('@cloud-copilot/iam-simulate');
  let policy: typeof import('@cloud-copilot/iam-policy');
  try {
    const entry = createRequire(import.meta.url).resolve(EVALUATOR_PACKAGE);
    const from = createRequire(entry);
    simulate = from(entry) as typeof import('@cloud-copilot/iam-simulate');
    policy = from(POLICY_PACKAGE) as typeof import('@cloud-copilot/iam-policy');
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  library = {
    runUnsafeSimulation: simulate.runUnsafeSimulation,
    createValidatedPolicy: policy.createValidatedPolicy,
    validateIdentityPolicy: policy.validateIdentityPolicy,
    validateTrustPolicy: policy.validateTrustPolicy,
    validateResourcePolicy: policy.validateResourcePolicy,
  };
  return true;
}

function lib(): Library {
  if (library === undefined) throw new Error(`internal: ${EVALUATOR_PACKAGE} is used before loadEvaluator()`);
  return library;
}

/**
 * The services whose actions the access check evaluates (a test holds the check's actions to these). The evaluator
 * and its IAM service data are not bundled (see `EVALUATOR_PACKAGE`): they are used as installed.
 */
export const SIMULATED_SERVICES = ['s3', 'sts', 'iam', 'kms', 'secretsmanager', 'ecr', 'sqs'] as const;

/** A policy document and how it is named in explanations (`FlyteS3Policy`, `inline deny-bucket`). */
export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

/** What a role's session may do: its managed and inline policies, capped by its permissions boundary. */
export interface RolePolicies {
  accountId: string;
  /** The role's ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`). */
  roleArn: string;
  policies: NamedPolicy[];
  boundary?: NamedPolicy;
}

/** A statement that decided: its policy, its Sid (or its number, from 1, when it has none), its effect. */
export interface StatementRef {
  policy: string;
  statement: string;
  effect: 'Allow' | 'Deny';
}

/**
 * Why a request is allowed or not:
 * - `allow`: the statements listed allow it (and, for a role, its boundary does too);
 * - `explicit-deny`: the Deny statements listed refuse it, whatever allows it;
 * - `no-allow`: no statement allows it;
 * - `boundary`: its policies allow it (the statements listed) but its permissions boundary does not;
 * - `invalid`: a document could not be evaluated (`detail` says why): nothing is known.
 */
export type DecisionReason = 'allow' | 'explicit-deny' | 'no-allow' | 'boundary' | 'invalid';

export interface Decision {
  allowed: boolean;
  reason: DecisionReason;
  statements: StatementRef[];
  detail?: string;
}

/** What a pod of an EKS cluster presents to STS for IRSA: the token of its cluster's issuer. */
export interface WebIdentityToken {
  /** The IAM OIDC provider of the token's issuer (`arn:aws:iam::ACCOUNT:oidc-provider/HOST`). */
  providerArn: string;
  /** The issuer without `https://` (`oidc.eks.REGION.amazonaws.com/id/ID`): the prefix of its condition keys. */
  issuerHost: string;
  sub: string;
  aud: string;
}

/** What EKS Pod Identity presents when it assumes a role for a pod (`pods.eks.amazonaws.com`). */
export interface PodIdentityRequest {
  accountId: string;
  /** The cluster's ARN (`aws:SourceArn`). */
  clusterArn: string;
  namespace: string;
  serviceAccount: string;
}

export const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';
/** Pod Identity assumes the role and tags the session: the trust must allow both. */
export const POD_IDENTITY_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;

type Validated = ValidatedPolicy<{ name: string }>;

/** Documents validated once, by object: a role's policies are evaluated for many actions. */
const validated = new WeakMap<PolicyDocument, Map<string, Validated>>();

function validatedPolicy(p: NamedPolicy, kind: 'identity' | 'trust' | 'resource'): Validated {
  let byName = validated.get(p.document);
  if (byName === undefined) validated.set(p.document, (byName = new Map()));
  const key = `${kind}\0${p.name}`;
  const found = byName.get(key);
  if (found !== undefined) return found;
  const { createValidatedPolicy, validateTrustPolicy, validateIdentityPolicy, validateResourcePolicy } = lib();
  const validate =
    kind === 'trust' ? validateTrustPolicy : kind === 'resource' ? validateResourcePolicy : validateIdentityPolicy;
  const made = createValidatedPolicy(p.document, validate, { name: p.name });
  byName.set(key, made);
  return made;
}

function statementLabel(index: number, sid: string | undefined): string {
  return sid !== undefined && sid !== '' ? sid : `#${index}`;
}

function problems(v: Validated): string | undefined {
  return v.errors.length > 0 ? v.errors.map((e) => e.message).join('; ') : undefined;
}

/** The request context of a role session's call: who is calling, over TLS, in which region. */
export function sessionContext(role: RolePolicies, region?: string): Record<string, string> {
  return {
    'aws:PrincipalArn': role.roleArn,
    'aws:PrincipalAccount': role.accountId,
    'aws:PrincipalType': 'AssumedRole',
    'aws:SecureTransport': 'true',
    ...(region !== undefined ? { 'aws:RequestedRegion': region } : {}),
  };
}

/** The session ARN a role's pods call AWS as. */
export function sessionArn(roleArn: string, session = 'flyte-aws-setup-check'): string {
  const m = /^arn:([\w-]+):iam::(\d{12}|[^:]*):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (m === null) return roleArn;
  return `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${session}`;
}

/**
 * Can the role do `action` on `resource`? Its policies are evaluated with its boundary, as IAM does for a role's
 * session in its own account (the resource is taken to be in the role's account: a resource of another account
 * needs its own policy to allow it too, which is not evaluated here). `resourcePolicy`: the resource's own policy,
 * evaluated with the role's as IAM does within an account: for a resource used only as its policy allows (a KMS
 * key: its key policy), or one whose policy may allow or deny on its own (a bucket: its bucket policy, whose Deny
 * refuses and whose Allow naming the role allows). The statements that decided include the resource policy's.
 */
export async function evaluateAction(
  role: RolePolicies,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
  resourcePolicy?: NamedPolicy,
): Promise<Decision> {
  // Roles that hold the same documents (the custom policy, the same extra policies) get the same answer for the
  // same request, unless a document looks at who is asking: evaluated once.
  const key =
    resourcePolicy === undefined
      ? sharedKey(role, action, resource, context)
      : independentOfPrincipal(resourcePolicy.document) && principalsAreAccounts(resourcePolicy.document)
        ? sharedKey(role, action, resource, context, resourcePolicy)
        : undefined;
  const known = key !== undefined ? decisions.get(key) : undefined;
  if (known !== undefined) return known;
  const decided = await evaluateActionOnce(role, action, resource, context, resourcePolicy);
  if (key !== undefined) {
    if (decisions.size >= MAX_SHARED) decisions.clear();
    decisions.set(key, decided);
  }
  return decided;
}

/** Decisions of roles whose documents do not depend on the principal, by their documents and the request. */
const decisions = new Map<string, Decision>();
const MAX_SHARED = 10_000;
const documentIds = new WeakMap<PolicyDocument, number>();
const principalFree = new WeakMap<PolicyDocument, boolean>();
let nextDocumentId = 0;

/** The request context keys that say who is asking: the same for no two roles. */
const WHO = 'aws:(principal|userid|username|sourceidentity|rolesessionname|federatedprovider)';
const PRINCIPAL_KEY = new RegExp(`^${WHO}`, 'i');
const MENTIONS_PRINCIPAL = new RegExp(WHO, 'i');

/** Forget the decisions shared between roles (a benchmark measures each run from nothing, as a CLI run is). */
export function forgetSharedDecisions(): void {
  decisions.clear();
}

function documentId(doc: PolicyDocument): number {
  let id = documentIds.get(doc);
  if (id === undefined) documentIds.set(doc, (id = nextDocumentId++));
  return id;
}

/** No condition key or policy variable of the document is about who is asking. */
function independentOfPrincipal(doc: PolicyDocument): boolean {
  let free = principalFree.get(doc);
  if (free === undefined) {
    const text = JSON.stringify(doc);
    free = !MENTIONS_PRINCIPAL.test(text) && !text.includes('${');
    principalFree.set(doc, free);
  }
  return free;
}

/**
 * Every statement of a resource policy names everyone or whole accounts (`*`, `arn:aws:iam::ACCOUNT:root`, an
 * account ID): it answers every role of an account alike. One that names a role (a bucket policy's Deny to the
 * workers role) does not, so its decisions are not shared between roles.
 */
function principalsAreAccounts(doc: PolicyDocument): boolean {
  const account = (p: string) => p === '*' || /^\d{12}$/.test(p) || /^arn:[\w-]+:iam::\d{12}:root$/.test(p);
  return doc.Statement.every((st) => {
    const s = st as PolicyStatement & { NotPrincipal?: unknown };
    if (s.NotPrincipal !== undefined) return false;
    const p = s.Principal as unknown;
    if (p === undefined || p === '*') return true;
    if (typeof p !== 'object' || p === null) return false;
    return Object.entries(p as Record<string, string | string[]>).every(
      ([kind, v]) => kind === 'AWS' && (Array.isArray(v) ? v : [v]).every(account),
    );
  });
}

function sharedKey(
  role: RolePolicies,
  action: string,
  resource: string,
  context: Record<string, string | string[]>,
  resourcePolicy?: NamedPolicy,
): string | undefined {
  const all = [...role.policies, ...(role.boundary ? [role.boundary] : [])];
  if (!all.every((p) => independentOfPrincipal(p.document))) return undefined;
  const rest = Object.entries(context).filter(([k]) => !PRINCIPAL_KEY.test(k));
  return JSON.stringify([
    role.accountId,
    role.policies.map((p) => [p.name, documentId(p.document)]),
    role.boundary ? [role.boundary.name, documentId(role.boundary.document)] : null,
    action,
    resource,
    rest,
    resourcePolicy ? documentId(resourcePolicy.document) : null,
  ]);
}

/** Every action on every resource: the identity side of a check of what a boundary alone refuses. */
const ALLOW_ALL: NamedPolicy = {
  name: 'allow-all',
  document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

/** A statement as a policy of its own (to tell which statements of a policy decided), validated once. */
const statementPolicies = new WeakMap<PolicyStatement, Validated>();

const resourceStatementPolicies = new WeakMap<PolicyStatement, Validated>();

function statementPolicy(p: NamedPolicy, s: PolicyStatement, kind: 'identity' | 'resource' = 'identity'): Validated {
  const cache = kind === 'resource' ? resourceStatementPolicies : statementPolicies;
  let found = cache.get(s);
  if (found === undefined) {
    const validate = kind === 'resource' ? lib().validateResourcePolicy : lib().validateIdentityPolicy;
    found = lib().createValidatedPolicy(statementDocument(p.document, s), validate, { name: p.name });
    cache.set(s, found);
  }
  return found;
}

type Outcome = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

async function evaluateActionOnce(
  role: RolePolicies,
  action: string,
  resource: string,
  context: Record<string, string | string[]>,
  resourcePolicy?: NamedPolicy,
): Promise<Decision> {
  const identity = role.policies.map((p) => validatedPolicy(p, 'identity'));
  const resourceOf = resourcePolicy !== undefined ? validatedPolicy(resourcePolicy, 'resource') : undefined;
  const boundary = role.boundary !== undefined ? validatedPolicy(role.boundary, 'identity') : undefined;
  const invalid = [...identity, ...(boundary ? [boundary] : []), ...(resourceOf ? [resourceOf] : [])].flatMap((v) => {
    const why = problems(v);
    return why !== undefined ? [`${v.metadata!.name}: ${why}`] : [];
  });
  if (invalid.length > 0) return { allowed: false, reason: 'invalid', statements: [], detail: invalid.join('; ') };
  // The core of the evaluation, without the validating entry point's look-ups of the action's resource types and
  // context keys (ten times the cost, the same for every role): the documents are validated above, and the actions
  // asked are the access check's own (src/access/capabilities.ts).
  // `on`: the resource policy to evaluate with (null: none; absent: the request's own).
  const run = (policies: Validated[], cap: Validated | undefined, on?: Validated | null): Outcome => {
    const onResource = on === null ? undefined : (on ?? resourceOf);
    try {
      return lib().runUnsafeSimulation(
        {
          request: {
            principal: sessionArn(role.roleArn),
            action,
            resource: { resource, accountId: role.accountId },
            contextVariables: context,
          },
          identityPolicies: policies.map((v) => ({ name: v.metadata!.name, policy: v })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(onResource ? { resourcePolicy: onResource } : {}),
          ...(cap ? { permissionBoundaryPolicies: [{ name: cap.metadata!.name, policy: cap }] } : {}),
        },
        {},
      ) as Outcome;
    } catch (err) {
      throw new EvaluationError((err as Error).message);
    }
  };
  /** The statements of `p` that give `outcome` alone (one statement of that effect: that one, without asking). */
  const deciding = (
    p: NamedPolicy,
    effect: 'Allow' | 'Deny',
    ask: (v: Validated) => boolean,
    kind: 'identity' | 'resource' = 'identity',
  ): StatementRef[] => {
    const of = p.document.Statement.map((st, i) => ({ st, i })).filter(({ st }) => st.Effect === effect);
    const picked = of.length === 1 ? of : of.filter(({ st }) => ask(statementPolicy(p, st, kind)));
    return picked.map(({ st, i }) => ({ policy: p.name, statement: statementLabel(i + 1, st.Sid), effect }));
  };
  // A resource policy that allows the request on its own (a same-account bucket policy naming the role): its
  // statements decided, and each identity policy is asked without it (else every one would seem to allow).
  const resourceAllows = resourceOf !== undefined && run([], undefined) === 'Allowed';
  const withResource = resourceAllows ? null : resourceOf;
  const allowing = (): StatementRef[] => [
    ...role.policies.flatMap((p, k) =>
      run([identity[k]!], undefined, withResource) === 'Allowed'
        ? deciding(p, 'Allow', (v) => run([v], undefined, withResource) === 'Allowed')
        : [],
    ),
    ...(resourceAllows
      ? deciding(resourcePolicy!, 'Allow', (v) => run([], undefined, v) === 'Allowed', 'resource')
      : []),
  ];
  try {
    const result = run(identity, boundary);
    if (result === 'Allowed') return { allowed: true, reason: 'allow', statements: allowing() };
    if (result === 'ExplicitlyDenied') {
      const allowAll = validatedPolicy(ALLOW_ALL, 'identity');
      // Each policy alone: an identity policy or the boundary without the resource policy, and the resource
      // policy with none of the role's (its Deny refuses whatever they allow).
      const denies = [
        ...role.policies.flatMap((p, k) =>
          run([identity[k]!], undefined, null) === 'ExplicitlyDenied'
            ? deciding(p, 'Deny', (v) => run([v], undefined, null) === 'ExplicitlyDenied')
            : [],
        ),
        ...(role.boundary !== undefined && run([allowAll], boundary, null) === 'ExplicitlyDenied'
          ? deciding(role.boundary, 'Deny', (v) => run([allowAll], v, null) === 'ExplicitlyDenied')
          : []),
        ...(resourceOf !== undefined && run([], undefined) === 'ExplicitlyDenied'
          ? deciding(resourcePolicy!, 'Deny', (v) => run([], undefined, v) === 'ExplicitlyDenied', 'resource')
          : []),
      ];
      return { allowed: false, reason: 'explicit-deny', statements: denies };
    }
    if (boundary !== undefined && run(identity, undefined) === 'Allowed') {
      return { allowed: false, reason: 'boundary', statements: allowing(), detail: role.boundary!.name };
    }
    return { allowed: false, reason: 'no-allow', statements: [] };
  } catch (err) {
    if (!(err instanceof EvaluationError)) throw err;
    return { allowed: false, reason: 'invalid', statements: [], detail: `cannot evaluate: ${err.message}` };
  }
}

class EvaluationError extends Error {}

interface TrustRequest {
  principal: string;
  action: string;
  context: Record<string, string | string[]>;
}

function statementDocument(doc: PolicyDocument, s: PolicyStatement): PolicyDocument {
  return { Version: doc.Version, Statement: [s] };
}

function runTrust(trust: Validated, roleArn: string, accountId: string, request: TrustRequest): string {
  return lib().runUnsafeSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: roleArn, accountId },
        contextVariables: request.context,
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust,
    },
    {},
  );
}

/**
 * A request against a trust policy: the result, and which statements decided it (each statement evaluated alone:
 * the Allow statements that would let it in, the Deny statements that refuse it).
 */
function evaluateTrustRequest(
  trust: PolicyDocument,
  roleArn: string,
  accountId: string,
  request: TrustRequest,
): Decision {
  const whole = validatedPolicy({ name: 'trust', document: trust }, 'trust');
  const why = problems(whole);
  if (why !== undefined) return { allowed: false, reason: 'invalid', statements: [], detail: `trust policy: ${why}` };
  let result: string;
  try {
    result = runTrust(whole, roleArn, accountId, request);
  } catch (err) {
    return { allowed: false, reason: 'invalid', statements: [], detail: `trust policy: ${(err as Error).message}` };
  }
  const deciding = (effect: 'Allow' | 'Deny', wanted: string): StatementRef[] => {
    // The one statement of that effect decided it (the common case: one Allow statement), without evaluating again.
    const candidates = trust.Statement.filter((s) => s.Effect === effect);
    if (candidates.length === 1) {
      const i = trust.Statement.indexOf(candidates[0]!);
      return [{ policy: 'trust', statement: statementLabel(i + 1, candidates[0]!.Sid), effect }];
    }
    return trust.Statement.flatMap((s, i): StatementRef[] => {
      if (s.Effect !== effect) return [];
      const alone = validatedPolicy({ name: 'trust', document: statementDocument(trust, s) }, 'trust');
      return runTrust(alone, roleArn, accountId, request) === wanted
        ? [{ policy: 'trust', statement: statementLabel(i + 1, s.Sid), effect }]
        : [];
    });
  };
  if (result === 'Allowed') return { allowed: true, reason: 'allow', statements: deciding('Allow', 'Allowed') };
  if (result === 'ExplicitlyDenied') {
    return { allowed: false, reason: 'explicit-deny', statements: deciding('Deny', 'ExplicitlyDenied') };
  }
  return { allowed: false, reason: 'no-allow', statements: [] };
}

/**
 * Load the evaluator and run a few evaluations of the kinds the access check makes, on throwaway documents: the
 * check's first evaluations then find the services' data loaded and the evaluator's code compiled. Called while a
 * run waits on AWS; each evaluation waits for the event loop to be free first, so that none delays the handling of
 * an answer. Nothing is remembered of the answers; called again, it does nothing more.
 */
export function warmEvaluator(): Promise<void> {
  warming ??= warmUp();
  return warming;
}

/** The warm-up, once per process. */
let warming: Promise<void> | undefined;

async function warmUp(): Promise<void> {
  // The loading holds the thread (about 35 ms) at once: what the caller started goes out first. Two turns of the
  // event loop: a call that needs a new connection is written only once the connection is made, on the next turn.
  await nextTurn();
  await nextTurn();
  if (!(await loadEvaluator())) return;
  const account = '000000000000';
  const role: RolePolicies = {
    accountId: account,
    roleArn: `arn:aws:iam::${account}:role/warm-up`,
    policies: [
      {
        name: 'warm-up',
        document: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: 'arn:aws:s3:::warm-up' },
            { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::warm-up/*' },
          ],
        },
      },
    ],
    boundary: { name: 'warm-up-boundary', document: ALLOW_ALL.document },
  };
  const requests: [string, string][] = [
    ['s3:ListBucket', 'arn:aws:s3:::warm-up'],
    ['s3:PutObject', 'arn:aws:s3:::warm-up/k'],
    ['s3:DeleteObject', 'arn:aws:s3:::warm-up/k'],
    ['kms:Decrypt', `arn:aws:kms:us-east-1:${account}:key/warm-up`],
    ['iam:PassRole', `arn:aws:iam::${account}:role/warm-up`],
  ];
  for (const [action, resource] of requests) {
    await nextTurn();
    await evaluateActionOnce(role, action, resource, sessionContext(role, 'us-east-1'));
  }
  await nextTurn();
  const provider = `arn:aws:iam::${account}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/WARMUP`;
  evaluateWebIdentityAssume(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: provider },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/WARMUP:aud': 'sts.amazonaws.com' } },
        },
      ],
    },
    { arn: role.roleArn, accountId: account },
    {
      providerArn: provider,
      issuerHost: 'oidc.eks.us-east-1.amazonaws.com/id/WARMUP',
      sub: 'system:serviceaccount:flyte:flyte',
      aud: 'sts.amazonaws.com',
    },
  );
}

/** Can a pod with this token assume the role (`sts:AssumeRoleWithWebIdentity`, IRSA)? */
export function evaluateWebIdentityAssume(
  trust: PolicyDocument,
  role: { arn: string; accountId: string },
  token: WebIdentityToken,
): Decision {
  return evaluateTrustRequest(trust, role.arn, role.accountId, {
    principal: token.providerArn,
    action: 'sts:AssumeRoleWithWebIdentity',
    context: {
      [`${token.issuerHost}:sub`]: token.sub,
      [`${token.issuerHost}:aud`]: token.aud,
      'aws:FederatedProvider': token.providerArn,
    },
  });
}

/**
 * Can EKS Pod Identity assume the role for this pod? It calls `sts:AssumeRole` and `sts:TagSession` as
 * `pods.eks.amazonaws.com`, from the account and the cluster (`aws:SourceAccount`, `aws:SourceArn`), with the pod's
 * session tags; both must be allowed. The decision names the statements of both, or the first refusal.
 */
export function evaluatePodIdentityAssume(
  trust: PolicyDocument,
  role: { arn: string; accountId: string },
  request: PodIdentityRequest,
): Decision {
  const clusterName = request.clusterArn.slice(request.clusterArn.lastIndexOf('/') + 1);
  const tags: Record<string, string> = {
    'eks-cluster-arn': request.clusterArn,
    'eks-cluster-name': clusterName,
    'kubernetes-namespace': request.namespace,
    'kubernetes-service-account': request.serviceAccount,
  };
  const context: Record<string, string | string[]> = {
    'aws:SourceAccount': request.accountId,
    'aws:SourceArn': request.clusterArn,
    'aws:TagKeys': Object.keys(tags),
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
  };
  const statements: StatementRef[] = [];
  for (const action of POD_IDENTITY_ACTIONS) {
    const d = evaluateTrustRequest(trust, role.arn, role.accountId, {
      principal: POD_IDENTITY_PRINCIPAL,
      action,
      context,
    });
    if (!d.allowed) return { ...d, detail: d.detail ?? `${action} is not allowed` };
    for (const s of d.statements) if (!statements.some((t) => t.statement === s.statement)) statements.push(s);
  }
  return { allowed: true, reason: 'allow', statements };
}
