/**
 * The JSON Schema of the CLI's JSON output, generated from the TypeScript types in src/render/json-types.ts, and
 * the fingerprint of its shape that ties it to JSON_FORMAT_VERSION. Used by `npm run schema`
 * (scripts/write-schema.mjs) and by test/unit/output-schema.test.ts; never by the CLI.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const OUTPUT_SCHEMA_FILE = 'schema/output.schema.json';
/** Every formatVersion with the fingerprint of its shape; an entry, once committed, is never changed. */
export const OUTPUT_VERSIONS_FILE = 'schema/output.versions.json';
export const TYPES_FILE = 'src/render/json-types.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `#/definitions/X` (draft-07, as the generator writes it) to `#/$defs/X` (draft 2020-12), everywhere. */
function draft2020(node: Json): Json {
  if (Array.isArray(node)) return node.map(draft2020);
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? v.replace(/^#\/definitions\//, '#/$defs/') : draft2020(v),
    ]),
  );
}

/** The schema of `OutputDocument`, draft 2020-12, as schema/output.schema.json holds it. */
export function outputJsonSchema(): JsonObject {
  const generated = createGenerator({
    path: `${ROOT}${TYPES_FILE}`,
    tsconfig: `${ROOT}tsconfig.json`,
    type: 'OutputDocument',
    expose: 'export',
    jsDoc: 'extended',
    additionalProperties: false,
    // `tsc` checks the types; the generator only reads them.
    skipTypeCheck: true,
  }).createSchema('OutputDocument') as JsonObject;
  const { $ref, definitions } = generated;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'flyte-aws-setup JSON output',
    $comment: `Generated from ${TYPES_FILE} by \`npm run schema\`; do not edit. See docs/json-output.md.`,
    ...(draft2020({ $ref: $ref ?? null, $defs: definitions ?? {} }) as JsonObject),
  };
}

/** The formatVersion the schema's documents carry (its `const`). */
export function schemaFormatVersion(schema: JsonObject): Json | undefined {
  const defs = schema.$defs;
  const version = isObject(defs) ? defs.FormatVersion : undefined;
  return isObject(version) ? version.const : undefined;
}

/** Keywords that say nothing about what a document may hold. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', '$defs', 'definitions', 'title', 'description', 'examples']);
/** Keywords whose array is a set: its order does not matter. */
const UNORDERED = new Set(['required', 'enum', 'anyOf', 'oneOf', 'type']);
/** Keywords whose value maps names (of properties: they count) to schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);

const canonical = (value: Json): string => JSON.stringify(value);
const sortedSet = (list: Json[]): Json[] => [...list].sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1));

/**
 * What the schema accepts, and nothing else: references inlined (so a type's name does not count), descriptions
 * and titles dropped (so a comment does not count), keys and unordered lists sorted.
 */
export function schemaShape(schema: JsonObject): Json {
  const defs = isObject(schema.$defs) ? schema.$defs : {};
  const walk = (node: Json, inlining: readonly string[]): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, inlining));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const key of Object.keys(node).sort()) {
      const value = node[key]!;
      if (ANNOTATIONS.has(key) || key === '$ref') continue;
      if (SCHEMA_MAPS.has(key) && isObject(value)) {
        out[key] = Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((name) => [name, walk(value[name]!, inlining)]),
        );
      } else if (key === 'const' || key === 'enum' || key === 'default') {
        out[key] = Array.isArray(value) && UNORDERED.has(key) ? sortedSet(value) : value;
      } else {
        const walked = walk(value, inlining);
        out[key] = UNORDERED.has(key) && Array.isArray(walked) ? sortedSet(walked) : walked;
      }
    }
    const ref = node.$ref;
    if (typeof ref !== 'string') return out;
    const name = ref.replace(/^#\/\$defs\//, '');
    if (!(name in defs)) throw new Error(`the schema has no definition for ${ref}`);
    // A type that holds itself is named by how far up it is, not by its name.
    const target = inlining.includes(name)
      ? { cycle: inlining.length - inlining.indexOf(name) }
      : walk(defs[name]!, [...inlining, name]);
    return Object.keys(out).length === 0 ? target : { allOf: [target, out] };
  };
  return walk(schema, []);
}

/** The fingerprint of the schema's shape (sha256 of its canonical form). */
export function shapeHash(schema: JsonObject): string {
  return `sha256:${createHash('sha256')
    .update(canonical(schemaShape(schema)))
    .digest('hex')}`;
}

export interface OutputVersions {
  $comment?: string;
  /** formatVersion -> shapeHash. */
  versions: Record<string, string>;
}

export const VERSIONS_COMMENT =
  'Each formatVersion of the JSON output with the fingerprint of its shape (schema/output.schema.json), written by ' +
  '`npm run schema`. An entry is never changed: a new shape needs a new formatVersion (docs/json-output.md).';

/**
 * The versions file with the current schema recorded, or why it cannot be: the shape changed and the version did
 * not, or the version went down.
 */
export function recordVersion(
  recorded: OutputVersions,
  version: number,
  hash: string,
): { ok: true; versions: OutputVersions } | { ok: false; problem: string } {
  const known = recorded.versions[String(version)];
  if (known !== undefined && known !== hash) {
    return {
      ok: false,
      problem:
        `the shape of the JSON output changed, but formatVersion is still ${version}. Raise JSON_FORMAT_VERSION ` +
        `in src/render/format-version.ts, then run \`npm run schema\` again (docs/json-output.md).`,
    };
  }
  const newest = Math.max(0, ...Object.keys(recorded.versions).map(Number));
  if (known === undefined && version < newest) {
    return {
      ok: false,
      problem: `formatVersion ${version} is lower than ${newest}, the newest recorded in ${OUTPUT_VERSIONS_FILE}: versions only go up.`,
    };
  }
  return {
    ok: true,
    versions: { $comment: VERSIONS_COMMENT, versions: { ...recorded.versions, [String(version)]: hash } },
  };
}
