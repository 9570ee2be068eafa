/**
 * The VPC DNS check with several clusters, end to end against moto: three clusters in two regions, each on the
 * subnets of a VPC of its own region, two of them sharing one. Each VPC is found through its cluster's subnets in
 * the cluster's region, checked there once, and `vpcDns: fix` turns DNS on there, where it is off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, createBucket, createCluster, createVpc, readVpcDns } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

/** Only the VPC check, and the OIDC providers (a section that needs the clusters, for `check`). */
const CONFIG = (vpcDns: string) => `
region: eu-west-1
bucket: acme-flyte-data
setup: acme
cluster:
  - blue
  - blue-next
  - { name: east, region: us-east-2 }
vpcDns: ${vpcDns}
clusterRole: false
nodeRole: false
customPolicy: false
systemRole: false
workersRole: false
`;

interface JsonResource {
  kind: string;
  name: string;
  arn: string;
  action: string;
  steps: { op: string; vpcId?: string; region?: string; attribute?: string }[];
  findings?: { code: string; message: string; fix?: string }[];
}

describe.skipIf(skip !== undefined)("every cluster's VPC, in its region", () => {
  let moto: Moto;
  let west: string;
  let east: string;
  /** The CLI with the config; `verify` first when it is the command. */
  const run = (config: string, [first, ...rest]: string[]) => {
    const file = writeConfig(config);
    const argv = first === 'verify' ? ['verify', '--config', file, ...rest] : ['--config', file, first!, ...rest];
    return runCli(argv, { endpoint: moto.url });
  };
  const vpcResources = (stdout: string): JsonResource[] =>
    (JSON.parse(stdout) as { sections: { id: string; resources: JsonResource[] }[] }).sections.find(
      (s) => s.id === 'clusterVpc',
    )!.resources;

  beforeAll(async () => {
    moto = await acquireMoto();
    const westVpc = await createVpc(moto.url, { hostnames: true, support: true }, 'eu-west-1');
    const eastVpc = await createVpc(moto.url, { hostnames: false, support: true }, 'us-east-2');
    west = westVpc.vpcId;
    east = eastVpc.vpcId;
    await createCluster(moto.url, 'blue', 'eu-west-1', westVpc.subnetIds);
    await createCluster(moto.url, 'blue-next', 'eu-west-1', westVpc.subnetIds);
    await createCluster(moto.url, 'east', 'us-east-2', eastVpc.subnetIds);
    await createBucket(moto.url, 'acme-flyte-data');
  });
  afterAll(async () => moto?.stop());

  it('the plan checks each VPC once, in its region, and reports the one with DNS hostnames off there', async () => {
    const plan = await run(CONFIG('check'), ['--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const resources = vpcResources(plan.stdout);
    expect(resources.map((r) => [r.name, r.arn])).toEqual([
      [west, `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/${west}`],
      [east, `arn:aws:ec2:us-east-2:${ACCOUNT}:vpc/${east}`],
    ]);
    expect(resources[0]!.findings).toBeUndefined();
    expect(resources[1]!.findings).toEqual([
      expect.objectContaining({
        code: 'vpc-dns-off',
        message: expect.stringMatching(/^enableDnsHostnames is off/),
        fix: `aws ec2 modify-vpc-attribute --region us-east-2 --vpc-id ${east} --enable-dns-hostnames`,
      }),
    ]);
    // Each cluster's subnets looked up, then each VPC's two attributes once (the shared one is read once).
    const ops = plan.calls.filter((c) => c.service === 'ec2').map((c) => c.operation);
    expect(ops.filter((o) => o === 'DescribeSubnets')).toHaveLength(3);
    expect(ops.filter((o) => o === 'DescribeVpcAttribute')).toHaveLength(4);

    const text = await run(CONFIG('check'), ['--dry-run']);
    // Two VPCs: each names its clusters and its region.
    expect(text.stdout).toContain(`[!] VPC ${east} (east, in us-east-2)`);
    expect(text.stdout).toContain(`[=] VPC ${west} (blue, blue-next, in eu-west-1) up to date`);
    expect(text.stdout).toContain(`fix: aws ec2 modify-vpc-attribute --region us-east-2 --vpc-id ${east}`);
  });

  it('verify reports the VPC of the other region, with the fix in that region', async () => {
    const apply = await run(CONFIG('check'), ['--yes', '--approve-broadening']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.mutating.filter((c) => c.service === 'ec2')).toEqual([]);

    const verify = await run(CONFIG('check'), ['verify', '--json']);
    expect(verify.code).toBe(1);
    const findings = (
      JSON.parse(verify.stdout) as {
        sections: { findings: { code: string; resource: string; fix: string }[] }[];
      }
    ).sections.flatMap((s) => s.findings);
    expect(findings.filter((f) => f.code === 'vpc-dns-off')).toEqual([
      expect.objectContaining({
        resource: `VPC ${east}`,
        fix: `aws ec2 modify-vpc-attribute --region us-east-2 --vpc-id ${east} --enable-dns-hostnames`,
      }),
    ]);
  });

  it("the operator's policy names every cluster's VPC and OIDC provider, each read in its region", async () => {
    const r = await runCli(['permissions', '--config', writeConfig(CONFIG('fix'))], { endpoint: moto.url });
    expect(r.code, r.stderr).toBe(0);
    const statements = (JSON.parse(r.stdout) as { Statement: { Action: string | string[]; Resource: unknown }[] })
      .Statement;
    const resourcesOf = (action: string) =>
      statements.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat() as string[]);
    expect(resourcesOf('ec2:ModifyVpcAttribute').sort()).toEqual(
      [`arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/${west}`, `arn:aws:ec2:us-east-2:${ACCOUNT}:vpc/${east}`].sort(),
    );
    const providers = resourcesOf('iam:CreateOpenIDConnectProvider');
    // Each cluster's issuer as EKS gives it (the emulator gives clusters of one region the same one).
    expect(providers.filter((a) => a.endsWith('/id/*'))).toEqual([]);
    for (const region of ['eu-west-1', 'us-east-2'])
      expect(providers.some((a) => a.includes(`:oidc-provider/oidc.eks.${region}.`))).toBe(true);
    expect(r.stderr).not.toMatch(/is not known/);
  });

  it('vpcDns: fix turns DNS hostnames on in the VPC of the other region, then verify passes', async () => {
    const plan = await run(CONFIG('fix'), ['--dry-run', '--json']);
    expect(vpcResources(plan.stdout).flatMap((r) => r.steps)).toEqual([
      { op: 'ModifyVpcAttribute', vpcId: east, region: 'us-east-2', attribute: 'enableDnsHostnames' },
    ]);

    const apply = await run(CONFIG('fix'), ['--yes', '--approve-broadening']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.mutating.map((c) => `${c.service}:${c.operation}`)).toEqual(['ec2:ModifyVpcAttribute']);
    expect(await readVpcDns(moto.url, east, 'us-east-2')).toEqual({
      enableDnsSupport: true,
      enableDnsHostnames: true,
    });
    expect(await readVpcDns(moto.url, west, 'eu-west-1')).toEqual({
      enableDnsSupport: true,
      enableDnsHostnames: true,
    });

    const verify = await run(CONFIG('fix'), ['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
