// Builds the published CLI with esbuild: src/cli.ts and everything it imports, the dependencies included, into
// dist/cli.cjs and the chunks it loads lazily (the commands, the AWS SDK, the prompts), minified, with source maps,
// the chunks that load together packed into one file (PACKS); then the start-up file dist/front.cjs (src/front.ts, with every command's help page taken from that CLI), which the
// bin runs: it answers `--help` and `--version` itself and loads dist/cli.cjs for anything else. The package then
// has no runtime dependencies: `npx flyte-aws-setup` fetches one small tarball, and the AWS SDK version is the one
// tested here, whatever the registry holds later.
//
//   node scripts/build.mjs            build dist/
//   node scripts/build.mjs --no-minify  readable output, for looking into the bundle
//
// Beside the code it writes dist/THIRD-PARTY-LICENSES.md (the licenses of the bundled packages, which their
// licenses ask to keep with copies) and build/metafile.json (which inputs went into which output file; the tests
// read it to check what `--help` loads; it is not published).
import { build, transformSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const minify = !process.argv.includes('--no-minify');
const dist = join(root, 'dist');

/**
 * Files that are loaded together, made one file: Node spends about a quarter of a millisecond on each file it loads
 * (resolving, reading it and its code cache, compiling), and an offline dry run loaded 22.
 * - `file`: the built file that holds them (written over, if it is one of them).
 * - `roots`: what the pack is for: built files, or the sources whose lazily loaded chunk is meant (by their entry
 *   point). The pack holds them and every chunk they load when they load (their static imports), less what an
 *   earlier pack holds.
 */
const PACKS = [
  // The CLI, and the main command's code (the run of a config, a dry run, `plan`): every command line that is not
  // `--help` or `--version` loads the CLI, and nearly every command reads and checks a config as the main one does.
  { file: 'dist/cli.cjs', roots: ['dist/cli.cjs', 'src/commands/apply.ts'] },
  // A run that talks to AWS: the AWS layer, the clients and what a run loads on its way (the preflight, the access
  // check, the hand-off). The credential providers, KMS and the commands other than the main one stay files of their
  // own.
  {
    file: 'src/commands/apply-aws.ts',
    roots: [
      'src/commands/apply-aws.ts',
      'src/aws/clients.ts',
      'src/aws/gateway.ts',
      'src/aws/s3.ts',
      'src/aws/ec2.ts',
      'src/session/preflight.ts',
      'src/session/hand-off.ts',
      'src/handoff/write.ts',
      'src/access/run.ts',
    ],
  },
];

rmSync(dist, { recursive: true, force: true });
// What both builds (the CLI, the start-up file) share.
const common = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  minify,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};
const result = await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts' },
  // Code splitting keeps `await import()` lazy: a run loads the chunks of its command, a dry run nothing of the SDK.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  // Named for the CommonJS files they become (toCommonJs), so that their imports name those.
  outExtension: { '.js': '.cjs' },
  // The SDK's ES module builds (smaller after tree-shaking than its CommonJS ones).
  mainFields: ['module', 'main'],
  define: { FLYTE_AWS_SETUP_VERSION: JSON.stringify(pkg.version) },
  plugins: [globalProcess(), lazyChildProcessInCommander(), staticSchemaKeys()],
});

// esbuild splits code into chunks only as ES modules; each becomes the CommonJS module Node loads (toCommonJs).
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.cjs')) continue;
  toCommonJs(file);
  output.bytes = readFileSync(join(root, file)).length;
}
// dist/cli.cjs with the chunks every run of it loads (PACKS).
for (const pack of PACKS) await packChunks(result.metafile, pack);
// What the compile cache of a run keys its entries on (src/util/compile-cache.ts): these files, byte for byte.
const cjsFiles = Object.keys(result.metafile.outputs)
  .filter((f) => f.endsWith('.cjs'))
  .sort();
const buildId = cjsFiles
  .reduce((hash, f) => hash.update(f).update(readFileSync(join(root, f))), createHash('sha256'))
  .digest('hex')
  .slice(0, 16);

