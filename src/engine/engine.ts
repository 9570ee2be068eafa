/**
 * Building the plan: facts → desired resources per section (pure) → current state (reads, concurrent) → plan
 * (pure). The CLI and the wizard both call `makePlan`, then `applyPlan`.
 */
import { isCode } from '../aws/errors.js';
import type { AssociationSummary, AwsGateway, RoleListing } from '../aws/gateway.js';
import type { Config, SectionId } from '../config/schema.js';
import { configRoles, sectionEnabled, sectionSkipReason } from '../sections/derived.js';
import { associationsLeftBehind, type FoundAssociation } from '../sections/pod-identity.js';
import { isPodIdentityStatement } from '../policy/document.js';
import { samePolicy } from '../policy/compare.js';
import { oidcProviderArn, roleArn } from '../policy/partition.js';
import { SECTIONS, type SectionDefinition } from '../sections/index.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_CONCURRENCY, mapLimit, mapLimitBy } from '../util/concurrency.js';
import { gatherFactsEarly, offlineFacts, withBucketEncryption } from './facts.js';
import { describeAssociations, findLeftovers } from './leftovers.js';
import {
  bucketWithKeyPolicy,
  clusterRegion,
  factsClusters,
  type CurrentResource,
  type CurrentRole,
  type DesiredPodIdentityAssociation,
  type DesiredResource,
  type Facts,
  type Note,
  type Plan,
  type SectionPlan,
} from '../model.js';
import { dropsIrsa, isOwned, planResource, resourceKey } from './plan.js';
import {
  attachingRoles,
  clusterNotFound,
  configReferences,
  lookUpReferences,
  referenceProblems,
} from './references.js';

export { DEFAULT_CONCURRENCY };

export interface DesiredSection {
  def: SectionDefinition;
  enabled: boolean;
  waiting?: { reason: string; todo: string };
  resources: DesiredResource[];
  /** The section's own notes (from its definition). */
  notes?: Note[];
  skipReason?: string;
}

/** What each section wants, given the facts. Pure. */
export function desiredSections(config: Config, facts: Facts): DesiredSection[] {
  const cluster = facts.cluster;
  // With several clusters, the sections that need one wait until every one is ready.
  const issuerUrl =
    cluster.state === 'ready' && factsClusters(facts).every((c) => c.state === 'ready') ? cluster.issuerUrl : undefined;
  return SECTIONS.map((def): DesiredSection => {
    const enabled = sectionEnabled(config, def);
    if (!enabled) {
      const skipReason = sectionSkipReason(config, def);
      return { def, enabled, resources: [], ...(skipReason !== undefined ? { skipReason } : {}) };
    }
    if (def.needsCluster && issuerUrl === undefined) {
      return { def, enabled, resources: [], waiting: waitingFor(config, facts) };
    }
    const ctx = { config, facts, ...(issuerUrl ? { issuerUrl } : {}) };
    const notes = def.notes?.(ctx) ?? [];
    return { def, enabled, resources: def.desired(ctx), ...(notes.length > 0 ? { notes } : {}) };
  });
}

/** Why the sections that need the cluster wait, and what to do; `said`: what the region's other clusters say. */
function waitingFor(config: Config, facts: Facts, said?: string): { reason: string; todo: string } {
  // The first cluster that is not ready (the one cluster of most configs).
  const c = factsClusters(facts).find((k) => k.state !== 'ready') ?? facts.cluster;
  const name = c.name ?? config.cluster ?? '(none)';
  const region = clusterRegion(c, facts);
  if (c.state === 'not-ready') {
    return {
      reason: `the EKS cluster ${name} is ${c.status} and has no OIDC issuer yet`,
      todo: `wait until it is ACTIVE (aws eks wait cluster-active --name ${name} --region ${region}), then run again`,
    };
  }
  const roleArn =
    config.clusterRole === false
      ? 'CLUSTER_ROLE_ARN'
      : `arn:${facts.partition}:iam::${facts.accountId}:role${config.path}${config.clusterRole.name}`;
  const create =
    `create it with the cluster role (aws eks create-cluster --name ${name} --region ${region} ` +
    `--role-arn ${roleArn} --resources-vpc-config subnetIds=SUBNET_IDS), wait until it is ACTIVE, then run again`;
  if (said !== undefined) return { reason: said, todo: `if ${name} is a new cluster, ${create}` };
  return { reason: `the EKS cluster ${name} does not exist yet in ${region}`, todo: create };
}

export type CurrentState = Map<string, CurrentResource | undefined>;

