/**
 * Reading a config file: YAML (or JSON) with positions, the schema, then the rules between keys. Every problem is
 * collected and reported at once, each with its key path and, where the file has it, line and column.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
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
  return { ...parseConfig(text, file, overrides), file };
}

/** The keys that appear twice in one mapping, anywhere in the document, each where it appears again. */
function duplicateKeys(root: unknown): { code: string; message: string; at: number }[] {
  const found: { code: string; message: string; at: number }[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          found.push({
            code: 'DUPLICATE_KEY',
            message: 'Map keys must be unique',
            at: pair.key ? nodeStart(pair.key) : 0,
          });
        }
        seen.add(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return found.sort((a, b) => a.at - b.at);
}

function nodeStart(node: unknown): number {
  return (node as { range?: [number, number, number] | null }).range?.[0] ?? 0;
}

/** Parse and validate config text; throws ConfigError listing every problem. */
export function parseConfigText(text: string, file = 'config', overrides: ConfigOverrides = {}): Config {
  return parseConfig(text, file, overrides).config;
}

function parseConfig(text: string, file: string, overrides: ConfigOverrides): Omit<LoadedConfig, 'file'> {
  const lineCounter = new LineCounter();
  // Duplicate keys are found below in one pass: the parser's own check compares every pair of keys of a mapping.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const errors = [...doc.errors.map((e) => ({ code: e.code as string, message: e.message, at: e.pos[0] }))];
  if (errors.length === 0) errors.push(...duplicateKeys(doc.contents));
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        const pos = lineCounter.linePos(e.at);
        return {
          path: [],
          message: yamlProblem(e.code, e.message, text.slice(e.at)),
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
  const place = (problems: readonly Problem[]): Problem[] =>
    sortProblems(
      problems.map((p) => {
        const top = p.path[0];
        if (typeof top === 'string' && fromFlags.has(top)) return { ...p, path: [`--${top}`, ...p.path.slice(1)] };
        return { ...p, ...locate(doc, lineCounter, p.path) };
      }),
    );
  try {
    return { config: validateConfig(merged), place };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(place(err.problems), file);
  }
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
