/**
 * The setup's roles that the config no longer names (a project, a section or an IRSA role removed): found by one
 * paged ListRoles, whose descriptions say which roles the tool made or adopted (`DESCRIPTION_MARK`), then GetRole
 * for those candidates only (their tags say whose setup they are); an account's other roles cost no call of their
 * own. With `--prune` each is planned with destroy's steps for a role, and carried out after the sections: one the
 * tool made is removed; one that existed before and that this setup adopted is put back as it was (its trust, its
 * description, the policies the tool attached detached, the tool's tags removed), and stays.
 */
import { isCode } from '../aws/errors.js';
import type { AssociationSummary, AwsGateway, RoleListing } from '../aws/gateway.js';
import { DESCRIPTION_MARK, TRUST_KEY } from '../config/rules.js';
import type { Config } from '../config/schema.js';
import {
  factsClusters,
  LEFTOVER_KIND,
  type CurrentOidcProvider,
  type CurrentPodIdentityAssociation,
  type CurrentRole,
  type Facts,
  type Leftover,
  type Step,
} from '../model.js';
import { isPodIdentityStatement, type PolicyDocument } from '../policy/document.js';
import { asList, federatedPrincipals, isOidcProviderArn } from '../policy/irsa.js';
import { isAwsManagedPolicy, nameOfArn, oidcProviderArn } from '../policy/partition.js';
import { grantsPolicyName } from '../sections/grantees.js';
import { configRoles } from '../sections/derived.js';
import { mapLimit } from '../util/concurrency.js';
import { poll, retry } from '../util/retry.js';
import {
  clusterUseOf,
  finishesPutBack,
  inDestroyOrder,
  planRoleRemoval,
  restoreRole,
  type RoleRemovalInput,
  type RunningCluster,
} from './destroy.js';
import { deleteAssociationStep } from './plan.js';
import { decodeTrust, ownership, readRecord, setupOf, toolRecordKeys } from './records.js';

/** Whom a trust lets in, as `Type principal` (Allow statements only). */
export function trustedPrincipals(role: Pick<CurrentRole, 'trust'>): string[] {
  const out: string[] = [];
  for (const s of role.trust.Statement) {
    if (s.Effect !== 'Allow' || s.Principal === undefined) continue;
    if (s.Principal === '*') out.push('anyone (Principal "*")');
    else
      for (const [type, values] of Object.entries(s.Principal))
        for (const v of asList(values)) out.push(`${type} ${v}`);
  }
  return [...new Set(out)];
}

/** The roles of the account the config does not name and whose description says the tool made them. */
function candidates(listing: { name: string; description?: string }[], config: Config): string[] {
  const named = new Set(configRoles(config).map((r) => r.name.toLowerCase()));
  return listing
    .filter((r) => r.description?.endsWith(DESCRIPTION_MARK) && !named.has(r.name.toLowerCase()))
    .map((r) => r.name);
}

/**
 * What could keep a leftover from going (read only with --prune): the cluster or a node group running with it,
 * instance profiles, inline policies, a trust naming another cluster's OIDC provider.
 */
async function removalInput(
  gateway: AwsGateway,
  role: CurrentRole,
  facts: Facts,
  inUse: (arn: string) => Promise<string | undefined>,
): Promise<RoleRemovalInput> {
  const [inlinePolicies, instanceProfiles, used] = await Promise.all([
    gateway.inlinePolicyNames(role.name),
    gateway.instanceProfileNames(role.name),
    inUse(role.arn),
  ]);
  const c = facts.cluster;
  const own = c.state === 'ready' ? oidcProviderArn(facts.partition, facts.accountId, c.issuerUrl) : undefined;
  const others = federatedPrincipals(role.trust).filter((p) => isOidcProviderArn(p) && p !== own);
  return {
    name: role.name,
    current: role,
    inlinePolicies,
    instanceProfiles,
    ...(used !== undefined ? { inUse: used } : {}),
    ...(own !== undefined && others.length > 0
      ? { trustsElsewhere: `its trust names the OIDC provider ${others.join(', ')}, not the cluster's` }
      : {}),
  };
}