/**
 * Whether a role's inline policies are read: `always` (verify), only for a role that is not the tool's
 * (`unowned`: its trust may be handed to new principals by a plan), or `never` (reads that only check a result).
 */
export type InlineRead = 'always' | 'unowned' | 'never';

/**
 * The plan a first setup of `config` makes in the account of `facts`: as offline, nothing of it there yet (the
 * roles that only get attachments there, with nothing attached). Pure. What its changes need is asked of IAM beside
 * the plan's reads (`MakePlanOptions.whenListed`).
 */
export function firstSetupPlan(config: Config, facts: Facts): Plan {
  const sections = desiredSections(config, facts);
  return buildPlan(facts, sections, assumedOffline(sections.flatMap((s) => s.resources)));
}

/**
 * An offline plan assumes an empty account, except for what the config says exists already: the roles that only
 * get attachments (global access) are taken to be there, with nothing attached.
 */
function assumedOffline(resources: DesiredResource[]): CurrentState {
  const state: CurrentState = new Map();
  for (const r of resources) {
    if (r.kind !== 'attachment') continue;
    state.set(resourceKey(r), {
      kind: 'role',
      name: r.name,
      arn: r.arn,
      path: '/',
      trust: { Version: '2012-10-17', Statement: [] },
      attached: [],
      tags: {},
    });
  }
  return state;
}

/** The AWS service a resource is read from: each has its own bound on requests in flight. */
function serviceOf(r: DesiredResource): string {
  switch (r.kind) {
    case 'vpc-dns':
      return 'ec2';
    case 'bucket':
      return 's3';
    case 'pod-identity-association':
    case 'addon':
      return 'eks';
    default:
      return 'iam';
  }
}

/**
 * Read what AWS holds for each desired resource, `concurrency` reads at a time of each service (the VPC's and the
 * bucket's do not wait behind the roles' when there are many). The pod identity associations of a
 * cluster are listed once, from the start, for all of them: an empty cluster costs one call, not one per service
 * account (only those that exist are described). A role's attachments are listed only once the role is found: a
 * first setup does not list those of roles it is about to make.
 */
export async function readCurrent(
  gateway: AwsGateway,
  resources: DesiredResource[],
  concurrency = DEFAULT_CONCURRENCY,
  inline: InlineRead = 'unowned',
  listings: AssociationListings = new Map(),
  listed?: ListedRoles,
  answered?: (key: string, found: CurrentResource | undefined) => void,
): Promise<CurrentState> {
  associationListings(gateway, resources, listings);
  const found = await mapLimitBy(resources, serviceOf, concurrency, async (r) => {
    const one =
      r.kind === 'role' && listed?.lacks(r.name) ? undefined : await readResource(gateway, r, inline, listings, true);
    answered?.(resourceKey(r), one);
    return one;
  });
  return new Map(resources.map((r, i) => [resourceKey(r), found[i]]));
}

/** The account's roles as a complete ListRoles gave them (`listedRoles`). */
export interface ListedRoles {
  /** The listing is complete and holds no role of that name. */
  lacks(name: string): boolean;
}

/**
 * The account's roles once every page of ListRoles is in: a plan's role read that starts after that makes no GetRole
 * for a role the listing lacks, so that with many roles to read, those queued behind the first ones (the roles a
 * first setup is about to make) cost no call. Until the listing is complete, or when it failed, every role is read.
 * IAM's role names are unique regardless of case, so the names are compared so. Only for a run that applies
 * (`MakePlanOptions.trustRoleListing`): a role made after the listing, or one ListRoles does not show yet (IAM is
 * eventually consistent), is planned as missing, as one made after its GetRole would be; its CreateRole answers
 * EntityAlreadyExists, and the run reads it again (`isConflict` in apply.ts).
 */
export function listedRoles(listing: Promise<readonly RoleListing[]>): ListedRoles {
  let lacks: ((name: string) => boolean) | undefined;
  listing.then(
    (roles) => void (lacks = lackedBy(roles)),
    () => undefined,
  );
  return { lacks: (name) => lacks?.(name) === true };
}

/** Whether a complete listing of the account's roles lacks a role (IAM's role names are unique regardless of case). */
function lackedBy(roles: readonly RoleListing[]): (name: string) => boolean {
  const names = new Set(roles.map((r) => r.name.toLowerCase()));
  return (name) => !names.has(name.toLowerCase());
}

/** The associations of each cluster the resources name one of, by `clusterListingKey`: one listing each, started now. */
export type AssociationListings = Map<string, Promise<AssociationSummary[]>>;

