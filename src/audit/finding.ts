/** What `verify` reports: one finding per problem, naming the resource, what is wrong, and how to fix it. */
import type { SectionId } from '../config/schema.js';

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
  | 'vpc-dns-off'
  | 'blocked'
  | 'unchecked'
  // A role of the setup that the config no longer names: it still grants what it holds.
  | 'leftover'
  // What people get wrong when they follow the documents by hand.
  | 'foreign-issuer'
  | 'other-provider'
  | 'provider-missing'
  | 'provider-audience-missing'
  | 'aud-missing'
  | 'aud-not-string-equals'
  | 'sub-missing'
  | 'wildcard-string-equals'
  | 'broad-policy'
  | 'extra-policy'
  | 'inline-policy'
  | 'trust-size'
  | 'path-differs';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  section: SectionId;
  /** The resource, as `role NAME`, `policy NAME`, `OIDC provider HOST` or `cluster NAME`. */
  resource: string;
  problem: string;
  fix: string;
}

/** A finding about no section: a role of the setup the config no longer names. */
export type LeftoverFinding = Omit<Finding, 'section'>;

export function countBySeverity(findings: Pick<Finding, 'severity'>[]): { errors: number; warnings: number } {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}
