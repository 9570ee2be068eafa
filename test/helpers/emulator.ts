/**
 * The set-up of end-to-end test files: the built CLI and an emulator of their own.
 *
 *     import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
 *     const skip = motoSkipReason();
 *     describe.skipIf(skip !== undefined)('...', () => {
 *       let moto: Moto;
 *       beforeAll(async () => {
 *         moto = await acquireMoto(); // this file's emulator, empty
 *       });
 *       afterAll(async () => moto?.stop()); // hands it back
 *       beforeEach(async () => moto.reset()); // if the tests need an empty account each
 *
 * Under `vitest run` (npm test, npm run test:e2e) the run's global set-up (test/helpers/e2e-global-setup.ts) has
 * built the CLI before any end-to-end file starts, and `acquireMoto` gives the moto_server of the test worker the
 * file runs on, emptied: a file has it to itself while it runs, and may do anything to it (reset it, turn on
 * its auth checks). Without that set-up (another config), `acquireMoto` starts a server of the file's own, and
 * `stop` ends it.
 *
 * `motoSkipReason` keeps the rule: end-to-end tests are skipped, saying so, only when moto_server is not installed
 * and CI is unset; under CI a missing moto_server fails them.
 */
import { inject } from 'vitest';
import { emptyMoto, hasMotoServer, resetMoto, skipReasonFor, startMoto, type Moto } from './moto-server.js';

export type { Moto } from './moto-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the run's end-to-end broker (test/helpers/e2e-global-setup.ts). */
    e2eBroker: string;
  }
}

export interface BrokerStatus {
  build: { ok: boolean; output: string };
  moto: boolean;
}

/** Whether moto_server is installed, as the run's global set-up found it (else checked here, once per file). */
let motoFound: boolean | undefined;

function brokerUrl(): string | undefined {
  return inject('e2eBroker') as string | undefined;
}

async function ask<T>(path: string): Promise<T> {
  const res = await fetch(`${brokerUrl()}${path}`);
  if (!res.ok) throw new Error(`the end-to-end set-up failed (${path}):\n${await res.text()}`);
  return (await res.json()) as T;
}

/** The e2e project's setup file runs this before each file: the build is done, and moto_server looked for. */
export async function prepareE2eFile(): Promise<void> {
  if (brokerUrl() === undefined) return;
  // Start this worker's emulator (if it has none yet) while the build runs; acquireMoto waits for it.
  const worker = process.env.VITEST_POOL_ID;
  if (worker !== undefined) void ask(`/moto/${worker}`).catch(() => undefined);
  const status = await ask<BrokerStatus>('/status');
  if (!status.build.ok) throw new Error(`building the CLI (scripts/build.mjs) failed:\n${status.build.output}`);
  motoFound = status.moto;
}

/** Why end-to-end tests are skipped here, or undefined when they run. Throws under CI without the emulator. */
export function motoSkipReason(): string | undefined {
  motoFound ??= hasMotoServer();
  return skipReasonFor(motoFound);
}

/** An empty emulator for this file: its worker's shared server, or a server of its own without the global set-up. */
export async function acquireMoto(): Promise<Moto> {
  const worker = process.env.VITEST_POOL_ID;
  if (brokerUrl() === undefined || worker === undefined) return startMoto({ speedups: true });
  const { url, port } = await ask<{ url: string; port: number }>(`/moto/${worker}`);
  await emptyMoto(url);
  return {
    url,
    port,
    reset: () => resetMoto(url),
    // The server stays up for the worker's next file, which empties it first.
    stop: async () => {},
  };
}
