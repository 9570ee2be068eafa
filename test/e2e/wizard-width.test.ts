/**
 * The wizard and the help in narrow terminals (80 and 60 columns), as an operator meets them: the built binary in a
 * real pseudo-terminal (tmux) against a local AWS (moto). No line is longer than the terminal (the terminal never
 * had to wrap one), and no word is broken at the end of a line.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, createCluster } from '../helpers/aws.js';
import { ROOT } from '../helpers/cli.js';
import { motoSkipReason, startMoto, type Moto } from '../helpers/moto.js';
import { Terminal, tmuxSkipReason } from '../helpers/terminal.js';

const skip = motoSkipReason() ?? tmuxSkipReason();

/** Every word of the tool's own text (its sources), and of the data of these tests. */
function sourceWords(dir = join(ROOT, 'src')): Set<string> {
  const found = new Set<string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) for (const w of sourceWords(path)) found.add(w);
    else if (e.name.endsWith('.ts'))
      for (const w of readFileSync(path, 'utf8').match(/[A-Za-z0-9]+/g) ?? []) found.add(w);
  }
  return found;
}

const KNOWN = sourceWords();

/**
 * No line longer than `width` (the screen with the terminal's own wraps joined), and no word broken at the end of a
 * row: where a row ends and the next begins inside letters or digits, both pieces must be whole words.
 */
function expectFits(t: Terminal, width: number, data: string[]): void {
  const joined = t.screen().split('\n');
  const long = joined.filter((l) => [...l].length > width && !l.startsWith('Pane is dead'));
  expect(long, `lines longer than ${width}`).toEqual([]);
  const known = new Set([...KNOWN, ...data.flatMap((d) => d.match(/[A-Za-z0-9]+/g) ?? [])]);
  const rows = t.rows();
  const broken: string[] = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const end = /([A-Za-z0-9]+)$/.exec(rows[i]!)?.[1];
    const start = /^\s*([A-Za-z0-9]+)/.exec(rows[i + 1]!)?.[1];
    if (end === undefined || start === undefined) continue;
    const whole = (w: string) => known.has(w) || /^\d+$/.test(w);
    if (!whole(end) || !whole(start)) broken.push(`${rows[i]}⏎${rows[i + 1]}`);
  }
  expect(broken, 'words broken across rows').toEqual([]);
}

