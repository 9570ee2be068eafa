/** Section 6 (seed 002): the role of the task pods, with the trust widened to every project-domain namespace. */
import type { WorkersRoleSection } from '../config/schema.js';
import { irsaTrustPolicy, policySize, serviceAccountSubject, TRUST_POLICY_MAX } from '../policy/document.js';
import {
  desiredIrsaRole,
  extraPolicyArns,
  extraPolicyReferences,
  partitionProblems,
  trustSizeContext,
  type SectionDefinition,
} from './section.js';

/** The `sub` values the workers role trusts. */
export function workersSubjects(namespace: string, workers: WorkersRoleSection): string[] {
  if (workers.allNamespaces) return [serviceAccountSubject('*', workers.serviceAccount)];
  return [...new Set([namespace, ...workers.namespaces])].map((ns) =>
    serviceAccountSubject(ns, workers.serviceAccount),
  );
}

export const workersRole: SectionDefinition = {
  id: 'workersRole',
  title: 'Flyte workers role',
  explain:
    'Task pods run as the `default` service account of their <project>-<domain> namespace, and this role gives\n' +
    'them the bucket policy. Which namespaces it trusts is a trade-off: the documents widen it to every namespace\n' +
    '(`*:default`); a fixed list is tighter but has to grow with every new Flyte project.',
  needsCluster: true,
  identity: 'irsa',
  dependsOn: ['oidcProvider', 'customPolicy'],
  enabled: (config) => config.workersRole !== false,
  off: 'workersRole: false',
  roles: ({ config }) => (config.workersRole ? [{ name: config.workersRole.name, path: ['workersRole', 'name'] }] : []),
  rules: [
    {
      name: 'workersRole.extraPolicies in the partition of the region',
      check: ({ config }) =>
        config.workersRole
          ? partitionProblems(config, extraPolicyArns(config.workersRole.extraPolicies, ['workersRole']))
          : [],
    },
    {
      name: 'workersRole.namespaces only with allNamespaces: false',
      check({ config, input }) {
        // Read from what the file says: a section that failed validation holds its defaults here.
        const given = input.workersRole as Record<string, unknown> | undefined;
        if (!config.workersRole || given?.allNamespaces === false || !Array.isArray(given?.namespaces)) return [];
        return [
          {
            path: ['workersRole', 'namespaces'],
            message: 'only applies with allNamespaces: false (allNamespaces: true already trusts every namespace)',
          },
        ];
      },
    },
    {
      name: 'workersRole trust policy within the size limit',
      check({ config }) {
        if (!config.workersRole || config.workersRole.allNamespaces) return [];
        const subjects = workersSubjects(config.namespace, config.workersRole);
        const size = policySize(irsaTrustPolicy({ ...trustSizeContext(config), subjects }));
        if (size <= TRUST_POLICY_MAX) return [];
        return [
          {
            path: ['workersRole', 'namespaces'],
            message: `the trust policy for these namespaces would be about ${size} characters; IAM allows ${TRUST_POLICY_MAX} by default. Trust fewer namespaces or use allNamespaces: true`,
          },
        ];
      },
    },
  ],
  references: ({ config }) =>
    config.workersRole ? extraPolicyReferences(config.workersRole.extraPolicies, ['workersRole']) : [],
  desired(ctx) {
    const { config } = ctx;
    if (config.workersRole === false) return [];
    return [
      desiredIrsaRole(ctx, {
        name: config.workersRole.name,
        description: 'Flyte task pods (IRSA), managed by flyte-aws-setup',
        subjects: workersSubjects(config.namespace, config.workersRole),
        extraPolicies: config.workersRole.extraPolicies,
      }),
    ];
  },
};
