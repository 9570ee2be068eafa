/**
 * A code cache for the built CLI's own files (dist/cli.cjs and its chunks), so that a run after the first does not
 * compile them again. Node 20 keeps no compiled code between runs, and Node's own compile cache (22.1 and later)
 * keeps a file's code as it is compiled when the file loads; most of a run's compiling comes later, as each function
 * first runs (the YAML parser, the schema, the SDK's request path). Here each file is compiled with the V8 code cache
 * written by the first run that loaded it, and that cache is written as the run exits, so it holds the functions the
 * run used: an offline dry run takes about 46 ms instead of 83.
 *
 * What it keeps, and where:
 * - one file of V8 data per built file a run loads (the build leaves no import() in them: code that V8 compiles for
 *   a program can import only through Node's experimental API, a warning on Node 20), in `flyte-aws-setup/code/` of
 *   the user's cache directory (`$XDG_CACHE_HOME` where it is set; else `~/.cache`, `~/Library/Caches` on macOS,
 *   `%LOCALAPPDATA%` on Windows), in a directory named for the build (a hash of the built files, which V8 does not
 *   check: it checks only the source's length), the Node version, the architecture and, when a run has any, a hash
 *   of its Node options (but those that load a file first). V8 refuses data of another V8 or other flags; the file
 *   is then compiled as without a cache, and its data written again.
 * - The data decides what code runs, so a directory is used only if it is the user's alone (on POSIX: owned by the
 *   user running the tool, writable by no one else; on Windows it is not checked); made by the tool, it is. Else, and
 *   under `sudo`, nothing is read or written.
 * - A run that uses a directory marks it (its modification time) at most once a day. When a directory is first made
 *   (a new version, a new Node), the tool's directories no run has marked or written for a week are removed: those
 *   of a version or a Node no longer used for about that long. Two versions, or two Nodes, used by turns keep theirs.
 * - Nothing is written when every file loaded had its data; a directory that cannot be made or written is no cache.
 *   A run that writes removes the temporary files of runs killed while writing, once they are an hour old.
 *   `NODE_DISABLE_COMPILE_CACHE` (Node's own switch for its cache, `=1`), set to anything but empty, turns this one
 *   off too.
 * - Off with `node --enable-source-maps`, whose stack traces need Node to compile the files itself.
 * - Runs that do not talk to AWS (`--offline`) keep data of their own (`<file>.offline.v8`): they run the offline
 *   plan where the others run the SDK's request path, through the same file. With the data of the other kind, an
 *   offline dry run took 3 ms longer, compiling on every run what that data lacks.
 *
 * The v8-compile-cache package does the like for every module, keyed by path in a shared temporary directory, with
 * data made before the code ran; this is the part of it the CLI needs, keyed by content, in the user's own directory.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';
import { Script } from 'node:vm';

/** The directory the tool keeps its caches in; undefined when there is no home to keep them in. */
export function cacheHome(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: () => string): string | undefined {
  try {
    if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'flyte-aws-setup');
    if (platform === 'win32') return join(env.LOCALAPPDATA || join(home(), 'AppData', 'Local'), 'flyte-aws-setup');
    if (platform === 'darwin') return join(home(), 'Library', 'Caches', 'flyte-aws-setup');
    return join(home(), '.cache', 'flyte-aws-setup');
  } catch {
    return undefined;
  }
}

/**
 * Where the code cache of this build, on this Node, is kept; undefined when it is turned off, has no place, or
 * source maps are on (`node --enable-source-maps`: Node maps the stack traces of the files it compiles itself).
 * Runs with Node options (on its command line or in `NODE_OPTIONS`) keep theirs apart: V8 refuses data written
 * under other flags (`--max-old-space-size`, often set in CI, is one), and runs with and without them by turns would
 * each compile everything and write their data over the other's.
 */
export function compileCacheDir(
  build: string,
  env: NodeJS.ProcessEnv = process.env,
  sourceMaps = process.sourceMapsEnabled,
  uid = process.getuid?.(),
  execArgv: readonly string[] = process.execArgv,
): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE || sourceMaps) return undefined;
  // Under sudo, root's data in the user's cache directory would be of no use to the user's own runs, and the user's
  // data is not root's to trust.
  if (uid === 0 && env.SUDO_UID !== undefined) return undefined;
  const home = cacheHome(env, process.platform, homedir);
  if (home === undefined) return undefined;
  const options = flagOptions([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]);
  const flags = options.length > 0 ? `-${fnv1a(options.join('\0'))}` : '';
  return join(home, 'code', `${build}-${process.version}-${process.arch}${flags}`);
}

/** Node's options that load a file first: they do not change V8's flags, and their paths may change on every run. */
const LOADING = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);

/**
 * The options that may set V8's flags, without those that load a file (and their paths): a preload at a temporary
 * path (a debugger's, a tracer's) would otherwise make a directory of its own on every run.
 */
