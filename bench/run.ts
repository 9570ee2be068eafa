/**
 * `npm run bench`: the built CLI against the documents' setup done with the aws CLI one command at a time
 * (bench/aws-cli-setup.sh) and against Terraform with plain aws_iam_* resources (bench/terraform/main.tf), side by
 * side on a local AWS emulator (moto_server) behind a proxy (bench/proxy.ts); and the CLI's start-up against
 * `node -e 0`. Not part of `npm test`: timings vary from machine to machine.
 *
 *   npm run bench -- [--runs N] [--startup-runs N] [--latency MS,MS] [--lag MS] [--projects N,N]
 *                    [--unrelated-roles N] [--modes pod-identity,two-clusters] [--json FILE] [--trace FILE]
 *                    [--only-ours]
 *
 * The account is realistic: an EKS cluster on two subnets of a VPC with DNS support and hostnames on (the tool checks
 * them), the bucket, the emulator's IAM warmed up after each reset (its first call loads the AWS managed policies).
 * Every contender runs on an emptied account, the contenders alternating (the order rotates every round).
 *
 * --modes adds the tool's other modes as rows of its own, compared with the base setup: `pod-identity` (the example
 * config with `identity: pod-identity`: the associations and the agent add-on, answered by the stand-in for the EKS
 * Pod Identity API that the emulator lacks) and `two-clusters` (a second cluster, in a second region, on a VPC of its
 * own). After each of their runs the tool's plan for the same config must find nothing left to do.
 *
 * Every request goes through the proxy, which counts calls and writes the same way for all, holds each request
 * `--latency` ms (each value in the list is one pass, default 0 and 50), answers iam:SimulatePrincipalPolicy as IAM
 * does, and, for the consistency row, makes a new role answer NoSuchEntity for `--lag` ms after CreateRole. From its
 * timeline it reports the sequential round trips (the longest chain of requests each starting after the one before
 * ended) next to the floor that the plan's dependencies allow (bench/floor.ts).
 *
 * --trace FILE appends every recorded request (side, operation, start and end in ms) as JSON lines.
 *
 * Beside each run's wall time it reports, where Linux's /proc is there, the CPU time of the contender's processes and
 * of the emulator during the run (bench/cpu.ts): whether a run worked or waited.
 *
 * Terraform runs when `terraform` is on the PATH and the AWS provider is in a filesystem mirror: the directory in
 * FLYTE_AWS_SETUP_BENCH_TF_PLUGINS, or one of Terraform's usual plugin directories. It is initialised once, outside
 * the timed part; each timed run is `terraform apply -auto-approve` from an empty state.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { createBucket, createCluster, createVpc } from '../test/helpers/aws.js';
import { BIN, FAKE_KEYS, ROOT, cliEnv } from '../test/helpers/cli.js';
import { motoAvailable, startMoto, type Moto } from '../test/helpers/moto.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../test/helpers/pod-identity-stand-in.js';
import { DEFAULT_CONCURRENCY } from '../src/util/concurrency.js';
import { processCpuMs } from './cpu.js';
import { floorOf, type Floor } from './floor.js';
import { MACHINE_CA, withoutMachineCa } from './node-env.js';
import { longestChain, startProxy, type CallRecord, type Proxy } from './proxy.js';
import { median, timed, type Timed } from './measure.js';

// The SDK's notice that its future releases need Node 22 is about the SDK, not about this benchmark.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'startup-runs': { type: 'string', default: '20' },
    latency: { type: 'string', default: '0,50' },
    lag: { type: 'string', default: '1000' },
    projects: { type: 'string', default: '20,50' },
    'unrelated-roles': { type: 'string', default: '1000' },
    modes: { type: 'string', default: 'pod-identity,two-clusters' },
    json: { type: 'string' },
    trace: { type: 'string' },
    'only-ours': { type: 'boolean', default: false },
  },
});
const numbers = (s: string) => s.split(',').filter(Boolean).map(Number);
const LATENCIES = numbers(args.latency);
const LAG = Number(args.lag);
const PROJECTS = numbers(args.projects);
const UNRELATED = Number(args['unrelated-roles']);
const MODE_NAMES = ['pod-identity', 'two-clusters'] as const;
type Mode = (typeof MODE_NAMES)[number];
const MODES = args.modes.split(',').filter(Boolean) as Mode[];
const RUNS = Number(args.runs);
const STARTUP_RUNS = Number(args['startup-runs']);

const EXAMPLE = join(ROOT, 'examples/flyte-aws-setup.yaml');
const CLUSTER = 'acme-ml';
const BUCKET = 'acme-flyte-data';
const REGION = 'eu-west-1';
/** The second cluster of the two-cluster row, in a region of its own. */
const SECOND_CLUSTER = { name: 'acme-ml-us', region: 'us-east-2' };
/** The CLI's default bound on requests in flight. */
const CONCURRENCY = DEFAULT_CONCURRENCY;

