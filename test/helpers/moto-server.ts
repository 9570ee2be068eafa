/**
 * moto_server processes: a local AWS on a free loopback port, with AWS managed policies loaded. No side effect on
 * import (test/helpers/moto.ts checks for moto_server when imported; the end-to-end tests ask the run's shared
 * check instead, see test/helpers/emulator.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Moto {
  url: string;
  port: number;
  /** The server's process, where this handle started it (the bench reads its CPU time). */
  pid?: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Load test/helpers/moto-speedups/sitecustomize.py into the server: the same answers for less CPU (moto builds
   * its IAM backends, with the ~1,500 AWS managed policies, several times after each reset). Off by default, so the
   * bench measures the emulator as installed.
   */
  speedups?: boolean;
}

const SPEEDUPS = join(import.meta.dirname, 'moto-speedups');

/** Whether `moto_server --help` runs (about half a second of CPU: Python imports moto). */
export function hasMotoServer(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

/** The same check without blocking. */
export function hasMotoServerAsync(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('moto_server', ['--help'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Why the end-to-end tests are skipped, or undefined when they run. Throws under CI without the emulator. */
export function skipReasonFor(available: boolean): string | undefined {
  if (available) return undefined;
  if (process.env.CI)
    throw new Error(
      'moto_server is not installed, and CI is set: the end-to-end tests must run (pip install "moto[server]")',
    );
  const reason = 'moto_server is not installed: end-to-end tests skipped (pip install "moto[server]" to run them)';
  console.warn(reason);
  return reason;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, failed: () => Error | undefined, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const error = failed();
    if (error) throw error;
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/moto-api/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`moto_server did not answer at ${url} within ${timeoutMs} ms`);
}

/** Empty the emulator: no resources, and requests unchecked again (`/moto-api/reset` leaves the auth setting). */
export async function emptyMoto(url: string): Promise<void> {
  // As a fresh server has it: no request is checked against IAM policies (see operator-policy.test.ts).
  const auth = await fetch(`${url}/moto-api/reset-auth`, { method: 'POST', body: 'inf' });
  if (!auth.ok) throw new Error(`moto reset-auth failed: ${auth.status}`);
  await resetMoto(url);
}

/** Empty the emulator's resources (`/moto-api/reset`). */
export async function resetMoto(url: string): Promise<void> {
  const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}

export async function startMoto(options: StartOptions = {}): Promise<Moto> {
  const env: NodeJS.ProcessEnv = { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' };
  if (options.speedups) {
    env.PYTHONPATH = [SPEEDUPS, process.env.PYTHONPATH].filter(Boolean).join(process.platform === 'win32' ? ';' : ':');
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => spawnError);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 2) continue;
      throw new Error(`${(err as Error).message}\n${stderr}`);
    }
    return {
      url,
      port,
      pid: child.pid,
      reset: () => resetMoto(url),
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          // A server busy or stuck writing may not heed SIGTERM: never wait on it long.
          const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    };
  }
}
