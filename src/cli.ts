/**
 * The command line: parses options, loads the command it names (lazily: `--help` and `--version` load neither
 * the AWS SDK nor the prompts), and turns errors into messages and exit codes. `main` never calls process.exit.
 */
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import {
  BroadeningNotApprovedError,
  CancelledError,
  ConfigError,
  ExitCode,
  UsageError,
  UserError,
  formatProblem,
  stackWithCause,
} from './errors.js';
import type { InitCliOptions } from './commands/init.js';
import { didYouMean } from './config/rules.js';
import { checkEnvironment, wholeNumber } from './load/environment.js';
import { JSON_FORMAT_VERSION } from './render/format-version.js';
import { MIN_WIDTH_TO_WRAP, formatHelp, type HelpBlock, type HelpPage } from './render/help.js';
import { DEFAULT_COLUMNS, columnsOf } from './render/wrap.js';
import type { ErrorDocument } from './render/json-types.js';
import { DEFAULT_CONCURRENCY } from './util/concurrency.js';
import { redactingStream, secretsFromEnv } from './util/secrets.js';
import { VERSION } from './version.js';
import {
  DEFAULT_OUT_DIR,
  processIo,
  type ApplyCliOptions,
  type CliIo,
  type DestroyCliOptions,
  type HandoffCliOptions,
  type PermissionsCliOptions,
  type ProbeCliOptions,
  type VerifyCliOptions,
} from './session/io.js';

export type { CliIo } from './session/io.js';

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = wholeNumber(value, 1, max);
    if (n === undefined) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

/** The options of every command that reads a config and talks to AWS. */
export function awsOptions(cmd: Command): Command {
  return connectionOptions(
    cmd.option('-c, --config <file>', 'config file (YAML or JSON)'),
    '--json',
    'write the plan or the result as JSON on stdout (progress stays on stderr)',
  );
}

/** Where and how AWS is reached, and how the output looks; `json` (flag, description) when the command has it. */
function connectionOptions(cmd: Command, ...json: [flag: string, description: string] | []): Command {
  const [flag, description] = json;
  cmd
    .option('--region <region>', "AWS region (else the config's, AWS_REGION, or the profile's)")
    .option('--profile <name>', "AWS named profile (else the config's, or the default credential chain)")
    .option(
      '--max-attempts <n>',
      "attempts per AWS call, with backoff (else AWS_MAX_ATTEMPTS, the profile's max_attempts, or 10)",
      positiveInt('--max-attempts', 20),
    );
  if (flag !== undefined && description !== undefined) cmd.option(flag, description);
  return cmd
    .option('--debug', 'log every AWS call and show stack traces')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)');
}

