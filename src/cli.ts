/**
 * The command line: parses options, loads the command it names (lazily: `--help` and `--version` load neither
 * the AWS SDK nor the prompts), and turns errors into messages and exit codes. `main` never calls process.exit.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CancelledError, ConfigError, ExitCode, UserError, formatProblem } from './errors.js';
import { VERSION } from './version.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Install SIGINT/SIGTERM handlers (the real process); tests pass false and abort through `signal`. */
  handleSignals: boolean;
  signal?: AbortSignal;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    handleSignals: true,
  };
}

/** Options shared by the commands that talk to AWS. */
export interface AwsCliOptions {
  config?: string;
  region?: string;
  profile?: string;
  maxAttempts?: number;
  json?: boolean;
  debug?: boolean;
  color?: boolean;
}

export interface ApplyCliOptions extends AwsCliOptions {
  dryRun?: boolean;
  offline?: boolean;
  yes?: boolean;
  concurrency?: number;
  cluster?: string;
  bucket?: string;
  namespace?: string;
  interactive?: boolean;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

/** The options of every command that reads a config and talks to AWS. */
export function awsOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--region <region>', "AWS region (else the config's, AWS_REGION, or the profile's)")
    .option('--profile <name>', "AWS named profile (else the config's, or the default credential chain)")
    .option(
      '--max-attempts <n>',
      'attempts per AWS call, with backoff (else AWS_MAX_ATTEMPTS, or 3)',
      positiveInt('--max-attempts', 20),
    )
    .option('--json', 'write the plan or the result as JSON on stdout (progress stays on stderr)')
    .option('--debug', 'log every AWS call and show stack traces')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)');
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('flyte-aws-setup')
    .description(
      'Create and check the AWS IAM pieces Flyte needs on Amazon EKS: cluster and node roles, the OIDC provider,\n' +
        'a bucket-scoped policy, and the Flyte backend, workers and project-domain roles (IRSA).',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run flyte-aws-setup --help for the options)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    // Subcommands (each in src/commands/<name>.ts, imported only when it runs) have their own options, so the
    // main command's options must come before a subcommand's name.
    .enablePositionalOptions();

  awsOptions(program)
    .option('--dry-run', 'print the plan and change nothing')
    .option('--offline', 'with --dry-run: plan for an empty account, without AWS credentials')
    .option('-y, --yes', 'apply without asking (needed when there is no terminal)')
    .option('--cluster <name>', "EKS cluster name (else the config's; the wizard does not ask)")
    .option('--bucket <name>', "S3 bucket for Flyte (else the config's; the wizard does not ask)")
    .option('--namespace <name>', "Flyte namespace (else the config's, or flyte; the wizard does not ask)")
    .option('-i, --interactive', 'the wizard, starting from --config FILE (without --config: the wizard from scratch)')
    .addOption(
      new Option('--concurrency <n>', 'AWS requests in flight at once')
        .argParser(positiveInt('--concurrency', 16))
        .default(4),
    )
    .addHelpText(
      'after',
      '\nWithout --config, in a terminal, it is a wizard: it walks through each section, explains it, shows the\n' +
        'plan, asks, applies, checks, and saves the answers as a config file.\n' +
        '\nExit codes: 0 done (or plan printed), 1 AWS or runtime failure, 2 bad input, 3 incomplete (waiting for the\n' +
        'EKS cluster), 130 interrupted.\n\n' +
        'Examples:\n' +
        '  flyte-aws-setup                                              # the wizard\n' +
        '  flyte-aws-setup --config flyte-aws-setup.yaml --dry-run      # show the plan\n' +
        '  flyte-aws-setup --config flyte-aws-setup.yaml --yes          # apply it\n' +
        '  flyte-aws-setup --config examples/flyte-aws-setup.yaml --dry-run --offline\n',
    )
    .action(async (opts: ApplyCliOptions) => {
      const { runApply } = await import('./commands/apply.js');
      setExit(await runApply(opts, io));
    });

  return program;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.Success;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io, debug);
  }
}

/** The one place errors become output. */
export function reportError(err: unknown, io: CliIo, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version exit with 0; commander has printed them. Usage errors are bad input.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
      return ExitCode.Success;
    }
    return ExitCode.BadInput;
  }
  if (err instanceof ConfigError) {
    io.stderr.write(
      `error: ${err.file ?? 'config'} is not valid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n`,
    );
    for (const p of err.problems) io.stderr.write(`  - ${formatProblem(p)}\n`);
    io.stderr.write('Nothing was changed in AWS.\n');
    return err.exitCode;
  }
  if (err instanceof CancelledError) {
    io.stderr.write(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UserError) {
    io.stderr.write(`error: ${err.message}\n`);
    if (err.hint) io.stderr.write(`  ${err.hint}\n`);
    if (debug && err.stack) io.stderr.write(`${err.stack}\n${causeStack(err)}`);
    return err.exitCode;
  }
  const e = err as Error;
  io.stderr.write(`internal error: ${e?.message ?? String(err)}\n${e?.stack ?? ''}\n`);
  io.stderr.write('This is a bug in flyte-aws-setup; please report it with the output above.\n');
  return ExitCode.Failure;
}

function causeStack(err: Error): string {
  const cause = err.cause as Error | undefined;
  return cause?.stack ? `caused by: ${cause.stack}\n` : '';
}
