/** Section 5 (seed 002): the role of the Flyte backend's service account. */
import { serviceAccountSubject } from '../policy/document.js';
import { desiredIrsaRole, extraPolicyArns, partitionProblems, type SectionDefinition } from './section.js';

export const systemRole: SectionDefinition = {
  id: 'systemRole',
  title: 'Flyte backend role',
  explain:
    'The Flyte backend (the flyte-binary Helm release) runs as one Kubernetes service account in the Flyte ' +
    'namespace. This role trusts only that service account, through the OIDC provider, and carries the bucket ' +
    "policy. The Helm chart creates the service account later and annotates it with this role's ARN.",
  needsCluster: true,
  identity: 'irsa',
  dependsOn: ['oidcProvider', 'customPolicy'],
  enabled: (config) => config.systemRole !== false,
  off: 'systemRole: false',
  roles: ({ config }) => (config.systemRole ? [{ name: config.systemRole.name, path: ['systemRole', 'name'] }] : []),
  rules: [
    {
      name: 'systemRole.extraPolicies in the partition of the region',
      check: ({ config }) =>
        config.systemRole
          ? partitionProblems(config, extraPolicyArns(config.systemRole.extraPolicies, ['systemRole']))
          : [],
    },
  ],
  desired(ctx) {
    const { config } = ctx;
    if (config.systemRole === false) return [];
    return [
      desiredIrsaRole(ctx, {
        name: config.systemRole.name,
        description: 'Flyte backend (IRSA), managed by flyte-aws-setup',
        subjects: [serviceAccountSubject(config.namespace, config.systemRole.serviceAccount)],
        extraPolicies: config.systemRole.extraPolicies,
      }),
    ];
  },
};
