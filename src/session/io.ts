/**
 * What every command adapter is handed: the process's streams and environment (`CliIo`), and the options each
 * command takes, as commander parses them.
 */
import { stdOutput } from '../util/std-output.js';

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
    // Written to directly where that is what Node's stream would do (src/util/std-output.ts).
    stdout: stdOutput('stdout'),
    stderr: stdOutput('stderr'),
    // Made on first use: a terminal's input stream takes milliseconds to set up, and most runs never read it.
    get stdin() {
      return process.stdin;
    },
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

export interface ApplyCliOptions extends HandoffCliOptions {
  dryRun?: boolean;
  offline?: boolean;
  yes?: boolean;
  concurrency?: number;
  cluster?: string;
  bucket?: string;
  namespace?: string;
  interactive?: boolean;
  /** `--no-preflight` sets it to false: no iam:SimulatePrincipalPolicy check before applying. */
  preflight?: boolean;
  /** With --yes: approve the changes the plan marks (!) as broadening access too. */
  approveBroadening?: boolean;
  /** With --dry-run: exit 6 when the plan has changes (or waits for the cluster). */
  detailedExitcode?: boolean;
  /** The plan, the hand-off files and the next steps even when nothing changed. */
  verbose?: boolean;
  /** Remove the setup's roles the config no longer names. */
  prune?: boolean;
}

export interface PermissionsCliOptions {
  config?: string;
  region?: string;
  profile?: string;
  maxAttempts?: number;
  debug?: boolean;
  color?: boolean;
  for: 'apply' | 'verify' | 'destroy';
  offline?: boolean;
}

/** Where the hand-off files go without --out-dir. */
export const DEFAULT_OUT_DIR = './flyte-aws-setup-out/';

/** Options of the commands that write the hand-off files (`outputs`, and the main command after a run). */
export interface HandoffCliOptions extends AwsCliOptions {
  outDir?: string;
  force?: boolean;
  flavor?: 'flyte' | 'union';
}

/** `verify`'s options: `--as NAMESPACE/SERVICEACCOUNT` explains one identity's access. */
export interface VerifyCliOptions extends AwsCliOptions {
  as?: string;
  concurrency?: number;
  /** Ask IAM's simulator (iam:SimulatePrincipalPolicy) too; `false`: --no-second-opinion. */
  secondOpinion?: boolean;
}

/** `probe`'s options: the Jobs' manifests, or (`--apply`) their run through kubectl. */
export interface ProbeCliOptions extends AwsCliOptions {
  /** Write one manifest file per identity there (else all on stdout). */
  out?: string;
  /** Apply the Jobs with kubectl, wait, read their logs, print a verdict per identity. */
  apply?: boolean;
  /** The aws CLI image the Jobs run. */
  image?: string;
  /** Seconds to wait for the Jobs (with --apply). */
  timeout?: number;
  /** No AWS call: the account and region from the config. */
  offline?: boolean;
}

export interface DestroyCliOptions extends AwsCliOptions {
  dryRun?: boolean;
  yes?: boolean;
}
