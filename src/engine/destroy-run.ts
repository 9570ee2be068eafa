/**
 * Running `destroy`: read what AWS holds for the config's resources (by name: unlike a plan, this must work when
 * the cluster is gone), and perform a destroy plan's steps in order, then read back until nothing of the plan
 * is left. The engine never prompts.
 */
import { isCode } from '../aws/errors.js';
import type { AwsGateway } from '../aws/gateway.js';
import type { Config, SectionId } from '../config/schema.js';
import { configRoles, isIrsaSection } from '../sections/derived.js';
import { grantsPoliciesLeftBehind, grantsPolicyNames } from '../sections/grants.js';
import { associationSpecs } from '../sections/pod-identity.js';
import { federatedPrincipals, isOidcProviderArn } from '../policy/irsa.js';
import { isPodIdentityStatement } from '../policy/document.js';
import { oidcProviderArn, policyArn } from '../policy/partition.js';
import { DEFAULT_VERSION_KEY } from '../config/rules.js';
import { UserError } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import { poll, retry } from '../util/retry.js';
import { InterruptedError } from './apply.js';
import {
  clusterUseOf,
  destroySteps,
  finishesPutBack,
  planDestroy,
  type DestroyAssociationState,
  type DestroyPlan,
  type DestroyPolicyState,
  type DestroyProviderState,
  type DestroyRoleState,
  type DestroyState,
  type RunningCluster,
} from './destroy.js';
import { DEFAULT_CONCURRENCY } from './engine.js';
import { gatherFacts } from './facts.js';
import { describeAssociations, findLeftovers } from './leftovers.js';
import type { Facts, Step, Tags } from '../model.js';
import { ownership } from './records.js';

/** The setup's own (or made before setups existed, and so taken as the setup's): destroy may delete it. */
function isMine(tags: Tags, setup: string): boolean {
  const o = ownership(tags, setup);
  return o === 'mine' || o === 'legacy';
}

/** The config's roles, in section order, as destroy reads them. */
export function destroyRoles(config: Config): { section: SectionId; name: string; adopted?: boolean }[] {
  return configRoles(config).map((r) => ({
    section: r.section,
    name: r.name,
    ...(r.adopted !== undefined ? { adopted: true } : {}),
  }));
}

