/**
 * The access matrix as text: one line per Flyte identity, a column per thing Flyte needs (assume its role, list the
 * bucket, get, put and delete objects, use the bucket's KMS key, what the config's grants give), whether its neighbours are refused, and what it reaches beyond the bucket;
 * then what was not checked. `--as` explains one identity: its role, each decision and the statement that made it.
 */
import {
  assumeText,
  decisionText,
  isWrong,
  type AccessCell,
  type AccessDecision,
  type AccessReport,
  type IdentityAccess,
} from '../access/matrix.js';
import type { CapabilityColumn } from '../access/capabilities.js';
import type { Style } from './style.js';

/** What Flyte needs, a column each: kms (the bucket's key) and grants show `-` when the config has none. */
const NEED_COLUMNS: readonly CapabilityColumn[] = ['list', 'get', 'put', 'delete', 'kms', 'grant'];

/** A mark for decisions that should all be what the setup wants: ✓ all are, ✗ one is not, ? one was not checked. */
function mark(decisions: readonly AccessDecision[], style: Style): string {
  if (decisions.length === 0) return style.dim('-');
  if (decisions.some(isWrong)) return style.error('✗');
  if (decisions.some((d) => d.state === 'not-checked')) return style.warn('?');
  return style.ok('✓');
}

function beyondText(cells: readonly AccessCell[], style: Style): string {
  const beyond = cells.filter((c) => c.column === 'beyond');
  const reached = beyond.filter(isWrong).map((c) => c.capability);
  if (reached.length > 0) return style.error(reached.join(', '));
  if (beyond.some((c) => c.state === 'not-checked')) return style.warn('not checked');
  return beyond.length > 0 ? style.ok('none') : style.dim('-');
}

// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[[0-9;]*m/g;

/** How wide a cell shows (its colour codes take no room). */
function shown(text: string): number {
  return text.replace(COLOUR, '').length;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - shown(text)));
}

function row(i: IdentityAccess, style: Style): string[] {
  if (i.notChecked !== undefined) return [i.id, i.roleName, style.warn(`not checked: ${i.notChecked}`)];
  return [
    i.id,
    i.roleName,
    mark(i.assume, style),
    mark(i.neighbours, style),
    ...NEED_COLUMNS.map((col) =>
      mark(
        i.cells.filter((c) => c.column === col),
        style,
      ),
    ),
    beyondText(i.cells, style),
  ];
}

/**
 * What the account does not show, in a line (the end of an apply; `verify` lists it in full): the bucket policy
 * only when it was not read.
 */
export function notVisibleBrief(report: AccessReport): string {
  const bucket = report.notChecked.some((n) => n.startsWith("the bucket's own policy")) ? ' the bucket policy,' : '';
  return (
    `Not checked (not visible from the account): SCPs and RCPs,${bucket} VPC endpoint policies, and whether ` +
    'the pods really get their role (flyte-aws-setup probe checks that in the cluster); verify lists them.'
  );
}

