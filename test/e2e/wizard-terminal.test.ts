/**
 * The wizard as an operator meets it: the built binary in a real pseudo-terminal (tmux) against a local AWS
 * (moto), keys typed as a person would, IAM and the saved config read back afterwards.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACCOUNT, createBucket, createCluster, readRole } from '../helpers/aws.js';
import { runCli } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { Terminal, tmuxSkipReason } from '../helpers/terminal.js';

const skip = motoSkipReason() ?? tmuxSkipReason();

describe.skipIf(skip !== undefined)('the wizard in a terminal', () => {
  let moto: Moto;
  let cwd: string;
  let terminal: Terminal | undefined;

  beforeAll(async () => {
    moto = await acquireMoto();
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    cwd = mkdtempSync(join(tmpdir(), 'fas-tty-cwd-'));
  });
  afterEach(() => {
    terminal?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const start = (args: string[] = []) => {
    terminal = Terminal.start(args, { endpoint: moto.url, cwd, env: { AWS_REGION: 'eu-west-1' } });
    return terminal;
  };

  it('Enter through every question (a bucket typed, a project added): the setup, saved, repeatable', async () => {
    const issuer = await createCluster(moto.url, 'acme-ml', 'eu-west-1', [], 'flyte-eks-cluster-role');
    await createBucket(moto.url, 'acme-flyte-data');
    const t = start();
    const account = await t.waitFor(/^\? Set up Flyte in this account and region\?/);
    expect(account).toMatch(new RegExp(`Account +${ACCOUNT}`));
    expect(account).toMatch(/Caller +arn:aws:sts::123456789012:/);
    expect(account).toMatch(/Partition +aws/);
    expect(account).toMatch(/Region +eu-west-1/);
    t.keys('Enter');
    await t.answer(/^\? EKS cluster for Flyte \(in eu-west-1\)/);
    await t.answer(/^\? Which will install Flyte/);
    await t.answer(/^\? How do Flyte's pods get their AWS roles/);
    await t.answer(/^\? S3 bucket for Flyte/, 'acme-flyte-data');
    await t.answer(/^\? Kubernetes namespace of the Flyte backend/);
    await t.answer(/^\? Use these names for the roles and the policy\?/);
    await t.answer(/^\? Tags/);
    await t.answer(/^\? Permissions boundary/);
    for (const section of [
      'EKS cluster role',
      'EKS node role',
      'OIDC identity provider',
      'S3 policy for the Flyte bucket',
      'Flyte backend role',
    ]) {
      await t.answer(new RegExp(`^\\? Create the ${section}\\?`));
      await t.waitFor(new RegExp(`^✓ ${section}: created  arn:aws:iam::${ACCOUNT}:`));
    }
    await t.answer(/^\? Add a project with its own role\?/, 'y');
    await t.answer(/^\? Project name/, 'fraud');
    await t.answer(/^\? Domains of fraud/);
    await t.answer(/^\? Extra managed policy ARNs for flyte-fraud-role/);
    await t.answer(/^\? Add another project\?/);
    await t.waitFor(/Suggested: every namespace/);
    await t.answer(/^\? The workers role trusts/);
    // A change that broadens access (every namespace's default service account): Enter would decline it.
    await t.answer(/^\? Create the Flyte workers role\? \(y\/N\)/, 'y');
    await t.answer(/^\? Create the project-domain roles\?/);
    await t.answer(/^\? Save the config as/);
    await t.waitFor(/^Config saved: flyte-aws-setup\.yaml/);
    expect(await t.exitCode()).toBe(0);
    const screen = t.screen();
    expect(screen).toContain('npx flyte-aws-setup --config flyte-aws-setup.yaml --yes');
    expect(screen).toMatch(
      /helm install flyte-backend flyteorg\/flyte-binary --version v1\.16\.8 --namespace flyte .*flyte-binary-values\.yaml/,
    );
    expect(screen).not.toContain('fakeSecretKeyDoNotPrint');

    const host = issuer.replace('https://', '');
    const workers = await readRole(moto.url, 'flyte-workers-role');
    expect(workers!.trust.Statement[0]!.Condition!.StringLike).toEqual({
      [`${host}:sub`]: 'system:serviceaccount:*:default',
    });
    const fraud = await readRole(moto.url, 'flyte-fraud-role');
    expect(fraud!.attached).toEqual([`arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`]);
    expect(await readRole(moto.url, 'flyte-eks-node-role')).toBeDefined();

    const file = join(cwd, 'flyte-aws-setup.yaml');
    expect(parse(readFileSync(file, 'utf8'))).toMatchObject({
      region: 'eu-west-1',
      accountId: ACCOUNT,
      cluster: 'acme-ml',
      bucket: 'acme-flyte-data',
      workersRole: { allNamespaces: true },
      projectRoles: [{ project: 'fraud', domains: ['development', 'staging', 'production'] }],
    });
    const again = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(again.code).toBe(0);
    expect(again.mutating).toEqual([]);
    // The seven resources of the setup, and the bucket it looked up.
    expect(again.stdout).toContain('Everything is up to date (8 resource(s) checked)');
  });

  it('a wrong answer shows why and is asked again; Ctrl-C at a question exits 130 with nothing written', async () => {
    await createCluster(moto.url, 'acme-ml');
    const t = start();
    await t.answer(/^\? Set up Flyte in this account and region\?/);
    await t.answer(/^\? EKS cluster for Flyte/);
    await t.answer(/^\? Which will install Flyte/);
    await t.answer(/^\? How do Flyte's pods get their AWS roles/);
    await t.answer(/^\? S3 bucket for Flyte/, 'Bad_Bucket');
    await t.waitFor(
      /^> may only hold lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit \(got "Bad_Bucket"\)/,
    );
    t.keys('C-u');
    t.type('acme-flyte-data');
    t.keys('Enter');
    const screen = await t.waitFor(/^\? Kubernetes namespace of the Flyte backend/);
    expect(screen).toMatch(/^✔ S3 bucket for Flyte acme-flyte-data$/m);
    expect(screen).not.toContain('> may only hold');
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    const end = t.screen();
    expect(end).toContain('Interrupted.');
    expect(end).toContain('Before the interrupt, nothing was changed in AWS.');
    expect(end).toContain('No config file was written.');
    expect(readdirSync(cwd)).toEqual([]);
    expect(t.calls().filter((c) => c.mutating)).toEqual([]);
  });

  it('Ctrl-C while waiting for the cluster: says what was applied, the config saved before the wait is whole', async () => {
    const t = start(['--bucket', 'acme-flyte-data']);
    await t.answer(/^\? Set up Flyte in this account and region\?/);
    await t.answer(/^\? Name of the EKS cluster you will create/, 'later-ml');
    await t.answer(/^\? Which will install Flyte/);
    await t.answer(/^\? How do Flyte's pods get their AWS roles/);
    await t.answer(/^\? Kubernetes namespace of the Flyte backend/);
    await t.answer(/^\? Use these names for the roles and the policy\?/);
    await t.answer(/^\? Tags/);
    await t.answer(/^\? Permissions boundary/);
    await t.answer(/^\? Create the EKS cluster role\?/);
    await t.answer(/^\? Create the EKS node role\?/);
    const screen = await t.waitFor(/^\? Wait for the cluster\?/);
    expect(screen).toContain(
      `aws eks create-cluster --name later-ml --region eu-west-1 --role-arn arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`,
    );
    t.keys('Enter');
    await t.answer(/^\? Save the config as/);
    await t.waitFor(/Waiting for the EKS cluster later-ml to become ACTIVE/);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    const end = t.screen();
    expect(end).toContain('Ctrl-C: stopping after the AWS calls in flight');
    expect(end).toContain('Before the interrupt, these changes were made in AWS:');
    expect(end).toContain(`✓ EKS cluster role: created  arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`);
    expect(end).toContain('The config saved earlier is complete: flyte-aws-setup.yaml');
    expect(readdirSync(cwd)).toEqual(['flyte-aws-setup.yaml']);
    expect(parse(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8'))).toMatchObject({
      cluster: 'later-ml',
      bucket: 'acme-flyte-data',
      nodeRole: { name: 'flyte-eks-node-role' },
    });
  });
});
