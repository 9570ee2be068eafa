/** 1. Who and where: the credentials' account and caller, the region, the profile; another can be chosen. */
import type { CallerIdentity } from '../aws/gateway.js';
import { CancelledError, ExitCode, UserError } from '../errors.js';
import * as rules from '../config/rules.js';
import { partitionOfArn, partitionOfRegion } from '../policy/partition.js';
import { answerProblem } from './draft.js';
import { InterruptedByUser } from './prompter.js';
import type { Walk } from './walk.js';

export async function chooseAccount(walk: Walk): Promise<void> {
  const { flags, start, prompter, style: s } = walk.deps;
  walk.profile = flags.profile ?? start?.config.profile;
  let profileChosen = walk.profile !== undefined;
  let region = flags.region ?? start?.config.region;
  let regionChosen = region !== undefined;
  let identity: CallerIdentity | undefined;
  for (;;) {
    region ??= await walk.deps.defaultRegion(walk.profile);
    if (region === undefined) {
      walk.say('');
      walk.say(`No AWS region is set (no AWS_REGION${walk.profile ? `, none in profile ${walk.profile}` : ''}).`);
      region = await askRegion(walk, undefined);
      regionChosen = true;
    } else if (rules.region(region) !== undefined) {
      // AWS_REGION or the profile's region, not checked yet: a value that is no region code is asked again.
      walk.say('');
      const from =
        walk.profile !== undefined ? `AWS_REGION or profile ${walk.profile}` : 'AWS_REGION or the AWS config';
      walk.say(walk.deps.style.warn(`The region "${region}" (from ${from}) ${rules.region(region)}.`));
      region = await askRegion(walk, undefined);
      regionChosen = true;
    }
    walk.region = region;
    identity = await whoAmI(walk);
    const choices = [
      { name: 'Yes, continue', value: 'go' },
      ...(flags.region === undefined ? [{ name: 'Use another region', value: 'region' }] : []),
      ...(flags.profile === undefined ? [{ name: 'Use another AWS profile', value: 'profile' }] : []),
      { name: 'No, stop here', value: 'quit' },
    ];
    if (identity === undefined) {
      choices.shift();
      choices.unshift({ name: 'Try again', value: 'again' });
    } else {
      const partition = partitionOfArn(identity.arn) ?? partitionOfRegion(region);
      walk.say('');
      walk.say(`  Account    ${s.bold(identity.account)}`);
      walk.say(`  Caller     ${identity.arn}`);
      walk.say(`  Partition  ${partition}`);
      walk.say(`  Region     ${s.bold(region)}`);
      walk.say(`  Profile    ${walk.profile ?? '(none: the default credential chain)'}`);
      const expected = start?.config.accountId;
      if (expected !== undefined && expected !== identity.account) {
        walk.say(s.warn(`  The config says accountId: ${expected}; these credentials are for another account.`));
      }
    }
    const next = await prompter.select({
      message: identity ? 'Set up Flyte in this account and region?' : 'What now?',
      choices,
      default: choices[0]!.value,
    });
    if (next === 'go') break;
    if (next === 'quit') throw new CancelledError('Stopped; nothing was changed.', ExitCode.Failure);
    if (next === 'region') {
      region = await askRegion(walk, region);
      regionChosen = true;
    } else if (next === 'profile') {
      walk.profile = await askProfile(walk);
      profileChosen = true;
      if (!regionChosen) region = undefined;
    }
  }
  walk.draft.region = walk.region;
  if (profileChosen && walk.profile !== undefined) walk.draft.profile = walk.profile;
  else delete walk.draft.profile;
  walk.draft.accountId = identity!.account;
}

/** A new AWS session for the region and profile, and who it is; undefined (the error said) when it fails. */
async function whoAmI(walk: Walk): Promise<CallerIdentity | undefined> {
  walk.session?.close();
  walk.session = undefined;
  try {
    return await walk.withSpinner('Asking AWS who you are', async () => {
      walk.session = await walk.deps.connect(walk.region, walk.profile);
      return walk.session.gateway.callerIdentity();
    });
  } catch (err) {
    if (!(err instanceof UserError) || err instanceof InterruptedByUser) throw err;
    walk.say('');
    walk.say(
      walk.deps.style.error(
        `error: ${err.message} (${walk.profile ? `profile ${walk.profile}` : 'the default credential chain'}, region ${walk.region})`,
      ),
    );
    if (err.hint) walk.say(`  ${err.hint}`);
    return undefined;
  }
}

/**
 * Another region, asked until the credentials answer there (a region code EKS or STS cannot be reached in is asked
 * again): a new AWS session for it, and the answers' region.
 */
export async function switchRegion(walk: Walk): Promise<void> {
  for (;;) {
    walk.region = await askRegion(walk, walk.region);
    const identity = await whoAmI(walk);
    if (identity === undefined) continue;
    walk.draft.region = walk.region;
    walk.draft.accountId = identity.account;
    walk.say(`  Region     ${walk.deps.style.bold(walk.region)}`);
    return;
  }
}

export function askRegion(walk: Walk, current: string | undefined): Promise<string> {
  return walk.deps.prompter.input({
    message: 'AWS region',
    ...(current !== undefined ? { default: current } : {}),
    validate: (v) => (v === '' ? 'a region is required, such as eu-west-1' : answerProblem({ region: v }, ['region'])),
  });
}

async function askProfile(walk: Walk): Promise<string | undefined> {
  const names = walk.deps.profiles();
  if (names.length === 0) {
    const answer = await walk.deps.prompter.input({
      message: 'AWS profile (from ~/.aws/config; empty for the default credential chain)',
      validate: (v) => (v === '' ? undefined : answerProblem({ profile: v }, ['profile'])),
    });
    return answer === '' ? undefined : answer;
  }
  const none = '\0default-chain';
  const picked = await walk.deps.prompter.select({
    message: 'AWS profile',
    choices: [
      ...names.map((n) => ({ name: n, value: n })),
      { name: '(none: the default credential chain, e.g. environment variables)', value: none },
    ],
    ...(walk.profile !== undefined ? { default: walk.profile } : {}),
  });
  return picked === none ? undefined : picked;
}
