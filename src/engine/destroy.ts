/**
 * Planning `destroy`: from what AWS holds for the config's resources to the removal steps, in reverse order of
 * creation. Only what carries the tool's `managed-by` tag is deleted; what existed before is kept (the tool's own
 * policy is detached from it); the custom policy is deleted only when nothing outside the config uses it, the
 * OIDC provider only when no role that stays trusts it while a cluster runs with it. Union's role (global access)
 * is never deleted, and a role that now serves another cluster is kept. Pure: the state comes in.
 */
import type { PolicyAttachments } from '../aws/gateway.js';
import { DEFAULT_VERSION_KEY, DESCRIPTION_KEY, SETUP_KEY, TRUST_KEY } from '../config/rules.js';
import type { SectionId } from '../config/schema.js';
import type {
  CurrentOidcProvider,
  CurrentPodIdentityAssociation,
  CurrentPolicy,
  CurrentRole,
  Facts,
  Leftover,
  PolicyVersion,
  Step,
} from '../model.js';
import { samePolicy } from '../policy/compare.js';
import { POD_IDENTITY_PRINCIPAL, type PolicyDocument } from '../policy/document.js';
import { asList, federatedPrincipals, isOidcProviderArn } from '../policy/irsa.js';
import { ec2ServicePrincipal, eksServicePrincipal, nameOfArn, type Partition } from '../policy/partition.js';
import { deleteAssociationStep, recordedAttachments } from './plan.js';
import {
  decodeDescription,
  decodeTrust,
  ownership,
  readRecord,
  recordKeys,
  setupOf,
  toolRecordKeys,
  type Ownership,
} from './records.js';

export interface DestroyRoleState {
  section: SectionId;
  name: string;
  /** A role that existed before the tool and is never its own, whatever its tags say (Union's global access). */
  adopted?: boolean;
  current?: CurrentRole;
  /** Read only for the tool's own roles: IAM deletes a role only without these. */
  inlinePolicies: string[];
  instanceProfiles: string[];
  /** Set when the EKS cluster runs with it (its cluster role, or a node group's node role). */
  inUse?: string;
  /**
   * Set for an IRSA role whose trust names another cluster's OIDC provider (a running cluster's, or one that is
   * not the config cluster's): it may serve that cluster now, so it is kept.
   */
  trustsElsewhere?: string;
}

export interface DestroyPolicyState {
  name: string;
  arn: string;
  current?: CurrentPolicy;
  versions: PolicyVersion[];
  attachments: PolicyAttachments;
}

export interface DestroyProviderState {
  /** The provider's ARN, when it could be told (from the cluster's issuer, or the config's roles' trust). */
  arn?: string;
  foundBy?: 'cluster' | 'trust';
  current?: CurrentOidcProvider;
  /** Every role of the account whose trust names it. */
  trustedBy: string[];
  /** Found through the roles' trust: the running EKS cluster (of the region) whose issuer it is. */
  liveCluster?: string;
  /** Found through the roles' trust, and whether a running cluster uses it could not be checked: why. */
  unchecked?: string;
  /** Why the ARN could not be told, and the tool's providers in the account that might be it. */
  unknown?: { reason: string; candidates: string[] };
}

/** A pod identity association the config wants (`<namespace>/<serviceAccount>` of the cluster). */
export interface DestroyAssociationState {
  name: string;
  cluster: string;
  /** The cluster's region, when it is not the run's. */
  region?: string;
  current?: CurrentPodIdentityAssociation;
}

export interface DestroyState {
  facts: Facts;
  /** The config's setup: what carries another setup's tag is that setup's, and stays. */
  setup: string;
  /** The config's EKS cluster still exists (in any state). */
  clusterExists: boolean;
  /** In the order the config lists them (sections 1, 2, 5, 6, 7, then the global-access role). */
  roles: DestroyRoleState[];
  policy?: DestroyPolicyState;
  /** The roles' grants policies (`grants:`), each deleted like the custom policy. */
  grantPolicies?: DestroyPolicyState[];
  provider?: DestroyProviderState;
  /** Several clusters: the OIDC providers of the clusters after the first that exist (found by their issuers). */
  otherProviders?: DestroyProviderState[];
  /** The setup's roles the config no longer names, each planned for removal (or kept, with why). */
  leftovers?: Leftover[];
  /** The pod identity associations (identity: pod-identity or both), read while the cluster exists. */
  associations?: DestroyAssociationState[];
}

