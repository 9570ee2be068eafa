// `npm test`: the checks of `npm run lint` (tsc, prettier) and every test file (`vitest run`, which builds the CLI
// in its global set-up) at the same time. The tests keep the terminal; lint runs at a lower priority, so it takes
// the CPU the tests leave while they wait on the emulator and child processes, and its output comes at the end.
// Fails when either fails. Arguments go to vitest: `npm test -- test/e2e/apply.test.ts`.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

function run(command, args, options) {
  const child = spawn(command, args, options);
  const done = new Promise((resolve) => {
    child.on('error', (err) => resolve({ code: 1, error: err }));
    child.on('close', (code, signal) => resolve({ code: code ?? 1, signal }));
  });
  return { child, done };
}

// npm_execpath: the npm that runs this script (npm test); else the npm on the PATH.
const lint = process.env.npm_execpath
  ? run(process.execPath, [process.env.npm_execpath, 'run', '--silent', 'lint'], { stdio: ['ignore', 'pipe', 'pipe'] })
  : run('npm run --silent lint', [], { stdio: ['ignore', 'pipe', 'pipe'], shell: true });
try {
  setPriority(lint.child.pid, 10);
} catch {
  // not allowed here: same priority, still at the same time
}
let lintOutput = '';
lint.child.stdout?.on('data', (d) => (lintOutput += d));
lint.child.stderr?.on('data', (d) => (lintOutput += d));
let lintTime = '';
const lintDone = lint.done.then((r) => ((lintTime = seconds()), r));

const tests = run(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
const testResult = await tests.done;
const lintResult = await lintDone;

if (lintResult.code === 0) {
  console.log(`\nnpm run lint (tsc, prettier --check): passed, done at ${lintTime}`);
} else {
  process.stdout.write(`\n${lintOutput}`);
  console.log(
    `npm run lint (tsc, prettier --check): FAILED${lintResult.error ? ` (${lintResult.error.message})` : ''}`,
  );
}
process.exitCode = testResult.code !== 0 ? testResult.code : lintResult.code;