/** The cluster and its node groups, read once and only when a leftover is to be removed. */
function clusterUse(gateway: AwsGateway, config: Config): (arn: string) => Promise<string | undefined> {
  // Every cluster of the config (several with a list), each read once, in its region.
  let read: Promise<RunningCluster[]> | undefined;
  return async (arn) => {
    read ??= Promise.all(
      config.clusters.map(async (ref): Promise<RunningCluster> => {
        const cluster = await gateway.describeCluster(ref.name, ref.region);
        if (cluster === undefined) return { name: ref.name, nodegroups: [] };
        return {
          name: cluster.name,
          ...(cluster.roleArn !== undefined ? { roleArn: cluster.roleArn } : {}),
          nodegroups: await gateway.nodegroupRoles(cluster.name, ref.region),
        };
      }),
    );
    return clusterUseOf(arn, await read);
  };
}

const ADOPTED_REASON =
  'it existed before flyte-aws-setup, which adopted it for this setup: it is put back as it was, not deleted';

/**
 * A role this setup adopted that the config no longer names: still holding what the tool gave it. With `prune`, the
 * steps that put it back (destroy's: what the tool attached is detached, its grants policy too, which the grants
 * section attached without a record on the role); when its trust record cannot be read, it is kept for now, saying why.
 */
async function adoptedLeftover(
  gateway: AwsGateway,
  setup: string,
  base: Pick<Leftover, 'kind' | 'name' | 'arn' | 'trustedBy'>,
  role: CurrentRole,
  prune: boolean,
): Promise<Leftover> {
  const held = { ...base, holds: [...role.attached], adopted: true as const };
  if (!prune) return { ...held, action: 'listed', steps: [], reason: ADOPTED_REASON };
  // Its grants policy, when it is this setup's (read only when one of that name is attached).
  const grants = role.attached.filter((a) => nameOfArn(a) === grantsPolicyName(role.name) && !isAwsManagedPolicy(a));
  const own = await Promise.all(
    grants.map(async (arn) => {
      const policy = await gateway.readPolicy(arn, () => false);
      return policy !== undefined && ownership(policy.tags, setup) === 'mine' ? arn : undefined;
    }),
  );
  const restored = restoreRole(
    role.name,
    role,
    own.filter((a): a is string => a !== undefined),
  );
  if (restored.action === 'blocked') {
    return { ...held, action: 'blocked', steps: [], reason: restored.reason ?? ADOPTED_REASON };
  }
  return { ...held, action: 'restore', steps: inDestroyOrder(restored.steps), reason: ADOPTED_REASON };
}

