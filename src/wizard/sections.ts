/**
 * 4. The sections, in the documents' order: for each, its own questions (its wizard hooks), its heading and
 * explanation, its plan, then the shared apply path (the permission check, the wizard's question, the changes under
 * a spinner) and the checked result. A declined section is left out of the saved config.
 */
import { startAccessReads } from '../access/after-apply.js';
import { DEFAULT_TARGET } from '../config/schema.js';
import { servesTarget } from '../sections/derived.js';
import type { SectionResult } from '../engine/apply.js';
import { makePlan } from '../engine/engine.js';
import { planSteps, type Plan } from '../model.js';
import { planIsQuiet, renderSectionBody, renderSectionResult, sectionStatusText } from '../render/plan-text.js';
import { SECTIONS, type SectionDefinition } from '../sections/index.js';
import type { SectionWizardContext } from '../sections/section.js';
import { applyRun } from '../session/apply-run.js';
import type { Output } from '../session/context.js';
import { wizardApprovalHost } from './approval.js';
import { clustersReady, waitForTheCluster } from './cluster.js';
import { answerProblem, draftConfig } from './draft.js';
import { sectionIsOn, turnSectionOff, turnSectionOn } from './hooks.js';
import { InterruptedByUser } from './prompter.js';
import { inSentence, wrap } from './text.js';
import type { SectionsEnd, Walk } from './walk.js';

export async function walkSections(walk: Walk): Promise<SectionsEnd> {
  for (const [index, def] of SECTIONS.entries()) {
    // A section the chosen chart does not use is not offered (flyte2 has no workers or project roles).
    if (!servesTarget(def, walk.draft.target ?? DEFAULT_TARGET)) continue;
    // A section the answers leave out altogether (Pod Identity's associations with IRSA) is not shown either.
    if (def.wizard?.shown !== undefined && !def.wizard.shown(walk.draft)) continue;
    await def.wizard?.before?.(sectionContext(walk, def));
    // With several clusters, each one in turn (the engine plans these sections only when all are ready).
    while (def.needsCluster && !clustersReady(walk) && sectionIsOn(def, walk.draft)) {
      if (!(await waitForTheCluster(walk))) return 'waiting';
    }
    heading(walk, index, def);
    if (!sectionIsOn(def, walk.draft) && !(await turnOn(walk, def))) continue;
    const asked = (await def.wizard?.ask?.(sectionContext(walk, def))) ?? {};
    const result = await applySection(walk, def, asked.approveByDefault ?? true);
    walk.results.push(result);
    if (result.outcome === 'declined') skip(walk, def);
    if (result.outcome === 'interrupted' || walk.deps.signal.aborted) throw new InterruptedByUser();
    if (result.outcome === 'failed' || result.outcome === 'not-run') return 'failed';
  }
  return 'done';
}

/** What a section's wizard hooks are handed. */
function sectionContext(walk: Walk, def: SectionDefinition): SectionWizardContext {
  const { prompter, style } = walk.deps;
  return {
    draft: walk.draft,
    prompter,
    say: (line) => walk.say(line),
    style,
    subheading: (title) => {
      walk.say('');
      walk.say(style.bold(walk.rule(title)));
    },
    wrap: (text) => wrap(text, walk.columns),
    problemAt: answerProblem,
    reading: (text, work) => walk.withSpinner(text, work),
    rolesEndingWith: (suffix) => walk.gateway.rolesEndingWith(suffix),
    plan: async () => (await planSection(walk, def)).sections[0]!,
    cluster: async () => {
      const { cluster } = walk.knownFacts;
      if (cluster.state !== 'ready' && cluster.state !== 'not-ready') return undefined;
      return walk.gateway.describeCluster(cluster.name);
    },
  };
}

/** The section's plan for the answers as they are now: a plan of one section. */
function planSection(walk: Walk, def: SectionDefinition): Promise<Plan> {
  return makePlan(draftConfig(walk.draft), walk.gateway, { only: [def.id], facts: walk.knownFacts, concurrency: 1 });
}

function heading(walk: Walk, index: number, def: SectionDefinition): void {
  const s = walk.deps.style;
  walk.say('');
  walk.say(s.bold(walk.rule(`${index + 1}/${SECTIONS.length}  ${def.title}`)));
  walk.say(s.dim(def.explain));
}

/** A section the config had off (`--config FILE --interactive`): offer to turn it on. */
async function turnOn(walk: Walk, def: SectionDefinition): Promise<boolean> {
  if (def.wizard?.offer) return def.wizard.offer(sectionContext(walk, def));
  walk.say(`Off in the config (${def.off}).`);
  const on = await walk.deps.prompter.confirm({
    message: `Set up the ${inSentence(def.title)} now?`,
    default: false,
  });
  if (on) turnSectionOn(def, walk.draft);
  return on;
}

function skip(walk: Walk, def: SectionDefinition): void {
  turnSectionOff(def, walk.draft);
  walk.say(walk.deps.style.dim(`Skipped; the saved config says ${def.off} (change it there to do it later).`));
  if (def.wizard?.declined !== undefined) walk.say(walk.deps.style.warn(def.wizard.declined));
}

async function applySection(walk: Walk, def: SectionDefinition, approveByDefault: boolean): Promise<SectionResult> {
  const { prompter, style: s, progress } = walk.deps;
  const plan = await walk.withSpinner(`Reading what AWS has for the ${def.title}`, () => planSection(walk, def));
  const section = plan.sections[0]!;
  // A section that is up to date, with nothing to say (not even a note), gets only its result line (unless
  // --verbose).
  const nothingToSay =
    planIsQuiet({ ...plan, sections: [section] }) &&
    section.notes.length === 0 &&
    section.resources.every((r) => r.notes.length === 0);
  if (walk.deps.verbose || !nothingToSay) {
    walk.say('');
    walk.say(`Plan: ${sectionStatusText(section, s)}`);
    for (const line of renderSectionBody(section, s)) walk.say(line);
  }

  const host = wizardApprovalHost({
    prompter,
    say: (line) => walk.say(line),
    style: s,
    securityNote: () => def.wizard?.securityNote,
    approveByDefault,
  });
  const conversation: Output = { out: walk.deps.say, err: walk.deps.say, style: s, errStyle: s, progress };
  const { result, permissions } = await applyRun(plan, walk.gateway, host, conversation, {
    approve: 'section',
    preflight: walk.checkPermissions,
    concurrency: 1,
    signal: walk.deps.signal,
    ...(walk.deps.timing?.consistency ? { consistency: walk.deps.timing.consistency } : {}),
    onStart: () => {
      if (planSteps(plan).length > 0)
        startAccessReads(walk.gateway, draftConfig(walk.draft), plan, 1, walk.accessReads);
    },
    onEvent: (event) => {
      if (event.type === 'section-start') progress.start(`${event.section.title}: starting`);
      else if (event.type === 'section-done') progress.clear();
    },
  });
  walk.runs.push({ plan, result });
  // IAM could not answer (not allowed, or an emulator): said once, not asked again for every section.
  if (permissions === 'not-checked') walk.checkPermissions = false;
  const sectionResult = result.sections[0]!;
  if (sectionResult.outcome !== 'declined') walk.say(renderSectionResult(sectionResult, s));
  return sectionResult;
}
