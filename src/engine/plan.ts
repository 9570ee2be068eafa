/**
 * The planner: pure functions from what the config wants and what AWS holds to the fewest mutating calls that
 * make them match. No I/O; `current` undefined means the resource does not exist.
 */
import { MANAGED_BY_KEY, MANAGED_BY_VALUE } from '../config/rules.js';
import { broadeningReasons, permissionsAdded } from '../policy/broadening.js';
import { samePolicy } from '../policy/compare.js';
import { policySize, TRUST_POLICY_MAX } from '../policy/document.js';
import { isAwsManagedPolicy, nameOfArn } from '../policy/partition.js';
import { vpcDnsFindings, vpcDnsMissing } from '../sections/cluster-vpc.js';
import type {
  CurrentOidcProvider,
  CurrentPolicy,
  CurrentResource,
  CurrentRole,
  CurrentVpcDns,
  DesiredAttachment,
  DesiredOidcProvider,
  DesiredPolicy,
  DesiredResource,
  DesiredRole,
  DesiredVpcDns,
  Note,
  ResourcePlan,
  Step,
  Tags,
} from '../model.js';

export function isOwned(tags: Tags): boolean {
  return tags[MANAGED_BY_KEY] === MANAGED_BY_VALUE;
}

/** Tags of `desired` that `current` lacks or holds with another value. Tags not in the config are left alone. */
function missingTags(desired: Tags, current: Tags): Tags | undefined {
  const out: Tags = {};
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

const NOT_OWNED_NOTE: Note = {
  level: 'info',
  message:
    "existed before flyte-aws-setup: it is used and kept in line with the config, but never tagged as the tool's or deleted",
};

/** Policies that grant far more than Flyte needs, and what to use instead. */
export const TOO_BROAD: Record<string, string> = {
  AmazonS3FullAccess: 'grants every S3 bucket of the account; the scoped custom policy is enough for Flyte',
  AdministratorAccess: 'grants everything',
  PowerUserAccess: 'grants nearly everything',
};

/** Why an AWS managed policy grants far more than Flyte needs; undefined for any other policy. */
export function tooBroad(arn: string): string | undefined {
  return isAwsManagedPolicy(arn) ? TOO_BROAD[nameOfArn(arn)] : undefined;
}

export function planRole(desired: DesiredRole, current: CurrentRole | undefined): ResourcePlan {
  const base = { kind: 'role' as const, name: desired.name, desired };
  // The config check estimates this before the issuer is known; here is the real document.
  const size = policySize(desired.trust);
  if (size > TRUST_POLICY_MAX) {
    return {
      ...base,
      arn: current?.arn ?? desired.arn,
      action: 'none',
      owned: current === undefined || isOwned(current.tags),
      steps: [],
      notes: [],
      security: [],
      blocked:
        `its trust policy would be ${size} characters, and IAM allows ${TRUST_POLICY_MAX} by default: trust fewer ` +
        'namespaces (fewer domains, shorter names), or have the "Role trust policy length" quota raised',
      ...(current !== undefined ? { current } : {}),
    };
  }
  if (current === undefined) {
    return {
      ...base,
      arn: desired.arn,
      action: 'create',
      owned: true,
      steps: [
        {
          op: 'CreateRole',
          roleName: desired.name,
          path: desired.path,
          trust: desired.trust,
          description: desired.description,
          ...(desired.boundary !== undefined ? { boundary: desired.boundary } : {}),
          tags: desired.tags,
        },
        ...desired.managedPolicies.map((policyArn): Step => ({
          op: 'AttachRolePolicy',
          roleName: desired.name,
          policyArn,
        })),
      ],
      notes: [],
      security: [
        ...broadeningReasons(undefined, desired.trust).map((r) => `trust: ${r}`),
        ...desired.managedPolicies.flatMap((arn) => {
          const broad = tooBroad(arn);
          return broad !== undefined ? [`attaches ${nameOfArn(arn)}, which ${broad}`] : [];
        }),
      ],
    };
  }

  const steps: Step[] = [];
  const notes: Note[] = [];
  const security: string[] = [];
  const owned = isOwned(current.tags);

  // What the role holds beyond the config: whoever its trust lets in gets that too.
  const beyond = [
    ...current.attached.filter((a) => !desired.managedPolicies.includes(a)).map(nameOfArn),
    ...(current.inline ?? []).map((n) => `the inline policy ${n}`),
  ];
  if (!samePolicy(current.trust, desired.trust)) {
    steps.push({ op: 'UpdateAssumeRolePolicy', roleName: desired.name, trust: desired.trust, before: current.trust });
    security.push(...broadeningReasons(current.trust, desired.trust).map((r) => `trust: ${r}`));
    if (beyond.length > 0) {
      security.push(
        `trust: the role also holds ${beyond.join(', ')}, not from this config; whoever the new trust lets in gets ` +
          'that too',
      );
    }
  }
  if (current.inlineUnreadable !== undefined) {
    notes.push({
      level: 'warn',
      message: `its inline policies could not be read (${current.inlineUnreadable}); the plan cannot show them`,
    });
  }
  if ((current.inline ?? []).length > 0) {
    notes.push({
      level: 'warn',
      message:
        `has inline policies flyte-aws-setup did not write (${current.inline!.join(', ')}); left alone: review ` +
        `them with aws iam get-role-policy --role-name ${desired.name} --policy-name NAME`,
    });
  }
  if (desired.boundary !== undefined && current.boundary !== desired.boundary) {
    steps.push({
      op: 'PutRolePermissionsBoundary',
      roleName: desired.name,
      boundary: desired.boundary,
      ...(current.boundary !== undefined ? { before: current.boundary } : {}),
    });
    if (current.boundary !== undefined)
      security.push(`replaces the permissions boundary ${nameOfArn(current.boundary)}`);
  } else if (desired.boundary === undefined && current.boundary !== undefined) {
    notes.push({
      level: 'info',
      message: `has the permissions boundary ${current.boundary} (not in the config; left alone)`,
    });
  }
  for (const policyArn of desired.managedPolicies) {
    if (!current.attached.includes(policyArn)) {
      steps.push({ op: 'AttachRolePolicy', roleName: desired.name, policyArn });
      const broad = tooBroad(policyArn);
      security.push(`attaches ${nameOfArn(policyArn)}${broad !== undefined ? `, which ${broad}` : ''}`);
    }
  }
  for (const other of current.attached) {
    if (desired.managedPolicies.includes(other)) continue;
    const broad = TOO_BROAD[nameOfArn(other)];
    notes.push(
      broad !== undefined
        ? {
            level: 'warn',
            message:
              `also has ${nameOfArn(other)} attached, which ${broad}; left alone: detach it with ` +
              `aws iam detach-role-policy --role-name ${desired.name} --policy-arn ${other}`,
          }
        : { level: 'info', message: `also has ${other} attached (not by this config; left alone)` },
    );
  }
  if (current.path !== desired.path) {
    notes.push({
      level: 'warn',
      message:
        `is at path ${current.path}, the config says ${desired.path}; IAM cannot move a role, so it stays ` +
        'where it is (set `path:` to match, or delete the role to have it made again)',
    });
  }
  if (owned) {
    const tags = missingTags(desired.tags, current.tags);
    if (tags !== undefined) steps.push({ op: 'TagRole', roleName: desired.name, tags });
  } else {
    notes.push(NOT_OWNED_NOTE);
  }
  return { ...base, arn: current.arn, action: steps.length > 0 ? 'update' : 'none', owned, steps, notes, security };
}

export function planOidcProvider(desired: DesiredOidcProvider, current: CurrentOidcProvider | undefined): ResourcePlan {
  const base = {
    kind: 'oidc-provider' as const,
    name: desired.url.replace(/^https:\/\//, ''),
    arn: desired.arn,
    desired,
  };
  if (current === undefined) {
    return {
      ...base,
      action: 'create',
      owned: true,
      steps: [
        { op: 'CreateOpenIDConnectProvider', url: desired.url, clientIds: desired.clientIds, tags: desired.tags },
      ],
      notes: [],
      security: [],
    };
  }
  const steps: Step[] = desired.clientIds
    .filter((id) => !current.clientIds.includes(id))
    .map((clientId) => ({ op: 'AddClientIDToOpenIDConnectProvider', arn: current.arn, clientId }));
  const owned = isOwned(current.tags);
  const notes: Note[] = [];
  if (owned) {
    const tags = missingTags(desired.tags, current.tags);
    if (tags !== undefined) steps.push({ op: 'TagOpenIDConnectProvider', arn: current.arn, tags });
  } else {
    notes.push(NOT_OWNED_NOTE);
  }
  return { ...base, action: steps.length > 0 ? 'update' : 'none', owned, steps, notes, security: [] };
}

/** IAM keeps at most five versions of a managed policy. */
export const MAX_POLICY_VERSIONS = 5;

export function planPolicy(desired: DesiredPolicy, current: CurrentPolicy | undefined): ResourcePlan {
  const base = { kind: 'policy' as const, name: desired.name, arn: desired.arn, desired };
  if (current === undefined) {
    return {
      ...base,
      action: 'create',
      owned: true,
      steps: [
        {
          op: 'CreatePolicy',
          name: desired.name,
          path: desired.path,
          document: desired.document,
          description: desired.description,
          tags: desired.tags,
        },
      ],
      notes: [],
      security: [],
    };
  }
  const steps: Step[] = [];
  const security: string[] = [];
  const notes: Note[] = [];
  if (!samePolicy(current.document, desired.document)) {
    const versions = current.versions ?? [];
    if (versions.length >= MAX_POLICY_VERSIONS) {
      const oldest = versions.filter((v) => !v.isDefault).sort((a, b) => versionOrder(a) - versionOrder(b))[0];
      if (oldest !== undefined) steps.push({ op: 'DeletePolicyVersion', policyArn: current.arn, versionId: oldest.id });
    }
    steps.push({
      op: 'CreatePolicyVersion',
      policyArn: current.arn,
      document: desired.document,
      before: current.document,
    });
    security.push(...permissionsAdded(current.document, desired.document));
  }
  const owned = isOwned(current.tags);
  if (owned) {
    const tags = missingTags(desired.tags, current.tags);
    if (tags !== undefined) steps.push({ op: 'TagPolicy', policyArn: current.arn, tags });
  } else {
    notes.push(NOT_OWNED_NOTE);
  }
  return { ...base, action: steps.length > 0 ? 'update' : 'none', owned, steps, notes, security };
}

/** Oldest first: by creation date when known, else by the number in `vN`. */
function versionOrder(v: { id: string; created?: string }): number {
  if (v.created !== undefined) {
    const t = Date.parse(v.created);
    if (!Number.isNaN(t)) return t;
  }
  return Number(v.id.replace(/^v/, '')) || 0;
}

/**
 * Policies on a role that exists already and is not the tool's: only missing attachments are planned. The role's
 * trust, tags, boundary and other policies are not looked at, and a role that is not there is never created.
 */
export function planAttachment(desired: DesiredAttachment, current: CurrentRole | undefined): ResourcePlan {
  const base = { kind: 'attachment' as const, name: desired.name, desired, owned: false };
  if (current === undefined) {
    return {
      ...base,
      arn: desired.arn,
      action: 'none',
      steps: [],
      notes: [],
      security: [],
      blocked:
        `the role ${desired.name} does not exist; this section only attaches policies to a role that exists ` +
        '(it never creates it): check the name (aws iam list-roles --query "Roles[].RoleName")',
    };
  }
  const missing = desired.policyArns.filter((arn) => !current.attached.includes(arn));
  const steps: Step[] = missing.map((policyArn) => ({ op: 'AttachRolePolicy', roleName: current.name, policyArn }));
  return {
    ...base,
    arn: current.arn,
    action: steps.length > 0 ? 'update' : 'none',
    steps,
    notes: [
      {
        level: 'info',
        message: "existing role: only the attachment is the tool's; its trust, tags and other policies are left alone",
      },
    ],
    security: missing.map((arn) => `attaches ${nameOfArn(arn)}: every task that runs as this role gets it`),
  };
}

/** The VPC's DNS attributes: steps that turn them on (`fix`), or findings that say what to do (`check`). */
export function planVpcDns(desired: DesiredVpcDns, current: CurrentVpcDns | undefined): ResourcePlan {
  const base = { kind: 'vpc-dns' as const, name: desired.name, arn: desired.arn, desired, owned: false, notes: [] };
  const missing = current === undefined ? [] : vpcDnsMissing(current);
  if (desired.fix && current !== undefined && current.unreadable === undefined) {
    const steps: Step[] = missing.map((attribute) => ({ op: 'ModifyVpcAttribute', vpcId: desired.name, attribute }));
    return { ...base, action: steps.length > 0 ? 'update' : 'none', steps, security: [] };
  }
  const findings = vpcDnsFindings(desired.name, desired.region, current);
  return { ...base, action: 'none', steps: [], security: [], ...(findings.length > 0 ? { findings } : {}) };
}

export function planResource(desired: DesiredResource, current: CurrentResource | undefined): ResourcePlan {
  switch (desired.kind) {
    case 'role':
      return planRole(desired, current as CurrentRole | undefined);
    case 'oidc-provider':
      return planOidcProvider(desired, current as CurrentOidcProvider | undefined);
    case 'policy':
      return planPolicy(desired, current as CurrentPolicy | undefined);
    case 'attachment':
      return planAttachment(desired, current as CurrentRole | undefined);
    case 'vpc-dns':
      return planVpcDns(desired, current as CurrentVpcDns | undefined);
  }
}

/** A key that names a resource across desired and current state. */
export function resourceKey(r: DesiredResource): string {
  return r.kind === 'role' || r.kind === 'attachment' ? `${r.kind}:${r.name}` : `${r.kind}:${r.arn}`;
}
