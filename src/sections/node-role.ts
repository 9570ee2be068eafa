/** Section 2 (seed 000): the role the EKS worker nodes (EC2 instances) assume. */
import { serviceTrustPolicy } from '../policy/document.js';
import { awsManagedPolicyArn, ec2ServicePrincipal } from '../policy/partition.js';
import { desiredRole, type SectionDefinition } from './section.js';

export const NODE_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEC2ContainerRegistryReadOnly',
  'AmazonEKS_CNI_Policy',
];

export const nodeRole: SectionDefinition = {
  id: 'nodeRole',
  title: 'EKS node role',
  explain:
    'The worker nodes, the EC2 instances where the workflows run, assume this role. It trusts ec2.amazonaws.com ' +
    'and carries what a node needs to join the cluster (AmazonEKSWorkerNodePolicy), pull images from ECR ' +
    '(AmazonEC2ContainerRegistryReadOnly) and run the pod network (AmazonEKS_CNI_Policy). Node groups take its ARN.',
  needsCluster: false,
  identity: 'none',
  dependsOn: [],
  enabled: (config) => config.nodeRole !== false,
  off: 'nodeRole: false',
  roles: ({ config }) => (config.nodeRole ? [{ name: config.nodeRole.name, path: ['nodeRole', 'name'] }] : []),
  desired(ctx) {
    const { config, facts } = ctx;
    if (config.nodeRole === false) return [];
    return [
      desiredRole(ctx, {
        name: config.nodeRole.name,
        description: 'EKS node role for Flyte, managed by flyte-aws-setup',
        trust: serviceTrustPolicy(ec2ServicePrincipal(facts.partition)),
        managedPolicies: NODE_POLICIES.map((p) => awsManagedPolicyArn(facts.partition, p)),
      }),
    ];
  },
};
