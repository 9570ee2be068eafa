// `node --import ./test/helpers/import-recorder.mjs ...` appends the URL of every module the process loads to the
// file named by IMPORT_RECORD_FILE, one a line (Node's module customization hooks, which run on their own thread).
import { register } from 'node:module';

register('./import-recorder-hooks.mjs', import.meta.url, { data: { file: process.env.IMPORT_RECORD_FILE } });
