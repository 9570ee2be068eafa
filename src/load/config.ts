/**
 * Reading a config file: YAML (or JSON) with positions, the schema, then the rules between keys. Every problem is
 * collected and reported at once, each with its key path and, where the file has it, line and column.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { irsaTrustPolicy, policySize, TRUST_POLICY_MAX } from '../policy/document.js';
import { partitionOfRegion } from '../policy/partition.js';
import { projectNamespace, projectSubjects } from '../sections/project-roles.js';
import { workersSubjects } from '../sections/workers-role.js';
import * as rules from '../config/rules.js';
import {
  CLUSTER_SECTIONS,
  configSchema,
  projectRoleSchema,
  resolveConfig,
  resolveProjectRole,
  sectionEnabled,
  type Config,
  type ProjectRole,
  type RawConfig,
} from '../config/schema.js';

/** Values given on the command line, which take the place of the file's. */
export type ConfigOverrides = Partial<Pick<RawConfig, 'region' | 'profile' | 'cluster' | 'bucket' | 'namespace'>>;

export interface LoadedConfig {
  config: Config;
  file?: string;
}

/** What a YAML syntax error means, in words about the file (the position is given beside it). */
function yamlProblem(code: string, message: string, from: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      const key = /^\s*["']?([^:"'\n]+?)["']?\s*:/.exec(from)?.[1];
      return `not valid YAML: the key ${key !== undefined ? `"${key}" ` : ''}appears twice in the same mapping`;
    }
    case 'MULTIPLE_DOCS':
      return 'not valid YAML for a config: the file holds more than one document (a second starts with ---)';
    default:
      return `not valid YAML: ${message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
  }
}

export async function loadConfigFile(file: string, overrides: ConfigOverrides = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new ConfigError([{ path: [], message: `cannot read the config file: ${why}` }], file);
  }
  return { config: parseConfigText(text, file, overrides), file };
}

/** Parse and validate config text; throws ConfigError listing every problem. */
export function parseConfigText(text: string, file = 'config', overrides: ConfigOverrides = {}): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          path: [],
          message: yamlProblem(e.code, e.message, text.slice(e.pos[0])),
          ...(pos ? { line: pos.line, col: pos.col } : {}),
        };
      }),
      file,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // yaml refuses aliases that expand without bound ("billion laughs").
    throw new ConfigError(
      [{ path: [], message: `not valid as a config: ${(err as Error).message}; a config needs no aliases like these` }],
      file,
    );
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError(
      [{ path: [], message: 'the file is empty: it needs at least `bucket:` (and `cluster:`)' }],
      file,
    );
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(
      [
        {
          path: [],
          message: `the file must be a mapping of keys to values (like "bucket: my-bucket"), not ${describe(raw)}`,
        },
      ],
      file,
    );
  }
  const merged: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const fromFlags = new Set<string>();
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    merged[key] = value;
    fromFlags.add(key);
  }
  try {
    return validateConfig(merged);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const located = err.problems.map((p) => {
      const top = p.path[0];
      if (typeof top === 'string' && fromFlags.has(top)) return { ...p, path: [`--${top}`, ...p.path.slice(1)] };
      return { ...p, ...locate(doc, lineCounter, p.path) };
    });
    throw new ConfigError(sortProblems(located), file);
  }
}

/** Validate a config object (from a file, or the wizard's answers). Throws ConfigError with every problem. */
export function validateConfig(raw: unknown): Config {
  const parsed = configSchema.safeParse(raw);
  const problems: Problem[] = parsed.success ? [] : parsed.error.issues.flatMap((i) => issueToProblems(i, raw));
  // The rules between keys see every key that passed the schema on its own, so all problems come out at once.
  const lenient = parsed.success
    ? { config: parsed.data, projects: parsed.data.projectRoles ?? [] }
    : lenientParse(raw);
  problems.push(
    ...crossChecks(
      resolveConfig(lenient.config),
      lenient.projects.map((p) => p && resolveProjectRole(p)),
      raw,
    ),
  );
  if (problems.length > 0) throw new ConfigError(sortProblems(dedupe(problems)));
  return resolveConfig(parsed.data!);
}

type RawProjectRole = z.infer<typeof projectRoleSchema>;

/** Each key (and each project entry) parsed on its own; what fails is left out. */
function lenientParse(raw: unknown): { config: RawConfig; projects: (RawProjectRole | undefined)[] } {
  const out: Record<string, unknown> = {};
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    if (key === 'projectRoles') continue;
    const r = (schema as z.ZodType).safeParse(input[key]);
    if (r.success) out[key] = r.data;
  }
  const projects = Array.isArray(input.projectRoles)
    ? input.projectRoles.map((entry) => {
        const r = projectRoleSchema.safeParse(entry);
        return r.success ? r.data : undefined;
      })
    : [];
  out.projectRoles = projects.filter((p) => p !== undefined);
  return { config: out as RawConfig, projects };
}

const SECTION_KEYS: Record<string, string[]> = {
  clusterRole: ['name'],
  nodeRole: ['name'],
  customPolicy: ['name'],
  systemRole: ['name', 'serviceAccount', 'extraPolicies'],
  workersRole: ['name', 'serviceAccount', 'allNamespaces', 'namespaces', 'extraPolicies'],
  globalAccess: ['role'],
};

function allowedKeysAt(path: (string | number)[]): string[] {
  if (path.length === 0) return Object.keys(configSchema.shape);
  if (path[0] === 'projectRoles' && path.length === 2) return Object.keys(projectRoleSchema.shape);
  if (path.length === 1 && typeof path[0] === 'string') return SECTION_KEYS[path[0]] ?? [];
  return [];
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value === 'number' ? 'the number' : typeof value === 'boolean' ? 'the boolean' : typeof value} ${String(value)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  number: 'a number',
  record: 'a mapping',
};

function issueToProblems(issue: z.core.$ZodIssue, raw: unknown): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const value = valueAt(raw, path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return [{ path, message: 'is required' }];
      if (issue.expected === 'string' && typeof value === 'number' && path.at(-1) === 'accountId') {
        // YAML reads unquoted digits as a number, and drops leading zeros (an account ID can start with 0).
        return [
          {
            path,
            message:
              `must be a string, not the number ${value}: put the 12 digits in quotes, as in '012345678901' ` +
              '(unquoted, YAML reads a number and drops leading zeros)',
          },
        ];
      }
      return [{ path, message: `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${describe(value)}` }];
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(path);
      return issue.keys.map((key) => {
        const guess = rules.didYouMean(key, allowed);
        return {
          path: [...path, key],
          message: guess
            ? `unknown key; did you mean "${guess}"?`
            : `unknown key; allowed here: ${allowed.filter((k) => k !== '$schema').join(', ')}`,
        };
      });
    }
    case 'invalid_union': {
      const keys = allowedKeysAt(path);
      return [
        {
          path,
          message: `must be true, false (to skip this section) or a mapping with ${keys.join(', ')}; not ${describe(value)}`,
        },
      ];
    }
    case 'invalid_value':
      return [
        {
          path,
          message: `must be one of ${issue.values.map((v) => String(v)).join(', ')}; not ${describe(value)}`,
        },
      ];
    case 'too_small':
      if (issue.origin === 'array') return [{ path, message: 'must not be an empty list' }];
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Rules that span keys. They read the resolved config and name the raw keys. */
function crossChecks(config: Config, projects: (ProjectRole | undefined)[], raw: unknown): Problem[] {
  const problems: Problem[] = [];
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;

  const needCluster = CLUSTER_SECTIONS.filter((id) => sectionEnabled(config, id));
  if (input.cluster === undefined && needCluster.length > 0) {
    problems.push({
      path: ['cluster'],
      message:
        `is required by ${needCluster.join(', ')} (give the EKS cluster name, or turn those off: ` +
        needCluster
          .map((id) =>
            id === 'clusterVpc' ? 'vpcDns: off' : id === 'globalAccess' ? 'no globalAccess' : `${id}: false`,
          )
          .join(', ') +
        ')',
    });
  }

  // Tags: the rules of IAM, and room for the tool's own tag.
  const tags = input.tags;
  if (tags !== null && typeof tags === 'object' && !Array.isArray(tags)) {
    const entries = Object.entries(tags as Record<string, unknown>);
    if (entries.length > rules.MAX_TAGS - 1) {
      problems.push({
        path: ['tags'],
        message: `at most ${rules.MAX_TAGS - 1} tags (IAM allows ${rules.MAX_TAGS} per resource and the tool adds ${rules.MANAGED_BY_KEY}); got ${entries.length}`,
      });
    }
    for (const [key, value] of entries) {
      if (key === rules.MANAGED_BY_KEY) {
        problems.push({
          path: ['tags', key],
          message: `is the tool's own tag (${rules.MANAGED_BY_KEY}: ${rules.MANAGED_BY_VALUE}); remove it`,
        });
        continue;
      }
      const keyProblem = rules.tagKey(key);
      if (keyProblem) problems.push({ path: ['tags', key], message: keyProblem });
      if (typeof value === 'string') {
        const valueProblem = rules.tagValue(value);
        if (valueProblem) problems.push({ path: ['tags', key], message: valueProblem });
      }
    }
  }

  // Policy ARNs must be in the partition of the region.
  if (config.region !== undefined) {
    const partition = partitionOfRegion(config.region);
    const checkArn = (arn: string, path: (string | number)[]) => {
      const p = arn.split(':')[1];
      if (p !== undefined && p !== partition) {
        problems.push({ path, message: `is in partition ${p}, but region ${config.region} is in ${partition}` });
      }
    };
    if (config.permissionsBoundary) checkArn(config.permissionsBoundary, ['permissionsBoundary']);
    if (config.systemRole)
      config.systemRole.extraPolicies.forEach((a, i) => checkArn(a, ['systemRole', 'extraPolicies', i]));
    if (config.workersRole)
      config.workersRole.extraPolicies.forEach((a, i) => checkArn(a, ['workersRole', 'extraPolicies', i]));
    projects.forEach((p, i) =>
      p?.extraPolicies.forEach((a, j) => checkArn(a, ['projectRoles', i, 'extraPolicies', j])),
    );
  }

  // Role names are unique across sections.
  const seenRoles = new Map<string, string>();
  const claimRole = (name: string | undefined, path: (string | number)[]) => {
    if (name === undefined) return;
    const where = seenRoles.get(name.toLowerCase());
    if (where !== undefined) problems.push({ path, message: `role name "${name}" is already used by ${where}` });
    else seenRoles.set(name.toLowerCase(), pathText(path));
  };
  if (config.clusterRole) claimRole(config.clusterRole.name, ['clusterRole', 'name']);
  if (config.nodeRole) claimRole(config.nodeRole.name, ['nodeRole', 'name']);
  if (config.systemRole) claimRole(config.systemRole.name, ['systemRole', 'name']);
  if (config.workersRole) claimRole(config.workersRole.name, ['workersRole', 'name']);

  // Global access attaches the custom policy to a role that exists already; the config must make that policy.
  if (config.globalAccess && config.customPolicy === false) {
    problems.push({
      path: ['globalAccess'],
      message:
        'attaches the custom policy to the existing role, but customPolicy is false; enable customPolicy or remove globalAccess',
    });
  }

  // The workers role's namespaces only mean something when the trust is not widened.
  const workersInput = input.workersRole as Record<string, unknown> | undefined;
  // Read from what the file says: a section that failed validation holds its defaults here.
  if (config.workersRole && workersInput?.allNamespaces !== false && Array.isArray(workersInput?.namespaces)) {
    problems.push({
      path: ['workersRole', 'namespaces'],
      message: 'only applies with allNamespaces: false (allNamespaces: true already trusts every namespace)',
    });
  }

  // Project-domain roles.
  const sizeContext = trustSizeContext(config);
  const seenProjects = new Map<string, number>();
  /** Namespace → where it comes from: two roles must not trust the same namespace's pods. */
  const seenNamespaces = new Map<string, string>();
  projects.forEach((p, i) => {
    if (p === undefined) return;
    const first = seenProjects.get(p.project);
    if (first !== undefined) {
      problems.push({
        path: ['projectRoles', i, 'project'],
        message: `project "${p.project}" is listed twice (also projectRoles[${first}]); list all its domains in one entry`,
      });
    } else {
      seenProjects.set(p.project, i);
      const givenRoleName = (input.projectRoles as Record<string, unknown>[] | undefined)?.[i]?.roleName;
      const derivedProblem = givenRoleName === undefined ? rules.roleName(p.roleName) : undefined;
      if (derivedProblem) {
        problems.push({
          path: ['projectRoles', i, 'project'],
          message: `the role name made from it, "${p.roleName}", ${derivedProblem}; set a shorter roleName`,
        });
      }
      claimRole(p.roleName, [
        'projectRoles',
        i,
        (input.projectRoles as Record<string, unknown>[] | undefined)?.[i]?.roleName !== undefined
          ? 'roleName'
          : 'project',
      ]);
    }
    const seenDomains = new Set<string>();
    p.domains.forEach((d, j) => {
      if (seenDomains.has(d))
        problems.push({ path: ['projectRoles', i, 'domains', j], message: `domain "${d}" is listed twice` });
      seenDomains.add(d);
      const ns = projectNamespace(p.project, d);
      const nsProblem = rules.dnsLabel(ns);
      if (nsProblem) {
        problems.push({ path: ['projectRoles', i, 'domains', j], message: `the namespace "${ns}" ${nsProblem}` });
      }
      const other = seenNamespaces.get(ns);
      if (first !== undefined) return; // a project listed twice is reported once, above
      if (other !== undefined && !other.startsWith(`projectRoles[${i}]`)) {
        problems.push({
          path: ['projectRoles', i, 'domains', j],
          message: `the namespace "${ns}" is also that of ${other}: two roles would trust the same pods; rename a project or domain`,
        });
      } else if (ns === config.namespace) {
        problems.push({
          path: ['projectRoles', i, 'domains', j],
          message: `the namespace "${ns}" is Flyte's own (namespace: ${config.namespace}); a project's tasks need their own namespace`,
        });
      }
      seenNamespaces.set(ns, `projectRoles[${i}] (project ${p.project}, domain ${d})`);
    });
    const size = policySize(irsaTrustPolicy({ ...sizeContext, subjects: projectSubjects(p) }));
    if (size > TRUST_POLICY_MAX) {
      problems.push({
        path: ['projectRoles', i, 'domains'],
        message:
          `the trust policy for ${p.domains.length} namespaces would be about ${size} characters; IAM allows ` +
          `${TRUST_POLICY_MAX} by default. Use fewer domains or shorter names, or have the "Role trust policy length" ` +
          'quota raised and split the project into its own config',
      });
    }
  });
  if (config.globalAccess) {
    const where = seenRoles.get(config.globalAccess.role.toLowerCase());
    if (where !== undefined) {
      problems.push({
        path: ['globalAccess', 'role'],
        message: `"${config.globalAccess.role}" is the role ${where} makes and manages; globalAccess names a role that exists already (the <prefix>-userflyterole of a Union data plane), which the tool never creates`,
      });
    }
  }
  if (config.workersRole && !config.workersRole.allNamespaces) {
    const size = policySize(
      irsaTrustPolicy({ ...sizeContext, subjects: workersSubjects(config.namespace, config.workersRole) }),
    );
    if (size > TRUST_POLICY_MAX) {
      problems.push({
        path: ['workersRole', 'namespaces'],
        message: `the trust policy for these namespaces would be about ${size} characters; IAM allows ${TRUST_POLICY_MAX} by default. Trust fewer namespaces or use allNamespaces: true`,
      });
    }
  }
  return problems;
}