/**
 * - delete: the tool made it, and it goes.
 * - detach: it stays (it existed before), but the tool's own policy is detached from it.
 * - restore: it stays (it existed before), and what the tool changed on it is put back, by its records.
 * - keep: it existed before the tool, or it is another setup's: never deleted.
 * - blocked: it must stay for now (in use, attached elsewhere, changed past what its records can undo); `reason`
 *   says what to do.
 * - absent: not there; nothing to do.
 * - unknown: the OIDC provider cannot be told without the cluster.
 */
export type DestroyAction = 'delete' | 'detach' | 'restore' | 'keep' | 'blocked' | 'absent' | 'unknown';

export interface DestroyItem {
  /** Absent for a role of the setup that the config no longer names. */
  section?: SectionId;
  kind: 'role' | 'policy' | 'oidc-provider' | 'pod-identity-association';
  name: string;
  arn?: string;
  action: DestroyAction;
  steps: Step[];
  reason?: string;
  notes: string[];
}

export interface DestroyPlan {
  facts: Facts;
  items: DestroyItem[];
}

const EXISTED_BEFORE = 'it existed before flyte-aws-setup (no managed-by tag), so it is never deleted';
const LEFTOVER = 'a role of this setup that the config no longer names (a project, a section or a role taken out)';
const DROPPED_CLUSTER = "this setup's, in a cluster the config no longer names (its roles' trust still names it)";
const UNION_ROLE = "it is Union's role that globalAccess only attaches the custom policy to, so it is never deleted";

function otherSetup(tags: Record<string, string>): string {
  return (
    `it belongs to the setup "${setupOf(tags)}" (its tag ${SETUP_KEY}), which another config made or changed; ` +
    "destroy of this config's setup leaves it alone"
  );
}

function list(names: string[]): string {
  return names.join(', ');
}

/** Mine or made before setups existed: this setup's to delete. */
function mine(o: Ownership): boolean {
  return o === 'mine' || o === 'legacy';
}

/**
 * The principals a trust lets in that the tool never writes: anything but the EKS and EC2 services, EKS Pod
 * Identity and OIDC providers (an AWS account, a role or user, another service, a SAML provider, anyone).
 */
export function foreignPrincipals(trust: PolicyDocument, partition: Partition): string[] {
  const ours = new Set([eksServicePrincipal(partition), ec2ServicePrincipal(partition), POD_IDENTITY_PRINCIPAL]);
  const found: string[] = [];
  for (const s of trust.Statement) {
    if (s.Effect !== 'Allow') continue;
    if (s.Principal === undefined) continue;
    if (s.Principal === '*') {
      found.push('anyone (Principal "*")');
      continue;
    }
    for (const [type, values] of Object.entries(s.Principal)) {
      for (const v of asList(values)) {
        if (type === 'Service' && ours.has(v)) continue;
        if (type === 'Federated' && isOidcProviderArn(v)) continue;
        found.push(`${type} ${v}`);
      }
    }
  }
  return [...new Set(found)];
}

/** What removing one of the tool's roles takes (destroy, and `--prune` for a role the config no longer names). */
export interface RoleRemovalInput {
  name: string;
  current: CurrentRole;
  inlinePolicies: string[];
  instanceProfiles: string[];
  inUse?: string;
  trustsElsewhere?: string;
}

export interface RoleRemoval {
  action: 'delete' | 'blocked';
  steps: Step[];
  reason?: string;
  /** Kept, and its pods (or the principal it was extended to) may still need the custom policy: that stays too. */
  keepsPolicy: boolean;
}

/** The clusters of the config that exist, each with its role and the node roles of its node groups. */
export interface RunningCluster {
  name: string;
  roleArn?: string;
  nodegroups: { nodegroup: string; roleArn: string }[];
}