type Side = 'ours' | 'awsCli' | 'terraform';

interface Run {
  ms: number;
  /** CPU time of the contender's processes, and of the emulator during the run (ms; Linux only, bench/cpu.ts). */
  cpu?: number | undefined;
  emulatorCpu?: number | undefined;
  calls: number;
  /** The calls to the service that had the most (the bound on requests in flight is per service). */
  busiest: number;
  writes: number;
  chain: number;
}

interface Row {
  what: string;
  latency: number;
  floor?: Floor;
  runs: Partial<Record<Side, Run[]>>;
  /** Where ours is compared with another of its own rows (the lag's cost, N projects against one). */
  baseline?: string;
  note?: string;
}

function version(cmd: string, argv: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split('\n')[0]! : 'not available';
}

const awsCliAvailable = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;

/** A filesystem mirror that holds the Terraform AWS provider, if any. */
function terraformMirror(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'registry.terraform.io/hashicorp/aws'));
  const fromEnv = process.env.FLYTE_AWS_SETUP_BENCH_TF_PLUGINS;
  if (fromEnv) return has(fromEnv) ? fromEnv : undefined;
  // Terraform's implied local mirror directories (its CLI configuration documentation, "Implied Local Mirror").
  const dataDirs = (process.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':');
  const candidates = [
    join(homedir(), '.terraform.d/plugins'),
    join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'terraform/plugins'),
    ...dataDirs.map((d) => join(d, 'terraform/plugins')),
  ];
  return candidates.find(has);
}

const terraformOnPath = spawnSync('terraform', ['version'], { stdio: 'ignore' }).status === 0;

function countBy(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

function summarise(t: Timed, emulatorCpu: number | undefined, records: CallRecord[]): Run {
  return {
    ms: t.ms,
    cpu: t.cpu,
    emulatorCpu,
    calls: records.length,
    busiest: Math.max(0, ...countBy(records.map((r) => r.service)).values()),
    writes: records.filter((r) => r.write).length,
    chain: longestChain(records),
  };
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

/** The example config with `n` project roles (fraud's shape: three domains, the extra policy). */
function projectsConfig(dir: string, n: number): string {
  const base = readFileSync(EXAMPLE, 'utf8')
    .replace(/^\$schema:.*\n/m, '')
    .replace(/^projectRoles:[\s\S]*$/m, '');
  const projects = Array.from(
    { length: n },
    (_, i) =>
      `  - project: p${String(i + 1).padStart(2, '0')}\n    domains: [development, staging, production]\n` +
      '    extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]\n',
  );
  const file = join(dir, `projects-${n}.yaml`);
  // None: the key left out (an empty `projectRoles:` is null, which the config refuses).
  writeFileSync(file, n === 0 ? base : `${base}projectRoles:\n${projects.join('')}`);
  return file;
}

/** The example config in one of the other modes. */
function modeConfig(dir: string, mode: Mode): string {
  const base = readFileSync(EXAMPLE, 'utf8').replace(/^\$schema:.*\n/m, '');
  const text =
    mode === 'pod-identity'
      ? `${base}identity: pod-identity\n`
      : base.replace(
          /^cluster: .*$/m,
          `cluster:\n  - ${CLUSTER}\n  - { name: ${SECOND_CLUSTER.name}, region: ${SECOND_CLUSTER.region} }`,
        );
  if (text === base) throw new Error(`the example config has no cluster line to make ${mode} of`);
  const file = join(dir, `${mode}.yaml`);
  writeFileSync(file, text);
  return file;
}

interface Bench {
  moto: Moto;
  /** The stand-in for EKS's Pod Identity API, in front of the emulator. */
  stand: PodIdentityStandIn;
  proxy: Proxy;
  home: string;
  tfDir?: string;
}

/**
 * Empty the emulator and the stand-in and build the account: VPC, subnets, cluster (and with `secondCluster` a
 * second VPC and cluster in their region), bucket; warm IAM up. Not through the proxy.
 */
async function prepare(b: Bench, unrelatedRoles = 0, secondCluster = false): Promise<void> {
  await b.moto.reset();
  b.stand.associations.clear();
  b.stand.addons.clear();
  b.stand.log.length = 0;
  b.proxy.forgetRoles();
  b.proxy.options.clusterVpcIds.clear();
  const clusters = [{ name: CLUSTER, region: REGION }, ...(secondCluster ? [SECOND_CLUSTER] : [])];
  for (const c of clusters) {
    const vpc = await createVpc(b.moto.url, { hostnames: true, support: true }, c.region);
    b.proxy.options.clusterVpcIds.set(c.name, vpc.vpcId);
    await createCluster(b.moto.url, c.name, c.region, vpc.subnetIds);
  }
  await createBucket(b.moto.url, BUCKET, REGION);
  const iam = new IAMClient({
    endpoint: b.moto.url,
    region: REGION,
    credentials: { accessKeyId: FAKE_KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_KEYS.AWS_SECRET_ACCESS_KEY },
  });
  for (let i = 0; i < 10; i++) {
    const started = Date.now();
    await iam.send(new ListRolesCommand({}));
    if (Date.now() - started < 20) break;
  }
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  for (let i = 0; i < unrelatedRoles; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, unrelatedRoles - i) }, (_, j) =>
        iam.send(new CreateRoleCommand({ RoleName: `unrelated-${i + j}`, AssumeRolePolicyDocument: trust })),
      ),
    );
  }
  iam.destroy();
  b.proxy.take();
}

