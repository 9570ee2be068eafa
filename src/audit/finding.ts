/** What `verify` reports: one finding per problem, naming the resource, what is wrong, and how to fix it. */
import type { SectionId } from '../config/schema.js';
import type { FindingCode, Severity } from '../policy/findings.js';

export type { FindingCode, Severity } from '../policy/findings.js';

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