function clusterListingKey(cluster: string, region: string | undefined): string {
  return `${region ?? ''}/${cluster}`;
}

function associationListings(
  gateway: AwsGateway,
  resources: DesiredResource[],
  listings: AssociationListings = new Map(),
): AssociationListings {
  for (const r of resources) {
    if (r.kind !== 'pod-identity-association' || r.gone) continue;
    const key = clusterListingKey(r.cluster, r.region);
    if (listings.has(key)) continue;
    const listing = gateway.podIdentityAssociations(r.cluster, {}, r.region);
    // Its failure is the reads' to report (each awaits it); one that nobody awaits is not unhandled.
    listing.catch(() => undefined);
    listings.set(key, listing);
  }
  return listings;
}

/**
 * What AWS holds for one desired resource; a role's inline policies are read as `inline` says. An association is
 * looked up in its cluster's listing when there is one, else by a list filtered to it (or by the ID of one the run
 * made). `attachedOnceFound`: a role's attachments are listed only once GetRole found it (`AwsGateway.readRole`).
 */
export async function readResource(
  gateway: AwsGateway,
  r: DesiredResource,
  inline: InlineRead = 'unowned',
  listings?: AssociationListings,
  attachedOnceFound = false,
): Promise<CurrentResource | undefined> {
  switch (r.kind) {
    case 'role':
      return readRole(gateway, r.name, inline, attachedOnceFound);
    case 'oidc-provider':
      return gateway.readOidcProvider(r.arn);
    case 'policy': {
      // One to remove: all its versions (deleted before it) and what it is attached to.
      const policy = await gateway.readPolicy(r.arn, (doc) => r.gone === true || !samePolicy(doc, r.document));
      if (policy === undefined || (r.attachTo === undefined && r.gone === undefined)) return policy;
      return { ...policy, attachedRoles: (await gateway.policyAttachments(r.arn)).roles };
    }
    case 'attachment':
      return gateway.readRole(r.name);
    case 'vpc-dns':
      return gateway.readVpcDns(r.name, r.region);
    case 'bucket':
      return gateway.readBucket(r.name, r.kmsKey !== undefined && ownKey(r.kmsKey, r.accountId) ? r.kmsKey : undefined);
    case 'pod-identity-association':
      return gateway.readPodIdentityAssociation(
        r.cluster,
        r.namespace,
        r.serviceAccount,
        r.region,
        listings?.get(clusterListingKey(r.cluster, r.region)),
      );
    case 'addon':
      return gateway.readAddon(r.cluster, r.name, r.region);
  }
}

/** A KMS key of the run's account: only its own account may read its key policy. */
function ownKey(keyArn: string, accountId: string | undefined): boolean {
  return keyArn.split(':')[4] === accountId;
}

/**
 * A role and, as `inline` says, its inline policies: with `always` read beside the role, with `unowned` after it
 * (one more call, only when its tags say it is not the tool's).
 */
async function readRole(
  gateway: AwsGateway,
  name: string,
  inline: InlineRead,
  attachedOnceFound: boolean,
): Promise<CurrentRole | undefined> {
  const [role, listed] = await Promise.all([
    gateway.readRole(name, { attachedOnceFound }),
    inline === 'always' ? readInline(gateway, name) : undefined,
  ]);
  if (role === undefined) return undefined;
  const found = inline === 'unowned' && !isOwned(role.tags) ? await readInline(gateway, name) : listed;
  return { ...role, ...found };
}

/**
 * A role's inline policies: their names, then their documents (to find a broad grant). They only add findings: a
 * refusal to read them is kept on the role (`inlineUnreadable`) instead of stopping the run; a role gone meanwhile
 * has none.
 */
async function readInline(
  gateway: AwsGateway,
  name: string,
): Promise<Pick<CurrentRole, 'inline' | 'inlineDocuments' | 'inlineUnreadable'>> {
  const refused = (err: unknown) => isCode(err, 'AccessDenied', 'AccessDeniedException');
  let inline: string[];
  try {
    inline = await gateway.inlinePolicyNames(name);
  } catch (err) {
    if (refused(err)) return { inlineUnreadable: (err as Error).message };
    if (isCode(err, 'NoSuchEntity')) return {};
    throw err;
  }
  if (inline.length === 0) return { inline };
  try {
    const documents = await Promise.all(inline.map((p) => gateway.inlinePolicyDocument(name, p)));
    const inlineDocuments: NonNullable<CurrentRole['inlineDocuments']> = {};
    inline.forEach((p, i) => {
      if (documents[i] !== undefined) inlineDocuments[p] = documents[i];
    });
    return { inline, inlineDocuments };
  } catch (err) {
    if (refused(err)) return { inline, inlineUnreadable: (err as Error).message };
    if (isCode(err, 'NoSuchEntity')) return { inline };
    throw err;
  }
}

