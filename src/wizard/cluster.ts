/**
 * 2. Which EKS cluster: one of the region's, or the name of one not created yet; then, when the region has others,
 * which of them take the same roles too (none by default). Or several typed as a list, some in other regions (the
 * name question takes one too, where the region lists none to choose from). And, before the first section that
 * needs the clusters, a cluster that is not there (or not ACTIVE) yet: how to create it (the first), then wait for
 * it or stop.
 */
import { isCode } from '../aws/errors.js';
import { didYouMean } from '../config/rules.js';
import { CancelledError, ExitCode, UserError } from '../errors.js';
import { waitForCluster } from '../engine/cluster-wait.js';
import { roleArn } from '../policy/partition.js';
import { clusterRegion, factsClusters } from '../model.js';
import { clusterRefs } from '../config/schema.js';
import { answerProblem, draftConfig, firstClusterName } from './draft.js';
import { saveAnswers } from './finish.js';
import { switchRegion } from './account.js';
import { InterruptedByUser } from './prompter.js';
import type { Walk } from './walk.js';

export async function chooseCluster(walk: Walk): Promise<void> {
  // Another region is asked when the one given has no such cluster, or EKS cannot be reached there.
  while ((await pickCluster(walk)) === 'another-region') await switchRegion(walk);
}

const NOT_YET = '\0not-created-yet';
const ANOTHER_REGION = '\0another-region';
const TYPED = '\0typed-list';

async function pickCluster(walk: Walk): Promise<'picked' | 'another-region'> {
  const { prompter, flags } = walk.deps;
  // Several clusters from the config the wizard started from: kept as they are (not asked again).
  if (Array.isArray(walk.draft.cluster) && walk.draft.cluster.length > 1) {
    const names = clusterRefs(walk.draft.cluster, walk.draft.region).map((c) => c.name);
    return said(walk, `EKS clusters: ${names.join(', ')} (from the config)`);
  }
  // Given as --cluster, or by the config the wizard started from.
  const given = firstClusterName(walk.draft.cluster);
  const fromFlag = flags.cluster !== undefined && given === flags.cluster;
  const names = await listClusters(walk);
  if (names === 'another-region') return names;
  if (names === undefined) {
    // Listing is a convenience (eks:ListClusters): without it, the name is asked.
    if (fromFlag) return said(walk, `EKS cluster: ${given} (--cluster)`);
    walk.draft.cluster = await clusterList(
      walk,
      `EKS cluster name (an existing one, or the one you will create); several: separated by commas, ` +
        `NAME@REGION for one of another region than ${walk.region}`,
      given ?? 'flyte',
    );
    return 'picked';
  }
  walk.say('');
  if (given !== undefined && !names.includes(given) && names.length > 0) return notFound(walk, given, names);
  if (fromFlag) {
    return said(
      walk,
      `EKS cluster: ${given} (--cluster${names.includes(given!) ? '' : `; not created yet in ${walk.region}`})`,
    );
  }
  if (names.length === 0) {
    walk.say(
      `There is no EKS cluster in ${walk.region} yet. The cluster and node roles can be made now; the wizard then ` +
        'shows how to create the cluster with them, and can wait for it.',
    );
    walk.draft.cluster = await clusterList(
      walk,
      'Name of the EKS cluster you will create; several: separated by commas, NAME@REGION for one of another region',
      given ?? 'flyte',
    );
    return 'picked';
  }
  const choices = names.map((n) => ({ name: n, value: n }));
  choices.push({ name: 'Not created yet (only the cluster and node roles can be done now)', value: NOT_YET });
  choices.push({ name: 'Several clusters, some in other regions (typed next)', value: TYPED });
  const picked = await prompter.select({
    message: `EKS cluster for Flyte (in ${walk.region})`,
    choices,
    default: given ?? names[0]!,
  });
  if (picked === TYPED) {
    walk.draft.cluster = await typedClusters(walk, given ?? names[0]!);
    return 'picked';
  }
  const first = picked === NOT_YET ? await futureNameNotListed(walk, given, names) : picked;
  walk.draft.cluster = await withOthers(walk, first, names);
  return 'picked';
}

/**
 * The same roles assumed from other clusters of the region too (blue/green upgrades, Flyte on several clusters):
 * the cluster chosen, and those picked from the region's others (none by default), as the config writes them.
 */
async function withOthers(walk: Walk, first: string, names: string[]): Promise<string | string[]> {
  const others = names.filter((n) => n !== first);
  if (others.length === 0) return first;
  const list = (picked: string[]) => [first, ...others.filter((n) => picked.includes(n))];
  const picked = await walk.deps.prompter.checkbox({
    message: `Other clusters of ${walk.region} whose pods assume the same roles (none by default)`,
    choices: others.map((n) => ({ name: n, value: n })),
    validate: (values) => answerProblem({ ...walk.draft, cluster: list(values) }, ['cluster']),
  });
  return picked.length === 0 ? first : list(picked);
}

