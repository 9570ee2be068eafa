#!/usr/bin/env node
'use strict';

// Node >= 22.1 can keep the code it compiles between runs (a no-op on Node 20): the start-up file, and the IAM policy
// evaluator where it is installed. The CLI's other files have a cache of their own (src/util/compile-cache.ts).
require('node:module').enableCompileCache?.();

// CommonJS, which Node loads faster than an ES module: `--version` and the help are answered in dist/front.cjs,
// everything else by the CLI it loads. Both write through src/util/std-output.ts, which also keeps a reader that
// stops early (`| head`) from crashing a run in the middle of a change.
require('../dist/front.cjs').run(process.argv.slice(2));