/** The plan from desired sections and current state. Pure. */
export function buildPlan(
  facts: Facts,
  sections: DesiredSection[],
  current: CurrentState,
  extraNotes: Map<string, Note[]> = new Map(),
): Plan {
  return holdIrsaWithoutAssociations({
    facts,
    sections: sections.map((s): SectionPlan => {
      const base = {
        id: s.def.id,
        title: s.def.title,
        notes: [...(s.notes ?? []), ...(extraNotes.get(s.def.id) ?? [])],
      };
      if (!s.enabled)
        return { ...base, status: 'skipped', resources: [], ...(s.skipReason ? { skipReason: s.skipReason } : {}) };
      if (s.waiting) return { ...base, status: 'waiting', resources: [], waiting: s.waiting };
      const resources = s.resources
        // A policy the config wants gone that is not there: nothing to say.
        .filter((r) => !(r.kind === 'policy' && r.gone && current.get(resourceKey(r)) === undefined))
        .map((r) => {
          const found = current.get(resourceKey(r));
          return found === undefined ? planResource(r, found) : { ...planResource(r, found), current: found };
        });
      const changed = resources.filter((r) => r.action !== 'none');
      const status = resources.some((r) => r.blocked !== undefined)
        ? 'blocked'
        : changed.length === 0
          ? 'unchanged'
          : changed.every((r) => r.action === 'create')
            ? 'create'
            : 'update';
      return { ...base, status, resources };
    }),
  });
}

/**
 * The pod identity associations cannot be made (their section is blocked): a role whose trust would lose IRSA for
 * Pod Identity keeps it, blocked, so that its pods are never left with neither. Pure.
 */
function holdIrsaWithoutAssociations(plan: Plan): Plan {
  if (plan.sections.find((s) => s.id === 'podIdentity')?.status !== 'blocked') return plan;
  const reason =
    'its trust would lose IRSA for Pod Identity, but the pod identity associations cannot be made (see EKS Pod ' +
    'Identity associations): its pods would have neither, so it stays as it is until they can';
  return {
    ...plan,
    sections: plan.sections.map((s) => {
      const resources = s.resources.map((r) =>
        r.kind === 'role' &&
        r.blocked === undefined &&
        r.steps.some((x) => x.op === 'UpdateAssumeRolePolicy' && dropsIrsa(x.before, x.trust))
          ? { ...r, steps: [], action: 'none' as const, blocked: reason }
          : r,
      );
      return resources.some((r, i) => r !== s.resources[i]) ? { ...s, status: 'blocked' as const, resources } : s;
    }),
  };
}

export interface MakePlanOptions {
  /** Plan without AWS: an empty account, placeholder IDs. */
  offline?: boolean;
  concurrency?: number;
  /** Plan only these sections (the wizard plans one at a time, just before asking about it). */
  only?: readonly SectionId[];
  /** Facts already gathered for this config's account and cluster: no STS or EKS call is made again. */
  facts?: Facts;
  /** Read every role's inline policies (verify), not only those of roles that are not the tool's. */
  audit?: boolean;
  /**
   * Look up what the config names (extra policies, the boundary, Union's role and policy; a policy a role of the
   * config is read holding is proven by that, see `attachedToARole`) and a cluster that is not found, beside the
   * plan's reads: a missing one (or a likely typo of a cluster name) throws a ConfigError.
   */
  references?: boolean;
  /** Plan the removal of the setup's roles the config no longer names (`--prune`); without it they are listed. */
  prune?: boolean;
  /** Look for those roles (default: yes, unless only some sections are planned). */
  leftovers?: boolean;
  /**
   * Take a role that the account's complete ListRoles (started first, for those roles) does not list as missing,
   * without its GetRole (`listedRoles`): for a run that applies the plan, where a role made meanwhile answers its
   * CreateRole with EntityAlreadyExists and is read again. Not for verify or a dry run, whose answer must not depend
   * on how soon ListRoles shows a role made moments before (as after an apply).
   */
  trustRoleListing?: boolean;
  /**
   * Called once the caller and the clusters are known and the account's roles are listed (complete), with the
   * facts, the names of the config's roles the listing lacks and the listing: the plan's reads are on their way by
   * then. Not called when the roles are not listed (`leftovers: false`), the listing failed, or the plan is made
   * (or failed) by then.
   */
  whenListed?(facts: Facts, lacking: string[], listing: readonly RoleListing[]): void;
}

