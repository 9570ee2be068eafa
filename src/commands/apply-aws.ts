/**
 * The main command's run against AWS (./apply.ts reads the config and makes an offline plan without loading this):
 * read the account, plan, print it; unless --dry-run, ask (or take --yes), apply section by section, check the
 * access, report, and write the hand-off files.
 */
import type { ApplyCliOptions, CliIo } from '../session/io.js';
import { CancelledError, ExitCode, stackWithCause } from '../errors.js';
import { sectionErrorCause, type RunResult } from '../engine/apply.js';
import { DEFAULT_CONCURRENCY, firstSetupPlan, makePlan } from '../engine/engine.js';
import { planExitCode, planSteps, type Plan } from '../model.js';
import { planJson, resultJson } from '../render/json.js';
import {
  planIsQuiet,
  renderLeftoverResults,
  renderPlan,
  renderQuietPlan,
  renderRunSummary,
  renderSectionResult,
} from '../render/plan-text.js';
import { debugLines, inConfigFile, openAws, rerunCommand, type Output } from '../session/context.js';
import type { LoadedConfig } from '../load/validate.js';
import type { AccessAhead, AccessOutcome } from '../access/run.js';
import { startAccessReads, type AccessReads, type AppliedRun } from '../access/after-apply.js';
import { warmEvaluator } from '../policy/simulate.js';
import type { Config } from '../config/schema.js';
import { renderAccessAfterApply } from '../render/access-text.js';
import { terminalHost, yesHost } from '../session/approval.js';
import { applyRun } from '../session/apply-run.js';
import { planApproval } from '../engine/approval.js';
import { handOffAfterRun, prepareHandoff, type PreparedHandoff } from '../session/hand-off.js';
import { interruptController } from '../session/interrupt.js';
import { askPermissionsAhead, type PermissionsAhead } from '../permissions/preflight.js';
import type { RoleListing } from '../aws/gateway.js';

export function exitCodeOf(result: RunResult, signalName?: string): number {
  switch (result.outcome) {
    case 'complete':
      return ExitCode.Success;
    case 'incomplete':
      return ExitCode.Incomplete;
    case 'failed':
      return ExitCode.Failure;
    case 'interrupted':
      return signalName === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted;
  }
}

/** The command a finding's fix names: a plan the user has not seen does not carry this run's approval of broadening. */
function accessRerun(opts: ApplyCliOptions): string {
  return rerunCommand({ ...opts, approveBroadening: false });
}

/**
 * The access check after a run (src/access/run.ts, loaded here only): undefined when it could not be made, which
 * is said on stderr and does not fail the run (the run itself checked each resource).
 */
async function accessAfterRun(
  config: Config,
  run: AppliedRun,
  beside: { reads?: AccessReads; ahead?: Promise<AccessAhead | undefined> },
  aws: Awaited<ReturnType<typeof openAws>>,
  opts: ApplyCliOptions,
  output: Output,
): Promise<AccessOutcome | undefined> {
  output.progress.start('Evaluating the policies of the Flyte roles');
  try {
    const { accessAfterApply } = await import('../access/run.js');
    return await accessAfterApply(aws.gateway, config, run.plan.facts, {
      rerun: accessRerun(opts),
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      runs: [run],
      ...beside,
    });
  } catch (err) {
    output.err(`The access check could not be made: ${(err as Error).message}`);
    return undefined;
  } finally {
    output.progress.clear();
  }
}

