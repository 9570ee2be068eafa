/**
 * The wizard's parts that need no AWS: answers checked with the config's own rules, the saved file (round trip,
 * atomic, never replacing without leave), the real prompts driven through streams, profile names, and the
 * command line around the wizard.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { profileNames } from '../../src/aws/profiles.js';
import { main, type CliIo } from '../../src/cli.js';
import { parseConfigText } from '../../src/load/config.js';
import {
  answerProblem,
  draftConfig,
  draftFromConfig,
  parseList,
  parseTags,
  problemAt,
  type Draft,
} from '../../src/wizard/draft.js';
import { InterruptedByUser, inquirerPrompter } from '../../src/wizard/prompter.js';
import { configText, freeName, writeFileAtomic } from '../../src/wizard/save.js';
import { ROOT } from '../helpers/cli.js';

const EXAMPLE = readFileSync(join(ROOT, 'examples/flyte-aws-setup.yaml'), 'utf8');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fas-wizard-unit-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('answers are checked with the rules of config files', () => {
  const draft: Draft = { cluster: 'acme', bucket: 'acme-flyte-data' };

  it('the same message as the config file gives, with the key', () => {
    expect(problemAt({ ...draft, bucket: 'Bad_Bucket' }, ['bucket'])).toBe(
      'bucket: may only hold lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit (got "Bad_Bucket")',
    );
    expect(() => parseConfigText('cluster: acme\nbucket: Bad_Bucket\n')).toThrow(
      /bucket: may only hold lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit \(got "Bad_Bucket"\)/,
    );
    expect(problemAt({ ...draft, bucket: 'acme-flyte-data' }, ['bucket'])).toBeUndefined();
  });

  it("for a question, the same words without the config's key paths: keys are said as what they stand for", () => {
    expect(answerProblem({ ...draft, bucket: 'Bad_Bucket' }, ['bucket'])).toBe(
      'may only hold lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit (got "Bad_Bucket")',
    );
    const athena = { project: 'fraud', extraPolicies: ['arn:aws:iam::aws:policy/X', 'AmazonAthenaFullAccess'] };
    expect(answerProblem({ ...draft, projectRoles: [athena] }, ['projectRoles', 0, 'extraPolicies'])).toMatch(
      /^must be a managed policy ARN such as .* \(got "AmazonAthenaFullAccess"\)$/,
    );
    expect(
      answerProblem(
        {
          ...draft,
          projectRoles: [
            { project: 'a-b', domains: ['c'] },
            { project: 'a', domains: ['b-c'] },
          ],
        },
        ['projectRoles', 1],
      ),
    ).toBe(
      'the namespace "a-b-c" is also that of the project a-b, domain c: two roles would trust the same pods; rename a project or domain',
    );
    expect(answerProblem({ ...draft, nodeRole: { name: 'flyte-eks-cluster-role' } }, ['nodeRole', 'name'])).toBe(
      'role name "flyte-eks-cluster-role" is already used by the EKS cluster role',
    );
    const many = Array.from({ length: 200 }, (_, i) => `team-${i}-development`);
    expect(
      answerProblem({ ...draft, workersRole: { allNamespaces: false, namespaces: many } }, ['workersRole']),
    ).toMatch(/Trust fewer namespaces or choose "every namespace"$/);
    for (const text of [
      answerProblem({ ...draft, projectRoles: [athena] }, ['projectRoles']),
      answerProblem({ ...draft, tags: { 'aws:x': '1' } }, ['tags']),
    ]) {
      expect(text).not.toMatch(/\w\[\d+\]|^\w+:|\.name\b/);
    }
  });

  it('only the asked key: problems elsewhere in an unfinished draft do not count', () => {
    expect(problemAt({ namespace: 'flyte' }, ['namespace'])).toBeUndefined();
    expect(problemAt({ namespace: 'Flyte' }, ['namespace'])).toMatch(/^namespace: must be a DNS label/);
  });

  it('rules across keys: a role name used twice, a project namespace too long, a boundary of another partition', () => {
    expect(problemAt({ ...draft, nodeRole: { name: 'flyte-eks-cluster-role' } }, ['nodeRole', 'name'])).toMatch(
      /role name "flyte-eks-cluster-role" is already used by clusterRole\.name/,
    );
    const long = 'p'.repeat(55);
    expect(problemAt({ ...draft, projectRoles: [{ project: long }] }, ['projectRoles', 0])).toMatch(
      /projectRoles\[0\]\.domains\[0\]: the namespace "p+-development" must be 1 to 63 characters/,
    );
    expect(
      problemAt({ ...draft, region: 'cn-north-1', permissionsBoundary: 'arn:aws:iam::aws:policy/X' }, [
        'permissionsBoundary',
      ]),
    ).toMatch(/is in partition aws, but region cn-north-1 is in aws-cn/);
  });

  it('tags and lists as typed', () => {
    expect(parseTags('team=ml, cost-center=42,owner=a=b')).toEqual({ team: 'ml', 'cost-center': '42', owner: 'a=b' });
    expect(parseTags('')).toEqual({});
    expect(parseTags('none')).toEqual({});
    expect(parseTags('team')).toBe('write tags as key=value, separated by commas (not "team")');
    expect(problemAt({ ...draft, tags: { 'aws:x': '1' } }, ['tags'])).toMatch(/must not start with "aws:"/);
    expect(parseList('a, b  c,')).toEqual(['a', 'b', 'c']);
    expect(parseList('-')).toEqual([]);
  });
});

describe('the saved config', () => {
  it('of a walk stopped early: the header says it is incomplete, what was applied, how to continue or undo', () => {
    const config = parseConfigText(EXAMPLE);
    const text = configText(draftFromConfig(config), 'flyte-aws-setup.yaml', {
      why: 'was interrupted',
      applied: ['EKS cluster role: created (arn:aws:iam::1:role/r)'],
    });
    expect(parseConfigText(text)).toEqual(config);
    expect(text.split('\n').slice(0, 9)).toEqual([
      '# flyte-aws-setup config, saved by the wizard: the AWS IAM pieces Flyte needs on Amazon EKS.',
      '# INCOMPLETE: the wizard was interrupted before its end. The questions it had not reached yet hold',
      '# their defaults here: review them before applying this without questions.',
      '# Already applied in AWS:',
      '#   EKS cluster role: created (arn:aws:iam::1:role/r)',
      '# Continue:  npx flyte-aws-setup --config flyte-aws-setup.yaml --interactive',
      '# Undo:      npx flyte-aws-setup destroy --config flyte-aws-setup.yaml   (removes only what flyte-aws-setup made)',
      '# Review:    npx flyte-aws-setup --config flyte-aws-setup.yaml --dry-run',
      '',
    ]);
  });

  it('reads back as the same config, in the explicit form of the documented example', () => {
    const config = parseConfigText(`${EXAMPLE}\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\n`);
    const text = configText(draftFromConfig(config), 'flyte-aws-setup.yaml');
    expect(parseConfigText(text)).toEqual(config);
    expect(text).toContain('clusterRole: { name: flyte-eks-cluster-role }');
    expect(text).toContain('workersRole: { name: flyte-workers-role, serviceAccount: default, allNamespaces: true }');
    expect(text).toContain('    domains: [development, staging, production]');
    expect(text.split('\n')[0]).toBe(
      '# flyte-aws-setup config, saved by the wizard: the AWS IAM pieces Flyte needs on Amazon EKS.',
    );
    const json = configText(draftFromConfig(config), 'flyte.json');
    expect(parseConfigText(json)).toEqual(config);
    expect(draftConfig(draftFromConfig(config))).toEqual(config);
  });

  it('is written atomically and never replaces a file unless told to', async () => {
    const dir = tempDir();
    const file = join(dir, 'flyte-aws-setup.yaml');
    await writeFileAtomic(file, 'a: 1\n', { overwrite: false });
    expect(readFileSync(file, 'utf8')).toBe('a: 1\n');
    await expect(writeFileAtomic(file, 'a: 2\n', { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(file, 'utf8')).toBe('a: 1\n');
    await writeFileAtomic(file, 'a: 3\n', { overwrite: true });
    expect(readFileSync(file, 'utf8')).toBe('a: 3\n');
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual(['flyte-aws-setup.yaml']);
  });

  it('offers the next free name beside an existing file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flyte-aws-setup.yaml'), '');
    writeFileSync(join(dir, 'flyte-aws-setup-2.yaml'), '');
    expect(freeName(join(dir, 'flyte-aws-setup.yaml'))).toBe(join(dir, 'flyte-aws-setup-3.yaml'));
    expect(freeName(join(dir, 'flyte-aws-setup-2.yaml'))).toBe(join(dir, 'flyte-aws-setup-3.yaml'));
  });
});

describe('the real prompts (@inquirer/prompts) through streams', () => {
  function terminal() {
    const stdin = new PassThrough();
    const stderr = new PassThrough();
    let screen = '';
    stderr.on('data', (d: Buffer) => (screen += d.toString()));
    const io: CliIo = { stdin, stderr, stdout: new PassThrough(), env: {}, handleSignals: false };
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && !screen.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      if (!screen.includes(text)) throw new Error(`"${text}" never appeared on the screen:\n${screen}`);
    };
    return { io, stdin, screen: () => screen, waitFor };
  }

  it('a wrong answer is refused with the message, the prompt stays, the right one is taken', async () => {
    const t = terminal();
    const prompter = inquirerPrompter(t.io);
    const answer = prompter.input({
      message: 'S3 bucket for Flyte',
      validate: (v) => problemAt({ bucket: v }, ['bucket']),
    });
    await t.waitFor('S3 bucket for Flyte');
    t.stdin.write('Bad_Bucket\r');
    await t.waitFor('bucket: may only hold lower-case letters');
    t.stdin.write('\x15 acme-flyte-data \r');
    expect(await answer).toBe('acme-flyte-data');
  });

  it('Enter takes the default', async () => {
    const t = terminal();
    const prompter = inquirerPrompter(t.io);
    const answer = prompter.select({
      message: 'Pick',
      choices: [
        { name: 'one', value: 1 },
        { name: 'two', value: 2 },
      ],
      default: 2,
    });
    await t.waitFor('Pick');
    t.stdin.write('\r');
    expect(await answer).toBe(2);
  });

  it('Ctrl-C, or the run aborted, is an interruption (exit 130)', async () => {
    const t = terminal();
    const controller = new AbortController();
    const prompter = inquirerPrompter(t.io, controller.signal);
    const first = prompter.confirm({ message: 'Go on?', default: true });
    await t.waitFor('Go on?');
    t.stdin.write('\x03');
    await expect(first).rejects.toBeInstanceOf(InterruptedByUser);
    await expect(first).rejects.toMatchObject({ exitCode: 130 });
    const second = prompter.input({ message: 'Name' });
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(InterruptedByUser);
  });
});

describe('AWS profiles to choose from', () => {
  it('named profiles of the config and credentials files, default first; other sections left out', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'config'),
      '[default]\nregion = eu-west-1\n[profile admin]\n[sso-session corp]\n[profile  ml ]\n[services x]\n',
    );
    writeFileSync(join(dir, 'credentials'), '[ci]\naws_access_key_id = X\n[admin]\n');
    expect(
      profileNames({ AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') }),
    ).toEqual(['default', 'admin', 'ci', 'ml']);
    expect(profileNames({ HOME: dir })).toEqual([]);
  });
});

describe('the command line around the wizard', () => {
  function io(tty: boolean): { io: CliIo; err: () => string } {
    const stdin = Object.assign(new PassThrough(), { isTTY: tty });
    const stderr = Object.assign(new PassThrough(), { isTTY: tty });
    let e = '';
    stderr.on('data', (d: Buffer) => (e += d.toString()));
    return {
      io: { stdin, stderr, stdout: new PassThrough(), env: { NO_COLOR: '1' }, handleSignals: false },
      err: () => e,
    };
  }

  it('--help lists the wizard and its flags', async () => {
    const c = io(false);
    let out = '';
    c.io.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await main(['--help'], c.io)).toBe(0);
    for (const flag of ['--cluster <name>', '--bucket <name>', '--namespace <name>', '-i, --interactive']) {
      expect(out).toContain(flag);
    }
    expect(out).toContain('Without --config, in a terminal, it is a wizard');
  });

  it('--interactive without a terminal: says so, exit 2', async () => {
    const c = io(false);
    expect(await main(['--interactive'], c.io)).toBe(2);
    expect(c.err()).toContain('error: the wizard needs a terminal (stdin and stderr), and there is none');
    expect(c.err()).toContain('flyte-aws-setup --config FILE --yes');
  });

  it('--interactive with --yes or --dry-run is a contradiction, exit 2', async () => {
    const c = io(true);
    expect(await main(['--interactive', '--dry-run'], c.io)).toBe(2);
    expect(c.err()).toContain('--interactive does not go with --dry-run');
    const p = io(true);
    expect(await main(['--interactive', '--prune'], p.io)).toBe(2);
    expect(p.err()).toContain('--interactive does not go with --prune');
    expect(p.err()).toContain('for a run without questions use --config FILE --prune');
  });

  it('a bad flag is refused with the config rule, before any AWS call', async () => {
    const c = io(true);
    const code = await main(['--bucket', 'Bad_Bucket', '--namespace', 'Flyte'], {
      ...c.io,
      env: { ...c.io.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(code).toBe(2);
    expect(c.err()).toContain('--bucket: may only hold lower-case letters');
    expect(c.err()).toContain('--namespace: must be a DNS label');
  });

  it('no config without a terminal is still the clear error, not the wizard', async () => {
    const c = io(false);
    expect(await main([], c.io)).toBe(2);
    expect(c.err()).toMatch(/no config file given/);
  });

  it('a config file with --interactive is loaded and checked first', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'bucket: x\n');
    const c = io(true);
    expect(await main(['--config', file, '--interactive'], c.io)).toBe(2);
    expect(c.err()).toContain('bucket: must be 3 to 63 characters');
    expect(existsSync(join(dir, 'flyte-aws-setup.yaml'))).toBe(false);
  });
});
