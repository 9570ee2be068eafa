/**
 * Reading a config file: YAML (or JSON) with positions, the schema, then the rules between keys. Every problem is
 * collected and reported at once, each with its key path and, where the file has it, line and column.
 */
import { readFile } from 'node:fs';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../errors.js';
import type { Config } from '../config/schema.js';
import {
  describe,
  placer,
  validateConfig,
  withOverrides,
  type ConfigOverrides,
  type LoadedConfig,
} from './validate.js';

export { configFromFlags, validateConfig, type ConfigOverrides, type LoadedConfig } from './validate.js';

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

/** A config file, read with the YAML library. */
export async function loadConfigFile(file: string, overrides: ConfigOverrides = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    // fs.readFile, not fs/promises': every run reads its config, and loading that module costs a millisecond.
    text = await new Promise<string>((resolve, reject) =>
      readFile(file, 'utf8', (err, data) => (err ? reject(err) : resolve(data))),
    );
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
  return configFromText(text, file, overrides);
}

/** A config file's text, read with the YAML library, and checked; throws ConfigError listing every problem. */
export function configFromText(text: string, file: string, overrides: ConfigOverrides = {}): LoadedConfig {
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
  const { merged, fromFlags } = withOverrides(raw as Record<string, unknown>, overrides);
  const place = placer(fromFlags, (path) => locate(doc, lineCounter, path));
  try {
    return { config: validateConfig(merged), place };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(place(err.problems), file);
  }
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