// The start-up file (src/front.ts): CommonJS, which Node loads faster than an ES module, with every command's help
// page written in, taken from the CLI just built. It prints `--version` and the help without loading dist/cli.cjs.
const { helpPages } = createRequire(import.meta.url)(join(dist, 'cli.cjs'));
const front = await build({
  ...common,
  entryPoints: { front: 'src/front.ts' },
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: {
    FLYTE_AWS_SETUP_VERSION: JSON.stringify(pkg.version),
    // As JSON text (a string), which the start-up file parses only to print a page.
    FLYTE_AWS_SETUP_HELP_PAGES: JSON.stringify(JSON.stringify(helpPages())),
    FLYTE_AWS_SETUP_BUILD: JSON.stringify(buildId),
  },
  // The CLI stays the file it is, required when the command line is not answered here.
  plugins: [
    { name: 'cli-external', setup: (b) => b.onResolve({ filter: /^\.\/cli\.cjs$/ }, () => ({ external: true })) },
  ],
});
if (Object.keys(front.metafile.inputs).some((i) => i.includes('node_modules/'))) {
  throw new Error('build: dist/front.cjs must not bundle a package (it is loaded on every run)');
}
// In the metafile, the CLI it imports is the built file it is (external only to that build).
for (const output of Object.values(front.metafile.outputs)) {
  output.imports = output.imports.map((i) =>
    i.path === './cli.cjs' ? { ...i, path: 'dist/cli.cjs', external: false } : i,
  );
}
Object.assign(result.metafile.inputs, front.metafile.inputs);
Object.assign(result.metafile.outputs, front.metafile.outputs);

// ASCII only (esbuild escapes the rest, but not in a regular expression): Node reads a file that has any other
// character into a string of two bytes a character, twice the size to read, compile and keep.
for (const f of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.cjs'))) {
  const at = readFileSync(join(root, f), 'utf8').search(/[^\x00-\x7f]/);
  if (at >= 0) throw new Error(`build: ${f} has a character that is not ASCII at ${at}: escape it in the source`);
}
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build/metafile.json'), JSON.stringify(result.metafile));
writeFileSync(join(dist, 'THIRD-PARTY-LICENSES.md'), thirdPartyLicenses(Object.keys(result.metafile.inputs)));

const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.cjs'));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
console.log(
  `built dist/front.cjs, dist/cli.cjs and ${outputs.length - 2} chunks, ${(bytes / 1024).toFixed(0)} KiB${minify ? ' (minified)' : ''}`,
);

/**
 * dist/FILE.cjs, written by esbuild as an ES module, becomes the same code as a CommonJS module, with its source
 * map. Node 20 keeps no compiled code between runs and lets a program hand V8 a code cache only for code that is not
 * an ES module: as CommonJS files, the CLI's files load through the cache of src/util/compile-cache.ts, and without
 * the ES module loader's resolving and linking, which an offline dry run spent about a third of its time on.
 * - Static imports of the other files become require() calls, and so do dynamic imports (of a file, or of a Node
 *   module), which stay lazy. An import() of a name known only when the code runs would stay an ES module import,
 *   which the code cache cannot give V8: the build refuses it (a package installed beside the tool is loaded with
 *   require(), from its CommonJS build, as the IAM policy evaluator is).
 * - `"use strict"` first: an ES module is strict, and the code was written and minified as such.
 * - `import.meta.url` becomes the file's URL, made when first asked for.
 */
