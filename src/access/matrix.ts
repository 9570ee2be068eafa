/**
 * The access matrix: what IAM decided for each Flyte identity (assume its role, its neighbours', what its role can
 * do on the bucket and beyond), with the statements that decided, and how to read a decision. Types and words only:
 * the evaluation itself (src/access/check.ts) is heavy and loaded lazily; this is what the renderers need.
 */
import type { SectionId } from '../config/schema.js';
import type { DecisionReason, StatementRef } from '../policy/simulate.js';
import type { CapabilityColumn } from './capabilities.js';
import type { CredentialPath } from './identities.js';

/** `not-checked`: nothing is known (a document could not be read or evaluated, the cluster is not ready). */
export type CellState = 'allowed' | 'denied' | 'not-checked';

/** One request's outcome, beside what the setup wants of it. */
export interface AccessDecision {
  state: CellState;
  /** What Flyte wants: `allowed` for what it needs, `denied` for a neighbour or what goes beyond. */
  want: 'allowed' | 'denied';
  /** Why (absent when not checked). */
  reason?: DecisionReason;
  /** The statements that decided, `POLICY STATEMENT` (a Sid, or #N for the Nth statement). */
  statements: StatementRef[];
  /** More about the reason: the boundary's name, what could not be read, what STS needs beyond the trust. */
  detail?: string;
}

export interface AccessCell extends AccessDecision {
  capability: string;
  column: CapabilityColumn;
  label: string;
  action: string;
  resource: string;
  /** Where, as people write it (`s3://BUCKET/metadata/`). */
  where: string;
}

export interface AssumeDecision extends AccessDecision {
  /**
   * How the pod asks for the role: IRSA (`sts:AssumeRoleWithWebIdentity` with its token), or EKS Pod Identity
   * (`sts:AssumeRole` and `sts:TagSession` from `pods.eks.amazonaws.com`).
   */
  via: CredentialPath;
  /** Who asks: the identity itself, or a neighbour (what differs). */
  who: string;
  /** IRSA: the token's `sub`, `aud` and issuer. */
  sub?: string;
  aud?: string;
  issuer?: string;
  /** Pod Identity: the cluster that asks (`aws:SourceArn`) and its account (`aws:SourceAccount`). */
  cluster?: string;
  account?: string;
}

export interface IdentityAccess {
  id: string;
  section: SectionId;
  who: string;
  roleName: string;
  /** The role's ARN, when it exists. */
  roleArn?: string;
  /** Can its pods assume the role, each way they get it (empty: its trust is not the tool's, as Union's role's)? */
  assume: AssumeDecision[];
  /** Tokens that must be refused. */
  neighbours: AssumeDecision[];
  /** What Flyte needs (list, get, put, delete; the bucket's KMS key; the role's grants), then what goes beyond. */
  cells: AccessCell[];
  /**
   * `verify --as` only: the other Flyte roles whose trust lets this identity's pods in too (IRSA: the trust names
   * them; with Pod Identity the association, not the trust, says which role a pod gets).
   */
  alsoAssumes?: (AssumeDecision & { roleName: string })[];
  /** Why the identity was not checked at all (its role does not exist). */
  notChecked?: string;
}

export interface AccessReport {
  identities: IdentityAccess[];
  /** What cannot be seen from the account and was not evaluated: never a pass. */
  notChecked: string[];
  /** IAM's own simulator asked the same of each role (`verify` only; absent at the end of an apply). */
  secondOpinion?: SecondOpinion;
}

/**
 * IAM's answer (iam:SimulatePrincipalPolicy) to the requests the check makes of each role's own policies (its
 * managed and inline policies and its boundary; the simulator does not read the bucket's policy), beside the
 * evaluator's. `made`: every role was asked; `partial`: some could not be; `not-made`: none was (`reason` says
 * why: the caller may not call it, the endpoint does not implement it); `off`: `--no-second-opinion`.
 */
export interface SecondOpinion {
  state: 'made' | 'partial' | 'not-made' | 'off';
  reason?: string;
  roles: SecondOpinionRole[];
  /** The requests where IAM and the evaluator decide otherwise (each a `second-opinion-differs` warning). */
  disagreements: Disagreement[];
}

export interface SecondOpinionRole {
  roleName: string;
  state: 'made' | 'not-made';
  reason?: string;
  /** Requests whose answers were compared. */
  compared: number;
}

export interface Disagreement {
  roleName: string;
  roleArn: string;
  /** The identities that use the role. */
  identities: string[];
  capability: string;
  action: string;
  resource: string;
  /** What the evaluator decided, from the documents read. */
  evaluator: 'allowed' | 'denied';
  /** What IAM's simulator decided: `allowed`, `explicitDeny` or `implicitDeny`. */
  iam: string;
  /** Condition keys IAM said it lacked a value of: its answer may then be wrong. */
  missingContext: string[];
}

/**
 * What is never evaluated, because the account does not show it. The bucket's own policy is evaluated when it is
 * read (src/access/bucket-policy.ts says what is not checked about it otherwise).
 */
export const NOT_VISIBLE = [
  "the organization's service and resource control policies (SCPs, RCPs): they can refuse any of the above",
  'VPC endpoint policies on the path from the pods to S3 and STS',
  "whether the pods run with the role at all: an IRSA annotation missing from the service account, or a pod without its token, gets the node's role (flyte-aws-setup probe checks that in the cluster)",
];

/** A decision that is not what the setup wants (a need refused, a neighbour or an over-grant let in). */
export function isWrong(d: AccessDecision): boolean {
  return d.state !== 'not-checked' && d.state !== d.want;
}

export function statementText(statements: StatementRef[]): string {
  return statements.map((s) => `${s.policy} ${s.statement}`).join(', ');
}

/** Why a decision came out as it did, in words. */
export function decisionText(d: AccessDecision): string {
  if (d.state === 'not-checked') return `not checked${d.detail ? `: ${d.detail}` : ''}`;
  const by = statementText(d.statements);
  switch (d.reason) {
    case 'allow':
      return d.detail !== undefined && d.state === 'denied'
        ? `the trust lets it in (${by}), but ${d.detail}`
        : `allowed by ${by}`;
    case 'explicit-deny':
      return `refused by the Deny statement ${by}`;
    case 'boundary':
      return `allowed by ${by}, but the permissions boundary ${d.detail ?? ''} does not allow it`;
    case 'no-allow':
      return d.detail !== undefined ? `no statement allows it (${d.detail})` : 'no statement allows it';
    default:
      return d.state;
  }
}

/** How an assume was asked, in words: the IRSA token's claims, or Pod Identity's cluster. */
export function assumeText(a: AssumeDecision): string {
  return a.via === 'irsa'
    ? `sts:AssumeRoleWithWebIdentity; sub ${a.sub ?? ''}, aud ${a.aud ?? ''}, issuer ${a.issuer || '(none)'}`
    : `EKS Pod Identity: sts:AssumeRole and sts:TagSession from pods.eks.amazonaws.com; cluster ${a.cluster ?? ''}`;
}