/** What keeps a role from being deleted because EKS runs with it: a cluster's role, or node groups' node role. */
export function clusterUseOf(arn: string, clusters: readonly RunningCluster[]): string | undefined {
  const cluster = clusters.find((c) => c.roleArn === arn);
  if (cluster !== undefined) return `the EKS cluster ${cluster.name} runs with it (its cluster role)`;
  const using = clusters.filter((c) => c.nodegroups.some((g) => g.roleArn === arn));
  if (using.length === 0) return undefined;
  const groups = using.flatMap((c) => c.nodegroups.filter((g) => g.roleArn === arn).map((g) => g.nodegroup));
  return `node group(s) ${groups.join(', ')} of the EKS cluster ${using.map((c) => c.name).join(', ')} run with it`;
}

/**
 * Removing a role of the tool's: detach every policy, then delete it; or keep it for now, saying why (in use, in an
 * instance profile, inline policies the tool did not write, a trust that serves another cluster or that someone
 * extended to a principal the tool never writes). `ownPolicy`: the tool's custom policy, detached even from a role
 * that stays (unless that role may still need it).
 */
export function planRoleRemoval(r: RoleRemovalInput, partition: Partition, ownPolicy?: string): RoleRemoval {
  const role = r.current;
  const detachOwnPolicy: Step[] =
    ownPolicy !== undefined && role.attached.includes(ownPolicy)
      ? [{ op: 'DetachRolePolicy', roleName: r.name, policyArn: ownPolicy }]
      : [];
  const blockers: string[] = [];
  if (r.inUse) blockers.push(`${r.inUse}; delete that first, then run destroy again`);
  if (r.trustsElsewhere) {
    blockers.push(
      `${r.trustsElsewhere}, so it may serve that cluster now and destroy keeps it, with its policies; once ` +
        'nothing needs it, delete it by hand, or run destroy again when that has changed',
    );
  }
  const extended = foreignPrincipals(role.trust, partition);
  if (extended.length > 0) {
    blockers.push(
      `its trust now also lets in ${list(extended)}, which flyte-aws-setup never writes: someone extended it, so ` +
        'it is kept, with its policies; if that principal no longer needs it, take it out of the trust (or delete ' +
        `the role by hand: aws iam delete-role --role-name ${r.name}, once its policies are detached), then run again`,
    );
  }
  if (r.instanceProfiles.length > 0) {
    blockers.push(
      `it is in the instance profile(s) ${list(r.instanceProfiles)}; remove it first: ` +
        r.instanceProfiles
          .map((p) => `aws iam remove-role-from-instance-profile --instance-profile-name ${p} --role-name ${r.name}`)
          .join('; '),
    );
  }
  if (r.inlinePolicies.length > 0) {
    blockers.push(
      `it has inline policies flyte-aws-setup did not write (${list(r.inlinePolicies)}); delete them first if ` +
        `they may go: ${r.inlinePolicies.map((p) => `aws iam delete-role-policy --role-name ${r.name} --policy-name ${p}`).join('; ')}`,
    );
  }
  if (blockers.length > 0) {
    // A role that may serve another cluster, or someone else, keeps the custom policy too: they may need the bucket.
    const keepsPolicy = (r.trustsElsewhere !== undefined || extended.length > 0) && detachOwnPolicy.length > 0;
    return {
      action: 'blocked',
      steps: keepsPolicy ? [] : detachOwnPolicy,
      reason: blockers.join('; also '),
      keepsPolicy,
    };
  }
  return {
    action: 'delete',
    steps: [
      ...[...role.attached].sort().map((policyArn): Step => ({ op: 'DetachRolePolicy', roleName: r.name, policyArn })),
      { op: 'DeleteRole', roleName: r.name },
    ],
    keepsPolicy: false,
  };
}

/**
 * A role that existed before the tool: what the tool changed on it is put back by its records (the trust it had, its
 * description, the policies it attached, its own tags). The tool's own policy is detached in any case (it is
 * deleted). When the trust record cannot be read, the trust the tool wrote stays: the role is kept for now, with the
 * commands that fix it. (Also for --prune, of a role this setup adopted that the config no longer names.)
 */
