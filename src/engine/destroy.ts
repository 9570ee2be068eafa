/**
 * Planning `destroy`: from what AWS holds for the config's resources to the removal steps, in reverse order of
 * creation. Only what carries the tool's `managed-by` tag is deleted; what existed before is kept (the tool's own
 * policy is detached from it); the custom policy is deleted only when nothing outside the config uses it, the
 * OIDC provider only when no role that stays trusts it while a cluster runs with it. Union's role (global access)
 * is never deleted, and a role that now serves another cluster is kept. Pure: the state comes in.
 */
import type { PolicyAttachments } from '../aws/gateway.js';
import type { SectionId } from '../config/schema.js';
import type {
  CurrentOidcProvider,
  CurrentPodIdentityAssociation,
  CurrentPolicy,
  CurrentRole,
  Facts,
  PolicyVersion,
  Step,
} from '../model.js';
import { isOwned } from './plan.js';

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
  current?: CurrentPodIdentityAssociation;
}

export interface DestroyState {
  facts: Facts;
  /** The config's EKS cluster still exists (in any state). */
  clusterExists: boolean;
  /** In the order the config lists them (sections 1, 2, 5, 6, 7, then the global-access role). */
  roles: DestroyRoleState[];
  policy?: DestroyPolicyState;
  provider?: DestroyProviderState;
  /** The pod identity associations (identity: pod-identity or both), read while the cluster exists. */
  associations?: DestroyAssociationState[];
}

/**
 * - delete: the tool made it, and it goes.
 * - detach: it stays (it existed before), but the tool's own policy is detached from it.
 * - keep: it existed before the tool: never deleted.
 * - blocked: the tool made it, but it must stay for now (in use, attached elsewhere); `reason` says what to do.
 * - absent: not there; nothing to do.
 * - unknown: the OIDC provider cannot be told without the cluster.
 */
export type DestroyAction = 'delete' | 'detach' | 'keep' | 'blocked' | 'absent' | 'unknown';

