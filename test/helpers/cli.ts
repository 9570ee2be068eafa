/** Run the built CLI as a child process, as a user would, and collect its output and AWS calls. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CallRecord } from '../../src/aws/clients.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/flyte-aws-setup.js');

/** Fake credentials the tests give the CLI; no output may ever show them. */
export const FAKE_KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001',
  AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyDoNotPrint/0123456789abcdef',
};

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  calls: CallRecord[];
  mutating: CallRecord[];
}

export interface RunOptions {
  /** The emulator's URL; omitted for runs that must not reach AWS at all. */
  endpoint?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** Working directory; default: a fresh temporary one, removed after the run. */
  cwd?: string;
  timeoutMs?: number;
  /** Another copy of the built CLI to run (default: the repository's bin/flyte-aws-setup.js). */
  bin?: string;
}

/** A clean environment: no AWS settings of the machine, a HOME without ~/.aws. */
export function cliEnv(options: RunOptions, home: string, callLog: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && k !== 'CI') env[k] = v;
  Object.assign(env, {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    FLYTE_AWS_SETUP_CALL_LOG: callLog,
    NO_COLOR: '1',
  });
  if (options.endpoint) Object.assign(env, { AWS_ENDPOINT_URL: options.endpoint, ...FAKE_KEYS });
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** The AWS calls made so far (from the CLI's call log). */
  calls(): CallRecord[];
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  done: Promise<CliRun>;
}

function readCalls(file: string): CallRecord[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CallRecord);
  } catch {
    return [];
  }
}

/** Start the CLI and return at once, to watch it or signal it while it runs. */
export function spawnCli(args: string[], options: RunOptions = {}): RunningCli {
  const home = mkdtempSync(join(tmpdir(), 'fas-home-'));
  const callLog = join(home, 'calls.jsonl');
  writeFileSync(callLog, '');
  const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
    // A fresh directory by default, so files a run writes there (the hand-off files) never land in the repository.
    cwd: options.cwd ?? home,
    env: cliEnv(options, home, callLog),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000);
  const done = new Promise<CliRun>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const calls = readCalls(callLog);
      rmSync(home, { recursive: true, force: true });
      resolvePromise({ code, signal, stdout, stderr, calls, mutating: calls.filter((c) => c.mutating) });
    });
  });
  return { child, calls: () => readCalls(callLog), output: () => ({ stdout, stderr }), done };
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return spawnCli(args, options).done;
}

/** Write a config file into a fresh temporary directory; returns its path. */
export function writeConfig(text: string, name = 'flyte-aws-setup.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'fas-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