/** The matrix, as lines (for `verify`, and at the end of an apply with `brief`). */
export function renderAccess(report: AccessReport, style: Style, brief = false): string[] {
  const head = [
    'identity',
    'role',
    'assume',
    'others',
    'list',
    'get',
    'put',
    'delete',
    'kms',
    'grants',
    'beyond the bucket',
  ];
  const rows = report.identities.map((i) => row(i, style));
  if (rows.length === 0) return [];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (c < r.length - 1 ? shown(r[c]!) : 0))));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, c) => (c === cells.length - 1 ? cell : pad(cell, widths[c]!))).join('  ')}`.trimEnd();
  return [
    'Access, as IAM evaluates the policies AWS holds:',
    style.dim(line(head)),
    ...rows.map(line),
    style.dim('  ✓ as Flyte needs (others: another service account, namespace, audience and cluster are refused);'),
    style.dim(
      "  ✗ not so (the role's findings above say why); ? not checked; - nothing to check (no KMS key, no grants)",
    ),
    ...(brief
      ? [style.dim(`  ${notVisibleBrief(report)}`)]
      : [
          style.dim('  Not checked (not visible from the account):'),
          ...report.notChecked.map((n) => style.dim(`    - ${n}`)),
        ]),
    ...secondOpinionLines(report, style),
  ];
}

/**
 * IAM's own simulator's opinion, in a line or two (each after `indent`): agreed, differed (the findings say where),
 * or not made.
 */
export function secondOpinionLines(report: AccessReport, style: Style, indent = '  '): string[] {
  const o = report.secondOpinion;
  if (o === undefined) return [];
  const what = "Second opinion (IAM's simulator, iam:SimulatePrincipalPolicy, on each role's own policies)";
  if (o.state === 'off') return [`${indent}${style.dim(`${what}: not made, turned off (--no-second-opinion).`)}`];
  if (o.state === 'not-made') return [`${indent}${style.warn(`${what}: not made: ${o.reason ?? 'unknown'}.`)}`];
  const made = o.roles.filter((r) => r.state === 'made');
  const compared = made.reduce((n, r) => n + r.compared, 0);
  const roles = `${made.length} role${made.length === 1 ? '' : 's'}`;
  const verdict =
    o.disagreements.length === 0
      ? style.ok(`agrees on all ${compared} requests of ${roles}`)
      : style.warn(
          `differs on ${o.disagreements.length} of ${compared} requests of ${roles} (see the second-opinion-differs warnings)`,
        );
  const lines = [`${indent}${what}: ${verdict}.`];
  for (const r of o.roles.filter((r) => r.state === 'not-made')) {
    lines.push(`${indent}  ${style.warn(`not made for ${r.roleName}: ${r.reason ?? 'unknown'}`)}`);
  }
  return lines;
}

function decisionLine(label: string, d: AccessDecision, style: Style): string {
  const ok = !isWrong(d) && d.state !== 'not-checked';
  const sign = d.state === 'not-checked' ? style.warn('?') : ok ? style.ok('✓') : style.error('✗');
  const verdict = d.state === 'not-checked' ? 'not checked' : d.state === 'allowed' ? 'allowed' : 'refused';
  return `  ${sign} ${label}: ${verdict} (${decisionText(d)})`;
}

/** One identity, explained (`verify --as`): its role, each decision and why. */
export function renderIdentity(i: IdentityAccess, style: Style): string[] {
  const lines = [style.bold(`${i.id}: ${i.who}`), `  role ${i.roleArn ?? i.roleName}`];
  if (i.notChecked !== undefined) return [...lines, `  ${style.warn('?')} not checked: ${i.notChecked}`];
  for (const a of i.assume) lines.push(decisionLine(`assume the role (${assumeText(a)})`, a, style));
  if (i.assume.length === 0) {
    lines.push(`  ${style.dim('-')} assume the role: not checked (its trust is not the tool's)`);
  }
  for (const n of i.neighbours) lines.push(decisionLine(`must refuse ${n.who}`, n, style));
  for (const a of i.alsoAssumes ?? []) {
    lines.push(
      `  ${style.warn('!')} may also assume ${a.roleName}: its trust lets these pods in too (${decisionText(a)}), ` +
        'and they get what it grants',
    );
  }
  lines.push('  What Flyte needs:');
  for (const c of i.cells.filter((c) => c.want === 'allowed')) lines.push(`  ${decisionLine(c.label, c, style)}`);
  lines.push('  What it must not reach:');
  for (const c of i.cells.filter((c) => c.want === 'denied')) lines.push(`  ${decisionLine(c.label, c, style)}`);
  return lines;
}

/** The access check at the end of an apply: the matrix, then each finding with its fix. */
export function renderAccessAfterApply(
  report: AccessReport,
  findings: readonly { code: string; severity: 'error' | 'warning'; resource: string; problem: string; fix: string }[],
  style: Style,
): string {
  const lines = renderAccess(report, style, true);
  for (const f of findings) {
    const mark = f.severity === 'error' ? style.error('error  ') : style.warn('warning');
    lines.push(`    ${mark} ${f.resource}: ${f.problem}`, `            ${style.dim('fix:')} ${f.fix}`);
  }
  const refused = findings.filter((f) => f.code === 'access-denied').length;
  if (refused > 0) {
    lines.push(
      style.error(
        `The setup is applied, but Flyte cannot work with it as it is: ${refused === 1 ? 'the error' : `the ${refused} errors`} above say what it needs and is refused.`,
      ),
    );
  }
  return lines.join('\n');
}
