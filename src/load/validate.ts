/**
 * Checking a config object: the schema, then the rules between keys. Every problem is collected and reported at
 * once, each with its key path; where the config came from a file, its reader places them at their lines.
 */
import type * as z from 'zod/mini';
import { ConfigError, type Problem } from '../errors.js';
import { pathText } from '../sections/section.js';
import { configRules } from './rules.js';
import * as rules from '../config/rules.js';
import {
  configSchema,
  projectRoleSchema,
  resolveConfig,
  resolveProjectRole,
  type Config,
  type ProjectRole,
  type RawConfig,
} from '../config/schema.js';

/** Values given on the command line, which take the place of the file's. */
export type ConfigOverrides = Partial<Pick<RawConfig, 'region' | 'profile' | 'cluster' | 'bucket' | 'namespace'>>;

export interface LoadedConfig {
  config: Config;
  file?: string;
  /**
   * A problem found later (a policy the config names that does not exist) as the config's own are: at its line
   * and column in the file, or under `--key` when a flag gave the value.
   */
  place(problems: readonly Problem[]): Problem[];
}

/** A config from the command line alone (no file): every problem is named by its flag (`--cluster`). */
export function configFromFlags(overrides: ConfigOverrides): Config {
  try {
    return validateConfig({ ...overrides });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const flagged = err.problems.map((p) =>
      typeof p.path[0] === 'string' ? { ...p, path: [`--${p.path[0]}`, ...p.path.slice(1)] } : p,
    );
    throw new ConfigError(flagged);
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
    const r = (schema as z.ZodMiniType).safeParse(input[key]);
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

/** The keys of the mapping a schema allows (through optional and union wrappers); none when it is no mapping. */
function mappingKeys(schema: z.ZodMiniType | undefined): string[] {
  const def = (schema as { def?: { type?: string } } | undefined)?.def;
  if (schema === undefined || def === undefined) return [];
  if (def.type === 'object') return Object.keys((schema as z.ZodMiniObject).shape);
  if (def.type === 'optional') return mappingKeys((schema as z.ZodMiniOptional).def.innerType as z.ZodMiniType);
  if (def.type === 'union')
    return (schema as z.ZodMiniUnion).def.options.flatMap((o) => mappingKeys(o as z.ZodMiniType));
  return [];
}

function allowedKeysAt(path: (string | number)[]): string[] {
  if (path.length === 0) return Object.keys(configSchema.shape);
  if (path[0] === 'projectRoles' && path.length === 2) return Object.keys(projectRoleSchema.shape);
  if (path[0] === 'cluster' && path.length === 2) return ['name', 'region'];
  if (path.length === 1 && typeof path[0] === 'string')
    return mappingKeys(configSchema.shape[path[0] as keyof typeof configSchema.shape] as z.ZodMiniType | undefined);
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

export function describe(value: unknown): string {
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
      if (path[0] === 'cluster') {
        const what =
          path.length === 1
            ? 'an EKS cluster name, or a list of them (a name, or a mapping with name, region, for each)'
            : 'an EKS cluster name, or a mapping with name, region';
        return [{ path, message: `must be ${what}; not ${describe(value)}` }];
      }
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

/** The rules that span keys (`./rules.ts`), every one of them, on the keys that passed the schema. */
function crossChecks(config: Config, projects: (ProjectRole | undefined)[], raw: unknown): Problem[] {
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return configRules().flatMap((rule) => rule.check({ config, projects, input }));
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

/** A file's values with the command line's in their place, and which keys the command line gave. */
export function withOverrides(
  raw: Record<string, unknown>,
  overrides: ConfigOverrides,
): { merged: Record<string, unknown>; fromFlags: Set<string> } {
  const merged: Record<string, unknown> = { ...raw };
  const fromFlags = new Set<string>();
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    merged[key] = value;
    fromFlags.add(key);
  }
  return { merged, fromFlags };
}

/** `LoadedConfig.place` for a file: a key the command line gave is named by its flag, the others placed in the file. */
export function placer(
  fromFlags: ReadonlySet<string>,
  locate: (path: (string | number)[]) => { line?: number; col?: number },
): (problems: readonly Problem[]) => Problem[] {
  return (problems) =>
    sortProblems(
      problems.map((p) => {
        const top = p.path[0];
        if (typeof top === 'string' && fromFlags.has(top)) return { ...p, path: [`--${top}`, ...p.path.slice(1)] };
        return { ...p, ...locate(p.path) };
      }),
    );
}
