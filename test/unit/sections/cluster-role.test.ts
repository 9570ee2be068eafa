/** Section 1, the EKS cluster role: a service role that trusts EKS and carries AmazonEKSClusterPolicy. */
import { describe, expect, it } from 'vitest';
import type { DesiredRole } from '../../../src/model.js';
import { clusterRole } from '../../../src/sections/cluster-role.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { ruleInputOf } from '../../../src/sections/section.js';
import { ACCOUNT, PARTITION_CASES, TOOL_TAG, context, facts, loadConfig, ruleInput } from './fixtures.js';

const eksTrust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

describe('clusterRole: what it is', () => {
  it('needs no cluster (the cluster is made with its ARN), has no IRSA identity and depends on nothing', () => {
    expect(clusterRole.id).toBe('clusterRole');
    expect(clusterRole.needsCluster).toBe(false);
    expect(clusterRole.identity).toBe('none');
    expect(clusterRole.dependsOn).toEqual([]);
    expect(clusterRole.rules ?? []).toEqual([]);
    expect(clusterRole.notes).toBeUndefined();
    expect(clusterRole.skipReason).toBeUndefined();
  });
});

describe('clusterRole: what it wants', () => {
  it('by default, flyte-eks-cluster-role at /, trusting eks.amazonaws.com, with AmazonEKSClusterPolicy', () => {
    const resources = clusterRole.desired(context(loadConfig()));
    expect(resources).toHaveLength(1);
    const role = resources[0] as DesiredRole;
    expect(role.kind).toBe('role');
    expect(role.name).toBe('flyte-eks-cluster-role');
    expect(role.path).toBe('/');
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`);
    expect(role.description).toBe('EKS cluster role for Flyte, managed by flyte-aws-setup');
    expect(role.trust).toEqual(eksTrust);
    expect(role.managedPolicies).toEqual(['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy']);
    expect(role).not.toHaveProperty('boundary');
    expect(role.tags).toEqual(TOOL_TAG);
  });

  it('is wanted before the cluster exists: no issuer needed', () => {
    const ctx = context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } });
    expect(ctx.issuerUrl).toBeUndefined();
    expect(clusterRole.desired(ctx).map((r) => r.kind === 'role' && r.name)).toEqual(['flyte-eks-cluster-role']);
  });

  it('takes its name, the path, the permissions boundary and the tags from the config', () => {
    const config = loadConfig(
      'clusterRole: { name: acme-eks }\npath: /flyte/\npermissionsBoundary: arn:aws:iam::111122223333:policy/boundary\ntags: { team: ml, cost-center: "42" }\n',
    );
    const [role] = clusterRole.desired(context(config)) as DesiredRole[];
    expect(role!.name).toBe('acme-eks');
    expect(role!.path).toBe('/flyte/');
    expect(role!.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte/acme-eks`);
    expect(role!.boundary).toBe('arn:aws:iam::111122223333:policy/boundary');
    expect(role!.tags).toEqual({ team: 'ml', 'cost-center': '42', ...TOOL_TAG });
    // The AWS managed policy is not under the config's path.
    expect(role!.managedPolicies).toEqual(['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy']);
  });

  it('`clusterRole: true` is the default', () => {
    const [role] = clusterRole.desired(context(loadConfig('clusterRole: true\n'))) as DesiredRole[];
    expect(role!.name).toBe('flyte-eks-cluster-role');
  });

  it.each(PARTITION_CASES)('in $partition: ARNs in the partition, EKS trusted by the same name', (p) => {
    const [role] = clusterRole.desired(context(loadConfig(`region: ${p.region}\n`), { partition: p })) as DesiredRole[];
    expect(role!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:role/flyte-eks-cluster-role`);
    expect(role!.managedPolicies).toEqual([`arn:${p.partition}:iam::aws:policy/AmazonEKSClusterPolicy`]);
    expect(role!.trust).toEqual(eksTrust);
  });

  it('turned off, wants nothing', () => {
    expect(clusterRole.desired(context(loadConfig('clusterRole: false\n')))).toEqual([]);
  });
});

describe('clusterRole: on and off', () => {
  it('is on unless the config says clusterRole: false', () => {
    const never = () => {
      throw new Error('the cluster role does not ask whether the cluster is needed');
    };
    expect(clusterRole.enabled(loadConfig(), never)).toBe(true);
    expect(clusterRole.enabled(loadConfig('clusterRole: { name: x }\n'), never)).toBe(true);
    expect(clusterRole.enabled(loadConfig('clusterRole: false\n'), never)).toBe(false);
  });

  it('its off text, written in the config, turns it off', () => {
    expect(clusterRole.off).toBe('clusterRole: false');
    expect(sectionEnabled(loadConfig(), clusterRole)).toBe(true);
    expect(sectionEnabled(loadConfig(`${clusterRole.off}\n`), clusterRole)).toBe(false);
  });
});

describe('clusterRole: its roles', () => {
  it('names its role at clusterRole.name, and none when off', () => {
    expect(clusterRole.roles!(ruleInput('clusterRole: { name: acme-eks }\n'))).toEqual([
      { name: 'acme-eks', path: ['clusterRole', 'name'] },
    ]);
    expect(clusterRole.roles!(ruleInputOf(loadConfig()))).toEqual([
      { name: 'flyte-eks-cluster-role', path: ['clusterRole', 'name'] },
    ]);
    expect(clusterRole.roles!(ruleInputOf(loadConfig('clusterRole: false\n')))).toEqual([]);
  });

  it('the role it names is the role it wants', () => {
    const config = loadConfig('clusterRole: { name: acme-eks }\n');
    const names = clusterRole.desired({ config, facts: facts() }).map((r) => r.kind === 'role' && r.name);
    expect(names).toEqual(clusterRole.roles!(ruleInputOf(config)).map((r) => r.name));
  });
});