/**
 * Several clusters typed as one list, some of them in other regions: `NAME` for a cluster of the wizard's region,
 * `NAME@REGION` for one of another region, the first the one that names the setup. Saved as the config writes them
 * (`{ name, region }` for another region's); checked as the config's list is. A cluster that does not exist (yet) in
 * its region is waited for, or taken out, before the sections that need it, as from a config file.
 */
async function typedClusters(walk: Walk, first: string): Promise<NonNullable<Walk['draft']['cluster']>> {
  return clusterList(
    walk,
    `EKS clusters whose pods assume the same roles, separated by commas: NAME for one of ${walk.region}, ` +
      'NAME@REGION for one of another region; the first names the setup',
    first,
  );
}

/**
 * A cluster list typed: `NAME` for a cluster of the wizard's region, `NAME@REGION` for one of another region,
 * separated by commas. One name is saved as a name, several as the config's list; checked as the config's list is.
 */
async function clusterList(walk: Walk, message: string, def: string): Promise<NonNullable<Walk['draft']['cluster']>> {
  const entries = (text: string) => {
    const list = text
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '')
      .map((e) => {
        const at = e.lastIndexOf('@');
        if (at < 0) return e;
        const [name, region] = [e.slice(0, at).trim(), e.slice(at + 1).trim()];
        return region === walk.region ? name : { name, region };
      });
    return list.length === 1 && typeof list[0] === 'string' ? list[0] : list;
  };
  const answer = await walk.deps.prompter.input({
    message,
    default: def,
    validate: (v) => {
      const list = entries(v);
      if (Array.isArray(list) && list.length === 0) return 'name at least one cluster';
      return answerProblem({ ...walk.draft, cluster: list }, ['cluster']);
    },
  });
  return entries(answer);
}

function said(walk: Walk, line: string): 'picked' {
  walk.say('');
  walk.say(line);
  return 'picked';
}

/**
 * The clusters of the region; undefined when the caller may not list them; 'another-region' when EKS cannot be
 * reached there (an unknown region, a network problem) and the user chose another region.
 */
async function listClusters(walk: Walk): Promise<string[] | undefined | 'another-region'> {
  const { prompter, style: s } = walk.deps;
  for (;;) {
    try {
      return await walk.withSpinner(`Listing the EKS clusters in ${walk.region}`, () => walk.gateway.listClusters());
    } catch (err) {
      if (isCode(err, 'AccessDenied', 'AccessDeniedException')) {
        walk.say('');
        walk.say(s.warn(`The EKS clusters cannot be listed (${(err as Error).message}).`));
        return undefined;
      }
      if (!(err instanceof UserError) || err instanceof InterruptedByUser) throw err;
      walk.say('');
      walk.say(s.error(`error: EKS in ${walk.region} cannot be reached: ${unreachable(err)}`));
      walk.say(`Check the region (${walk.region}) and the network.`);
      const next = await prompter.select({
        message: 'What now?',
        choices: [
          { name: 'Use another region', value: 'region' },
          { name: 'Try again', value: 'again' },
          { name: 'No, stop here', value: 'quit' },
        ],
        default: 'region',
      });
      if (next === 'quit') throw new CancelledError('Stopped; nothing was changed.', ExitCode.Failure);
      if (next === 'region') return 'another-region';
    }
  }
}

/** An endpoint that does not answer as AWS does (an unknown region behind a proxy, an emulator) said plainly. */
function unreachable(err: UserError): string {
  return /Deserialization error|is not valid JSON|Unexpected token/.test(err.message)
    ? 'its endpoint did not give an AWS answer (is it a region EKS is offered in?)'
    : err.message;
}

/**
 * The name given (`--cluster`, the config) is not a cluster of the region, which has others: a typo, or the wrong
 * region, more likely than a cluster still to be created. Say so, and ask again.
 */
async function notFound(walk: Walk, given: string, names: string[]): Promise<'picked' | 'another-region'> {
  const { prompter, style: s } = walk.deps;
  const guess = didYouMean(given, names);
  const shown = names.length > 8 ? `${names.slice(0, 8).join(', ')} and ${names.length - 8} more` : names.join(', ');
  walk.say(
    s.warn(
      `There is no EKS cluster ${given} in region ${walk.region}. The clusters there: ${shown}.` +
        (guess !== undefined ? ` Did you mean ${guess}?` : ''),
    ),
  );
  const picked = await prompter.select({
    message: `EKS cluster for Flyte (in ${walk.region})`,
    choices: [
      ...names.map((n) => ({ name: n, value: n })),
      { name: `${given}: not created yet (only the cluster and node roles can be done now)`, value: NOT_YET },
      { name: `Use another region (not ${walk.region})`, value: ANOTHER_REGION },
    ],
    default: guess ?? ANOTHER_REGION,
  });
  if (picked === ANOTHER_REGION) return 'another-region';
  const first = picked === NOT_YET ? given : picked;
  // A name given with --cluster stays the one cluster; one from the config was asked again, as without it.
  walk.draft.cluster = walk.deps.flags.cluster !== undefined ? first : await withOthers(walk, first, names);
  return 'picked';
}

