/**
 * The wizard's question of the target: which chart will install Flyte (or a Union data plane). It decides which
 * roles are made, whom the backend role trusts, and the hand-off files. A config the wizard starts from keeps its
 * target as the default answer.
 */
import { DEFAULT_TARGET, TARGETS, type Target } from '../config/schema.js';
import { draftForTarget, type Draft } from './draft.js';
import type { Choice, Prompter } from './prompter.js';
import { wrap } from './text.js';

/** Said before the question, what differs between the targets: one paragraph, fitted to the terminal. */
export const TARGET_INTRO =
  'Flyte 1 installs with the flyte-binary chart (one backend pod) or flyte-core (a pod per component); Flyte 2 ' +
  "with flyte-binary v2 (task pods in one namespace, as the backend's service account). Union brings its own backend.";

export const TARGET_CHOICES: Record<Target, Omit<Choice<Target>, 'value'>> = {
  'flyte-binary': {
    name: 'flyte-binary v1.16.8 (Flyte 1, the documents)',
    short: 'flyte-binary',
    description: "One backend role for the chart's service account; task pods get the workers or a project role.",
  },
  'flyte-core': {
    name: 'flyte-core v1.16.8 (Flyte 1, a pod per component)',
    short: 'flyte-core',
    description:
      'One backend role trusted by flyteadmin, flytepropeller and datacatalog; task pods as for flyte-binary.',
  },
  flyte2: {
    name: 'flyte-binary v2.0.42 (Flyte 2)',
    short: 'flyte2',
    description: 'One role for the backend and the task pods, which run in the Flyte namespace as its service account.',
  },
  union: {
    name: 'Union data plane',
    short: 'union',
    description: 'Union runs the backend: the bucket policy goes to its task role (global access) or project roles.',
  },
};

export interface TargetQuestionContext {
  prompter: Prompter;
  say(line?: string): void;
  /** A paragraph as lines of the terminal's width (else 80 columns). */
  wrap?(text: string): string[];
  /** Changed in place: the target, and the sections that come and go with it. */
  draft: Draft;
}

/**
 * Ask which chart will install Flyte (the draft's target is the default: a saved config keeps its own), and set the
 * draft up for it (see `draftForTarget`). Returns the target chosen.
 */
export async function askTarget(ctx: TargetQuestionContext): Promise<Target> {
  const current = ctx.draft.target ?? DEFAULT_TARGET;
  ctx.say('');
  for (const line of (ctx.wrap ?? wrap)(TARGET_INTRO)) ctx.say(line);
  const target = await ctx.prompter.select<Target>({
    message: 'Which will install Flyte?',
    choices: TARGETS.map((t) => ({ ...TARGET_CHOICES[t], value: t })),
    default: current,
  });
  const next = draftForTarget(ctx.draft, target);
  for (const key of Object.keys(ctx.draft) as (keyof Draft)[]) if (!(key in next)) delete ctx.draft[key];
  Object.assign(ctx.draft, next);
  return target;
}
