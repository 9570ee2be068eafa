#!/usr/bin/env node
import module from 'node:module';

// Node >= 22.1 can cache the compiled code between runs (a no-op on Node 20).
module.enableCompileCache?.();

// A reader that stops early (`| head`) closes the pipe: not an error of this command. Stop writing to it and let
// the run finish, rather than crash in the middle of a change.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
