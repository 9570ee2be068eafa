/**
 * The config the wizard builds: a raw config object (the shape of a config file), filled in answer by answer.
 * Every answer is checked by validating the whole draft with the answer in place, with the same code as config
 * files (`validateConfig`): the problems at the asked key are the answer's. So a prompt and a config file say the
 * same thing about the same value, and rules that span keys (role names used twice, a boundary in another
 * partition, a namespace too long) are caught as the answer is given.
 */
import { validateConfig } from '../load/config.js';
import {
  clusterRefs,
  configSchema,
  DEFAULT_NAMES,
  DEFAULT_TARGET,
  defaultProjectRoleName,
  resolveConfig,
  type Config,
  type RawConfig,
  type SectionId,
  type Target,
} from '../config/schema.js';
import { servesTarget } from '../sections/derived.js';
import { ConfigError, formatProblem, type Problem } from '../errors.js';
import { sectionById } from '../sections/derived.js';
import { SECTIONS } from '../sections/index.js';
import { isNone, type Draft } from '../sections/section.js';
import { inSentence } from './text.js';

export type { Draft } from '../sections/section.js';
export { isNone, parseList } from '../sections/section.js';
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

/**
 * What is wrong with an answer, for the question that asked it: the config checks' words without the config key
 * paths (`projectRoles[0].extraPolicies[0]:`), which a person answering questions never saw; the question says what
 * is asked, and a key a message names is said as the question or section it stands for.
 */
export function answerProblem(draft: Draft, path: DraftPath): string | undefined {
  const found = problemsAt(draft, path);
  if (found.length === 0) return undefined;
  return [...new Set(found.map((p) => plainWords(p.message, draft)))].join('; ');
}

/** A config rule's message with the keys it names said as the questions that set them. */
function plainWords(message: string, draft: Draft): string {
  const project = (i: string) => draft.projectRoles?.[Number(i)]?.project ?? `number ${Number(i) + 1}`;
  return message
    .replace(/projectRoles\[(\d+)\] \(project ([^,)]+), domain ([^)]+)\)/g, 'the project $2, domain $3')
    .replace(/projectRoles\[(\d+)\]/g, (_m, i: string) => `the project ${project(i)}`)
    .replace(/\b([a-z]+Role|customPolicy)\.name\b/g, (m, id: string) =>
      SECTIONS.some((s) => s.id === id) ? `the ${inSentence(sectionById(id as SectionId).title)}` : m,
    )
    .replace(/; set a shorter roleName$/, '; use a shorter project name')
    .replace(/ or use allNamespaces: true$/, ' or choose "every namespace"')
    .replace(/ \(namespace: [^)]+\)/, ' (the Flyte namespace)');
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
  if (c.clusters.length > 1)
    d.cluster = c.clusters.map((k) => (k.region === undefined ? k.name : { name: k.name, region: k.region }));
  else if (c.cluster !== undefined) d.cluster = c.cluster;
  if (c.bucket !== '') d.bucket = c.bucket;
  // Kept only when it is not the default (the cluster's name, else the bucket's).
  if (c.setup !== (c.cluster ?? c.bucket)) d.setup = c.setup;
  d.namespace = c.namespace;
  if (c.target !== DEFAULT_TARGET) d.target = c.target;
  if (c.identity !== 'irsa') d.identity = c.identity;
  if (Object.keys(c.tags).length > 0) d.tags = { ...c.tags };
  if (c.permissionsBoundary !== undefined) d.permissionsBoundary = c.permissionsBoundary;
  if (c.path !== '/') d.path = c.path;
  d.clusterRole = c.clusterRole && { name: c.clusterRole.name };
  d.nodeRole = c.nodeRole && { name: c.nodeRole.name };
  d.oidcProvider = c.oidcProvider;
  d.customPolicy = c.customPolicy && { name: c.customPolicy.name };
  // A section the target does not serve stays out of the file (it is off; the config rules refuse it there).
  const serves = (id: 'systemRole' | 'workersRole' | 'projectRoles') => servesTarget(id, c.target);
  if (serves('systemRole')) {
    d.systemRole = c.systemRole && {
      name: c.systemRole.name,
      // flyte-core names its components' service accounts; the other charts run the backend as one.
      ...(c.target === 'flyte-core'
        ? c.systemRole.serviceAccounts !== undefined
          ? { serviceAccounts: [...c.systemRole.serviceAccounts] }
          : {}
        : { serviceAccount: c.systemRole.serviceAccount }),
      ...(c.systemRole.extraPolicies.length > 0 ? { extraPolicies: [...c.systemRole.extraPolicies] } : {}),
    };
  }
  if (serves('workersRole')) d.workersRole = workersDraft(c);
  d.projectRoles = serves('projectRoles') ? projectsDraft(c) : [];
  if (c.globalAccess !== false) d.globalAccess = { role: c.globalAccess.role };
  if (c.vpcDns !== 'check') d.vpcDns = c.vpcDns;
  return d;
}

