/**
 * Section 5 (seed 002): the role of the Flyte backend's service accounts. Whom it trusts depends on the target:
 * flyte-binary's one service account, flyte-core's components (each a service account of its own name), or Flyte
 * 2's one service account, which its task pods run as too. Union runs its own backend, with roles of its own.
 */
import {
  FLYTE_CORE_COMPONENTS,
  FLYTE_CORE_DEFAULT_ACCOUNTS,
  type Config,
  type SystemRoleSection,
} from '../config/schema.js';
import type { Problem } from '../errors.js';
import { serviceAccountSubject } from '../policy/document.js';
import {
  desiredIrsaRole,
  extraPolicyArns,
  identityWords,
  extraPolicyReferences,
  partitionProblems,
  type SectionDefinition,
} from './section.js';

/** The service accounts, in the Flyte namespace, that assume the backend role under the config's target. */
export function backendServiceAccounts(config: Pick<Config, 'target'>, system: SystemRoleSection): string[] {
  return config.target === 'flyte-core'
    ? [...(system.serviceAccounts ?? FLYTE_CORE_DEFAULT_ACCOUNTS)]
    : [system.serviceAccount];
}

/** The `sub` values the backend role trusts. */
export function backendSubjects(config: Pick<Config, 'target' | 'namespace'>, system: SystemRoleSection): string[] {
  return backendServiceAccounts(config, system).map((sa) => serviceAccountSubject(config.namespace, sa));
}

/** The file's own `systemRole` mapping (to tell a key given from a default). */
function given(input: Record<string, unknown>): Record<string, unknown> | undefined {
  const s = input.systemRole;
  return s !== null && typeof s === 'object' && !Array.isArray(s) ? (s as Record<string, unknown>) : undefined;
}

export const systemRole: SectionDefinition = {
  id: 'systemRole',
  title: 'Flyte backend role',
  explain:
    'The Flyte backend runs as Kubernetes service accounts in the Flyte namespace: one for flyte-binary and Flyte 2 ' +
    '(whose task pods run as it too), one per component for flyte-core. This role trusts only those (with IRSA ' +
    'through the OIDC provider, the Helm chart annotating them with its ARN; with EKS Pod Identity through their ' +
    'associations), and carries the bucket policy.',
  needsCluster: true,
  identity: 'irsa',
  targets: ['flyte-binary', 'flyte-core', 'flyte2'],
  notFor: () => 'Union runs its own backend, with roles it makes itself',
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
    {
      name: 'systemRole: serviceAccounts with target flyte-core, serviceAccount with the others',
      check({ config, input }) {
        const s = given(input);
        if (!config.systemRole || s === undefined) return [];
        const problems: Problem[] = [];
        if (config.target === 'flyte-core' && s.serviceAccount !== undefined) {
          problems.push({
            path: ['systemRole', 'serviceAccount'],
            message:
              `is not used with target flyte-core, which runs each component as a service account of its own name: ` +
              `list the ones the role trusts in systemRole.serviceAccounts (${FLYTE_CORE_COMPONENTS.join(', ')}) instead`,
          });
        }
        if (config.target !== 'flyte-core' && s.serviceAccounts !== undefined) {
          problems.push({
            path: ['systemRole', 'serviceAccounts'],
            message:
              `is flyte-core's list of components, but the target is ${config.target}, whose backend runs as one ` +
              'service account: set systemRole.serviceAccount instead, or target: flyte-core',
          });
        }
        const list = config.systemRole.serviceAccounts ?? [];
        list.forEach((sa, i) => {
          if (list.indexOf(sa) !== i)
            problems.push({ path: ['systemRole', 'serviceAccounts', i], message: `"${sa}" is listed twice` });
        });
        const missing = FLYTE_CORE_DEFAULT_ACCOUNTS.filter((sa) => !list.includes(sa));
        if (config.target === 'flyte-core' && list.length > 0 && missing.length > 0) {
          problems.push({
            path: ['systemRole', 'serviceAccounts'],
            message:
              `must list ${FLYTE_CORE_DEFAULT_ACCOUNTS.join(', ')}, which read and write the bucket (missing: ` +
              `${missing.join(', ')}); flytescheduler may be added`,
          });
        }
        return problems;
      },
    },
  ],
  references: ({ config }) =>
    config.systemRole ? extraPolicyReferences(config.systemRole.extraPolicies, ['systemRole']) : [],
  desired(ctx) {
    const { config } = ctx;
    if (config.systemRole === false) return [];
    return [
      desiredIrsaRole(ctx, {
        name: config.systemRole.name,
        description: `Flyte backend (${identityWords(config)}), managed by flyte-aws-setup`,
        subjects: backendSubjects(config, config.systemRole),
        extraPolicies: config.systemRole.extraPolicies,
      }),
    ];
  },
  notes({ config }) {
    if (config.systemRole === false) return [];
    const accounts = backendServiceAccounts(config, config.systemRole);
    if (config.target === 'flyte2') {
      return [
        {
          level: 'info',
          message:
            `target flyte2: task pods run in ${config.namespace} as ${accounts[0]} (executor.defaultK8sServiceAccount), ` +
            'so this role serves them too',
        },
      ];
    }
    if (config.target === 'flyte-core') {
      return [
        { level: 'info', message: `target flyte-core: trusted by ${accounts.join(', ')} in ${config.namespace}` },
      ];
    }
    return [];
  },
};
