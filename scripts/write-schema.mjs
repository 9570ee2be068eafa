// Writes the committed JSON Schemas from the code (run with tsx: `npm run schema`):
// - schema/flyte-aws-setup.schema.json, the config's, from its zod schema;
// - schema/output.schema.json, the JSON output's, from the types in src/render/json-types.ts, and records its
//   shape under JSON_FORMAT_VERSION in schema/output.versions.json. It refuses when the shape changed and the
//   version did not (docs/json-output.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/schema.js';
import { JSON_FORMAT_VERSION } from '../src/render/format-version.js';
import {
  OUTPUT_SCHEMA_FILE,
  OUTPUT_VERSIONS_FILE,
  outputJsonSchema,
  recordVersion,
  shapeHash,
} from './output-schema.js';

const at = (path) => new URL(`../${path}`, import.meta.url);
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

writeFileSync(at('schema/flyte-aws-setup.schema.json'), json(configJsonSchema()));
console.log('wrote schema/flyte-aws-setup.schema.json');

const schema = outputJsonSchema();
let recorded = { versions: {} };
try {
  recorded = JSON.parse(readFileSync(at(OUTPUT_VERSIONS_FILE), 'utf8'));
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
const record = recordVersion(recorded, JSON_FORMAT_VERSION, shapeHash(schema));
if (!record.ok) {
  console.error(`error: ${record.problem}\n${OUTPUT_SCHEMA_FILE} was not written.`);
  process.exit(1);
}
writeFileSync(at(OUTPUT_SCHEMA_FILE), json(schema));
writeFileSync(at(OUTPUT_VERSIONS_FILE), json(record.versions));
console.log(`wrote ${OUTPUT_SCHEMA_FILE} and ${OUTPUT_VERSIONS_FILE} (formatVersion ${JSON_FORMAT_VERSION})`);
