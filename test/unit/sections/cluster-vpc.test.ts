/** The cluster VPC's DNS settings: checked (default) or fixed when a section needs the cluster, or left alone. */
import { describe, expect, it } from 'vitest';
import type { ClusterFacts, CurrentVpcDns } from '../../../src/model.js';
import {
  VPC_DNS_ATTRIBUTES,
  clusterVpc,
  vpcDnsFindings,
  vpcDnsFixCommand,
  vpcDnsMissing,
} from '../../../src/sections/cluster-vpc.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { ACCOUNT, AWS, PARTITION_CASES, context, facts, loadConfig } from './fixtures.js';

/** Every section that needs the cluster turned off: the cluster and node roles only. */
const ROLES_ONLY = 'oidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n';
const VPC = 'vpc-0abc';

describe('clusterVpc: what it is', () => {
  it('needs the cluster (its VPC), has no identity and depends on nothing', () => {
    expect(clusterVpc.id).toBe('clusterVpc');
    expect(clusterVpc.needsCluster).toBe(true);
    expect(clusterVpc.identity).toBe('none');
    expect(clusterVpc.dependsOn).toEqual([]);
    expect(clusterVpc.rules ?? []).toEqual([]);
    expect(clusterVpc.roles).toBeUndefined();
  });
});

describe('clusterVpc: on and off', () => {
  it('fix asks for it alone; check comes along when another section needs the cluster; off never', () => {
    const asked: string[] = [];
    const needed = (answer: boolean) => () => {
      asked.push(String(answer));
      return answer;
    };
    expect(clusterVpc.enabled(loadConfig('vpcDns: fix\n'), needed(false))).toBe(true);
    expect(clusterVpc.enabled(loadConfig('vpcDns: off\n'), needed(true))).toBe(false);
    expect(asked).toEqual([]);
    expect(clusterVpc.enabled(loadConfig('vpcDns: check\n'), needed(true))).toBe(true);
    expect(clusterVpc.enabled(loadConfig(), needed(false))).toBe(false);
    expect(asked).toEqual(['true', 'false']);
  });

  it('the VPC check comes with the sections that need the cluster, and only fix asks for it alone', () => {
    const rolesOnly = `bucket: acme-flyte-data\n${ROLES_ONLY}`;
    expect(sectionEnabled(loadConfig('', rolesOnly), 'clusterVpc')).toBe(false);
    expect(sectionEnabled(loadConfig('cluster: acme\nvpcDns: fix\n', rolesOnly), 'clusterVpc')).toBe(true);
    expect(sectionEnabled(loadConfig(), 'clusterVpc')).toBe(true);
    expect(sectionEnabled(loadConfig('vpcDns: off\n'), 'clusterVpc')).toBe(false);
  });

  it('does not count itself as a section that needs the cluster', () => {
    expect(sectionEnabled(loadConfig(`${ROLES_ONLY}vpcDns: check\n`), 'clusterVpc')).toBe(false);
  });

  it('its off text, written in the config, turns it off, with the reason given', () => {
    expect(clusterVpc.off).toBe('vpcDns: off');
    const off = loadConfig(`${clusterVpc.off}\n`);
    expect(sectionEnabled(off, clusterVpc)).toBe(false);
    expect(clusterVpc.skipReason!(off)).toBe('vpcDns: off');
    // Off because no section needs the cluster, it says that instead.
    expect(clusterVpc.skipReason!(loadConfig(ROLES_ONLY))).toBe('no section needs the cluster');
  });
});

describe('clusterVpc: what it wants', () => {
  it("the cluster's VPC, by its ID, in the ARN of the region and account; fix says whether to turn DNS on", () => {
    expect(clusterVpc.desired(context(loadConfig('vpcDns: fix\n'), { vpcId: VPC }))).toEqual([
      {
        kind: 'vpc-dns',
        name: VPC,
        arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/${VPC}`,
        region: 'eu-west-1',
        clusters: ['acme'],
        fix: true,
      },
    ]);
    expect(clusterVpc.desired(context(loadConfig(), { vpcId: VPC }))).toEqual([
      {
        kind: 'vpc-dns',
        name: VPC,
        arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/${VPC}`,
        region: 'eu-west-1',
        clusters: ['acme'],
        fix: false,
      },
    ]);
  });

  it.each(PARTITION_CASES)('in $partition: the VPC ARN in the partition and region', (p) => {
    const resources = clusterVpc.desired(context(loadConfig(`region: ${p.region}\n`), { partition: p, vpcId: VPC }));
    expect(resources).toEqual([
      expect.objectContaining({ arn: `arn:${p.partition}:ec2:${p.region}:${ACCOUNT}:vpc/${VPC}`, region: p.region }),
    ]);
  });

  it('nothing when off, when the VPC is not known, or when the cluster is not ready or only a placeholder', () => {
    expect(clusterVpc.desired(context(loadConfig('vpcDns: off\n'), { vpcId: VPC }))).toEqual([]);
    expect(clusterVpc.desired(context(loadConfig('vpcDns: fix\n')))).toEqual([]);
    for (const cluster of [
      { state: 'missing' as const, name: 'acme' },
      { state: 'not-ready' as const, name: 'acme', status: 'CREATING' },
      { state: 'not-needed' as const },
      {
        state: 'ready' as const,
        name: 'acme',
        status: 'UNKNOWN',
        issuerUrl: AWS.issuer,
        placeholder: true,
        vpcId: VPC,
      },
    ]) {
      expect(clusterVpc.desired(context(loadConfig('vpcDns: fix\n'), { cluster }))).toEqual([]);
    }
  });
});