/** The environment of a timed run: the tests' (the proxy, fake keys, a home of its own), without a call log. */
function ourEnv(b: Bench): NodeJS.ProcessEnv {
  return withoutMachineCa(cliEnv({ endpoint: b.proxy.url }, b.home));
}

function awsEnv(b: Bench): NodeJS.ProcessEnv {
  return { ...ourEnv(b), AWS_DEFAULT_REGION: REGION, AWS_REGION: REGION, CLUSTER, BUCKET };
}

function terraformEnv(b: Bench): NodeJS.ProcessEnv {
  return {
    ...ourEnv(b),
    TF_CLI_CONFIG_FILE: join(b.tfDir!, 'terraform.rc'),
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    TF_VAR_endpoint: b.proxy.url,
    TF_VAR_region: REGION,
    TF_VAR_cluster: CLUSTER,
    TF_VAR_bucket: BUCKET,
  };
}

async function side(b: Bench, which: Side, what: 'setup' | 'check', config = EXAMPLE, extra: string[] = []) {
  b.proxy.take();
  const emulatorBefore = processCpuMs(b.moto.pid);
  let t: Timed;
  if (which === 'ours') {
    const argv = what === 'setup' ? ['--yes', '--approve-broadening', ...extra] : [...extra];
    t = await timed(process.execPath, [BIN, '--config', config, ...argv], ourEnv(b), b.home);
  } else if (which === 'awsCli') {
    const script = what === 'setup' ? 'aws-cli-setup.sh' : 'aws-cli-check.sh';
    t = await timed('bash', [join(ROOT, 'bench', script)], awsEnv(b), b.home);
  } else {
    if (what === 'setup') {
      for (const f of ['terraform.tfstate', 'terraform.tfstate.backup']) rmSync(join(b.tfDir!, f), { force: true });
    }
    t = await timed(
      'terraform',
      ['apply', '-auto-approve', '-input=false', '-lock=false', '-no-color'],
      terraformEnv(b),
      b.tfDir!,
    );
  }
  const records = b.proxy.take();
  const emulatorAfter = processCpuMs(b.moto.pid);
  const emulatorCpu =
    emulatorBefore !== undefined && emulatorAfter !== undefined ? emulatorAfter - emulatorBefore : undefined;
  if (args.trace) {
    const lines = records.map((r) => JSON.stringify({ side: which, what, latency: b.proxy.options.latencyMs, ...r }));
    writeFileSync(args.trace, `${lines.join('\n')}\n`, { flag: 'a' });
  }
  return summarise(t, emulatorCpu, records);
}

