/** The CLI in-process (`main(argv, io)`), with its output captured: no child process, no terminal. */
import { PassThrough } from 'node:stream';
import { main, type CliIo } from '../../src/cli.js';

/** Streams for `main`, collecting what it writes; colours off unless `env` turns them on. */
export function captureIo(env: NodeJS.ProcessEnv = {}): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return {
    io: { stdout, stderr, stdin: new PassThrough(), env: { NO_COLOR: '1', ...env }, handleSignals: false },
    out: () => o,
    err: () => e,
  };
}

/** Run the CLI with `args`; its exit code and output. */
export async function runMain(
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = captureIo(env);
  const code = await main(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}