/** Facts, desired state, current state and plan, for a config. `gateway` may be omitted only offline. */
export async function makePlan(
  config: Config,
  gateway: AwsGateway | undefined,
  options: MakePlanOptions = {},
): Promise<Plan> {
  if (options.offline || gateway === undefined) {
    const facts = offlineFacts(config);
    const sections = onlySections(desiredSections(config, facts), options.only);
    return buildPlan(facts, sections, assumedOffline(sections.flatMap((s) => s.resources)));
  }
  // Once the plan is made (or failed), what `whenListed` would start is not started.
  const ended = { value: false };
  try {
    return await planOnline(config, gateway, options, ended);
  } finally {
    ended.value = true;
  }
}

async function planOnline(
  config: Config,
  gateway: AwsGateway,
  options: MakePlanOptions,
  ended: { value: boolean },
): Promise<Plan> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const inline: InlineRead = options.audit ? 'always' : 'unowned';
  // The roles of the account, for the setup's roles the config no longer names: listed at once, beside the caller and
  // the clusters (ListRoles needs neither), so that the listing is in when the plan's reads start (with
  // `trustRoleListing`, they then make no GetRole for a role it lacks: a first setup reads none of its roles). Where
  // the config names its account, only once the credentials are known to be of that account.
  const wantLeftovers = options.leftovers ?? options.only === undefined;
  const listing = () => {
    const started = gateway.listRoles();
    started.catch(() => undefined);
    return started;
  };
  let listed = wantLeftovers && config.accountId === undefined ? listing() : undefined;
  // The reads and the look-ups start as soon as the caller and the clusters are known; once the bucket's encryption
  // is known, only what its key adds is read (`readRest`).
  const early = options.facts === undefined ? await gatherFactsEarly(gateway, config) : undefined;
  if (wantLeftovers && listed === undefined) listed = listing();
  const index = listed !== undefined && options.trustRoleListing ? listedRoles(listed) : undefined;
  const known = options.facts ?? early!.facts;
  const first = onlySections(desiredSections(config, known), options.only);
  // Each cluster's pod identity associations, listed once: for the config's, and for those it no longer wants.
  const listings: AssociationListings = new Map();
  const earlyReads =
    early !== undefined ? startEarlyReads(gateway, first, concurrency, inline, listings, index) : undefined;
  if (options.whenListed !== undefined && listed !== undefined) {
    const { whenListed } = options;
    const roles = first.flatMap((s) => s.resources).flatMap((r) => (r.kind === 'role' ? [r.name] : []));
    listed.then(
      (all) => {
        if (ended.value) return;
        try {
          whenListed(known, [...new Set(roles.filter(lackedBy(all)))], all);
        } catch {
          // What the caller starts beside the plan is not the plan.
        }
      },
      () => undefined,
    );
  }
  const refs = options.references ? configReferences(config, known) : [];
  // Union's role is read by the plan itself when its section is planned: the plan's read answers for it.
  const readAnyway = new Map<string, string>(
    first
      .flatMap((s) => s.resources)
      .flatMap((r) => (r.kind === 'attachment' ? [[`role:${r.name}`, resourceKey(r)] as const] : [])),
  );
  // A cluster of the run's region not found: a typo of one the region has? (Another region's only waits.)
  const missing = factsClusters(known).find((c) => c.state === 'missing');
  const missingCluster =
    options.references && missing !== undefined && clusterRegion(missing, known) === known.region
      ? missing.name
      : undefined;
  // A policy the config names that a role of the config attaches is proven by that role's read, when it finds it
  // attached (a re-run looks none of them up); else it is looked up, once the listing or the role's read shows it is
  // not attached (not after the plan has failed). Not for verify: its access check reads such a policy's document,
  // whose default version the look-up tells.
  const attaching: ReturnType<typeof attachingRoles> =
    earlyReads !== undefined && !options.audit
      ? attachingRoles(
          refs,
          first.flatMap((s) => s.resources),
        )
      : new Map();
  const beside = Promise.all([
    providerNotes(gateway, config, known, first),
    lookUpReferences(gateway, refs, (key) => readAnyway.has(key) || attaching.has(key)),
    // Only when the cluster is not found: is it a typo of one the region has? (Refused: as before, not created yet.)
    missingCluster !== undefined ? gateway.listClusters().catch(() => undefined) : undefined,
    Promise.all(
      [...attaching].map(async ([key, { arn, roles }]) => {
        const proven = await attachedToARole(arn, roles, listed, earlyReads!);
        return [key, proven === false && !ended.value ? await gateway.policyExists(arn) : proven] as const;
      }),
    ),
  ]);
  beside.catch(() => undefined);
  const facts =
    options.facts ??
    withBucketEncryption(known, await settleAfter(early!.bucketEncryption, [earlyReads?.read, beside, listed]));
  let sections = onlySections(desiredSections(config, facts), options.only);
  let [current, [notes, answers, regionClusters, attached]] = await Promise.all([
    readRest(
      gateway,
      sections.flatMap((s) => s.resources),
      earlyReads,
      concurrency,
      inline,
      listings,
    ),
    beside,
  ]);
  for (const [key, resource] of readAnyway) answers.set(key, current.get(resource) !== undefined);
  for (const [key, found] of attached) answers.set(key, found);
  [sections, current] = await withLeftBehind(gateway, config, facts, sections, current, concurrency, inline);
  [sections, current] = await withAssociationsLeftBehind(gateway, config, facts, sections, current, listings, {
    concurrency,
  });
  const cluster = missingCluster !== undefined ? clusterNotFound(missingCluster, facts.region, regionClusters) : {};
  const problems = [
    ...(cluster.problem !== undefined ? [cluster.problem] : []),
    ...(await referenceProblems(refs, answers, facts, () => gateway.awsManagedPolicies())),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  if (cluster.said !== undefined) {
    const waiting = waitingFor(config, facts, cluster.said);
    sections = sections.map((s) => (s.waiting !== undefined ? { ...s, waiting } : s));
  }
  const plan = buildPlan(facts, sections, current, notes);
  if (listed === undefined) return plan;
  // The config's roles as read: a cluster their Pod Identity trust names that the config does not is looked at for
  // the setup's associations (no call when they name only the config's clusters).
  const trusts = [...current.values()].flatMap((r) => (r?.kind === 'role' ? [r] : []));
  const leftovers = await findLeftovers(gateway, config, facts, {
    ...(options.prune ? { prune: true, providers: true } : {}),
    concurrency,
    listed,
    trusts,
  });
  return { ...plan, leftovers };
}

