/** Section 2, the EKS node role: a service role that trusts EC2 and carries the three policies a node needs. */
import { describe, expect, it } from 'vitest';
import type { DesiredRole } from '../../../src/model.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { NODE_POLICIES, nodeRole } from '../../../src/sections/node-role.js';
import { ruleInputOf } from '../../../src/sections/section.js';
import { ACCOUNT, PARTITION_CASES, TOOL_TAG, context, loadConfig, ruleInput } from './fixtures.js';

const ec2Trust = (service: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});

describe('nodeRole: what it is', () => {
  it('needs no cluster, has no IRSA identity and depends on nothing', () => {
    expect(nodeRole.id).toBe('nodeRole');
    expect(nodeRole.needsCluster).toBe(false);
    expect(nodeRole.identity).toBe('none');
    expect(nodeRole.dependsOn).toEqual([]);
    expect(nodeRole.rules ?? []).toEqual([]);
    expect(nodeRole.notes).toBeUndefined();
    expect(nodeRole.skipReason).toBeUndefined();
  });

  it("the node policies are the documents' three", () => {
    expect(NODE_POLICIES).toEqual([
      'AmazonEKSWorkerNodePolicy',
      'AmazonEC2ContainerRegistryReadOnly',
      'AmazonEKS_CNI_Policy',
    ]);
  });
});

describe('nodeRole: what it wants', () => {
  it('by default, flyte-eks-node-role at /, trusting ec2.amazonaws.com, with the three node policies', () => {
    const resources = nodeRole.desired(context(loadConfig()));
    expect(resources).toHaveLength(1);
    const role = resources[0] as DesiredRole;
    expect(role.kind).toBe('role');
    expect(role.name).toBe('flyte-eks-node-role');
    expect(role.path).toBe('/');
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`);
    expect(role.description).toBe('EKS node role for Flyte, managed by flyte-aws-setup');
    expect(role.trust).toEqual(ec2Trust('ec2.amazonaws.com'));
    expect(role.managedPolicies).toEqual([
      'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
      'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
    ]);
    expect(role).not.toHaveProperty('boundary');
    expect(role.tags).toEqual(TOOL_TAG);
  });

  it('is wanted before the cluster exists: no issuer needed', () => {
    const ctx = context(loadConfig(), { cluster: { state: 'not-ready', name: 'acme', status: 'CREATING' } });
    expect(ctx.issuerUrl).toBeUndefined();
    expect(nodeRole.desired(ctx).map((r) => r.kind === 'role' && r.name)).toEqual(['flyte-eks-node-role']);
  });

  it('takes its name, the path, the permissions boundary and the tags from the config', () => {
    const config = loadConfig(
      'nodeRole: { name: acme-nodes }\npath: /eks/nodes/\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\ntags: { team: ml }\n',
    );
    const [role] = nodeRole.desired(context(config)) as DesiredRole[];
    expect(role!.name).toBe('acme-nodes');
    expect(role!.path).toBe('/eks/nodes/');
    expect(role!.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/eks/nodes/acme-nodes`);
    expect(role!.boundary).toBe('arn:aws:iam::aws:policy/PowerUserAccess');
    expect(role!.tags).toEqual({ team: 'ml', ...TOOL_TAG });
  });

  it.each(PARTITION_CASES)('in $partition: ARNs in the partition, and the EC2 principal of the partition', (p) => {
    const [role] = nodeRole.desired(context(loadConfig(`region: ${p.region}\n`), { partition: p })) as DesiredRole[];
    expect(role!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:role/flyte-eks-node-role`);
    expect(role!.managedPolicies).toEqual(NODE_POLICIES.map((n) => `arn:${p.partition}:iam::aws:policy/${n}`));
    // China has its own EC2 principal.
    expect(role!.trust).toEqual(ec2Trust(p.partition === 'aws-cn' ? 'ec2.amazonaws.com.cn' : 'ec2.amazonaws.com'));
  });

  it('turned off, wants nothing', () => {
    expect(nodeRole.desired(context(loadConfig('nodeRole: false\n')))).toEqual([]);
  });
});

describe('nodeRole: on and off', () => {
  it('is on unless the config says nodeRole: false', () => {
    const never = () => {
      throw new Error('the node role does not ask whether the cluster is needed');
    };
    expect(nodeRole.enabled(loadConfig(), never)).toBe(true);
    expect(nodeRole.enabled(loadConfig('nodeRole: true\n'), never)).toBe(true);
    expect(nodeRole.enabled(loadConfig('nodeRole: false\n'), never)).toBe(false);
  });

  it('its off text, written in the config, turns it off', () => {
    expect(nodeRole.off).toBe('nodeRole: false');
    expect(sectionEnabled(loadConfig(), nodeRole)).toBe(true);
    expect(sectionEnabled(loadConfig(`${nodeRole.off}\n`), nodeRole)).toBe(false);
  });
});

describe('nodeRole: its roles', () => {
  it('names its role at nodeRole.name, and none when off', () => {
    expect(nodeRole.roles!(ruleInput('nodeRole: { name: acme-nodes }\n'))).toEqual([
      { name: 'acme-nodes', path: ['nodeRole', 'name'] },
    ]);
    expect(nodeRole.roles!(ruleInputOf(loadConfig()))).toEqual([
      { name: 'flyte-eks-node-role', path: ['nodeRole', 'name'] },
    ]);
    expect(nodeRole.roles!(ruleInputOf(loadConfig('nodeRole: false\n')))).toEqual([]);
  });
});
