/**
 * The least-privilege IAM policy for the person or CI role that runs flyte-aws-setup with a config: the actions of
 * the operation table, each on the ARNs this config touches (built by the same section code that plans the run),
 * attachments limited to the policies the config names. Pure: config and facts in, document and notes out.
 */
import { needsCluster } from '../engine/facts.js';
import { desiredSections } from '../engine/engine.js';
import { configReferences } from '../engine/references.js';
import { clusterRegion, factsClusters, type ClusterFacts, type DesiredResource, type Facts } from '../model.js';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, SETUP_KEY } from '../config/rules.js';
import type { Config } from '../config/schema.js';
import { SECTIONS } from '../sections/index.js';
import { sectionEnabled } from '../sections/derived.js';
import {
  POD_IDENTITY_PRINCIPAL,
  POLICY_VERSION,
  policySize,
  MANAGED_POLICY_MAX,
  type PolicyDocument,
  type PolicyStatement,
} from '../policy/document.js';
import { eksClusterArn, eksIssuerUrl, oidcProviderArn, type Partition } from '../policy/partition.js';
import { AWS_OPERATIONS, type ConditionKind, type PermissionMode, type Scope } from './operations.js';

/** What the generator knows about the account; the unknowns are scoped with a wildcard and said so. */
export interface PermissionFacts {
  partition: Partition;
  accountId: string;
  region: string;
  /** The cluster's OIDC issuer; unknown: `oidc.eks.<region>.<suffix>/id/*`. */
  issuerUrl?: string;
  /** The cluster's VPC; unknown: `vpc/*` (only `vpcDns: fix` needs it). */
  vpcId?: string;
  /** What was read of the config's other clusters (after the first), in its order; unknown: as for the first. */
  otherClusters?: { issuerUrl?: string; vpcId?: string }[];
  /** Real ARNs (with their paths) of existing roles that get attachments; unknown: at path `/`. */
  existingRoleArns?: Record<string, string>;
}

export interface PermissionPolicy {
  document: PolicyDocument;
  /** What the reader should know: assumptions, wildcards and why, what is left out. */
  notes: string[];
}

/** The policy variable for the caller's own user or role ARN (a role session's is its role's). */
export const SELF = '${aws:PrincipalArn}';

const SIDS: Record<Scope, string> = {
  managedRoles: 'FlyteRoles',
  podRoles: 'PassPodRoles',
  existingRoles: 'ExistingRoles',
  setupRoles: 'SetupRoles',
  customPolicy: 'BucketPolicy',
  grantsPolicies: 'GrantsPolicies',
  goneGrantsPolicies: 'RemovedGrantsPolicies',
  referencedPolicies: 'NamedPolicies',
  bucket: 'FlyteBucket',
  bucketKey: 'FlyteBucketKey',
  anyPolicy: 'ReadPolicyDocuments',
  oidcProvider: 'OidcProvider',
  providerRead: 'OidcProvider',
  anyProvider: 'ReadOidcProviders',
  providerList: 'NoResourceLevel',
  cluster: 'EksCluster',
  anyCluster: 'ReadEksClusters',
  podIdentityAssociations: 'PodIdentityAssociations',
  droppedClusters: 'DroppedEksClusters',
  setupAssociations: 'SetupPodIdentityAssociations',
  podIdentityAddon: 'PodIdentityAgent',
  nodegroups: 'EksNodegroups',
  vpc: 'ClusterVpc',
  vpcDescribe: 'NoResourceLevel',
  clusterLookup: 'NoResourceLevel',
  policyLookup: 'NoResourceLevel',
  self: 'PreflightOwnPermissions',
  account: 'NoResourceLevel',
  none: 'None',
};
/** Statement order: the roles first, then the provider, the policy, the cluster, the VPC, the caller. */
const SCOPE_ORDER: readonly Scope[] = [
  'managedRoles',
  'podRoles',
  'existingRoles',
  'setupRoles',
  'oidcProvider',
  'providerRead',
  'anyProvider',
  'providerList',
  'customPolicy',
  'grantsPolicies',
  'goneGrantsPolicies',
  'referencedPolicies',
  'anyPolicy',
  'bucket',
  'bucketKey',
  'cluster',
  'anyCluster',
  'podIdentityAssociations',
  'droppedClusters',
  'setupAssociations',
  'podIdentityAddon',
  'nodegroups',
  'vpc',
  'vpcDescribe',
  'clusterLookup',
  'policyLookup',
  'self',
  'account',
  'none',
];

