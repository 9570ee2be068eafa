/** Section 7 (seed 003): roles scoped to the namespaces of one project's domains. */
import { USER_FLYTE_ROLE_POLICY, type ProjectRole } from '../config/schema.js';
import { serviceAccountSubject } from '../policy/document.js';
import { policyArn } from '../policy/partition.js';
import { desiredIrsaRole, type SectionDefinition } from './section.js';

export function projectNamespace(project: string, domain: string): string {
  return `${project}-${domain}`;
}

export function projectSubjects(p: ProjectRole): string[] {
  return p.domains.map((d) => serviceAccountSubject(projectNamespace(p.project, d), p.serviceAccount));
}

export const projectRoles: SectionDefinition = {
  id: 'projectRoles',
  title: 'Project-domain roles',
  explain:
    'A project that needs other access than the rest (another bucket, Athena...) gets its own role, trusted only\n' +
    'by the `default` service account of its <project>-<domain> namespaces, with the bucket policy and extra\n' +
    'policies. Flyte uses it there once the project-domain points to it (a cluster resource attribute).',
  needsCluster: true,
  dependsOn: ['oidcProvider', 'customPolicy'],
  desired(ctx) {
    const { partition, accountId } = ctx.facts;
    // Union (seed 003): the project-domain role also carries the data plane's default task permissions.
    const userFlyteRole = policyArn(partition, accountId, '/', USER_FLYTE_ROLE_POLICY);
    return ctx.config.projectRoles.map((p) =>
      desiredIrsaRole(ctx, {
        name: p.roleName,
        description: `Flyte project ${p.project} (IRSA), managed by flyte-aws-setup`,
        subjects: projectSubjects(p),
        extraPolicies: [...(p.userFlyteRolePolicy ? [userFlyteRole] : []), ...p.extraPolicies],
      }),
    );
  },
};
