/**
 * `flyte-aws-setup permissions` and the permission preflight of a run, end to end against a local AWS (moto).
 * moto does not implement iam:SimulatePrincipalPolicy, so a run shows the "could not check" path; what the check
 * does with IAM's answers is covered with mocks (test/unit/preflight.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/policy/document.js';
import { ACCOUNT, UNION_CONFIG, createCluster, createUnionRole, createVpc } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { DEFAULT_CONCURRENCY } from '../../src/util/concurrency.js';

const skip = motoSkipReason();

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function resourcesOf(doc: PolicyDocument, action: string): string[] {
  return doc.Statement.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource));
}

describe.skipIf(skip !== undefined)('permissions and the preflight against the emulator', () => {
  let moto: Moto;
  let host: string;
  let vpcId: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    const vpc = await createVpc(moto.url, { hostnames: false, support: true });
    vpcId = vpc.vpcId;
    host = (await createCluster(moto.url, 'acme-ml', 'eu-west-1', vpc.subnetIds)).replace('https://', '');
    await createUnionRole(moto.url);
  });
  afterAll(async () => moto?.stop());

  it('reads the account and prints a policy with the exact ARNs: issuer, cluster, VPC, the existing role', async () => {
    const r = await runCli(['permissions', '--config', writeConfig(UNION_CONFIG)], { endpoint: moto.url });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PolicyDocument;
    expect(resourcesOf(doc, 'iam:CreateOpenIDConnectProvider')).toEqual([
      `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`,
    ]);
    expect(resourcesOf(doc, 'eks:DescribeCluster')).toEqual([`arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-ml`]);
    expect(resourcesOf(doc, 'ec2:ModifyVpcAttribute')).toEqual([`arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/${vpcId}`]);
    expect(resourcesOf(doc, 'iam:AttachRolePolicy')).toContain(`arn:aws:iam::${ACCOUNT}:role/union/acme-userflyterole`);
    expect(resourcesOf(doc, 'iam:CreateRole')).not.toContain(`arn:aws:iam::${ACCOUNT}:role/union/acme-userflyterole`);
    expect(JSON.stringify(doc)).toContain(`arn:aws:iam::${ACCOUNT}:policy/userflyterole`);
    // Nothing guessed, so no wildcard notes; what is left out is said on stderr.
    expect(r.stderr).not.toMatch(/is not known|assumes the path/);
    expect(r.stderr).toContain('note: no iam:PassRole');
    // It only read.
    expect(r.mutating).toEqual([]);
    expect(new Set(r.calls.map((c) => c.operation))).toEqual(
      new Set(['GetCallerIdentity', 'DescribeCluster', 'DescribeSubnets', 'GetRole']),
    );
  });

  it('--for verify has only reads; --for destroy deletes what the tool made', async () => {
    const file = writeConfig(UNION_CONFIG);
    const verify = JSON.parse(
      (await runCli(['permissions', '--config', file, '--for', 'verify'], { endpoint: moto.url })).stdout,
    ) as PolicyDocument;
    // Reads, and IAM's simulator on the Flyte roles (an evaluation: it changes nothing).
    for (const a of verify.Statement.flatMap((s) => list(s.Action))) {
      expect(a).toMatch(/:(Get|List|Describe)|^iam:SimulatePrincipalPolicy$/);
    }
    expect(resourcesOf(verify, 'iam:SimulatePrincipalPolicy')).toContain(
      `arn:aws:iam::${ACCOUNT}:role/union/acme-userflyterole`,
    );
    const destroy = JSON.parse(
      (await runCli(['permissions', '--config', file, '--for', 'destroy'], { endpoint: moto.url })).stdout,
    ) as PolicyDocument;
    expect(resourcesOf(destroy, 'iam:DeleteRole')).toContain(`arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role`);
    expect(resourcesOf(destroy, 'iam:DeleteRole')).not.toContain(
      `arn:aws:iam::${ACCOUNT}:role/union/acme-userflyterole`,
    );
  });

  it('a cluster that does not exist yet: the provider is scoped to the region, and it says so', async () => {
    const r = await runCli(['permissions', '--config', writeConfig(UNION_CONFIG.replace('acme-ml', 'later'))], {
      endpoint: moto.url,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('note: the cluster later does not exist yet');
    expect(r.stderr).toMatch(/provider is scoped to oidc.eks.eu-west-1.amazonaws.com\/id\/\*/);
    const doc = JSON.parse(r.stdout) as PolicyDocument;
    expect(resourcesOf(doc, 'iam:CreateOpenIDConnectProvider')).toEqual([
      `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/*`,
    ]);
  });

  it('a run says in one line that it could not check the permissions, and goes on', async () => {
    const file = writeConfig('region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nvpcDns: off\n');
    const r = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Permissions not checked: iam:SimulatePrincipalPolicy failed (HTTP 500); going on (--no-preflight skips this check).',
    );
    expect(r.stdout).toContain('Setup complete');
    const ops = r.calls.map((c) => c.operation);
    // Asked in one round (its calls at once, at most --concurrency of them), all before the first change.
    const asked = ops.flatMap((o, i) => (o === 'SimulatePrincipalPolicy' ? [i] : []));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.length).toBeLessThanOrEqual(DEFAULT_CONCURRENCY);
    expect(Math.max(...asked)).toBeLessThan(ops.indexOf(r.mutating[0]!.operation));
  });

  it('--no-preflight asks nothing; with --json the line goes to stderr and stdout stays JSON', async () => {
    const file = writeConfig('region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nnamespace: other\n');
    const skipped = await runCli(['--config', file, '--yes', '--approve-broadening', '--no-preflight'], {
      endpoint: moto.url,
    });
    expect(skipped.code).toBe(0);
    expect(skipped.calls.map((c) => c.operation)).not.toContain('SimulatePrincipalPolicy');
    expect(skipped.stdout).not.toContain('Permissions');

    const file2 = writeConfig('region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nnamespace: third\n');
    const json = await runCli(['--config', file2, '--yes', '--approve-broadening', '--json'], { endpoint: moto.url });
    expect(json.code).toBe(0);
    expect(json.stderr).toContain('Permissions not checked');
    expect((JSON.parse(json.stdout) as { kind: string }).kind).toBe('result');
  });
});

describe('permissions without AWS', () => {
  it('--offline builds it from the config (accountId, region) without any call', async () => {
    const file = writeConfig(`accountId: "111122223333"\n${UNION_CONFIG}`);
    const r = await runCli(['permissions', '--config', file, '--offline'], {
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([]);
    const doc = JSON.parse(r.stdout) as PolicyDocument;
    expect(resourcesOf(doc, 'eks:DescribeCluster')).toEqual(['arn:aws:eks:eu-west-1:111122223333:cluster/acme-ml']);
    expect(r.stderr).toMatch(/OIDC issuer is not known/);
  });

  it('--offline without accountId, and a bad --for, are bad input (exit 2) with no call', async () => {
    const r = await runCli(['permissions', '--config', writeConfig(UNION_CONFIG), '--offline'], {
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --offline needs the account ID');
    expect(r.calls).toEqual([]);
    const bad = await runCli(['permissions', '--config', writeConfig(UNION_CONFIG), '--for', 'plan'], {
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument 'plan' is invalid. Allowed choices are apply, verify, destroy/);
    expect(bad.calls).toEqual([]);
  });
});
