/**
 * The wizard as a command: `flyte-aws-setup` in a terminal without --config, or `--config FILE --interactive`.
 * Checks the flags, then wires the wizard to the terminal (prompts and conversation on stderr, the summary on
 * stdout), to AWS, and to Ctrl-C.
 */
import { createAwsClients, destroyAwsClients } from '../aws/clients.js';
import { AwsGateway } from '../aws/gateway.js';
import { defaultRegion, profileNames } from '../aws/profiles.js';
import type { ApplyCliOptions, CliIo } from '../session/io.js';
import { configOverrides, debugLines, openOutput } from '../session/context.js';
import { interruptController } from '../session/interrupt.js';
import { loadConfigFile } from '../load/config.js';
import { columnsOf, fitText } from '../render/wrap.js';
import { ConfigError, ExitCode, UsageError, type Problem } from '../errors.js';
import { problemsAt } from '../wizard/draft.js';
import { inquirerPrompter } from '../wizard/prompter.js';
import { runWizard, type WizardFlags } from '../wizard/wizard.js';

const FLAG_KEYS = ['region', 'profile', 'cluster', 'bucket', 'namespace'] as const;

/** The answers given as flags, checked with the config's rules before anything else (exit 2 when wrong). */
export function wizardFlags(opts: ApplyCliOptions): WizardFlags {
  const flags: WizardFlags = {};
  const problems: Problem[] = [];
  for (const key of FLAG_KEYS) {
    const value = opts[key];
    if (value === undefined) continue;
    const found = problemsAt({ [key]: value }, [key]);
    problems.push(...found.map((p) => ({ ...p, path: [`--${key}`, ...p.path.slice(1)] })));
    flags[key] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems, 'the command line');
  return flags;
}

export async function runWizardCommand(opts: ApplyCliOptions, io: CliIo): Promise<number> {
  for (const [flag, on] of [
    ['--yes', opts.yes],
    ['--dry-run', opts.dryRun],
    ['--offline', opts.offline],
    ['--json', opts.json],
    // The walk removes nothing the config no longer names; it lists those roles at its end, with the command.
    ['--prune', opts.prune],
  ] as const) {
    if (on) {
      throw new UsageError(
        `--interactive does not go with ${flag}`,
        `the wizard asks before each change; for a run without questions use --config FILE ${flag}`,
      );
    }
  }
  if (io.stdin.isTTY !== true || io.stderr.isTTY !== true) {
    throw new UsageError(
      'the wizard needs a terminal (stdin and stderr), and there is none',
      'run it in a terminal, or without questions: flyte-aws-setup --config FILE --yes',
    );
  }
  const flags = wizardFlags(opts);
  const start =
    opts.config !== undefined
      ? { config: (await loadConfigFile(opts.config, configOverrides(opts))).config, file: opts.config }
      : undefined;
  const output = await openOutput(io, opts);
  // Every line fits the terminal: the conversation's on stderr, the summary's on stdout.
  const errColumns = () => columnsOf(io.stderr);
  const outColumns = () => (io.stdout.isTTY === true ? columnsOf(io.stdout) : errColumns());
  const debug = debugLines(opts, output);
  const interrupt = interruptController(io);
  try {
    const outcome = await runWizard({
      prompter: inquirerPrompter(io, interrupt.signal),
      say: (line) => {
        for (const l of fitText(line, errColumns())) output.progress.log(l);
      },
      out: (line) => {
        for (const l of fitText(line, outColumns())) output.out(l);
      },
      columns: errColumns,
      style: output.errStyle,
      outStyle: output.style,
      progress: output.progress,
      async connect(region, profile) {
        const clients = await createAwsClients({
          region,
          ...(profile !== undefined ? { profile } : {}),
          ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
          ...(debug ? { debug } : {}),
        });
        return { gateway: new AwsGateway(clients), close: () => destroyAwsClients(clients) };
      },
      defaultRegion,
      profiles: () => profileNames(io.env),
      cwd: process.cwd(),
      signal: interrupt.signal,
      flags,
      preflight: opts.preflight !== false,
      ...(opts.verbose ? { verbose: true } : {}),
      ...(start ? { start } : {}),
    });
    // SIGTERM stops the wizard the way Ctrl-C does, with its own exit code.
    return outcome.exitCode === ExitCode.Interrupted ? interrupt.exitCode() : outcome.exitCode;
  } finally {
    interrupt.dispose();
  }
}
