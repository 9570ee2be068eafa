/** Section 6 (seed 002): the role of the task pods, with the trust widened to every project-domain namespace. */
import type { WorkersRoleSection } from '../config/schema.js';
import { serviceAccountSubject } from '../policy/document.js';
import { desiredIrsaRole, type SectionDefinition } from './section.js';

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
  dependsOn: ['oidcProvider', 'customPolicy'],
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
