/**
 * Saving the wizard's answers as a config file: YAML (JSON for a .json name) with a header that says how to use it,
 * written atomically (a temporary file in the same directory, then a rename or a link), so an interrupted save
 * never leaves a half-written file; an existing file is replaced only when the operator said so.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { link, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Document, isMap, isScalar, isSeq } from 'yaml';
import { UserError } from '../errors.js';
import { draftToSave, type Draft } from './draft.js';
import type { Prompter } from './prompter.js';

export const DEFAULT_CONFIG_FILE = 'flyte-aws-setup.yaml';

const SECTION_KEYS = ['clusterRole', 'nodeRole', 'customPolicy', 'systemRole', 'workersRole', 'tags'];

/** A walk that stopped before its end: why, and what it had applied in AWS by then (one line each). */
export interface Incomplete {
  why: string;
  applied: string[];
}

/**
 * The file's text. `shown` is how the header names the file in its commands. An incomplete walk's file says so in
 * its header, with what was applied and how to continue or undo it.
 */
export function configText(draft: Draft, shown: string, incomplete?: Incomplete): string {
  const data = draftToSave(draft);
  if (extname(shown).toLowerCase() === '.json') return `${JSON.stringify(data, null, 2)}\n`;
  const doc = new Document(data);
  doc.commentBefore = [
    ' flyte-aws-setup config, saved by the wizard: the AWS IAM pieces Flyte needs on Amazon EKS.',
    ...(incomplete === undefined
      ? [
          ` Review:  npx flyte-aws-setup --config ${shown} --dry-run`,
          ` Apply:   npx flyte-aws-setup --config ${shown} --yes   (no questions; run again, it changes nothing)`,
          ` Change:  npx flyte-aws-setup --config ${shown} --interactive`,
        ]
      : [
          ` INCOMPLETE: the wizard ${incomplete.why} before its end. The questions it had not reached yet hold`,
          ' their defaults here: review them before applying this without questions.',
          ' Already applied in AWS:',
          ...incomplete.applied.map((line) => `   ${line}`),
          ` Continue:  npx flyte-aws-setup --config ${shown} --interactive`,
          ` Undo:      npx flyte-aws-setup destroy --config ${shown}   (removes only what flyte-aws-setup made)`,
          ` Review:    npx flyte-aws-setup --config ${shown} --dry-run`,
        ]),
  ].join('\n');
  // The target is the one key whose meaning reaches beyond AWS: say what it decides.
  if (isMap(doc.contents)) {
    const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'target');
    if (pair && isScalar(pair.key)) {
      pair.key.commentBefore =
        ' The chart that installs Flyte (or union): which roles, whom they trust, the hand-off files.';
    }
  }
  // One line per section, as in the documented example.
  for (const key of SECTION_KEYS) {
    const node = doc.get(key, true);
    if (isMap(node)) node.flow = true;
  }
  const projects = doc.get('projectRoles', true);
  if (isSeq(projects)) {
    for (const item of projects.items) {
      if (!isMap(item)) continue;
      for (const key of ['domains', 'extraPolicies']) {
        const list = item.get(key, true);
        if (isSeq(list)) list.flow = true;
      }
    }
  }
  // Lists as [a, b] and mappings as { a: b }, as in the documented example.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false }).replace(/^(\s*[\w$]+: )\{(.*)\}$/gm, '$1{ $2 }');
}

/**
 * Write `text` to `file` atomically. Without `overwrite`, an existing file is left alone and this throws an
 * error with code EEXIST (the file is linked into place, which fails rather than replace).
 */
export async function writeFileAtomic(file: string, text: string, options: { overwrite: boolean }): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, text, { flag: 'wx' });
  try {
    if (options.overwrite) await rename(tmp, file);
    else await linkOrRename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

async function linkOrRename(tmp: string, file: string): Promise<void> {
  try {
    await link(tmp, file);
  } catch (err) {
    // A file system without hard links: check, then rename (only a file created in between could be replaced).
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw err;
    if (existsSync(file)) throw Object.assign(new Error(`${file} exists`), { code: 'EEXIST' });
    await rename(tmp, file);
  }
}

/** `flyte-aws-setup-2.yaml`, `-3`... : the first name beside `file` that does not exist. */
export function freeName(file: string): string {
  const ext = extname(file);
  const stem = file.slice(0, file.length - ext.length).replace(/-\d+$/, '');
  for (let i = 2; ; i++) {
    const candidate = `${stem}-${i}${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}

export interface SavedConfig {
  path: string;
  /** How to name it to the operator: as typed, relative to where the wizard runs. */
  shown: string;
}

/**
 * Ask where to save (default ./flyte-aws-setup.yaml, or the file the wizard started from), ask before replacing an
 * existing file (offering the next free name instead), and write it.
 */
export async function saveConfigAs(
  draft: Draft,
  options: { prompter: Prompter; cwd: string; startFile?: string },
): Promise<SavedConfig> {
  const { prompter, cwd } = options;
  const startFile = options.startFile !== undefined ? resolve(cwd, options.startFile) : undefined;
  let suggestion = options.startFile ?? DEFAULT_CONFIG_FILE;
  for (;;) {
    const answer = await prompter.input({
      message: 'Save the config as',
      default: suggestion,
      validate: (v) => pathProblem(cwd, v),
    });
    const path = resolve(cwd, answer);
    const shown = isAbsolute(answer) ? answer : relative(cwd, path) || answer;
    let overwrite = false;
    if (existsSync(path)) {
      overwrite = await prompter.confirm({
        message:
          path === startFile
            ? `${shown} is the config this wizard started from. Replace it (its comments are not kept)?`
            : `${shown} exists. Replace it?`,
        default: path === startFile,
      });
      if (!overwrite) {
        suggestion = relative(cwd, freeName(path));
        continue;
      }
    }
    try {
      await writeFileAtomic(path, configText(draft, shown), { overwrite });
    } catch (err) {
      // Created meanwhile: ask again.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new UserError(`cannot write ${shown}: ${(err as Error).message}`, { cause: err });
    }
    return { path, shown };
  }
}

function pathProblem(cwd: string, answer: string): string | undefined {
  if (answer === '') return 'give a file name, such as flyte-aws-setup.yaml';
  if (!/\.(ya?ml|json)$/i.test(answer)) return 'the name must end in .yaml, .yml or .json';
  const path = resolve(cwd, answer);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return `there is no directory ${dir}`;
  if (existsSync(path) && statSync(path).isDirectory()) return `${answer} is a directory`;
  return undefined;
}
