/**
 * `npm run bench:footprint`: what `npx flyte-aws-setup` fetches, installs and starts, for the published build (one
 * esbuild bundle, no dependencies) and for the same code unbundled (tsc output, with the bundled packages as
 * dependencies, as the package was published before). Each is packed with `npm pack` and installed with
 * `npm install --omit=dev` into an empty directory; then its start-up is timed, round-robin.
 *
 *   npm run bench:footprint -- [--runs N] [--cold]
 *
 * --cold installs with an empty npm cache (everything downloaded from the registry, as a first `npx` does);
 * without it npm's cache is used.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCluster } from '../test/helpers/aws.js';
import { importedPackages } from '../test/helpers/bundle.js';
import { cliEnv } from '../test/helpers/cli.js';
import { motoAvailable, startMoto } from '../test/helpers/moto.js';
import { withoutMachineCa } from './node-env.js';
import { median, timed } from './measure.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, cold: { type: 'boolean', default: false } },
});
const RUNS = Number(args.runs);

interface Variant {
  name: string;
  tarball: string;
  packed: { size: number; unpackedSize: number; entryCount: number };
  install?: { ms: number; bytes: number; files: number; packages: number; bin: string; downloaded?: number };
}

function npm(argv: string[], cwd: string): string {
  return execFileSync('npm', argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function pack(dir: string, dest: string): Variant['packed'] & { filename: string } {
  const out = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dest], dir)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
  }[];
  return out[0]!;
}

/** Sizes on disk of every file under `dir` (bytes of content, not blocks), and how many. */
function tree(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
    files++;
  }
  return { bytes, files };
}

/** The same code as the published package, unbundled: tsc output, the imported packages as dependencies. */
function unbundledPackage(work: string): string {
  const dir = join(work, 'unbundled-src');
  mkdirSync(dir, { recursive: true });
  execFileSync(
    join(ROOT, 'node_modules/.bin/tsc'),
    ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'lib')],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  // The start-up file the bin runs is the build's (the help pages are written into it), whatever loads after it.
  cpSync(join(ROOT, 'dist/front.cjs'), join(dir, 'dist/front.cjs'));
  // It requires the CLI as the built file it is; here the CLI is tsc's ES modules, in lib/, which Node 20.19 and
  // later require() too. Not in dist/, nor with import(): the start-up file compiles dist/'s files as CommonJS, with
  // its code cache, through a V8 script that has no ES module loader.
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(
    join(dir, 'dist/cli.cjs'),
    "module.exports = { main: (argv) => require('../lib/cli.js').main(argv) };\n",
  );
  cpSync(join(ROOT, 'schema'), join(dir, 'schema'), { recursive: true });
  cpSync(join(ROOT, 'README.md'), join(dir, 'README.md'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & {
    devDependencies: Record<string, string>;
  };
  const dependencies = Object.fromEntries(importedPackages().map((n) => [n, pkg.devDependencies[n]!]));
  const { scripts: _s, devDependencies: _d, ...rest } = pkg;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ ...rest, files: ['bin', 'dist', 'lib', '!lib/**/*.map', 'schema'], dependencies }, null, 2),
  );
  return dir;
}

function install(variant: Variant, work: string): void {
  const dir = join(work, `${variant.name}-install`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"footprint","private":true}\n');
  const cache = args.cold ? ['--cache', join(work, `${variant.name}-cache`)] : ['--prefer-offline'];
  const started = process.hrtime.bigint();
  npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', ...cache, variant.tarball], dir);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const modules = join(dir, 'node_modules');
  const packages = readdirSync(modules)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)) : [n])).length;
  variant.install = {
    ms,
    ...tree(modules),
    packages,
    bin: join(modules, 'flyte-aws-setup/bin/flyte-aws-setup.cjs'),
    // With an empty cache, what npm put in it is what it fetched (the tarballs, and the registry's metadata).
    ...(args.cold ? { downloaded: tree(join(work, `${variant.name}-cache`)).bytes } : {}),
  };
}

const kib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'fas-footprint-'));
  try {
    const variants: Variant[] = [];
    for (const [name, dir] of [
      ['bundled', ROOT],
      ['unbundled', unbundledPackage(work)],
    ] as const) {
      const dest = join(work, name);
      mkdirSync(dest);
      const packed = pack(dir, dest);
      variants.push({ name, tarball: join(dest, packed.filename), packed });
    }
    for (const v of variants) install(v, work);

    const config = join(ROOT, 'examples/flyte-aws-setup.yaml');
    const offline = withoutMachineCa(cliEnv({}, work));
    const cases = [
      { name: 'node -e 0 (for scale)', argv: ['-e', '0'], env: offline, plain: true },
      { name: '--version', argv: ['--version'], env: offline },
      { name: '--help', argv: ['--help'], env: offline },
      { name: '--dry-run --offline', argv: ['--config', config, '--dry-run', '--offline'], env: offline },
    ];
    // A run that loads the AWS SDK: a re-run with nothing to change, against the emulator.
    const moto = motoAvailable ? await startMoto() : undefined;
    try {
      if (moto) {
        await createCluster(moto.url, 'acme-ml');
        const env = withoutMachineCa(cliEnv({ endpoint: moto.url }, work));
        const argv = ['--config', config, '--yes', '--approve-broadening'];
        await timed(process.execPath, [variants[0]!.install!.bin, ...argv], env, ROOT);
        cases.push({ name: 're-run against the emulator', argv, env });
      } else {
        console.error('moto_server is not on the PATH: the re-run against the emulator is left out');
      }
      const times = new Map<string, number[]>();
      for (let i = -2; i < RUNS; i++) {
        for (const c of cases) {
          for (const v of variants) {
            const { ms } = await timed(
              process.execPath,
              'plain' in c ? c.argv : [v.install!.bin, ...c.argv],
              c.env,
              ROOT,
            );
            if (i >= 0) times.set(`${v.name} ${c.name}`, [...(times.get(`${v.name} ${c.name}`) ?? []), ms]);
          }
        }
      }
      report(variants, cases, times);
    } finally {
      await moto?.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(variants: Variant[], cases: { name: string }[], times: Map<string, number[]>): void {
  const [b, u] = variants as [Variant, Variant];
  const row = (what: string, f: (v: Variant) => string) => `| ${what} | ${f(b)} | ${f(u)} |`;
  const out = [
    `Install footprint (npm ${npm(['--version'], ROOT).trim()}, ${args.cold ? 'empty npm cache' : "npm's cache"}), start-up medians of ${RUNS} runs:`,
    '',
    '| | bundled (published) | unbundled |',
    '| --- | --- | --- |',
    row('tarball (npm pack)', (v) => kib(v.packed.size)),
    row('files in the tarball', (v) => String(v.packed.entryCount)),
    row('unpacked size', (v) => kib(v.packed.unpackedSize)),
    row('`npm install --omit=dev`: packages', (v) => String(v.install!.packages)),
    row('`npm install --omit=dev`: files', (v) => String(v.install!.files)),
    row('`npm install --omit=dev`: size of the files', (v) => kib(v.install!.bytes)),
    row('`npm install --omit=dev`: time', (v) => `${(v.install!.ms / 1000).toFixed(1)} s`),
    ...(args.cold
      ? [row('`npm install --omit=dev`: fetched into the empty cache', (v) => kib(v.install!.downloaded!))]
      : []),
    ...cases.map((c) => row(`\`${c.name}\``, (v) => `${median(times.get(`${v.name} ${c.name}`)!).toFixed(0)} ms`)),
  ];
  console.log(out.join('\n'));
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exitCode = 1;
});
