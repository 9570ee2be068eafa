/** The plan and the result as JSON: the same data the text renderers draw, for CI and other tools. */
import type { RunResult } from '../engine/apply.js';
import type { Plan } from '../model.js';
import { JSON_FORMAT_VERSION } from './format-version.js';
import type { AccessReport } from '../access/matrix.js';
import type { PlanDocument, ResultDocument, VerifyFinding } from './json-types.js';
import { planCounts } from './plan-text.js';

export { JSON_FORMAT_VERSION };

export function planJson(plan: Plan): PlanDocument {
  return {
    formatVersion: JSON_FORMAT_VERSION,
    kind: 'plan',
    facts: plan.facts,
    summary: planCounts(plan),
    sections: plan.sections.map((s) => ({
      id: s.id,
      title: s.title,
      status: s.status,
      ...(s.waiting ? { waiting: s.waiting } : {}),
      notes: s.notes,
      resources: s.resources.map(({ desired: _desired, current: _current, ...r }) => r),
    })),
    leftovers: plan.leftovers ?? [],
  };
}

export function resultJson(
  result: RunResult,
  extra: {
    exitCode: number;
    calls?: { total: number; mutating: number };
    access?: { report: AccessReport; findings: VerifyFinding[] };
  },
): ResultDocument {
  return {
    formatVersion: JSON_FORMAT_VERSION,
    kind: 'result',
    outcome: result.outcome,
    exitCode: extra.exitCode,
    facts: result.facts,
    sections: result.sections,
    ...(result.leftovers ? { leftovers: result.leftovers } : {}),
    ...(extra.calls ? { calls: extra.calls } : {}),
    ...(extra.access ? { access: extra.access.report, accessFindings: extra.access.findings } : {}),
  };
}