/**
 * An issuer and provider ARN as long as real ones, to size trust policies before the cluster is known (without a
 * region: a long commercial one). A run measures the real document again before sending it.
 */
function trustSizeContext(config: Config): { providerArn: string; issuerUrl: string } {
  const region = config.region ?? 'ap-southeast-5';
  const partition = partitionOfRegion(config.region);
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  const issuerUrl = `https://oidc.eks.${region}.${suffix}/id/${'0'.repeat(32)}`;
  return { issuerUrl, providerArn: `arn:${partition}:iam::000000000000:oidc-provider/${issuerUrl.slice(8)}` };
}

function pathText(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${pathText(p.path)}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

/** Where a key path is in the YAML (the key of its last part); nothing when the key is not in the file. */
function locate(doc: Document, lineCounter: LineCounter, path: (string | number)[]): { line?: number; col?: number } {
  type Ranged = { range?: [number, number, number] | null };
  let node: unknown = doc.contents;
  let range = (node as Ranged | null)?.range ?? undefined;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === part);
      if (pair === undefined) return {};
      range = (pair.key as Ranged).range ?? undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Ranged | undefined;
      if (item === undefined) return {};
      range = item.range ?? undefined;
      node = item;
    } else {
      return {};
    }
  }
  if (range === undefined) return {};
  const pos = lineCounter.linePos(range[0]);
  return { line: pos.line, col: pos.col };
}
