/**
 * `npm run bench`: the built CLI against the documents' setup done with the aws CLI one command at a time
 * (bench/aws-cli-setup.sh), side by side on a local AWS emulator (moto_server), and the CLI's start-up against
 * `node -e 0`. Each measurement runs several times, ours and the comparison alternating; the table shows medians,
 * ratios and the AWS calls of each run. Not part of `npm test`: timings vary from machine to machine.
 *
 *   npm run bench -- [--runs N] [--startup-runs N] [--latency MS] [--json FILE]
 *
 * --latency MS puts a proxy between the commands and the emulator that holds each request MS milliseconds, as the
 * network to AWS would (the emulator answers in a few milliseconds, AWS in tens).
 *
 * Before each timed setup the emulator is emptied, the EKS cluster created and the emulator's IAM warmed up, the
 * same for both sides and outside the timed part.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { createCluster } from '../test/helpers/aws.js';
import { BIN, FAKE_KEYS, ROOT, cliEnv } from '../test/helpers/cli.js';
import { motoAvailable, startMoto, type Moto } from '../test/helpers/moto.js';

// The SDK's notice that its future releases need Node 22 is about the SDK, not about this benchmark.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'startup-runs': { type: 'string', default: '20' },
    latency: { type: 'string', default: '0' },
    json: { type: 'string' },
  },
});
const LATENCY = Number(args.latency);
const RUNS = Number(args.runs);
const STARTUP_RUNS = Number(args['startup-runs']);

const CONFIG = join(ROOT, 'examples/flyte-aws-setup.yaml');
const CLUSTER = 'acme-ml';
const BUCKET = 'acme-flyte-data';
const REGION = 'eu-west-1';

interface Run {
  ms: number;
  calls: number;
  mutating: number;
}

interface Row {
  what: string;
  ours: Run[];
  theirs: Run[];
  theirsName: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split('\n')[0]! : 'not available';
}

const awsCliAvailable = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;

/** Run a command to its end; its wall time from spawn to exit, and the AWS calls it logged. */
async function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv, callLog?: string): Promise<Run> {
  if (callLog) writeFileSync(callLog, '');
  let stderr = '';
  const started = process.hrtime.bigint();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(cmd, argv, { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited with ${code}:\n${stderr}`);
  return { ms, ...countCalls(callLog) };
}

const MUTATING_VERB = /^(create|attach|update|put|tag|delete|add|detach|remove)-/;

/** Our call log holds JSON lines; the aws CLI script's log holds "service verb" lines. */
function countCalls(file: string | undefined): { calls: number; mutating: number } {
  if (!file) return { calls: 0, mutating: 0 };
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const mutating = lines.filter((l) =>
    l.startsWith('{') ? (JSON.parse(l) as { mutating: boolean }).mutating : MUTATING_VERB.test(l.split(' ')[1] ?? ''),
  ).length;
  return { calls: lines.length, mutating };
}

async function main(): Promise<void> {
  if (!motoAvailable) throw new Error('moto_server is not on the PATH (pip install "moto[server]")');
  if (!Number.isInteger(RUNS) || RUNS < 1 || !Number.isInteger(STARTUP_RUNS) || STARTUP_RUNS < 1) {
    throw new Error('--runs and --startup-runs take a whole number from 1');
  }
  const home = mkdtempSync(join(tmpdir(), 'fas-bench-'));
  const ourLog = join(home, 'ours.jsonl');
  const theirLog = join(home, 'aws-cli.log');
  const loadStart = loadavg()[0]!;
  const moto = await startMoto();
  const proxy = LATENCY > 0 ? await delayingProxy(moto.url, LATENCY) : undefined;
  const endpoint = proxy?.url ?? moto.url;
  try {
    const ourEnv = cliEnv({ endpoint }, home, ourLog);
    const awsEnv: NodeJS.ProcessEnv = {
      ...cliEnv({ endpoint }, home, theirLog),
      AWS_DEFAULT_REGION: REGION,
      AWS_REGION: REGION,
      AWS_CLI_CALL_LOG: theirLog,
      CLUSTER,
      BUCKET,
    };
    const ours = (...argv: string[]) => timed(process.execPath, [BIN, '--config', CONFIG, ...argv], ourEnv, ourLog);
    const awsCli = (script: string) => timed('bash', [join(ROOT, 'bench', script)], awsEnv, theirLog);

    const rows: Row[] = [];
    if (awsCliAvailable) await checkSameSetup(moto, awsCli, ourEnv);
    else console.error('the aws CLI is not on the PATH: only our side of the emulator runs is measured');
    /** `runs` rounds of ours and the aws CLI (when there is one), the order swapped every round. */
    const compare = async (row: Row, fresh: boolean, ourArgs: string[], script?: string) => {
      for (let i = 0; i < RUNS; i++) {
        const sides = script && awsCliAvailable ? (i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours']) : ['ours'];
        for (const side of sides) {
          if (fresh) await prepare(moto);
          if (side === 'ours') row.ours.push(await ours(...ourArgs));
          else row.theirs.push(await awsCli(script!));
          progress(`${row.what}: ${side} ${i + 1}/${RUNS}`);
        }
      }
      rows.push(row);
    };
    const row = (what: string, theirsName = '-'): Row => ({ what, ours: [], theirs: [], theirsName });

    await compare(
      row('whole setup, empty account', 'aws-cli-setup.sh'),
      true,
      ['--yes', '--approve-broadening'],
      'aws-cli-setup.sh',
    );
    // The same with every AWS call one at a time: what the concurrency gains.
    await compare(row('whole setup, `--concurrency 1`'), true, ['--yes', '--approve-broadening', '--concurrency', '1']);
    await prepare(moto);
    await ours('--yes', '--approve-broadening');
    await compare(
      row('re-run, nothing to change', 'aws-cli-check.sh'),
      false,
      ['--yes', '--approve-broadening'],
      'aws-cli-check.sh',
    );
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

    const startup = await measureStartup(home);
    const report = render(rows, startup, loadStart);
    console.log(report);
    if (args.json) {
      writeFileSync(args.json, JSON.stringify({ machine: machine(), rows, startup }, null, 2));
    }
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench/last-run.md'), `${report}\n`);
  } finally {
    await proxy?.close();
    await moto.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** A proxy to `target` that holds each request `ms` milliseconds before passing it on. */
async function delayingProxy(target: string, ms: number): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (d: Buffer) => body.push(d));
    req.on('end', () => {
      setTimeout(() => {
        const out = request(
          { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', (err) => res.writeHead(502).end(String(err)));
        out.end(Buffer.concat(body));
      }, ms);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
}

/** Empty the emulator, create the EKS cluster, and wake the emulator's IAM (its first calls after a reset are slow). */
async function prepare(moto: Moto): Promise<void> {
  await moto.reset();
  await createCluster(moto.url, CLUSTER, REGION);
  const iam = new IAMClient({
    endpoint: moto.url,
    region: REGION,
    credentials: { accessKeyId: FAKE_KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_KEYS.AWS_SECRET_ACCESS_KEY },
  });
  for (let i = 0; i < 10; i++) {
    const started = Date.now();
    await iam.send(new ListRolesCommand({}));
    if (Date.now() - started < 20) break;
  }
  iam.destroy();
}

/**
 * Both sides must do the same work: after the aws CLI script, flyte-aws-setup must find nothing to change; and
 * flyte-aws-setup must complete on an empty account.
 */
async function checkSameSetup(
  moto: Moto,
  awsCli: (script: string) => Promise<Run>,
  ourEnv: NodeJS.ProcessEnv,
): Promise<void> {
  await prepare(moto);
  await awsCli('aws-cli-setup.sh');
  // Not spawnSync: the delaying proxy, if any, runs in this process and must go on answering.
  const plan = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', CONFIG, '--dry-run', '--json'], { env: ourEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const sections = (JSON.parse(plan.stdout) as { sections: { id: string; status: string }[] }).sections;
  // Sections the example config does not use (global access) are skipped; everything else must be in place.
  const changed = sections.filter((s) => s.status !== 'unchanged' && s.status !== 'skipped');
  if (plan.status !== 0 || changed.length > 0) {
    throw new Error(
      `after aws-cli-setup.sh, flyte-aws-setup still plans changes to ${changed.map((s) => s.id).join(', ')}: ` +
        `the two sides would not do the same setup\n${plan.stderr}`,
    );
  }
}

interface Startup {
  name: string;
  argv: string[];
  runs: number[];
}

/** Start-up: `node -e 0` and the CLI's quick paths, round-robin so that machine noise falls on all alike. */
async function measureStartup(home: string): Promise<Startup[]> {
  const env = cliEnv({}, home, join(home, 'startup.jsonl'));
  const cases: Startup[] = [
    { name: 'node -e 0', argv: ['-e', '0'], runs: [] },
    { name: 'flyte-aws-setup --version', argv: [BIN, '--version'], runs: [] },
    { name: 'flyte-aws-setup --help', argv: [BIN, '--help'], runs: [] },
    {
      name: 'flyte-aws-setup --dry-run --offline',
      argv: [BIN, '--config', CONFIG, '--dry-run', '--offline'],
      runs: [],
    },
  ];
  for (let i = -2; i < STARTUP_RUNS; i++) {
    for (const c of cases) {
      const run = await timed(process.execPath, c.argv, env);
      if (i >= 0) c.runs.push(run.ms);
    }
    progress(`start-up ${Math.max(i + 1, 0)}/${STARTUP_RUNS}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  return cases;
}

function machine(): Record<string, string> {
  const cpu = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: version('uname', ['-sr']),
    node: process.version,
    moto: version('python3', ['-c', 'import moto; print(moto.__version__)']),
    'aws CLI': version('aws', ['--version']),
  };
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`;
}

function calls(runs: Run[]): string {
  const seen = [...new Set(runs.map((r) => `${r.calls} (${r.mutating} mutating)`))];
  return seen.join(' / ');
}

function render(rows: Row[], startup: Startup[], loadStart: number): string {
  const out: string[] = [];
  out.push('Machine:');
  for (const [k, v] of Object.entries(machine())) out.push(`- ${k}: ${v}`);
  out.push(`- load average (1 min): ${loadStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`);
  out.push('');
  out.push(
    `Against the emulator${LATENCY > 0 ? `, each request held ${LATENCY} ms on its way` : ''}, ${RUNS} runs each, alternating; medians:`,
  );
  out.push('');
  out.push(
    '| measurement | flyte-aws-setup | aws CLI, one call at a time | ratio | AWS calls per run, ours | aws CLI calls per run |',
  );
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const a = median(r.ours.map((x) => x.ms));
    const b = r.theirs.length > 0 ? median(r.theirs.map((x) => x.ms)) : undefined;
    out.push(
      `| ${r.what} | ${ms(a)} | ${b !== undefined ? `${ms(b)} (${r.theirsName})` : '-'} | ` +
        `${b !== undefined ? `${(b / a).toFixed(1)}× faster` : '-'} | ${calls(r.ours)} | ${r.theirs.length > 0 ? calls(r.theirs) : '-'} |`,
    );
  }
  out.push('');
  out.push('Every run, in ms (ours | aws CLI):');
  for (const r of rows) {
    out.push(
      `- ${r.what}: ${r.ours.map((x) => x.ms.toFixed(0)).join(', ')} | ${r.theirs.map((x) => x.ms.toFixed(0)).join(', ') || '-'}`,
    );
  }
  out.push('');
  const base = median(startup[0]!.runs);
  out.push(`Start-up, ${STARTUP_RUNS} runs each, round-robin; medians:`);
  out.push('');
  out.push('| command | median | vs `node -e 0` |');
  out.push('| --- | --- | --- |');
  for (const s of startup) {
    const m = median(s.runs);
    out.push(`| \`${s.name}\` | ${ms(m)} | ${(m / base).toFixed(2)}× |`);
  }
  return out.join('\n');
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exitCode = 1;
});
