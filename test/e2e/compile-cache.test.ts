/**
 * The code cache of the built CLI (src/util/compile-cache.ts), through the bin as a user runs it: what the first run
 * writes, that a later run reads it and writes nothing, that data V8 refuses is written again, that the output is the
 * same with and without it, and that it can be turned off. No timing here: `npm run bench` measures the start-up.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv } from '../helpers/cli.js';
import { readMetafile } from '../helpers/bundle.js';
import { OTHER_BUILDS_KEPT_MS } from '../../src/util/compile-cache.js';

const work = mkdtempSync(join(tmpdir(), 'fas-compile-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CONFIG = join(ROOT, 'examples/flyte-aws-setup.yaml');
const DRY_RUN = ['--config', CONFIG, '--dry-run', '--offline'];
/** The data an offline run keeps for the CLI (runs that do not talk to AWS keep theirs apart). */
const DATA = 'cli.cjs.offline.v8';
/** The built CLI's files (what the cache may hold data for). */
const BUILT = new Set(
  Object.keys(readMetafile().outputs)
    .filter((f) => f.endsWith('.cjs') && f !== 'dist/front.cjs')
    .map((f) => basename(f)),
);

function spawn(cacheHome: string, env: Record<string, string>, args: string[]) {
  const home = mkdtempSync(join(work, 'home-'));
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: home,
    encoding: 'utf8',
    env: cliEnv({ env: { XDG_CACHE_HOME: cacheHome, ...env } }, home, join(home, 'calls.jsonl')),
  });
}

/** An offline dry run: its output. */
function run(cacheHome: string, env: Record<string, string> = {}) {
  const home = mkdtempSync(join(work, 'home-'));
  const ran = spawnSync(process.execPath, [BIN, ...DRY_RUN], {
    cwd: home,
    encoding: 'utf8',
    env: cliEnv({ env: { XDG_CACHE_HOME: cacheHome, ...env } }, home, join(home, 'calls.jsonl')),
  });
  expect(ran.stderr).toBe('');
  expect(ran.status).toBe(0);
  return ran.stdout;
}

/** Where the cache keeps its directories, under a cache home. */
const codeRoot = (cacheHome: string) => join(cacheHome, 'flyte-aws-setup', 'code');

/** The cache's directories (one per build and Node), each with its files and their modification times. */
function cached(cacheHome: string): Map<string, Map<string, number>> {
  const root = codeRoot(cacheHome);
  const dirs = new Map<string, Map<string, number>>();
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return dirs;
  }
  for (const dir of names) {
    const files = new Map<string, number>();
    for (const f of readdirSync(join(root, dir))) files.set(f, statSync(join(root, dir, f)).mtimeMs);
    dirs.set(dir, files);
  }
  return dirs;
}

/** The path of the one directory the cache has under `cacheHome` (this build's, on this Node). */
function onlyDir(cacheHome: string): string {
  const dirs = [...cached(cacheHome).keys()];
  expect(dirs).toHaveLength(1);
  return join(codeRoot(cacheHome), dirs[0]!);
}