function futureName(
  walk: Walk,
  def: string | undefined,
  message = 'Name of the EKS cluster you will create',
): Promise<string> {
  return walk.deps.prompter.input({
    message,
    default: def ?? 'flyte',
    validate: (v) => (v === '' ? 'a cluster name is required' : answerProblem({ cluster: v }, ['cluster'])),
  });
}

/** "Not created yet": the name typed; one that is a region's cluster, or close to one, is pointed out. */
async function futureNameNotListed(walk: Walk, def: string | undefined, names: string[]): Promise<string> {
  const name = await futureName(walk, def !== undefined && !names.includes(def) ? def : undefined);
  if (names.includes(name)) return name;
  const guess = didYouMean(name, names);
  if (guess === undefined) return name;
  const existing = await walk.deps.prompter.confirm({
    message: `${guess} is a cluster of ${walk.region} already. Use ${guess} rather than a new ${name}?`,
    default: true,
  });
  return existing ? guess : name;
}

/** Whether every cluster of the facts is ready: the sections that need the clusters wait for each. */
export function clustersReady(walk: Walk): boolean {
  return factsClusters(walk.knownFacts).every((c) => c.state === 'ready');
}

/**
 * A cluster does not exist (or is not ACTIVE) yet, and the next section needs it: the first such cluster. For the
 * first cluster (the one that may be still to create), how to create it; for another one, its state. The answers
 * are saved; then it waits until that cluster is ready (true), or stops here for later (false).
 */
export async function waitForTheCluster(walk: Walk): Promise<boolean> {
  const { prompter, style: s } = walk.deps;
  const facts = walk.knownFacts;
  const all = factsClusters(facts);
  // The first cluster that is not ready (the one cluster of most configs).
  const notReady = all.findIndex((k) => k.state !== 'ready');
  const index = notReady < 0 ? 0 : notReady;
  const c = all[index]!;
  const name = c.name ?? firstClusterName(walk.draft.cluster)!;
  const region = clusterRegion(c, facts);
  walk.say('');
  walk.say(s.bold(walk.rule(`The EKS cluster ${name}`)));
  if (c.state === 'not-ready') {
    walk.say(`The cluster is ${c.status} and has no OIDC issuer yet; the next sections need it.`);
  } else if (index > 0) {
    walk.say(
      `It does not exist in ${region}, and the next sections need the OIDC issuer of every cluster chosen. ` +
        'Wait for it, or stop here and take it out of the saved config.',
    );
  } else {
    const config = draftConfig(walk.draft);
    const clusterRole = config.clusterRole
      ? roleArn(facts.partition, facts.accountId, config.path, config.clusterRole.name)
      : 'CLUSTER_ROLE_ARN';
    const nodeRole = config.nodeRole
      ? roleArn(facts.partition, facts.accountId, config.path, config.nodeRole.name)
      : 'NODE_ROLE_ARN';
    walk.say(
      `It does not exist yet in ${region}, and the next sections need its OIDC issuer. Create it with the ` +
        'cluster role (put your VPC subnets in), for example:',
    );
    walk.say('');
    walk.say(
      `  aws eks create-cluster --name ${name} --region ${region} --role-arn ${clusterRole} ` +
        '--resources-vpc-config subnetIds=SUBNET_ID_1,SUBNET_ID_2',
    );
    walk.say('');
    walk.say(`Its node groups take the node role: ${nodeRole}`);
  }
  const choice = await prompter.select({
    message: 'Wait for the cluster?',
    choices: [
      {
        name: 'Wait here until it is ACTIVE (the answers are saved first; Ctrl-C stops waiting)',
        value: 'wait',
      },
      { name: 'Stop now, and continue later from the saved config', value: 'stop' },
    ],
    default: 'wait',
  });
  await saveAnswers(walk);
  if (choice === 'stop') return false;

  const { progress } = walk.deps;
  const started = Date.now();
  progress.start(`Waiting for the EKS cluster ${name} to become ACTIVE (Ctrl-C to stop)`);
  let wait;
  try {
    wait = await waitForCluster(walk.gateway, name, {
      ...walk.deps.timing?.clusterWait,
      ...(region !== facts.region ? { region } : {}),
      signal: walk.deps.signal,
      onStatus: (status) =>
        progress.update(
          `Waiting for the EKS cluster ${name} to become ACTIVE: ${status ?? 'not created yet'}, ` +
            `${Math.floor((Date.now() - started) / 60_000)} min so far (Ctrl-C to stop)`,
        ),
    });
  } finally {
    progress.clear();
  }
  if (wait.state === 'aborted') throw new InterruptedByUser();
  walk.say(s.ok(`✓ The EKS cluster ${name} is ready; its OIDC issuer is ${wait.cluster.issuerUrl}`));
  // Every cluster's facts, and the first one's (`cluster`), with the one waited for now ready.
  walk.facts = {
    ...facts,
    ...(index === 0 ? { cluster: wait.cluster } : {}),
    ...(facts.clusters !== undefined
      ? { clusters: facts.clusters.map((k, i) => (i === index ? wait.cluster : k)) }
      : {}),
  };
  return true;
}