/** Our plan for `config` on the account as it is (JSON), through the stand-in and the emulator: not recorded. */
async function planOf(
  b: Bench,
  config: string,
): Promise<{ sections: { id: string; status: string; resources: never[] }[] }> {
  const env = cliEnv({ endpoint: b.stand.url }, b.home, join(b.home, 'plan-calls.jsonl'));
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', config, '--dry-run', '--json'], { env, cwd: b.home });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  if (out.code !== 0) throw new Error(`the plan failed:\n${out.stderr}`);
  return JSON.parse(out.stdout) as { sections: { id: string; status: string; resources: never[] }[] };
}

/** The sections of our plan for `config` that are neither in place nor skipped (those the config does not use). */
async function notDone(b: Bench, config: string): Promise<string[]> {
  const sections = (await planOf(b, config)).sections;
  return sections.filter((s) => s.status !== 'unchanged' && s.status !== 'skipped').map((s) => s.id);
}

/** After another contender's setup, flyte-aws-setup must find nothing to change: both did the same work. */
async function checkSameSetup(b: Bench, which: Side): Promise<void> {
  await prepare(b);
  await side(b, which, 'setup');
  const changed = await notDone(b, EXAMPLE);
  if (changed.length > 0) {
    throw new Error(
      `after ${which}, flyte-aws-setup still plans changes to ${changed.join(', ')}: ` +
        'the two would not do the same setup',
    );
  }
}

/** `RUNS` rounds of the sides, each on a freshly prepared account (or not), the order rotating every round. */
async function compare(
  row: Row,
  sides: Side[],
  run: (s: Side) => Promise<Run>,
  fresh: () => Promise<void> | undefined,
): Promise<Row> {
  for (let i = 0; i < RUNS; i++) {
    const order = sides.map((_, k) => sides[(k + i) % sides.length]!);
    for (const s of order) {
      await fresh();
      (row.runs[s] ??= []).push(await run(s));
      progress(`${row.what} at ${row.latency} ms: ${s} ${i + 1}/${RUNS}`);
    }
  }
  return row;
}

async function pass(b: Bench, latency: number, contenders: Side[], rows: Row[]): Promise<void> {
  b.proxy.options.latencyMs = latency;
  b.proxy.options.lagMs = 0;
  await prepare(b);
  const emptyFloor = floorOf(await planOf(b, EXAMPLE));

  const setup = await compare(
    { what: 'whole setup, empty account', latency, floor: emptyFloor, runs: {} },
    contenders,
    (s) => side(b, s, 'setup'),
    () => prepare(b),
  );
  rows.push(setup);

  // The re-run: on an account set up once (by Terraform when it runs, so that its state matches).
  await prepare(b);
  await side(b, contenders.includes('terraform') ? 'terraform' : 'ours', 'setup');
  const rerunFloor = floorOf(await planOf(b, EXAMPLE));
  rows.push(
    await compare(
      { what: 're-run, nothing to change', latency, floor: rerunFloor, runs: {} },
      contenders,
      (s) => side(b, s, 'check'),
      () => undefined,
    ),
  );

  if (LAG > 0) {
    b.proxy.options.lagMs = LAG;
    rows.push(
      await compare(
        {
          what: `whole setup, ${LAG} ms consistency lag`,
          latency,
          floor: emptyFloor,
          runs: {},
          baseline: setup.what,
          note: `a new role answers NoSuchEntity for ${LAG} ms after CreateRole`,
        },
        ['ours'],
        (s) => side(b, s, 'setup'),
        () => prepare(b),
      ),
    );
    b.proxy.options.lagMs = 0;
  }

  for (const n of PROJECTS) {
    const config = projectsConfig(b.home, n);
    await prepare(b);
    rows.push(
      await compare(
        {
          what: `whole setup, ${n} project roles`,
          latency,
          floor: floorOf(await planOf(b, config)),
          runs: {},
          baseline: setup.what,
        },
        ['ours'],
        (s) => side(b, s, 'setup', config),
        () => prepare(b),
      ),
    );
  }

  for (const mode of MODES) {
    const config = modeConfig(b.home, mode);
    const fresh = () => prepare(b, 0, mode === 'two-clusters');
    await fresh();
    const floor = floorOf(await planOf(b, config));
    rows.push(
      await compare(
        {
          what: mode === 'pod-identity' ? 'whole setup, Pod Identity' : 'whole setup, two clusters',
          latency,
          floor,
          runs: {},
          baseline: setup.what,
          note:
            mode === 'pod-identity'
              ? `identity: pod-identity, ${floor.writeCalls} writes planned (the agent add-on and the associations among them)`
              : `a second cluster, ${SECOND_CLUSTER.name} in ${SECOND_CLUSTER.region}, ${floor.writeCalls} writes planned`,
        },
        ['ours'],
        async (s) => {
          const run = await side(b, s, 'setup', config);
          // The run must have done the whole setup, not stopped short (a cluster it waits for, say).
          const left = await notDone(b, config);
          if (left.length > 0)
            throw new Error(`after the ${mode} run, the plan still has changes to ${left.join(', ')}`);
          return run;
        },
        fresh,
      ),
    );
  }

  if (UNRELATED > 0) {
    rows.push(
      await compare(
        {
          what: `whole setup, ${UNRELATED} unrelated roles in the account`,
          latency,
          floor: emptyFloor,
          runs: {},
          baseline: setup.what,
        },
        ['ours'],
        (s) => side(b, s, 'setup'),
        () => prepare(b, UNRELATED),
      ),
    );
  }
}