describe('the code cache of the built CLI', () => {
  it('the first run writes data for each built file it loaded; a later run reads it and writes nothing', () => {
    const cacheHome = join(work, 'first');
    const plain = run(join(work, 'off'), { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(run(cacheHome)).toBe(plain);
    const dirs = cached(cacheHome);
    // (A hash of the Node options last, when the tests run with any.)
    expect([...dirs.keys()]).toEqual([
      expect.stringMatching(new RegExp(`-${process.version}-${process.arch}(-[0-9a-f]{8})?$`)),
    ]);
    const [files] = [...dirs.values()];
    // An offline dry run loads one built file besides the start-up file: the CLI, with the chunks packed into it.
    expect([...files!.keys()]).toEqual([DATA]);

    expect(run(cacheHome)).toBe(plain);
    expect(cached(cacheHome)).toEqual(dirs);
  });

  it('a run that talks to AWS keeps its data apart from an offline run’s, each read by its own kind', () => {
    const cacheHome = join(work, 'kinds');
    // Nothing listens on port 9: the run loads the SDK, fails at its first call, and writes its data as it exits.
    const online = () =>
      spawn(
        cacheHome,
        {
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001',
          AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyDoNotPrint/0123456789abcdef',
        },
        ['--config', CONFIG, '--dry-run', '--max-attempts', '1'],
      );
    expect(online().stderr).toContain('could not reach AWS');
    const afterOnline = [...cached(cacheHome).values()][0]!;
    expect(afterOnline.has('cli.cjs.v8')).toBe(true);
    expect(afterOnline.has(DATA)).toBe(false);
    // The AWS layer's and the SDK's files (packed into the apply-aws chunk), which only such a run loads.
    expect([...afterOnline.keys()].some((f) => f.startsWith('apply-aws-'))).toBe(true);
    for (const f of afterOnline.keys()) expect(BUILT).toContain(f.replace(/\.v8$/, ''));

    run(cacheHome);
    const afterOffline = [...cached(cacheHome).values()][0]!;
    expect([...afterOffline.keys()].sort()).toEqual([...afterOnline.keys(), DATA].sort());
    for (const [f, mtime] of afterOnline) expect(afterOffline.get(f)).toBe(mtime);

    // Each kind reads its own: neither writes again.
    online();
    run(cacheHome);
    expect([...cached(cacheHome).values()][0]).toEqual(afterOffline);
  });

  it('data V8 refuses (another build, a damaged file) is compiled without and written again', () => {
    const cacheHome = join(work, 'damaged');
    const plain = run(cacheHome);
    const [dir, files] = [...cached(cacheHome)][0]!;
    const file = join(codeRoot(cacheHome), dir, DATA);
    writeFileSync(file, 'not V8 data');
    const before = statSync(file).size;
    expect(run(cacheHome)).toBe(plain);
    const after = cached(cacheHome).get(dir)!;
    expect(statSync(file).size).not.toBe(before);
    expect(statSync(file).size).toBeGreaterThan(1000);
    // The others were read as they were.
    for (const [f, mtime] of files) if (f !== DATA) expect(after.get(f)).toBe(mtime);
  });

  it('a run that writes removes the temporary files of runs killed while writing, once they are an hour old', () => {
    const cacheHome = join(work, 'temporary');
    run(cacheHome);
    const path = onlyDir(cacheHome);
    const old = join(path, `${DATA}.12345.tmp`);
    const recent = join(path, `${DATA}.12346.tmp`);
    writeFileSync(old, 'half');
    writeFileSync(recent, 'half');
    const twoHoursAgo = (Date.now() - 2 * 3600 * 1000) / 1000;
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    // Data V8 refuses makes the run write.
    writeFileSync(join(path, DATA), 'not V8 data');
    run(cacheHome);
    const left = readdirSync(path);
    expect(left).not.toContain(`${DATA}.12345.tmp`);
    expect(left).toContain(`${DATA}.12346.tmp`);
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([`${DATA}.12346.tmp`]);
  });

  it('runs with Node options keep their data in a directory of their own, which their later runs read', () => {
    const cacheHome = join(work, 'options');
    // Whatever options the tests themselves run with: none, then one that V8 counts among its flags.
    const plain = run(cacheHome, { NODE_OPTIONS: '' });
    const options = { NODE_OPTIONS: '--max-old-space-size=2048' };
    expect(run(cacheHome, options)).toBe(plain);
    const dirs = cached(cacheHome);
    expect(dirs.size).toBe(2);
    const flagged = [...dirs.keys()].find((d) => /-[0-9a-f]{8}$/.test(d));
    expect(flagged).toBeDefined();
    expect(dirs.get(flagged!)!.has(DATA)).toBe(true);
    // A later run with the same options reads its data and writes nothing; so does one without.
    run(cacheHome, options);
    run(cacheHome, { NODE_OPTIONS: '' });
    expect(cached(cacheHome)).toEqual(dirs);
  });

  it("a build's first write removes the cache's directories unused for a week, of any build or Node, and keeps the rest", () => {
    const cacheHome = join(work, 'builds');
    const root = codeRoot(cacheHome);
    const older = `0000000000000000-${process.version}-${process.arch}`;
    const recent = `1111111111111111-${process.version}-${process.arch}`;
    const olderNode = `2222222222222222-v0.0.0-${process.arch}`;
    const recentNode = `3333333333333333-v0.0.1-${process.arch}`;
    // Runs with Node options keep their data apart (a hash of the options last).
    const olderFlags = `4444444444444444-${process.version}-${process.arch}-0badf00d`;
    // Not a directory of the cache: never removed.
    const unknown = 'notes';
    const eightDaysAgo = (Date.now() - OTHER_BUILDS_KEPT_MS - 24 * 3600 * 1000) / 1000;
    for (const d of [older, recent, olderNode, recentNode, olderFlags, unknown]) {
      mkdirSync(join(root, d), { recursive: true, mode: 0o700 });
      writeFileSync(join(root, d, DATA), 'old');
      if (d !== recent && d !== recentNode) utimesSync(join(root, d), eightDaysAgo, eightDaysAgo);
    }
    run(cacheHome);
    const dirs = [...cached(cacheHome).keys()].sort();
    expect(dirs).toHaveLength(4);
    expect(dirs).toEqual(expect.arrayContaining([recent, recentNode, unknown]));
    expect(dirs).not.toContain(older);
    expect(dirs).not.toContain(olderNode);
    expect(dirs).not.toContain(olderFlags);
  });

  it('a run marks the directory it uses, once a day, so that another build does not remove it', () => {
    const cacheHome = join(work, 'marked');
    run(cacheHome);
    const path = onlyDir(cacheHome);
    const twoDaysAgo = (Date.now() - 2 * 24 * 3600 * 1000) / 1000;
    utimesSync(path, twoDaysAgo, twoDaysAgo);
    run(cacheHome);
    expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(3600 * 1000);
    // Within the day: not marked again.
    const hourAgo = (Date.now() - 3600 * 1000) / 1000;
    utimesSync(path, hourAgo, hourAgo);
    run(cacheHome);
    expect(Math.round(statSync(path).mtimeMs / 1000)).toBe(Math.round(hourAgo));
  });

  // Windows has no POSIX modes, and the tool does not check a directory's owner there.
  it.skipIf(process.platform === 'win32')(
    "a directory others can write to is not used: its data could be anyone's (POSIX modes)",
    () => {
      const cacheHome = join(work, 'shared');
      run(cacheHome);
      const path = onlyDir(cacheHome);
      for (const f of readdirSync(path)) writeFileSync(join(path, f), 'planted');
      chmodSync(path, 0o777);
      const plain = run(join(work, 'shared-off'), { NODE_DISABLE_COMPILE_CACHE: '1' });
      expect(run(cacheHome)).toBe(plain);
      // Neither read (V8 would have refused the data, and the run written it again) nor written.
      for (const f of readdirSync(path)) expect(readFileSync(join(path, f), 'utf8')).toBe('planted');
    },
  );

  it('NODE_DISABLE_COMPILE_CACHE turns it off; a cache that cannot be written is no cache', () => {
    const off = join(work, 'disabled');
    run(off, { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(cached(off).size).toBe(0);

    // Where the cache directory would be, a file: nothing can be made under it, and the run is as without.
    const blocked = join(work, 'blocked');
    writeFileSync(blocked, '');
    run(blocked);
    expect(statSync(blocked).isFile()).toBe(true);
  });
});
