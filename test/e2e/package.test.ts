/**
 * The published package: one bundle with no runtime dependencies, so `npm install --omit=dev` of the tarball (what
 * `npx flyte-aws-setup` does) fetches nothing else. Checks the built files and what `npm pack` would publish.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importedPackages, readMetafile } from '../helpers/bundle.js';
import { ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
};
const meta = readMetafile();

describe('the published package', () => {
  it('has no runtime dependencies: what the sources import is bundled, and a devDependency', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    const imported = importedPackages(meta);
    expect(imported).toContain('@aws-sdk/client-iam');
    expect(imported).toContain('commander');
    for (const name of imported) expect(Object.keys(pkg.devDependencies)).toContain(name);
  });

  it('the built files import only Node built-ins and each other', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const external = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external));
    const notBuiltin = external.map((i) => i.path).filter((p) => !builtins.has(p));
    expect(notBuiltin).toEqual([]);
    const internal = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => !i.external));
    for (const i of internal) expect(Object.keys(meta.outputs)).toContain(i.path);
  });

  it('npm pack publishes the bin, every built chunk, the licenses and the schema, and no source maps', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toContain(Object.values(pkg.bin)[0]!.replace(/^\.\//, ''));
    expect(files).toContain('dist/THIRD-PARTY-LICENSES.md');
    expect(files).toContain('schema/flyte-aws-setup.schema.json');
    // What a user of npx has beside the tool: the license, and the example configs the docs name.
    expect(files).toContain('LICENSE');
    // npm 11 warns about any install-time script of a package; this one needs none (it is built before packing).
    const scripts = (pkg as { scripts?: Record<string, string> }).scripts ?? {};
    expect(Object.keys(scripts).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s))).toEqual(
      [],
    );
    expect(files).toContain('examples/flyte-aws-setup.yaml');
    expect(files).toContain('examples/union-flyte-aws-setup.yaml');
    const built = Object.keys(meta.outputs).filter((f) => f.endsWith('.cjs'));
    expect(built).toContain('dist/cli.cjs');
    for (const f of built) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('build/'))).toEqual([]);
  });

  it('keeps the license of every bundled package', () => {
    const text = readFileSync(join(ROOT, 'dist/THIRD-PARTY-LICENSES.md'), 'utf8');
    for (const name of importedPackages(meta)) {
      const version = (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
      ).version;
      expect(text).toContain(`${name}@${version}`);
    }
  });
});