/**
 * The sections that are off but left something of theirs on the config's roles (SectionDefinition.leftBehind): each
 * is planned to take it away, what it left read first (one more round of reads, only when something is found). A
 * section that needs the clusters waits for them, as it would if it were on.
 */
async function withLeftBehind(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  sections: DesiredSection[],
  current: CurrentState,
  concurrency: number,
  inline: InlineRead,
): Promise<[DesiredSection[], CurrentState]> {
  const ready = factsClusters(facts).every((c) => c.state === 'ready');
  const attached = (role: string): readonly string[] | undefined => {
    const found = current.get(`role:${role}`);
    return found?.kind === 'role' ? found.attached : undefined;
  };
  const left = sections.map((s) =>
    !s.enabled && s.def.leftBehind !== undefined && (ready || !s.def.needsCluster)
      ? s.def.leftBehind({ config, facts }, attached)
      : [],
  );
  if (left.every((l) => l.length === 0)) return [sections, current];
  const read = await readCurrent(gateway, left.flat(), concurrency, inline);
  return [
    sections.map((s, i) => (left[i]!.length === 0 ? s : { def: s.def, enabled: true, resources: left[i]! })),
    new Map([...current, ...read]),
  ];
}

/**
 * The pod identity associations of the config's clusters that the config no longer wants (their namespace and
 * service account named by no role of the config, or `identity: irsa`): this setup's are planned for deletion in
 * the podIdentity section (a narrowing change, under `--yes` alone), anyone else's that hand a role of the config to
 * those pods are reported. Each cluster's listing is the one the section's reads made (no call of its own); only
 * the associations the config does not want are described (none on a cluster that holds only the config's).
 *
 * With `identity: irsa` (the section off) the clusters are listed only when a role the plan read still trusts EKS
 * Pod Identity (the run that switches to IRSA, and verify before it): a setup that never used Pod Identity makes no
 * call for them, and needs no EKS permission for them. A refusal to list them then is a note, not a failure.
 */
