// `node --import ./test/helpers/import-recorder.mjs ...` appends the URL of every module the process loads to the
// file named by IMPORT_RECORD_FILE, one a line: ES modules through Node's module customization hooks (which run on
// their own thread), files that CommonJS code requires through the CommonJS loader (which those hooks do not see
// on Node 20).
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.env.IMPORT_RECORD_FILE;
register('./import-recorder-hooks.mjs', import.meta.url, { data: { file } });

const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (file && !Module.isBuiltin(request)) {
    const path = Module._resolveFilename(request, parent, isMain);
    if (isAbsolute(path)) appendFileSync(file, `${pathToFileURL(path).href}\n`);
  }
  return load.apply(this, arguments);
};