function toCommonJs(file) {
  const path = join(root, file);
  const map = readFileSync(`${path}.map`, 'utf8');
  const code = readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  if (/\bimport\((?!")/.test(code)) {
    throw new Error(`build: ${file} imports a name computed when it runs: it would stay an ES module import`);
  }
  // The source map in the file itself is the one esbuild's transform maps the new code through, to the sources.
  const input = `${code}//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString('base64')}\n`;
  const out = transformSync(input, {
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    minify,
    legalComments: 'none',
    sourcemap: 'external',
    sourcefile: basename(file),
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__importMeta.url' },
    banner:
      '"use strict";' +
      (code.includes('import.meta')
        ? 'var __importMeta={get url(){return require("node:url").pathToFileURL(__filename).href}};'
        : ''),
    logLevel: 'warning',
  });
  writeFileSync(path, `${out.code}//# sourceMappingURL=${basename(file)}.map\n`);
  writeFileSync(`${path}.map`, JSON.stringify({ ...JSON.parse(out.map), file: basename(file) }));
}

/**
 * Bundle a pack's chunks into its file, with esbuild again: each chunk becomes a module of the file, run when it is
 * first required, as Node would run its file; their source maps are followed through to the sources. A chunk that a
 * file outside the pack requires keeps its place as a one-line file that hands over the pack's module (one instance
 * of each module, whoever requires it); the others go. The metafile is updated to match.
 */
async function packChunks(metafile, pack) {
  const outputs = metafile.outputs;
  const byEntry = new Map(Object.entries(outputs).flatMap(([f, o]) => (o.entryPoint ? [[o.entryPoint, f]] : [])));
  const file = byEntry.get(pack.file) ?? pack.file;
  const roots = pack.roots;
  const packed = new Set(Object.keys(outputs).filter((f) => outputs[f].packedInto !== undefined));
  const members = new Set();
  const todo = roots.map((r) => byEntry.get(r) ?? r);
  while (todo.length > 0) {
    const f = todo.pop();
    if (members.has(f) || packed.has(f)) continue;
    if (outputs[f] === undefined) throw new Error(`build: pack ${file}: ${f} is not a built file`);
    members.add(f);
    for (const i of outputs[f].imports) if (i.kind === 'import-statement' && !i.external) todo.push(i.path);
  }
  if (!members.has(file)) throw new Error(`build: pack ${file} must hold its own file`);
  const abs = (f) => join(root, f);
  const dir = dirname(abs(file));
  /** A built file's path as the metafile names it (`dist/chunks/x.cjs`), from its absolute path. */
  const built = (path) => relative(root, path).split(sep).join('/');
  /** How a file in `from` requires the built file `target`. */
  const requirePath = (from, target) => {
    const rel = relative(from, abs(target)).split(sep).join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const asRequired = (target) => requirePath(dir, target);
  /** The code that hands over the module of the packed chunk `name`, from the pack `packFile`, to a file in `from`. */
  const handOver = (from, packFile, name) =>
    `module.exports = require(${JSON.stringify(requirePath(from, packFile))}).__packed(${JSON.stringify(name)});`;
  const others = [...members].filter((f) => f !== file);
  // The entry: the pack's file itself, and a way for the files outside it to reach its modules, there before the
  // file runs (a file it requires as it loads may require one of them) and after.
  const entry = [
    'const packed = {',
    ...others.map((f) => `  ${JSON.stringify(f)}: () => require(${JSON.stringify(asRequired(f))}),`),
    '};',
    'const handOver = (name) => packed[name]();',
    "Object.defineProperty(module.exports, '__packed', { value: handOver });",
    `module.exports = require(${JSON.stringify(asRequired(file))});`,
    "Object.defineProperty(module.exports, '__packed', { value: handOver });",
  ].join('\n');
  const tmp = `${abs(file)}.pack.cjs`;
  const out = await build({
    stdin: { contents: entry, resolveDir: dir, sourcefile: 'pack.cjs', loader: 'js' },
    absWorkingDir: root,
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    format: 'cjs',
    minify,
    sourcemap: 'external',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'pack-members',
        setup(b) {
          // A built file outside the pack stays a file, required where it is; a chunk of an earlier pack is taken
          // from that pack's file, without its one-line file.
          b.onResolve({ filter: /^\.\.?\/.*\.cjs$/ }, (args) => {
            const target = built(join(args.resolveDir, args.path));
            if (members.has(target)) return undefined;
            if (outputs[target]?.packedInto !== undefined) return { path: target, namespace: 'packed-elsewhere' };
            return { path: asRequired(target), external: true };
          });
          b.onLoad({ filter: /.*/, namespace: 'packed-elsewhere' }, (args) => ({
            contents: handOver(dir, outputs[args.path].packedInto, args.path),
            resolveDir: dir,
            loader: 'js',
          }));
        },
      },
    ],
  });
  const code = readFileSync(tmp, 'utf8');
  if (code.includes('import('))
    throw new Error(`build: pack ${file} holds an import(), which the code cache cannot run`);
  // Required by a file outside the pack: a file that hands over the pack's module.
  const requiredFromOutside = new Set(
    Object.entries(outputs)
      .filter(([f]) => f.endsWith('.cjs') && !members.has(f))
      .flatMap(([, o]) => o.imports.map((i) => i.path)),
  );
  const inputs = {};
  for (const f of members) {
    Object.assign(inputs, outputs[f].inputs);
    rmSync(`${abs(f)}.map`, { force: true });
    rmSync(abs(f));
    delete outputs[`${f}.map`];
    if (f === file) continue;
    if (requiredFromOutside.has(f)) {
      const stub = `"use strict";${handOver(dirname(abs(f)), file, f)}\n`;
      writeFileSync(abs(f), stub);
      outputs[f] = {
        imports: [{ path: file, kind: 'require-call' }],
        exports: [],
        inputs: {},
        bytes: stub.length,
        packedInto: file,
      };
    } else {
      delete outputs[f];
    }
  }
  const map = JSON.parse(readFileSync(`${tmp}.map`, 'utf8'));
  // esbuild's external map is not named in the code: the file names it, as the others do.
  writeFileSync(
    abs(file),
    `${code.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '').trimEnd()}\n//# sourceMappingURL=${basename(file)}.map\n`,
  );
  writeFileSync(`${abs(file)}.map`, JSON.stringify({ ...map, file: basename(file) }));
  rmSync(tmp);
  rmSync(`${tmp}.map`);
  const imports = Object.entries(out.metafile.outputs)
    .find(([f]) => f.endsWith('.cjs'))[1]
    .imports.map((i) => ({
      path: i.external && i.path.startsWith('.') ? built(join(dir, i.path)) : i.path,
      kind: i.kind,
      ...(i.external && !i.path.startsWith('.') ? { external: true } : {}),
    }));
  outputs[file] = { ...outputs[file], imports, inputs, bytes: readFileSync(abs(file)).length };
}

/** The bundled packages, each with its license text; packages with the same text share one copy. */
function thirdPartyLicenses(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  const byText = new Map();
  for (const dir of [...dirs].sort()) {
    const meta = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    // The package is Apache-2.0: code under a copyleft license cannot go into its bundle (the IAM policy evaluator,
    // AGPL-3.0, is loaded from where it is installed instead: src/policy/simulate.ts).
    if (/\b(A|L)?GPL\b/i.test(String(meta.license ?? ''))) {
      throw new Error(
        `build: ${meta.name} (${meta.license}) would be bundled into dist/, and its license does not allow it`,
      );
    }
    const file = readdirSync(join(root, dir)).find((f) => /^licen[cs]e(\.|$)/i.test(f));
    const text = file
      ? readFileSync(join(root, dir, file), 'utf8').trim()
      : `(no license file; package.json says ${meta.license})`;
    const entry = byText.get(text) ?? { text, packages: [] };
    entry.packages.push(`${meta.name}@${meta.version} (${meta.license ?? 'see text'})`);
    byText.set(text, entry);
  }
  const parts = [
    `# Third-party software in ${pkg.name}\n`,
    `dist/ bundles these ${dirs.size} packages. Their licenses follow, each after the packages it covers.\n`,
  ];
  for (const { text, packages } of byText.values()) {
    parts.push(`## ${packages.join(', ')}\n\n\`\`\`\n${text}\n\`\`\`\n`);
  }
  return parts.join('\n');
}

/**
 * `import process from 'node:process'` (chalk's colour detection, the prompts, the SDK) makes Node build that
 * module's exports from every property of `process`, and so make `process.stdin` (for a terminal, its input stream
 * and the socket and child-process modules behind it): milliseconds at start-up, for a run that never reads its
 * input. The global `process` is the same object: such imports are given it.
 */
function globalProcess() {
  return {
    name: 'global-process',
    setup(b) {
      b.onResolve({ filter: /^(node:)?process$/ }, (args) =>
        args.kind === 'import-statement' ? { path: 'process', namespace: 'global-process' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'global-process' }, () => ({
        // The named exports the bundled packages import (the build fails on any other, to be added here).
        contents: 'const p = globalThis.process;\nexport default p;\nexport const { env, versions } = p;\n',
        loader: 'js',
      }));
    },
  };
}

/**
 * commander requires `node:child_process` when it loads, to run subcommands that are executables of their own, which
 * this CLI has none of; loading it loads Node's socket modules too. It is required when first used instead.
 */
function lazyChildProcessInCommander() {
  const line = "const childProcess = require('node:child_process');";
  return {
    name: 'lazy-child-process-in-commander',
    setup(b) {
      b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(line)) throw new Error(`build: commander changed; ${line} is not in ${args.path}`);
        const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
        return { contents: source.replace(line, lazy), loader: 'js' };
      });
    },
  };
}

