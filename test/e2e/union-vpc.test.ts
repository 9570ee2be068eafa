/**
 * The cluster VPC's DNS check, Union's global access and the Union project-domain role, end to end: the built
 * CLI against a local AWS (moto), which serves EC2 too. The VPC is made with DNS hostnames off, as a VPC created
 * through the API is by default; the cluster sits on its subnets. The emulator is reset once (a reset reloads
 * every AWS managed policy, which takes seconds): a test that changes a VPC has a cluster and VPC of its own.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import {
  ACCOUNT,
  clients,
  createBucket,
  createCluster,
  createUserFlyteRolePolicy,
  createVpc,
  readRole,
  readVpcDns,
  POLICY_ARN,
} from '../helpers/aws.js';
import { FAKE_KEYS, runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();
const hasAwsCli = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;

const BASE = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
`;

describe.skipIf(skip !== undefined)('VPC DNS, global access and Union project roles against the emulator', () => {
  let moto: Moto;
  let vpcId: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    const vpc = await createVpc(moto.url, { hostnames: false, support: true });
    vpcId = vpc.vpcId;
    await createCluster(moto.url, 'acme-ml', 'eu-west-1', vpc.subnetIds);
    await createBucket(moto.url, 'acme-flyte-data');
  });
  afterAll(async () => moto?.stop());

  const run = (config: string, args: string[] = []) =>
    runCli(['--config', writeConfig(config), ...args], { endpoint: moto.url });

  /**
   * A cluster on a VPC of its own, and a config with only the VPC check for it (and, for `check`, the OIDC provider,
   * which the check needs beside it). The emulator gives every cluster the same issuer, so that provider is the
   * first cluster's, another setup's: `fix`, which changes AWS, goes without it.
   */
  async function ownCluster(name: string, dns: { hostnames: boolean; support: boolean }, vpcDns: string) {
    const vpc = await createVpc(moto.url, dns);
    await createCluster(moto.url, name, 'eu-west-1', vpc.subnetIds);
    const config =
      `region: eu-west-1\ncluster: ${name}\nbucket: acme-flyte-data\nvpcDns: ${vpcDns}\n` +
      `oidcProvider: ${vpcDns === 'fix' ? 'false' : 'true'}\n` +
      'clusterRole: false\nnodeRole: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n';
    return { vpcId: vpc.vpcId, config };
  }

  it('vpcDns: check reports DNS hostnames off with the fix, changes nothing there, and does not block the rest', async () => {
    const dry = await run(BASE, ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('9. Cluster VPC DNS  needs attention');
    expect(dry.stdout).toContain(`[!] VPC ${vpcId}`);
    // An error, as verify counts it (nodes cannot join), though the run leaves it as it is.
    expect(dry.stdout).toContain('error: enableDnsHostnames is off: nodes cannot register with the cluster');
    const fix = `aws ec2 modify-vpc-attribute --region eu-west-1 --vpc-id ${vpcId} --enable-dns-hostnames`;
    expect(dry.stdout).toContain(`fix: ${fix}`);
    expect(dry.stdout).toContain('This run leaves 1 error as it is; its fix is above.');
    // The cluster's subnets led to the VPC.
    expect(dry.calls.map((c) => c.operation)).toEqual(
      expect.arrayContaining(['DescribeSubnets', 'DescribeVpcAttribute']),
    );

    const applied = await run(BASE, ['--yes', '--approve-broadening']);
    expect(applied.code).toBe(0);
    expect(applied.mutating.filter((c) => c.service === 'ec2')).toEqual([]);
    expect(applied.stdout).toContain('Setup complete, with 1 error: ');
    expect(applied.stdout).toContain('! Cluster VPC DNS: needs attention');
    expect(await readVpcDns(moto.url, vpcId)).toEqual({ enableDnsSupport: true, enableDnsHostnames: false });
    expect(await readRole(moto.url, 'flyte-system-role')).toBeDefined();
  });

  it.skipIf(!hasAwsCli)('the printed fix is a working aws CLI command', async () => {
    const { vpcId, config } = await ownCluster('acme-cli', { hostnames: false, support: true }, 'check');
    const dry = await run(config, ['--dry-run']);
    const fix = /fix: (aws ec2 modify-vpc-attribute .*)/.exec(dry.stdout)![1]!;
    const result = spawnSync(fix.split(' ')[0]!, fix.split(' ').slice(1), {
      env: { ...process.env, AWS_ENDPOINT_URL: moto.url, ...FAKE_KEYS },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(await readVpcDns(moto.url, vpcId)).toEqual({ enableDnsSupport: true, enableDnsHostnames: true });
    const again = await run(config, ['--dry-run']);
    expect(again.stdout).toContain('9. Cluster VPC DNS  up to date');
    expect(again.stdout).toContain(`[=] VPC ${vpcId} up to date`);
  });

  it('vpcDns: fix turns on what is off, one ModifyVpcAttribute per attribute, then changes nothing', async () => {
    const world = await ownCluster('acme-fix', { hostnames: false, support: false }, 'fix');
    const config = world.config;

    const dry = await run(config, ['--dry-run']);
    expect(dry.stdout).toContain(`[~] VPC ${world.vpcId}`);
    expect(dry.stdout).toMatch(/~ enableDnsSupport off -> on\n\s+~ enableDnsHostnames off -> on/);

    const applied = await run(config, ['--yes', '--approve-broadening']);
    expect(applied.code).toBe(0);
    expect(applied.mutating.filter((c) => c.service === 'ec2').map((c) => c.operation)).toEqual([
      'ModifyVpcAttribute',
      'ModifyVpcAttribute',
    ]);
    expect(applied.stdout).toContain(`✓ Cluster VPC DNS: updated  arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/${world.vpcId}`);
    expect(await readVpcDns(moto.url, world.vpcId)).toEqual({ enableDnsSupport: true, enableDnsHostnames: true });

    const again = await run(config, ['--yes', '--approve-broadening', '--verbose']);
    expect(again.mutating).toEqual([]);
    expect(again.stdout).toContain(`[=] VPC ${world.vpcId} up to date`);
  });

  it('vpcDns: off reads no VPC', async () => {
    const r = await run(`${BASE}vpcDns: off\n`, ['--dry-run']);
    expect(r.calls.filter((c) => c.service === 'ec2')).toEqual([]);
    expect(r.stdout).toContain('9. Cluster VPC DNS  skipped (vpcDns: off)');
  });

  it('global access attaches the custom policy to the existing <prefix>-userflyterole and nothing else', async () => {
    const { iam } = clients(moto.url);
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'acme-userflyterole',
        Path: '/union/',
        AssumeRolePolicyDocument: trust,
        Tags: [{ Key: 'owner', Value: 'union' }],
      }),
    );
    const before = await readRole(moto.url, 'acme-userflyterole');
    const config = `${BASE}vpcDns: off\nglobalAccess: { role: acme-userflyterole }\n`;

    const dry = await run(config, ['--dry-run']);
    expect(dry.stdout).toContain('8. Union global access  change  (!) security');
    expect(dry.stdout).toContain('[~] existing role acme-userflyterole');
    expect(dry.stdout).toContain(`+ attach ${POLICY_ARN}`);
    expect(dry.stdout).toContain('(!) attaches flyte-custom-policy: every task that runs as this role gets it');

    const applied = await run(config, ['--yes', '--approve-broadening']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(
      `✓ Union global access: updated  arn:aws:iam::${ACCOUNT}:role/union/acme-userflyterole`,
    );
    const after = await readRole(moto.url, 'acme-userflyterole');
    expect(after!.attached).toEqual([POLICY_ARN]);
    // Never retagged, its trust and path untouched.
    expect(after!.tags).toEqual({ owner: 'union' });
    expect(after!.trust).toEqual(before!.trust);
    expect(after!.path).toBe('/union/');
    // No retagging and no trust change anywhere in the run.
    const touching = applied.mutating.filter(
      (c) => c.operation === 'TagRole' || c.operation === 'UpdateAssumeRolePolicy',
    );
    expect(touching).toEqual([]);

    const again = await run(config, ['--yes', '--approve-broadening']);
    expect(again.mutating).toEqual([]);
  });

  it('global access to a role that does not exist: bad input (exit 2) before any write, the role not created', async () => {
    const config = `${BASE}vpcDns: off\nglobalAccess: { role: nobody-userflyterole }\n`;
    const dry = await run(config, ['--dry-run']);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toContain('globalAccess.role: the role nobody-userflyterole does not exist');

    const applied = await run(config, ['--yes', '--approve-broadening']);
    expect(applied.code).toBe(2);
    expect(applied.mutating).toEqual([]);
    expect(await readRole(moto.url, 'nobody-userflyterole')).toBeUndefined();
  });

  it("a Union project role also carries the account's userflyterole policy", async () => {
    await createUserFlyteRolePolicy(moto.url);
    const config = `${BASE}vpcDns: off\nprojectRoles:\n  - project: fraud\n    userFlyteRolePolicy: true\n  - project: risk\n`;
    const applied = await run(config, ['--yes', '--approve-broadening']);
    expect(applied.code).toBe(0);
    expect((await readRole(moto.url, 'flyte-fraud-role'))!.attached).toEqual(
      [POLICY_ARN, `arn:aws:iam::${ACCOUNT}:policy/userflyterole`].sort(),
    );
    expect((await readRole(moto.url, 'flyte-risk-role'))!.attached).toEqual([POLICY_ARN]);
  });
});
