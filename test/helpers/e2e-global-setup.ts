/**
 * Global set-up of the end-to-end project (vitest.config.ts), in Vitest's main process, once per run:
 *  - builds the CLI (`node scripts/build.mjs`: dist/ and build/metafile.json), so the child processes run what the
 *    sources say, and checks once whether moto_server is installed. Both start at once and run while the unit tests
 *    do; each end-to-end file waits for them in its setup file (test/helpers/e2e-setup.ts).
 *  - keeps one moto_server per test worker (VITEST_POOL_ID), started when that worker first asks, for the whole
 *    run: a file gets the server of the worker it runs on, emptied (test/helpers/emulator.ts). A worker runs one
 *    file at a time, so no two files share a server at once.
 * The workers reach it through a small HTTP service on the loopback ("broker"), whose URL they `inject`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from './cli.js';
import { hasMotoServerAsync, startMoto, type Moto } from './moto-server.js';
import type { BrokerStatus } from './emulator.js';

function build(): Promise<BrokerStatus['build']> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/build.mjs')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ ok: false, output: String(err) }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

export default async function setup(project: TestProject) {
  const built = build();
  const motoFound = hasMotoServerAsync();
  const servers = new Map<string, Promise<Moto>>();

  function serverFor(worker: string): Promise<Moto> {
    let moto = servers.get(worker);
    if (!moto) {
      moto = startMoto({ speedups: true });
      servers.set(worker, moto);
      // A server that did not start is tried again by the next file of that worker.
      moto.catch(() => servers.delete(worker));
    }
    return moto;
  }

  async function answer(path: string): Promise<unknown> {
    if (path === '/status') return { build: await built, moto: await motoFound } satisfies BrokerStatus;
    const worker = /^\/moto\/(\d+)$/.exec(path)?.[1];
    if (worker !== undefined) {
      if (!(await motoFound)) throw new Error('moto_server is not installed');
      const { url, port } = await serverFor(worker);
      return { url, port };
    }
    throw new Error(`no such request: ${path}`);
  }

  const broker = http.createServer((req, res) => {
    answer(req.url ?? '/').then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? (err.stack ?? err.message) : String(err));
      },
    );
  });
  // Idle connections stay open: a file that first asks for its emulator after Node's default 5 s (its earlier tests
  // run first) would otherwise meet the server closing the connection its fetch reuses ("other side closed").
  broker.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  project.provide('e2eBroker', `http://127.0.0.1:${(broker.address() as AddressInfo).port}`);

  return async () => {
    broker.closeAllConnections();
    broker.close();
    // Never leave a build half-written, nor an emulator running.
    await built;
    await Promise.all(
      [...servers.values()].map((moto) =>
        moto.then(
          (m) => m.stop(),
          () => undefined,
        ),
      ),
    );
  };
}