const CONDITION_SIDS: Record<ConditionKind, string> = {
  attachedPolicies: 'AttachListedPoliciesOnly',
  boundary: 'WithBoundaryOnly',
  ownedOnly: 'ToolsOwnOnly',
  setupOnly: 'ThisSetupsOnly',
  passedToPodIdentity: 'ToPodIdentityOnly',
};

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The facts the section code plans from, with wildcards where the account is not known. */
function planningFacts(config: Config, pf: PermissionFacts): Facts {
  // The first cluster may be in another region than the run's too.
  const firstRegion = config.clusters?.[0]?.region;
  const firstElsewhere = firstRegion !== undefined && firstRegion !== pf.region ? { region: firstRegion } : {};
  const issuerUrl = pf.issuerUrl ?? eksIssuerUrl(pf.partition, firstRegion ?? pf.region, '*');
  const wanted = needsCluster(config) && config.cluster !== undefined;
  // Several clusters: each of the others with its issuer and VPC as read, else any of its region.
  const others = wanted
    ? config.clusters.slice(1).map((c, i): ClusterFacts => ({
        state: 'ready',
        name: c.name,
        status: 'ACTIVE',
        issuerUrl: pf.otherClusters?.[i]?.issuerUrl ?? eksIssuerUrl(pf.partition, c.region ?? pf.region, '*'),
        vpcId: pf.otherClusters?.[i]?.vpcId ?? '*',
        ...(c.region !== undefined && c.region !== pf.region ? { region: c.region } : {}),
      }))
    : [];
  const first: ClusterFacts = wanted
    ? { state: 'ready', name: config.cluster!, status: 'ACTIVE', issuerUrl, vpcId: pf.vpcId ?? '*', ...firstElsewhere }
    : { state: 'not-needed' };
  return {
    partition: pf.partition,
    accountId: pf.accountId,
    region: pf.region,
    offline: false,
    cluster: first,
    ...(others.length > 0 ? { clusters: [first, ...others] } : {}),
  };
}

