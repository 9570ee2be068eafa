/**
 * The start-up file: built on its own into dist/front.cjs, which bin/flyte-aws-setup.cjs runs. It prints the version
 * and every command's help from the pages the build wrote into it (`helpPages` in cli.ts, laid out by the same
 * `formatHelp`), without loading the CLI: commander and the definitions of every command's options take longer to
 * load and build than Node takes to start. Any other command line goes to the CLI (dist/cli.cjs), unchanged, loaded
 * through the code cache of src/util/compile-cache.ts.
 */
import { compileCacheDir, installCompileCache } from './util/compile-cache.js';
import { formatHelp, type HelpPage } from './render/help.js';
import { columnsOf } from './render/wrap.js';
import { guardStdStreams, stdOutput } from './util/std-output.js';

/** Set by the build (scripts/build.mjs): every command's help page, by its name ('' for the main command), as JSON. */
declare const FLYTE_AWS_SETUP_HELP_PAGES: string;
/** Set by the build: the package version. */
declare const FLYTE_AWS_SETUP_VERSION: string;
/** Set by the build: a hash of the built CLI's files, which its code cache is kept under. */
declare const FLYTE_AWS_SETUP_BUILD: string;

/** What the start-up file knows: the version, and every command's help page by its name ('' for the main one). */
export interface Answers {
  version: string;
  pages: Readonly<Record<string, HelpPage>>;
}

/**
 * What the CLI prints on stdout (and exits 0 after) for `argv` when it asks for the version or a command's help:
 * `--version`, `-V`, `--help`, `-h`, `help`, `help COMMAND`, `COMMAND --help`, `COMMAND -h`. Undefined for every
 * other command line, which the CLI itself answers.
 */
export function quickAnswer(argv: readonly string[], answers: Answers, width: number): string | undefined {
  // `answers.pages` is read only for a page to print (the start-up file parses them then).
  const page = (name: string | undefined) =>
    name !== undefined && Object.hasOwn(answers.pages, name) ? formatHelp(answers.pages[name]!, width) : undefined;
  const [first, second] = argv;
  if (argv.length === 1) {
    if (first === '--version' || first === '-V') return `${answers.version}\n`;
    if (first === '--help' || first === '-h' || first === 'help') return page('');
  }
  if (argv.length === 2 && first !== '' && second !== '') {
    if (first === 'help') return page(second);
    if (second === '--help' || second === '-h') return page(first);
  }
  return undefined;
}

/** Run the command line: answered here, or by the CLI. */
export function run(argv: string[]): void {
  guardStdStreams();
  // The pages are JSON text, read only when one is printed: a command line that goes to the CLI does not build them.
  let pages: Record<string, HelpPage> | undefined;
  const answers = {
    version: FLYTE_AWS_SETUP_VERSION,
    get pages() {
      return (pages ??= JSON.parse(FLYTE_AWS_SETUP_HELP_PAGES) as Record<string, HelpPage>);
    },
  };
  const stdout = stdOutput('stdout');
  const answer = quickAnswer(argv, answers, columnsOf(stdout));
  if (answer !== undefined) {
    stdout.write(answer);
    return;
  }
  const cacheDir = compileCacheDir(FLYTE_AWS_SETUP_BUILD);
  // Runs that do not talk to AWS run other functions of the CLI's files: data of their own (src/util/compile-cache.ts).
  if (cacheDir !== undefined)
    installCompileCache(__dirname, cacheDir, argv.includes('--offline') ? 'offline' : undefined);
  // Required, not imported: the built CLI is CommonJS (scripts/build.mjs), the start-up file beside it.
  void Promise.resolve()
    .then(() => require('./cli.cjs') as typeof import('./cli.js'))
    .then(
      async ({ main }) => {
        process.exitCode = await main(argv);
      },
      (err: unknown) => {
        // A broken install (dist/cli.cjs or a chunk missing): a message, not a stack of Node's module loader.
        process.stderr.write(
          `error: flyte-aws-setup could not load its command line: ${(err as Error)?.message ?? String(err)}\n` +
            '  install it again (npm install flyte-aws-setup, or npx flyte-aws-setup@latest)\n',
        );
        process.exitCode = 1;
      },
    );
}
