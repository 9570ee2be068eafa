/**
 * A local AWS for end-to-end tests: one `moto_server` per test file on a free loopback port, with AWS managed
 * policies loaded. When moto_server is missing the end-to-end suites are skipped, saying why, unless CI is set:
 * under CI they must run, so a missing emulator fails them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface Moto {
  url: string;
  port: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

function hasMoto(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

export const motoAvailable: boolean = hasMoto();

/** Why end-to-end tests are skipped here, or undefined when they run. Throws under CI without the emulator. */
export function motoSkipReason(): string | undefined {
  if (motoAvailable) return undefined;
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

async function waitReady(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
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

export async function startMoto(): Promise<Moto> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 2) continue;
      throw new Error(`${(err as Error).message}\n${stderr}`);
    }
    return {
      url,
      port,
      async reset() {
        const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
        if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
      },
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
}
