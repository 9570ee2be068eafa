/**
 * The clusters' VPCs (seed 004): without `enableDnsHostnames` (and `enableDnsSupport`, which it needs) nodes
 * cannot register with a cluster. Every cluster of the config has its VPC checked, in the cluster's region (one
 * resource per VPC). `vpcDns: check` reports what is off with the command that fixes it; `vpcDns: fix` turns it on,
 * one attribute per call.
 */
import {
  clusterRegion,
  factsClusters,
  type CurrentVpcDns,
  type DesiredVpcDns,
  type Finding,
  type VpcDnsAttribute,
} from '../model.js';
import { severityOf } from '../policy/findings.js';
import { vpcArn } from '../policy/partition.js';
import type { SectionDefinition, SectionWizardContext } from './section.js';

/** In the order they must be turned on: DNS hostnames need DNS support. */
export const VPC_DNS_ATTRIBUTES: readonly VpcDnsAttribute[] = ['enableDnsSupport', 'enableDnsHostnames'];

const CLI_FLAG: Record<VpcDnsAttribute, string> = {
  enableDnsSupport: '--enable-dns-support',
  enableDnsHostnames: '--enable-dns-hostnames',
};

/** The aws CLI command that turns one attribute on. */
export function vpcDnsFixCommand(vpcId: string, region: string, attribute: VpcDnsAttribute): string {
  return `aws ec2 modify-vpc-attribute --region ${region} --vpc-id ${vpcId} ${CLI_FLAG[attribute]}`;
}

/** The attributes that are off, in the order to turn them on. */
export function vpcDnsMissing(current: Pick<CurrentVpcDns, VpcDnsAttribute>): VpcDnsAttribute[] {
  return VPC_DNS_ATTRIBUTES.filter((a) => !current[a]);
}

/**
 * The check itself, as data: what is wrong with the VPC's DNS settings and the command that fixes each.
 * Pure; `current` undefined means the VPC was not found.
 */
export function vpcDnsFindings(vpcId: string, region: string, current: CurrentVpcDns | undefined): Finding[] {
  if (current === undefined) {
    return [
      {
        code: 'unchecked',
        severity: severityOf('unchecked'),
        message: `the cluster's VPC ${vpcId} was not found in ${region}; its DNS settings cannot be checked`,
      },
    ];
  }
  if (current.unreadable !== undefined) {
    return [
      {
        code: 'unchecked',
        severity: severityOf('unchecked'),
        message: `the DNS settings of the cluster's VPC ${vpcId} could not be read: ${current.unreadable}`,
        fix: 'allow ec2:DescribeVpcAttribute (flyte-aws-setup permissions prints the policy), or set vpcDns: off',
      },
    ];
  }
  return vpcDnsMissing(current).map((attribute) => ({
    code: 'vpc-dns-off',
    severity: severityOf('vpc-dns-off'),
    message:
      attribute === 'enableDnsHostnames'
        ? `${attribute} is off: nodes cannot register with the cluster (they join by their private DNS names)`
        : `${attribute} is off: the VPC resolves no DNS names, so nodes cannot reach the cluster or register`,
    fix: vpcDnsFixCommand(vpcId, region, attribute),
  }));
}

export const clusterVpc: SectionDefinition = {
  id: 'clusterVpc',
  title: 'Cluster VPC DNS',
  explain:
    "Nodes register with EKS by their private DNS names, so the cluster's VPC needs enableDnsSupport and " +
    'enableDnsHostnames. They are checked, and a setting that is off is offered to be turned on.',
  needsCluster: true,
  identity: 'none',
  dependsOn: [],
  // `fix` asks for it; `check` comes with the sections that need the cluster anyway.
  enabled: (config, clusterNeeded) => config.vpcDns === 'fix' || (config.vpcDns === 'check' && clusterNeeded()),
  off: 'vpcDns: off',
  wizard: {
    // On unless off: `check` is the default (whether another section needs the cluster or not).
    isOn: (draft) => (draft.vpcDns ?? 'check') !== 'off',
    turnOn: (draft) => {
      draft.vpcDns = 'check';
    },
    turnOff: (draft) => {
      draft.vpcDns = 'off';
    },
    ask: offerVpcDnsFix,
  },
  desired({ config, facts }) {
    if (config.vpcDns === 'off') return [];
    // One per VPC: clusters that share one (in one region) share its resource.
    const byArn = new Map<string, DesiredVpcDns>();
    for (const c of factsClusters(facts)) {
      if (c.state !== 'ready' || c.placeholder || c.vpcId === undefined) continue;
      const region = clusterRegion(c, facts);
      const arn = vpcArn(facts.partition, region, facts.accountId, c.vpcId);
      const known = byArn.get(arn);
      if (known !== undefined) known.clusters.push(c.name);
      else
        byArn.set(arn, {
          kind: 'vpc-dns',
          name: c.vpcId,
          arn,
          region,
          clusters: [c.name],
          fix: config.vpcDns === 'fix',
        });
    }
    return [...byArn.values()];
  },
  notes({ facts }) {
    const ready = factsClusters(facts).flatMap((c) => (c.state === 'ready' ? [c] : []));
    if (ready.length === 0) return [];
    if (facts.offline || ready.some((c) => c.placeholder)) {
      return [
        {
          level: 'info',
          message:
            'offline: the VPC is not read; a run with credentials checks enableDnsHostnames and enableDnsSupport',
        },
      ];
    }
    return ready
      .filter((c) => c.vpcId === undefined)
      .map((c) => ({
        level: 'info',
        message: `the VPC of the cluster ${c.name} is not known (it names no VPC, and none through its subnets); its DNS settings are not checked`,
        unchecked: true,
      }));
  },
  skipReason: (config) => (config.vpcDns === 'off' ? 'vpcDns: off' : 'no section needs the cluster'),
};

/**
 * The wizard reports the VPCs' DNS settings by default (vpcDns: check), and turns them on only when the user agrees
 * here, which the saved config records as vpcDns: fix. Every cluster's VPC is looked at; one question covers them.
 */
async function offerVpcDnsFix(ctx: SectionWizardContext): Promise<void> {
  if ((ctx.draft.vpcDns ?? 'check') !== 'check') return;
  const plan = await ctx.reading("Reading the cluster VPC's DNS settings", () => ctx.plan());
  const off = plan.resources.flatMap((r) => {
    const missing = r.current?.kind === 'vpc-dns' && r.current.unreadable === undefined ? vpcDnsMissing(r.current) : [];
    return missing.length > 0 ? [{ r, missing }] : [];
  });
  if (off.length === 0) return;
  for (const { r, missing } of off) {
    // Several: each says which clusters sit on it, and where.
    const where =
      off.length > 1 && r.desired.kind === 'vpc-dns'
        ? ` of ${r.desired.clusters.join(' and ')} (${r.desired.region})`
        : '';
    ctx.say(
      ctx.style.warn(
        `The VPC ${r.name}${where} has ${missing.join(' and ')} off: nodes cannot register with the cluster.`,
      ),
    );
  }
  const all = VPC_DNS_ATTRIBUTES.filter((a) => off.some((o) => o.missing.includes(a)));
  const message =
    off.length === 1
      ? `Turn ${all.join(' and ')} on now?`
      : `Turn ${all.join(' and ')} on in these ${off.length} VPCs now?`;
  const fix = await ctx.prompter.confirm({ message, default: true });
  if (fix) ctx.draft.vpcDns = 'fix';
}
