/** Section 1 (seed 000): the role the EKS control plane assumes. */
import { serviceTrustPolicy } from '../policy/document.js';
import { awsManagedPolicyArn, eksServicePrincipal } from '../policy/partition.js';
import { desiredRole, type SectionDefinition } from './section.js';

export const clusterRole: SectionDefinition = {
  id: 'clusterRole',
  title: 'EKS cluster role',
  explain:
    'The EKS control plane assumes this role to run the cluster: its internal communication and features such\n' +
    'as autoscaling. It trusts eks.amazonaws.com and carries AmazonEKSClusterPolicy. It must exist before the\n' +
    'cluster does: creating the cluster takes its ARN.',
  needsCluster: false,
  identity: 'none',
  dependsOn: [],
  enabled: (config) => config.clusterRole !== false,
  off: 'clusterRole: false',
  roles: ({ config }) => (config.clusterRole ? [{ name: config.clusterRole.name, path: ['clusterRole', 'name'] }] : []),
  desired(ctx) {
    const { config, facts } = ctx;
    if (config.clusterRole === false) return [];
    return [
      desiredRole(ctx, {
        name: config.clusterRole.name,
        description: 'EKS cluster role for Flyte, managed by flyte-aws-setup',
        trust: serviceTrustPolicy(eksServicePrincipal(facts.partition)),
        managedPolicies: [awsManagedPolicyArn(facts.partition, 'AmazonEKSClusterPolicy')],
      }),
    ];
  },
};
