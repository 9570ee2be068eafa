/** Section 1 (seed 000): the role the EKS control plane assumes. */
import { serviceTrustPolicy } from '../policy/document.js';
import { awsManagedPolicyArn, eksServicePrincipal } from '../policy/partition.js';
import { desiredRole, type SectionDefinition } from './section.js';

export const clusterRole: SectionDefinition = {
  id: 'clusterRole',
  title: 'EKS cluster role',
  explain:
    'The Kubernetes control plane of EKS assumes this role to manage AWS resources for the cluster.\n' +
    'It trusts eks.amazonaws.com and carries AmazonEKSClusterPolicy. You pass its ARN when you create the cluster.',
  needsCluster: false,
  dependsOn: [],
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
