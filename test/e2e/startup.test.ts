/**
 * Start-up: `--help` and `--version` load the start-up file (dist/front.cjs) and nothing else of the built CLI, not
 * even commander; the SDK loads only when a run talks to AWS, the IAM policy evaluator only for the access
 * check. Checked by recording every module the process
 * loads (a Node module hook) and looking up what each built file holds in build/metafile.json. No timing here:
 * `npm run bench` measures the start-up.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv } from '../helpers/cli.js';
import { createBucket, createCluster } from '../helpers/aws.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { answeredLines } from '../helpers/help-lines.js';
import { PIPE_BYTES } from '../../src/util/std-output.js';

interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  inputs: Record<string, unknown>;
}

const meta = JSON.parse(readFileSync(join(ROOT, 'build/metafile.json'), 'utf8')) as Metafile;
const RECORDER = pathToFileURL(join(ROOT, 'test/helpers/import-recorder.mjs')).href;
const home = mkdtempSync(join(tmpdir(), 'fas-startup-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The npm packages whose code is in a built file (per the bundler's metafile). */
function packagesIn(output: string): Set<string> {
  const inputs = meta.outputs[output]?.inputs;
  if (inputs === undefined) throw new Error(`${output} is not in build/metafile.json: rebuild (npm run build)`);
  const names = new Set<string>();
  for (const input of Object.keys(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Run the built CLI; the built files it loaded (relative to the package) and the packages in them. */
function loaded(args: string[], env: Record<string, string> = {}) {
  const record = join(home, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(record, '');
  const run = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...cliEnv({}, home, join(home, 'calls.jsonl')), IMPORT_RECORD_FILE: record, ...env },
  });
  const files = readFileSync(record, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'))
    .map((url) => relative(ROOT, fileURLToPath(url)));
  const built = files.filter((f) => f.startsWith('dist/'));
  const packages = new Set(built.flatMap((f) => [...packagesIn(f)]));
  return { run, files, built, packages };
}

const HEAVY = [
  '@aws-sdk/client-iam',
  '@aws-sdk/client-sts',
  '@aws-sdk/client-eks',
  '@aws-sdk/client-s3',
  '@inquirer/prompts',
  'zod',
  'yaml',
];

describe('start-up of the built CLI', () => {
  it('the heavy packages are in the bundle, so the checks below can see them', () => {
    const all = new Set(Object.keys(meta.outputs).flatMap((o) => [...packagesIn(o)]));
    for (const p of HEAVY) expect(all).toContain(p);
  });

  it('the IAM policy evaluator (AGPL-3.0) is not bundled: it is loaded from where it is installed', () => {
    const all = new Set(Object.keys(meta.inputs).filter((i) => i.includes('node_modules/@cloud-copilot/')));
    expect([...all]).toEqual([]);
  });

  it("each AWS SDK client keeps in the bundle only the shapes of the tool's commands, not its whole service's", () => {
    const kept = new Map<string, number>();
    for (const output of Object.values(meta.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const m = /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/schemas\/schemas_0\.js$/.exec(input);
        if (m) kept.set(m[1]!, (kept.get(m[1]!) ?? 0) + bytesInOutput);
      }
    }
    expect([...kept.keys()].sort()).toEqual([
      'client-ec2',
      'client-eks',
      'client-iam',
      'client-kms',
      'client-s3',
      'client-sts',
    ]);
    // EC2 describes about 3,400 shapes in 1.3 MB and S3 about 600 in 137 kB; the tool sends a few of their commands.
    // Without the build's rewrite of the shapes' keys the bundle kept all of them: 548 kB and 66 kB.
    expect(kept.get('client-ec2')).toBeLessThan(20_000);
    expect(kept.get('client-s3')).toBeLessThan(20_000);
    const total = [...kept.values()].reduce((n, b) => n + b, 0);
    expect(total).toBeLessThan(100_000);
  });

  it.each(['--version', '--help', 'plan --help', 'help destroy'])(
    '%s loads the start-up file alone: not the CLI, no package',
    (line) => {
      const { run, files, built, packages } = loaded(line.split(' '));
      expect(run.status).toBe(0);
      expect(run.stdout).not.toBe('');
      expect(files[0]).toBe('bin/flyte-aws-setup.cjs');
      expect([...new Set(built)]).toEqual(['dist/front.cjs']);
      expect([...packages]).toEqual([]);
    },
  );

  it('the start-up file prints what the built CLI itself prints, for every command line it answers', () => {
    // The CLI's own `main`, as bin/flyte-aws-setup.cjs would run it without the start-up file.
    const direct = join(home, 'direct.cjs');
    writeFileSync(
      direct,
      `const { main } = require(${JSON.stringify(join(ROOT, 'dist/cli.cjs'))});\n` +
        'main(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n',
    );
    const env = cliEnv({}, home, join(home, 'calls.jsonl'));
    const commands = ['plan', 'apply', 'outputs', 'verify', 'destroy', 'permissions', 'probe', 'init'];
    const lines = answeredLines(commands);
    for (const argv of lines) {
      const quick = spawnSync(process.execPath, [BIN, ...argv], { cwd: ROOT, encoding: 'utf8', env });
      const cli = spawnSync(process.execPath, [direct, ...argv], { cwd: ROOT, encoding: 'utf8', env });
      expect(cli.status, argv.join(' ')).toBe(0);
      expect(cli.stdout.length).toBeGreaterThan(0);
      expect({ status: quick.status, stdout: quick.stdout, stderr: quick.stderr }, argv.join(' ')).toEqual({
        status: cli.status,
        stdout: cli.stdout,
        stderr: cli.stderr,
      });
    }
  });

  it('a command line the start-up file does not answer goes to the CLI: commander and the config parsers', () => {
    const { run, built, packages } = loaded(['help', 'nosuchcommand']);
    expect(run.status).toBe(2);
    // One file: the chunks that every command that reads a config loads are packed into the CLI's (scripts/build.mjs).
    expect(built).toEqual(['dist/front.cjs', 'dist/cli.cjs']);
    expect([...packages].sort()).toEqual(['commander', 'yaml', 'zod']);
  });

  it('--dry-run --offline loads the config parsers but not the AWS SDK', () => {
    const { run, packages } = loaded(['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline']);
    expect(run.status).toBe(0);
    expect(packages).toContain('zod');
    expect(packages).toContain('yaml');
    expect([...packages].filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@inquirer/'))).toEqual([]);
  });

  it('a run that calls AWS loads the SDK (the recording sees lazily loaded chunks)', () => {
    // Nothing listens on port 9: the first call fails at once, after the SDK has loaded.
    const { run, packages, files } = loaded(
      ['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--max-attempts', '1'],
      {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001',
        AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyDoNotPrint/0123456789abcdef',
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('could not reach AWS');
    expect(packages).toContain('@aws-sdk/client-iam');
    expect(packages).toContain('@aws-sdk/client-sts');
    expect(packages).not.toContain('@inquirer/prompts');
    // S3 with the first calls: the bucket's encryption is asked beside STS and EKS.
    expect(packages).toContain('@aws-sdk/client-s3');
    // The evaluator only once the access check runs (verify, the end of an apply): not bundled, not loaded.
    expect([...packages].filter((p) => p.startsWith('@cloud-copilot/'))).toEqual([]);
    expect(run.stderr).not.toContain('iam-simulate');
    expect(evaluatorFiles(files)).toEqual([]);
  });
  describe('where the output goes (written straight to a file or a pipe: src/util/std-output.ts)', () => {
    const args = ['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline'];
    const env = () => cliEnv({}, home, join(home, 'calls.jsonl'));

    it('a file gets what a pipe gets, past what is written straight to a pipe too', () => {
      // 30 project roles: a JSON plan larger than the 8 KiB written straight to a pipe; the rest goes through
      // Node's stream. A file takes it all straight.
      const config = join(home, 'many.yaml');
      writeFileSync(
        config,
        `${readFileSync(join(ROOT, 'examples/flyte-aws-setup.yaml'), 'utf8')}` +
          Array.from({ length: 30 }, (_, i) => `  - { project: p${i}, domains: [development] }\n`).join(''),
      );
      const big = ['--config', config, '--dry-run', '--offline', '--json'];
      const piped = spawnSync(process.execPath, [BIN, ...big], { cwd: ROOT, encoding: 'utf8', env: env() });
      expect(piped.status).toBe(0);
      expect(piped.stdout.length).toBeGreaterThan(PIPE_BYTES);
      expect(JSON.parse(piped.stdout)).toMatchObject({ kind: 'plan' });
      const file = join(home, 'plan.txt');
      const fd = openSync(file, 'w');
      const toFile = spawnSync(process.execPath, [BIN, ...big], {
        cwd: ROOT,
        stdio: ['ignore', fd, 'pipe'],
        env: env(),
      });
      closeSync(fd);
      expect(toFile.status).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(piped.stdout);
    });

    it.each([
      ['--dry-run --offline', args],
      ['--help', ['--help']],
    ])('a reader that has gone (%s | true) ends the writing, not the run', (_, line) => {
      // The reader exits before the CLI starts writing: every write meets a closed pipe.
      const quoted = line.map((a) => `'${a}'`).join(' ');
      const run = spawnSync(
        'sh',
        ['-c', `{ sleep 0.3; "${process.execPath}" "${BIN}" ${quoted}; echo "status=$?" >&2; } | true`],
        { cwd: ROOT, encoding: 'utf8', env: env() },
      );
      expect(run.stderr).toBe('status=0\n');
    });
  });
});

/** The files of the IAM policy evaluator's packages (installed beside the tool, not bundled) that a run loaded. */
function evaluatorFiles(files: string[]): string[] {
  return files.filter((f) => f.includes('node_modules/@cloud-copilot/'));
}

const motoSkip = motoSkipReason();

describe.skipIf(motoSkip !== undefined)('when the IAM policy evaluator loads (against the emulator)', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await acquireMoto();
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
  });
  afterAll(async () => moto?.stop());

  const apply = () =>
    loaded(['--config', 'examples/flyte-aws-setup.yaml', '--yes', '--approve-broadening', '--out-dir', home], {
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001',
      AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyDoNotPrint/0123456789abcdef',
    });

  it('a run that changes something loads it, from its CommonJS build; a run with nothing to change does not', () => {
    const first = apply();
    expect(first.run.status).toBe(0);
    const used = evaluatorFiles(first.files);
    expect(used.some((f) => f.includes('@cloud-copilot/iam-simulate/dist/cjs/'))).toBe(true);
    expect(used.some((f) => f.includes('@cloud-copilot/iam-policy/dist/cjs/'))).toBe(true);
    expect(used.filter((f) => f.includes('/dist/esm/'))).toEqual([]);
    const again = apply();
    expect(again.run.status).toBe(0);
    expect(evaluatorFiles(again.files)).toEqual([]);
  });
});
