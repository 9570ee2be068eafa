/**
 * The end of a walk: the answers saved, the summary, the hand-off files for Flyte, what to run next; and the report
 * of what was changed when it stops early (Ctrl-C, an error).
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { SectionResult } from '../engine/apply.js';
import { DEFAULT_CONCURRENCY } from '../engine/engine.js';
import { findLeftovers } from '../engine/leftovers.js';
import { ExitCode } from '../errors.js';
import { renderAccessAfterApply } from '../render/access-text.js';
import { renderLeftovers, renderSectionResult, resourceCountText, resourceCounts } from '../render/plan-text.js';
import { sectionById } from '../sections/derived.js';
import { handOff, roleArnsFromResult } from '../session/hand-off.js';
import { factsClusters } from '../model.js';
import { draftConfig, firstClusterName } from './draft.js';
import { sectionIsOn } from './hooks.js';
import { configText, DEFAULT_CONFIG_FILE, freeName, saveConfigAs, writeFileAtomic, type SavedConfig } from './save.js';
import type { SectionsEnd, Walk, WizardOutcome } from './walk.js';

/** 8. The end: saved, summed up, the next command; after a complete walk, the hand-off files. */
export async function finish(walk: Walk, end: SectionsEnd): Promise<WizardOutcome> {
  const { out, outStyle: s } = walk.deps;
  const { results } = walk;
  const file = await saveAnswers(walk);
  out('');
  out(s.bold('Summary'));
  const shown = results.filter((r) => r.outcome !== 'skipped' || sectionIsOn(sectionById(r.id), walk.draft));
  for (const r of shown) out(renderSectionResult(r, s));
  const made = resourceCountText(resourceCounts(results));
  out('');
  out(`${made[0]!.toUpperCase()}${made.slice(1)} in account ${walk.draft.accountId}, region ${walk.region}.`);
  out(`Config saved: ${file.shown}`);
  if (end === 'waiting') {
    out(s.warn(`The sections after the node role wait for the EKS cluster ${waitedFor(walk)}.`));
    out(`When it is ACTIVE, continue with:  npx flyte-aws-setup --config ${file.shown} --interactive`);
    out(`or without questions:               npx flyte-aws-setup --config ${file.shown} --yes`);
    // The questions not reached hold their defaults, which may broaden access (the workers role's every namespace).
    out(
      s.dim(
        '(--dry-run shows the plan first; a change it marks (!) also needs --approve-broadening, as the questions ' +
          'not reached yet hold their defaults)',
      ),
    );
    return { exitCode: ExitCode.Incomplete, configFile: file.path, results };
  }
  if (end === 'failed') {
    out(s.error('The setup stopped at the failure above. Fix its cause, then run the same setup again'));
    out(`(it picks up where this run stopped):  npx flyte-aws-setup --config ${file.shown} --yes`);
    return { exitCode: ExitCode.Failure, configFile: file.path, results };
  }
  const refused = await accessCheck(walk, file.shown);
  // Ctrl-C during the check: the walk ends as interrupted (its config is saved and complete).
  walk.checkpoint();
  await leftoversAfterWalk(walk, file.shown);
  out(`Run it again without questions (it changes nothing when AWS still matches):`);
  out(`  npx flyte-aws-setup --config ${file.shown} --yes`);
  const handoff = await handOffFiles(walk, file.shown);
  return { exitCode: refused ? ExitCode.Failure : handoff, configFile: file.path, results };
}

/** The cluster the walk stopped to wait for: the first that is not ready (the one cluster of most walks). */
function waitedFor(walk: Walk): string | undefined {
  const waiting = walk.facts && factsClusters(walk.facts).find((c) => c.state !== 'ready');
  return waiting?.name ?? firstClusterName(walk.draft.cluster);
}

/**
 * After a complete walk that changed something, what IAM now decides for each Flyte identity, as at the end of an
 * apply (the access check, loaded lazily: it carries the evaluator). True when a needed access is refused.
 */
