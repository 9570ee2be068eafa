/**
 * The config the wizard builds: a raw config object (the shape of a config file), filled in answer by answer.
 * Every answer is checked by validating the whole draft with the answer in place, with the same code as config
 * files (`validateConfig`): the problems at the asked key are the answer's. So a prompt and a config file say the
 * same thing about the same value, and rules that span keys (role names used twice, a boundary in another
 * partition, a namespace too long) are caught as the answer is given.
 */
import { validateConfig } from '../load/config.js';
import { configSchema, defaultProjectRoleName, resolveConfig, type Config, type RawConfig } from '../config/schema.js';
import { ConfigError, formatProblem, type Problem } from '../errors.js';

export type Draft = Partial<RawConfig>;
export type DraftPath = readonly (string | number)[];

/** The problems at `path` (and below it) in the draft, as the config checks find them. */
export function problemsAt(draft: Draft, path: DraftPath): Problem[] {
  try {
    validateConfig(draft);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.filter((p) => path.every((part, i) => p.path[i] === part));
  }
}

/** What is wrong at `path` in the draft, in the words of the config checks; undefined when it is fine. */
export function problemAt(draft: Draft, path: DraftPath): string | undefined {
  const found = problemsAt(draft, path);
  return found.length === 0 ? undefined : found.map((p) => formatProblem(p)).join('; ');
}

/** The draft as a config the engine reads; throws ConfigError when it is not valid. */
export function draftConfig(draft: Draft): Config {
  return validateConfig(draft);
}

/**
 * A config in the explicit form the wizard saves: every enabled section with its names, as the design's example
 * shows; optional keys only when set.
 */
export function draftFromConfig(c: Config): Draft {
  const d: Draft = {};
  if (c.region !== undefined) d.region = c.region;
  if (c.profile !== undefined) d.profile = c.profile;
  if (c.accountId !== undefined) d.accountId = c.accountId;
  if (c.cluster !== undefined) d.cluster = c.cluster;
  if (c.bucket !== '') d.bucket = c.bucket;
  // Kept only when it is not the default (the cluster's name, else the bucket's).
  if (c.setup !== (c.cluster ?? c.bucket)) d.setup = c.setup;
  d.namespace = c.namespace;
  if (Object.keys(c.tags).length > 0) d.tags = { ...c.tags };
  if (c.permissionsBoundary !== undefined) d.permissionsBoundary = c.permissionsBoundary;
  if (c.path !== '/') d.path = c.path;
  d.clusterRole = c.clusterRole && { name: c.clusterRole.name };
  d.nodeRole = c.nodeRole && { name: c.nodeRole.name };
  d.oidcProvider = c.oidcProvider;
  d.customPolicy = c.customPolicy && { name: c.customPolicy.name };
  d.systemRole = c.systemRole && {
    name: c.systemRole.name,
    serviceAccount: c.systemRole.serviceAccount,
    ...(c.systemRole.extraPolicies.length > 0 ? { extraPolicies: [...c.systemRole.extraPolicies] } : {}),
  };
  d.workersRole = c.workersRole && {
    name: c.workersRole.name,
    serviceAccount: c.workersRole.serviceAccount,
    allNamespaces: c.workersRole.allNamespaces,
    ...(!c.workersRole.allNamespaces && c.workersRole.namespaces.length > 0
      ? { namespaces: [...c.workersRole.namespaces] }
      : {}),
    ...(c.workersRole.extraPolicies.length > 0 ? { extraPolicies: [...c.workersRole.extraPolicies] } : {}),
  };
  d.projectRoles = c.projectRoles.map((p) => ({
    project: p.project,
    domains: [...p.domains],
    ...(p.roleName !== defaultProjectRoleName(p.project) ? { roleName: p.roleName } : {}),
    ...(p.serviceAccount !== 'default' ? { serviceAccount: p.serviceAccount } : {}),
    ...(p.extraPolicies.length > 0 ? { extraPolicies: [...p.extraPolicies] } : {}),
    ...(p.userFlyteRolePolicy ? { userFlyteRolePolicy: true } : {}),
  }));
  if (c.globalAccess !== false) d.globalAccess = { role: c.globalAccess.role };
  if (c.vpcDns !== 'check') d.vpcDns = c.vpcDns;
  return d;
}

/** The documents' setup: every section on, the default names; bucket and cluster still to be given. */
export function defaultDraft(): Draft {
  return draftFromConfig(resolveConfig({ bucket: '' }));
}

/** A section turned back on after a config had it off: the documents' names. */
export function defaultSection(id: 'clusterRole' | 'nodeRole' | 'customPolicy' | 'systemRole' | 'workersRole'): Draft {
  const d = defaultDraft();
  return { [id]: d[id] };
}

/** The draft in the order of the design's example, with the project list only when there is one. */
export function draftToSave(d: Draft): Draft {
  // The schema lists the keys in the design's order; `$schema` is for editors, not an answer.
  const order = Object.keys(configSchema.shape).filter((k) => k !== '$schema') as (keyof RawConfig)[];
  const out: Record<string, unknown> = {};
  for (const key of order) {
    const value = d[key];
    if (value === undefined) continue;
    if (key === 'projectRoles' && Array.isArray(value) && value.length === 0) continue;
    out[key] = value;
  }
  return out as Draft;
}

/** Words for "nothing" in an optional answer whose prompt shows a default (Enter alone keeps the default). */
export function isNone(answer: string): boolean {
  return answer === '' || /^(none|-)$/i.test(answer);
}

/** "a, b c" -> ["a", "b", "c"]. */
export function parseList(answer: string): string[] {
  return isNone(answer) ? [] : answer.split(/[\s,]+/).filter((s) => s !== '');
}

/** "team=ml, cost-center=42" -> { team: 'ml', 'cost-center': '42' }; a string says what is wrong. */
export function parseTags(answer: string): Record<string, string> | string {
  const tags: Record<string, string> = {};
  if (isNone(answer)) return tags;
  for (const part of answer.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return `write tags as key=value, separated by commas (not "${item}")`;
    tags[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return tags;
}

export function formatTags(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