async function withAssociationsLeftBehind(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  sections: DesiredSection[],
  current: CurrentState,
  listings: AssociationListings,
  options: { concurrency: number },
): Promise<[DesiredSection[], CurrentState]> {
  const at = sections.findIndex((s) => s.def.id === 'podIdentity');
  const section = sections[at];
  const clusters = factsClusters(facts);
  if (section === undefined || section.waiting !== undefined || facts.offline) return [sections, current];
  if (!clusters.every((c) => c.state === 'ready') || config.cluster === undefined) return [sections, current];
  const podTrusted = [...current.values()].some(
    (r) => r?.kind === 'role' && r.trust.Statement.some(isPodIdentityStatement),
  );
  const optional = !section.enabled && config.identity === 'irsa';
  if (optional && !podTrusted) return [sections, current];
  const wanted = section.enabled
    ? section.resources.filter(
        (r): r is DesiredPodIdentityAssociation => r.kind === 'pod-identity-association' && r.gone !== true,
      )
    : [];
  const refused: string[] = [];
  const found = await mapLimit(clusters, options.concurrency, async (c): Promise<FoundAssociation[]> => {
    if (c.state !== 'ready') return [];
    const where = clusterRegion(c, facts);
    const region = where !== facts.region ? where : undefined;
    const key = clusterListingKey(c.name, region);
    let summaries: AssociationSummary[];
    try {
      summaries = await (listings.get(key) ?? gateway.podIdentityAssociations(c.name, {}, region));
    } catch (err) {
      if (optional && isCode(err, 'AccessDenied', 'AccessDeniedException')) {
        refused.push(`${c.name} (${(err as Error).message})`);
        return [];
      }
      throw err;
    }
    const taken = new Set(
      wanted
        .filter((r) => r.cluster === c.name && r.region === region)
        .map((r) => `${r.namespace}/${r.serviceAccount}`),
    );
    const described = await describeAssociations(gateway, c.name, region, summaries, options.concurrency, taken);
    return described.map((a) => ({ cluster: c.name, ...(region !== undefined ? { region } : {}), current: a }));
  });
  const roleArns = new Set(
    configRoles(config).map((r) => roleArn(facts.partition, facts.accountId, config.path, r.name)),
  );
  const several = clusters.length > 1;
  const left = associationsLeftBehind(config, found.flat(), roleArns, several);
  if (left.length === 0 && refused.length === 0) return [sections, current];
  const byArn = new Map(found.flat().map((f) => [f.current.arn, f.current]));
  const read: CurrentState = new Map(left.map((r) => [resourceKey(r), byArn.get(r.arn)]));
  const notes: Note[] = refused.map((c) => ({
    level: 'warn',
    unchecked: true,
    message:
      `the pod identity associations of the cluster ${c} could not be listed: whether this setup left any (from ` +
      'identity: pod-identity or both) was not checked',
  }));
  const next: DesiredSection = section.enabled
    ? { ...section, resources: [...section.resources, ...left] }
    : { def: section.def, enabled: true, resources: left, ...(notes.length > 0 ? { notes } : {}) };
  return [sections.map((s, i) => (i === at ? next : s)), new Map([...current, ...read])];
}

interface EarlyReads {
  resources: Map<string, DesiredResource>;
  read: Promise<CurrentState>;
  /** Each role's read, by resource key, settled as soon as it is done (never, when the reads fail first). */
  roles: Map<string, Promise<CurrentResource | undefined>>;
}

function startEarlyReads(
  gateway: AwsGateway,
  sections: DesiredSection[],
  concurrency: number,
  inline: InlineRead,
  listings?: AssociationListings,
  listed?: ListedRoles,
): EarlyReads {
  const now = sections.flatMap((s) => s.resources);
  const settle = new Map<string, (found: CurrentResource | undefined) => void>();
  const roles = new Map(
    now
      .filter((r) => r.kind === 'role')
      .map((r) => [
        resourceKey(r),
        new Promise<CurrentResource | undefined>((done) => settle.set(resourceKey(r), done)),
      ]),
  );
  const read = readCurrent(gateway, now, concurrency, inline, listings, listed, (key, found) =>
    settle.get(key)?.(found),
  );
  read.catch(() => undefined);
  return { resources: new Map(now.map((r) => [resourceKey(r), r])), read, roles };
}

/**
 * Whether a role of `roles` holds the policy `arn` attached, which proves it exists (IAM refuses to delete a policy
 * that is still attached), from the plan's early reads: `true` as soon as one such role's read finds it attached;
 * `false` (to be looked up) as soon as the account's complete listing lacks all of them, or once their reads are done
 * without finding it; `undefined` when the reads failed (the plan fails). A first setup whose listing is in when the
 * reads start (the usual case: it is asked with the caller and the cluster) is decided at once; one whose listing
 * comes later waits for it or for the role's GetRole, a round trip at most. A role that is there without the policy
 * (the config has just added it) waits for its read: the look-up then costs a round trip more, in a run that attaches
 * it. A re-run finds it attached, and makes no look-up.
 */
