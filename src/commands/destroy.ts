/**
 * `flyte-aws-setup destroy`: plan the removal of what the tool made for the config, show it, ask (or take --yes),
 * remove it in reverse order, and check. `--dry-run` stops after the plan. The EKS cluster is never touched.
 */
import type { CliIo, DestroyCliOptions } from '../session/io.js';
import type { Config } from '../config/schema.js';
import { destroySteps, type DestroyPlan } from '../engine/destroy.js';
import { applyDestroy, makeDestroyPlan, type DestroyResult } from '../engine/destroy-run.js';
import { CancelledError, ExitCode } from '../errors.js';
import { destroyPlanJson, destroyResultJson, renderDestroyPlan, renderDestroyResult } from '../render/destroy-text.js';
import { stepText } from '../render/step-text.js';
import {
  confirmOnTerminal,
  loadConfig,
  openAws,
  openOutput,
  requireTerminal,
  type AwsContext,
  type Output,
} from '../session/context.js';
import { interruptController } from '../session/interrupt.js';

export function destroyExitCode(result: DestroyResult, signalName?: string): number {
  switch (result.outcome) {
    case 'complete':
      return ExitCode.Success;
    case 'blocked':
    case 'failed':
      return ExitCode.Failure;
    case 'interrupted':
      return signalName === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted;
  }
}

export async function runDestroy(opts: DestroyCliOptions, io: CliIo): Promise<number> {
  const config = await loadConfig(opts);
  const output = await openOutput(io, opts);
  const aws = await openAws(config, opts, output);
  const interrupt = interruptController(io, 'destroy');
  try {
    const plan = await readPlan(config, aws, output);
    if (interrupt.signal.aborted) {
      throw new CancelledError('Interrupted before any change; nothing was changed.', interrupt.exitCode());
    }
    const steps = destroySteps(plan);
    const blocked = plan.items.some((i) => i.action === 'blocked');
    if (opts.dryRun) {
      output.out(opts.json ? JSON.stringify(destroyPlanJson(plan), null, 2) : renderDestroyPlan(plan, output.style));
      return ExitCode.Success;
    }
    if (!opts.json) output.out(renderDestroyPlan(plan, output.style));
    if (steps.length === 0) {
      const code = blocked ? ExitCode.Failure : ExitCode.Success;
      if (opts.json) {
        const result: DestroyResult = { outcome: blocked ? 'blocked' : 'complete', done: [], remaining: [] };
        output.out(JSON.stringify(destroyResultJson(plan, result, { exitCode: code }), null, 2));
      }
      return code;
    }
    // With --json, stdout keeps the result alone: the plan to say yes (or no) to goes to stderr.
    if (opts.json && !opts.yes) output.err(renderDestroyPlan(plan, output.errStyle));
    await confirmDestroy(opts, io, interrupt.signal);

    const result = await applyDestroy(plan, () => makeDestroyPlan(config, aws.gateway, plan.facts), aws.gateway, {
      signal: interrupt.signal,
      onStep: (step) => output.progress.update(stepText(step)),
    });
    output.progress.clear();
    const code = destroyExitCode(result, interrupt.signalName());
    const recorder = aws.clients.recorder;
    if (opts.json) {
      const calls = { total: recorder.total, mutating: recorder.mutating };
      output.out(JSON.stringify(destroyResultJson(plan, result, { exitCode: code, calls }), null, 2));
    } else {
      output.out('');
      output.out(renderDestroyResult(plan, result, output.style));
    }
    if (result.error?.stack) output.err(`internal error: ${result.error.stack}`);
    return code;
  } finally {
    interrupt.dispose();
    aws.close();
  }
}

async function readPlan(config: Config, aws: AwsContext, output: Output): Promise<DestroyPlan> {
  output.progress.start('Reading the account');
  try {
    return await makeDestroyPlan(config, aws.gateway);
  } finally {
    output.progress.clear();
  }
}

async function confirmDestroy(opts: DestroyCliOptions, io: CliIo, signal: AbortSignal): Promise<void> {
  if (opts.yes) return;
  requireTerminal(
    io,
    'the plan above deletes AWS resources, and there is no terminal to ask for a yes',
    'pass --yes to remove them, or --dry-run to only print the plan',
  );
  await confirmOnTerminal(
    io,
    signal,
    { message: 'Delete these resources? This cannot be undone.', default: false },
    'Not destroyed; nothing was changed.',
  );
}