describe.skipIf(skip !== undefined)('the wizard in narrow terminals', () => {
  let moto: Moto;
  let cwd: string;
  let terminal: Terminal | undefined;

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    cwd = mkdtempSync(join(tmpdir(), 'fas-width-'));
  });
  afterEach(() => {
    terminal?.stop();
    terminal = undefined;
    rmSync(cwd, { recursive: true, force: true });
  });

  const start = (columns: number, args: string[] = []) => {
    terminal = Terminal.start(args, { endpoint: moto.url, cwd, columns, env: { AWS_REGION: 'eu-west-1' } });
    return terminal;
  };

  it.each([80, 60])('--help at %i columns: the description and the text after the options flow', async (columns) => {
    for (const args of [['--help'], ['apply', '--help'], ['destroy', '--help'], ['permissions', '--help']]) {
      const t = start(columns, args);
      expect(await t.exitCode()).toBe(0);
      const screen = t.screen();
      expect(screen).toMatch(/^Usage: flyte-aws-setup/);
      expectFits(t, columns, []);
      t.stop();
      terminal = undefined;
    }
  });

  it('the whole walk at 80 columns: a mistyped cluster, a project, a list of namespaces, the hand-off', async () => {
    const issuer = await createCluster(moto.url, 'acme-ml', 'eu-west-1', [], 'flyte-eks-cluster-role');
    await createCluster(moto.url, 'other-team');
    const t = start(80, ['--cluster', 'acme-m1']);
    await t.answer(/^\? Set up Flyte in this account and region\?/);
    const typo = await t.waitFor(/^\? EKS cluster for Flyte \(in eu-west-1\)/);
    expect(typo.replace(/\s+/g, ' ')).toContain(
      'There is no EKS cluster acme-m1 in region eu-west-1. The clusters there: acme-ml, other-team. Did you mean acme-ml?',
    );
    t.keys('Enter');
    await t.answer(/^\? Which will install Flyte/);
    await t.answer(/^\? How do Flyte's pods get their AWS roles/);
    await t.answer(/^\? S3 bucket for Flyte/, 'acme-flyte-data');
    await t.answer(/^\? Kubernetes namespace of the Flyte backend/);
    await t.answer(/^\? Use these names/);
    await t.answer(/^\? Tags/);
    await t.answer(/^\? Permissions boundary/);
    for (const section of [
      'EKS cluster role',
      'EKS node role',
      'OIDC identity provider',
      'S3 policy',
      'Flyte backend',
    ]) {
      await t.answer(new RegExp(`^\\? Create the ${section}`));
    }
    await t.answer(/^\? Add a project with its own role\?/, 'y');
    await t.answer(/^\? Project name/, 'fraud');
    await t.answer(/^\? Domains of fraud/);
    await t.answer(/^\? Extra managed policy ARNs/);
    await t.answer(/^\? Add another project\?/);
    await t.waitFor(/^\? The workers role trusts/);
    t.keys('Down');
    t.keys('Enter');
    await t.answer(/^\? Namespaces whose task pods use the workers role/, 'ml-development, fraud-staging');
    await t.answer(/^\? Keep fraud-staging in the workers role's list anyway\?/);
    // A list of namespaces: nothing that broadens access, so Enter says yes.
    await t.answer(/^\? Create the Flyte workers role\? \(Y\/n\)/);
    await t.answer(/^\? Create the project-domain roles\?/);
    await t.answer(/^\? Save the config as/);
    await t.waitFor(/^Config saved: flyte-aws-setup\.yaml/);
    expect(await t.exitCode()).toBe(0);
    expect(t.screen()).toContain('helm install flyte-backend flyteorg/flyte-binary');
    expectFits(t, 80, [issuer, ACCOUNT, 'moto']);
  });

  it('at 60 columns, up to Ctrl-C after changes: the answers saved, said where', async () => {
    const issuer = await createCluster(moto.url, 'acme-ml', 'eu-west-1', [], 'some-cluster-role');
    const t = start(60, ['--bucket', 'acme-flyte-data']);
    await t.answer(/^\? Set up Flyte in this account and region\?/);
    await t.answer(/^\? EKS cluster for Flyte/);
    await t.answer(/^\? Which will install Flyte/);
    await t.answer(/^\? How do Flyte's pods get their AWS roles/);
    await t.answer(/^\? Kubernetes namespace of the Flyte backend/);
    await t.answer(/^\? Use these names/);
    await t.answer(/^\? Tags/);
    await t.answer(/^\? Permissions boundary/);
    // The cluster runs with another role: no by default.
    const other = await t.waitFor(/^\? Create the EKS cluster role\? \(y\/N\)/);
    expect(other.replace(/\s+/g, ' ')).toContain(
      `The EKS cluster acme-ml exists and runs with another role: arn:aws:iam::${ACCOUNT}:role/some-cluster-role.`,
    );
    t.keys('Enter');
    for (const section of ['EKS node role', 'OIDC identity provider', 'S3 policy', 'Flyte backend']) {
      await t.answer(new RegExp(`^\\? Create the ${section}`));
    }
    await t.waitFor(/^\? Add a project with its own role\?/);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    const end = t.screen().replace(/\s+/g, ' ');
    expect(end).toContain('The answers so far are saved in flyte-aws-setup.yaml, marked incomplete');
    // A command that does not fit goes on with " \".
    expect(end).toMatch(/Undo: npx flyte-aws-setup destroy --config (\\ )?flyte-aws-setup\.yaml/);
    expect(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8')).toContain('# INCOMPLETE');
    expectFits(t, 60, [issuer, ACCOUNT, 'moto']);
  });
});