export interface DestroyItem {
  section: SectionId;
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
const UNION_ROLE = "it is Union's role that globalAccess only attaches the custom policy to, so it is never deleted";

function list(names: string[]): string {
  return names.join(', ');
}

export function planDestroy(state: DestroyState): DestroyPlan {
  const policy = state.policy;
  const policyOwned = policy?.current !== undefined && isOwned(policy.current.tags);
  const configRoles = new Set(state.roles.map((r) => r.name));
  const items: DestroyItem[] = [];
  const deleted = new Set<string>();
  /** The config's roles kept with the custom policy on them: it stays too. */
  const policyKeptBy: string[] = [];

  // The associations first: they name the roles (EKS keeps an association whose role is gone, useless).
  for (const a of state.associations ?? []) items.push(associationItem(a));

  // Roles in reverse order of creation: project roles (last first), workers, system, node, cluster.
  for (const r of [...state.roles].reverse()) {
    const base = { section: r.section, kind: 'role' as const, name: r.name, notes: [] as string[] };
    const role = r.current;
    if (role === undefined) {
      items.push({ ...base, action: 'absent', steps: [] });
      continue;
    }
    // An adopted role (Union's own, for global access) is never the tool's, whatever its tags say.
    const unionRole = r.adopted === true;
    const detachOwnPolicy: Step[] =
      policyOwned && role.attached.includes(policy!.arn)
        ? [{ op: 'DetachRolePolicy', roleName: r.name, policyArn: policy!.arn }]
        : [];
    const withArn = { ...base, arn: role.arn };
    if (unionRole || !isOwned(role.tags)) {
      items.push({
        ...withArn,
        action: detachOwnPolicy.length > 0 ? 'detach' : 'keep',
        steps: detachOwnPolicy,
        reason: unionRole ? UNION_ROLE : EXISTED_BEFORE,
        notes:
          detachOwnPolicy.length > 0
            ? [`flyte-aws-setup's own policy ${policy!.name} is detached from it; its other policies stay`]
            : [],
      });
      continue;
    }
    const blockers: string[] = [];
    if (r.inUse) blockers.push(`${r.inUse}; delete that first, then run destroy again`);
    if (r.trustsElsewhere) {
      blockers.push(
        `${r.trustsElsewhere}, so it may serve that cluster now and destroy keeps it, with its policies; once ` +
          'nothing needs it, delete it by hand, or run destroy again when that has changed',
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
      // A role that may serve another cluster keeps the custom policy too: its pods still need the bucket.
      const keepsPolicy = r.trustsElsewhere !== undefined && detachOwnPolicy.length > 0;
      if (keepsPolicy) policyKeptBy.push(r.name);
      items.push({
        ...withArn,
        action: 'blocked',
        steps: keepsPolicy ? [] : detachOwnPolicy,
        reason: blockers.join('; also '),
      });
      continue;
    }
    deleted.add(r.name);
    items.push({
      ...withArn,
      action: 'delete',
      steps: [
        ...[...role.attached]
          .sort()
          .map((policyArn): Step => ({ op: 'DetachRolePolicy', roleName: r.name, policyArn })),
        { op: 'DeleteRole', roleName: r.name },
      ],
    });
  }

  if (policy !== undefined) items.push(policyItem(policy, policyOwned, configRoles, policyKeptBy));
  if (state.provider !== undefined) items.push(providerItem(state, state.provider, deleted));
  return { facts: state.facts, items };
}

function policyItem(
  policy: DestroyPolicyState,
  owned: boolean,
  configRoles: Set<string>,
  keptBy: string[],
): DestroyItem {
  const base = { section: 'customPolicy' as const, kind: 'policy' as const, name: policy.name, notes: [] };
  if (policy.current === undefined) return { ...base, action: 'absent', steps: [] };
  const withArn = { ...base, arn: policy.arn };
  if (!owned) return { ...withArn, action: 'keep', steps: [], reason: EXISTED_BEFORE };
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

function associationItem(a: DestroyAssociationState): DestroyItem {
  const base = { section: 'podIdentity' as const, kind: 'pod-identity-association' as const, name: a.name, notes: [] };
  if (a.current === undefined) return { ...base, action: 'absent', steps: [] };
  const withArn = { ...base, arn: a.current.arn };
  if (!isOwned(a.current.tags)) return { ...withArn, action: 'keep', steps: [], reason: EXISTED_BEFORE };
  return {
    ...withArn,
    action: 'delete',
    steps: [
      {
        op: 'DeletePodIdentityAssociation',
        clusterName: a.cluster,
        associationId: a.current.associationId,
        name: a.name,
      },
    ],
  };
}

function versionNumber(id: string): number {
  return Number(id.replace(/^v/, '')) || 0;
}

function providerItem(state: DestroyState, p: DestroyProviderState, deletedRoles: Set<string>): DestroyItem {
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
  if (!isOwned(p.current.tags)) return { ...withArn, action: 'keep', steps: [], reason: EXISTED_BEFORE };
  const kept = (reason: string): DestroyItem => ({ ...withArn, action: 'blocked', steps: [], reason });
  if (p.liveCluster !== undefined) {
    return kept(
      `it is the OIDC provider of the running EKS cluster ${p.liveCluster} (the config's cluster is gone, and its ` +
        'roles trust this one): pods of that cluster use it',
    );
  }
  const remaining = p.trustedBy.filter((r) => !deletedRoles.has(r));
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

/** The order removal calls must go in: the associations, detach, then the policy's versions and the policy, roles, provider. */
const PHASE: Partial<Record<Step['op'], number>> = {
  DeletePodIdentityAssociation: -1,
  DetachRolePolicy: 0,
  DeletePolicyVersion: 1,
  DeletePolicy: 2,
  DeleteRole: 3,
  DeleteOpenIDConnectProvider: 4,
};

/** Every step of a destroy plan, in the order to run them. */
export function destroySteps(plan: DestroyPlan): Step[] {
  const steps = plan.items.flatMap((i) => i.steps);
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (PHASE[a.s.op] ?? 9) - (PHASE[b.s.op] ?? 9) || a.i - b.i)
    .map(({ s }) => s);
}

export function destroyCounts(plan: DestroyPlan): {
  delete: number;
  detach: number;
  keep: number;
  blocked: number;
  absent: number;
  unknown: number;
} {
  const n = (a: DestroyAction) => plan.items.filter((i) => i.action === a).length;
  return {
    delete: n('delete'),
    detach: n('detach'),
    keep: n('keep'),
    blocked: n('blocked'),
    absent: n('absent'),
    unknown: n('unknown'),
  };
}
