/**
 * What the hand-off files are made from: the config's names and the role ARNs as AWS reports them. Pure: the
 * ARNs come in from a plan (the `outputs` command) or from a run's result (after `apply`).
 */
import { DEFAULT_DOMAINS, type Config, type IdentityMode, type SectionId, type Target } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Facts } from '../model.js';
import { sectionEnabled } from '../sections/derived.js';
import { projectNamespace } from '../sections/project-roles.js';
import { backendServiceAccounts } from '../sections/system-role.js';

export const FLAVORS = ['flyte', 'union'] as const;
/**
 * The `--flavor` flag of the hand-off, kept as an alias of the target: `union` writes Union's files (for a config
 * whose target is union, or flyte-binary, the default); `flyte` writes those of the config's Flyte target.
 */
export type Flavor = (typeof FLAVORS)[number];

/** The task pods' service account when nothing sets one: Kubernetes' `default`. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

export interface ProjectHandoff {
  project: string;
  domains: string[];
  serviceAccount: string;
  roleName: string;
  arn: string;
}

export interface HandoffInput {
  /** Whose files: the chart that installs Flyte, or Union. */
  target: Target;
  /** How the pods assume their roles (absent: `irsa`): with Pod Identity no service account is annotated. */
  identity?: IdentityMode;
  accountId: string;
  region: string;
  cluster?: string;
  bucket: string;
  /** The Flyte control-plane namespace. */
  namespace: string;
  /** The domains the cluster resource templates get a `defaultIamRole` for. */
  domains: string[];
  /** The backend role and the service accounts (in `namespace`) it is for. */
  system?: { roleName: string; arn: string; serviceAccounts: string[] };
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

/** Whose hand-off files to write: the config's target, or Union's with `--flavor union` (the flag's old meaning). */
export function handoffTarget(config: Pick<Config, 'target'>, flavor: Flavor | undefined): Target {
  if (flavor === undefined) return config.target;
  if (flavor === 'union') {
    if (config.target === 'flyte-core' || config.target === 'flyte2') {
      throw new UsageError(
        `--flavor union writes Union's hand-off files, but the config's target is ${config.target}`,
        'drop --flavor (the target decides the files), or set target: union in the config',
      );
    }
    return 'union';
  }
  if (config.target === 'union') {
    throw new UsageError(
      "--flavor flyte writes Flyte's hand-off files, but the config's target is union",
      'drop --flavor (the target decides the files), or set target to a Flyte chart in the config',
    );
  }
  return config.target;
}

/**
 * The hand-off input, or what is missing for it. `arns` maps role names to their ARN as AWS reports it, for the
 * roles that exist; `why` says why a role is not there (e.g. its section waits for the cluster).
 */
export function handoffInput(
  config: Config,
  facts: Facts,
  arns: ReadonlyMap<string, string>,
  target: Target = config.target,
  why: (section: SectionId) => string = () => 'it does not exist yet',
): { input: HandoffInput; missing: MissingRole[] } {
  const missing: MissingRole[] = [];
  const arnOf = (section: SectionId, roleName: string): string => {
    const arn = arns.get(roleName);
    if (arn === undefined) missing.push({ section, roleName, reason: why(section) });
    return arn ?? '';
  };
  const s = config.systemRole;
  const system =
    s === false || !sectionEnabled(config, 'systemRole')
      ? undefined
      : { roleName: s.name, arn: arnOf('systemRole', s.name), serviceAccounts: backendServiceAccounts(config, s) };
  const w = config.workersRole;
  const workers =
    w === false || !sectionEnabled(config, 'workersRole')
      ? undefined
      : {
          roleName: w.name,
          arn: arnOf('workersRole', w.name),
          serviceAccount: w.serviceAccount,
          namespaces: w.allNamespaces ? ('*' as const) : [...new Set([config.namespace, ...w.namespaces])],
        };
  const projects = sectionEnabled(config, 'projectRoles') ? config.projectRoles : [];
  const input: HandoffInput = {
    target,
    ...(config.identity !== 'irsa' ? { identity: config.identity } : {}),
    accountId: facts.accountId,
    region: facts.region,
    ...(config.cluster !== undefined ? { cluster: config.cluster } : {}),
    bucket: config.bucket,
    namespace: config.namespace,
    domains: handoffDomains(config),
    ...(system ? { system } : {}),
    ...(workers ? { workers } : {}),
    projects: projects.map((p) => ({
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

/**
 * The service account Flyte 1 runs task pods as where no project-domain says otherwise: the workers role's (the
 * backend's config names it when it is not `default`).
 */
export function taskServiceAccount(input: HandoffInput): string {
  return input.workers?.serviceAccount ?? DEFAULT_SERVICE_ACCOUNT;
}

/** The projects whose pods must run as another service account than the default task one (Flyte 1). */
export function projectsWithOwnAccount(input: HandoffInput): ProjectHandoff[] {
  return input.projects.filter((p) => p.serviceAccount !== taskServiceAccount(input));
}
