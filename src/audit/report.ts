/** `verify`'s report: the findings per section, in the documents' order, and the verdict. Pure. */
import type { SectionId, Target } from '../config/schema.js';
import type { Facts, Note, Plan } from '../model.js';
import { countBySeverity, type Finding, type LeftoverFinding } from './finding.js';

/** `not-checked`: on, but with nothing to read (the cluster's VPC is not known); its note says why. */
export type SectionVerdict = 'ok' | 'warnings' | 'problems' | 'skipped' | 'not-checked';

export interface SectionReport {
  id: SectionId;
  title: string;
  verdict: SectionVerdict;
  findings: Finding[];
  /** Why a skipped section is skipped, when it is not simply `<id>: false`. */
  skipReason?: string;
  /** Why a section was not checked, or which part of it was not. */
  note?: string;
}

export interface VerifyReport {
  facts: Facts;
  /** The config's target: the roles and trusts checked are the ones it needs (the other sections are skipped). */
  target?: Target;
  sections: SectionReport[];
  /** The setup's roles the config no longer names. */
  leftovers: LeftoverFinding[];
  errors: number;
  warnings: number;
  /** No error: AWS matches the config and the audit found nothing wrong (warnings allowed). */
  ok: boolean;
}

export function verifyReport(
  plan: Plan,
  findings: Finding[],
  target?: Target,
  leftovers: LeftoverFinding[] = [],
): VerifyReport {
  const sections = plan.sections.map((s): SectionReport => {
    const own = findings.filter((f) => f.section === s.id);
    const { errors, warnings } = countBySeverity(own);
    const notChecked = s.status === 'unchanged' && s.resources.length === 0;
    const verdict: SectionVerdict =
      errors > 0
        ? 'problems'
        : warnings > 0
          ? 'warnings'
          : s.status === 'skipped'
            ? 'skipped'
            : notChecked
              ? 'not-checked'
              : 'ok';
    // Errors first, each kind of finding in a stable order.
    own.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
    return {
      id: s.id,
      title: s.title,
      verdict,
      findings: own,
      ...(s.skipReason ? { skipReason: s.skipReason } : {}),
      // Every note of a section not checked; of one checked, those that say what of it was not (with several
      // clusters, one per cluster whose VPC is not known).
      ...noteOf(verdict === 'not-checked' ? s.notes : verdict === 'skipped' ? [] : s.notes.filter((n) => n.unchecked)),
    };
  });
  const { errors, warnings } = countBySeverity([...findings, ...leftovers]);
  return { facts: plan.facts, ...(target ? { target } : {}), sections, leftovers, errors, warnings, ok: errors === 0 };
}

function noteOf(notes: readonly Note[]): { note?: string } {
  return notes.length > 0 ? { note: notes.map((n) => n.message).join('; ') } : {};
}
