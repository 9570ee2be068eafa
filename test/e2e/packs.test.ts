/**
 * The build's packs (scripts/build.mjs): chunks that are loaded together are bundled into one file. Every module
 * must still exist once, whoever requires it (a chunk left as a one-line file hands over the pack's module), and no
 * built file may require a file the build removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMetafile } from '../helpers/bundle.js';
import { ROOT } from '../helpers/cli.js';

interface Output {
  imports: { path: string; kind: string; external?: boolean }[];
  packedInto?: string;
}
const outputs = readMetafile().outputs as Record<string, Output>;
const built = Object.keys(outputs).filter((f) => f.endsWith('.cjs'));
const handedOver = built.filter((f) => outputs[f]!.packedInto !== undefined);

describe('the packs of the built CLI', () => {
  it('the CLI and the AWS layer are packs, with chunks of theirs that other files require handed over', () => {
    const packs = new Set(handedOver.map((f) => outputs[f]!.packedInto));
    expect(packs).toContain('dist/cli.cjs');
    expect([...packs].some((p) => /^dist\/chunks\/apply-aws-\w+\.cjs$/.test(p!))).toBe(true);
  });

  it('every file a built file requires is there', () => {
    const missing: string[] = [];
    for (const f of built) {
      const code = readFileSync(join(ROOT, f), 'utf8');
      for (const m of code.matchAll(/require\("(\.\.?\/[^"]+)"\)/g)) {
        if (!existsSync(join(ROOT, dirname(f), m[1]!))) missing.push(`${f} -> ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('a chunk required through its one-line file is the pack’s module itself, not a second copy', () => {
    // Loaded in a child: the CLI's modules must not be loaded into the test's process.
    const script = `
      const { join } = require('node:path');
      const root = ${JSON.stringify(ROOT)};
      const pairs = ${JSON.stringify(handedOver.map((f) => [f, outputs[f]!.packedInto]))};
      const wrong = [];
      for (const [file, pack] of pairs) {
        const viaFile = require(join(root, file));
        const viaPack = require(join(root, pack)).__packed(file);
        if (viaFile !== viaPack || typeof viaFile !== 'object') wrong.push(file);
      }
      process.stdout.write(JSON.stringify({ checked: pairs.length, wrong }));
    `;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const { checked, wrong } = JSON.parse(run.stdout) as { checked: number; wrong: string[] };
    expect(checked).toBe(handedOver.length);
    expect(checked).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  });
});