/**
 * Each AWS SDK client describes every shape of its service in one module (`schemas/schemas_0.js`), and the build
 * keeps all of them, for the few commands the tool sends: EC2's is 550 KiB of the 1.4 MiB an apply loaded. The
 * shapes are plain arrays and objects, but their objects name their keys through the module's string constants
 * (`{ [_xN]: "item" }`), and a computed key could run code, so esbuild cannot drop any of them. Here each such key
 * becomes the string its constant holds (`{ "xmlName": "item" }`): the same objects, and the unused shapes go.
 */
function staticSchemaKeys() {
  return {
    name: 'static-schema-keys',
    setup(b) {
      b.onLoad(
        { filter: /[\\/]@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
        (args) => {
          const source = readFileSync(args.path, 'utf8');
          const strings = new Map();
          for (const m of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) strings.set(m[1], m[2]);
          // `{ "__proto__": x }` would set the prototype where `{ ["__proto__"]: x }` makes a property: never rewritten.
          strings.delete('__proto__');
          for (const [name, value] of strings) if (value === '"__proto__"') strings.delete(name);
          let keys = 0;
          const contents = source.replace(/([{,]\s*)\[(_\w+)\]:/g, (all, before, name) => {
            const value = strings.get(name);
            if (value === undefined) return all;
            keys++;
            return `${before}${value}:`;
          });
          if (keys === 0) throw new Error(`build: the SDK's schemas changed shape; no key rewritten in ${args.path}`);
          return { contents, loader: 'js' };
        },
      );
    },
  };
}