describe('clusterVpc: several clusters', () => {
  /** A ready cluster, in another region than the run's (eu-west-1) when `region` is given. */
  const ready = (name: string, vpcId?: string, region?: string): ClusterFacts => ({
    state: 'ready',
    name,
    status: 'ACTIVE',
    issuerUrl: `https://oidc.eks.${region ?? 'eu-west-1'}.amazonaws.com/id/${name.toUpperCase()}`,
    ...(vpcId !== undefined ? { vpcId } : {}),
    ...(region !== undefined ? { region } : {}),
  });
  /** The context of a run in eu-west-1 whose facts hold these clusters (the first is `cluster`). */
  const several = (yaml: string, clusters: ClusterFacts[]) => {
    const config = loadConfig(yaml, 'bucket: acme-flyte-data\n');
    return { config, facts: { ...facts(), cluster: clusters[0]!, clusters } };
  };
  const LIST = 'cluster:\n  - blue\n  - green\n';
  const TWO_REGIONS = 'cluster:\n  - blue\n  - { name: east, region: us-east-2 }\n';

  it('two clusters on one VPC: one resource, naming both clusters', () => {
    const ctx = several(`${LIST}vpcDns: fix\n`, [ready('blue', 'vpc-1'), ready('green', 'vpc-1')]);
    expect(clusterVpc.desired(ctx)).toEqual([
      {
        kind: 'vpc-dns',
        name: 'vpc-1',
        arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/vpc-1`,
        region: 'eu-west-1',
        clusters: ['blue', 'green'],
        fix: true,
      },
    ]);
    expect(clusterVpc.notes!(ctx)).toEqual([]);
  });

  it('two clusters on two VPCs: one resource each, in the order of the config', () => {
    const ctx = several(LIST, [ready('blue', 'vpc-1'), ready('green', 'vpc-2')]);
    expect(clusterVpc.desired(ctx)).toEqual([
      expect.objectContaining({ name: 'vpc-1', clusters: ['blue'], fix: false }),
      expect.objectContaining({ name: 'vpc-2', clusters: ['green'], fix: false }),
    ]);
  });

  it("two regions: each VPC in its cluster's region, in its ARN, its region and its fix command", () => {
    const ctx = several(TWO_REGIONS, [ready('blue', 'vpc-1'), ready('east', 'vpc-9', 'us-east-2')]);
    const resources = clusterVpc.desired(ctx);
    expect(resources).toEqual([
      expect.objectContaining({ arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/vpc-1`, region: 'eu-west-1' }),
      expect.objectContaining({ arn: `arn:aws:ec2:us-east-2:${ACCOUNT}:vpc/vpc-9`, region: 'us-east-2' }),
    ]);
    const east = resources[1]!;
    expect(east.kind === 'vpc-dns' && vpcDnsFindings(east.name, east.region, undefined)[0]!.message).toBe(
      "the cluster's VPC vpc-9 was not found in us-east-2; its DNS settings cannot be checked",
    );
  });

  it('a cluster whose VPC is not known: the others are checked, and a note names it', () => {
    const ctx = several(TWO_REGIONS, [ready('blue'), ready('east', 'vpc-9', 'us-east-2')]);
    expect(clusterVpc.desired(ctx)).toEqual([expect.objectContaining({ name: 'vpc-9', clusters: ['east'] })]);
    expect(clusterVpc.notes!(ctx)).toEqual([
      {
        level: 'info',
        message:
          'the VPC of the cluster blue is not known (it names no VPC, and none through its subnets); its DNS settings are not checked',
        unchecked: true,
      },
    ]);
    const neither = several(LIST, [ready('blue'), ready('green')]);
    expect(clusterVpc.desired(neither)).toEqual([]);
    expect(clusterVpc.notes!(neither).map((n) => n.message)).toEqual([
      expect.stringMatching(/^the VPC of the cluster blue is not known/),
      expect.stringMatching(/^the VPC of the cluster green is not known/),
    ]);
  });

  it('only ready clusters count; off wants none', () => {
    const missing: ClusterFacts = { state: 'missing', name: 'green' };
    const ctx = several(LIST, [ready('blue', 'vpc-1'), missing]);
    expect(clusterVpc.desired(ctx)).toEqual([expect.objectContaining({ name: 'vpc-1', clusters: ['blue'] })]);
    expect(clusterVpc.notes!(ctx)).toEqual([]);
    expect(
      clusterVpc.desired(several(`${LIST}vpcDns: off\n`, [ready('blue', 'vpc-1'), ready('green', 'vpc-2')])),
    ).toEqual([]);
  });
});

