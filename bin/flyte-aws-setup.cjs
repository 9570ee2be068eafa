#!/usr/bin/env node
'use strict';

// Node >= 22.1 can keep the code it compiles between runs (a no-op on Node 20): the start-up file, the file that loads
// the IAM policy evaluator, and the evaluator where it is installed. The CLI's other files have a cache of their own
// (src/util/compile-cache.ts).
require('node:module').enableCompileCache?.();

// A reader that stops early (`| head`) closes the pipe: not an error of this command. Stop writing to it and let
// the run finish, rather than crash in the middle of a change.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

// CommonJS, which Node loads faster than an ES module: `--version` and the help are answered in dist/front.cjs,
// everything else by the CLI it loads.
require('../dist/front.cjs').run(process.argv.slice(2));
