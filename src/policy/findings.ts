/**
 * The findings standard: every problem flyte-aws-setup reports about what AWS holds has one code, and each code one
 * severity, in the table below. The plan, the summary of a run and `verify` all take the severity from it, so the
 * same finding is never an error in one and a warning in another. docs/verify-and-destroy.md ("Findings and their
 * severity") shows the table. Also here: what counts as a broad grant (an AWS managed policy, or a statement).
 */
import type { PolicyDocument, StringOrList } from './document.js';
import { isAwsManagedPolicy, nameOfArn } from './partition.js';

/** An error makes `verify` fail; a warning is reported and lets it pass. */
export type Severity = 'error' | 'warning';

export type FindingCode =
  // AWS differs from the config (the next run would change it).
  | 'waiting'
  | 'missing'
  | 'trust-differs'
  | 'policy-not-attached'
  | 'policy-not-wanted'
  | 'boundary-differs'
  | 'tags-missing'
  | 'document-differs'
  | 'audience-missing'
  | 'association-role-differs'
  | 'association-not-wanted'
  | 'blocked'
  // A role of the setup that the config no longer names: it still grants what it holds.
  | 'leftover'
  // What a run checks and leaves as it is.
  | 'vpc-dns-off'
  | 'bucket-missing'
  | 'bucket-other-region'
  | 'kms-key-missing'
  | 'kms-key-policy'
  | 'unchecked'
  // What people get wrong when they follow the documents by hand.
  | 'foreign-issuer'
  | 'other-provider'
  | 'provider-missing'
  | 'provider-audience-missing'
  | 'aud-missing'
  | 'aud-not-string-equals'
  | 'sub-missing'
  | 'wildcard-string-equals'
  | 'pod-trust-unbounded'
  | 'pod-trust-other-cluster'
  | 'trust-size'
  | 'path-differs'
  // What a role holds beyond the config: the security standard.
  | 'broad-policy'
  | 'broad-policy-listed'
  | 'broad-policy-non-irsa'
  | 'extra-policy'
  | 'inline-policy'
  // What IAM decides, evaluating the policies AWS holds (the access check).
  | 'access-denied'
  | 'access-admits'
  | 'over-grant'
  | 'over-grant-listed'
  | 'over-grant-non-irsa'
  | 'second-opinion-differs';

export interface FindingRule {
  severity: Severity;
  /** What the finding is, in a line (the documentation's table). */
  what: string;
}

