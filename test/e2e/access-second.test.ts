/**
 * The bucket's own policy and IAM's second opinion in the access check, end to end: the built CLI's `verify` against
 * a set-up account in the emulator. A bucket policy that denies s3:PutObject to the workers role makes `verify` exit
 * 1 naming the identity and the action; removed, 0. moto_server has no IAM simulator: without one the second opinion
 * is said not made; with a stand-in in front of moto answering SimulatePrincipalPolicy from the test's table, it is
 * made, agrees, or differs (a warning).
 */
import { DeleteBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients, createBucket, createCluster, createVpc, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startSimulatorStandIn, type SimulatedDecision, type SimulatorStandIn } from '../helpers/simulator-stand-in.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
`;
const BUCKET = 'arn:aws:s3:::acme-flyte-data';

interface Finding {
  code: string;
  severity: string;
  resource: string;
  problem: string;
}
interface VerifyJson {
  ok: boolean;
  sections: { findings: Finding[] }[];
  access: {
    notChecked: string[];
    identities: {
      id: string;
      roleName: string;
      cells: { capability: string; state: string; statements: unknown[] }[];
    }[];
    secondOpinion?: {
      state: string;
      reason?: string;
      roles: { roleName: string; state: string; compared: number }[];
      disagreements: { roleName: string; action: string; evaluator: string; iam: string }[];
    };
  };
}

/** IAM's answers for the tool's own documents: the bucket listed, its objects read and written, nothing beyond. */
function asIamWould(_principal: string, action: string, resource: string): SimulatedDecision {
  if (action === 's3:ListBucket' && resource === BUCKET) return 'allowed';
  if (['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].includes(action) && resource.startsWith(`${BUCKET}/`)) {
    return 'allowed';
  }
  return 'implicitDeny';
}

describe.skipIf(skip !== undefined)("the bucket policy and IAM's second opinion against the emulator", () => {
  let moto: Moto;
  let standIn: SimulatorStandIn;
  let configFile: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    standIn = await startSimulatorStandIn(moto.url);
    configFile = writeConfig(CONFIG);
    const vpc = await createVpc(moto.url, { hostnames: true, support: true });
    await createCluster(moto.url, 'acme-ml', 'eu-west-1', vpc.subnetIds);
    await createBucket(moto.url, 'acme-flyte-data');
    const apply = await runCli(['--config', configFile, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(apply.code).toBe(0);
  });
  afterAll(async () => {
    await standIn?.stop();
    await moto?.stop();
  });

  const verify = async (endpoint: string, ...args: string[]) => {
    const run = await runCli(['verify', '--config', configFile, '--json', ...args], { endpoint });
    expect(run.mutating).toEqual([]);
    const report = JSON.parse(run.stdout) as VerifyJson;
    return { run, report, findings: report.sections.flatMap((s) => s.findings) };
  };

  it('a bucket policy denying s3:PutObject to the workers role: exit 1 naming the identity, the action and the statement; removed, exit 0', async () => {
    const fresh = await verify(moto.url);
    expect(fresh.run.code).toBe(0);
    // There is no bucket policy: nothing about it is left unchecked.
    expect(fresh.report.access.notChecked.join(' ')).not.toContain("bucket's own policy");

    const workers = (await readRole(moto.url, 'flyte-workers-role'))!.arn;
    const { s3 } = clients(moto.url);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'acme-flyte-data',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'NoWorkerWrites',
              Effect: 'Deny',
              Principal: { AWS: workers },
              Action: 's3:PutObject',
              Resource: `${BUCKET}/*`,
            },
          ],
        }),
      }),
    );
    const denied = await verify(moto.url);
    expect(denied.run.code).toBe(1);
    const errors = denied.findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => [f.code, f.resource])).toEqual([['access-denied', 'role flyte-workers-role']]);
    expect(errors[0]!.problem).toContain('*/default cannot s3:PutObject under s3://acme-flyte-data/');
    expect(errors[0]!.problem).toContain('refused by the Deny statement bucket policy NoWorkerWrites');
    const text = await runCli(['verify', '--config', configFile], { endpoint: moto.url });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/\*\/default\s+flyte-workers-role\s+✓\s+✓\s+✓\s+✓\s+✗/);

    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'acme-flyte-data' }));
    const mended = await verify(moto.url);
    expect(mended.run.code).toBe(0);
    expect(mended.findings.filter((f) => f.code === 'access-denied')).toEqual([]);
  });

  it('moto has no simulator: the second opinion is not made, and said so (text and JSON), never agreement', async () => {
    const { run, report } = await verify(moto.url);
    expect(run.code).toBe(0);
    expect(report.access.secondOpinion).toMatchObject({ state: 'not-made', disagreements: [] });
    expect(report.access.secondOpinion!.reason).toMatch(/SimulatePrincipalPolicy/);
    const text = await runCli(['verify', '--config', configFile], { endpoint: moto.url });
    expect(text.stdout).toMatch(/Second opinion \(IAM's simulator.*\): not made: .*SimulatePrincipalPolicy/);
    expect(text.stdout).not.toMatch(/Second opinion.*agrees/);
  });

  it('with a simulator: one call per role, agreement; a different answer is a warning naming the identity, the action and both answers; --no-second-opinion asks nothing', async () => {
    standIn.decide = asIamWould;
    standIn.calls.length = 0;
    const agree = await verify(standIn.url);
    expect(agree.run.code).toBe(0);
    const opinion = agree.report.access.secondOpinion!;
    expect(opinion.state).toBe('made');
    expect(opinion.disagreements).toEqual([]);
    expect(opinion.roles.map((r) => [r.roleName, r.state])).toEqual([
      ['flyte-system-role', 'made'],
      ['flyte-workers-role', 'made'],
    ]);
    expect(standIn.calls.map((c) => c.policySourceArn.replace(/.*:role\//, '')).sort()).toEqual([
      'flyte-system-role',
      'flyte-workers-role',
    ]);
    expect(standIn.calls[0]!.context).toContainEqual({ key: 'aws:SecureTransport', type: 'boolean', values: ['true'] });
    const text = await runCli(['verify', '--config', configFile], { endpoint: standIn.url });
    expect(text.stdout).toMatch(/Second opinion .*: agrees on all \d+ requests of 2 roles\./);

    standIn.decide = (p, action, resource) =>
      p.endsWith('/flyte-system-role') && action === 's3:DeleteObject'
        ? 'implicitDeny'
        : asIamWould(p, action, resource);
    const differ = await verify(standIn.url);
    // A warning: IAM's simulator is a second opinion, not the verdict.
    expect(differ.run.code).toBe(0);
    const warnings = differ.findings.filter((f) => f.code === 'second-opinion-differs');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((f) => f.severity === 'warning' && f.resource === 'role flyte-system-role')).toBe(true);
    expect(warnings[0]!.problem).toMatch(
      /^for flyte\/flyte-backend-flyte-binary, s3:DeleteObject on arn:aws:s3:::acme-flyte-data\/.*: the evaluator says allowed, IAM's simulator \(iam:SimulatePrincipalPolicy\) says implicitDeny$/,
    );

    standIn.calls.length = 0;
    const off = await verify(standIn.url, '--no-second-opinion');
    expect(off.run.code).toBe(0);
    expect(off.report.access.secondOpinion!.state).toBe('off');
    expect(standIn.calls).toEqual([]);
    standIn.decide = undefined;
  });
});
