/**
 * What the CLI writes its output through (src/util/std-output.ts): straight to the file descriptor where Node's
 * stream would write synchronously, handing over to Node's stream, in order, when the descriptor refuses a write;
 * a reader that has gone ends the writing quietly, through either.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { fdOutput } from '../../src/util/std-output.js';
import { ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fas-std-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Node stream that must not be made. */
const unused = () => {
  throw new Error("Node's stream was made");
};

/** A stand-in for fs.writeSync that takes at most `max` bytes a call, and then throws `code` once `after` are in. */
function fakeWrites(max: number, fail?: { after: number; code: string }) {
  const written: number[] = [];
  let calls = 0;
  const writeSync = ((_fd: number, buf: Uint8Array, offset: number, length: number) => {
    calls++;
    if (fail !== undefined && written.length >= fail.after) throw Object.assign(new Error(fail.code), fail);
    const n = Math.min(max, length, fail === undefined ? length : fail.after - written.length);
    written.push(...buf.subarray(offset, offset + n));
    return n;
  }) as unknown as typeof import('node:fs').writeSync;
  return { writeSync, text: () => Buffer.from(written).toString('utf8'), calls: () => calls };
}

describe('fdOutput', () => {
  it('writes strings and bytes to the descriptor, in order, and calls back after', async () => {
    const file = join(dir, 'out.txt');
    const fd = openSync(file, 'w');
    const out = fdOutput(fd, unused);
    let calledBack = false;
    expect(out.write('plan: 3 to add, ')).toBe(true);
    out.write(Buffer.from('0 to change — '));
    out.write('déjà\n', 'utf8', () => (calledBack = true));
    expect(calledBack).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(calledBack).toBe(true);
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('plan: 3 to add, 0 to change — déjà\n');
    // Not a terminal: no colour, no width; nothing made for them.
    expect(out.isTTY).toBeUndefined();
    expect(out.columns).toBeUndefined();
  });

  it('writes what a descriptor takes in parts until all is written', () => {
    const fake = fakeWrites(3);
    const out = fdOutput(1, unused, Infinity, fake.writeSync);
    out.write('a line of eighteen\n');
    out.write('ünïcode\n');
    expect(fake.text()).toBe('a line of eighteen\nünïcode\n');
  });

  it('hands the rest over to Node’s stream when the descriptor refuses a write (EAGAIN), and every later write', () => {
    const fake = fakeWrites(4, { after: 6, code: 'EAGAIN' });
    const node = new PassThrough();
    let made = 0;
    const out = fdOutput(1, () => (made++, node), Infinity, fake.writeSync);
    out.write('first line\n');
    out.write('second line\n');
    expect(fake.text()).toBe('first ');
    expect(node.read()?.toString()).toBe('line\nsecond line\n');
    const calls = fake.calls();
    out.write('third\n');
    expect(fake.calls()).toBe(calls);
    expect(node.read()?.toString()).toBe('third\n');
    expect(made).toBeGreaterThan(0);
  });

  it('writes its first bytes straight, up to its limit, and the rest through Node’s stream, in order', () => {
    const fake = fakeWrites(100);
    const node = new PassThrough();
    let made = 0;
    const out = fdOutput(1, () => (made++, node), 12, fake.writeSync);
    out.write('0123456789');
    expect(made).toBe(0);
    // Past the limit: this write and every later one, however small, go to Node's stream.
    out.write('abc');
    out.write('d');
    expect(fake.text()).toBe('0123456789');
    expect(node.read()?.toString()).toBe('abcd');
  });

  it('counts each write as more than its bytes where the descriptor keeps some for each (a socket)', () => {
    const fake = fakeWrites(100);
    const node = new PassThrough();
    const out = fdOutput(1, () => node, 20, fake.writeSync, 5);
    out.write('abcdef');
    out.write('gh');
    // 6 + 5 and 2 + 5 are in; 1 + 5 more would pass 20.
    out.write('i');
    expect(fake.text()).toBe('abcdefgh');
    expect(node.read()?.toString()).toBe('i');
  });

  it('stops writing, quietly, once the reader has gone (EPIPE)', () => {
    const fake = fakeWrites(100, { after: 3, code: 'EPIPE' });
    const out = fdOutput(1, unused, Infinity, fake.writeSync);
    expect(() => out.write('abcdef')).not.toThrow();
    const calls = fake.calls();
    expect(out.write('more\n')).toBe(true);
    expect(fake.calls()).toBe(calls);
    expect(fake.text()).toBe('abc');
  });

  it('any other member is Node’s stream’s', () => {
    const node = new PassThrough();
    const out = fdOutput(1, () => node);
    let ended = false;
    out.on('finish', () => (ended = true));
    expect(out.writable).toBe(true);
    node.end();
    node.resume();
    return new Promise<void>((resolve) => setImmediate(() => (expect(ended).toBe(true), resolve())));
  });
});

describe('stdOutput', () => {
  it('a reader that does not read does not stop the run: past what a pipe holds, Node’s stream queues the rest', () => {
    // 200 kB into a pipe whose reader sleeps 1.5 s: written straight, the write would wait for it. Plain Node, not
    // tsx, which makes the process's stdout itself (and so the pipe non-blocking) before the code runs.
    const script = join(dir, 'big-write.cjs');
    const bundled = buildSync({
      stdin: {
        contents:
          `import { stdOutput } from ${JSON.stringify(join(ROOT, 'src/util/std-output.ts'))};\n` +
          "const out = stdOutput('stdout');\n" +
          'const t0 = performance.now();\n' +
          "out.write('x'.repeat(200000));\n" +
          'process.stderr.write(`wrote after ${Math.round(performance.now() - t0)} ms\\n`);\n',
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
    });
    writeFileSync(script, bundled.outputFiles[0]!.text);
    const run = spawnSync('sh', ['-c', `"${process.execPath}" "${script}" | (sleep 1.5; wc -c)`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.stdout.trim()).toBe('200000');
    const ms = Number(/wrote after (\d+) ms/.exec(run.stderr)?.[1]);
    expect(ms).toBeLessThan(500);
  });
});

describe('guardStdStreams', () => {
  // A child whose stdout is a pipe its reader has closed: process.stdout (Node's socket for the pipe) fails the
  // write with EPIPE, as an error event after it.
  const child = (guard: boolean) =>
    spawnSync(
      'sh',
      [
        '-c',
        `{ sleep 0.3; "${process.execPath}" --import tsx -e "${[
          "import { guardStdStreams } from './src/util/std-output.ts';",
          guard ? 'guardStdStreams();' : '',
          "process.stdout.write('x'.repeat(200000));",
          "setTimeout(() => process.stderr.write('still running\\n'), 100);",
        ].join(' ')}"; echo "status=$?" >&2; } | true`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );

  it('a reader that has gone does not crash the run', () => {
    const run = child(true);
    expect(run.stderr).toBe('still running\nstatus=0\n');
  });

  it('(without it, the same run crashes: the check above can fail)', () => {
    const run = child(false);
    expect(run.stderr).toContain('EPIPE');
    expect(run.stderr).not.toContain('still running');
  });
});