function flagOptions(options: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o === '') continue;
    if (LOADING.has(o)) i++;
    else if (!LOADING.has(o.split('=', 1)[0]!)) kept.push(o);
  }
  return kept;
}

/** A short hash of a text (FNV-1a, 32 bits, as 8 hex digits): a name, not a check (node:crypto is not loaded for it). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown;
interface Internals {
  prototype: { _compile: Compile };
  wrap(code: string): string;
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: { paths?: string[] }): string;
  _cache: Record<string, Module>;
}

/**
 * Compile the files in `root` (a directory, as the CommonJS loader names them) with the cache in `dir`, and write the
 * data of those compiled without it when the process exits. Other files load as they always do. A `variant` (a
 * kind of run) keeps data of its own: runs of different kinds run different functions of the same file, and data
 * written by one kind leaves the other compiling what it runs, every time.
 */
export function installCompileCache(root: string, dir: string, variant?: string): void {
  const state = ownState(dir);
  if (state === 'not ours') return;
  if (state !== 'missing' && Date.now() - state.mtimeMs > DAY_MS) {
    try {
      const now = new Date();
      utimesSync(dir, now, now);
    } catch {
      // Not marked: at worst removed after a week by another build's first write, and written again.
    }
  }
  const internals = Module as unknown as Internals;
  const prefix = root.endsWith(sep) ? root : root + sep;
  const compile = internals.prototype._compile;
  /** Files compiled without data: their data is written at exit. */
  const fresh = new Map<string, Script>();
  internals.prototype._compile = function (this: Module, content, filename, ...rest) {
    if (!filename.startsWith(prefix)) return compile.call(this, content, filename, ...rest);
    const file = join(dir, `${basename(filename)}${variant === undefined ? '' : `.${variant}`}.v8`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(file);
    } catch {
      // Not cached yet (or not readable): compiled as without a cache.
    }
    const script = new Script(internals.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected === true) fresh.set(file, script);
    const module = this;
    const require = Object.assign((id: string) => module.require(id), {
      resolve: (request: string, options?: { paths?: string[] }) =>
        internals._resolveFilename(request, module, false, options),
      cache: internals._cache,
    });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(module.exports, module.exports, require, module, filename, dirname(filename));
  };
  process.once('exit', () => writeCache(dir, fresh));
}

const DAY_MS = 24 * 3600 * 1000;
/** How long another build's data, neither written nor marked as used, is kept once a new build writes its own. */
export const OTHER_BUILDS_KEPT_MS = 7 * DAY_MS;
/** The name of a directory of this cache: a build's hash, the Node version, the architecture (and the options' hash). */
const CACHE_DIR_NAME = /^[0-9a-f]{16}-v\d+\.\d+\.\d+-[a-z0-9_]+(-[0-9a-f]{8})?$/;

/** The directory's state: missing, not the user's alone (POSIX), or the user's, with its modification time. */
function ownState(dir: string): 'missing' | 'not ours' | { mtimeMs: number } {
  let stats;
  try {
    stats = statSync(dir);
  } catch {
    return 'missing';
  }
  if (!stats.isDirectory()) return 'not ours';
  // POSIX: owned by the user and writable by no one else. Windows has no such modes, and is not checked.
  const alone = process.getuid === undefined || (stats.uid === process.getuid() && (stats.mode & 0o022) === 0);
  return alone ? { mtimeMs: stats.mtimeMs } : 'not ours';
}

/**
 * Write each script's data. On a build's first write, the tool's other directories that no run has written or marked
 * for a week are removed.
 */
function writeCache(dir: string, fresh: Map<string, Script>): void {
  if (fresh.size === 0) return;
  try {
    const made = mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined;
    for (const [file, script] of fresh) {
      const temporary = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        // Whole or not at all, also when two runs write at once.
        renameSync(temporary, file);
      } catch (err) {
        rmSync(temporary, { force: true });
        throw err;
      }
    }
    // A run killed between writing and renaming leaves its temporary file: removed once it is an hour old.
    const hourAgo = Date.now() - 3600 * 1000;
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.tmp') && statSync(join(dir, name)).mtimeMs < hourAgo)
        rmSync(join(dir, name), { force: true });
    }
    if (made) {
      const parent = dirname(dir);
      const stale = Date.now() - OTHER_BUILDS_KEPT_MS;
      for (const other of readdirSync(parent)) {
        if (other === basename(dir) || !CACHE_DIR_NAME.test(other)) continue;
        const state = ownState(join(parent, other));
        if (typeof state === 'object' && state.mtimeMs < stale) {
          rmSync(join(parent, other), { recursive: true, force: true });
        }
      }
    }
  } catch {
    // A cache that cannot be written is no cache: the next run compiles as this one did.
  }
}