async function main(): Promise<void> {
  if (!motoAvailable) throw new Error('moto_server is not on the PATH (pip install "moto[server]")');
  if (![RUNS, STARTUP_RUNS].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error('--runs and --startup-runs take a whole number from 1');
  }
  const unknown = MODES.filter((m) => !MODE_NAMES.includes(m));
  if (unknown.length > 0) throw new Error(`--modes takes ${MODE_NAMES.join(', ')} (or ''): not ${unknown.join(', ')}`);
  const home = mkdtempSync(join(tmpdir(), 'fas-bench-'));
  const loadStart = loadavg()[0]!;
  const moto = await startMoto();
  const stand = await startPodIdentityStandIn(moto.url);
  const proxy = await startProxy(moto.url, {
    latencyMs: 0,
    lagMs: 0,
    clusterVpcIds: new Map(),
    podIdentityUrl: stand.url,
  });
  const b: Bench = { moto, stand, proxy, home };
  const notes: string[] = [];
  try {
    const contenders: Side[] = ['ours'];
    if (args['only-ours']) notes.push('--only-ours: the aws CLI and Terraform not run');
    else if (awsCliAvailable) contenders.push('awsCli');
    else notes.push('the aws CLI is not on the PATH: not compared');
    const mirror = terraformMirror();
    if (args['only-ours']) {
      // measured alone
    } else if (!terraformOnPath) notes.push('terraform is not on the PATH: not compared');
    else if (mirror === undefined) {
      notes.push(
        'no filesystem mirror with the Terraform AWS provider (set FLYTE_AWS_SETUP_BENCH_TF_PLUGINS): Terraform not compared',
      );
    } else {
      b.tfDir = join(home, 'terraform');
      mkdirSync(b.tfDir);
      copyFileSync(join(ROOT, 'bench/terraform/main.tf'), join(b.tfDir, 'main.tf'));
      writeFileSync(
        join(b.tfDir, 'terraform.rc'),
        `disable_checkpoint = true\nprovider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}\n` +
          '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n',
      );
      await timed('terraform', ['init', '-input=false', '-no-color'], terraformEnv(b), b.tfDir);
      contenders.push('terraform');
    }
    for (const s of contenders) if (s !== 'ours') await checkSameSetup(b, s);
    for (const n of notes) console.error(n);

    const rows: Row[] = [];
    for (const latency of LATENCIES) await pass(b, latency, contenders, rows);
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

    const startup = await measureStartup(home);
    const report = render(rows, startup, loadStart, notes, b);
    console.log(report);
    if (args.json) writeFileSync(args.json, JSON.stringify({ machine: machine(b), rows, startup }, null, 2));
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench/last-run.md'), `${report}\n`);
  } finally {
    await proxy.close();
    await stand.stop();
    await moto.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

interface Startup {
  name: string;
  argv: string[];
  runs: number[];
  /** The same with the machine's NODE_EXTRA_CA_CERTS, when it sets one. */
  withMachineCa: number[];
}

/** Start-up: `node -e 0` and the CLI's quick paths, round-robin so that machine noise falls on all alike. */
async function measureStartup(home: string): Promise<Startup[]> {
  const env = cliEnv({}, home, join(home, 'startup.jsonl'));
  const cases: Startup[] = [
    { name: 'node -e 0', argv: ['-e', '0'], runs: [], withMachineCa: [] },
    { name: 'flyte-aws-setup --version', argv: [BIN, '--version'], runs: [], withMachineCa: [] },
    { name: 'flyte-aws-setup --help', argv: [BIN, '--help'], runs: [], withMachineCa: [] },
    {
      name: 'flyte-aws-setup --dry-run --offline',
      argv: [BIN, '--config', EXAMPLE, '--dry-run', '--offline'],
      runs: [],
      withMachineCa: [],
    },
  ];
  for (let i = -2; i < STARTUP_RUNS; i++) {
    for (const c of cases) {
      const run = await timed(process.execPath, c.argv, withoutMachineCa(env), home);
      if (i >= 0) c.runs.push(run.ms);
      if (MACHINE_CA === undefined) continue;
      const ca = await timed(process.execPath, c.argv, { ...env, NODE_EXTRA_CA_CERTS: MACHINE_CA }, home);
      if (i >= 0) c.withMachineCa.push(ca.ms);
    }
  }
  progress(`start-up ${STARTUP_RUNS} runs done`);
  return cases;
}

function machine(b?: Bench): Record<string, string> {
  const cpu = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: version('uname', ['-sr']),
    node: process.version,
    moto: version('python3', ['-c', 'import moto; print(moto.__version__)']),
    'aws CLI': version('aws', ['--version']),
    terraform: b?.tfDir ? version('terraform', ['version'], terraformEnv(b)) : 'not compared',
    NODE_EXTRA_CA_CERTS:
      MACHINE_CA === undefined ? 'not set' : 'set on this machine; left out of the timed runs (start-up: both)',
  };
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`;
}

/** Median, and the spread (lowest to highest). */
function timeCell(runs: Run[] | undefined): string {
  if (!runs || runs.length === 0) return '-';
  const t = runs.map((r) => r.ms);
  return `${ms(median(t))} (${ms(Math.min(...t))}–${ms(Math.max(...t))})`;
}

/** The median of a CPU measure over the runs, or '-' where it was not measured. */
function cpuCell(runs: Run[] | undefined, f: (r: Run) => number | undefined): string {
  const t = (runs ?? []).map(f).filter((x): x is number => x !== undefined);
  return t.length === 0 ? '-' : ms(median(t));
}

/**
 * CPU time beside the wall time: each contender's processes, and the emulator while it answered them. A run whose
 * CPU time is close to its wall time worked; one far below waited (on the emulator, on added latency).
 */
function cpuTable(at: Row[]): string[] {
  if (!at.some((r) => Object.values(r.runs).some((runs) => runs?.some((x) => x.cpu !== undefined)))) {
    return ['CPU time: not measured (it is read from /proc, which this system lacks).'];
  }
  const out = [
    "CPU time (user and system, all threads), median: what each contender's processes used, and what the emulator " +
      'used while it answered that contender:',
    '',
    '| measurement | flyte-aws-setup | aws CLI script | Terraform | emulator: ours / aws CLI / Terraform |',
    '| --- | --- | --- | --- | --- |',
  ];
  const sides: Side[] = ['ours', 'awsCli', 'terraform'];
  for (const r of at) {
    const own = sides.map((s) => cpuCell(r.runs[s], (x) => x.cpu));
    const emulator = sides.map((s) => cpuCell(r.runs[s], (x) => x.emulatorCpu)).join(' / ');
    out.push(`| ${r.what} | ${own.join(' | ')} | ${emulator} |`);
  }
  return out;
}

function distinct(runs: Run[] | undefined, f: (r: Run) => string): string {
  if (!runs || runs.length === 0) return '-';
  return [...new Set(runs.map(f))].join(', ');
}

function render(rows: Row[], startup: Startup[], loadStart: number, notes: string[], b: Bench): string {
  const out: string[] = [];
  out.push('Machine:');
  for (const [k, v] of Object.entries(machine(b))) out.push(`- ${k}: ${v}`);
  out.push(`- load average (1 min): ${loadStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`);
  for (const n of notes) out.push(`- ${n}`);
  for (const latency of LATENCIES) {
    out.push('');
    out.push(
      `${latency > 0 ? `Each request held ${latency} ms on its way` : 'No latency added'}, ${RUNS} runs each, ` +
        'alternating; median (lowest–highest):',
    );
    out.push('');
    out.push(
      '| measurement | flyte-aws-setup | aws CLI script | Terraform | ratio (aws CLI, Terraform) | calls (writes): ours / aws CLI / Terraform | round trips: ours / aws CLI / Terraform | floor |',
    );
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const at = rows.filter((r) => r.latency === latency);
    for (const r of at) {
      const ours = median((r.runs.ours ?? []).map((x) => x.ms));
      const ratio = (s: Side) => {
        const theirs = r.runs[s];
        return theirs ? `${(median(theirs.map((x) => x.ms)) / ours).toFixed(1)}×` : '-';
      };
      let ratios = `${ratio('awsCli')}, ${ratio('terraform')}`;
      const base = r.baseline !== undefined ? at.find((x) => x.what === r.baseline) : undefined;
      if (base?.runs.ours) {
        const b0 = median(base.runs.ours.map((x) => x.ms));
        ratios = `${(ours / b0).toFixed(2)}× the setup (${ours >= b0 ? '+' : '-'}${ms(Math.abs(ours - b0))})`;
      }
      const sides: Side[] = ['ours', 'awsCli', 'terraform'];
      const calls = sides.map((s) => distinct(r.runs[s], (x) => `${x.calls} (${x.writes})`)).join(' / ');
      const chains = sides.map((s) => distinct(r.runs[s], (x) => String(x.chain))).join(' / ');
      const f = r.floor;
      // The bound on requests in flight is per service: the busiest one's calls / the bound is a second floor.
      const oursCalls = median((r.runs.ours ?? []).map((x) => x.busiest));
      const floor = f
        ? `${f.rounds} (${f.reads}+${f.preflight}+${f.writes})` +
          (oursCalls / CONCURRENCY > f.rounds
            ? `; ${Math.ceil(oursCalls / CONCURRENCY)} by calls / ${CONCURRENCY}`
            : '')
        : '-';
      out.push(
        `| ${r.what} | ${timeCell(r.runs.ours)} | ${timeCell(r.runs.awsCli)} | ${timeCell(r.runs.terraform)} | ${ratios} | ${calls} | ${chains} | ${floor} |`,
      );
    }
    const withNotes = at.filter((r) => r.note);
    for (const r of withNotes) out.push(`\n${r.what}: ${r.note}.`);
    out.push('');
    out.push(...cpuTable(at));
    out.push('');
    out.push('Every run, in ms (flyte-aws-setup | aws CLI script | Terraform):');
    for (const r of at) {
      const list = (s: Side) => r.runs[s]?.map((x) => x.ms.toFixed(0)).join(', ') ?? '-';
      out.push(`- ${r.what}: ${list('ours')} | ${list('awsCli')} | ${list('terraform')}`);
    }
  }
  out.push('');
  const base = median(startup[0]!.runs);
  out.push(`Start-up, ${STARTUP_RUNS} runs each, round-robin; medians:`);
  out.push('');
  if (MACHINE_CA === undefined) {
    out.push('| command | median | vs `node -e 0` |');
    out.push('| --- | --- | --- |');
  } else {
    out.push("| command | median | vs `node -e 0` | with the machine's NODE_EXTRA_CA_CERTS | vs `node -e 0` |");
    out.push('| --- | --- | --- | --- | --- |');
  }
  const caBase = MACHINE_CA === undefined ? 0 : median(startup[0]!.withMachineCa);
  for (const s of startup) {
    const m = median(s.runs);
    const ca =
      MACHINE_CA === undefined
        ? ''
        : ` ${ms(median(s.withMachineCa))} | ${(median(s.withMachineCa) / caBase).toFixed(2)}× |`;
    out.push(`| \`${s.name}\` | ${ms(m)} | ${(m / base).toFixed(2)}× |${ca}`);
  }
  return out.join('\n');
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exitCode = 1;
});
