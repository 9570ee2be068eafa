/**
 * IAM's evaluation of policy documents, as AWS does it, by @cloud-copilot/iam-simulate: can a principal assume a
 * role (its trust policy), and can a role do an action on a resource (its managed and inline policies, capped by its
 * permissions boundary), with the statements that decided. Pure: documents in, decisions out; no AWS call. Heavy
 * (the library and the IAM service data it validates against): only imported lazily, by the access check.
 *
 * How the library is used, and why:
 * - Identity policies go through `runSimulation`, which validates every document and the action, and reports the
 *   statements that allowed or denied.
 * - Trust policies go through `runUnsafeSimulation`. The validating entry point drops every request context key the
 *   IAM service data does not list for the action, and the EKS issuer keys (`oidc.eks.REGION.amazonaws.com/id/ID:sub`,
 *   which hold a `/`) are not listed for `sts:AssumeRoleWithWebIdentity`: their conditions would never hold. The
 *   unsafe entry point evaluates the context as given; it reports only the result, so the deciding statements are
 *   found by evaluating each statement alone. The trust is validated first (as a trust policy) all the same.
 */
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateTrustPolicy,
  type ValidatedPolicy,
} from '@cloud-copilot/iam-policy';
import type { PolicyDocument, PolicyStatement } from './document.js';

/**
 * The services whose actions are evaluated. The build bundles the IAM service data of these only
 * (scripts/build.mjs reads this list): an action of another service fails to evaluate in the built CLI.
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

function validatedPolicy(p: NamedPolicy, kind: 'identity' | 'trust'): Validated {
  let byName = validated.get(p.document);
  if (byName === undefined) validated.set(p.document, (byName = new Map()));
  const key = `${kind}\0${p.name}`;
  const found = byName.get(key);
  if (found !== undefined) return found;
  const made = createValidatedPolicy(p.document, kind === 'trust' ? validateTrustPolicy : validateIdentityPolicy, {
    name: p.name,
  });
  byName.set(key, made);
  return made;
}

function statementLabel(index: number, sid: string | undefined): string {
  return sid !== undefined && sid !== '' ? sid : `#${index}`;
}

function problems(v: Validated): string | undefined {
  return v.errors.length > 0 ? v.errors.map((e) => e.message).join('; ') : undefined;
}

interface AnalysedStatement {
  policyId: string;
  statement: { index(): number; sid(): string | undefined; effect(): string };
}

function refs(list: readonly AnalysedStatement[] | undefined): StatementRef[] {
  return (list ?? []).map((s) => ({
    policy: s.policyId,
    statement: statementLabel(s.statement.index(), s.statement.sid()),
    effect: s.statement.effect() === 'Deny' ? 'Deny' : 'Allow',
  }));
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
 * needs its own policy to allow it too, which is not evaluated here).
 */
export async function evaluateAction(
  role: RolePolicies,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<Decision> {
  const identity = role.policies.map((p) => validatedPolicy(p, 'identity'));
  const boundary = role.boundary !== undefined ? validatedPolicy(role.boundary, 'identity') : undefined;
  const invalid = [...identity, ...(boundary ? [boundary] : [])].flatMap((v) => {
    const why = problems(v);
    return why !== undefined ? [`${v.metadata!.name}: ${why}`] : [];
  });
  if (invalid.length > 0) return { allowed: false, reason: 'invalid', statements: [], detail: invalid.join('; ') };
  const simulation: Simulation = {
    request: {
      principal: sessionArn(role.roleArn),
      action,
      resource: { resource, accountId: role.accountId },
      contextVariables: context,
    },
    identityPolicies: identity.map((v) => ({ name: v.metadata!.name, policy: v })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(boundary ? { permissionBoundaryPolicies: [{ name: boundary.metadata!.name, policy: boundary }] } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    return { allowed: false, reason: 'invalid', statements: [], detail: `cannot evaluate: ${result.errors.message}` };
  }
  if (result.resultType !== 'single') {
    return { allowed: false, reason: 'invalid', statements: [], detail: `the resource ${resource} is a pattern` };
  }
  const a = result.result.analysis;
  const denies = [...refs(a.identityAnalysis?.denyStatements), ...refs(a.permissionBoundaryAnalysis?.denyStatements)];
  const allows = refs(a.identityAnalysis?.allowStatements);
  switch (a.result) {
    case 'Allowed':
      return { allowed: true, reason: 'allow', statements: allows };
    case 'ExplicitlyDenied':
      return { allowed: false, reason: 'explicit-deny', statements: denies };
    case 'ImplicitlyDenied':
      if (allows.length > 0 && a.blockedBy?.includes('pb')) {
        return { allowed: false, reason: 'boundary', statements: allows, detail: role.boundary?.name };
      }
      return { allowed: false, reason: 'no-allow', statements: [] };
  }
}

interface TrustRequest {
  principal: string;
  action: string;
  context: Record<string, string | string[]>;
}

function statementDocument(doc: PolicyDocument, s: PolicyStatement): PolicyDocument {
  return { Version: doc.Version, Statement: [s] };
}

function runTrust(trust: Validated, roleArn: string, accountId: string, request: TrustRequest): string {
  return runUnsafeSimulation(
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
  const deciding = (effect: 'Allow' | 'Deny', wanted: string): StatementRef[] =>
    trust.Statement.flatMap((s, i): StatementRef[] => {
      if (s.Effect !== effect) return [];
      const alone = validatedPolicy({ name: 'trust', document: statementDocument(trust, s) }, 'trust');
      return runTrust(alone, roleArn, accountId, request) === wanted
        ? [{ policy: 'trust', statement: statementLabel(i + 1, s.Sid), effect }]
        : [];
    });
  if (result === 'Allowed') return { allowed: true, reason: 'allow', statements: deciding('Allow', 'Allowed') };
  if (result === 'ExplicitlyDenied') {
    return { allowed: false, reason: 'explicit-deny', statements: deciding('Deny', 'ExplicitlyDenied') };
  }
  return { allowed: false, reason: 'no-allow', statements: [] };
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
