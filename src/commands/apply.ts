/**
 * The main command: plan from a config, show it, ask (or take --yes), apply it section by section, report.
 * `--dry-run` stops after the plan; `--dry-run --offline` plans without AWS, here. What talks to AWS is in
 * ./apply-aws.ts, loaded only then.
 */
import type { ApplyCliOptions, CliIo } from '../session/io.js';
import { UsageError } from '../errors.js';
import { makePlan } from '../engine/engine.js';
import { planExitCode } from '../model.js';
import { planJson } from '../render/json.js';
import { renderPlan } from '../render/plan-text.js';
import { loadConfigAt, openOutput } from '../session/context.js';

export async function runApply(opts: ApplyCliOptions, io: CliIo): Promise<number> {
  if (opts.offline && !opts.dryRun) {
    throw new UsageError(
      '--offline only works with --dry-run',
      'a run that changes AWS needs credentials; add --dry-run to see the plan',
    );
  }
  if (opts.approveBroadening && !opts.yes) {
    throw new UsageError(
      '--approve-broadening goes with --yes',
      'without --yes the run asks on the terminal, where a yes approves the changes it shows',
    );
  }
  if (opts.detailedExitcode && !opts.dryRun) {
    throw new UsageError(
      '--detailed-exitcode only works with a plan',
      'use flyte-aws-setup plan --detailed-exitcode (or add --dry-run)',
    );
  }
  // Whether it runs in a terminal is asked only when that decides (the input stream is made on first use).
  const terminal = () => io.stdin.isTTY === true && io.stderr.isTTY === true;
  if (opts.interactive || (opts.config === undefined && !opts.yes && !opts.dryRun && !opts.json && terminal())) {
    const { runWizardCommand } = await import('./wizard.js');
    return runWizardCommand(opts, io);
  }
  if (opts.config === undefined && opts.bucket === undefined) {
    throw new UsageError(
      'no config file given',
      'pass --config FILE (flyte-aws-setup init --cluster NAME --bucket NAME writes one), or run flyte-aws-setup in a terminal for the wizard',
    );
  }
  const loaded = await loadConfigAt(opts);
  if (!opts.dryRun) {
    // The hand-off (with the YAML writer) is loaded only for a run that writes its files.
    const [{ checkOutDir }, { DEFAULT_OUT_DIR }] = await Promise.all([
      import('../handoff/write.js'),
      import('../session/hand-off.js'),
    ]);
    await checkOutDir(opts.outDir ?? DEFAULT_OUT_DIR);
  }
  const output = await openOutput(io, opts);

  if (opts.dryRun && opts.offline) {
    const plan = await makePlan(loaded.config, undefined, { offline: true });
    output.out(opts.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan, output.style));
    return planExitCode(plan, opts.detailedExitcode);
  }

  const { applyWithAws } = await import('./apply-aws.js');
  return applyWithAws(loaded, opts, io, output);
}