function nonEmpty(name: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${name} must not be empty`);
    return value;
  };
}

/** Where and how the hand-off files are written. */
export function handoffOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--out-dir <dir>', 'directory for the hand-off files (created if missing)')
        .argParser(nonEmpty('--out-dir'))
        .default(DEFAULT_OUT_DIR),
    )
    .option('--force', 'replace hand-off files that differ from what would be written')
    .addOption(
      new Option(
        '--flavor <flavor>',
        "the config's target decides the files; union: Union's uctl files (as target: union), flyte: the Flyte target's",
      ).choices(['flyte', 'union']),
    );
}

/** The commands, in the order of the help. */
export const COMMANDS = ['plan', 'apply', 'permissions', 'outputs', 'verify', 'destroy', 'probe', 'init'] as const;

/**
 * Whether parsing `argv` needs the commands: when a word of it may name one (or ask for the help that lists them).
 * Without them the main command alone is built: commander takes about a millisecond to build the commands and
 * their options, and most runs are the main command's.
 */
export function needsCommands(argv: readonly string[]): boolean {
  // `-h` may come in a cluster of short flags (`-yh` is `-y -h`).
  return argv.some(
    (a) => (COMMANDS as readonly string[]).includes(a) || a === 'help' || a === '--help' || /^-[^-]*h/.test(a),
  );
}

/** The CLI: the main command, and (unless `withCommands` is false) every other command. */
export function buildProgram(io: CliIo, setExit: (code: number) => void, withCommands = true): Command {
  const program = new Command('flyte-aws-setup')
    .description(
      'Create and check the AWS IAM pieces Flyte needs on Amazon EKS: cluster and node roles, the OIDC provider, ' +
        'a bucket-scoped policy, and the Flyte backend, workers and project-domain roles (IRSA).',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run flyte-aws-setup --help for the options)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // The help fits the terminal it is written to (80 columns when it is not one).
      getOutHelpWidth: () => columnsOf(io.stdout),
      getErrHelpWidth: () => columnsOf(io.stderr),
    })
    // The descriptions of the options wrap beside them down to narrow terminals (commander's default stops at 40);
    // commander's layout, with the text after the lists, is src/render/help.ts's (the start-up file prints it too).
    .configureHelp(helpConfig())
    .exitOverride()
    // Subcommands (each in src/commands/<name>.ts, imported only when it runs) have their own options, so the
    // main command's options must come before a subcommand's name.
    .enablePositionalOptions();

  applyOptions(handoffOptions(awsOptions(program)))
    .option('--dry-run', 'print the plan and change nothing (the same as the plan command)')
    .option('--offline', 'with --dry-run: plan for an empty account, without AWS credentials')
    .option(
      '--detailed-exitcode',
      `with --dry-run: exit ${ExitCode.ChangesPending} when AWS does not match the config yet`,
    )
    .option('-i, --interactive', 'the wizard, starting from --config FILE (without --config: the wizard from scratch)')
    // A word that is no command reaches the main command as an argument: say that it is no command.
    .allowExcessArguments()
    .action(async (opts: ApplyCliOptions, command: Command) => {
      if (command.args.length > 0) throw unknownCommand(command.args[0]!);
      const { runApply } = await import('./commands/apply.js');
      setExit(await runApply(opts, io));
    });
  if (withCommands) addCommands(program, io, setExit);
  // The main command's text last: a subcommand takes its parent's help configuration when it is made.
  program.configureHelp(
    helpConfig(
      'Without --config, in a terminal, it is a wizard: it walks through each section, explains it, shows the ' +
        'plan, asks, applies, checks, and saves the answers as a config file.',
      `Exit codes: ${EXIT_CODES}`,
      'After a complete run the hand-off files for Flyte are written to --out-dir (see `outputs --help`). Other ' +
        'commands: plan, apply, outputs, verify, probe, destroy, permissions, init (flyte-aws-setup help <command>).',
      examples([
        ['flyte-aws-setup', 'the wizard'],
        ['flyte-aws-setup plan --config flyte-aws-setup.yaml', 'show the plan'],
        ['flyte-aws-setup apply --config flyte-aws-setup.yaml --yes', 'apply it'],
        ['flyte-aws-setup plan --offline --cluster acme-ml --bucket acme-flyte-data'],
      ]),
    ),
  );
  return program;
}

/** The commands other than the main one: each in src/commands/<name>.ts, imported only when it runs. */
function addCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  configFlagOptions(awsOptions(program.command('plan')))
    .description('Print the plan: what would be created, changed or left alone. Changes nothing (= --dry-run).')
    .option('--offline', 'plan for an empty account, without AWS credentials')
    .option('--prune', "plan the removal of the setup's roles the config no longer names (listed either way)")
    .option(
      '--detailed-exitcode',
      `exit ${ExitCode.ChangesPending} when AWS does not match the config yet (0 when it does)`,
    )
    .configureHelp(
      helpConfig(
        `Exit codes: 0 the plan printed, 1 AWS failure, 2 bad input; with --detailed-exitcode, ` +
          `${ExitCode.ChangesPending} the plan printed and it has changes (or waits for the cluster, or lists roles the ` +
          'config no longer names).',
      ),
    )
    .action(async (opts: ApplyCliOptions) => {
      const { runApply } = await import('./commands/apply.js');
      setExit(await runApply({ ...opts, dryRun: true }, io));
    });

  applyOptions(handoffOptions(awsOptions(program.command('apply'))))
    .description('Plan, ask (or take --yes), apply section by section, check, then write the hand-off files.')
    .option('-i, --interactive', 'the wizard, starting from --config FILE (without --config: the wizard from scratch)')
    .configureHelp(helpConfig(`Exit codes: ${EXIT_CODES}`))
    .action(async (opts: ApplyCliOptions) => {
      const { runApply } = await import('./commands/apply.js');
      setExit(await runApply({ ...opts, dryRun: false }, io));
    });

  // An option typed before a subcommand's name would belong to the main command and be dropped: `--dry-run
  // destroy --yes` would destroy. Refuse it, saying where it goes.
  program.hook('preSubcommand', (root, sub) => {
    const given = root.options.filter((o) => root.getOptionValueSource(o.attributeName()) === 'cli');
    if (given.length === 0) return;
    const name = (o: Option) => o.long ?? o.short ?? o.flags;
    const flags = given.map(name).join(' ');
    const theirs = new Set(sub.options.map(name));
    const movable = given.map(name).filter((f) => theirs.has(f));
    const foreign = given.map(name).filter((f) => !theirs.has(f));
    throw new UsageError(
      `${flags} must come after the command name, not before it`,
      [
        movable.length > 0 ? `write it as: flyte-aws-setup ${sub.name()} ${movable.join(' ')} ...` : '',
        foreign.length > 0 ? `${sub.name()} has no ${foreign.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ') + ` (see flyte-aws-setup ${sub.name()} --help)`,
    );
  });

  connectionOptions(
    program
      .command('permissions')
      .description(
        'Print, as JSON, the least-privilege IAM policy the person or CI role running flyte-aws-setup needs for a config.',
      )
      .option('-c, --config <file>', 'config file (YAML or JSON)')
      .addOption(
        new Option('--for <command>', 'the policy for applying, for verify (reads only), or for destroy')
          .choices(['apply', 'verify', 'destroy'])
          .default('apply'),
      )
      .option('--offline', "no AWS call: the account from the config's accountId, the cluster's issuer as a wildcard"),
  )
    .configureHelp(
      helpConfig(
        'The policy document goes to stdout; what to know about it (wildcards and why) to stderr.',
        examples([
          ['flyte-aws-setup permissions --config flyte-aws-setup.yaml > operator-policy.json'],
          ['flyte-aws-setup permissions --config flyte-aws-setup.yaml --for verify --offline'],
        ]),
      ),
    )
    .action(async (opts: PermissionsCliOptions) => {
      const { runPermissions } = await import('./commands/permissions.js');
      setExit(await runPermissions(opts, io));
    });

  configFlagOptions(handoffOptions(awsOptions(program.command('outputs'))))
    .description(
      'Write the hand-off files for Flyte (Helm values, cluster resource attributes, ServiceAccounts) with the ' +
        'role ARNs read from AWS. Changes nothing in AWS.',
    )
    .configureHelp(
      helpConfig(
        'Exit codes: 0 written (or unchanged), 1 the roles do not exist yet (or AWS failed), 2 bad input, 4 a file ' +
          'differs from what would be written and was kept (--force replaces it).',
      ),
    )
    .action(async (opts: HandoffCliOptions & ConfigFlagOptions) => {
      const { runOutputs } = await import('./commands/outputs.js');
      setExit(await runOutputs(opts, io));
    });

  configFlagOptions(awsOptions(program.command('verify')))
    .description(
      'Check, without changing anything, that AWS matches the config, audit the roles for the mistakes ' +
        'people make by hand (condition keys of another issuer, aud, wildcards, the OIDC provider, broad policies), ' +
        'and evaluate the policies AWS holds, identity by identity (the access matrix).',
    )
    .option(
      '--as <identity>',
      'explain one identity (NAMESPACE/SERVICEACCOUNT): which role, what is allowed or refused, and which statement decided',
    )
    .option(
      '--no-second-opinion',
      "do not ask IAM's own simulator (iam:SimulatePrincipalPolicy) to check the evaluator's decisions",
    )
    .configureHelp(
      helpConfig(
        'Exit codes: 0 AWS matches the config and no error was found (warnings allowed), 1 AWS differs from the ' +
          'config or an error was found (or AWS failed), 2 bad input.',
      ),
    )
    .action(async (opts: VerifyCliOptions & ConfigFlagOptions) => {
      const { runVerify } = await import('./commands/verify.js');
      setExit(await runVerify(opts, io));
    });

  configFlagOptions(awsOptions(program.command('destroy')))
    .description(
      'Remove what flyte-aws-setup made for the config (tag managed-by: flyte-aws-setup), in reverse order: ' +
        'detach policies, delete the custom policy (its old versions first), the roles, the OIDC provider. ' +
        'What existed before is never deleted; the EKS cluster is never touched.',
    )
    .option('--dry-run', 'print the removal plan and change nothing')
    .option('-y, --yes', 'remove without asking (needed when there is no terminal)')
    .configureHelp(
      helpConfig(
        'Exit codes: 0 done (nothing the tool made for the config is left), or the plan printed; 1 something stays ' +
          '(attached elsewhere, in use by the cluster: the plan says what to do), an AWS failure, or declined; ' +
          '2 bad input; 130 interrupted (143 on SIGTERM).',
      ),
    )
    .action(async (opts: DestroyCliOptions & ConfigFlagOptions) => {
      const { runDestroy } = await import('./commands/destroy.js');
      setExit(await runDestroy(opts, io));
    });

  connectionOptions(
    program
      .command('probe')
      .description(
        'The in-cluster check: write a short-lived Kubernetes Job per Flyte identity that runs as its service account, ' +
          'asks STS who it is and writes, reads and deletes one object in the bucket; with --apply, run them with ' +
          'kubectl and print a verdict per identity (including a pod that got the node role instead).',
      )
      .option('-c, --config <file>', 'config file (YAML or JSON)')
      .option('--out <dir>', 'write one manifest file per identity in this directory (else all on stdout)')
      .option('--apply', 'apply the Jobs with kubectl, wait for them, read their logs and print the verdicts')
      .option('--image <image>', 'the aws CLI image the Jobs run (default: a pinned public.ecr.aws/aws-cli/aws-cli)')
      .option(
        '--timeout <seconds>',
        'with --apply: how long to wait for the Jobs (default: 300)',
        positiveInt('--timeout', 3600),
      )
      .option('--offline', "no AWS call: the account and region from the config's accountId and region"),
  )
    .configureHelp(
      helpConfig(
        'Exit codes: 0 the manifests written (or, with --apply, every identity ran as its role and could put, get ' +
          'and delete), 1 an identity did not (or AWS or kubectl failed), 2 bad input.',
        examples([
          ['flyte-aws-setup probe --config flyte-aws-setup.yaml > probe.yaml', 'the Jobs, to apply yourself'],
          ['flyte-aws-setup probe --config flyte-aws-setup.yaml --apply', 'run them and print the verdicts'],
        ]),
      ),
    )
    .action(async (opts: ProbeCliOptions) => {
      const { runProbe } = await import('./commands/probe.js');
      setExit(await runProbe(opts, io));
    });

  program
    .command('init')
    .description('Write a commented config file from flags, without questions and without AWS.')
    .option('--cluster <name>', 'EKS cluster name')
    .option('--bucket <name>', 'S3 bucket for Flyte')
    .option('--region <region>', 'AWS region')
    .option('--profile <name>', 'AWS named profile')
    .option('--namespace <name>', 'Flyte namespace (default: flyte)')
    .addOption(
      new Option('--out <file>', 'the config file to write')
        .argParser(nonEmpty('--out'))
        .default('flyte-aws-setup.yaml'),
    )
    .option('--force', 'replace the file if it exists')
    .configureHelp(
      helpConfig(
        examples([['flyte-aws-setup init --cluster acme-ml --bucket acme-flyte-data --region eu-west-1']], 'Example:'),
      ),
    )
    .action(async (opts: InitCliOptions) => {
      const { runInit } = await import('./commands/init.js');
      setExit(await runInit(opts, io));
    });

  program.helpCommand('help [command]', 'show the help of a command');
}

const EXIT_CODES =
  '0 done (or plan printed), 1 AWS or runtime failure, 2 bad input, 3 incomplete (waiting for the ' +
  'EKS cluster), 4 done but a hand-off file was kept (it differs; --force replaces it), ' +
  `${ExitCode.ApprovalNeeded} not applied: changes that broaden access need --approve-broadening with --yes, ` +
  `${ExitCode.ChangesPending} changes pending (a plan with --detailed-exitcode), 130 interrupted (143 on SIGTERM).`;

/** The help configuration of a command: commander's, laid out by `formatHelp`, with `blocks` after the lists. */
function helpConfig(...blocks: HelpBlock[]): Partial<Help> {
  return {
    minWidthToWrap: MIN_WIDTH_TO_WRAP,
    formatHelp: (cmd, helper) => formatHelp(helpPage(cmd, helper), helper.helpWidth ?? DEFAULT_COLUMNS),
    after: blocks,
  } as Partial<Help>;
}

/** Example commands, each with what it does. */
function examples(list: [command: string, comment?: string][], title = 'Examples:'): HelpBlock {
  return { title, examples: list };
}

/** What the help of `cmd` shows, as commander's own `formatHelp` gathers it, and the text after the lists. */
export function helpPage(cmd: Command, helper: Help): HelpPage {
  const lists: HelpPage['lists'] = [
    {
      heading: 'Arguments:',
      items: helper.visibleArguments(cmd).map((a) => [helper.argumentTerm(a), helper.argumentDescription(a)]),
    },
  ];
  const options = helper.groupItems(
    [...cmd.options],
    helper.visibleOptions(cmd),
    (o) => o.helpGroupHeading ?? 'Options:',
  );
  for (const [heading, list] of options) {
    lists.push({ heading, items: list.map((o) => [helper.optionTerm(o), helper.optionDescription(o)]) });
  }
  const commands = helper.groupItems(
    [...cmd.commands],
    helper.visibleCommands(cmd),
    (c) => c.helpGroup() || 'Commands:',
  );
  for (const [heading, list] of commands) {
    lists.push({ heading, items: list.map((c) => [helper.subcommandTerm(c), helper.subcommandDescription(c)]) });
  }
  const after = (helper as Help & { after?: HelpBlock[] }).after ?? [];
  return { usage: helper.commandUsage(cmd), description: helper.commandDescription(cmd), lists, after };
}

/**
 * Every command's help page, by the command's name ('' for the main command): what the build writes into the
 * start-up file, which prints `--help` without loading this module.
 */
export function helpPages(): Record<string, HelpPage> {
  const program = buildProgram(processIo(), () => {});
  const pages: Record<string, HelpPage> = {};
  for (const cmd of [program, ...program.commands])
    pages[cmd === program ? '' : cmd.name()] = helpPage(cmd, cmd.createHelp());
  return pages;
}

/** The options of a run that applies (the main command, and \`apply\`). */
function applyOptions(cmd: Command): Command {
  return configFlagOptions(cmd)
    .option('-y, --yes', 'apply, without asking, the changes that do not broaden access (needed with no terminal)')
    .option('--approve-broadening', 'with --yes: apply the changes marked (!) that broaden access, too')
    .option('--no-preflight', 'do not check the permissions (iam:SimulatePrincipalPolicy) before applying')
    .option('--prune', "remove the setup's roles the config no longer names (the plan lists them either way)")
    .option('--verbose', 'with nothing to change, show the whole plan and every hand-off file anyway');
}

interface ConfigFlagOptions {
  cluster?: string;
  bucket?: string;
  namespace?: string;
  concurrency?: number;
}

/** Values that take the place of the config's, and how many AWS requests are in flight at once (per service). */
function configFlagOptions(cmd: Command): Command {
  return cmd
    .option('--cluster <name>', "EKS cluster name (else the config's)")
    .option('--bucket <name>', "S3 bucket for Flyte (else the config's)")
    .option('--namespace <name>', "Flyte namespace (else the config's, or flyte)")
    .addOption(
      new Option('--concurrency <n>', 'AWS requests in flight at once, per service and region (IAM, EKS, EC2...)')
        .argParser(positiveInt('--concurrency', 16))
        .default(DEFAULT_CONCURRENCY),
    );
}

/** Flags users bring from other tools, and this tool's own for the same thing. */
const FOREIGN_FLAGS: [RegExp, string][] = [
  [/^-{1,2}(auto-)?approve$/, '--yes (and --approve-broadening for changes that broaden access)'],
  [/^(-o|--output)(=json)?$/, '--json'],
];

/** A flag of Terraform or the AWS CLI gets a hint to this tool's, instead of commander's plain "unknown option". */
function foreignFlag(argv: string[]): UsageError | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--') return undefined;
    const found = FOREIGN_FLAGS.find(([pattern]) => pattern.test(arg));
    if (found === undefined) continue;
    if (/^(-o|--output)$/.test(arg) && argv[i + 1] !== 'json') continue;
    return new UsageError(
      `${arg}${arg === '-o' || arg === '--output' ? ' json' : ''} is not an option of flyte-aws-setup`,
      `its flag for that is ${found[1]}`,
    );
  }
  return undefined;
}

function unknownCommand(word: string): UsageError {
  const names = [...COMMANDS];
  const guess = didYouMean(word, names);
  return new UsageError(
    `unknown command "${word}"${guess ? `; did you mean "${guess}"?` : ''}`,
    `the commands: ${names.join(', ')} (and the main command, with no name: flyte-aws-setup --help)`,
  );
}

export async function main(argv: string[], rawIo: CliIo = processIo()): Promise<number> {
  // Whatever is written, credentials never get out: both streams hide the values known to be secret.
  secretsFromEnv(rawIo.env);
  const stdout = redactingStream(rawIo.stdout);
  // Whether the command has written its JSON (or anything) on stdout: an error after that adds nothing there.
  let stdoutUsed = false;
  const write = stdout.write;
  stdout.write = ((...args: Parameters<typeof write>) => {
    stdoutUsed = true;
    return write.apply(stdout, args);
  }) as typeof write;
  // The other members as they are: copied as properties, so that `stdin` is not made until it is used.
  const stream = (value: CliIo['stdout']) => ({ value, writable: true, enumerable: true, configurable: true });
  const io = Object.defineProperties(
    {},
    {
      ...Object.getOwnPropertyDescriptors(rawIo),
      stdout: stream(stdout),
      stderr: stream(redactingStream(rawIo.stderr)),
    },
  ) as CliIo;
  let exitCode: number = ExitCode.Success;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    needsCommands(argv),
  );
  // Whether the command that runs was given --json (as parsed: not a value of another option, not a command that
  // has no --json).
  let json = false;
  program.hook('preAction', (_root, command) => {
    json = command.opts<{ json?: boolean }>().json === true;
    // The variables that stand for flags are checked like them, before the command runs.
    checkEnvironment(io.env);
  });
  const debug = argv.includes('--debug');
  try {
    const foreign = foreignFlag(argv);
    if (foreign !== undefined) throw foreign;
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const code = reportError(err, io, debug);
    // With --json, CI reads stdout: an error is a JSON document there too (the message stays on stderr).
    if (json && !stdoutUsed && code !== ExitCode.Success) {
      io.stdout.write(`${JSON.stringify(errorJson(err, code), null, 2)}\n`);
    }
    return code;
  }
}

/** What is not valid: the file, the options (a problem's key is `--region`), or both. */
function invalidSubject(err: ConfigError): string {
  const file = err.file ?? 'config';
  const fromFlag = (p: ConfigError['problems'][number]) => typeof p.path[0] === 'string' && p.path[0].startsWith('--');
  const flags = err.problems.filter(fromFlag).length;
  if (flags === 0) return `${file} is not valid`;
  if (flags === err.problems.length) return 'the command line is not valid';
  return `${file} and the command line are not valid`;
}

/** An error as `--json` writes it on stdout. */
export function errorJson(err: unknown, exitCode: number): ErrorDocument {
  const base = { formatVersion: JSON_FORMAT_VERSION, kind: 'error', exitCode } as const;
  if (err instanceof ConfigError) {
    return {
      ...base,
      message: invalidSubject(err),
      problems: err.problems.map((p) => ({ ...p, text: formatProblem(p) })),
    };
  }
  if (err instanceof CommanderError) return { ...base, message: err.message.replace(/^error: /, '') };
  if (err instanceof BroadeningNotApprovedError) {
    return { ...base, message: err.message, ...(err.hint ? { hint: err.hint } : {}), broadening: err.broadening };
  }
  if (err instanceof UserError) return { ...base, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { ...base, message: (err as Error)?.message ?? String(err) };
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
      `error: ${invalidSubject(err)} (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n`,
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
    if (debug && err.stack) io.stderr.write(`${stackWithCause(err)}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  io.stderr.write(`internal error: ${e?.message ?? String(err)}\n${e?.stack ?? ''}\n`);
  io.stderr.write('This is a bug in flyte-aws-setup; please report it with the output above.\n');
  return ExitCode.Failure;
}