export async function readDestroyState(
  config: Config,
  gateway: AwsGateway,
  knownFacts?: Facts,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<DestroyState> {
  const clusterRead =
    config.cluster !== undefined
      ? gateway.describeCluster(config.cluster, config.clusters?.[0]?.region)
      : Promise.resolve(undefined);
  const [facts, cluster] = await Promise.all([
    knownFacts ?? gatherFacts(gateway, config, clusterRead, { bucket: false }),
    clusterRead,
  ]);
  // Several clusters: the others too (each in its region), for the roles they run with.
  const otherRefs = (config.clusters ?? []).slice(1);
  const otherInfo = await mapLimit(otherRefs, concurrency, (c) =>
    gateway.describeCluster(c.name, c.region !== undefined && c.region !== gateway.region ? c.region : undefined),
  );
  const running = [
    ...(cluster !== undefined ? [{ info: cluster, region: undefined as string | undefined }] : []),
    ...otherRefs.flatMap((c, i) =>
      otherInfo[i] !== undefined
        ? [
            {
              info: otherInfo[i]!,
              region: c.region !== undefined && c.region !== gateway.region ? c.region : undefined,
            },
          ]
        : [],
    ),
  ];
  const clusters: RunningCluster[] = await mapLimit(running, concurrency, async ({ info, region }) => ({
    name: info.name,
    ...(info.roleArn !== undefined ? { roleArn: info.roleArn } : {}),
    nodegroups: config.nodeRole !== false ? await gateway.nodegroupRoles(info.name, region) : [],
  }));

  const roles = await mapLimit(destroyRoles(config), concurrency, async (r): Promise<DestroyRoleState> => {
    const current = await gateway.readRole(r.name);
    const state: DestroyRoleState = { ...r, inlinePolicies: [], instanceProfiles: [] };
    if (current === undefined) return state;
    state.current = current;
    if (r.adopted || !isMine(current.tags, config.setup)) return state;
    [state.inlinePolicies, state.instanceProfiles] = await Promise.all([
      gateway.inlinePolicyNames(r.name),
      gateway.instanceProfileNames(r.name),
    ]);
    const inUse = clusterUseOf(current.arn, clusters);
    if (inUse !== undefined) state.inUse = inUse;
    return state;
  });

  const policyState = async (name: string): Promise<DestroyPolicyState> => {
    const arn = policyArn(facts.partition, facts.accountId, config.path, name);
    const current = await gateway.readPolicy(arn, () => false);
    const state: DestroyPolicyState = { name, arn, versions: [], attachments: { roles: [], users: [], groups: [] } };
    if (current !== undefined) {
      state.current = current;
      const own = ownership(current.tags, config.setup);
      if (own === 'mine' || own === 'legacy') {
        [state.versions, state.attachments] = await Promise.all([
          gateway.policyVersions(arn),
          gateway.policyAttachments(arn),
        ]);
      } else if (own === 'before' && current.tags[DEFAULT_VERSION_KEY] !== undefined) {
        // One that existed before: its recorded default version must still be there to be made the default again.
        state.versions = await gateway.policyVersions(arn);
      }
    }
    return state;
  };
  const policy = config.customPolicy !== false ? await policyState(config.customPolicy.name) : undefined;
  // The roles' grants policies (grants:), read like the custom policy; and those a config without grants still
  // finds attached to its roles (the grants section's leftBehind).
  const attachedTo = (name: string) => roles.find((r) => r.name === name)?.current?.attached;
  const grantNames = new Set([
    ...grantsPolicyNames(config),
    ...grantsPoliciesLeftBehind({ config, facts }, attachedTo).map((p) => p.name),
  ]);
  const grantPolicies = await mapLimit([...grantNames], concurrency, policyState);

  // Several clusters: the ones after the first, as the facts found them (each in its region).
  const others = (facts.clusters ?? []).slice(1).filter((c) => c.state === 'ready' || c.state === 'not-ready');
  const several = facts.clusters !== undefined;
  // Pod Identity's associations live in the cluster: gone with it, or read by namespace and service account.
  const clustersWithAssociations = [
    ...(cluster !== undefined ? [{ name: cluster.name, region: undefined as string | undefined }] : []),
    ...others.map((c) => ({ name: c.name!, region: 'region' in c ? c.region : undefined })),
  ];
  // Each cluster's associations are listed once for all of them; only those that exist are described. Those the
  // config no longer wants (all of them with identity: irsa) are described too, and this setup's go as well.
  // With identity: irsa, only while a role of the config still trusts EKS Pod Identity (a setup that never used it
  // makes no call for them, and needs no EKS permission for them).
  const specs = config.identity !== 'irsa' ? associationSpecs(config) : [];
  const podTrusted = roles.some((r) => r.current?.trust.Statement.some(isPodIdentityStatement) === true);
  const wantsAssociations = clustersWithAssociations.length > 0 && (config.identity !== 'irsa' || podTrusted);
  const listings = wantsAssociations
    ? clustersWithAssociations.map((c) => {
        const listing = gateway.podIdentityAssociations(c.name, {}, c.region);
        listing.catch(() => undefined);
        return listing;
      })
    : [];
  const associationName = (c: { name: string }, namespace: string, serviceAccount: string) =>
    `${several ? `${c.name}: ` : ''}${namespace}/${serviceAccount}`;
  const wanted = wantsAssociations
    ? await mapLimit(
        clustersWithAssociations.flatMap((c, i) => specs.map((a) => ({ ...a, c, i }))),
        concurrency,
        async ({ c, i, ...a }): Promise<DestroyAssociationState> => {
          const current = await gateway.readPodIdentityAssociation(
            c.name,
            a.namespace,
            a.serviceAccount,
            c.region,
            listings[i],
          );
          return {
            name: associationName(c, a.namespace, a.serviceAccount),
            cluster: c.name,
            ...(c.region !== undefined ? { region: c.region } : {}),
            ...(current !== undefined ? { current } : {}),
          };
        },
      )
    : [];
  const named = new Set(specs.map((a) => `${a.namespace}/${a.serviceAccount}`));
  const unwanted = await mapLimit(
    clustersWithAssociations.map((c, i) => ({ c, i })),
    concurrency,
    async ({ c, i }) => {
      const summaries = listings[i] === undefined ? [] : await listings[i];
      const read = await describeAssociations(gateway, c.name, c.region, summaries, concurrency, named);
      return read.flatMap((current): DestroyAssociationState[] =>
        ownership(current.tags, config.setup) === 'mine'
          ? [
              {
                name: associationName(c, current.namespace, current.serviceAccount),
                cluster: c.name,
                ...(c.region !== undefined ? { region: c.region } : {}),
                current,
              },
            ]
          : [],
      );
    },
  );
  const associations = wantsAssociations ? [...wanted, ...unwanted.flat()] : undefined;
  const otherIssuers = others.flatMap((c) => (c.state === 'ready' ? [c.issuerUrl] : []));

  // The setup's roles the config no longer names go too; the cluster is read again only when there are some.
  // And the setup's pod identity associations on clusters the config no longer names (those the roles' Pod Identity
  // trust still names): the roles they hand out go.
  const leftovers = await findLeftovers(gateway, config, facts, {
    prune: true,
    concurrency,
    trusts: roles.filter((r) => r.adopted !== true).map((r) => r.current),
  });
  const live = await otherClusters(gateway, facts, cluster, roles, concurrency, config.setup, otherIssuers);
  const provider = config.oidcProvider
    ? await readProvider(config, gateway, facts, cluster?.issuerUrl, roles, live, otherIssuers)
    : undefined;
  const otherProviders = config.oidcProvider
    ? await mapLimit(otherIssuers, concurrency, (issuer) => readProvider(config, gateway, facts, issuer, roles, live))
    : [];
  return {
    facts,
    setup: config.setup,
    ...(leftovers.length > 0 ? { leftovers } : {}),
    clusterExists: cluster !== undefined,
    roles,
    ...(policy ? { policy } : {}),
    ...(grantPolicies.length > 0 ? { grantPolicies } : {}),
    ...(provider ? { provider } : {}),
    ...(otherProviders.length > 0 ? { otherProviders } : {}),
    ...(associations ? { associations } : {}),
  };
}

/** The setup's own IRSA roles (the ones pods assume through an OIDC provider), with the providers they trust. */
function irsaProviders(roles: DestroyRoleState[], setup: string): { role: DestroyRoleState; providers: string[] }[] {
  return roles.flatMap((r) =>
    r.current !== undefined && isIrsaSection(r.section) && isMine(r.current.tags, setup)
      ? [{ role: r, providers: federatedPrincipals(r.current.trust).filter(isOidcProviderArn) }]
      : [],
  );
}

interface LiveClusters {
  /** Provider ARN → the running cluster of the region whose issuer it is. */
  byProvider: Map<string, string>;
  /** Why the region's clusters could not be listed. */
  unchecked?: string;
}

/** The region of an EKS issuer's OIDC provider ARN (`.../oidc-provider/oidc.eks.<region>.amazonaws.com/id/...`). */
export function providerRegion(arn: string): string | undefined {
  return /:oidc-provider\/oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com/.exec(arn)?.[1];
}

/**
 * Marks the tool's IRSA roles that may serve another cluster now: those whose trust names another provider than
 * the config cluster's (or any provider, once that cluster is gone or has no issuer), unless that provider is
 * shown to be no running cluster's. The region's clusters are listed for it; a provider of another region, or
 * clusters that cannot be listed, cannot be shown dead, so the role is kept. Returns what was found, for the
 * provider.
 */
async function otherClusters(
  gateway: AwsGateway,
  facts: Facts,
  cluster: { name: string; issuerUrl?: string } | undefined,
  roles: DestroyRoleState[],
  concurrency: number,
  setup: string,
  otherIssuers: string[] = [],
): Promise<LiveClusters> {
  const live: LiveClusters = { byProvider: new Map() };
  // The config's clusters' providers (several clusters: every one that still has its issuer).
  const own = [...(cluster?.issuerUrl !== undefined ? [cluster.issuerUrl] : []), ...otherIssuers].map((issuer) =>
    oidcProviderArn(facts.partition, facts.accountId, issuer),
  );
  const others = irsaProviders(roles, setup).filter(
    (r) => r.providers.length > 0 && (own.length === 0 || !r.providers.some((p) => own.includes(p))),
  );
  if (others.length === 0) return live;
  try {
    const names = await gateway.listClusters();
    const found = await mapLimit(names, concurrency, (name) => gateway.describeCluster(name));
    for (const c of found) {
      if (c?.issuerUrl === undefined) continue;
      live.byProvider.set(oidcProviderArn(facts.partition, facts.accountId, c.issuerUrl), c.name);
    }
  } catch (err) {
    if (!isCode(err, 'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation')) throw err;
    live.unchecked = (err as Error).message;
  }
  for (const { role, providers } of others) {
    const running = providers.flatMap((p) => live.byProvider.get(p) ?? []);
    const elsewhere = providers.filter((p) => providerRegion(p) !== facts.region);
    if (running.length > 0) {
      role.trustsElsewhere = `its trust names the OIDC provider of the running EKS cluster ${running.join(', ')}`;
    } else if (elsewhere.length > 0) {
      role.trustsElsewhere = `its trust names the OIDC provider ${elsewhere.join(', ')}, of another region's cluster, which destroy does not look at`;
    } else if (live.unchecked !== undefined) {
      role.trustsElsewhere = `whether a running EKS cluster uses the OIDC provider its trust names could not be checked (${live.unchecked})`;
    }
  }
  return live;
}

/**
 * The cluster's OIDC provider: from its issuer while the cluster exists; once it is gone, from the trust of the
 * tool's own IRSA roles (they all name it); failing that, it cannot be told, and the tool's providers are listed.
 */
async function readProvider(
  config: Config,
  gateway: AwsGateway,
  facts: Facts,
  issuerUrl: string | undefined,
  roles: DestroyRoleState[],
  live: LiveClusters,
  otherIssuers: string[] = [],
): Promise<DestroyProviderState> {
  let arn: string | undefined;
  let foundBy: DestroyProviderState['foundBy'];
  if (issuerUrl !== undefined) {
    arn = oidcProviderArn(facts.partition, facts.accountId, issuerUrl);
    foundBy = 'cluster';
  } else {
    // The other clusters' providers are theirs, not the first's.
    const theirs = otherIssuers.map((i) => oidcProviderArn(facts.partition, facts.accountId, i));
    const named = [...new Set(irsaProviders(roles, config.setup).flatMap((r) => r.providers))].filter(
      (p) => !theirs.includes(p),
    );
    if (named.length === 1) {
      arn = named[0];
      foundBy = 'trust';
    } else {
      const all = await gateway.oidcProviderArns();
      const read = await mapLimit(all, DEFAULT_CONCURRENCY, (a) => gateway.readOidcProvider(a));
      const candidates = all.filter((_, i) => read[i] !== undefined && isMine(read[i]!.tags, config.setup));
      const gone =
        config.cluster === undefined
          ? 'the config names no cluster'
          : `the EKS cluster ${config.cluster} no longer exists (its issuer names the provider)`;
      return {
        trustedBy: [],
        unknown: {
          reason:
            named.length === 0
              ? `${gone}, and no role the tool made for the config names one`
              : `${gone}, and the roles the tool made for the config name several (${named.join(', ')})`,
          candidates,
        },
      };
    }
  }
  const current = await gateway.readOidcProvider(arn!);
  const trustedBy =
    current !== undefined && isMine(current.tags, config.setup) ? await gateway.rolesTrusting(arn!) : [];
  const liveCluster = foundBy === 'trust' ? live.byProvider.get(arn!) : undefined;
  const region = providerRegion(arn!);
  const unchecked =
    foundBy !== 'trust'
      ? undefined
      : region !== facts.region
        ? `it is the provider of a cluster in ${region ?? 'another region'}, which destroy does not look at`
        : live.unchecked;
  return {
    arn: arn!,
    foundBy: foundBy!,
    trustedBy,
    ...(current ? { current } : {}),
    ...(liveCluster !== undefined ? { liveCluster } : {}),
    ...(unchecked !== undefined ? { unchecked } : {}),
  };
}

export type DestroyOutcome = 'complete' | 'blocked' | 'failed' | 'interrupted';

export interface DestroyResult {
  outcome: DestroyOutcome;
  done: Step[];
  remaining: Step[];
  error?: { message: string; hint?: string; code?: string; stack?: string };
}

export interface DestroyOptions {
  signal?: AbortSignal;
  onStep?(step: Step): void;
  /** How long to wait for IAM to show a removal (eventual consistency), and the first pause. */
  consistency?: { timeoutMs: number; initialDelayMs: number };
}

const DEFAULT_CONSISTENCY = { timeoutMs: 30_000, initialDelayMs: 500 };
/** The longest pause between tries while waiting for IAM. */
const MAX_DELAY_MS = 8_000;

/**
 * Run the plan's steps in order. A resource already gone counts as done (the gateway's removals say so); a delete
 * refused because IAM has not yet caught up with this run's detaches is retried. Then read back until nothing of
 * the plan is left.
 */
export async function applyDestroy(
  plan: DestroyPlan,
  reread: () => Promise<DestroyPlan>,
  gateway: AwsGateway,
  options: DestroyOptions = {},
): Promise<DestroyResult> {
  const { timeoutMs, initialDelayMs } = options.consistency ?? DEFAULT_CONSISTENCY;
  const backoff = { timeoutMs, initialDelayMs, maxDelayMs: MAX_DELAY_MS, signal: options.signal };
  const steps = destroySteps(plan);
  const done: Step[] = [];
  const blocked = plan.items.some((i) => i.action === 'blocked');
  try {
    let stopped = false;
    for (const step of steps) {
      const finishing = finishesPutBack(step, done);
      if (options.signal?.aborted && !finishing) {
        stopped = true;
        continue;
      }
      options.onStep?.(step);
      await retry(() => gateway.execute(step), {
        ...backoff,
        ...(finishing ? { signal: undefined } : {}),
        shouldRetry: (err) => isCode(err, 'DeleteConflict') && done.some((d) => d.op === 'DetachRolePolicy'),
      });
      done.push(step);
    }
    if (stopped) throw new InterruptedError();
    // Read back until IAM shows every removal.
    const { outcome, value: left } = await poll(async () => destroySteps(await reread()), {
      ...backoff,
      until: (left) => left.length === 0,
    });
    if (outcome !== 'done') {
      return {
        outcome: 'failed',
        done,
        remaining: left,
        error: {
          message: `after the removals, AWS still shows ${left.length} thing(s) to remove`,
          hint: 'someone or something may be changing these resources at the same time; run destroy again',
        },
      };
    }
    return { outcome: blocked ? 'blocked' : 'complete', done, remaining: [] };
  } catch (err) {
    const remaining = steps.filter((s) => !done.includes(s));
    if (err instanceof InterruptedError || options.signal?.aborted) return { outcome: 'interrupted', done, remaining };
    const e = err as Error & { hint?: string; code?: string };
    const user = err instanceof UserError;
    return {
      outcome: 'failed',
      done,
      remaining,
      error: {
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
        ...(e.code ? { code: e.code } : {}),
        ...(user ? {} : { stack: e.stack ?? String(err) }),
      },
    };
  }
}

export async function makeDestroyPlan(config: Config, gateway: AwsGateway, facts?: Facts): Promise<DestroyPlan> {
  return planDestroy(await readDestroyState(config, gateway, facts));
}
