// Runs a command in the terminal it is given and writes its exit code to a file: `node record-exit.mjs FILE CMD...`.
// Ctrl-C reaches both (one process group): this one ignores it, the command decides what to do with it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { writeFileSync } from 'node:fs';

const [file, command, ...args] = process.argv.slice(2);
process.on('SIGINT', () => {});
const child = spawn(command, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  writeFileSync(file, String(code ?? 128 + (constants.signals[signal] ?? 0)));
  process.exit(0);
});
