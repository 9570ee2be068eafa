/**
 * The main command: plan from a config, show it, ask (or take --yes), apply it section by section, report.
 * `--dry-run` stops after the plan; `--dry-run --offline` plans without AWS.
 */
import type { AwsGateway } from '../aws/gateway.js';
import type { ApplyCliOptions, CliIo } from '../session/io.js';
import { CancelledError, ExitCode, UsageError, stackWithCause } from '../errors.js';
import { applyPlan, sectionErrorCause, type RunResult } from '../engine/apply.js';
import { DEFAULT_CONCURRENCY, makePlan } from '../engine/engine.js';
import { planSecurity, planSteps, type Plan } from '../model.js';
import { planJson, resultJson } from '../render/json.js';
import { renderLeftoverResults, renderPlan, renderRunSummary, renderSectionResult } from '../render/plan-text.js';
import { stepText } from '../render/step-text.js';
import {
  confirmOnTerminal,
  loadConfig,
  openAws,
  openOutput,
  requireTerminal,
  rerunCommand,
  type Output,
} from '../session/context.js';
import { checkOutDir } from '../handoff/write.js';
import { DEFAULT_OUT_DIR, handOffAfterRun } from '../session/hand-off.js';
import { interruptController } from '../session/interrupt.js';

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

export async function runApply(opts: ApplyCliOptions, io: CliIo): Promise<number> {
  if (opts.offline && !opts.dryRun) {
    throw new UsageError(
      '--offline only works with --dry-run',
      'a run that changes AWS needs credentials; add --dry-run to see the plan',
    );
  }
  const terminal = io.stdin.isTTY === true && io.stderr.isTTY === true;
  if (opts.interactive || (opts.config === undefined && terminal && !opts.yes && !opts.dryRun && !opts.json)) {
    const { runWizardCommand } = await import('./wizard.js');
    return runWizardCommand(opts, io);
  }
  if (opts.config === undefined) {
    throw new UsageError(
      'no config file given',
      'pass --config FILE (see examples/flyte-aws-setup.yaml), or run flyte-aws-setup in a terminal for the wizard',
    );
  }
  const config = await loadConfig(opts);
  if (!opts.dryRun) await checkOutDir(opts.outDir ?? DEFAULT_OUT_DIR);
  const output = await openOutput(io, opts);
  const { out, style, progress } = output;

  if (opts.dryRun && opts.offline) {
    const plan = await makePlan(config, undefined, { offline: true });
    out(opts.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan, style));
    return ExitCode.Success;
  }

  const aws = await openAws(config, opts, output);
  const interrupt = interruptController(io);
  try {
    progress.start('Reading the account');
    let plan: Plan;
    try {
      plan = await makePlan(config, aws.gateway, {
        concurrency: opts.concurrency,
        ...(opts.prune ? { prune: true } : {}),
      });
    } finally {
      progress.clear();
    }
    if (interrupt.signal.aborted) {
      throw new CancelledError('Interrupted before any change; nothing was changed.', interrupt.exitCode());
    }

    if (opts.dryRun) {
      out(opts.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan, style));
      return ExitCode.Success;
    }
    if (!opts.json) out(renderPlan(plan, style));
    const changes = planSteps(plan).length > 0;
    // With --json, stdout keeps the result alone: the plan to say yes (or no) to goes to stderr.
    if (changes && !opts.yes && opts.json) output.err(renderPlan(plan, output.errStyle));
    // Refused without a terminal to ask: say so before asking IAM anything more.
    if (changes && !opts.yes) requireApplyTerminal(io);
    if (changes && opts.preflight !== false) {
      const { preflight } = await import('../session/preflight.js');
      await preflight(plan, aws.gateway, output, opts);
    }
    if (changes) await confirmApply(plan, opts, io, interrupt.signal);

    const result = await applyWithProgress(plan, aws.gateway, opts, output, interrupt.signal);
    const code = exitCodeOf(result, interrupt.signalName());
    const recorder = aws.clients.recorder;
    if (opts.json) {
      const calls = { total: recorder.total, mutating: recorder.mutating };
      out(JSON.stringify(resultJson(result, { exitCode: code, calls }), null, 2));
    } else if (changes || result.outcome !== 'complete') {
      out('');
      out(renderRunSummary(result, style, rerunCommand(opts)));
    }
    for (const s of result.sections) {
      if (s.error?.stack) output.err(`internal error in ${s.id}: ${s.error.stack}`);
      else if (s.error && opts.debug) output.err(`${s.id}: ${stackWithCause(sectionErrorCause(s))}`);
    }
    const handoff = await handOffAfterRun(config, result, opts, output);
    return code === ExitCode.Success ? handoff : code;
  } finally {
    interrupt.dispose();
    aws.close();
  }
}

async function applyWithProgress(
  plan: Plan,
  gateway: AwsGateway,
  opts: ApplyCliOptions,
  output: Output,
  signal: AbortSignal,
): Promise<RunResult> {
  // In JSON mode stdout holds only the JSON: the per-section lines are progress, on stderr.
  const write = opts.json ? output.err : output.out;
  const style = opts.json ? output.errStyle : output.style;
  const changes = planSteps(plan).length > 0;
  if (changes && !opts.json) write('');
  const result = await applyPlan(
    plan,
    gateway,
    {
      onEvent(event) {
        if (event.type === 'step') output.progress.update(`${event.resource}: ${stepText(event.step)}`);
        else if (event.type === 'leftover-step') output.progress.update(`${event.role}: ${stepText(event.step)}`);
        else if (event.type === 'verify') output.progress.update(`${event.resource}: checking the result`);
        else if (event.type === 'section-done' && (changes || event.result.outcome === 'failed')) {
          output.progress.clear();
          write(renderSectionResult(event.result, style));
        } else if (event.type === 'leftovers-done') {
          output.progress.clear();
          write(renderLeftoverResults(event.results, style));
        }
      },
    },
    { concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY, signal },
  );
  output.progress.clear();
  return result;
}

function requireApplyTerminal(io: CliIo): void {
  requireTerminal(
    io,
    'the plan above changes AWS, and there is no terminal to ask for a yes',
    'pass --yes to apply it, or --dry-run to only print the plan',
  );
}

async function confirmApply(plan: Plan, opts: ApplyCliOptions, io: CliIo, signal: AbortSignal): Promise<void> {
  if (opts.yes) return;
  requireApplyTerminal(io);
  const security = planSecurity(plan).length > 0;
  await confirmOnTerminal(
    io,
    signal,
    {
      message: security
        ? 'Apply these changes, including the security-relevant ones marked (!)?'
        : 'Apply these changes?',
      default: !security,
    },
    'Not applied; nothing was changed.',
  );
}