/** Every finding and its severity. */
export const FINDINGS: Readonly<Record<FindingCode, FindingRule>> = {
  waiting: { severity: 'error', what: 'a section waits for the EKS cluster (not created yet, or not ACTIVE)' },
  missing: {
    severity: 'error',
    what: 'a role, the policy, the OIDC provider, a pod identity association or the Pod Identity Agent does not exist',
  },
  'trust-differs': { severity: 'error', what: "a role's trust policy differs from the config" },
  'policy-not-attached': { severity: 'error', what: 'a role lacks a policy the config attaches' },
  'policy-not-wanted': {
    severity: 'error',
    what:
      'a role holds a policy the tool attached that the config no longer names, or the grants policy of a role the ' +
      'config gives no grants (the next run detaches it)',
  },
  'boundary-differs': { severity: 'error', what: 'a role has another permissions boundary than the config' },
  'tags-missing': { severity: 'error', what: "a resource of the tool's lacks the config's tags" },
  'document-differs': { severity: 'error', what: "the custom policy's document differs from the config" },
  'audience-missing': { severity: 'error', what: 'the OIDC provider lacks the sts.amazonaws.com audience' },
  'association-role-differs': {
    severity: 'error',
    what: 'a pod identity association hands its pods another role than the config says',
  },
  'association-not-wanted': {
    severity: 'error',
    what:
      'a pod identity association hands a role to a namespace and service account the config does not name (the ' +
      "setup's own: the next run deletes it; anyone else's: left alone)",
  },
  blocked: { severity: 'error', what: 'the config cannot be carried out for a resource (the plan says why)' },
  leftover: {
    severity: 'error',
    what: "a role of the setup's that the config no longer names: it still grants what it holds (--prune removes it)",
  },
  'vpc-dns-off': {
    severity: 'error',
    what: "DNS support or hostnames are off in the cluster's VPC: nodes cannot join the cluster",
  },
  'bucket-missing': { severity: 'warning', what: 'the bucket does not exist: Flyte cannot work' },
  'bucket-other-region': {
    severity: 'warning',
    what: "the bucket is in another region than the config's: Flyte cannot work as configured",
  },
  'kms-key-missing': {
    severity: 'warning',
    what: "the bucket's SSE-KMS key does not exist: Flyte cannot read or write the bucket's objects",
  },
  'kms-key-policy': {
    severity: 'warning',
    what:
      "the key policy of the bucket's SSE-KMS key does not let the account's IAM policies grant its use: the " +
      "custom policy's KMS grant does nothing unless the key policy names the Flyte roles",
  },
  unchecked: {
    severity: 'warning',
    what: "something could not be read, so it was not checked (a role's inline policies, the VPC, the bucket, its key)",
  },
  'foreign-issuer': { severity: 'error', what: "a trust's condition keys name another issuer than the cluster's" },
  'other-provider': { severity: 'error', what: "a trust names another OIDC provider than the cluster's" },
  'provider-missing': { severity: 'error', what: 'a trust names an OIDC provider that does not exist' },
  'provider-audience-missing': { severity: 'error', what: 'the OIDC provider a trust names lacks sts.amazonaws.com' },
  'aud-missing': { severity: 'error', what: 'an IRSA trust has no aud condition' },
  'aud-not-string-equals': { severity: 'warning', what: 'an IRSA trust checks aud under StringLike' },
  'sub-missing': { severity: 'error', what: 'an IRSA trust has no sub condition: any pod of the cluster may use it' },
  'wildcard-string-equals': { severity: 'error', what: 'a wildcard under StringEquals (it never matches)' },
  'pod-trust-unbounded': {
    severity: 'error',
    what: 'a Pod Identity trust (pods.eks.amazonaws.com) without aws:SourceArn: any cluster may hand the role out',
  },
  'pod-trust-other-cluster': {
    severity: 'error',
    what: "a Pod Identity trust bounded to another cluster than the config's: its pods cannot assume the role",
  },
  'trust-size': { severity: 'warning', what: "a trust policy above 90% of IAM's 2,048-character limit" },
  'path-differs': { severity: 'warning', what: 'a role is at another IAM path than the config says' },
  'broad-policy': {
    severity: 'error',
    what:
      'a role pods assume (IRSA) holds a broad grant the config does not list: AdministratorAccess, ' +
      'PowerUserAccess or AmazonS3FullAccess attached, or an inline policy allowing "*" or "s3:*" on "*"',
  },
  'broad-policy-listed': {
    severity: 'warning',
    what: "the config's extraPolicies attach such a broad AWS managed policy",
  },
  'broad-policy-non-irsa': {
    severity: 'warning',
    what: "such a broad grant on a role pods do not assume through IRSA (cluster, node, Union's role)",
  },
  'extra-policy': {
    severity: 'warning',
    what: 'a role pods assume (IRSA) has another policy attached that the config does not list',
  },
  'inline-policy': { severity: 'warning', what: 'a role has an inline policy flyte-aws-setup did not write' },
  'access-denied': {
    severity: 'error',
    what:
      'a Flyte identity cannot do what Flyte needs, as IAM evaluates the policies: assume its role, list the ' +
      'bucket, get, put or delete objects under the prefixes Flyte uses',
  },
  'access-admits': {
    severity: 'error',
    what: "a Flyte role's trust lets in a token it should refuse: another service account, namespace, audience or cluster",
  },
  'over-grant': {
    severity: 'error',
    what: "a role pods assume can reach beyond the Flyte bucket, as IAM evaluates its policies: any other bucket, the bucket's own policy, IAM, another service",
  },
  'over-grant-listed': {
    severity: 'warning',
    what: "such reach through a policy the config's extraPolicies attach on purpose",
  },
  'over-grant-non-irsa': {
    severity: 'warning',
    what: "such reach on Union's role, whose other policies are Union's",
  },
  'second-opinion-differs': {
    severity: 'warning',
    what: "IAM's own simulator (iam:SimulatePrincipalPolicy) decides a request of a role otherwise than the evaluator",
  },
};

export function severityOf(code: FindingCode): Severity {
  return FINDINGS[code].severity;
}

/** Counts as words: `1 error and 2 warnings`, `2 warnings`, `1 error` (empty for none). */
export function severityCounts(items: readonly { severity: Severity }[]): string {
  const errors = items.filter((f) => f.severity === 'error').length;
  const warnings = items.length - errors;
  const words = [
    errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : '',
    warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return words.join(' and ');
}

/** AWS managed policies that grant far more than Flyte needs, and what each grants. */
export const TOO_BROAD: Readonly<Record<string, string>> = {
  AmazonS3FullAccess: 'grants every S3 bucket of the account; the scoped custom policy is enough for Flyte',
  AdministratorAccess: 'grants everything',
  PowerUserAccess: 'grants nearly everything',
};

/** Why an AWS managed policy grants far more than Flyte needs; undefined for any other policy. */
export function tooBroad(arn: string): string | undefined {
  return isAwsManagedPolicy(arn) ? TOO_BROAD[nameOfArn(arn)] : undefined;
}

function list(v: StringOrList | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * What a policy document grants that is as broad as those policies: every action, or every S3 action, on every
 * resource (undefined: neither). Conditions are not weighed: a broad statement is reported even when one narrows it.
 */
export function broadGrant(doc: PolicyDocument): string | undefined {
  let s3 = false;
  for (const s of doc.Statement) {
    if (s.Effect !== 'Allow' || s.Action === undefined) continue;
    const resources = list(s.Resource);
    const everything = resources.includes('*');
    const everyBucket = everything || resources.some((r) => /^arn:[a-z-]+:s3:::\*$/.test(r));
    const actions = list(s.Action).map((a) => a.toLowerCase());
    if (everything && actions.some((a) => a === '*' || a === '*:*')) return 'allows every action ("*") on "*"';
    if (everyBucket && actions.some((a) => a === 's3:*')) s3 = true;
  }
  return s3 ? 'allows every S3 action ("s3:*") on every bucket' : undefined;
}
