/**
 * The wizard: the documents' sections, one at a time, for an operator at a terminal. It asks who and where, which
 * cluster, the bucket and the names; then, for each section, explains it, plans it, asks, applies it under a
 * spinner and shows the checked result; it ends with a saved config that repeats the setup without questions.
 *
 * The wizard only fills in a config and answers the engine's questions. Facts, plans, changes and checks are the
 * engine's (`makePlan`, `applyPlan`, `waitForCluster`); AWS calls are the gateway's. Its parts: account.ts (who and
 * where), cluster.ts (which cluster, and waiting for it), questions.ts (bucket, names), sections.ts (the sections),
 * finish.ts (save, hand-off, report), sharing one `Walk` (walk.ts).
 */
import { askIdentity } from './identity.js';
import { askTarget } from './target.js';
import { CancelledError } from '../errors.js';
import { gatherFacts } from '../engine/facts.js';
import { chooseAccount } from './account.js';
import { chooseCluster } from './cluster.js';
import { draftConfig } from './draft.js';
import { finish, interrupted, stoppedByError } from './finish.js';
import { InterruptedByUser } from './prompter.js';
import { askSettings } from './questions.js';
import { walkSections } from './sections.js';
import { Walk, type WizardDeps, type WizardOutcome } from './walk.js';

export type { AwsSession, WizardDeps, WizardFlags, WizardOutcome } from './walk.js';

export async function runWizard(deps: WizardDeps): Promise<WizardOutcome> {
  const walk = new Walk(deps);
  try {
    return await run(walk);
  } catch (err) {
    deps.progress.clear();
    if (err instanceof InterruptedByUser) return await interrupted(walk);
    // Stopped on purpose before any change ("No, stop here") needs no report; an error after changes does.
    if (!(err instanceof CancelledError)) await stoppedByError(walk);
    throw err;
  } finally {
    walk.close();
  }
}

async function run(walk: Walk): Promise<WizardOutcome> {
  const s = walk.deps.style;
  walk.say(s.bold('flyte-aws-setup: the AWS IAM pieces Flyte needs on Amazon EKS, one section at a time.'));
  walk.say(
    'Each section is explained and planned; nothing changes until you say yes, and every result is read back and ' +
      'checked. Enter takes the default answer (the setup of the Flyte guide); Ctrl-C stops at any point.',
  );
  await chooseAccount(walk);
  await chooseCluster(walk);
  await askTarget(walk.questionContext());
  await askIdentity(walk.questionContext());
  await askSettings(walk.questionContext());
  walk.facts = await walk.withSpinner('Reading the account and the cluster', () =>
    gatherFacts(walk.gateway, draftConfig(walk.draft)),
  );
  return finish(walk, await walkSections(walk));
}
