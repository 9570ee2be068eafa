/** Section 1 (seed 000): the role the EKS control plane assumes. */
import { DEFAULT_NAMES } from '../config/schema.js';
import { serviceTrustPolicy } from '../policy/document.js';
import { awsManagedPolicyArn, eksServicePrincipal, nameOfArn } from '../policy/partition.js';
import { desiredRole, type SectionAsked, type SectionDefinition, type SectionWizardContext } from './section.js';

export const clusterRole: SectionDefinition = {
  id: 'clusterRole',
  title: 'EKS cluster role',
  explain:
    'The EKS control plane assumes this role to run the cluster: its internal communication and features such ' +
    'as autoscaling. It trusts eks.amazonaws.com and carries AmazonEKSClusterPolicy. It must exist before the ' +
    'cluster does: creating the cluster takes its ARN.',
  needsCluster: false,
  identity: 'none',
  dependsOn: [],
  enabled: (config) => config.clusterRole !== false,
  off: 'clusterRole: false',
  roles: ({ config }) => (config.clusterRole ? [{ name: config.clusterRole.name, path: ['clusterRole', 'name'] }] : []),
  wizard: { ask: askAboutTheCluster },
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

/**
 * A cluster that exists already runs with the role it was created with, and keeps it: a new cluster role of another
 * name would serve only a cluster still to be created. Say which role the cluster runs with; then the question
 * defaults to no.
 */
async function askAboutTheCluster(ctx: SectionWizardContext): Promise<SectionAsked | void> {
  const section = ctx.draft.clusterRole;
  const name = typeof section === 'object' && section.name !== undefined ? section.name : DEFAULT_NAMES.clusterRole;
  const cluster = await ctx.reading('Reading the EKS cluster', () => ctx.cluster());
  if (cluster?.roleArn === undefined) return;
  if (nameOfArn(cluster.roleArn) === name) {
    ctx.say(`The EKS cluster ${cluster.name} runs with this role (${cluster.roleArn}).`);
    return;
  }
  ctx.say(
    ctx.style.warn(
      `The EKS cluster ${cluster.name} exists and runs with another role: ${cluster.roleArn}. A cluster keeps the ` +
        `role it was created with, so a new ${name} would not be used by it; make it only for another cluster ` +
        'you will create.',
    ),
  );
  return { approveByDefault: false };
}