function attachedToARole(
  arn: string,
  roles: readonly string[],
  listed: Promise<readonly RoleListing[]> | undefined,
  early: EarlyReads,
): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    listed?.then(
      (all) => {
        if (roles.every(lackedBy(all))) resolve(false);
      },
      () => undefined,
    );
    early.read.catch(() => resolve(undefined));
    let left = roles.length;
    for (const name of roles) {
      const read = early.roles.get(`role:${name}`);
      if (read === undefined) {
        resolve(false);
        continue;
      }
      void read.then((found) => {
        if (found?.kind === 'role' && found.attached.includes(arn)) resolve(true);
        else if (--left === 0) resolve(false);
      });
    }
  });
}

/**
 * The bucket's encryption; when it fails, what was started beside it is let finish first (no read is left in flight
 * behind the error, as when a read fails).
 */
async function settleAfter<T>(value: Promise<T>, started: (Promise<unknown> | undefined)[]): Promise<T> {
  try {
    return await value;
  } catch (err) {
    await Promise.allSettled(started);
    throw err;
  }
}

/**
 * The current state of `resources`: what the early reads found, topped up where the bucket's encryption changed
 * what is wanted (the custom policy's document: its versions when it is to change; the bucket's key: its key
 * policy); a resource the early reads did not cover is read now.
 */
async function readRest(
  gateway: AwsGateway,
  resources: DesiredResource[],
  early: EarlyReads | undefined,
  concurrency: number,
  inline: InlineRead,
  listings?: AssociationListings,
): Promise<CurrentState> {
  if (early === undefined) return readCurrent(gateway, resources, concurrency, inline, listings);
  const found = await early.read;
  const tops = await mapLimitBy(resources, serviceOf, concurrency, async (r) => {
    const key = resourceKey(r);
    const before = early.resources.get(key);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(r)) return found.get(key);
    if (before?.kind === r.kind && (r.kind === 'policy' || r.kind === 'bucket'))
      return topUp(gateway, r, found.get(key));
    return readResource(gateway, r, inline);
  });
  return new Map(resources.map((r, i) => [resourceKey(r), tops[i]]));
}

/** The rest of a policy's or the bucket's read, for what the bucket's encryption added to the config's wish. */
async function topUp(
  gateway: AwsGateway,
  r: DesiredResource,
  current: CurrentResource | undefined,
): Promise<CurrentResource | undefined> {
  if (r.kind === 'policy' && current?.kind === 'policy') {
    const needsVersions = r.gone === true || !samePolicy(current.document, r.document);
    return needsVersions && current.versions === undefined
      ? { ...current, versions: await gateway.policyVersions(r.arn) }
      : current;
  }
  if (r.kind === 'bucket' && current?.kind === 'bucket') {
    if (r.kmsKey === undefined || !ownKey(r.kmsKey, r.accountId) || current.keyPolicy !== undefined) return current;
    return bucketWithKeyPolicy(current, await gateway.keyPolicy(r.kmsKey));
  }
  return current;
}

function onlySections(sections: DesiredSection[], only?: readonly SectionId[]): DesiredSection[] {
  return only === undefined ? sections : sections.filter((s) => only.includes(s.def.id));
}

/**
 * When the OIDC provider section is off but IRSA roles are on, the roles' trust names a provider this run does
 * not create: say so if it does not exist.
 */
async function providerNotes(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  sections: DesiredSection[],
): Promise<Map<string, Note[]>> {
  const notes = new Map<string, Note[]>();
  if (config.oidcProvider || config.identity === 'pod-identity') return notes;
  const clusters = factsClusters(facts);
  if (!clusters.every((c) => c.state === 'ready')) return notes;
  const irsa = sections.filter((s) => s.resources.length > 0 && s.def.identity === 'irsa');
  if (irsa.length === 0) return notes;
  const arns = clusters.map((c) =>
    oidcProviderArn(facts.partition, facts.accountId, c.state === 'ready' ? c.issuerUrl : ''),
  );
  const found = await Promise.all(arns.map((a) => gateway.readOidcProvider(a)));
  const absent = arns.filter((_, i) => found[i] === undefined);
  if (absent.length === 0) return notes;
  const arn = absent.join(', ');
  for (const s of irsa) {
    notes.set(s.def.id, [
      {
        level: 'warn',
        message: `its trust names the OIDC provider ${arn}, which ${absent.length > 1 ? 'do' : 'does'} not exist and which this config does not create (oidcProvider: false); set oidcProvider: true`,
      },
    ]);
  }
  return notes;
}
