/**
 * The error taxonomy. Each kind maps to one exit code; only the top of the CLI turns them into output.
 *
 * - UserError: the user can fix it (bad input, a missing permission, no credentials). Message, no stack.
 * - ConfigError: a config file or command line that breaks the rules; every problem at once.
 * - CancelledError: the user said no, or pressed Ctrl-C.
 * - anything else: a bug. The CLI prints the stack and asks for a report.
 */

export const ExitCode = {
  Success: 0,
  /** AWS or runtime failure, or the run was declined. */
  Failure: 1,
  /** Bad input: config file, flags, or what they name that AWS does not have. Nothing was changed in AWS. */
  BadInput: 2,
  /** The run did all it could, but some sections wait for something (the EKS cluster). */
  Incomplete: 3,
  /** AWS is done, but a hand-off file was kept because it differs from what would be written (no --force). */
  FilesKept: 4,
  /** --yes without --approve-broadening, and the plan has changes that broaden access: nothing was changed. */
  ApprovalNeeded: 5,
  /** A plan with --detailed-exitcode: AWS does not match the config yet (changes to make, or waiting). */
  ChangesPending: 6,
  Interrupted: 130,
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error's stack and its cause's, for --debug. */
export function stackWithCause(err: unknown): string {
  const e = err as Error | undefined;
  const cause = e?.cause as Error | undefined;
  return `${e?.stack ?? String(err)}${cause?.stack ? `\ncaused by: ${cause.stack}` : ''}`;
}

export class UserError extends Error {
  readonly exitCode: ExitCode;
  /** What to do about it, printed under the message. */
  readonly hint?: string;
  constructor(message: string, options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? ExitCode.Failure;
    this.hint = options.hint;
  }
}

/** One problem found in the input, with where it is. */
export interface Problem {
  /** Key path, e.g. ['projectRoles', 0, 'domains', 1]. Empty for the file as a whole. */
  path: (string | number)[];
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  col?: number;
}

export class ConfigError extends UserError {
  readonly problems: Problem[];
  readonly file?: string;
  constructor(problems: Problem[], file?: string) {
    super(
      problems.length === 1
        ? `${file ?? 'config'}: ${formatProblem(problems[0]!)}`
        : `${file ?? 'config'}: ${problems.length} problems`,
      { exitCode: ExitCode.BadInput },
    );
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}

/** A bad command line (unknown option, a flag that needs another). */
export class UsageError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.BadInput });
    this.name = 'UsageError';
  }
}

/** `--yes` does not approve changes that broaden access; they need `--approve-broadening` as well. */
export class BroadeningNotApprovedError extends UserError {
  /** Each change that broadens access: `<resource>: <reason>`, as the plan marks it (!). */
  readonly broadening: string[];
  constructor(broadening: string[]) {
    super(
      `the plan has ${broadening.length} change(s) that broaden access (marked (!)), and --yes approves only ` +
        `changes that do not; nothing was changed:\n${broadening.map((b) => `  - ${b}`).join('\n')}`,
      {
        hint: 'look at the plan (--dry-run); if these are wanted, add --approve-broadening to --yes',
        exitCode: ExitCode.ApprovalNeeded,
      },
    );
    this.name = 'BroadeningNotApprovedError';
    this.broadening = broadening;
  }
}

export class CancelledError extends UserError {
  constructor(message: string, exitCode: ExitCode = ExitCode.Failure) {
    super(message, { exitCode });
    this.name = 'CancelledError';
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export function formatProblem(p: Problem): string {
  const where = p.line !== undefined ? `line ${p.line}${p.col !== undefined ? `, column ${p.col}` : ''}: ` : '';
  const key = p.path.length > 0 ? `${formatPath(p.path)}: ` : '';
  return `${where}${key}${p.message}`;
}