export async function applyWithAws(
  loaded: LoadedConfig,
  opts: ApplyCliOptions,
  io: CliIo,
  output: Output,
): Promise<number> {
  const config = loaded.config;
  const { out, style, progress } = output;
  const aws = await openAws(config, opts, output);
  const interrupt = interruptController(io);
  // Once the run has ended without completing (or the command has), the access check is not worked out ahead.
  const aheadNotWanted = new AbortController();
  try {
    const host = opts.yes
      ? yesHost({ approveBroadening: opts.approveBroadening === true })
      : terminalHost(io, interrupt.signal);
    progress.start('Reading the account');
    let plan: Plan;
    // A first setup's permissions, asked beside the plan's reads instead of after them (one round trip less), when
    // the account's roles show that the config makes a role (the run then has changes, and its preflight runs), and
    // the host refuses no plan before its preflight: a terminal to ask on, or --yes with --approve-broadening (with
    // --yes alone, a plan that broadens access is refused first, and the plan is not known yet).
    let permissionsAhead: Promise<PermissionsAhead> | undefined;
    // The account's roles as the plan listed them: the preflight finds a role session's role there, without a read.
    let listed: readonly RoleListing[] | undefined;
    const askAhead = !opts.dryRun && opts.preflight !== false && (!opts.yes || opts.approveBroadening === true);
    try {
      // What the config names (extra policies, the boundary, Union's role, the cluster) is looked up with the plan's
      // reads: a missing one stops the run here, before anything is written, as bad input.
      plan = await inConfigFile(loaded, () =>
        makePlan(config, aws.gateway, {
          concurrency: opts.concurrency,
          references: true,
          ...(opts.prune ? { prune: true } : {}),
          // A run that applies takes a role ListRoles does not list as missing; a dry run asks GetRole, as verify.
          ...(opts.dryRun ? {} : { trustRoleListing: true }),
          ...(opts.dryRun
            ? {}
            : {
                whenListed(facts, lacking, listing) {
                  listed = listing;
                  if (lacking.length === 0) return;
                  // The run will change something, so the access check will run at its end: its evaluator (the
                  // most code it loads) loads while the plan's reads are answered, not while the writes are.
                  warmEvaluator().catch(() => undefined);
                  if (!askAhead) return;
                  const first = firstSetupPlan(config, facts);
                  try {
                    // No terminal to ask on: refused before the preflight, whatever the plan.
                    host.assertCanAsk?.(planApproval(first));
                  } catch {
                    return;
                  }
                  permissionsAhead = askPermissionsAhead(first, aws.gateway, listing);
                  // Awaited by the preflight; a run that stops before it (a problem in the config) leaves it be.
                  permissionsAhead.catch(() => undefined);
                },
              }),
        }),
      );
    } finally {
      progress.clear();
    }
    if (interrupt.signal.aborted) {
      throw new CancelledError('Interrupted before any change; nothing was changed.', interrupt.exitCode());
    }

    if (opts.dryRun) {
      out(opts.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan, style));
      return planExitCode(plan, opts.detailedExitcode);
    }
    const changes = planSteps(plan).length > 0;
    // Nothing to do and nothing to say: a few lines, unless --verbose.
    const quiet = !changes && !opts.verbose && planIsQuiet(plan);
    if (!opts.json) out(quiet ? renderQuietPlan(plan, style) : renderPlan(plan, style));
    // With --json, stdout keeps the result alone: the plan to say yes (or no) to goes to stderr.
    if (changes && !opts.yes && opts.json) output.err(renderPlan(plan, output.errStyle));
    // In JSON mode stdout holds only the JSON: the per-section lines are progress, on stderr.
    const write = opts.json ? output.err : output.out;
    const lineStyle = opts.json ? output.errStyle : output.style;
    let lines = 0;
    // What the access check at the end reads that no write changes is read beside the writes.
    let reads: AccessReads | undefined;
    // The access check worked out from them and the plan, for the roles as the plan expects them, while the writes
    // wait on AWS: the end takes it if the run left the same documents.
    let ahead: Promise<AccessAhead | undefined> | undefined;
    // The hand-off files, made while the writes wait (prepareHandoff); not once the run has ended.
    let prepared: PreparedHandoff | undefined;
    let ended = false;
    const { result } = await applyRun(plan, aws.gateway, host, output, {
      approve: 'plan',
      preflight: opts.preflight !== false,
      ...(permissionsAhead !== undefined ? { permissionsAhead } : {}),
      ...(listed !== undefined ? { roles: listed } : {}),
      json: opts.json,
      config: opts.config,
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      signal: interrupt.signal,
      onStart() {
        if (!changes) return;
        reads = startAccessReads(aws.gateway, config, plan, opts.concurrency ?? DEFAULT_CONCURRENCY);
        const started = reads;
        ahead = import('../access/run.js').then((m) =>
          m.accessAhead(config, plan, { rerun: accessRerun(opts), reads: started, signal: aheadNotWanted.signal }),
        );
        ahead.catch(() => undefined);
        // The evaluator (the most code the check loads) loads and warms up while the writes wait on AWS, not after
        // the last.
        warmEvaluator().catch(() => undefined);
        // The hand-off files too, from the plan's ARNs, on a turn of their own (the reads above go out first), unless
        // the run has ended by then: the end of a complete run takes them when it read back the same.
        setImmediate(() => {
          if (ended || interrupt.signal.aborted) return;
          try {
            prepared = prepareHandoff(config, plan, opts);
          } catch {
            // Made at the end instead, where an error is reported.
          }
        });
      },
      onEvent(event) {
        if (event.type === 'leftovers-done') {
          output.progress.clear();
          if (!opts.json && lines++ === 0) write('');
          write(renderLeftoverResults(event.results, lineStyle));
          return;
        }
        if (event.type !== 'section-done' || !(changes || event.result.outcome === 'failed')) return;
        output.progress.clear();
        // A blank line between the plan and the sections' lines.
        if (changes && !opts.json && lines++ === 0) write('');
        // Why sections wait is said once, in the plan above (or in the JSON document).
        write(renderSectionResult(event.result, lineStyle, { waiting: false }));
      },
    });
    ended = true;
    if (result.outcome !== 'complete') aheadNotWanted.abort();
    let code = exitCodeOf(result, interrupt.signalName());
    // Where the run changed something and completed, what IAM now decides for each Flyte identity (loaded lazily:
    // it carries the evaluator). A needed access refused fails the run: the setup cannot serve Flyte as it is.
    const access =
      changes && result.outcome === 'complete'
        ? await accessAfterRun(
            config,
            { plan, result },
            { ...(reads !== undefined ? { reads } : {}), ...(ahead !== undefined ? { ahead } : {}) },
            aws,
            opts,
            output,
          )
        : undefined;
    if (access?.findings.some((f) => f.code === 'access-denied') && code === ExitCode.Success) code = ExitCode.Failure;
    const recorder = aws.clients.recorder;
    // --debug: whether the work done while the writes waited was taken (each is made again when it was not).
    const debug = debugLines(opts, output);
    if (access !== undefined)
      debug?.(`access check: ${access.ahead ? 'worked out while the writes waited' : 'worked out at the end'}`);
    const preparedFiles = prepared?.size ?? 0;
    // The hand-off files of a complete run (a brief report when it changed nothing), with those made while it ran.
    const handOff = async () => {
      const code = await handOffAfterRun(
        config,
        result,
        opts,
        output,
        quiet && result.outcome === 'complete',
        prepared,
      );
      const taken = preparedFiles - (prepared?.size ?? 0);
      if (changes)
        debug?.(
          preparedFiles > 0
            ? `hand-off files: made while the writes waited for ${preparedFiles} cluster(s), taken for ${taken}`
            : 'hand-off files: not made while the writes waited',
        );
      return code;
    };
    if (opts.json) {
      // The hand-off first (its lines go to stderr): the document's exit code is the run's, a kept file's 4 included.
      const handoff = await handOff();
      if (code === ExitCode.Success) code = handoff;
      const calls = { total: recorder.total, mutating: recorder.mutating };
      out(
        JSON.stringify(
          resultJson(result, {
            exitCode: code,
            calls,
            ...(access ? { access: { report: access.report, findings: access.findings } } : {}),
          }),
          null,
          2,
        ),
      );
    } else if (changes || result.outcome !== 'complete') {
      out('');
      out(renderRunSummary(result, style, rerunCommand(opts)));
      if (access !== undefined && access.report.identities.length > 0) {
        out('');
        out(renderAccessAfterApply(access.report, access.findings, style));
      }
    }
    for (const s of result.sections) {
      if (s.error?.stack) output.err(`internal error in ${s.id}: ${s.error.stack}`);
      else if (s.error && opts.debug) output.err(`${s.id}: ${stackWithCause(sectionErrorCause(s))}`);
    }
    if (opts.json) return code;
    const handoff = await handOff();
    return code === ExitCode.Success ? handoff : code;
  } finally {
    aheadNotWanted.abort();
    interrupt.dispose();
    aws.close();
  }
}
