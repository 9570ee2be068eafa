/**
 * Who gets the grants of `grants:` (pure, from the config alone): the roles a grant's `to` names, each role's
 * grants, and the name of the managed policy that holds them (`<role>-grants`). The grants section makes the
 * policies; every role that carries one lists it as attached by that section.
 */
import type { Config, Grant } from '../config/schema.js';
import { policyArn, type Partition } from '../policy/partition.js';

/** The role names a grantee (`workers`, `projects`, `system`, `node`, or a project) stands for in the config. */
export function granteeRoleNames(config: Config, grantee: string): string[] {
  switch (grantee) {
    case 'workers':
      return config.workersRole ? [config.workersRole.name] : [];
    case 'system':
      return config.systemRole ? [config.systemRole.name] : [];
    case 'node':
      return config.nodeRole ? [config.nodeRole.name] : [];
    case 'projects':
      return config.projectRoles.map((p) => p.roleName);
    default:
      return config.projectRoles.filter((p) => p.project === grantee).map((p) => p.roleName);
  }
}

/** Each role's grants, in the order the config lists them; a role named twice by one grant gets it once. */
export function grantsByRole(config: Config): Map<string, Grant[]> {
  const byRole = new Map<string, Grant[]>();
  for (const g of config.grants) {
    const roles = new Set(g.to.flatMap((t) => granteeRoleNames(config, t)));
    for (const role of roles) byRole.set(role, [...(byRole.get(role) ?? []), g]);
  }
  return byRole;
}

export function grantsPolicyName(role: string): string {
  return `${role}-grants`;
}

/** The ARN of a role's grants policy, when the config gives it grants. */
export function grantsPolicyArnOf(
  config: Config,
  facts: { partition: Partition; accountId: string },
  role: string,
): string | undefined {
  if (config.grants.length === 0 || !grantsByRole(config).has(role)) return undefined;
  return policyArn(facts.partition, facts.accountId, config.path, grantsPolicyName(role));
}
