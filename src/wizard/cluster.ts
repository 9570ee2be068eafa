/**
 * 2. Which EKS cluster: one of the region's, or the name of one not created yet. And, before the first section that
 * needs it, a cluster that is not there (or not ACTIVE) yet: how to create it, then wait for it or stop.
 */
import { isCode } from '../aws/errors.js';
import { waitForCluster } from '../engine/cluster-wait.js';
import { roleArn } from '../policy/partition.js';
import { draftConfig, problemAt } from './draft.js';
import { saveAnswers } from './finish.js';
import { InterruptedByUser } from './prompter.js';
import { rule } from './text.js';
import type { Walk } from './walk.js';

export async function chooseCluster(walk: Walk): Promise<void> {
  const { prompter, flags } = walk.deps;
  if (flags.cluster !== undefined) {
    walk.say('');
    walk.say(`EKS cluster: ${flags.cluster} (--cluster)`);
    return;
  }
  const current = walk.draft.cluster;
  const futureName = (def: string | undefined, message = 'Name of the EKS cluster you will create') =>
    prompter.input({
      message,
      default: def ?? 'flyte',
      validate: (v) => (v === '' ? 'cluster: is required' : problemAt({ cluster: v }, ['cluster'])),
    });
  let names: string[];
  try {
    names = await walk.withSpinner(`Listing the EKS clusters in ${walk.region}`, () => walk.gateway.listClusters());
  } catch (err) {
    // Listing is a convenience (eks:ListClusters): without it, the name is asked.
    if (!isCode(err, 'AccessDenied', 'AccessDeniedException')) throw err;
    walk.say('');
    walk.say(walk.deps.style.warn(`The EKS clusters cannot be listed (${(err as Error).message}).`));
    walk.draft.cluster = await futureName(current, 'EKS cluster name (an existing one, or the one you will create)');
    return;
  }
  walk.say('');
  if (names.length === 0) {
    walk.say(`There is no EKS cluster in ${walk.region} yet. The cluster and node roles can be made now; the`);
    walk.say('wizard then shows how to create the cluster with them, and can wait for it.');
    walk.draft.cluster = await futureName(current);
    return;
  }
  const notYet = '\0not-created-yet';
  const choices = names.map((n) => ({ name: n, value: n }));
  if (current !== undefined && !names.includes(current)) {
    choices.push({ name: `${current} (from the config; not created yet)`, value: current });
  }
  choices.push({ name: 'Not created yet (only the cluster and node roles can be done now)', value: notYet });
  const picked = await prompter.select({
    message: `EKS cluster for Flyte (in ${walk.region})`,
    choices,
    default: current ?? names[0]!,
  });
  walk.draft.cluster = picked === notYet ? await futureName(current) : picked;
}

/**
 * The cluster does not exist (or is not ACTIVE) yet, and the next section needs it. The answers are saved; then it
 * waits until the cluster is ready (true), or stops here for later (false).
 */
export async function waitForTheCluster(walk: Walk): Promise<boolean> {
  const { prompter, style: s } = walk.deps;
  const facts = walk.knownFacts;
  const c = facts.cluster;
  const name = walk.draft.cluster!;
  walk.say('');
  walk.say(s.bold(rule(`The EKS cluster ${name}`)));
  if (c.state === 'not-ready') {
    walk.say(`The cluster is ${c.status} and has no OIDC issuer yet; the next sections need it.`);
  } else {
    const config = draftConfig(walk.draft);
    const clusterRole = config.clusterRole
      ? roleArn(facts.partition, facts.accountId, config.path, config.clusterRole.name)
      : 'CLUSTER_ROLE_ARN';
    const nodeRole = config.nodeRole
      ? roleArn(facts.partition, facts.accountId, config.path, config.nodeRole.name)
      : 'NODE_ROLE_ARN';
    walk.say(`It does not exist yet in ${walk.region}, and the next sections need its OIDC issuer. Create it`);
    walk.say('with the cluster role (put your VPC subnets in), for example:');
    walk.say('');
    walk.say(
      `  aws eks create-cluster --name ${name} --region ${walk.region} --role-arn ${clusterRole} ` +
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
  walk.facts = { ...facts, cluster: wait.cluster };
  return true;
}
