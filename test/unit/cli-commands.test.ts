/** The outputs, verify and destroy subcommands in-process: their help, and bad input. No AWS. */
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/in-process.js';

const run = (args: string[]) => runMain(args);

describe('subcommands', () => {
  it.each([
    ['outputs', ['--out-dir', '--force', '--flavor', '--config', '--json'], /4 a file differs/],
    ['verify', ['--config', '--json', '--region', '--profile'], /0 AWS matches the config and no error was found/],
    ['destroy', ['--dry-run', '--yes', '--config', '--json'], /1 something stays/],
  ])('%s --help lists its options and exit codes', async (command, options, exitCodes) => {
    const r = await run([command, '--help']);
    expect(r.code).toBe(0);
    for (const o of options) expect(r.stdout).toContain(o);
    expect(r.stdout).toMatch(exitCodes);
  });

  it('the main help names the subcommands and exit code 4', async () => {
    const r = await run(['--help']);
    expect(r.stdout).toMatch(/outputs.*verify.*destroy/s);
    expect(r.stdout).toContain('4 done but a hand-off file was kept');
    expect(r.stdout).toContain('--out-dir');
  });

  it.each([
    [['outputs', '--config', 'x.yaml', '--flavor', 'nope'], /option '--flavor <flavor>' argument 'nope' is invalid/],
    [['outputs', '--config', 'x.yaml', '--out-dir', ' '], /--out-dir must not be empty/],
    [['--config', 'x.yaml', '--flavor', 'UNION'], /Allowed choices are flyte, union/],
    [['destroy', '--config', 'x.yaml', '--offline'], /unknown option '--offline'/],
  ])('%j is bad input (exit 2)', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [['--dry-run', 'destroy', '--config', 'x.yaml', '--yes'], '--dry-run', 'destroy'],
    [['--profile', 'prod', 'verify', '--config', 'x.yaml'], '--profile', 'verify'],
    [['--json', 'verify', '--config', 'x.yaml'], '--json', 'verify'],
    [['--config', 'x.yaml', 'outputs'], '--config', 'outputs'],
  ])('%j: an option before the command name would be dropped, so it is refused (exit 2)', async (args, flag, sub) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${flag} must come after the command name, not before it`);
    expect(r.stderr).toContain(`flyte-aws-setup ${sub} ${flag} ...`);
    // Nothing ran, so nothing is on stdout (not even a JSON error: no command was given --json).
    expect(r.stdout).toBe('');
  });

  it('no config file: says to pass --config', async () => {
    for (const command of ['outputs', 'verify', 'destroy']) {
      const r = await run([command]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('no config file given');
    }
  });
});