/** The setup's roles the config no longer names; with `prune`, each with the steps that remove it. */
export async function findLeftovers(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  options: {
    prune?: boolean;
    /** With `prune`: the setup's OIDC providers of clusters the config no longer names, too. */
    providers?: boolean;
    concurrency: number;
    listed?: Promise<RoleListing[]>;
    /**
     * The config's roles as the run read them: the clusters their Pod Identity statements name that the config
     * does not (a cluster dropped from the list) are looked at for the setup's pod identity associations. Without
     * it, none are looked for.
     */
    trusts?: readonly (CurrentRole | undefined)[];
  },
): Promise<Leftover[]> {
  const names = candidates(await (options.listed ?? gateway.listRoles()), config);
  const trusted = options.trusts !== undefined ? droppedClusters(config, facts, options.trusts) : [];
  if (names.length === 0 && trusted.length === 0 && !(options.prune && options.providers)) return [];
  const read = await mapLimit(names, options.concurrency, (name) => gateway.getRole(name));
  // Only what carries this setup's tag: a role of another setup, or of a version before setups, is not this one's.
  // One that existed before the tool (no managed-by) and carries it was adopted by this setup.
  const mine = read.filter((r): r is CurrentRole => r !== undefined && ownership(r.tags, config.setup) === 'mine');
  const adopted = read.filter(
    (r): r is CurrentRole =>
      r !== undefined && ownership(r.tags, config.setup) === 'before' && setupOf(r.tags) === config.setup,
  );
  const inUse = clusterUse(gateway, config);
  const found = await mapLimit(
    [...mine, ...adopted],
    options.concurrency,
    async (role): Promise<Leftover | undefined> => {
      try {
        const attached = await gateway.attachedPolicies(role.name);
        const current = { ...role, attached };
        const base = { kind: 'role' as const, name: role.name, arn: role.arn, trustedBy: trustedPrincipals(role) };
        if (adopted.includes(role)) {
          return await adoptedLeftover(gateway, config.setup, base, current, options.prune === true);
        }
        if (!options.prune) return { ...base, holds: attached, action: 'listed', steps: [] };
        const input = await removalInput(gateway, current, facts, inUse);
        const removal = planRoleRemoval(input, facts.partition);
        return {
          ...base,
          holds: [...attached, ...input.inlinePolicies.map((p) => `inline ${p}`)],
          action: removal.action === 'delete' ? 'remove' : 'blocked',
          steps: removal.steps,
          ...(removal.reason !== undefined ? { reason: removal.reason } : {}),
        };
      } catch (err) {
        // Deleted meanwhile: not left over any more.
        if (isCode(err, 'NoSuchEntity')) return undefined;
        throw err;
      }
    },
  );
  const roles = found.filter((l): l is Leftover => l !== undefined);
  // The clusters named by the leftover roles' trusts too (a role of the dropped cluster only, say). Only while every
  // cluster of the config is there and ready: a cluster not found (another region given by mistake, say) must not
  // make the config's own cluster look dropped.
  const ready = factsClusters(facts).every((c) => c.state === 'ready');
  const associations =
    options.trusts !== undefined && ready
      ? await associationLeftovers(
          gateway,
          config,
          droppedClusters(config, facts, [...options.trusts, ...mine, ...adopted]),
          options.prune === true,
          options.concurrency,
        )
      : [];
  // The associations go first: a role they name (the only way to find them) is still there if their removal fails.
  return options.prune && options.providers
    ? [...associations, ...roles, ...(await providerLeftovers(gateway, config, facts, roles, options))]
    : [...associations, ...roles];
}

/** A cluster the config does not name; `region` only when it is not the run's. */
export interface DroppedCluster {
  name: string;
  region?: string;
}

/** The clusters of the run's account and partition that a trust's Pod Identity statements bound it to (aws:SourceArn). */
export function podIdentityClusters(trust: PolicyDocument, facts: Pick<Facts, 'partition' | 'accountId'>) {
  const out: { name: string; region: string }[] = [];
  for (const s of trust.Statement) {
    if (s.Effect !== 'Allow' || !isPodIdentityStatement(s)) continue;
    for (const condition of Object.values(s.Condition ?? {})) {
      for (const [key, values] of Object.entries(condition)) {
        if (key.toLowerCase() !== 'aws:sourcearn') continue;
        for (const arn of asList(values as string | string[])) {
          // One cluster by its ARN: a wildcard names none in particular (the tool never writes one).
          const m = /^arn:([\w-]+):eks:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9][A-Za-z0-9_-]*)$/.exec(arn);
          if (m === null || m[1] !== facts.partition || m[3] !== facts.accountId) continue;
          out.push({ region: m[2]!, name: m[4]! });
        }
      }
    }
  }
  return out;
}

/**
 * The clusters the config no longer names that this setup's roles still let Pod Identity in from: each Pod
 * Identity statement of a role's trust names its cluster (aws:SourceArn), and a cluster dropped from the config
 * stays in the trusts until the run that narrows them. Only the roles of this setup (made by the tool, or adopted:
 * not one that only carries another setup's tag, or none, such as Union's role); of an adopted role, not a cluster
 * its trust named before the tool changed it (its record). Pure: no call, so a run whose roles name only the
 * config's clusters costs nothing more.
 */
