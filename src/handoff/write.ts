/**
 * Putting the hand-off files on disk: each written atomically (a temporary file in the same directory, then a
 * rename, so a reader never sees half a file); a file that already holds the same text is left as it is. A record
 * in the directory (`MANIFEST_FILE`) keeps a hash of each file as the tool wrote it: a file that still has it is the
 * tool's own and is replaced when the config changes; one that holds something else (edited by hand) is kept unless
 * `force` (or the host's `confirmReplace`) says to replace it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CancelledError, ExitCode, UsageError, UserError } from '../errors.js';
import { ATTRIBUTES_DIR, ATTRIBUTES_SCRIPT, EXECUTION_CONFIG_DIR } from './attributes.js';
import { CHARTS } from './charts.js';
import type { HandoffFile } from './files.js';
import { SERVICE_ACCOUNTS_FILE, WORKERS_SERVICE_ACCOUNT_FILE } from './service-accounts.js';

/** What the tool wrote in the directory: each file's path and the sha256 of its text as written. */
export const MANIFEST_FILE = '.flyte-aws-setup-written.json';

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
  ...new Set(Object.values(CHARTS).map((c) => c.valuesFile)),
  ATTRIBUTES_SCRIPT,
  SERVICE_ACCOUNTS_FILE,
  WORKERS_SERVICE_ACCOUNT_FILE,
];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The record of what the tool wrote; empty when there is none or it cannot be read (every file then counts as edited). */
async function readManifest(dir: string): Promise<Map<string, string>> {
  const text = await readText(join(dir, MANIFEST_FILE)).catch(() => undefined);
  const files = new Map<string, string>();
  try {
    const parsed = JSON.parse(text ?? '{}') as { files?: Record<string, unknown> };
    for (const [path, hash] of Object.entries(parsed.files ?? {})) if (typeof hash === 'string') files.set(path, hash);
  } catch {
    // Not ours any more: nothing counts as written by the tool.
  }
  return files;
}

function manifestText(files: Map<string, string>): string {
  const sorted = Object.fromEntries([...files].sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify(
    {
      about:
        'What flyte-aws-setup wrote in this directory: the sha256 of each file as written. A file that still has ' +
        'it is replaced when the config changes; a file edited by hand is kept (until --force).',
      files: sorted,
    },
    null,
    2,
  )}\n`;
}

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
  for (const name of [...KNOWN, MANIFEST_FILE]) {
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
  const written = await readManifest(dir);
  const before = new Map(written);
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
        written.set(f.path, sha256(f.content));
        out.push({ ...base, outcome: 'unchanged' });
        continue;
      }
      // The tool's own earlier file, as it wrote it: replaced without asking.
      const ours = existing !== undefined && written.get(f.path) === sha256(existing);
      if (existing !== undefined && !ours && !options.force) {
        const replace = options.confirmReplace ? await options.confirmReplace({ ...base, outcome: 'kept' }) : false;
        if (!replace) {
          out.push({ ...base, outcome: 'kept' });
          continue;
        }
      }
      await writeAtomic(target, f.content);
      written.set(f.path, sha256(f.content));
      out.push({ ...base, outcome: existing === undefined ? 'written' : 'replaced' });
    }
  } catch (err) {
    await saveManifest(dir, written, before).catch(() => undefined);
    if (err instanceof CancelledError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`could not write the hand-off files in ${dir}: ${e.message}`, {
      hint: 'choose another directory with --out-dir',
      cause: err,
    });
  }
  try {
    await saveManifest(dir, written, before);
  } catch (err) {
    throw new UserError(`could not write ${join(dir, MANIFEST_FILE)}: ${(err as Error).message}`, {
      hint: 'choose another directory with --out-dir',
      cause: err,
    });
  }
  return { dir, files: out, stale: await staleFiles(dir, files) };
}

/** Record what was written (the earlier records of files not written now stay). */
async function saveManifest(dir: string, written: Map<string, string>, before: Map<string, string>): Promise<void> {
  const same = written.size === before.size && [...written].every(([p, h]) => before.get(p) === h);
  if (same) return;
  await writeAtomic(join(dir, MANIFEST_FILE), manifestText(written));
}

async function staleFiles(dir: string, files: HandoffFile[]): Promise<string[]> {
  const wanted = new Set(files.map((f) => f.path));
  const present = async (p: string) => (await stat(join(dir, p)).catch(() => undefined))?.isFile() === true;
  const stale: string[] = [];
  for (const name of KNOWN) if (!wanted.has(name) && (await present(name))) stale.push(name);
  for (const sub of [ATTRIBUTES_DIR, EXECUTION_CONFIG_DIR]) {
    const attrs = await readdir(join(dir, sub)).catch(() => [] as string[]);
    for (const name of attrs.sort()) {
      const p = `${sub}/${name}`;
      if (name.endsWith('.yaml') && !wanted.has(p)) stale.push(p);
    }
  }
  return stale;
}
