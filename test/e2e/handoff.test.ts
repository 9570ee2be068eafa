/**
 * The hand-off end to end: after `apply`, and with `outputs`, the built CLI writes files that parse as YAML and
 * carry the ARNs read back from AWS (the emulator), keeps files that differ unless forced, and changes nothing in
 * AWS.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createCluster, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

// A path, so that the ARNs the files carry are the ones AWS reports (with the path), not names.
const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
path: /flyte/
projectRoles:
  - project: fraud
    domains: [development, production]
`;

type Values = Record<string, any>;

function read(dir: string, path: string): Values {
  return parse(readFileSync(join(dir, path), 'utf8')) as Values;
}

describe.skipIf(skip !== undefined)('hand-off files against the emulator', () => {
  let moto: Moto;
  let configFile: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    configFile = writeConfig(CONFIG);
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
  });

  const cli = (args: string[], cwd?: string) => runCli(args, { endpoint: moto.url, ...(cwd ? { cwd } : {}) });

  it('a complete apply writes them with the ARNs AWS holds; outputs rewrites nothing and changes nothing in AWS', async () => {
    const work = mkdtempSync(join(tmpdir(), 'fas-work-'));
    const apply = await cli(['--config', configFile, '--yes', '--approve-broadening'], work);
    expect(apply.code).toBe(0);
    const dir = join(work, 'flyte-aws-setup-out');

    const system = (await readRole(moto.url, 'flyte-system-role'))!.arn;
    const workers = (await readRole(moto.url, 'flyte-workers-role'))!.arn;
    const fraud = (await readRole(moto.url, 'flyte-fraud-role'))!.arn;
    expect(system).toMatch(/:role\/flyte\/flyte-system-role$/);

    const binary = read(dir, 'flyte-binary-values.yaml');
    expect(binary.serviceAccount.annotations['eks.amazonaws.com/role-arn']).toBe(system);
    expect(binary.serviceAccount.name).toBe('flyte-backend-flyte-binary');
    const customData = binary.configuration.inline.cluster_resources.customData as Values[];
    expect(customData.map((d) => Object.values(d)[0][0].defaultIamRole.value)).toEqual([workers, workers, workers]);
    expect(binary.configuration.storage.metadataContainer).toBe('acme-flyte-data');
    expect(binary.configuration.storage.providerConfig.s3).toEqual({ region: 'eu-west-1', authType: 'iam' });
    expect(binary.clusterResourceTemplates.inline['002_serviceaccount.yaml']).toContain(
      "eks.amazonaws.com/role-arn: '{{ defaultIamRole }}'",
    );

    // The values of the target's chart only (flyte-binary, the default).
    expect(existsSync(join(dir, 'flyte-core-values.yaml'))).toBe(false);

    for (const domain of ['development', 'production']) {
      expect(read(dir, `cluster-resource-attributes/fraud-${domain}.yaml`)).toEqual({
        domain,
        project: 'fraud',
        attributes: { defaultIamRole: fraud },
      });
    }
    const script = readFileSync(join(dir, 'cluster-resource-attributes.sh'), 'utf8');
    expect(script).toContain(
      'flytectl update cluster-resource-attribute --attrFile cluster-resource-attributes/fraud-production.yaml --force',
    );
    expect(script).toContain('REPLACES ALL');

    const accounts = parseAllDocuments(readFileSync(join(dir, 'service-accounts.yaml'), 'utf8')).map(
      (d) => d.toJS() as Values,
    );
    expect(accounts.map((a) => [a.metadata.namespace, a.metadata.annotations['eks.amazonaws.com/role-arn']])).toEqual([
      ['flyte', system],
      ['fraud-development', fraud],
      ['fraud-production', fraud],
    ]);
    expect(read(dir, 'workers-service-account.yaml').metadata.annotations['eks.amazonaws.com/role-arn']).toBe(workers);

    // Where the files are, and what to run next.
    expect(apply.stdout).toContain('written   flyte-aws-setup-out/flyte-binary-values.yaml');
    expect(apply.stdout).toContain(
      'helm install flyte-backend flyteorg/flyte-binary --version v1.16.8 --namespace flyte --create-namespace --values YOUR-VALUES.yaml --values flyte-aws-setup-out/flyte-binary-values.yaml',
    );
    expect(apply.stdout).toContain('sh flyte-aws-setup-out/cluster-resource-attributes.sh');

    const outputs = await cli(['outputs', '--config', configFile], work);
    expect(outputs.code).toBe(0);
    expect(outputs.mutating).toEqual([]);
    expect(outputs.stdout).toContain('unchanged flyte-aws-setup-out/flyte-binary-values.yaml');
    expect(outputs.stdout).not.toMatch(/^\s+written/m);
  });

  it('a file that differs is kept (exit 4) unless --force; Union gets uctl files with defaultUserRoleValue', async () => {
    expect((await cli(['--config', configFile, '--yes', '--approve-broadening'])).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    const first = await cli(['outputs', '--config', configFile, '--out-dir', dir]);
    expect(first.code).toBe(0);

    writeFileSync(join(dir, 'flyte-binary-values.yaml'), '# mine\n');
    const kept = await cli(['outputs', '--config', configFile, '--out-dir', dir]);
    expect(kept.code).toBe(4);
    expect(kept.stdout).toMatch(/KEPT\s+\S*flyte-binary-values\.yaml\s+differs from what flyte-aws-setup would write/);
    expect(readFileSync(join(dir, 'flyte-binary-values.yaml'), 'utf8')).toBe('# mine\n');
    // A run with --json says the same exit code in its document as the process exits with.
    const run = await cli(['--config', configFile, '--yes', '--approve-broadening', '--out-dir', dir, '--json']);
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'result', outcome: 'complete', exitCode: 4 });
    expect(run.stderr).toMatch(/KEPT\s+\S*flyte-binary-values\.yaml/);

    const forced = await cli(['outputs', '--config', configFile, '--out-dir', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/replaced\s+\S*flyte-binary-values\.yaml/);
    expect(read(dir, 'flyte-binary-values.yaml').serviceAccount.annotations['eks.amazonaws.com/role-arn']).toBe(
      (await readRole(moto.url, 'flyte-system-role'))!.arn,
    );

    const union = mkdtempSync(join(tmpdir(), 'fas-union-'));
    const u = await cli(['outputs', '--config', configFile, '--out-dir', union, '--flavor', 'union', '--json']);
    expect(u.code).toBe(0);
    const report = JSON.parse(u.stdout) as { kind: string; files: { path: string; outcome: string }[] };
    expect(report.kind).toBe('handoff');
    expect(report.files.every((f) => f.outcome === 'written')).toBe(true);
    expect(existsSync(join(union, 'flyte-binary-values.yaml'))).toBe(false);
    expect(read(union, 'cluster-resource-attributes/fraud-development.yaml').attributes).toEqual({
      defaultUserRoleValue: (await readRole(moto.url, 'flyte-fraud-role'))!.arn,
    });
    expect(readFileSync(join(union, 'cluster-resource-attributes.sh'), 'utf8')).toContain(
      'uctl update cluster-resource-attribute --attrFile',
    );
  });

  it('after a config change it replaces the files it wrote and nobody changed, and keeps an edited one (exit 4)', async () => {
    expect((await cli(['--config', configFile, '--yes', '--approve-broadening'])).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    expect((await cli(['outputs', '--config', configFile, '--out-dir', dir])).code).toBe(0);
    writeFileSync(join(dir, 'service-accounts.yaml'), '# mine\n');
    // Another namespace: the values, the service accounts and the workers' manifest all change.
    const moved = writeConfig(`${CONFIG}namespace: flyte-prod\n`);
    expect((await cli(['--config', moved, '--yes', '--approve-broadening'])).code).toBe(0);
    const again = await cli(['outputs', '--config', moved, '--out-dir', dir]);
    expect(again.code).toBe(4);
    expect(again.stdout).toMatch(/replaced\s+\S*flyte-binary-values\.yaml/);
    expect(again.stdout).toMatch(/KEPT\s+\S*service-accounts\.yaml/);
    expect(again.stdout).not.toMatch(/KEPT\s+\S*flyte-binary-values\.yaml/);
    expect(read(dir, 'flyte-binary-values.yaml').serviceAccount.name).toBe('flyte-backend-flyte-binary');
    expect(readFileSync(join(dir, 'flyte-binary-values.yaml'), 'utf8')).toContain('--namespace flyte-prod');
  });

  it('target flyte-core: the backend role trusts its three components, and only its values are written', async () => {
    const core = writeConfig(`${CONFIG}target: flyte-core\n`);
    const work = mkdtempSync(join(tmpdir(), 'fas-work-'));
    const apply = await cli(['--config', core, '--yes', '--approve-broadening'], work);
    expect(apply.code).toBe(0);
    const role = (await readRole(moto.url, 'flyte-system-role'))!;
    expect(JSON.stringify(role.trust)).toContain('system:serviceaccount:flyte:flytepropeller');
    const dir = join(work, 'flyte-aws-setup-out');
    expect(existsSync(join(dir, 'flyte-binary-values.yaml'))).toBe(false);
    const values = read(dir, 'flyte-core-values.yaml');
    expect(values.datacatalog.serviceAccount.annotations['eks.amazonaws.com/role-arn']).toBe(role.arn);
    expect(apply.stdout).toContain('helm install flyte flyteorg/flyte-core --version v1.16.8 --namespace flyte');
  });

  it('without the roles nothing is written: outputs exits 1 naming them; an apply waiting for the cluster says why', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fas-out-')), 'out');
    const none = await cli(['outputs', '--config', configFile, '--out-dir', dir]);
    expect(none.code).toBe(1);
    expect(none.mutating).toEqual([]);
    expect(none.stdout).toContain('Hand-off files not written');
    expect(none.stdout).toMatch(/role flyte-system-role \(systemRole\): it does not exist yet/);
    expect(existsSync(dir)).toBe(false);

    const waiting = writeConfig(CONFIG.replace('cluster: acme-ml', 'cluster: not-yet'));
    const apply = await cli(['--config', waiting, '--yes', '--approve-broadening', '--out-dir', dir]);
    expect(apply.code).toBe(3);
    expect(apply.stdout).toContain('Hand-off files not written: OIDC identity provider');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('hand-off flags checked before AWS', () => {
  const configFile = writeConfig(CONFIG);
  const cli = (args: string[]) => runCli(args, { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });

  it('bad --flavor or --out-dir: exit 2 naming the flag, before any AWS call', async () => {
    const flavor = await cli(['outputs', '--config', configFile, '--flavor', 'kubeflow']);
    expect(flavor.code).toBe(2);
    expect(flavor.stderr).toMatch(/--flavor.*'kubeflow' is invalid\. Allowed choices are flyte, union/);
    // A flavor that contradicts the config's target.
    const flyte2 = writeConfig(CONFIG.replace(/projectRoles:[\s\S]*$/, 'target: flyte2\n'));
    for (const args of [
      ['outputs', '--config', flyte2, '--flavor', 'union'],
      ['--config', flyte2, '--yes', '--approve-broadening', '--flavor', 'union'],
    ]) {
      const run = await cli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--flavor union writes Union's hand-off files, but the config's target is flyte2");
      expect(run.calls).toEqual([]);
    }
    const file = writeConfig('x');
    for (const args of [
      ['outputs', '--config', configFile],
      ['--config', configFile, '--yes', '--approve-broadening'],
    ]) {
      const run = await cli([...args, '--out-dir', file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--out-dir ${file} is a file, not a directory`);
      expect(run.calls).toEqual([]);
      // A directory that cannot be made under a file is found before AWS too.
      const below = await cli([...args, '--out-dir', `${file}/out`]);
      expect(below.code).toBe(2);
      expect(below.stderr).toContain(`--out-dir ${file}/out: ${file} is a file`);
      expect(below.calls).toEqual([]);
    }
  });
});
