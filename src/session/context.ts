/**
 * What every command that reads a config and talks to AWS starts with: the validated config (flags applied), the
 * output streams and styles, progress, and, unless offline, the AWS clients and gateway. Commands call
 * `openContext`, do their work, and `close()` it in a `finally`.
 */
import type { AwsClients } from '../aws/clients.js';
import type { AwsGateway } from '../aws/gateway.js';
import { DEFAULT_OUT_DIR, type AwsCliOptions, type CliIo } from './io.js';
import { loadConfigFile } from '../load/config.js';
import { configFromFlags, type ConfigOverrides, type LoadedConfig } from '../load/validate.js';
import type { Config } from '../config/schema.js';
import { handoffTarget, type Flavor } from '../handoff/input.js';
import { DEFAULT_CONCURRENCY } from '../engine/engine.js';
import { CancelledError, ConfigError, ExitCode, UsageError } from '../errors.js';
import { createProgress, type Progress } from '../render/progress.js';
import { colorEnabled, makeStyle, type Style } from '../render/style.js';

export interface ConfigFlags extends AwsCliOptions {
  cluster?: string;
  bucket?: string;
  namespace?: string;
}

export function configOverrides(opts: ConfigFlags): ConfigOverrides {
  return {
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
    ...(opts.bucket !== undefined ? { bucket: opts.bucket } : {}),
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
  };
}

export interface Output {
  /** A line on stdout (the command's result). */
  out(line: string): void;
  /** A line on stderr (messages beside the result). */
  err(line: string): void;
  /** Styles for stdout and for stderr, each on only when that stream is a terminal (and colour is not off). */
  style: Style;
  errStyle: Style;
  progress: Progress;
}

export async function openOutput(io: CliIo, opts: AwsCliOptions): Promise<Output> {
  return {
    out: (line) => void io.stdout.write(`${line}\n`),
    err: (line) => void io.stderr.write(`${line}\n`),
    style: makeStyle(colorEnabled(io.stdout, io.env, opts.color)),
    errStyle: makeStyle(colorEnabled(io.stderr, io.env, opts.color)),
    progress: await createProgress(io.stderr, true, colorEnabled(io.stderr, io.env, opts.color)),
  };
}

export async function loadConfig(opts: ConfigFlags & { flavor?: Flavor }): Promise<Config> {
  return (await loadConfigAt(opts)).config;
}

/** The config, and how to place a problem found later (a reference that does not exist) in its file. */
export async function loadConfigAt(opts: ConfigFlags & { flavor?: Flavor }): Promise<LoadedConfig> {
  if (opts.config === undefined && opts.bucket === undefined) {
    throw new UsageError(
      'no config file given',
      'pass --config FILE (flyte-aws-setup init --cluster NAME --bucket NAME writes one)',
    );
  }
  // Without a file, the flags are the config: --bucket (and --cluster) are enough for the documents' setup.
  const loaded: LoadedConfig =
    opts.config === undefined
      ? {
          config: configFromFlags(configOverrides(opts)),
          place: (problems) =>
            problems.map((p) =>
              typeof p.path[0] === 'string' ? { ...p, path: [`--${p.path[0]}`, ...p.path.slice(1)] } : p,
            ),
        }
      : await loadConfigFile(opts.config, configOverrides(opts));
  // A --flavor that contradicts the target is bad input, found before any AWS call.
  handoffTarget(loaded.config, opts.flavor);
  return loaded;
}

/**
 * Runs `work`; a ConfigError it throws without a file (what the plan found the config names but AWS lacks) is
 * thrown again as the file's, each problem at its line, like the file's other problems.
 */
export async function inConfigFile<T>(loaded: LoadedConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ConfigError && err.file === undefined)
      throw new ConfigError(loaded.place(err.problems), loaded.file);
    throw err;
  }
}

export interface AwsContext {
  clients: AwsClients;
  gateway: AwsGateway;
  close(): void;
}

/** Where `--debug` lines go (dim, on stderr, above the progress line); undefined without `--debug`. */
export function debugLines(opts: { debug?: boolean }, output: Output): ((line: string) => void) | undefined {
  return opts.debug ? (line: string) => output.progress.log(output.errStyle.dim(line)) : undefined;
}

/**
 * The SDK clients for the config's region and profile, with `--debug` call lines, `--max-attempts`, and at most
 * `--concurrency` requests in flight.
 */
