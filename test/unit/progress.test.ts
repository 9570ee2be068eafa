/** The progress spinner on stderr: only where a terminal can show it, and without colour when colour is off. */
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgress } from '../../src/render/progress.js';

function terminal(columns: number | undefined) {
  // A PassThrough with what ora asks of a terminal.
  const stream = Object.assign(new PassThrough(), {
    isTTY: true,
    columns,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
  });
  let written = '';
  stream.on('data', (d: Buffer) => (written += d.toString()));
  return { stream, written: () => written };
}

// Colours as on a colour terminal (ora, loaded by the first spinner, reads this once), so that "off" means the code.
// Under CI, ora shows no spinner at all (it reads CI once, when loaded): these tests are about a terminal's.
const saved = { FORCE_COLOR: process.env.FORCE_COLOR, CI: process.env.CI };
process.env.FORCE_COLOR = '1';
delete process.env.CI;
afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 250));

describe('progress', () => {
  it('a terminal that reports no width gets no spinner (ora cannot lay one out), only the lines', async () => {
    for (const columns of [0, undefined]) {
      const t = terminal(columns);
      const p = await createProgress(t.stream, true);
      p.start('Reading the account');
      await tick();
      p.log('a line');
      p.clear();
      expect(t.written()).toBe('a line\n');
    }
  });

  it('with colour off, the spinner has no colour codes; with colour on, it has', async () => {
    const plain = terminal(80);
    const off = await createProgress(plain.stream, true, false);
    off.start('Reading the account');
    await tick();
    off.clear();
    expect(plain.written()).toContain('Reading the account');
    expect(plain.written()).not.toMatch(/\x1b\[3\dm/);

    const coloured = terminal(80);
    const on = await createProgress(coloured.stream, true, true);
    on.start('Reading the account');
    await tick();
    on.clear();
    expect(coloured.written()).toMatch(/\x1b\[3\dm/);
  });
});