export function restoreRole(
  name: string,
  role: CurrentRole,
  ownPolicies: readonly string[],
): Pick<DestroyItem, 'action' | 'steps' | 'reason' | 'notes'> {
  const detach = [
    ...new Set([
      ...recordedAttachments(role).filter((a) => role.attached.includes(a)),
      ...ownPolicies.filter((p) => role.attached.includes(p)),
    ]),
  ].sort();
  const detaches = detach.map((policyArn): Step => ({ op: 'DetachRolePolicy', roleName: name, policyArn }));
  const notes: string[] = [];
  if (detach.length > 0) {
    notes.push(
      `the policies flyte-aws-setup attached are detached (${detach.map(nameOfArn).join(', ')}); its other policies stay`,
    );
  }
  const keys = toolRecordKeys(role.tags);
  const trustValue = readRecord(role.tags, TRUST_KEY);
  const original = trustValue !== undefined ? decodeTrust(trustValue) : undefined;
  if (trustValue !== undefined && original === undefined) {
    return {
      action: 'blocked',
      steps: detaches,
      reason:
        `${EXISTED_BEFORE}; flyte-aws-setup changed its trust, and the record of the trust it had before (its ` +
        `${recordKeys(role.tags, TRUST_KEY).join(', ')} tags) cannot be read, so the trust flyte-aws-setup wrote ` +
        'stays: whoever it lets in can still assume the role. Give it the trust it should have (aws iam ' +
        `update-assume-role-policy --role-name ${name} --policy-document file://trust.json), remove the records ` +
        `(aws iam untag-role --role-name ${name} --tag-keys ${keys.join(' ')}), then run destroy again`,
      notes,
    };
  }
  const steps: Step[] = [];
  if (original !== undefined && !samePolicy(original, role.trust)) {
    steps.push({ op: 'UpdateAssumeRolePolicy', roleName: name, trust: original, before: role.trust });
    notes.unshift(`its trust is put back as it was before flyte-aws-setup changed it (recorded in ${TRUST_KEY})`);
  }
  const described = readRecord(role.tags, DESCRIPTION_KEY);
  const description = described !== undefined ? decodeDescription(described) : undefined;
  const putBack = description !== undefined && description !== (role.description ?? '');
  if (putBack) {
    steps.push({ op: 'UpdateRole', roleName: name, description, before: role.description ?? '' });
    notes.push(
      `its description is put back as it was before flyte-aws-setup adopted it (recorded in ${DESCRIPTION_KEY})`,
    );
  } else if (described !== undefined && description === undefined) {
    notes.push(
      `the record of its description before flyte-aws-setup adopted it (its ${DESCRIPTION_KEY} tags) cannot be read: ` +
        `its description stays as it is (aws iam update-role --role-name ${name} --description ... sets it)`,
    );
  }
  steps.push(...detaches);
  // The mark in its description is how the role is found once the config no longer names it: it goes after the other
  // records (a run that stops before finds the role again and finishes), and the setup's tag and the description's
  // record after it (a role named again reads them as before).
  const last = putBack ? keys.filter((k) => k === SETUP_KEY || recordKeys(role.tags, DESCRIPTION_KEY).includes(k)) : [];
  const first = keys.filter((k) => !last.includes(k));
  if (first.length > 0) steps.push({ op: 'UntagRole', roleName: name, keys: first });
  if (last.length > 0) steps.push({ op: 'UntagRole', roleName: name, keys: last });
  if (keys.length > 0) notes.push(`flyte-aws-setup's records on it are removed (${keys.join(', ')})`);
  const restores = steps.some((x) => x.op !== 'DetachRolePolicy');
  return {
    action: restores ? 'restore' : detaches.length > 0 ? 'detach' : 'keep',
    steps,
    reason: EXISTED_BEFORE,
    notes,
  };
}