export function droppedClusters(
  config: Config,
  facts: Facts,
  roles: readonly (CurrentRole | undefined)[],
): DroppedCluster[] {
  if (facts.offline || facts.accountId === undefined) return [];
  const key = (name: string, region: string) => `${region}/${name}`;
  const named = new Set(config.clusters.map((c) => key(c.name, c.region ?? facts.region)));
  // A cluster the config names without a region is its region's wherever the run is: never taken for a dropped one.
  const implied = new Set(config.clusters.filter((c) => c.region === undefined).map((c) => c.name));
  const found = new Map<string, DroppedCluster>();
  for (const role of roles) {
    if (role === undefined) continue;
    const own = ownership(role.tags, config.setup);
    if (own === 'other' || (own === 'before' && setupOf(role.tags) !== config.setup)) continue;
    const recorded = readRecord(role.tags, TRUST_KEY);
    const before = recorded !== undefined ? decodeTrust(recorded) : undefined;
    const earlier = new Set(
      before !== undefined ? podIdentityClusters(before, facts).map((c) => key(c.name, c.region)) : [],
    );
    for (const c of podIdentityClusters(role.trust, facts)) {
      const k = key(c.name, c.region);
      if (named.has(k) || implied.has(c.name) || earlier.has(k) || found.has(k)) continue;
      found.set(k, { name: c.name, ...(c.region !== facts.region ? { region: c.region } : {}) });
    }
  }
  return [...found.values()].sort((a, b) => key(a.name, a.region ?? '').localeCompare(key(b.name, b.region ?? '')));
}

/**
 * The associations of a cluster's listing, described (only the description says their role and tags), but those of
 * the namespaces and service accounts (`NAMESPACE/SERVICEACCOUNT`) in `except`; one gone since the listing is left
 * out. `concurrency` at a time.
 */
export async function describeAssociations(
  gateway: AwsGateway,
  cluster: string,
  region: string | undefined,
  summaries: readonly AssociationSummary[],
  concurrency: number,
  except: ReadonlySet<string> = new Set(),
): Promise<CurrentPodIdentityAssociation[]> {
  const others = summaries.filter((a) => !except.has(`${a.namespace}/${a.serviceAccount}`));
  const read = await mapLimit(others, concurrency, (a) =>
    gateway.describePodIdentityAssociation(cluster, a.associationId, region),
  );
  return read.filter((a): a is CurrentPodIdentityAssociation => a !== undefined);
}

/**
 * The pod identity associations this setup made (managed-by and its setup tag) on the clusters the config no
 * longer names: each cluster's associations listed once, then described (their tags say whose they are). A cluster
 * that is gone has none. With `prune`, each is planned for deletion.
 */
async function associationLeftovers(
  gateway: AwsGateway,
  config: Config,
  clusters: DroppedCluster[],
  prune: boolean,
  concurrency: number,
): Promise<Leftover[]> {
  if (clusters.length === 0) return [];
  const found = await mapLimit(clusters, concurrency, async (c) => {
    let summaries;
    try {
      summaries = await gateway.podIdentityAssociations(c.name, {}, c.region);
    } catch (err) {
      // The cluster is gone (its associations with it), or may not be listed (a region turned off, a policy from
      // before): nothing found there; the run goes on.
      if (isCode(err, 'ResourceNotFoundException', 'AccessDenied', 'AccessDeniedException')) return [];
      throw err;
    }
    const read = await describeAssociations(gateway, c.name, c.region, summaries, concurrency);
    return read.filter((a) => ownership(a.tags, config.setup) === 'mine').map((a) => ({ cluster: c, current: a }));
  });
  return found.flat().map(({ cluster, current }): Leftover => {
    const name = `${cluster.name}: ${current.namespace}/${current.serviceAccount}`;
    const where = `${cluster.name}${cluster.region !== undefined ? ` (${cluster.region})` : ''}`;
    const base = {
      kind: 'pod-identity-association' as const,
      name,
      arn: current.arn,
      trustedBy: [`service account ${current.namespace}/${current.serviceAccount} of the cluster ${where}`],
      holds: [current.roleArn],
    };
    if (!prune) return { ...base, action: 'listed', steps: [] };
    return {
      ...base,
      action: 'remove',
      steps: [deleteAssociationStep(cluster.name, cluster.region, current.associationId, name)],
    };
  });
}

/**
 * With --prune: the setup's OIDC providers whose issuer is no cluster's of the config (a cluster dropped from the
 * list). One goes when no role trusts it but the config's (whose trust no longer names it, this run) and the
 * leftovers this run removes. Only while every cluster of the config is ready: a cluster not found has no issuer
 * to tell its provider by, and its provider must not look left over.
 */
