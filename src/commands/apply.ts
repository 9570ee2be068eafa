/**
 * The main command: plan from a config, show it, ask (or take --yes), apply it section by section, report.
 * `--dry-run` stops after the plan; `--dry-run --offline` plans without AWS.
 */
import { createAwsClients, destroyAwsClients } from '../aws/clients.js';
import { AwsGateway } from '../aws/gateway.js';
import type { ApplyCliOptions, CliIo } from '../cli.js';
import { loadConfigFile, type ConfigOverrides } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { CancelledError, ExitCode, UsageError } from '../errors.js';
import { applyPlan, type RunResult } from '../engine/apply.js';
import { makePlan } from '../engine/engine.js';
import { planSecurity, planSteps, type Plan } from '../engine/model.js';
import { planJson, resultJson } from '../render/json.js';
import { renderPlan, renderRunSummary, renderSectionResult } from '../render/plan-text.js';
import { createProgress, type Progress } from '../render/progress.js';
import { colorEnabled, makeStyle } from '../render/style.js';
import { stepText } from '../render/step-text.js';
import { interruptController } from './interrupt.js';

export function configOverrides(opts: ApplyCliOptions): ConfigOverrides {
  return {
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
    ...(opts.bucket !== undefined ? { bucket: opts.bucket } : {}),
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
  };
}

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

function rerunCommand(opts: ApplyCliOptions): string {
  const parts = ['flyte-aws-setup', '--config', opts.config ?? 'FILE'];
  if (opts.region) parts.push('--region', opts.region);
  if (opts.profile) parts.push('--profile', opts.profile);
  parts.push('--yes');
  return parts.join(' ');
}

export async function runApply(opts: ApplyCliOptions, io: CliIo): Promise<number> {
  if (opts.offline && !opts.dryRun) {
    throw new UsageError(
      '--offline only works with --dry-run',
      'a run that changes AWS needs credentials; add --dry-run to see the plan',
    );
  }
  if (opts.config === undefined) {
    throw new UsageError(
      'no config file given',
      'pass --config FILE (see examples/flyte-aws-setup.yaml), or run flyte-aws-setup in a terminal for the wizard',
    );
  }
  const { config } = await loadConfigFile(opts.config, configOverrides(opts));
  const out = (s: string) => void io.stdout.write(`${s}\n`);
  const style = makeStyle(colorEnabled(io.stdout, io.env, opts.color));
  const errStyle = makeStyle(colorEnabled(io.stderr, io.env, opts.color));
  const progress = await createProgress(io.stderr, opts.color !== false || io.stderr.isTTY === true);

  if (opts.dryRun && opts.offline) {
    const plan = await makePlan(config, undefined, { offline: true });
    out(opts.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan, style));
    return ExitCode.Success;
  }

  const debug = opts.debug ? (line: string) => progress.log(errStyle.dim(line)) : undefined;
  const clients = await createAwsClients({
    ...(config.region !== undefined ? { region: config.region } : {}),
    ...(config.profile !== undefined ? { profile: config.profile } : {}),
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    ...(debug ? { debug } : {}),
  });
  const interrupt = interruptController(io);
  try {
    progress.start('Reading the account');
    let plan: Plan;
    try {
      plan = await makePlan(config, new AwsGateway(clients), { concurrency: opts.concurrency });
    } finally {
      progress.clear();
    }
    if (interrupt.signal.aborted)
      throw new CancelledError('Interrupted before any change; nothing was changed.', interrupt.exitCode());

    if (opts.dryRun) {
      out(opts.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan, style));
      return ExitCode.Success;
    }
    if (!opts.json) out(renderPlan(plan, style));
    if (planSteps(plan).length > 0) await confirmApply(plan, opts, io, interrupt.signal);

    const result = await applyWithProgress(plan, config, clients, opts, io, progress, interrupt.signal);
    const code = exitCodeOf(result, interrupt.signalName());
    if (opts.json) {
      out(
        JSON.stringify(
          resultJson(result, {
            exitCode: code,
            calls: { total: clients.recorder.total, mutating: clients.recorder.mutating },
          }),
          null,
          2,
        ),
      );
    } else if (planSteps(plan).length > 0 || result.outcome !== 'complete') {
      out('');
      out(renderRunSummary(result, style, rerunCommand(opts)));
    }
    for (const s of result.sections)
      if (s.error?.stack) io.stderr.write(`internal error in ${s.id}: ${s.error.stack}\n`);
    return code;
  } finally {
    interrupt.dispose();
    destroyAwsClients(clients);
  }
}

async function applyWithProgress(
  plan: Plan,
  _config: Config,
  clients: Awaited<ReturnType<typeof createAwsClients>>,
  opts: ApplyCliOptions,
  io: CliIo,
  progress: Progress,
  signal: AbortSignal,
): Promise<RunResult> {
  const style = makeStyle(colorEnabled(opts.json ? io.stderr : io.stdout, io.env, opts.color));
  const write = (line: string) => void (opts.json ? io.stderr : io.stdout).write(`${line}\n`);
  const changes = planSteps(plan).length > 0;
  if (changes && !opts.json) write('');
  const result = await applyPlan(
    plan,
    new AwsGateway(clients),
    {
      onEvent(event) {
        if (event.type === 'step') progress.update(`${event.resource}: ${stepText(event.step)}`);
        else if (event.type === 'verify') progress.update(`${event.resource}: checking the result`);
        else if (event.type === 'section-done' && changes) {
          progress.clear();
          write(renderSectionResult(event.result, style));
        }
      },
    },
    { concurrency: opts.concurrency ?? 4, signal },
  );
  progress.clear();
  return result;
}

async function confirmApply(plan: Plan, opts: ApplyCliOptions, io: CliIo, signal: AbortSignal): Promise<void> {
  if (opts.yes) return;
  if (io.stdin.isTTY !== true || io.stderr.isTTY !== true) {
    throw new UsageError(
      'the plan above changes AWS, and there is no terminal to ask for a yes',
      'pass --yes to apply it, or --dry-run to only print the plan',
    );
  }
  const security = planSecurity(plan).length > 0;
  const { confirm } = await import('@inquirer/prompts');
  let ok: boolean;
  try {
    ok = await confirm(
      {
        message: security
          ? 'Apply these changes, including the security-relevant ones marked (!)?'
          : 'Apply these changes?',
        default: !security,
      },
      { input: io.stdin, output: io.stderr, signal },
    );
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') {
      throw new CancelledError('Cancelled; nothing was changed.', ExitCode.Interrupted);
    }
    throw err;
  }
  if (!ok) throw new CancelledError('Not applied; nothing was changed.', ExitCode.Failure);
}