/** The ARNs of each scope for this config, and the condition values. */
function scopes(config: Config, pf: PermissionFacts) {
  const facts = planningFacts(config, pf);
  const sections = desiredSections(config, facts);
  const resources: DesiredResource[] = sections.flatMap((s) => s.resources);
  const podRoles = sections
    .filter((s) => s.def.identity === 'irsa')
    .flatMap((s) => s.resources.flatMap((r) => (r.kind === 'role' ? [r.arn] : [])));
  const roles = resources.flatMap((r) => (r.kind === 'role' ? [r] : []));
  const attachments = resources.flatMap((r) => (r.kind === 'attachment' ? [r] : []));
  // The cluster's provider is read by the section that makes it and by the IRSA roles that trust it.
  const providerUsed = SECTIONS.some(
    (s) => (s.identity === 'irsa' || s.id === 'oidcProvider') && sectionEnabled(config, s),
  );
  const c = facts.cluster;
  // Every cluster of the config that the facts hold (ready here), each with its region.
  const ready = factsClusters(facts).flatMap((k) =>
    k.state === 'ready' ? [{ name: k.name, region: clusterRegion(k, facts), issuerUrl: k.issuerUrl }] : [],
  );
  const referenced = configReferences(config, facts).flatMap((r) => (r.kind === 'policy' ? [r.arn] : []));
  const arns: Record<Scope, string[]> = {
    managedRoles: roles.map((r) => r.arn),
    podRoles,
    existingRoles: attachments.map((a) => pf.existingRoleArns?.[a.name] ?? a.arn),
    setupRoles: [`arn:${pf.partition}:iam::${pf.accountId}:role/*`],
    customPolicy: resources.flatMap((r) => (r.kind === 'policy' && !r.gone ? [r.arn] : [])),
    grantsPolicies: resources.flatMap((r) => (r.kind === 'policy' && r.attachTo !== undefined ? [r.arn] : [])),
    goneGrantsPolicies: resources.flatMap((r) => (r.kind === 'policy' && r.gone ? [r.arn] : [])),
    referencedPolicies: referenced,
    bucket: resources.flatMap((r) => (r.kind === 'bucket' ? [r.arn] : [])),
    bucketKey: bucketKeyArns(config, pf),
    // Only where there are Flyte roles to check.
    anyPolicy:
      roles.some((r) => r.scopedPolicy !== undefined) || attachments.length > 0
        ? [`arn:${pf.partition}:iam::aws:policy/*`, `arn:${pf.partition}:iam::${pf.accountId}:policy/*`]
        : [],
    oidcProvider: resources.flatMap((r) => (r.kind === 'oidc-provider' ? [r.arn] : [])),
    providerRead: providerUsed ? ready.map((k) => oidcProviderArn(pf.partition, pf.accountId, k.issuerUrl)) : [],
    anyProvider:
      c.state === 'ready' && providerUsed ? [`arn:${pf.partition}:iam::${pf.accountId}:oidc-provider/*`] : [],
    providerList: sectionEnabled(config, 'oidcProvider') ? ['*'] : [],
    cluster: ready.map((k) => eksClusterArn(pf.partition, k.region, pf.accountId, k.name)),
    anyCluster: unique(ready.map((k) => eksClusterArn(pf.partition, k.region, pf.accountId, '*'))),
    podIdentityAssociations: ready.map(
      (k) => `arn:${pf.partition}:eks:${k.region}:${pf.accountId}:podidentityassociation/${k.name}/*`,
    ),
    // A cluster dropped from the config may be in any region: only its name in a role's trust says which.
    droppedClusters: ready.length > 0 ? [eksClusterArn(pf.partition, '*', pf.accountId, '*')] : [],
    setupAssociations: ready.length > 0 ? [`arn:${pf.partition}:eks:*:${pf.accountId}:podidentityassociation/*/*`] : [],
    podIdentityAddon: ready.map(
      (k) => `arn:${pf.partition}:eks:${k.region}:${pf.accountId}:addon/${k.name}/eks-pod-identity-agent/*`,
    ),
    nodegroups: ready.map((k) => `arn:${pf.partition}:eks:${k.region}:${pf.accountId}:nodegroup/${k.name}/*/*`),
    vpc: resources.flatMap((r) => (r.kind === 'vpc-dns' && r.fix ? [r.arn] : [])),
    vpcDescribe: sectionEnabled(config, 'clusterVpc') ? ['*'] : [],
    clusterLookup: c.state === 'ready' ? ['*'] : [],
    policyLookup: referenced.length > 0 ? ['*'] : [],
    self: [SELF],
    account: ['*'],
    none: [],
  };
  const attached: Record<'managedRoles' | 'existingRoles', string[]> = {
    // With the grants policies, which the grants section attaches to the roles.
    managedRoles: unique(roles.flatMap((r) => [...r.managedPolicies, ...(r.alsoAttached ?? [])])).sort(),
    existingRoles: unique(attachments.flatMap((a) => a.policyArns)).sort(),
  };
  return { arns, attached, facts };
}

/** The bucket's KMS key: the config's, else any key of the region (which one is read from the bucket). */
function bucketKeyArns(config: Config, pf: PermissionFacts): string[] {
  if (config.customPolicy === false) return [];
  return [config.bucketKmsKey ?? `arn:${pf.partition}:kms:${pf.region}:${pf.accountId}:key/*`];
}

