/**
 * The command the output tells the user to run again (after an interrupt, a failure, a wait, or to fix what verify
 * found): the options of the run that decide what it does, quoted for a POSIX shell; and the commands that print it
 * hand it what they were given.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { ListClustersCommand } from '@aws-sdk/client-eks';
import { describe, expect, it } from 'vitest';
import { buildProgram, main } from '../../src/cli.js';
import { rerunCommand, shellWord, type RerunOptions } from '../../src/session/context.js';
import { DEFAULT_CONCURRENCY } from '../../src/util/concurrency.js';
import { writeConfig } from '../helpers/cli.js';
import { captureIo } from '../helpers/in-process.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';

/** The words a POSIX shell makes of a command line (the command's own name left out). */
function shellWords(command: string): string[] {
  const out = execFileSync('sh', ['-c', `set -- ${command}; shift; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

/** The long options of the main command, as commander knows them. */
function mainCommandFlags(): Set<string> {
  const program = buildProgram(captureIo().io, () => {});
  return new Set(program.options.map((o) => o.long!));
}

describe('rerunCommand', () => {
  it('the config file, and --yes', () => {
    expect(rerunCommand({ config: 'flyte-aws-setup.yaml' })).toBe(
      'flyte-aws-setup --config flyte-aws-setup.yaml --yes',
    );
  });

  it.each<[string, RerunOptions, string]>([
    ['--region', { region: 'eu-west-1' }, '--region eu-west-1 --yes'],
    ['--profile', { profile: 'dev' }, '--profile dev --yes'],
    ['--cluster (it replaces the config’s)', { cluster: 'acme-ml' }, '--cluster acme-ml --yes'],
    ['--bucket (it replaces the config’s)', { bucket: 'acme-flyte-data' }, '--bucket acme-flyte-data --yes'],
    ['--namespace (it replaces the config’s)', { namespace: 'flyte2' }, '--namespace flyte2 --yes'],
    ['--max-attempts', { maxAttempts: 3 }, '--max-attempts 3 --yes'],
    ['--concurrency other than the default', { concurrency: 1 }, '--concurrency 1 --yes'],
    ['--prune', { prune: true }, '--prune --yes'],
    ['--no-preflight', { preflight: false }, '--no-preflight --yes'],
    ['--out-dir other than the default', { outDir: 'handoff/' }, '--out-dir handoff/ --yes'],
    ['--flavor', { flavor: 'union' }, '--flavor union --yes'],
    ['--force', { force: true }, '--force --yes'],
    ['--approve-broadening', { approveBroadening: true }, '--yes --approve-broadening'],
  ])('keeps %s', (_name, opts, tail) => {
    expect(rerunCommand({ config: 'c.yaml', ...opts })).toBe(`flyte-aws-setup --config c.yaml ${tail}`);
  });

  it('leaves out the defaults, and the options that change only how the output looks', () => {
    expect(
      rerunCommand({
        config: 'c.yaml',
        concurrency: DEFAULT_CONCURRENCY,
        outDir: './flyte-aws-setup-out/',
        preflight: true,
        prune: false,
        approveBroadening: false,
        force: false,
        json: true,
        debug: true,
        color: false,
        ...{ verbose: true, dryRun: false, detailedExitcode: true, interactive: false },
      } as RerunOptions),
    ).toBe('flyte-aws-setup --config c.yaml --yes');
  });

  it('without a config file, the flags are the config', () => {
    expect(rerunCommand({ bucket: 'acme-flyte-data', cluster: 'acme' })).toBe(
      'flyte-aws-setup --cluster acme --bucket acme-flyte-data --yes',
    );
    expect(rerunCommand({})).toBe('flyte-aws-setup --config FILE --yes');
  });

  it('the plan instead (dryRun): --dry-run, without the options only an apply takes', () => {
    const all: RerunOptions = {
      config: 'c.yaml',
      cluster: 'acme',
      prune: true,
      approveBroadening: true,
      preflight: false,
      outDir: 'out',
      force: true,
      flavor: 'flyte',
    };
    expect(rerunCommand(all, { dryRun: true })).toBe(
      'flyte-aws-setup --config c.yaml --cluster acme --prune --dry-run',
    );
  });

  it('quotes for a POSIX shell the values that need it, and the shell reads them back as they were', () => {
    expect(shellWord('flyte-aws-setup.yaml')).toBe('flyte-aws-setup.yaml');
    expect(shellWord('my config.yaml')).toBe("'my config.yaml'");
    expect(shellWord("it's.yaml")).toBe("'it'\\''s.yaml'");
    expect(shellWord('')).toBe("''");
    expect(shellWord('~/x')).toBe("'~/x'");
    const opts: RerunOptions = {
      config: "conf dir/it's $HOME `id` *.yaml",
      profile: 'a;b',
      outDir: 'out dir/"x"\\',
      region: 'eu-west-1',
    };
    const command = rerunCommand(opts);
    expect(shellWords(command)).toEqual([
      '--config',
      opts.config,
      '--region',
      'eu-west-1',
      '--profile',
      'a;b',
      '--out-dir',
      opts.outDir,
      '--yes',
    ]);
  });

  it('every flag it writes is an option of the main command', () => {
    const command = rerunCommand({
      config: 'c.yaml',
      region: 'r',
      profile: 'p',
      cluster: 'c',
      bucket: 'b',
      namespace: 'n',
      maxAttempts: 2,
      concurrency: 2,
      prune: true,
      preflight: false,
      outDir: 'o',
      flavor: 'flyte',
      force: true,
      approveBroadening: true,
    });
    const flags = shellWords(command).filter((w) => w.startsWith('--'));
    expect(flags).toHaveLength(15);
    const known = mainCommandFlags();
    for (const flag of flags) expect(known, flag).toContain(flag);
  });
});

describe('the commands print it with the options they were given', () => {
  const CLUSTER_ROLE_ONLY =
    'region: eu-west-1\nbucket: other-bucket\ncluster: other\nnodeRole: false\noidcProvider: false\n' +
    'customPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n';

  function emptyAccount(m: ReturnType<typeof mockAws>) {
    m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
    m.eks.on(ListClustersCommand).resolves({ clusters: ['acme'] });
  }

  it('apply, interrupted: the command it prints repeats the run’s options', async () => {
    const m = mockAws();
    emptyAccount(m);
    const interrupt = new AbortController();
    m.iam.on(CreateRoleCommand).callsFake(() => {
      interrupt.abort();
      return {};
    });
    m.iam.on(AttachRolePolicyCommand).resolves({});
    const config = writeConfig(CLUSTER_ROLE_ONLY);
    const outDir = join(mkdtempSync(join(tmpdir(), 'fas-rerun-')), 'hand off');
    const c = captureIo();
    const args = [
      '--config',
      config,
      '--cluster',
      'acme',
      '--bucket',
      'acme-flyte-data',
      '--namespace',
      'flyte2',
      '--yes',
      '--approve-broadening',
      '--prune',
      '--no-preflight',
      '--concurrency',
      '2',
      '--max-attempts',
      '3',
      '--out-dir',
      outDir,
      '--flavor',
      'flyte',
      '--force',
      '--verbose',
    ];
    const code = await main(args, { ...c.io, signal: interrupt.signal });
    expect(code).toBe(130);
    const printed = /it picks up where this run stopped: (flyte-aws-setup .*)$/m.exec(c.out())?.[1];
    expect(printed).toBe(
      `flyte-aws-setup --config ${config} --cluster acme --bucket acme-flyte-data --namespace flyte2 ` +
        `--max-attempts 3 --concurrency 2 --prune --no-preflight --out-dir '${outDir}' --flavor flyte --force ` +
        '--yes --approve-broadening',
    );
    // Read back by a shell, the same options (--verbose only changes how the output looks).
    expect(shellWords(printed!).sort()).toEqual(args.filter((a) => a !== '--verbose').sort());
  });

  it('outputs: the plan to see, and the command that creates what is missing, with its --cluster and --out-dir', async () => {
    const m = mockAws();
    emptyAccount(m);
    const config = writeConfig(CLUSTER_ROLE_ONLY.replace('systemRole: false\n', ''));
    const outDir = mkdtempSync(join(tmpdir(), 'fas-rerun-'));
    const c = captureIo();
    const code = await main(['outputs', '--config', config, '--cluster', 'acme', '--out-dir', outDir], c.io);
    const text = c.out() + c.err();
    expect(text).toContain(`See the plan with flyte-aws-setup --config ${config} --cluster acme --dry-run`);
    expect(text).toContain(
      `create it with flyte-aws-setup --config ${config} --cluster acme --out-dir ${outDir} --yes`,
    );
    expect(code).toBe(1);
  });

  it('verify: the command its findings name carries its --cluster and --bucket', async () => {
    const m = mockAws();
    emptyAccount(m);
    const config = writeConfig(CLUSTER_ROLE_ONLY);
    const c = captureIo();
    const code = await main(
      ['verify', '--config', config, '--cluster', 'acme', '--bucket', 'acme-flyte-data', '--no-second-opinion'],
      c.io,
    );
    expect(code).toBe(1);
    expect(c.out()).toContain(
      `the next \`flyte-aws-setup --config ${config} --cluster acme --bucket acme-flyte-data --yes\` run creates it`,
    );
  });
});