describe('clusterVpc: notes', () => {
  it('none when the VPC is known, or when the cluster is not ready', () => {
    expect(clusterVpc.notes!(context(loadConfig(), { vpcId: VPC }))).toEqual([]);
    expect(clusterVpc.notes!(context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } }))).toEqual([]);
  });

  it('offline, or with a placeholder cluster: the VPC is not read', () => {
    const offline = [
      {
        level: 'info',
        message: 'offline: the VPC is not read; a run with credentials checks enableDnsHostnames and enableDnsSupport',
      },
    ];
    expect(clusterVpc.notes!(context(loadConfig(), { offline: true, vpcId: VPC }))).toEqual(offline);
    const placeholder = {
      state: 'ready' as const,
      name: 'acme',
      status: 'UNKNOWN',
      issuerUrl: AWS.issuer,
      placeholder: true,
    };
    expect(clusterVpc.notes!(context(loadConfig(), { cluster: placeholder }))).toEqual(offline);
  });

  it('a cluster that names no VPC: says its DNS settings are not checked', () => {
    expect(clusterVpc.notes!(context(loadConfig()))).toEqual([
      {
        level: 'info',
        message:
          'the VPC of the cluster acme is not known (it names no VPC, and none through its subnets); its DNS settings are not checked',
        unchecked: true,
      },
    ]);
  });
});

describe('clusterVpc: the check as data', () => {
  const off: CurrentVpcDns = { kind: 'vpc-dns', vpcId: VPC, enableDnsSupport: false, enableDnsHostnames: false };

  it('the attributes in the order to turn them on: DNS support first, hostnames need it', () => {
    expect(VPC_DNS_ATTRIBUTES).toEqual(['enableDnsSupport', 'enableDnsHostnames']);
    expect(vpcDnsMissing(off)).toEqual(['enableDnsSupport', 'enableDnsHostnames']);
    expect(vpcDnsMissing({ ...off, enableDnsSupport: true })).toEqual(['enableDnsHostnames']);
    expect(vpcDnsMissing({ ...off, enableDnsHostnames: true })).toEqual(['enableDnsSupport']);
    expect(vpcDnsMissing({ enableDnsSupport: true, enableDnsHostnames: true })).toEqual([]);
  });

  it('the command that turns one attribute on', () => {
    expect(vpcDnsFixCommand(VPC, 'eu-west-1', 'enableDnsSupport')).toBe(
      'aws ec2 modify-vpc-attribute --region eu-west-1 --vpc-id vpc-0abc --enable-dns-support',
    );
    expect(vpcDnsFixCommand(VPC, 'cn-north-1', 'enableDnsHostnames')).toBe(
      'aws ec2 modify-vpc-attribute --region cn-north-1 --vpc-id vpc-0abc --enable-dns-hostnames',
    );
  });

  it('the check is a pure function of what was read (for reuse by other commands)', () => {
    expect(vpcDnsFindings('vpc-1', 'eu-west-1', undefined)).toEqual([
      {
        code: 'unchecked',
        severity: 'warning',
        message: "the cluster's VPC vpc-1 was not found in eu-west-1; its DNS settings cannot be checked",
      },
    ]);
    expect(vpcDnsFindings('vpc-1', 'eu-west-1', { ...off, vpcId: 'vpc-1' }).map((f) => f.fix)).toEqual([
      'aws ec2 modify-vpc-attribute --region eu-west-1 --vpc-id vpc-1 --enable-dns-support',
      'aws ec2 modify-vpc-attribute --region eu-west-1 --vpc-id vpc-1 --enable-dns-hostnames',
    ]);
  });

  it('each attribute that is off is a finding saying why nodes need it; both on, none', () => {
    expect(vpcDnsFindings(VPC, 'eu-west-1', off).map((f) => f.message)).toEqual([
      'enableDnsSupport is off: the VPC resolves no DNS names, so nodes cannot reach the cluster or register',
      'enableDnsHostnames is off: nodes cannot register with the cluster (they join by their private DNS names)',
    ]);
    expect(vpcDnsFindings(VPC, 'eu-west-1', { ...off, enableDnsSupport: true, enableDnsHostnames: true })).toEqual([]);
  });

  it('settings that could not be read are one finding, with what to allow or how to turn the check off', () => {
    expect(vpcDnsFindings(VPC, 'eu-west-1', { ...off, unreadable: 'access denied' })).toEqual([
      {
        code: 'unchecked',
        severity: 'warning',
        message: "the DNS settings of the cluster's VPC vpc-0abc could not be read: access denied",
        fix: 'allow ec2:DescribeVpcAttribute (flyte-aws-setup permissions prints the policy), or set vpcDns: off',
      },
    ]);
  });
});