function conditionOf(
  kind: ConditionKind | undefined,
  scope: Scope,
  config: Config,
  attached: Record<'managedRoles' | 'existingRoles', string[]>,
): PolicyStatement['Condition'] | undefined {
  if (kind === 'passedToPodIdentity') return { StringEquals: { 'iam:PassedToService': POD_IDENTITY_PRINCIPAL } };
  if (kind === 'ownedOnly') return { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_KEY}`]: MANAGED_BY_VALUE } };
  if (kind === 'setupOnly') return { StringEquals: { [`aws:ResourceTag/${SETUP_KEY}`]: config.setup } };
  if (kind === 'boundary') {
    return config.permissionsBoundary !== undefined
      ? { StringEquals: { 'iam:PermissionsBoundary': config.permissionsBoundary } }
      : undefined;
  }
  if (kind === 'attachedPolicies' && (scope === 'managedRoles' || scope === 'existingRoles')) {
    const arns = attached[scope];
    return { ArnEquals: { 'iam:PolicyARN': arns.length === 1 ? arns[0]! : arns } };
  }
  return undefined;
}

interface Group {
  sid: string;
  rank: number;
  resources: string[];
  condition?: PolicyStatement['Condition'];
  actions: string[];
}

/** The policy for `mode`, and what to know about it. */
export function permissionPolicy(config: Config, pf: PermissionFacts, mode: PermissionMode): PermissionPolicy {
  const { arns, attached, facts } = scopes(config, pf);
  const groups = new Map<string, Group>();
  for (const op of AWS_OPERATIONS) {
    if (!op.modes.includes(mode) || (op.when !== undefined && !op.when(config))) continue;
    for (const use of op.on) {
      if (use.modes !== undefined && !use.modes.includes(mode)) continue;
      const resources = unique(arns[use.scope]);
      if (resources.length === 0) continue;
      const condition = conditionOf(use.condition, use.scope, config, attached);
      const key = JSON.stringify([resources, condition ?? null]);
      let group = groups.get(key);
      if (group === undefined) {
        const sid = SIDS[use.scope] + (condition !== undefined && use.condition ? CONDITION_SIDS[use.condition] : '');
        const rank = SCOPE_ORDER.indexOf(use.scope) * 2 + (condition !== undefined ? 1 : 0);
        group = { sid, rank, resources, ...(condition !== undefined ? { condition } : {}), actions: [] };
        groups.set(key, group);
      }
      group.actions.push(...(use.actions ?? op.actions));
    }
  }
  // An action granted on the same ARNs without a condition needs no conditioned copy.
  const plain = [...groups.values()].filter((g) => g.condition === undefined);
  const statements: PolicyStatement[] = [];
  const sids = new Set<string>();
  for (const g of [...groups.values()].sort((a, b) => a.rank - b.rank)) {
    let actions = unique(g.actions);
    if (g.condition !== undefined) {
      const same = plain.find((p) => JSON.stringify(p.resources) === JSON.stringify(g.resources));
      if (same) actions = actions.filter((a) => !same.actions.includes(a));
    }
    if (actions.length === 0) continue;
    let sid = g.sid;
    for (let n = 2; sids.has(sid); n++) sid = `${g.sid}${n}`;
    sids.add(sid);
    statements.push({
      Sid: sid,
      Effect: 'Allow',
      Action: actions.sort(),
      Resource: g.resources.length === 1 ? g.resources[0]! : g.resources,
      ...(g.condition !== undefined ? { Condition: g.condition } : {}),
    });
  }
  const document: PolicyDocument = { Version: POLICY_VERSION, Statement: statements };
  return { document, notes: notesFor(config, pf, mode, document, arns, facts) };
}

function notesFor(
  config: Config,
  pf: PermissionFacts,
  mode: PermissionMode,
  document: PolicyDocument,
  arns: Record<Scope, string[]>,
  facts: Facts,
): string[] {
  const notes: string[] = [];
  const actions = new Set(document.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action ?? ''])));
  notes.push(
    `for account ${pf.accountId} (${pf.partition}), region ${pf.region}, --for ${mode}: ${actions.size} action(s) in ${document.Statement.length} statement(s)`,
  );
  const unpinned = [...new Set(arns.providerRead.filter((a) => a.endsWith('/id/*')))];
  if (facts.cluster.state === 'ready' && unpinned.length > 0) {
    const scoped = unpinned.map((a) => a.split(':oidc-provider/')[1]).join(', ');
    notes.push(
      unpinned.length === arns.providerRead.length && unpinned.length === 1
        ? `the cluster's OIDC issuer is not known, so the provider is scoped to ${scoped} (any EKS issuer of the region); run with credentials that may read the cluster to pin it`
        : `the OIDC issuer of a cluster is not known, so its provider is scoped to ${scoped} (any EKS issuer of its region); run with credentials that may read the clusters to pin it`,
    );
  }
  const anyResource = document.Statement.filter((s) => s.Resource === '*').flatMap((s) =>
    Array.isArray(s.Action) ? s.Action : [s.Action ?? ''],
  );
  if (anyResource.length > 0) {
    const names =
      anyResource.length > 1 ? `${anyResource.slice(0, -1).join(', ')} and ${anyResource.at(-1)}` : anyResource[0];
    notes.push(`${names} take${anyResource.length > 1 ? '' : 's'} no resource-level permissions: Resource "*"`);
  }
  if (mode !== 'destroy' && arns.bucketKey.some((a) => a.endsWith(':key/*'))) {
    notes.push(
      "the bucket's KMS key is read from the bucket while planning, so kms:GetKeyPolicy and kms:DescribeKey are " +
        'scoped to every key of the region (read-only); set bucketKmsKey in the config to pin them to its key',
    );
  }
  if (mode === 'apply' || mode === 'verify') {
    notes.push(
      "iam:ListRoles finds the setup's roles the config no " +
        'longer names (by their description), whose tags GetRole then reads; --prune deletes only those that carry ' +
        `${SETUP_KEY}: ${config.setup}`,
    );
  }
  if (arns.anyPolicy.length > 0 && mode !== 'destroy') {
    notes.push(
      "iam:GetPolicy and iam:GetPolicyVersion on every managed policy (AWS's and the account's): the access check " +
        'evaluates whatever policy is attached to a Flyte role or is its boundary, which may have been attached by hand',
    );
  }
  if (mode === 'apply' && arns.vpc.some((a) => a.endsWith('/*'))) {
    notes.push(
      "a cluster's VPC is not known, so ec2:ModifyVpcAttribute is scoped to every VPC of the cluster's region",
    );
  }
  if (arns.existingRoles.length > 0 && pf.existingRoleArns === undefined) {
    notes.push('the existing role of globalAccess was not read, so its ARN assumes the path /');
  }
  if (config.permissionsBoundary !== undefined && mode === 'apply') {
    notes.push(`roles may only be created with the boundary ${config.permissionsBoundary}`);
  }
  if (mode === 'apply') {
    notes.push(
      `iam:SimulatePrincipalPolicy and iam:GetRole on ${SELF} (the caller itself) let the preflight check run; without them it says it could not check and goes on`,
    );
  }
  if (mode === 'verify') {
    notes.push(
      "iam:SimulatePrincipalPolicy on the roles pods assume lets verify ask IAM's simulator for a second opinion on " +
        'what they may do (it changes nothing); without it the second opinion is said not made',
    );
  }
  notes.push(
    config.identity === 'irsa'
      ? 'no iam:PassRole: flyte-aws-setup never hands a role to a service (it creates no cluster or node group); ' +
          'whoever runs eks:CreateCluster / CreateNodegroup needs iam:PassRole on the cluster / node role'
      : `iam:PassRole only on the roles pods assume, and only to ${POD_IDENTITY_PRINCIPAL} (the pod identity ` +
          'associations hand them to EKS); whoever runs eks:CreateCluster / CreateNodegroup needs iam:PassRole on ' +
          'the cluster / node role',
  );
  notes.push('sts:GetCallerIdentity needs no permission');
  const size = policySize(document);
  if (size > MANAGED_POLICY_MAX) {
    notes.push(
      `the document is ${size} characters; a managed policy holds at most ${MANAGED_POLICY_MAX}: split the statements over two policies, or give the roles a path and scope them by it`,
    );
  }
  return notes;
}