async function accessCheck(walk: Walk, configShown: string): Promise<boolean> {
  const { out, outStyle, progress } = walk.deps;
  if (!walk.results.some((r) => r.resources.some((x) => x.done.length > 0))) return false;
  progress.start('Evaluating the policies of the Flyte roles');
  let access;
  try {
    const { accessAfterApply } = await import('../access/run.js');
    access = await accessAfterApply(walk.gateway, draftConfig(walk.draft), walk.knownFacts, {
      rerun: `npx flyte-aws-setup --config ${configShown} --yes`,
      concurrency: 1,
      runs: walk.runs,
      reads: walk.accessReads,
    });
  } catch (err) {
    progress.clear();
    out(outStyle.warn(`The access check could not be made: ${(err as Error).message}`));
    return false;
  }
  progress.clear();
  if (access.report.identities.length === 0) return false;
  out('');
  out(renderAccessAfterApply(access.report, access.findings, outStyle));
  out('');
  return access.findings.some((f) => f.code === 'access-denied');
}

/**
 * After a complete walk, the setup's roles the config no longer names (a project taken out under `--interactive`):
 * the walk plans one section at a time, which does not look for them, so they are looked for here as every plan
 * looks for them (ListRoles, a page per 1,000 roles; GetRole for each role with the tool's mark that the config does
 * not name, and the attachments of those that are this setup's), and listed with the command that removes them.
 * Ctrl-C meanwhile ends the walk as interrupted (`withSpinner`).
 */
