/**
 * What the config names is looked up while planning, before the first write: the extra policies, the permissions
 * boundary, Union's role, the cluster and the bucket. A missing reference is bad input (exit 2) with not one
 * mutating call; a cluster name close to one of the region's is taken for a typo; the bucket is a warning in the
 * plan, the run and verify. And one standard: a finding has the same severity in all three.
 */
import { AttachRolePolicyCommand, DetachRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/aws/clients.js';
import { ACCOUNT, POLICY_ARN, clients, createBucket, createCluster, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { motoSkipReason, startMoto, type Moto } from '../helpers/moto.js';

const skip = motoSkipReason();

const BASE = 'region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nvpcDns: off\n';
const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';

function count(calls: CallRecord[], operation: string): number {
  return calls.filter((c) => c.operation === operation).length;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe.skipIf(skip !== undefined)('references are looked up before the first write', () => {
  let moto: Moto;

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
  });

  const run = (config: string, args: string[]) =>
    runCli(['--config', writeConfig(config), ...args], { endpoint: moto.url });

  describe('with the cluster and the bucket there', () => {
    beforeEach(async () => {
      await createCluster(moto.url, 'acme-ml');
      await createBucket(moto.url, 'acme-flyte-data');
    });

    it('a mistyped extraPolicies ARN: exit 2 before any write, naming the key, with a did-you-mean', async () => {
      const config =
        `${BASE}projectRoles:\n  - project: fraud\n    extraPolicies:\n` +
        '      - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\n' +
        '      - arn:aws:iam::aws:policy/AmazonAthenaFullAcess\n';
      const r = await run(config, ['--yes', '--approve-broadening']);
      expect(r.code).toBe(2);
      expect(r.mutating).toEqual([]);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        'line 9, column 9: projectRoles[0].extraPolicies[1]: the AWS managed policy ' +
          'arn:aws:iam::aws:policy/AmazonAthenaFullAcess does not exist: did you mean ' +
          `${ATHENA}?`,
      );
      expect(r.stderr).toContain('Nothing was changed in AWS.');
      // Each policy read once (the custom policy by the plan, the two extra ones by the look-up); the AWS managed
      // policies are listed only because one is missing.
      expect(count(r.calls, 'GetPolicy')).toBe(3);
      expect(count(r.calls, 'ListPolicies')).toBeGreaterThan(0);
      expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();

      // A dry run stops the same way; --json gives the problem with its key path.
      const dry = await run(config, ['--dry-run', '--json']);
      expect(dry.code).toBe(2);
      expect(dry.mutating).toEqual([]);
      const doc = JSON.parse(dry.stdout) as { kind: string; problems: { path: unknown[]; text: string }[] };
      expect(doc.kind).toBe('error');
      expect(doc.problems.map((p) => p.path)).toEqual([['projectRoles', 0, 'extraPolicies', 1]]);

      // Fixed, the same config is planned without listing the AWS managed policies.
      const fixed = await run(config.replace('AmazonAthenaFullAcess', 'AmazonAthenaFullAccess'), ['--dry-run']);
      expect(fixed.code).toBe(0);
      expect(count(fixed.calls, 'ListPolicies')).toBe(0);
    });

    it('a permissions boundary that does not exist: exit 2, nothing created', async () => {
      const boundary = `arn:aws:iam::${ACCOUNT}:policy/flyte-boundary`;
      const r = await run(`${BASE}permissionsBoundary: ${boundary}\n`, ['--yes', '--approve-broadening']);
      expect(r.code).toBe(2);
      expect(r.mutating).toEqual([]);
      expect(r.stderr).toContain(`line 5, column 1: permissionsBoundary: the policy ${boundary} does not exist`);
      expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();
    });

    it("Union's role that does not exist: exit 2, nothing created, the role read once", async () => {
      const r = await run(`${BASE}globalAccess: { role: acme-userflyterol }\n`, ['--yes', '--approve-broadening']);
      expect(r.code).toBe(2);
      expect(r.mutating).toEqual([]);
      expect(r.stderr).toContain(
        'globalAccess.role: the role acme-userflyterol does not exist in account 123456789012; this section only ' +
          'attaches the policy to a role that exists (it never creates it)',
      );
      expect(await readRole(moto.url, 'flyte-workers-role')).toBeUndefined();
      // Five roles of the tool's and Union's, each read once: the plan's read of Union's role answers the look-up.
      // (A dry run reads every role; a run that applies skips the tool's roles that ListRoles lacks.)
      const dry = await run(`${BASE}globalAccess: { role: acme-userflyterol }\n`, ['--dry-run']);
      expect(dry.code).toBe(2);
      expect(count(dry.calls, 'GetRole')).toBe(5);
      expect(count(r.calls, 'GetRole')).toBeGreaterThanOrEqual(1);
      expect(count(r.calls, 'GetRole')).toBeLessThanOrEqual(5);
    });

    it('a bucket in another region: a warning in the plan and in verify', async () => {
      await moto.reset();
      await createCluster(moto.url, 'acme-ml');
      await createBucket(moto.url, 'acme-flyte-data', 'us-east-1');
      const message =
        "Flyte cannot work as configured: the bucket acme-flyte-data is in us-east-1, the config's region is eu-west-1";
      const dry = await run(BASE, ['--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`   [!] bucket acme-flyte-data\n       warning: ${message}`);

      const file = writeConfig(BASE);
      expect((await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url })).code).toBe(0);
      const verify = await runCli(['verify', '--config', file], { endpoint: moto.url });
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain(`    warning bucket acme-flyte-data: ${message}`);
      expect(verify.stdout).toContain('Verify passed with 1 warning(s)');
    });

    it('one standard: a broad policy attached by hand is the same error in the plan, the run and verify', async () => {
      const file = writeConfig(BASE);
      const apply = (args: string[]) => runCli(['--config', file, ...args], { endpoint: moto.url });
      expect((await apply(['--yes', '--approve-broadening'])).code).toBe(0);
      const { iam } = clients(moto.url);
      const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyArn: S3_FULL }));
      // Something for the run to mend, so that it has a summary.
      await iam.send(new DetachRolePolicyCommand({ RoleName: 'flyte-workers-role', PolicyArn: POLICY_ARN }));
      const problem =
        'has AmazonS3FullAccess attached where the scoped policy flyte-custom-policy belongs: it grants every S3 ' +
        'bucket of the account';

      const plan = await apply(['--dry-run']);
      expect(plan.stdout).toContain(`   [!] role flyte-system-role\n       error: ${problem}`);
      expect(plan.stdout).toContain('This run leaves 1 error as it is; its fix is above.');

      const mend = await apply(['--yes', '--approve-broadening']);
      expect(mend.code).toBe(0);
      expect(mend.stdout).toContain(`    error: ${problem}; fix: aws iam detach-role-policy`);
      expect(mend.stdout.trimEnd().split('\n')).toContain(
        'Setup complete, with 1 error: 1 resource changed; AWS matches the config; the error above is left as it is ' +
          '(verify fails until the error is fixed).',
      );

      const verify = await runCli(['verify', '--config', file, '--json'], { endpoint: moto.url });
      expect(verify.code).toBe(1);
      const report = JSON.parse(verify.stdout) as {
        summary: { errors: number; warnings: number };
        sections: { findings: { code: string; severity: string; problem: string }[] }[];
      };
      expect(report.summary).toEqual({ errors: 1, warnings: 0 });
      expect(report.sections.flatMap((s) => s.findings)).toEqual([
        expect.objectContaining({ code: 'broad-policy', severity: 'error', problem }),
      ]);
    });
  });

  it('a bucket that does not exist: a warning in the plan, the run and verify, not a silent pass', async () => {
    await createCluster(moto.url, 'acme-ml');
    const file = writeConfig(BASE);
    const message = 'Flyte cannot work: the bucket acme-flyte-data does not exist (looked up from eu-west-1)';
    const dry = await runCli(['--config', file, '--dry-run'], { endpoint: moto.url });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`   [!] bucket acme-flyte-data\n       warning: ${message}`);
    expect(count(dry.calls, 'GetBucketLocation')).toBe(1);

    const applied = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('! S3 policy for the Flyte bucket: created');
    expect(applied.stdout).toContain(`    warning: ${message}`);
    expect(applied.stdout).toContain('Setup complete, with 1 warning: ');

    const verify = await runCli(['verify', '--config', file], { endpoint: moto.url });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`    warning bucket acme-flyte-data: ${message}`);
    expect(verify.stdout).toContain('Verify passed with 1 warning(s)');
  });

  it('a mistyped cluster name beside another cluster: exit 2 with a did-you-mean, and no create-cluster advice', async () => {
    await createCluster(moto.url, 'acme-m1');
    await createCluster(moto.url, 'data-eng');
    const r = await run(BASE, ['--yes', '--approve-broadening']);
    expect(r.code).toBe(2);
    expect(r.mutating).toEqual([]);
    expect(r.stderr).toContain(
      'line 2, column 1: cluster: no EKS cluster acme-ml in eu-west-1; the region has acme-m1, data-eng: did you ' +
        'mean acme-m1? (or is it in another region? --region)',
    );
    expect(r.stdout + r.stderr).not.toContain('create-cluster');
    expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();
  });

  it('a cluster the region does not have, beside others not alike: the waiting plan names them, once', async () => {
    await createCluster(moto.url, 'data-eng');
    const dry = await run(BASE, ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('cluster acme-ml (not found)');
    const reason =
      'no EKS cluster acme-ml in eu-west-1; the region has data-eng (or is acme-ml in another region? --region)';
    expect(occurrences(dry.stdout, reason)).toBe(1);
    expect(occurrences(dry.stdout, 'to do: if acme-ml is a new cluster, create it with the cluster role')).toBe(1);

    // With no cluster in the region at all it is not created yet: the waiting plan as before, said once too.
    await moto.reset();
    const run2 = await run(BASE, ['--yes', '--approve-broadening']);
    expect(run2.code).toBe(3);
    expect(occurrences(run2.stdout, 'the EKS cluster acme-ml does not exist yet in eu-west-1')).toBe(1);
    expect(occurrences(run2.stdout, 'aws eks create-cluster')).toBe(1);
  });
});
