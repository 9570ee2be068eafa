/**
 * The wizard's question of identity: how Flyte's pods get their AWS roles, IRSA (the documents'), EKS Pod Identity,
 * or both while moving from one to the other. Asked after the target; a config the wizard starts from keeps its
 * answer as the default.
 */
import { DEFAULT_IDENTITY, IDENTITY_MODES, type IdentityMode } from '../config/schema.js';
import type { Draft } from './draft.js';
import type { Choice, Prompter } from './prompter.js';
import { wrap } from './text.js';

/** Said before the question, the trade-off in short: one paragraph, fitted to the terminal. */
export const IDENTITY_INTRO =
  "Flyte's pods get their AWS roles through IRSA (the cluster's OIDC provider, as the Flyte guides do) or EKS Pod " +
  'Identity (what AWS recommends where its agent runs). Pod Identity has no wildcard: each namespace gets an ' +
  'association, so a Flyte project added later needs its namespaces in the config and this setup run again.';

export const IDENTITY_CHOICES: Record<IdentityMode, Omit<Choice<IdentityMode>, 'value'>> = {
  irsa: {
    name: "IRSA, the cluster's OIDC provider (the Flyte guides)",
    short: 'IRSA',
    description:
      'Works on every kind of node (Fargate, Windows, EKS Anywhere too); the workers role can trust every namespace.',
  },
  'pod-identity': {
    name: 'EKS Pod Identity',
    short: 'Pod Identity',
    description:
      'No OIDC provider; one association per namespace and service account, made by this setup; no wildcard.',
  },
  both: {
    name: 'Both, to move from IRSA to Pod Identity',
    short: 'both',
    description:
      'Each role trusts both; the associations are made; IRSA keeps working until the annotations are removed.',
  },
};

export interface IdentityQuestionContext {
  prompter: Prompter;
  say(line?: string): void;
  /** A paragraph as lines of the terminal's width (else 80 columns). */
  wrap?(text: string): string[];
  /** Changed in place: `identity`, absent for the default. */
  draft: Draft;
}

/** Ask how the pods get their roles (the draft's answer is the default); returns the answer. */
export async function askIdentity(ctx: IdentityQuestionContext): Promise<IdentityMode> {
  const current = ctx.draft.identity ?? DEFAULT_IDENTITY;
  ctx.say('');
  for (const line of (ctx.wrap ?? wrap)(IDENTITY_INTRO)) ctx.say(line);
  const identity = await ctx.prompter.select<IdentityMode>({
    message: "How do Flyte's pods get their AWS roles?",
    choices: IDENTITY_MODES.map((m) => ({ ...IDENTITY_CHOICES[m], value: m })),
    default: current,
  });
  if (identity === DEFAULT_IDENTITY) delete ctx.draft.identity;
  else ctx.draft.identity = identity;
  return identity;
}
