/** The hand-off report: where each file is and what happened to it, caveats, and the next commands. */
import type { MissingRole } from '../handoff/input.js';
import type { FileOutcome, WriteResult } from '../handoff/write.js';
import type { Style } from './style.js';

const OUTCOME_TEXT: Record<FileOutcome, string> = {
  written: 'written',
  replaced: 'replaced',
  unchanged: 'unchanged',
  kept: 'KEPT',
};

export interface HandoffReport {
  result: WriteResult;
  where: string;
  caveats: string[];
  next: string[];
}

/** How the report is laid out: for a terminal of `columns`, a paragraph is one line that the terminal's fitting wraps. */
export interface HandoffLayout {
  columns?: number;
}

export function renderHandoff(report: HandoffReport, style: Style, layout: HandoffLayout = {}): string {
  const { result } = report;
  const width = Math.max(...result.files.map((f) => f.shown.length), 0);
  const widest = Math.max(...result.files.map((f) => 2 + 9 + 1 + width + 2 + f.what.length), 0);
  const narrow = layout.columns !== undefined && widest > layout.columns;
  const lines = [style.bold(`Hand-off files in ${result.dir} (${report.where}):`)];
  for (const f of result.files) {
    const mark =
      f.outcome === 'kept'
        ? style.warn(OUTCOME_TEXT[f.outcome].padEnd(9))
        : f.outcome === 'unchanged'
          ? style.dim(OUTCOME_TEXT[f.outcome].padEnd(9))
          : style.add(OUTCOME_TEXT[f.outcome].padEnd(9));
    const what =
      f.outcome === 'kept'
        ? 'differs from what flyte-aws-setup would write; left as it is (--force replaces it)'
        : f.what;
    // On a terminal too narrow for the columns, what a file is goes under its name.
    if (narrow) lines.push(`  ${mark} ${f.shown}`, `${' '.repeat(12)}${style.dim(what)}`);
    else lines.push(`  ${mark} ${f.shown.padEnd(width)}  ${style.dim(what)}`);
  }
  for (const s of result.stale) {
    lines.push(
      `  ${style.dim('stale'.padEnd(9))} ${s}  ${style.dim('from an earlier hand-off, not this config (left alone)')}`,
    );
  }
  for (const c of report.caveats) lines.push(`${style.warn('note:')} ${c}`);
  const kept = result.files.filter((f) => f.outcome === 'kept').length;
  if (kept > 0) {
    lines.push(
      style.warn(
        `${kept} file(s) kept because they differ from what flyte-aws-setup would write: compare them, then run ` +
          'again with --force to replace them.',
      ),
    );
  }
  if (report.next.length > 0) {
    lines.push('Next:');
    for (const n of layout.columns !== undefined ? paragraphs(report.next) : report.next) lines.push(`  ${n}`);
  }
  return lines.join('\n');
}

/** Hand-off files that were all up to date already, in one line. */
export function renderHandoffUnchanged(result: WriteResult, style: Style): string {
  const n = result.files.length;
  return style.dim(`Hand-off files in ${result.dir}: ${n === 1 ? 'the file is' : `all ${n} are`} up to date.`);
}

/** Indented lines that go on from the one before (a note under a command) joined into one paragraph. */
function paragraphs(next: string[]): string[] {
  const out: string[] = [];
  for (const n of next) {
    const last = out.length - 1;
    if (n.startsWith('  ') && last >= 0 && out[last]!.startsWith('  ')) out[last] = `${out[last]} ${n.trim()}`;
    else out.push(n);
  }
  return out;
}

export function renderMissing(missing: MissingRole[], style: Style): string {
  return [
    style.warn('Hand-off files not written: they need role ARNs that AWS does not hold yet:'),
    ...missing.map((m) => `  role ${m.roleName} (${m.section}): ${m.reason}`),
  ].join('\n');
}