export function planDestroy(state: DestroyState): DestroyPlan {
  const policy = state.policy;
  const policyMine = policy?.current !== undefined && mine(ownership(policy.current.tags, state.setup));
  const ownPolicy = policyMine ? policy!.arn : undefined;
  const leftovers = state.leftovers ?? [];
  // A leftover that goes loses the custom policy with it: it is not an attachment outside the config.
  const configRoles = new Set([
    ...state.roles.map((r) => r.name),
    ...leftovers
      .filter((l) => l.kind === 'role' && (l.action === 'remove' || l.action === 'restore'))
      .map((l) => l.name),
  ]);
  const items: DestroyItem[] = [];
  const deleted = new Set<string>();
  /** Roles that existed before, by the trust destroy puts back on them. */
  const trustPutBack = new Map<string, PolicyDocument>();
  /** The config's roles kept with the custom policy on them: it stays too. */
  const policyKeptBy: string[] = [];
  // The setup's grants policies: detached from a role that existed before; kept with a role that is kept.
  const grantArns = (state.grantPolicies ?? [])
    .filter((p) => p.current !== undefined && mine(ownership(p.current.tags, state.setup)))
    .map((p) => p.arn);
  const grantsKeptBy = new Map<string, string[]>();
  const keepGrants = (role: string, held: readonly string[]) => {
    for (const arn of grantArns.filter((a) => held.includes(a))) {
      grantsKeptBy.set(arn, [...(grantsKeptBy.get(arn) ?? []), role]);
    }
  };

  // The associations first: they name the roles (EKS keeps an association whose role is gone, useless).
  for (const a of state.associations ?? []) items.push(associationItem(a, state.setup));
  // Those of clusters the config no longer names, too.
  for (const l of leftovers) {
    if (l.kind !== 'pod-identity-association') continue;
    items.push({
      section: 'podIdentity',
      kind: 'pod-identity-association',
      name: l.name,
      arn: l.arn,
      action: 'delete',
      steps: l.steps,
      notes: [DROPPED_CLUSTER],
    });
  }

  // The setup's roles the config no longer names go first: they were made last, or are of no section any more.
  for (const l of leftovers) {
    if (l.kind !== 'role') continue;
    const base = { kind: 'role' as const, name: l.name, arn: l.arn, steps: l.steps };
    if (l.action === 'remove') {
      deleted.add(l.name);
      items.push({ ...base, action: 'delete', notes: [LEFTOVER] });
    } else if (l.action === 'restore') {
      // A role this setup adopted: put back as it was; a trust put back that does not name the provider no longer
      // keeps it.
      for (const step of l.steps) if (step.op === 'UpdateAssumeRolePolicy') trustPutBack.set(l.name, step.trust);
      items.push({
        ...base,
        action: 'restore',
        notes: [LEFTOVER],
        ...(l.reason !== undefined ? { reason: l.reason } : {}),
      });
    } else {
      if (ownPolicy !== undefined && l.holds.includes(ownPolicy)) policyKeptBy.push(l.name);
      keepGrants(l.name, l.holds);
      items.push({
        ...base,
        action: 'blocked',
        notes: [LEFTOVER],
        ...(l.reason !== undefined ? { reason: l.reason } : {}),
      });
    }
  }

  // Roles in reverse order of creation: project roles (last first), workers, system, node, cluster.
  for (const r of [...state.roles].reverse()) {
    const base = { section: r.section, kind: 'role' as const, name: r.name, notes: [] as string[] };
    const role = r.current;
    if (role === undefined) {
      items.push({ ...base, action: 'absent', steps: [] });
      continue;
    }
    const withArn = { ...base, arn: role.arn };
    // An adopted role (Union's own, for global access) is never the tool's, whatever its tags say.
    if (r.adopted === true) {
      const detach: Step[] =
        ownPolicy !== undefined && role.attached.includes(ownPolicy)
          ? [{ op: 'DetachRolePolicy', roleName: r.name, policyArn: ownPolicy }]
          : [];
      items.push({
        ...withArn,
        action: detach.length > 0 ? 'detach' : 'keep',
        steps: detach,
        reason: UNION_ROLE,
        notes:
          detach.length > 0
            ? [`flyte-aws-setup's own policy ${policy!.name} is detached from it; its other policies stay`]
            : [],
      });
      continue;
    }
    const own = ownership(role.tags, state.setup);
    if (own === 'other') {
      items.push({ ...withArn, action: 'keep', steps: [], reason: otherSetup(role.tags) });
      continue;
    }
    if (own === 'before') {
      const restored = restoreRole(r.name, role, [...(ownPolicy !== undefined ? [ownPolicy] : []), ...grantArns]);
      // A trust put back that does not name the provider no longer keeps it.
      for (const step of restored.steps) if (step.op === 'UpdateAssumeRolePolicy') trustPutBack.set(r.name, step.trust);
      items.push({ ...withArn, ...restored });
      continue;
    }
    const removal = planRoleRemoval({ ...r, current: role }, state.facts.partition, ownPolicy);
    if (removal.keepsPolicy) policyKeptBy.push(r.name);
    // A role kept for now keeps its grants policy: its pods may still need what it grants.
    if (removal.action === 'blocked') keepGrants(r.name, role.attached);
    if (removal.action === 'delete') deleted.add(r.name);
    items.push({
      ...withArn,
      action: removal.action,
      steps: removal.steps,
      ...(removal.reason !== undefined ? { reason: removal.reason } : {}),
    });
  }

  for (const p of state.grantPolicies ?? []) {
    items.push(policyItem(p, state.setup, configRoles, grantsKeptBy.get(p.arn) ?? [], 'grants'));
  }
  if (policy !== undefined) items.push(policyItem(policy, state.setup, configRoles, policyKeptBy));
  if (state.provider !== undefined) {
    const arn = state.provider.arn;
    const untrusting = new Set([
      ...deleted,
      ...[...trustPutBack]
        .filter(([, t]) => arn === undefined || !federatedPrincipals(t).includes(arn))
        .map(([n]) => n),
    ]);
    items.push(providerItem(state, state.provider, untrusting));
  }
  // The other clusters' providers: each cluster exists (its issuer named the provider).
  for (const other of state.otherProviders ?? []) {
    const arn = other.arn;
    const untrusting = new Set([
      ...deleted,
      ...[...trustPutBack]
        .filter(([, t]) => arn === undefined || !federatedPrincipals(t).includes(arn))
        .map(([n]) => n),
    ]);
    items.push(providerItem({ ...state, clusterExists: true }, other, untrusting));
  }
  return { facts: state.facts, items };
}

