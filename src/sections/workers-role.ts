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
    'Task pods run as the `default` service account of each project-domain namespace. This role trusts that\n' +
    'service account (in every namespace when allNamespaces is true, as the documents do) and carries the\n' +
    'bucket policy.',
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