async function providerLeftovers(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  roles: Leftover[],
  options: { concurrency: number },
): Promise<Leftover[]> {
  const clusters = factsClusters(facts);
  if (facts.offline || !clusters.every((c) => c.state === 'ready')) return [];
  const own = new Set(
    clusters.map((c) => oidcProviderArn(facts.partition, facts.accountId, c.state === 'ready' ? c.issuerUrl : '')),
  );
  let arns: string[];
  let read: (CurrentOidcProvider | undefined)[];
  try {
    arns = (await gateway.oidcProviderArns()).filter((a) => !own.has(a));
    read = await mapLimit(arns, options.concurrency, (a) => gateway.readOidcProvider(a));
  } catch (err) {
    // The account's providers may not be listed (the apply policy of `permissions` leaves that out): none is touched.
    if (isCode(err, 'AccessDenied', 'AccessDeniedException')) return [];
    throw err;
  }
  const mine = read.filter(
    (p): p is CurrentOidcProvider => p !== undefined && ownership(p.tags, config.setup) === 'mine',
  );
  if (mine.length === 0) return [];
  const configNames = new Set(configRoles(config).map((r) => r.name));
  const removed = new Set(roles.filter((l) => l.action === 'remove').map((l) => l.name));
  return mapLimit(mine, options.concurrency, async (p): Promise<Leftover> => {
    const trusting = await gateway.rolesTrusting(p.arn);
    // A role put back this run trusts the provider no more when the trust it gets back does not name it.
    const putBack = new Set(
      roles
        .filter((l) => l.action === 'restore')
        .filter((l) =>
          l.steps.some((s) => s.op === 'UpdateAssumeRolePolicy' && !federatedPrincipals(s.trust).includes(p.arn)),
        )
        .map((l) => l.name),
    );
    const others = trusting.filter((n) => !configNames.has(n) && !removed.has(n) && !putBack.has(n));
    const base = {
      kind: 'oidc-provider' as const,
      name: p.arn.slice(p.arn.indexOf(':oidc-provider/') + ':oidc-provider/'.length),
      arn: p.arn,
      trustedBy: trusting.map((n) => `role ${n}`),
      holds: [],
    };
    if (others.length > 0) {
      return {
        ...base,
        action: 'blocked',
        steps: [],
        reason: `roles the config does not name trust it (${others.join(', ')}): change or delete them first, or keep it`,
      };
    }
    return { ...base, action: 'remove', steps: [{ op: 'DeleteOpenIDConnectProvider', arn: p.arn }] };
  });
}

/** A removed leftover, read again: undefined once it is gone. */
function readBack(
  gateway: AwsGateway,
  l: Leftover,
): Promise<CurrentRole | CurrentOidcProvider | CurrentPodIdentityAssociation | undefined> {
  if (l.kind === 'oidc-provider') return gateway.readOidcProvider(l.arn);
  if (l.kind === 'role') return gateway.getRole(l.name);
  const step = l.steps.find((s) => s.op === 'DeletePodIdentityAssociation');
  if (step?.op !== 'DeletePodIdentityAssociation') return Promise.resolve(undefined);
  return gateway.describePodIdentityAssociation(step.clusterName, step.associationId, step.region);
}

export interface LeftoverResult {
  name: string;
  arn: string;
  outcome: 'removed' | 'restored' | 'kept' | 'failed' | 'interrupted' | 'not-run';
  done: Step[];
  remaining: Step[];
  /** Why it was kept, or why it was not run. */
  reason?: string;
  error?: { message: string; hint?: string; code?: string };
}

export interface PruneOptions {
  signal?: AbortSignal;
  onStep?(role: string, step: Step): void;
  consistency?: { timeoutMs: number; initialDelayMs: number };
  /** Why none is to be removed (what had to go first did not): each is reported not run, with this reason. */
  held?: string;
}

const DEFAULT_CONSISTENCY = { timeoutMs: 30_000, initialDelayMs: 500 };
const MAX_DELAY_MS = 8_000;