/**
 * A policy that existed before the tool: its default version from before the tool's first change is made the
 * default again, and the tool's records removed. When that version is gone, the document the tool wrote stays, and
 * the policy is kept for now with the commands that fix it.
 */
function restorePolicy(
  policy: DestroyPolicyState,
  current: CurrentPolicy,
): Pick<DestroyItem, 'action' | 'steps' | 'reason' | 'notes'> {
  const keys = toolRecordKeys(current.tags);
  const recorded = current.tags[DEFAULT_VERSION_KEY];
  const untag: Step[] = keys.length > 0 ? [{ op: 'UntagPolicy', policyArn: policy.arn, keys }] : [];
  if (recorded === undefined) {
    return {
      action: untag.length > 0 ? 'restore' : 'keep',
      steps: untag,
      reason: EXISTED_BEFORE,
      notes: untag.length > 0 ? [`flyte-aws-setup's records on it are removed (${keys.join(', ')})`] : [],
    };
  }
  if (!policy.versions.some((v) => v.id === recorded)) {
    return {
      action: 'blocked',
      steps: [],
      reason:
        `${EXISTED_BEFORE}; flyte-aws-setup changed its document, and the version that was its default before ` +
        `(${recorded}) is gone, so the document flyte-aws-setup wrote (${current.defaultVersionId}) stays. Make the ` +
        `version it should have the default (aws iam set-default-policy-version --policy-arn ${policy.arn} ` +
        `--version-id VERSION), remove the records (aws iam untag-policy --policy-arn ${policy.arn} --tag-keys ` +
        `${keys.join(' ')}), then run destroy again`,
      notes: [],
    };
  }
  const steps: Step[] = [];
  const notes: string[] = [];
  if (current.defaultVersionId !== recorded) {
    steps.push({
      op: 'SetDefaultPolicyVersion',
      policyArn: policy.arn,
      versionId: recorded,
      before: current.defaultVersionId,
    });
    notes.push(
      `its default version is ${recorded} again, as before flyte-aws-setup changed it; the versions flyte-aws-setup ` +
        'made stay, not the default (they grant nothing)',
    );
  }
  steps.push(...untag);
  if (untag.length > 0) notes.push(`flyte-aws-setup's records on it are removed (${keys.join(', ')})`);
  return { action: steps.length > 0 ? 'restore' : 'keep', steps, reason: EXISTED_BEFORE, notes };
}

