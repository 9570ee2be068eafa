/**
 * The hand-off to Flyte as every adapter runs it: the role ARNs from a plan or a run, the files written, the
 * report. `outputs` writes them from what AWS holds; `apply` and the wizard after a complete run.
 */
import { join } from 'node:path';
import type { Config, SectionId } from '../config/schema.js';
import type { RunResult } from '../engine/apply.js';
import type { Facts, Plan } from '../model.js';
import { ExitCode } from '../errors.js';
import { handoffCaveats, handoffFiles, nextSteps, type HandoffFile } from '../handoff/files.js';
import { chartOf } from '../handoff/charts.js';
import { handoffInput, handoffTarget, type HandoffInput, type MissingRole } from '../handoff/input.js';
import type { Target } from '../config/schema.js';
import { writeHandoff, type WriteOptions, type WriteResult } from '../handoff/write.js';
import { JSON_FORMAT_VERSION } from '../render/json.js';
import type { HandoffDocument } from '../render/json-types.js';
import { renderHandoff, renderHandoffUnchanged, renderMissing } from '../render/handoff-text.js';
import type { Style } from '../render/style.js';
import { rerunCommand, type Output, type RerunOptions } from './context.js';
import { DEFAULT_OUT_DIR, type HandoffCliOptions } from './io.js';

export { DEFAULT_OUT_DIR } from './io.js';

/** Role name -> ARN, for the roles the plan found in AWS (and, `withCreated`, those it is to create). */
export function roleArnsFromPlan(plan: Plan, withCreated = false): Map<string, string> {
  const arns = new Map<string, string>();
  for (const s of plan.sections) {
    for (const r of s.resources)
      if (r.kind === 'role' && (withCreated || r.action !== 'create')) arns.set(r.name, r.arn);
  }
  return arns;
}

/**
 * Hand-off files made before they are written, by their input (as JSON): `prepareHandoff` makes them while a run's
 * writes wait on AWS; `handOff` takes them for the same input, and makes its own for any other.
 */
export type PreparedHandoff = Map<string, HandoffFile[]>;

/** The files for one cluster's input: those prepared for the same input (taken out), or made now. */
function filesFor(input: HandoffInput, prepared: PreparedHandoff | undefined): HandoffFile[] {
  const key = JSON.stringify(input);
  const files = prepared?.get(key);
  prepared?.delete(key);
  return files ?? handoffFiles(input);
}

/**
 * Make the hand-off files a complete run of `plan` will write, from the ARNs the plan gives its roles: rendering
 * them (the Helm values, the attributes, their YAML) takes milliseconds that an apply would otherwise spend after its
 * last answer from AWS. What the run reads back decides: when it gives other ARNs, the files are made again from
 * those.
 */
export function prepareHandoff(config: Config, plan: Plan, opts: Pick<HandoffCliOptions, 'flavor'>): PreparedHandoff {
  const prepared: PreparedHandoff = new Map();
  const target = handoffTarget(config, opts.flavor);
  const { input, missing } = handoffInput(config, plan.facts, roleArnsFromPlan(plan, true), target, () => '');
  if (missing.length > 0) return prepared;
  for (const { input: one } of clusterInputs(config, input)) prepared.set(JSON.stringify(one), handoffFiles(one));
  return prepared;
}

/** Several clusters: a set of files each, in a sub-folder named after it (one cluster: the folder itself). */
function clusterInputs(config: Config, input: HandoffInput): { cluster?: string; input: HandoffInput }[] {
  if (config.clusters.length <= 1) return [{ input }];
  return config.clusters.map((c) => ({ cluster: c.name, input: { ...input, cluster: c.name } }));
}

/** Role name -> ARN, for the roles a run left in place (as read back after the changes). */
export function roleArnsFromResult(result: Pick<RunResult, 'sections'>): Map<string, string> {
  const arns = new Map<string, string>();
  for (const s of result.sections) {
    if (!['created', 'updated', 'unchanged'].includes(s.outcome)) continue;
    for (const r of s.resources) if (r.kind === 'role') arns.set(r.name, r.arn);
  }
  return arns;
}

function whyMissing(sections: { id: SectionId; waiting?: { reason: string } }[], rerun: string) {
  return (id: SectionId): string => {
    const waiting = sections.find((s) => s.id === id)?.waiting;
    return waiting ? `${waiting.reason} (waiting for the cluster)` : `it does not exist yet; create it with ${rerun}`;
  };
}

export interface HandoffRequest {
  config: Config;
  facts: Facts;
  arns: ReadonlyMap<string, string>;
  sections: { id: SectionId; waiting?: { reason: string } }[];
  rerun: string;
  /** Files made ahead (`prepareHandoff`): those of the same input are taken instead of made again. */
  prepared?: PreparedHandoff;
}

export interface HandoffOutcome {
  code: number;
  /** Whose files: the config's target (or Union's, with `--flavor union`). */
  target: Target;
  missing: MissingRole[];
  result?: WriteResult;
  caveats: string[];
  next: string[];
}

