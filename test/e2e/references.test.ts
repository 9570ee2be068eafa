/**
 * What the config names is looked up while planning, before the first write: the bucket, a warning in the plan,
 * the run and verify when it is missing or elsewhere. And one standard: a finding has the same severity in all
 * three.
 */
import { AttachRolePolicyCommand, DetachRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/aws/clients.js';
import { POLICY_ARN, clients, createBucket, createCluster } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { motoSkipReason, startMoto, type Moto } from '../helpers/moto.js';

const skip = motoSkipReason();

const BASE = 'region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nvpcDns: off\n';

function count(calls: CallRecord[], operation: string): number {
  return calls.filter((c) => c.operation === operation).length;
}

describe.skipIf(skip !== undefined)('what the config names is looked up before the first write', () => {
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
      expect((await runCli(['--config', file, '--yes'], { endpoint: moto.url })).code).toBe(0);
      const verify = await runCli(['verify', '--config', file], { endpoint: moto.url });
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain(`    warning bucket acme-flyte-data: ${message}`);
      expect(verify.stdout).toContain('Verify passed with 1 warning(s)');
    });

    it('one standard: a broad policy attached by hand is the same error in the plan, the run and verify', async () => {
      const file = writeConfig(BASE);
      const apply = (args: string[]) => runCli(['--config', file, ...args], { endpoint: moto.url });
      expect((await apply(['--yes'])).code).toBe(0);
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

      const mend = await apply(['--yes']);
      expect(mend.code).toBe(0);
      expect(mend.stdout).toContain(`    error: ${problem}; fix: aws iam detach-role-policy`);
      expect(mend.stdout.trimEnd().split('\n')).toContain(
        'Setup complete, with 1 error: 1 change(s) made; AWS matches the config; the error above is left as it is ' +
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

    const applied = await runCli(['--config', file, '--yes'], { endpoint: moto.url });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('! S3 policy for the Flyte bucket: created');
    expect(applied.stdout).toContain(`    warning: ${message}`);
    expect(applied.stdout).toContain('Setup complete, with 1 warning: ');

    const verify = await runCli(['verify', '--config', file], { endpoint: moto.url });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`    warning bucket acme-flyte-data: ${message}`);
    expect(verify.stdout).toContain('Verify passed with 1 warning(s)');
  });
});