/**
 * The draft with another target (the wizard's question): the sections that target does not serve leave it, the
 * ones it serves and the draft lacks come back with their defaults, and the backend's service accounts are written
 * the target's way.
 */
export function draftForTarget(draft: Draft, target: Target): Draft {
  const d: Draft = { ...draft };
  if (target === DEFAULT_TARGET) delete d.target;
  else d.target = target;
  const defaults = draftFromConfig(resolveConfig({ bucket: '', target }));
  for (const id of ['systemRole', 'workersRole'] as const) {
    if (!servesTarget(id, target)) delete d[id];
    else if (d[id] === undefined) d[id] = defaults[id] as never;
  }
  if (!servesTarget('projectRoles', target)) d.projectRoles = [];
  const system = d.systemRole;
  if (system !== undefined && typeof system === 'object') {
    const { serviceAccount, serviceAccounts, ...rest } = system;
    d.systemRole =
      target === 'flyte-core'
        ? { ...rest, ...(serviceAccounts !== undefined ? { serviceAccounts } : {}) }
        : { ...rest, serviceAccount: serviceAccount ?? DEFAULT_NAMES.systemServiceAccount };
  }
  return d;
}

function workersDraft(c: Config): Draft['workersRole'] {
  return (
    c.workersRole && {
      name: c.workersRole.name,
      serviceAccount: c.workersRole.serviceAccount,
      allNamespaces: c.workersRole.allNamespaces,
      ...(!c.workersRole.allNamespaces && c.workersRole.namespaces.length > 0
        ? { namespaces: [...c.workersRole.namespaces] }
        : {}),
      ...(c.workersRole.extraPolicies.length > 0 ? { extraPolicies: [...c.workersRole.extraPolicies] } : {}),
    }
  );
}

function projectsDraft(c: Config): NonNullable<Draft['projectRoles']> {
  return c.projectRoles.map((p) => ({
    project: p.project,
    domains: [...p.domains],
    ...(p.roleName !== defaultProjectRoleName(p.project) ? { roleName: p.roleName } : {}),
    ...(p.serviceAccount !== 'default' ? { serviceAccount: p.serviceAccount } : {}),
    ...(p.extraPolicies.length > 0 ? { extraPolicies: [...p.extraPolicies] } : {}),
    ...(p.userFlyteRolePolicy ? { userFlyteRolePolicy: true } : {}),
  }));
}

/** The documents' setup: every section on, the default names; bucket and cluster still to be given. */
export function defaultDraft(): Draft {
  return draftFromConfig(resolveConfig({ bucket: '' }));
}

/** A section turned back on after a config had it off: its key (the section's id) as the documents set it. */
export function defaultSection(id: SectionId): Draft {
  const d: Record<string, unknown> = defaultDraft();
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

/** The name of the draft's (first) cluster. */
export function firstClusterName(cluster: RawConfig['cluster']): string | undefined {
  return clusterRefs(cluster)[0]?.name;
}
