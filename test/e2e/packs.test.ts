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
import { BIN, ROOT, cliEnv } from '../helpers/cli.js';

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

  it('each source is in one built file: no module is in two packs, or in a pack and a file of its own', () => {
    const meta = readMetafile() as unknown as { outputs: Record<string, { inputs?: Record<string, unknown> }> };
    const where = new Map<string, string[]>();
    // The start-up file is built on its own, with copies of the few modules it needs (scripts/build.mjs).
    for (const f of built.filter((b) => b !== 'dist/front.cjs')) {
      for (const input of Object.keys(meta.outputs[f]!.inputs ?? {}))
        where.set(input, [...(where.get(input) ?? []), f]);
    }
    expect([...where].filter(([, files]) => files.length > 1)).toEqual([]);
    // The packs hold what their chunks held (the one-line files hold nothing).
    for (const f of handedOver) expect(Object.keys(meta.outputs[f]!.inputs ?? {})).toEqual([]);
    expect(where.get('src/cli.ts')).toEqual(['dist/cli.cjs']);
    expect(where.get('src/load/config.ts')).toEqual(['dist/cli.cjs']);
    expect(where.get('src/aws/gateway.ts')?.[0]).toMatch(/^dist\/chunks\/apply-aws-\w+\.cjs$/);
  });

  it('a stack trace under node --enable-source-maps names the sources, in a pack too', () => {
    // Nothing listens on port 9: the first call fails, and --debug prints the stack.
    const run = spawnSync(
      process.execPath,
      [
        '--enable-source-maps',
        BIN,
        '--config',
        'examples/flyte-aws-setup.yaml',
        '--dry-run',
        '--max-attempts',
        '1',
        '--debug',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...cliEnv({}, ROOT, '/dev/null'),
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001',
          AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyDoNotPrint/0123456789abcdef',
        },
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/at .*src\/aws\/gateway\.ts:\d+:\d+/);
    expect(run.stderr).not.toMatch(/at .*dist\/.*\.cjs:\d+/);
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