/** Where the report goes: a line writer and its style; undefined for none (JSON on stdout instead). */
export interface ReportSink {
  write(line: string): void;
  style: Style;
  /** A terminal's width, where the lines are fitted to it: a paragraph is written as one line. */
  columns?: number;
  /**
   * A run that changed nothing: when every file is up to date too, one line says so (the table, the notes and the
   * next steps were said by the run that wrote them).
   */
  brief?: boolean;
}

/** Build the files from the ARNs, write them, report. Exit 4 when a file was kept; 1 when roles are missing. */
export async function handOff(
  req: HandoffRequest,
  opts: HandoffCliOptions,
  sink: ReportSink | undefined,
  writeOptions: WriteOptions = {},
): Promise<HandoffOutcome> {
  const target = handoffTarget(req.config, opts.flavor);
  const dir = opts.outDir ?? DEFAULT_OUT_DIR;
  const { input, missing } = handoffInput(req.config, req.facts, req.arns, target, whyMissing(req.sections, req.rerun));
  if (missing.length > 0) {
    sink?.write(renderMissing(missing, sink.style));
    return { code: ExitCode.Failure, target, missing, caveats: [], next: [] };
  }
  const results: WriteResult[] = [];
  const caveats: string[] = [];
  const next: string[] = [];
  for (const { cluster, input: one } of clusterInputs(req.config, input)) {
    const at = cluster === undefined ? dir : join(dir, cluster);
    const files = filesFor(one, req.prepared);
    const result = await writeHandoff(at, files, { force: opts.force ?? false, ...writeOptions });
    const said = handoffCaveats(one);
    const steps = nextSteps(one, at, files);
    results.push(
      cluster === undefined
        ? result
        : {
            dir,
            files: result.files.map((f) => ({ ...f, path: join(cluster, f.path) })),
            stale: result.stale.map((f) => join(cluster, f)),
          },
    );
    for (const c of said) if (!caveats.includes(c)) caveats.push(c);
    for (const n of steps) if (!next.includes(n)) next.push(n);
    const unchanged = result.stale.length === 0 && result.files.every((f) => f.outcome === 'unchanged');
    if (sink?.brief && unchanged) {
      sink.write(renderHandoffUnchanged(result, sink.style));
    } else if (sink) {
      const chart = chartOf(target);
      const what = chart ? `${chart.chart} ${chart.version}` : 'Union';
      const where = `account ${input.accountId}, region ${input.region}${cluster !== undefined ? `, cluster ${cluster}` : ''}, for ${what}`;
      sink.write(
        renderHandoff({ result, where, caveats: said, next: steps }, sink.style, {
          ...(sink.columns !== undefined ? { columns: sink.columns } : {}),
        }),
      );
    }
  }
  const result: WriteResult =
    results.length === 1
      ? results[0]!
      : { dir, files: results.flatMap((r) => r.files), stale: results.flatMap((r) => r.stale) };
  const kept = result.files.some((f) => f.outcome === 'kept');
  return { code: kept ? ExitCode.FilesKept : ExitCode.Success, target, missing, result, caveats, next };
}

export function handoffJson(outcome: HandoffOutcome, drift: number): HandoffDocument {
  const chart = chartOf(outcome.target);
  return {
    formatVersion: JSON_FORMAT_VERSION,
    kind: 'handoff',
    exitCode: outcome.code,
    target: outcome.target,
    ...(chart ? { chart: { name: chart.chart, version: chart.version } } : {}),
    ...(outcome.result
      ? {
          dir: outcome.result.dir,
          files: outcome.result.files.map((f) => ({ path: f.shown, outcome: f.outcome, what: f.what })),
          stale: outcome.result.stale,
        }
      : {}),
    missing: outcome.missing,
    awsDiffersFromConfig: drift > 0,
    caveats: outcome.caveats,
    next: outcome.next,
  };
}

/**
 * After `apply`: a complete run writes the hand-off files with the ARNs it read back; any other run writes none
 * (half the roles would give Helm values that fail in confusing ways) and says why. Returns the exit code the
 * hand-off adds (0 when it adds nothing). `brief`: the run changed nothing (see `ReportSink.brief`).
 */
export async function handOffAfterRun(
  config: Config,
  result: RunResult,
  opts: HandoffCliOptions & RerunOptions,
  output: Output,
  brief = false,
  prepared?: PreparedHandoff,
): Promise<number> {
  const sink = {
    ...(opts.json ? { write: output.err, style: output.errStyle } : { write: output.out, style: output.style }),
    brief,
  };
  sink.write('');
  if (result.outcome !== 'complete') {
    const left = result.sections.filter((s) => !['created', 'updated', 'unchanged', 'skipped'].includes(s.outcome));
    sink.write(
      sink.style.warn(
        `Hand-off files not written: ${left.map((s) => s.title).join(', ')} not done yet. They are written after ` +
          'a complete run, or by `flyte-aws-setup outputs --config FILE`.',
      ),
    );
    return ExitCode.Success;
  }
  const outcome = await handOff(
    {
      config,
      facts: result.facts,
      arns: roleArnsFromResult(result),
      sections: result.sections,
      rerun: rerunCommand(opts),
      ...(prepared !== undefined ? { prepared } : {}),
    },
    opts,
    sink,
  );
  return outcome.code;
}