async function leftoversAfterWalk(walk: Walk, configShown: string): Promise<void> {
  const { out, outStyle: s } = walk.deps;
  const left = await walk.withSpinner("Looking for the setup's roles the config no longer names", () =>
    findLeftovers(walk.gateway, draftConfig(walk.draft), walk.knownFacts, {
      concurrency: DEFAULT_CONCURRENCY,
    }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
  );
  if (left instanceof Error) {
    const { hint } = left as Error & { hint?: string };
    out(s.warn(`The setup's roles the config no longer names could not be looked for: ${left.message}`));
    if (hint !== undefined) out(`  ${hint}`);
    out(`  once it may, npx flyte-aws-setup --config ${configShown} --dry-run lists them`);
    return;
  }
  if (left.length === 0) return;
  out('');
  for (const line of renderLeftovers(left, s)) out(line);
  const adopted = left.some((l) => l.adopted) ? ' (and puts back those it adopted)' : '';
  out(
    s.warn(
      `${left.length} role(s) of this setup that the config no longer names still grant access; --prune removes ` +
        `them${adopted}:`,
    ),
  );
  out(`  npx flyte-aws-setup --config ${configShown} --yes --prune   (--dry-run --prune shows the plan first)`);
  out('');
}

/**
 * The hand-off files for Flyte (Helm values with the role ARNs, cluster resource attributes, ServiceAccounts),
 * as `outputs` writes them; a file that differs from what would be written is replaced only if the user says so.
 */
async function handOffFiles(walk: Walk, configShown: string): Promise<number> {
  const { out, outStyle } = walk.deps;
  const config = draftConfig(walk.draft);
  const union = config.globalAccess !== false || config.projectRoles.some((p) => p.userFlyteRolePolicy);
  const outDir = relative(process.cwd(), join(walk.deps.cwd, 'flyte-aws-setup-out')) || '.';
  out('');
  const outcome = await handOff(
    {
      config,
      facts: walk.knownFacts,
      arns: roleArnsFromResult({ sections: walk.results }),
      sections: walk.results,
      rerun: `flyte-aws-setup --config ${configShown} --yes`,
    },
    {
      outDir: outDir.startsWith('.') || outDir.startsWith('/') ? outDir : `./${outDir}`,
      // The target decides the files; a default-target config with Union's pieces gets Union's (--flavor union).
      ...(union && config.target === 'flyte-binary' ? { flavor: 'union' as const } : {}),
    },
    {
      write: out,
      style: outStyle,
      columns: walk.columns,
      // Nothing changed in this walk: up-to-date files in one line (unless --verbose).
      brief: !walk.deps.verbose && walk.results.every((r) => r.resources.every((x) => x.done.length === 0)),
    },
    {
      confirmReplace: (f) =>
        walk.deps.prompter.confirm({
          message: `${f.shown} differs from what would be written now. Replace it?`,
          default: false,
        }),
    },
  );
  return outcome.code;
}

/** Save the answers (asking where the first time); later saves in the same walk replace that file. */
export async function saveAnswers(walk: Walk): Promise<SavedConfig> {
  const draft = { ...walk.draft };
  draftConfig(draft);
  if (walk.saved) {
    await writeFileAtomic(walk.saved.path, configText(draft, walk.saved.shown), { overwrite: true });
  } else {
    walk.saved = await saveConfigAs(draft, {
      prompter: walk.deps.prompter,
      cwd: walk.deps.cwd,
      ...(walk.deps.start ? { startFile: walk.deps.start.file } : {}),
    });
    walk.say(walk.deps.style.ok(`✓ Saved ${walk.saved.shown}`));
  }
  walk.savedWith = walk.results.length;
  return walk.saved;
}

/** Ctrl-C: what was applied, the answers saved when something was, exit 130. */
export async function interrupted(walk: Walk): Promise<WizardOutcome> {
  walk.say('');
  walk.say(walk.deps.style.warn('Interrupted.'));
  reportApplied(walk, 'Before the interrupt');
  if (changedSinceSaved(walk)) {
    await saveIncomplete(walk, 'was interrupted');
  } else if (walk.saved) {
    walk.say(`The config saved earlier is complete: ${walk.saved.shown}`);
    walk.say(`Continue with:  npx flyte-aws-setup --config ${walk.saved.shown} --interactive`);
  } else {
    walk.say('No config file was written. Run the wizard again: it finds what exists and continues from there.');
  }
  return {
    exitCode: ExitCode.Interrupted,
    ...(walk.saved ? { configFile: walk.saved.path } : {}),
    results: walk.results,
  };
}

/** An error ended the walk: what was applied, and the answers saved when something was. */
export async function stoppedByError(walk: Walk): Promise<void> {
  reportApplied(walk, 'Before this error');
  if (changedSinceSaved(walk)) await saveIncomplete(walk, 'stopped at an error');
}

/** The sections with changes made in AWS (some may have stopped half-way). */
function changedSections(walk: Walk, from = 0): SectionResult[] {
  return walk.results.slice(from).filter((r) => r.resources.some((x) => x.done.length > 0));
}

/** Changes were made in AWS that no saved file of this walk records. */
function changedSinceSaved(walk: Walk): boolean {
  return changedSections(walk, walk.saved ? walk.savedWith : 0).length > 0;
}

/**
 * The answers so far, saved without a question (there is no one to ask), marked incomplete in the file's header
 * with what was applied; so that the walk can be continued, or what it did undone with `destroy --config FILE`.
 * The file this walk saved already is replaced; another existing file never is (the next free name is taken).
 */
async function saveIncomplete(walk: Walk, why: string): Promise<void> {
  const { style: s, cwd } = walk.deps;
  const draft = { ...walk.draft };
  const applied = changedSections(walk).map((r) => {
    const arns = r.resources.filter((x) => x.done.length > 0).map((x) => x.arn);
    return `${r.title}: ${r.outcome === 'interrupted' || r.outcome === 'failed' ? 'partly done' : r.outcome} (${arns.join(', ')})`;
  });
  let path = walk.saved?.path ?? resolve(cwd, walk.deps.start?.file ?? DEFAULT_CONFIG_FILE);
  let overwrite = walk.saved !== undefined;
  // JSON holds no comment to say that it is incomplete: YAML beside it.
  if (/\.json$/i.test(path)) {
    path = path.replace(/\.json$/i, '.yaml');
    overwrite = false;
  }
  try {
    draftConfig(draft);
    for (;;) {
      if (!overwrite && existsSync(path)) path = freeName(path);
      const shown = relative(cwd, path) || path;
      try {
        await writeFileAtomic(path, configText(draft, shown, { why, applied }), { overwrite });
      } catch (err) {
        // Created meanwhile: the next free name.
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !overwrite) continue;
        throw err;
      }
      walk.saved = { path, shown };
      walk.savedWith = walk.results.length;
      break;
    }
  } catch (err) {
    walk.say(s.error(`The answers could not be saved: ${(err as Error).message}`));
    return;
  }
  const { shown } = walk.saved;
  walk.say(
    s.warn(
      `The answers so far are saved in ${shown}, marked incomplete (the questions not reached hold their defaults).`,
    ),
  );
  walk.say(`Continue:  npx flyte-aws-setup --config ${shown} --interactive`);
  walk.say(`Undo:      npx flyte-aws-setup destroy --config ${shown}`);
}

/** What the walk changed in AWS so far. */
export function reportApplied(walk: Walk, when: string): void {
  const changed = changedSections(walk);
  if (changed.length === 0) {
    walk.say(`${when}, nothing was changed in AWS.`);
    return;
  }
  walk.say(`${when}, these changes were made in AWS:`);
  for (const r of changed) walk.say(renderSectionResult(r, walk.deps.style));
}
