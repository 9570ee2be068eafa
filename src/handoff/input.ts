/**
 * What the hand-off files are made from: the config's names and the role ARNs as AWS reports them. Pure: the
 * ARNs come in from a plan (the `outputs` command) or from a run's result (after `apply`).
 */
import { DEFAULT_DOMAINS, type Config, type SectionId } from '../config/schema.js';
import type { Facts } from '../model.js';
import { projectNamespace } from '../sections/project-roles.js';

export const FLAVORS = ['flyte', 'union'] as const;
/** `flyte`: open-source Flyte (flytectl, `defaultIamRole`); `union`: Union (uctl, `defaultUserRoleValue`). */
export type Flavor = (typeof FLAVORS)[number];

export interface ProjectHandoff {
  project: string;
  domains: string[];
  serviceAccount: string;
  roleName: string;
  arn: string;
}

export interface HandoffInput {
  flavor: Flavor;
  accountId: string;
  region: string;
  cluster?: string;
  bucket: string;
  /** The Flyte control-plane namespace. */
  namespace: string;
  /** The domains the cluster resource templates get a `defaultIamRole` for. */
  domains: string[];
  system?: { roleName: string; arn: string; serviceAccount: string };
  workers?: {
    roleName: string;
    arn: string;
    serviceAccount: string;
    /** The namespaces its trust lets in; `*` for every namespace. */
    namespaces: string[] | '*';
  };
  projects: ProjectHandoff[];
}

/** A role the hand-off needs that AWS does not hold (yet), and why. */
export interface MissingRole {
  section: SectionId;
  roleName: string;
  reason: string;
}

/** Every domain Flyte is set up with: the default three, then any other a project names. */
export function handoffDomains(config: Config): string[] {
  return [...new Set([...DEFAULT_DOMAINS, ...config.projectRoles.flatMap((p) => p.domains)])];
}

/**
 * The hand-off input, or what is missing for it. `arns` maps role names to their ARN as AWS reports it, for the
 * roles that exist; `why` says why a role is not there (e.g. its section waits for the cluster).
 */
export function handoffInput(
  config: Config,
  facts: Facts,
  arns: ReadonlyMap<string, string>,
  flavor: Flavor,
  why: (section: SectionId) => string = () => 'it does not exist yet',
): { input: HandoffInput; missing: MissingRole[] } {
  const missing: MissingRole[] = [];
  const arnOf = (section: SectionId, roleName: string): string => {
    const arn = arns.get(roleName);
    if (arn === undefined) missing.push({ section, roleName, reason: why(section) });
    return arn ?? '';
  };
  const system =
    config.systemRole === false
      ? undefined
      : {
          roleName: config.systemRole.name,
          arn: arnOf('systemRole', config.systemRole.name),
          serviceAccount: config.systemRole.serviceAccount,
        };
  const w = config.workersRole;
  const workers =
    w === false
      ? undefined
      : {
          roleName: w.name,
          arn: arnOf('workersRole', w.name),
          serviceAccount: w.serviceAccount,
          namespaces: w.allNamespaces ? ('*' as const) : [...new Set([config.namespace, ...w.namespaces])],
        };
  const input: HandoffInput = {
    flavor,
    accountId: facts.accountId,
    region: facts.region,
    ...(config.cluster !== undefined ? { cluster: config.cluster } : {}),
    bucket: config.bucket,
    namespace: config.namespace,
    domains: handoffDomains(config),
    ...(system ? { system } : {}),
    ...(workers ? { workers } : {}),
    projects: config.projectRoles.map((p) => ({
      project: p.project,
      domains: p.domains,
      serviceAccount: p.serviceAccount,
      roleName: p.roleName,
      arn: arnOf('projectRoles', p.roleName),
    })),
  };
  return { input, missing };
}

/** Every project-domain namespace of the config's project roles. */
export function projectNamespaces(p: Pick<ProjectHandoff, 'project' | 'domains'>): string[] {
  return p.domains.map((d) => projectNamespace(p.project, d));
}