function policyItem(
  policy: DestroyPolicyState,
  setup: string,
  configRoles: Set<string>,
  keptBy: string[],
  section: 'customPolicy' | 'grants' = 'customPolicy',
): DestroyItem {
  const base = { section, kind: 'policy' as const, name: policy.name, notes: [] };
  if (policy.current === undefined) return { ...base, action: 'absent', steps: [] };
  const withArn = { ...base, arn: policy.arn };
  const own = ownership(policy.current.tags, setup);
  if (own === 'other') return { ...withArn, action: 'keep', steps: [], reason: otherSetup(policy.current.tags) };
  if (own === 'before') return { ...withArn, ...restorePolicy(policy, policy.current) };
  if (keptBy.length > 0) {
    return {
      ...withArn,
      action: 'blocked',
      steps: [],
      reason: `the roles destroy keeps for now (${list(keptBy)}) still use it; it goes with them`,
    };
  }
  const a = policy.attachments;
  const outsideRoles = a.roles.filter((r) => !configRoles.has(r));
  const outside = [
    ...outsideRoles.map((r) => `role ${r}`),
    ...a.users.map((u) => `user ${u}`),
    ...a.groups.map((g) => `group ${g}`),
  ];
  if (outside.length > 0) {
    const commands = [
      ...outsideRoles.map((r) => `aws iam detach-role-policy --role-name ${r} --policy-arn ${policy.arn}`),
      ...a.users.map((u) => `aws iam detach-user-policy --user-name ${u} --policy-arn ${policy.arn}`),
      ...a.groups.map((g) => `aws iam detach-group-policy --group-name ${g} --policy-arn ${policy.arn}`),
    ];
    return {
      ...withArn,
      action: 'blocked',
      steps: [],
      reason:
        `it is also attached outside the config, to ${list(outside)}, which destroy leaves alone; if they no longer ` +
        `need it, detach it (${commands.join('; ')}), then run destroy again`,
    };
  }
  const versions = policy.versions
    .filter((v) => !v.isDefault)
    .sort((x, y) => versionNumber(x.id) - versionNumber(y.id))
    .map((v): Step => ({ op: 'DeletePolicyVersion', policyArn: policy.arn, versionId: v.id }));
  return { ...withArn, action: 'delete', steps: [...versions, { op: 'DeletePolicy', policyArn: policy.arn }] };
}

function associationItem(a: DestroyAssociationState, setup: string): DestroyItem {
  const base = { section: 'podIdentity' as const, kind: 'pod-identity-association' as const, name: a.name, notes: [] };
  if (a.current === undefined) return { ...base, action: 'absent', steps: [] };
  const withArn = { ...base, arn: a.current.arn };
  const own = ownership(a.current.tags, setup);
  if (own === 'other') return { ...withArn, action: 'keep', steps: [], reason: otherSetup(a.current.tags) };
  if (own === 'before') return { ...withArn, action: 'keep', steps: [], reason: EXISTED_BEFORE };
  return {
    ...withArn,
    action: 'delete',
    steps: [deleteAssociationStep(a.cluster, a.region, a.current.associationId, a.name)],
  };
}

function versionNumber(id: string): number {
  return Number(id.replace(/^v/, '')) || 0;
}