/** Why a leftover whose steps were all done is reported interrupted. */
const NOT_READ_BACK = 'done, but not read back as the run was interrupted; the next run reads it';

/**
 * Remove the leftovers the plan marks for removal, one after another, with destroy's steps (detach, delete; a
 * delete IAM refuses because it has not caught up with the detaches is retried), then read each back until it is
 * gone; put back those it marks to restore (a role this setup adopted), then read each back until it holds none of
 * the tool's records. A failure stops the rest.
 */
export async function pruneLeftovers(
  leftovers: Leftover[],
  gateway: AwsGateway,
  options: PruneOptions = {},
): Promise<LeftoverResult[]> {
  const { timeoutMs, initialDelayMs } = options.consistency ?? DEFAULT_CONSISTENCY;
  const backoff = { timeoutMs, initialDelayMs, maxDelayMs: MAX_DELAY_MS, signal: options.signal };
  const results: LeftoverResult[] = [];
  let stopped = options.held;
  for (const l of leftovers) {
    const base = { name: l.name, arn: l.arn };
    if (l.action !== 'remove' && l.action !== 'restore') {
      results.push({
        ...base,
        outcome: l.action === 'blocked' ? 'kept' : 'not-run',
        done: [],
        remaining: [],
        ...(l.reason ? { reason: l.reason } : {}),
      });
      continue;
    }
    if (stopped !== undefined || options.signal?.aborted) {
      results.push({
        ...base,
        outcome: options.signal?.aborted ? 'interrupted' : 'not-run',
        done: [],
        remaining: l.steps,
        reason: stopped ?? 'interrupted',
      });
      continue;
    }
    const done: Step[] = [];
    try {
      for (const step of l.steps) {
        const finishing = finishesPutBack(step, done);
        if (options.signal?.aborted && !finishing) break;
        options.onStep?.(l.name, step);
        await retry(() => gateway.execute(step), {
          ...backoff,
          ...(finishing ? { signal: undefined } : {}),
          shouldRetry: (err) => isCode(err, 'DeleteConflict') && done.some((d) => d.op === 'DetachRolePolicy'),
        });
        done.push(step);
      }
      if (done.length < l.steps.length) {
        results.push({ ...base, outcome: 'interrupted', done, remaining: l.steps.slice(done.length) });
        continue;
      }
      // Every step done, then interrupted: not read back (the next run's plan reads it), and not said to have failed.
      const unchecked = { ...base, outcome: 'interrupted' as const, done, remaining: [], reason: NOT_READ_BACK };
      if (options.signal?.aborted) {
        results.push(unchecked);
        continue;
      }
      if (l.action === 'restore') {
        // Put back: the role stays, without the tool's records (the last step removes them).
        const { outcome } = await poll(() => gateway.getRole(l.name), {
          ...backoff,
          until: (r) => r !== undefined && toolRecordKeys(r.tags).length === 0,
        });
        if (outcome === 'aborted') {
          results.push(unchecked);
          continue;
        }
        if (outcome !== 'done')
          throw new Error(`role ${l.name} still shows flyte-aws-setup's records after it was put back`);
        results.push({ ...base, outcome: 'restored', done, remaining: [] });
        continue;
      }
      const { outcome } = await poll<CurrentRole | CurrentOidcProvider | CurrentPodIdentityAssociation | undefined>(
        () => readBack(gateway, l),
        { ...backoff, until: (r) => r === undefined },
      );
      if (outcome === 'aborted') {
        results.push(unchecked);
        continue;
      }
      if (outcome !== 'done') throw new Error(`${LEFTOVER_KIND[l.kind]} ${l.name} still shows after it was deleted`);
      results.push({ ...base, outcome: 'removed', done, remaining: [] });
    } catch (err) {
      const e = err as Error & { hint?: string; code?: string };
      stopped = `the removal of ${l.name} failed`;
      results.push({
        ...base,
        outcome: options.signal?.aborted ? 'interrupted' : 'failed',
        done,
        remaining: l.steps.slice(done.length),
        error: { message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.code ? { code: e.code } : {}) },
      });
    }
  }
  return results;
}
