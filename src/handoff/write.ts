/**
 * Putting the hand-off files on disk: each written atomically (a temporary file in the same directory, then a
 * rename, so a reader never sees half a file); a file that already holds the same text is left as it is; one that
 * holds something else is kept unless `force` (or the host's `confirmReplace`) says to replace it.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CancelledError, ExitCode, UsageError, UserError } from '../errors.js';
import { ATTRIBUTES_DIR, ATTRIBUTES_SCRIPT } from './attributes.js';
import type { HandoffFile } from './files.js';
import { FLYTE_BINARY_VALUES, FLYTE_CORE_VALUES } from './helm.js';
import { SERVICE_ACCOUNTS_FILE, WORKERS_SERVICE_ACCOUNT_FILE } from './service-accounts.js';

export type FileOutcome = 'written' | 'replaced' | 'unchanged' | 'kept';

export interface WrittenFile {
  /** Relative to the output directory. */
  path: string;
  /** The output directory joined with `path`, as the operator would type it. */
  shown: string;
  outcome: FileOutcome;
  what: string;
}

export interface WriteResult {
  dir: string;
  files: WrittenFile[];
  /** Files of an earlier hand-off in the directory that this one does not write (left alone). */
  stale: string[];
}

export interface WriteOptions {
  force?: boolean;
  /** Asked about each file that differs when `force` is off (the wizard prompts); absent: keep it. */
  confirmReplace?(file: WrittenFile): Promise<boolean>;
  /** Aborted (Ctrl-C): no file is begun after it; each file written is whole. */
  signal?: AbortSignal;
  /** The exit code of the stop when `signal` aborts (130 for Ctrl-C, 143 for SIGTERM). */
  abortExitCode?: () => ExitCode;
}

/** Every top-level name a hand-off may write, to tell stale files from the operator's own. */
const KNOWN = [
  FLYTE_BINARY_VALUES,
  FLYTE_CORE_VALUES,
  ATTRIBUTES_SCRIPT,
  SERVICE_ACCOUNTS_FILE,
  WORKERS_SERVICE_ACCOUNT_FILE,
];

/** What is at `path` when it is there but is no regular file (a FIFO, a device, a directory...): never read or written. */
async function notAFile(path: string): Promise<string | undefined> {
  const found = await lstat(path).catch(() => undefined);
  if (found === undefined || found.isFile()) return undefined;
  if (found.isFIFO()) return 'a FIFO';
  if (found.isCharacterDevice() || found.isBlockDevice()) return 'a device';
  if (found.isDirectory()) return 'a directory';
  if (found.isSymbolicLink())
    return (await stat(path).catch(() => undefined))?.isFile() ? undefined : 'a link to no file';
  return 'not a regular file';
}

/**
 * Bad input when `dir` exists and is not a directory, or when a file the hand-off writes is there as something
 * that is no file (reading a FIFO would wait for ever); checked before any AWS call.
 */
export async function checkOutDir(dir: string): Promise<void> {
  await checkDirPath(dir);
  for (const name of KNOWN) {
    const what = await notAFile(join(dir, name));
    if (what !== undefined) {
      throw new UsageError(
        `--out-dir ${dir}: ${join(dir, name)} is ${what}, where a hand-off file goes`,
        'remove it, or give another directory with --out-dir',
      );
    }
  }
}

async function checkDirPath(dir: string): Promise<void> {
  if (dir.trim() === '') throw new UsageError('--out-dir is empty', 'give a directory, e.g. --out-dir flyte-out');
  // The directory, or else the nearest of its parents that exists, must be a directory for the files to go there.
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = await stat(at).catch(() => undefined);
    if (found !== undefined) {
      if (found.isDirectory()) return;
      throw new UsageError(
        at === resolve(dir) ? `--out-dir ${dir} is a file, not a directory` : `--out-dir ${dir}: ${at} is a file`,
        'give a directory (it is created if missing)',
      );
    }
    if (dirname(at) === at) return;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write `content` to `path` atomically: a temporary file beside it, then a rename over it. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function writeHandoff(
  dir: string,
  files: HandoffFile[],
  options: WriteOptions = {},
): Promise<WriteResult> {
  const out: WrittenFile[] = [];
  try {
    for (const f of files) {
      if (options.signal?.aborted) {
        throw new CancelledError(
          `Interrupted while writing the hand-off files: ${out.length} of ${files.length} written (each whole), in ${dir}. ` +
            'Write them all with flyte-aws-setup outputs --config FILE.',
          options.abortExitCode?.() ?? ExitCode.Interrupted,
        );
      }
      const target = join(dir, f.path);
      const base = { path: f.path, shown: target, what: f.what };
      const what = await notAFile(target);
      if (what !== undefined) throw new UserError(`${target} is ${what}: it is not read or written over`);
      const existing = await readText(target);
      if (existing === f.content) {
        out.push({ ...base, outcome: 'unchanged' });
        continue;
      }
      if (existing !== undefined && !options.force) {
        const replace = options.confirmReplace ? await options.confirmReplace({ ...base, outcome: 'kept' }) : false;
        if (!replace) {
          out.push({ ...base, outcome: 'kept' });
          continue;
        }
      }
      await writeAtomic(target, f.content);
      out.push({ ...base, outcome: existing === undefined ? 'written' : 'replaced' });
    }
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`could not write the hand-off files in ${dir}: ${e.message}`, {
      hint: 'choose another directory with --out-dir',
      cause: err,
    });
  }
  return { dir, files: out, stale: await staleFiles(dir, files) };
}

async function staleFiles(dir: string, files: HandoffFile[]): Promise<string[]> {
  const wanted = new Set(files.map((f) => f.path));
  const present = async (p: string) => (await stat(join(dir, p)).catch(() => undefined))?.isFile() === true;
  const stale: string[] = [];
  for (const name of KNOWN) if (!wanted.has(name) && (await present(name))) stale.push(name);
  const attrs = await readdir(join(dir, ATTRIBUTES_DIR)).catch(() => [] as string[]);
  for (const name of attrs.sort()) {
    const p = `${ATTRIBUTES_DIR}/${name}`;
    if (name.endsWith('.yaml') && !wanted.has(p)) stale.push(p);
  }
  return stale;
}
