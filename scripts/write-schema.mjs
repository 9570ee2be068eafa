// Writes schema/flyte-aws-setup.schema.json from the config schema in the code (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../dist/config/schema.js';

const file = new URL('../schema/flyte-aws-setup.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
