/** The CLI in-process: `main(argv, io)` with captured output. No AWS: these runs must not need it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, buildProgram, main, needsCommands } from '../../src/cli.js';
import { JSON_FORMAT_VERSION } from '../../src/render/format-version.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { ROOT, writeConfig } from '../helpers/cli.js';
import { captureIo, runMain } from '../helpers/in-process.js';

const run = runMain;

describe('help, version and usage errors', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('--help lists the options and the exit codes', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--config',
      '--dry-run',
      '--offline',
      '--yes',
      '--json',
      '--region',
      '--profile',
      '--max-attempts',
      '--debug',
      '--no-color',
      '--verbose',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    // The text flows to the width of the help (80 columns here): it may go on at any space.
    expect(r.stdout).toMatch(/Exit codes: 0 .* 1 .* 2\s+bad\s+input,\s+3\s+incomplete/s);
    // Every code, each word apart from the next (a line break in the text must not glue two words together).
    expect(r.stdout).toMatch(/5\s+not\s+applied:\s+changes\s+that\s+broaden/);
    expect(r.stdout).toMatch(/130\s+interrupted\s+\(143\s+on\s+SIGTERM\)/);
  });

  it('--help names every other command', async () => {
    const r = await run(['--help']);
    const others = /Other\s+commands:\s+([^(]*)\(/
      .exec(r.stdout)?.[1]
      ?.split(/,\s+/)
      .map((c) => c.trim());
    const listed = (await run(['help'])).stdout.split('Commands:')[1] ?? '';
    const commands = [...listed.matchAll(/^ {2}([a-z]+)(?: \[[^\]]*\])* {2,}/gm)]
      .map((m) => m[1])
      .filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(6);
    expect(others?.sort()).toEqual(commands.sort());
  });

  it('an unknown option is bad input (exit 2)', async () => {
    const r = await run(['--dryrun']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--dryrun'/);
    expect(r.stderr).toMatch(/Did you mean --dry-run\?/);
  });

  it('a bad number is bad input', async () => {
    const r = await run(['--config', 'x.yaml', '--max-attempts', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-attempts must be a whole number from 1 to 20/);
  });

  it('numbers are plain whole numbers: no hex, exponent, sign or blanks', async () => {
    for (const value of ['0x4', '1e1', '+4', ' 4', '4.0', '']) {
      const r = await run(['--config', 'x.yaml', '--concurrency', value, '--dry-run', '--offline']);
      expect(r.code, value).toBe(2);
      expect(r.stderr).toMatch(/--concurrency must be a whole number from 1 to 16/);
    }
  });

  it('an unknown command says so, with a did-you-mean and the list', async () => {
    const r = await run(['verfy', '--config', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "verfy"; did you mean "verify"\?/);
    expect(r.stderr).toMatch(/the commands: plan, apply, permissions, outputs, verify, destroy, probe, init /);
    expect((await run(['bogus'])).stderr).toMatch(/unknown command "bogus"\n/);
  });

  it('the list of commands is the one the CLI builds, in its order', () => {
    expect(buildProgram(captureIo().io, () => {}).commands.map((c) => c.name())).toEqual([...COMMANDS]);
  });

  it('a command line that cannot name a command is parsed by the main command alone, built without the others', () => {
    for (const argv of [
      ['--config', 'x.yaml', '--dry-run', '--offline'],
      ['--config', 'x.yaml', '--yes', '--out-dir', 'out'],
      ['verfy'],
      [],
    ]) {
      expect(needsCommands(argv), argv.join(' ')).toBe(false);
    }
    for (const argv of [
      ['verify'],
      ['--config', 'x.yaml', 'plan'],
      ['help', 'verify'],
      ['--dry-run', '--help'],
      ['-h'],
      ['-yh'],
      ['-hi'],
    ]) {
      expect(needsCommands(argv), argv.join(' ')).toBe(true);
    }
    expect(buildProgram(captureIo().io, () => {}, false).commands).toEqual([]);
  });

  it('the help asked in a cluster of short flags lists the commands, as --help does', async () => {
    const clustered = await run(['-yh']);
    expect(clustered.code).toBe(0);
    expect(clustered.stdout).toContain('Commands:');
    expect(clustered.stdout).toBe((await run(['-y', '--help'])).stdout);
  });

  it('an option meant for a command, before the main command, is still the main command’s error', async () => {
    // Built without the commands, the main command still refuses what it does not know, and points to the help.
    const r = await run(['--config', 'x.yaml', '--as', 'flyte/flyte-binary']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--as'/);
    expect(r.stderr).toMatch(/flyte-aws-setup --help/);
  });

  it('the environment variables that stand for flags are checked like them', async () => {
    const config = writeConfig('cluster: acme\nbucket: acme-flyte-data\n');
    for (const [name, value, allowed] of [
      ['AWS_MAX_ATTEMPTS', 'abc', 'a whole number from 1 to 20'],
      ['AWS_MAX_ATTEMPTS', '0', 'a whole number from 1 to 20'],
      ['AWS_RETRY_MODE', 'fast', 'standard, adaptive or legacy'],
      ['FLYTE_AWS_SETUP_REQUEST_TIMEOUT', '-1', 'a whole number of seconds from 1 to 3600'],
    ] as const) {
      const r = await run(['--config', config, '--dry-run'], { [name]: value });
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(`${name} must be ${allowed}, not "${value}"`);
    }
    expect((await run(['--config', config, '--dry-run', '--offline'], { AWS_MAX_ATTEMPTS: '5' })).code).toBe(0);
  });

  it('plan is --dry-run, with an exit code for CI that says whether AWS matches the config', async () => {
    const config = writeConfig('cluster: acme\nbucket: acme-flyte-data\n');
    const viaFlag = await run(['--config', config, '--dry-run', '--offline']);
    const viaCommand = await run(['plan', '--config', config, '--offline']);
    expect(viaCommand).toEqual(viaFlag);
    expect(viaCommand.code).toBe(0);
    // An empty account (offline) has everything to create: changes pending.
    expect((await run(['plan', '--config', config, '--offline', '--detailed-exitcode'])).code).toBe(6);
    expect((await run(['--config', config, '--dry-run', '--offline', '--detailed-exitcode'])).code).toBe(6);
    const notAPlan = await run(['--config', config, '--detailed-exitcode']);
    expect(notAPlan.code).toBe(2);
    expect(notAPlan.stderr).toMatch(/--detailed-exitcode only works with a plan/);
  });

  it('apply, help <command>, and the options that make sense on a subcommand', async () => {
    expect((await run(['apply', '--config', 'x.yaml', '--offline'])).stderr).toMatch(/unknown option '--offline'/);
    const help = await run(['help', 'verify']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: flyte-aws-setup verify/);
    for (const command of ['verify', 'destroy', 'outputs', 'plan', 'apply']) {
      const r = await run([command, '--help']);
      for (const opt of ['--cluster', '--bucket', '--namespace', '--concurrency'])
        expect(r.stdout, command).toContain(opt);
    }
  });

  it('without a config file, the flags are the config', async () => {
    const config = writeConfig('cluster: acme-ml\nbucket: acme-flyte-data\nregion: eu-west-1\n');
    const fromFile = await run(['plan', '--config', config, '--offline', '--json']);
    const fromFlags = await run([
      'plan',
      '--cluster',
      'acme-ml',
      '--bucket',
      'acme-flyte-data',
      '--region',
      'eu-west-1',
      '--offline',
      '--json',
    ]);
    expect(fromFlags.code).toBe(0);
    expect(JSON.parse(fromFlags.stdout)).toEqual(JSON.parse(fromFile.stdout));
    const noCluster = await run(['plan', '--bucket', 'acme-flyte-data', '--offline']);
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toMatch(/the command line is not valid/);
    expect(noCluster.stderr).toMatch(/--cluster: is required by OIDC identity provider/);
  });

  it("flags of other tools get a hint to this tool's", async () => {
    for (const [args, hint] of [
      [['--auto-approve'], '--yes'],
      [['apply', '-auto-approve'], '--yes'],
      [['--approve'], '--yes'],
      [['verify', '--output', 'json'], '--json'],
      [['plan', '-o', 'json'], '--json'],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`its flag for that is ${hint}`);
    }
  });

  it('--offline needs --dry-run', async () => {
    const r = await run(['--config', 'examples/flyte-aws-setup.yaml', '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--offline only works with --dry-run/);
  });

  it('a run that reads no input does not make the input stream (it is made on first use)', async () => {
    const c = captureIo();
    const { stdin, ...rest } = c.io;
    let made = 0;
    const io = {
      ...rest,
      get stdin() {
        made++;
        return stdin;
      },
    };
    const code = await main(['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline'], io);
    expect(code).toBe(0);
    expect(c.out()).toMatch(/Offline plan/);
    expect(made).toBe(0);
    // Without a config, whether it runs in a terminal decides (the wizard): then the stream is asked for.
    expect(await main([], io)).toBe(2);
    expect(made).toBeGreaterThan(0);
  });

  it('no config and no terminal: says what to do', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no config file given/);
    expect(r.stderr).toMatch(/--config FILE/);
  });
});

describe('config problems', () => {
  it('lists every problem with its position, says nothing changed, exits 2', async () => {
    const file = writeConfig(
      'cluster: acme\nbucket: x\nregion: nowhere\nprojectRoles:\n  - project: a\n  - project: a\n',
    );
    const r = await run(['--config', file, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${file} is not valid (3 problems):`);
    expect(r.stderr).toContain('  - line 2, column 1: bucket: must be 3 to 63 characters, not 1 (got "x")');
    expect(r.stderr).toContain(
      '  - line 3, column 1: region: must be an AWS region code such as eu-west-1 (got "nowhere")',
    );
    expect(r.stderr).toContain('  - line 6, column 5: projectRoles[1].project: project "a" is listed twice');
    expect(r.stderr).toContain('Nothing was changed in AWS.');
    expect(r.stdout).toBe('');
  });

  it("a bad option value is the command line's problem, not the file's", async () => {
    const file = writeConfig('cluster: acme\nbucket: acme-flyte-data\n');
    const r = await run(['--config', file, '--dry-run', '--offline', '--region', 'mars']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: the command line is not valid (1 problem):');
    expect(r.stderr).toContain('--region: must be an AWS region code');
    const both = await run(['--config', writeConfig('cluster: acme\nbucket: x\n'), '--dry-run', '--region', 'mars']);
    expect(both.stderr).toMatch(/error: .* and the command line are not valid \(2 problems\):/);
  });

  it('with --json, stdout holds the error as JSON too (the message stays on stderr)', async () => {
    const file = writeConfig('cluster: acme\nbucket: x\n');
    const r = await run(['--config', file, '--dry-run', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bucket: must be 3 to 63 characters');
    expect(JSON.parse(r.stdout)).toEqual({
      formatVersion: JSON_FORMAT_VERSION,
      kind: 'error',
      exitCode: 2,
      message: `${file} is not valid`,
      problems: [
        {
          path: ['bucket'],
          message: 'must be 3 to 63 characters, not 1 (got "x")',
          line: 2,
          col: 1,
          text: 'line 2, column 1: bucket: must be 3 to 63 characters, not 1 (got "x")',
        },
      ],
    });
    // Only a command that was given --json (as parsed) answers in JSON: not one where --json is another option's
    // value, nor a command line that did not parse (no command ran), nor a command without --json.
    for (const args of [
      ['verify', '--config', '--json'],
      ['verify', '--json', '--bogus'],
      ['permissions', '--config', file, '--json'],
    ]) {
      const r2 = await run(args);
      expect(r2.code, args.join(' ')).not.toBe(0);
      expect(r2.stdout, args.join(' ')).toBe('');
    }
  });

  it('a missing file', async () => {
    const r = await run(['--config', 'does-not-exist.yaml', '--dry-run', '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'does-not-exist.yaml is not valid (1 problem):\n  - cannot read the config file: no such file',
    );
  });
});

describe('offline plan', () => {
  it('prints the plan of the example config', async () => {
    const r = await run(['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline'], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatchSnapshot();
  });

  it('--json gives the same plan as data', async () => {
    const r = await run(['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline', '--json']);
    const plan = JSON.parse(r.stdout) as {
      kind: string;
      facts: { offline: boolean; partition: string };
      summary: { create: number; security: number };
      sections: { id: string; resources: { steps: { op: string }[]; security: string[] }[] }[];
    };
    expect(plan.kind).toBe('plan');
    expect(plan.facts).toMatchObject({ offline: true, partition: 'aws' });
    expect(plan.summary).toMatchObject({ create: 7, security: 1 });
    const workers = plan.sections.find((s) => s.id === 'workersRole')!;
    expect(workers.resources[0]!.security).toEqual(['trust: wildcard in sub: system:serviceaccount:*:default']);
    expect(plan.sections.flatMap((s) => s.resources.flatMap((x) => x.steps.map((st) => st.op)))).toHaveLength(15);
  });

  it('colours only when asked: FORCE_COLOR on, NO_COLOR off', async () => {
    const plain = await run(['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline']);
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    const c = captureIo({ FORCE_COLOR: '1' });
    delete c.io.env.NO_COLOR;
    await main(['--config', 'examples/flyte-aws-setup.yaml', '--dry-run', '--offline'], c.io);
    expect(c.out()).toMatch(/\x1b\[/);
  });
});

describe('the config JSON Schema for editors', () => {
  it('schema/flyte-aws-setup.schema.json is generated from the code (npm run schema to refresh it)', () => {
    const committed = JSON.parse(readFileSync(`${ROOT}/schema/flyte-aws-setup.schema.json`, 'utf8')) as unknown;
    expect(committed).toEqual(configJsonSchema());
  });
});
