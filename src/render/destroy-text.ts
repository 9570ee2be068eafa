/** The destroy plan and its result as text: per resource what goes ([-]), what stays and why, then the summary. */
import type { DestroyPlan, DestroyItem } from '../engine/destroy.js';
import { destroyCounts, destroySteps } from '../engine/destroy.js';
import type { DestroyResult } from '../engine/destroy-run.js';
import type { Step } from '../model.js';
import { JSON_FORMAT_VERSION } from './json.js';
import type { DestroyPlanDocument, DestroyResultDocument } from './json-types.js';
import { policyLabel, removalText, renderFacts, trustSummary } from './plan-text.js';
import type { Style } from './style.js';

const KIND: Record<DestroyItem['kind'], string> = {
  role: 'role',
  policy: 'policy',
  'oidc-provider': 'OIDC provider',
  'pod-identity-association': 'pod identity association',
};

function itemHead(item: DestroyItem, style: Style): string {
  const head = `${KIND[item.kind]} ${item.name}`;
  switch (item.action) {
    case 'delete':
      return `${style.remove('[-]')} ${head}`;
    case 'detach':
      return `${style.change('[~]')} ${head}  ${style.dim('kept')}`;
    case 'restore':
      return `${style.change('[~]')} ${head}  ${style.dim('kept, put back as it was')}`;
    case 'keep':
      return `${style.dim('[=]')} ${head}  ${style.dim('kept')}`;
    case 'blocked':
      return `${style.warn('[!]')} ${head}  ${style.warn('kept for now')}`;
    case 'absent':
      return `${style.dim('[ ]')} ${head}  ${style.dim('not there')}`;
    case 'unknown':
      return `${style.warn('[?]')} ${head}`;
  }
}

export function renderDestroyPlan(plan: DestroyPlan, style: Style): string {
  const out = [
    renderFacts(plan.facts),
    '',
    style.bold(
      'Destroy: what flyte-aws-setup made for this config, removed in reverse order (the EKS cluster is never touched)',
    ),
  ];
  for (const item of plan.items) {
    out.push(`   ${itemHead(item, style)}`);
    for (const step of item.steps) {
      out.push(`       ${style.remove('-')} ${removalText(step)}`);
      // The trust put back, as the plan shows a trust.
      if (step.op === 'UpdateAssumeRolePolicy') out.push(...trustSummary(step.trust).map((l) => `           ${l}`));
    }
    if (item.reason)
      out.push(
        `       ${['keep', 'detach', 'restore'].includes(item.action) ? style.dim('why:') : style.warn('why:')} ${item.reason}`,
      );
    for (const note of item.notes) out.push(`       ${style.dim('note:')} ${note}`);
  }
  out.push('', renderDestroySummary(plan, style));
  return out.join('\n');
}

export function renderDestroySummary(plan: DestroyPlan, style: Style): string {
  const n = destroyCounts(plan);
  const calls = destroySteps(plan).length;
  const parts: string[] = [];
  if (n.restore > 0) parts.push(`${n.restore} put back as they were before flyte-aws-setup`);
  if (n.keep + n.detach > 0) parts.push(`${n.keep + n.detach} kept (existed before, or another setup's)`);
  if (n.blocked > 0) parts.push(`${n.blocked} kept for now (see why)`);
  if (n.unknown > 0) parts.push(`${n.unknown} unknown (see why)`);
  if (n.absent > 0) parts.push(`${n.absent} not there`);
  if (calls === 0) return `Nothing to remove${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`;
  let line = `Destroy plan: ${[`${n.delete} to delete`, ...parts].join(', ')}; ${calls} AWS call(s).`;
  if (n.blocked > 0) {
    line += `\n${style.warn(`${n.blocked} resource(s) flyte-aws-setup made stay until what is said above is done.`)}`;
  }
  return line;
}

export function renderDestroyResult(plan: DestroyPlan, result: DestroyResult, style: Style): string {
  const lines: string[] = [];
  const done = result.done.length;
  for (const item of plan.items) {
    if (item.steps.length === 0) continue;
    const finished = item.steps.every((s) => result.done.includes(s));
    const head = `${KIND[item.kind]} ${item.name}`;
    if (finished) {
      const done =
        item.action === 'delete'
          ? 'deleted'
          : item.action === 'restore'
            ? 'put back as it was before flyte-aws-setup'
            : `${policyList(item.steps)} detached`;
      lines.push(`${style.ok('✓')} ${head}: ${done}`);
    } else {
      const did = item.steps.filter((s) => result.done.includes(s)).map(removalText);
      lines.push(`${style.error('✗')} ${head}: not done${did.length > 0 ? ` (done: ${did.join(', ')})` : ''}`);
    }
  }
  if (result.error) {
    lines.push(`    ${style.error(result.error.message)}`);
    if (result.error.hint) lines.push(`    ${result.error.hint}`);
  }
  lines.push('');
  switch (result.outcome) {
    case 'complete':
      lines.push(
        style.ok(`Destroy complete: ${done} change(s) made; nothing flyte-aws-setup made for this config is left.`),
      );
      break;
    case 'blocked':
      lines.push(
        style.warn(
          `Destroy done as far as it can go: ${done} change(s) made; what is kept for now is listed in the plan above, ` +
            'with what to do; then run destroy again.',
        ),
      );
      break;
    case 'failed':
      lines.push(
        style.error(
          `Destroy stopped: ${done} change(s) made (listed above). Fix the cause and run destroy again; it picks up where this run stopped.`,
        ),
      );
      break;
    case 'interrupted':
      lines.push(style.error(`Interrupted: ${done} change(s) made. Run destroy again to finish.`));
      break;
  }
  return lines.join('\n');
}

function policyList(steps: Step[]): string {
  return steps
    .filter((s): s is Extract<Step, { op: 'DetachRolePolicy' }> => s.op === 'DetachRolePolicy')
    .map((s) => policyLabel(s.policyArn))
    .join(', ');
}

export function destroyPlanJson(plan: DestroyPlan): DestroyPlanDocument {
  return {
    formatVersion: JSON_FORMAT_VERSION,
    kind: 'destroy-plan',
    facts: plan.facts,
    summary: destroyCounts(plan),
    items: plan.items,
    order: destroySteps(plan),
  };
}

export function destroyResultJson(
  plan: DestroyPlan,
  result: DestroyResult,
  extra: { exitCode: number; calls?: { total: number; mutating: number } },
): DestroyResultDocument {
  return {
    formatVersion: JSON_FORMAT_VERSION,
    kind: 'destroy-result',
    outcome: result.outcome,
    exitCode: extra.exitCode,
    facts: plan.facts,
    items: plan.items.map((i) => ({ ...i, done: i.steps.filter((s) => result.done.includes(s)) })),
    ...(result.error ? { error: result.error } : {}),
    ...(extra.calls ? { calls: extra.calls } : {}),
  };
}
