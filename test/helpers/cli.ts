/**
 * Run the built CLI and collect its output and AWS calls: `spawnCli` as a child process, as a user would; `runCli`
 * in the test's own process (see runInProcess), unless the run needs a process of its own.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import type { CallRecord } from '../../src/aws/clients.js';
import type { CliIo } from '../../src/session/io.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Node's own require, for the built CLI (CommonJS). */
const requireBuilt = createRequire(import.meta.url);
export const BIN = join(ROOT, 'bin/flyte-aws-setup.cjs');
/** The cache directory of this process's CLI runs (see cliEnv): made when first asked for, removed at exit. */
let cacheHome: string | undefined;
function testCacheHome(): string {
  if (cacheHome === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'fas-cache-'));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    cacheHome = made;
  }
  return cacheHome;
}

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
  /** Another copy of the built CLI to run (default: the repository's bin/flyte-aws-setup.cjs); always a process. */
  bin?: string;
  /** Run it as a child process even where it could run in the test's process. */
  process?: boolean;
}

/**
 * A clean environment: no AWS settings of the machine, a HOME without ~/.aws; with `callLog`, the file the CLI
 * appends each AWS call to (the tests read it; a timed run of the benchmark has none, as no user's run does).
 */
export function cliEnv(options: RunOptions, home: string, callLog?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && k !== 'CI') env[k] = v;
  Object.assign(env, {
    HOME: home,
    // One code cache (src/util/compile-cache.ts) for the runs of this process, outside their homes, as a user's runs share
    // theirs: a run starts as a user's second run does, and writes nothing into the home it is given.
    XDG_CACHE_HOME: testCacheHome(),
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
  });
  if (callLog !== undefined) env.FLYTE_AWS_SETUP_CALL_LOG = callLog;
  else delete env.FLYTE_AWS_SETUP_CALL_LOG;
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

/** A fresh HOME for one run, with the file its AWS calls are logged to; `end` reads them and removes it all. */
function runHome(): { home: string; callLog: string; end(): CallRecord[] } {
  const home = mkdtempSync(join(tmpdir(), 'fas-home-'));
  const callLog = join(home, 'calls.jsonl');
  writeFileSync(callLog, '');
  return {
    home,
    callLog,
    end() {
      const calls = readCalls(callLog);
      rmSync(home, { recursive: true, force: true });
      return calls;
    },
  };
}

/** Start the CLI and return at once, to watch it or signal it while it runs. */
export function spawnCli(args: string[], options: RunOptions = {}): RunningCli {
  const { home, callLog, end } = runHome();
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
      const calls = end();
      resolvePromise({ code, signal, stdout, stderr, calls, mutating: calls.filter((c) => c.mutating) });
    });
  });
  return { child, calls: () => readCalls(callLog), output: () => ({ stdout, stderr }), done };
}

/**
 * Run the CLI to its end. By default in the test's process (runInProcess); as a child process with `bin`, with
 * `process: true`, or for every run when FLYTE_AWS_SETUP_TEST_SPAWN=1.
 */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  if (options.bin !== undefined || options.process || process.env.FLYTE_AWS_SETUP_TEST_SPAWN === '1') {
    return spawnCli(args, options).done;
  }
  return runInProcess(args, options);
}

type Main = (argv: string[], io: CliIo) => Promise<number>;
/** The built CLI's `main`, loaded once per test worker. */
let built: Promise<Main> | undefined;
/** One in-process run at a time: each has the process's environment and working directory to itself. */
let turn: Promise<unknown> = Promise.resolve();

/**
 * The built CLI (dist/cli.cjs, what bin/flyte-aws-setup.cjs runs) in this process, as a child would run it: the
 * environment of `cliEnv` is the process's for the run (the SDK reads it there), the working directory is the run's,
 * stdin holds `input`, and everything written to the process's stdout and stderr during the run (a warning of Node's,
 * anything not written through the CLI's streams) is the run's output too. What differs from a child process is only
 * what this saves: starting Node and loading the bundle again, about a third of a second of CPU per run. The signals,
 * the exit of the process itself and its start-up are tested with `spawnCli`.
 */
function runInProcess(args: string[], options: RunOptions): Promise<CliRun> {
  const run = turn.then(() => runNow(args, options));
  turn = run.catch(() => undefined);
  return run;
}

async function runNow(args: string[], options: RunOptions): Promise<CliRun> {
  // Loaded by Node itself, as the start-up file loads it (vitest.config.ts leaves dist/ to Node).
  built ??= Promise.resolve().then(() => (requireBuilt(join(ROOT, 'dist/cli.cjs')) as { main: Main }).main);
  const main = await built;
  const { home, callLog, end } = runHome();
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const env = cliEnv(options, home, callLog);
  const saved = { env: process.env, cwd: process.cwd(), out: process.stdout.write, err: process.stderr.write };
  process.env = env;
  process.chdir(options.cwd ?? home);
  process.stdout.write = ((chunk: string | Uint8Array) => out.write(chunk)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.write(chunk)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(args, { stdout: out, stderr: err, stdin, env, handleSignals: false });
    // What the run left to write (a warning is written on the next tick) is its output too.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.chdir(saved.cwd);
    process.env = saved.env;
  }
  const calls = end();
  return { code, signal: null, stdout, stderr, calls, mutating: calls.filter((c) => c.mutating) };
}

/** Write a config file into a fresh temporary directory; returns its path. */
export function writeConfig(text: string, name = 'flyte-aws-setup.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'fas-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