/** `gone`: the roles destroy deletes, or whose trust it puts back without this provider. */
function providerItem(state: DestroyState, p: DestroyProviderState, gone: Set<string>): DestroyItem {
  const base = { section: 'oidcProvider' as const, kind: 'oidc-provider' as const, notes: [] as string[] };
  if (p.arn === undefined) {
    const unknown = p.unknown ?? { reason: 'it cannot be told', candidates: [] };
    return {
      ...base,
      name: '(unknown)',
      action: 'unknown',
      steps: [],
      reason:
        unknown.candidates.length > 0
          ? `${unknown.reason}. OIDC providers flyte-aws-setup made in this account: ${list(unknown.candidates)}; ` +
            "if one was this cluster's and nothing uses it, delete it with aws iam delete-open-id-connect-provider " +
            '--open-id-connect-provider-arn ARN'
          : `${unknown.reason}, and no OIDC provider in the account carries the managed-by tag: nothing to delete`,
    };
  }
  const name = p.arn.slice(p.arn.indexOf(':oidc-provider/') + ':oidc-provider/'.length);
  const withArn = {
    ...base,
    name,
    arn: p.arn,
    notes: p.foundBy === 'trust' ? ["found through the trust of the config's roles (the cluster is gone)"] : [],
  };
  if (p.current === undefined) return { ...withArn, action: 'absent', steps: [] };
  const own = ownership(p.current.tags, state.setup);
  if (own === 'other') return { ...withArn, action: 'keep', steps: [], reason: otherSetup(p.current.tags) };
  if (own === 'before') return { ...withArn, action: 'keep', steps: [], reason: EXISTED_BEFORE };
  const kept = (reason: string): DestroyItem => ({ ...withArn, action: 'blocked', steps: [], reason });
  if (p.liveCluster !== undefined) {
    return kept(
      `it is the OIDC provider of the running EKS cluster ${p.liveCluster} (the config's cluster is gone, and its ` +
        'roles trust this one): pods of that cluster use it',
    );
  }
  const remaining = p.trustedBy.filter((r) => !gone.has(r));
  if (remaining.length > 0 && (state.clusterExists || p.unchecked !== undefined)) {
    return kept(
      `roles that stay trust it (${list(remaining)}): ` +
        (state.clusterExists
          ? 'while the cluster runs, deleting it would stop their pods from assuming them'
          : `no running cluster could be ruled out (${p.unchecked})`) +
        '; delete or change those roles first, or keep the provider',
    );
  }
  if (p.unchecked !== undefined && p.foundBy === 'trust') {
    return kept(
      `whether a running EKS cluster uses it could not be checked (${p.unchecked}); if none does, delete it: ` +
        `aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${p.arn}`,
    );
  }
  return {
    ...withArn,
    action: 'delete',
    steps: [{ op: 'DeleteOpenIDConnectProvider', arn: p.arn }],
    notes:
      remaining.length > 0
        ? [
            ...withArn.notes,
            `roles that stay still name it (${list(remaining)}); no running cluster of the region has its issuer, ` +
              'so none can use it',
          ]
        : withArn.notes,
  };
}

/**
 * The order removal calls must go in: the associations, detach (so a trust put back never meets what the tool attached), put back
 * trusts and default versions, then the policy's versions and the policy, roles, provider; the records of what was
 * put back go last, so a run that stops keeps them.
 */
const PHASE: Partial<Record<Step['op'], number>> = {
  DeletePodIdentityAssociation: -1,
  DetachRolePolicy: 0,
  UpdateAssumeRolePolicy: 0.5,
  SetDefaultPolicyVersion: 0.5,
  DeletePolicyVersion: 1,
  DeletePolicy: 2,
  DeleteRole: 3,
  DeleteOpenIDConnectProvider: 4,
  UntagRole: 5,
  UntagPolicy: 5,
  // The description of a role put back (its mark gone), after the other records; the setup's tag last (phaseOf).
  UpdateRole: 5.5,
};

/** The phase of a step: the removal of a role's setup tag comes after the description put back. */
function phaseOf(step: Step): number {
  if (step.op === 'UntagRole' && step.keys.includes(SETUP_KEY)) return 6;
  return PHASE[step.op] ?? 9;
}

/** Every step of a destroy plan, in the order to run them. */
export function destroySteps(plan: DestroyPlan): Step[] {
  return inDestroyOrder(plan.items.flatMap((i) => i.steps));
}

/**
 * Whether `step` finishes the put-back of a role whose description is already back (`done` holds its UpdateRole):
 * it runs even after an interrupt, as no later run finds that role once the tool's mark has left its description.
 */
export function finishesPutBack(step: Step, done: readonly Step[]): boolean {
  return step.op === 'UntagRole' && done.some((d) => d.op === 'UpdateRole' && d.roleName === step.roleName);
}

/**
 * Steps in the order destroy runs them: what the tool attached is detached before a trust is put back (the old
 * trust never gets the tool's policies), deletions in reverse order of creation, the records last.
 */
export function inDestroyOrder(steps: Step[]): Step[] {
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => phaseOf(a.s) - phaseOf(b.s) || a.i - b.i)
    .map(({ s }) => s);
}

export function destroyCounts(plan: DestroyPlan): Record<DestroyAction, number> {
  const n = (a: DestroyAction) => plan.items.filter((i) => i.action === a).length;
  return {
    delete: n('delete'),
    detach: n('detach'),
    restore: n('restore'),
    keep: n('keep'),
    blocked: n('blocked'),
    absent: n('absent'),
    unknown: n('unknown'),
  };
}
