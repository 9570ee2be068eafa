// Writes schema/flyte-aws-setup.schema.json from the config schema in the code (run with tsx: `npm run schema`).
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/schema.js';

const file = new URL('../schema/flyte-aws-setup.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