export async function openAws(
  config: Config,
  opts: AwsCliOptions & { concurrency?: number },
  output: Output,
): Promise<AwsContext> {
  // The AWS SDK is loaded here, not on import: runs that need no AWS (`--dry-run --offline`, a config with
  // mistakes) do without it.
  const [{ createAwsClients, destroyAwsClients }, { AwsGateway }] = await Promise.all([
    import('../aws/clients.js'),
    import('../aws/gateway.js'),
  ]);
  const debug = debugLines(opts, output);
  const clients = await createAwsClients({
    ...(config.region !== undefined ? { region: config.region } : {}),
    ...(config.profile !== undefined ? { profile: config.profile } : {}),
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    maxInFlight: opts.concurrency ?? DEFAULT_CONCURRENCY,
    ...(debug ? { debug } : {}),
  });
  return { clients, gateway: new AwsGateway(clients), close: () => destroyAwsClients(clients) };
}

/** The options of a run that decide what it does, which the command that runs it again repeats. */
export interface RerunOptions extends ConfigFlags {
  concurrency?: number;
  approveBroadening?: boolean;
  prune?: boolean;
  /** `false`: --no-preflight. */
  preflight?: boolean;
  outDir?: string;
  force?: boolean;
  flavor?: Flavor;
}

/**
 * The command that runs this config again without prompts (what the output tells the user to run): the main
 * command with --yes and every option of this run that decides what it does (where AWS is, the values that take
 * the place of the config's, --approve-broadening, --prune, the hand-off's), not those that decide only how the
 * output looks (--json, --debug, --no-color, --verbose). Values are quoted for a POSIX shell where they need it.
 * `dryRun`: the command that shows the plan instead (--dry-run, without the options that only an apply takes).
 */
export function rerunCommand(opts: RerunOptions, { dryRun = false }: { dryRun?: boolean } = {}): string {
  const parts = ['flyte-aws-setup'];
  const add = (flag: string, value?: string | number) => {
    if (value !== undefined) parts.push(flag, shellWord(String(value)));
  };
  // Without a file, the flags are the config (--bucket, and --cluster).
  if (opts.config !== undefined) add('--config', opts.config);
  else if (opts.bucket === undefined) parts.push('--config', 'FILE');
  add('--region', opts.region);
  add('--profile', opts.profile);
  add('--cluster', opts.cluster);
  add('--bucket', opts.bucket);
  add('--namespace', opts.namespace);
  add('--max-attempts', opts.maxAttempts);
  if (opts.concurrency !== undefined && opts.concurrency !== DEFAULT_CONCURRENCY)
    add('--concurrency', opts.concurrency);
  if (opts.prune) parts.push('--prune');
  if (dryRun) {
    parts.push('--dry-run');
    return parts.join(' ');
  }
  if (opts.preflight === false) parts.push('--no-preflight');
  if (opts.outDir !== undefined && opts.outDir !== DEFAULT_OUT_DIR) add('--out-dir', opts.outDir);
  add('--flavor', opts.flavor);
  if (opts.force) parts.push('--force');
  parts.push('--yes');
  if (opts.approveBroadening) parts.push('--approve-broadening');
  return parts.join(' ');
}

/** A word as a POSIX shell reads it back: as it is when it holds nothing the shell treats specially, else quoted. */
export function shellWord(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A change that needs a yes, and no terminal to ask: refused (bad input), saying what to pass instead. */
export function requireTerminal(io: CliIo, refusal: string, hint: string): void {
  if (io.stdin.isTTY !== true || io.stderr.isTTY !== true) throw new UsageError(refusal, hint);
}

/** Ask yes or no on the terminal (the question on stderr). Ctrl-C or the signal cancels with exit 130. */
export async function askOnTerminal(
  io: CliIo,
  signal: AbortSignal,
  question: { message: string; default: boolean },
): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  try {
    return await confirm(question, { input: io.stdin, output: io.stderr, signal });
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') {
      throw new CancelledError('Cancelled; nothing was changed.', ExitCode.Interrupted);
    }
    throw err;
  }
}

/**
 * Ask yes or no on the terminal (questions on stderr). A no throws `declined` (exit 1); Ctrl-C or the signal
 * cancels with exit 130. Nothing has been changed when either is thrown.
 */
export async function confirmOnTerminal(
  io: CliIo,
  signal: AbortSignal,
  question: { message: string; default: boolean },
  declined: string,
): Promise<void> {
  if (!(await askOnTerminal(io, signal, question))) throw new CancelledError(declined, ExitCode.Failure);
}
