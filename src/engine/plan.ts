/**
 * The planner: pure functions from what the config wants and what AWS holds to the fewest mutating calls that
 * make them match. No I/O; `current` undefined means the resource does not exist.
 */
import {
  ATTACHED_KEY,
  DEFAULT_VERSION_KEY,
  DESCRIPTION_KEY,
  DESCRIPTION_MARK,
  MAX_TAGS,
  SETUP_KEY,
  TRUST_KEY,
} from '../config/rules.js';
import { broadeningReasons, permissionsAdded } from '../policy/broadening.js';
import { samePolicy } from '../policy/compare.js';
import { isPodIdentityStatement, policySize, TRUST_POLICY_MAX, type PolicyDocument } from '../policy/document.js';
import { broadGrant, severityOf, tooBroad, type FindingCode } from '../policy/findings.js';
import { federatedPrincipals, isOidcProviderArn } from '../policy/irsa.js';
import { nameOfArn } from '../policy/partition.js';
import { vpcDnsFindings, vpcDnsMissing } from '../sections/cluster-vpc.js';
import { kmsKeyFindings } from '../sections/custom-policy.js';
import type {
  CurrentAddon,
  CurrentBucket,
  CurrentPodIdentityAssociation,
  CurrentOidcProvider,
  CurrentPolicy,
  CurrentResource,
  CurrentRole,
  CurrentVpcDns,
  DesiredAddon,
  DesiredAttachment,
  DesiredBucket,
  DesiredPodIdentityAssociation,
  DesiredOidcProvider,
  DesiredPolicy,
  DesiredResource,
  DesiredRole,
  DesiredVpcDns,
  Finding,
  Note,
  ResourcePlan,
  Step,
  Tags,
} from '../model.js';
import {
  decodePolicyArns,
  encodeDescription,
  encodePolicyArns,
  encodeTrust,
  isOwned,
  markedDescription,
  ownership,
  readRecord,
  recordChange,
  recordTags,
  setupOf,
} from './records.js';

export { isOwned };

/** Tags of `desired` that `current` lacks or holds with another value. Tags not in the config are left alone. */
function missingTags(desired: Tags, current: Tags): Tags | undefined {
  const out: Tags = {};
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

const NOT_OWNED_NOTE: Note = {
  level: 'info',
  message:
    "existed before flyte-aws-setup: it is used and kept in line with the config, but never tagged as the tool's or " +
    'deleted; what the tool changes on it is recorded in its flyte-aws-setup:* tags, for destroy to put back',
};

/** An association made by hand: its role before a change is not recorded, so destroy leaves it as it is then. */
const NOT_OWNED_ASSOCIATION_NOTE: Note = {
  level: 'info',
  message:
    "existed before flyte-aws-setup: it is kept in line with the config, but never tagged as the tool's or " +
    'deleted; destroy leaves it as it is then (with the role the config names)',
};

function finding(code: FindingCode, message: string, fix?: string): Finding {
  return { code, severity: severityOf(code), message, ...(fix !== undefined ? { fix } : {}) };
}

/** The note on a resource the tool made before setups existed: it is taken as this setup's. */
function legacyNote(setup: string): Note {
  return {
    level: 'info',
    message:
      `made by an earlier version of flyte-aws-setup (managed-by, but no ${SETUP_KEY} tag): taken as this ` +
      `setup's (${setup}) and tagged ${SETUP_KEY}: ${setup}`,
  };
}

/** Why a resource of another setup is not touched, and how to go on. */
export function otherSetupMessage(owner: string, setup: string, otherNames: string): string {
  return (
    `it belongs to the setup "${owner}" (its tag ${SETUP_KEY}), not to this config's setup "${setup}": another ` +
    `config made or changed it, and it is never changed from here. ${otherNames}, or, if this config really is ` +
    `that setup, set setup: ${owner} in it`
  );
}

/** The plan for a resource of another setup: nothing is done to it, and the plan says whose it is. */
function otherSetupPlan(
  base: Pick<ResourcePlan, 'kind' | 'name' | 'arn' | 'desired'>,
  current: CurrentPolicy | CurrentOidcProvider | CurrentPodIdentityAssociation,
  setup: string,
  otherNames: string,
): ResourcePlan {
  return {
    ...base,
    action: 'none',
    owned: isOwned(current.tags),
    steps: [],
    notes: [],
    security: [],
    blocked: otherSetupMessage(setupOf(current.tags)!, setup, otherNames),
    current,
  };
}

/** The desired resource's setup (every resource the tool makes carries it). */
function setupOfDesired(tags: Tags): string {
  return tags[SETUP_KEY] ?? '';
}

/** Pods assume the role through the cluster's OIDC provider or EKS Pod Identity: its trust names one of them. */
export function assumedByPods(trust: PolicyDocument): boolean {
  return federatedPrincipals(trust).some(isOidcProviderArn) || trust.Statement.some(isPodIdentityStatement);
}

function detachCommand(role: string, arn: string): string {
  return `aws iam detach-role-policy --role-name ${role} --policy-arn ${arn}`;
}

/** The broad AWS managed policies the config attaches to a role: each a warning, whether attached yet or not. */
function listedBroadFindings(desired: DesiredRole): Finding[] {
  return desired.managedPolicies.flatMap((arn) => {
    const why = tooBroad(arn);
    if (why === undefined) return [];
    return [
      finding(
        'broad-policy-listed',
        `the config attaches ${nameOfArn(arn)} (extraPolicies), which ${why}`,
        `remove it from the config's extraPolicies, then detach it: ${detachCommand(desired.name, arn)}`,
      ),
    ];
  });
}

/**
 * What a role holds beyond the config, as the findings standard reports it (src/policy/findings.ts): broad grants
 * (attached, or in an inline policy), another policy or an inline one on a role pods assume, inline policies that
 * could not be read. All of it is left as it is; `wanted` are the policies the config attaches.
 */
export function heldFindings(
  role: { name: string; wanted: readonly string[]; pods: boolean; scopedPolicy?: string },
  current: Pick<CurrentRole, 'attached' | 'inline' | 'inlineDocuments' | 'inlineUnreadable'>,
): { findings: Finding[]; notes: Note[] } {
  const findings: Finding[] = [];
  const notes: Note[] = [];
  const broad: FindingCode = role.pods ? 'broad-policy' : 'broad-policy-non-irsa';
  for (const arn of current.attached) {
    if (role.wanted.includes(arn)) continue;
    const name = nameOfArn(arn);
    const why = tooBroad(arn);
    if (why !== undefined) {
      // With the scoped policy named, the reason need not say again that it is enough.
      const scoped =
        role.pods && name === 'AmazonS3FullAccess' && role.scopedPolicy !== undefined
          ? ` where the scoped policy ${nameOfArn(role.scopedPolicy)} belongs`
          : '';
      findings.push(
        finding(
          broad,
          `has ${name} attached${scoped}: it ${scoped ? why.split(';')[0] : why}`,
          `${detachCommand(role.name, arn)} (flyte-aws-setup leaves policies it did not attach alone)`,
        ),
      );
    } else if (role.pods) {
      findings.push(
        finding(
          'extra-policy',
          `also has ${arn} attached, which the config does not list: every pod that assumes the role gets it`,
          `if its pods need it, add it to the role's extraPolicies in the config; if not: ${detachCommand(role.name, arn)}`,
        ),
      );
    } else {
      notes.push({ level: 'info', message: `also has ${arn} attached (not by this config; left alone)` });
    }
  }
  if (current.inlineUnreadable !== undefined) {
    findings.push(
      finding(
        'unchecked',
        `its inline policies could not be read (${current.inlineUnreadable})`,
        'allow iam:ListRolePolicies and iam:GetRolePolicy on the role (flyte-aws-setup permissions prints the policy)',
      ),
    );
  }
  for (const name of current.inline ?? []) {
    const document = current.inlineDocuments?.[name];
    const grant = document !== undefined ? broadGrant(document) : undefined;
    const pods = role.pods ? ': every pod that assumes the role gets it' : '';
    const fix =
      `review it (aws iam get-role-policy --role-name ${role.name} --policy-name ${name}); if it is not needed: ` +
      `aws iam delete-role-policy --role-name ${role.name} --policy-name ${name}`;
    findings.push(
      grant !== undefined
        ? finding(broad, `has the inline policy ${name}, which ${grant}${pods}`, fix)
        : finding('inline-policy', `has the inline policy ${name}, which flyte-aws-setup did not write${pods}`, fix),
    );
  }
  return { findings, notes };
}

/** The managed policies the tool attached to a role, by its record. */
export function recordedAttachments(role: Pick<CurrentRole, 'arn' | 'tags'>): string[] {
  const value = readRecord(role.tags, ATTACHED_KEY);
  return value === undefined ? [] : decodePolicyArns(value, role.arn);
}

function tagCount(tags: Tags, set: Tags = {}, unset: string[] = []): number {
  return new Set([...Object.keys(tags), ...Object.keys(set)].filter((k) => !unset.includes(k))).size;
}

function noRoom(what: string, count: number): string {
  return (
    `${what} would need ${count} tags, and IAM allows ${MAX_TAGS} per role: flyte-aws-setup records on the role ` +
    'what it attaches (and, on a role that existed before it, the trust it had), so that a later run or destroy ' +
    'undoes exactly that; give fewer tags or policies, or remove some of its tags'
  );
}

export function planRole(desired: DesiredRole, current: CurrentRole | undefined): ResourcePlan {
  const base = { kind: 'role' as const, name: desired.name, desired };
  const setup = setupOfDesired(desired.tags);
  const blocked = (reason: string): ResourcePlan => ({
    ...base,
    arn: current?.arn ?? desired.arn,
    action: 'none',
    owned: current === undefined || isOwned(current.tags),
    steps: [],
    notes: [],
    security: [],
    blocked: reason,
    ...(current !== undefined ? { current } : {}),
  });
  // The config check estimates this before the issuer is known; here is the real document.
  const size = policySize(desired.trust);
  if (size > TRUST_POLICY_MAX) {
    return blocked(
      `its trust policy would be ${size} characters, and IAM allows ${TRUST_POLICY_MAX} by default: trust fewer ` +
        'namespaces (fewer domains, shorter names), or have the "Role trust policy length" quota raised',
    );
  }
  if (current === undefined) {
    // What it attaches is recorded as it is made, before the attachments: a run that stops between them loses none.
    const tags = {
      ...desired.tags,
      ...recordTags(ATTACHED_KEY, encodePolicyArns(desired.managedPolicies, desired.arn)),
    };
    if (tagCount(tags) > MAX_TAGS) return blocked(noRoom('it', tagCount(tags)));
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
          tags,
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
      ...withFindings(listedBroadFindings(desired)),
    };
  }

  const own = ownership(current.tags, setup);
  if (own === 'other') {
    return blocked(otherSetupMessage(setupOf(current.tags)!, setup, 'Give the role another name in this config'));
  }
  const owned = own !== 'before';
  const steps: Step[] = [];
  const notes: Note[] = [];
  const security: string[] = [];

  // The managed policies: the config's are attached; one the tool attached (its record says so) that the config no
  // longer names is detached; one attached by someone else stays.
  const wanted = desired.managedPolicies;
  // A role the tool made before it kept records: what it holds of the config's policies, the tool attached.
  const recorded = [
    ...new Set([
      ...recordedAttachments(current),
      ...(own === 'legacy' ? current.attached.filter((a) => wanted.includes(a)) : []),
    ]),
  ];
  const toAttach = wanted.filter((a) => !current.attached.includes(a));
  const toDetach = recorded.filter((a) => current.attached.includes(a) && !wanted.includes(a));
  const kept = recorded.filter((a) => current.attached.includes(a) && !toDetach.includes(a));
  const recordValue = (arns: string[]) => (arns.length > 0 ? encodePolicyArns(arns, current.arn) : undefined);
  // While it changes, the record holds both what is attached and what is to be; after, what stays.
  const during = recordValue([...kept, ...toDetach, ...toAttach]);
  const after = recordValue([...kept, ...toAttach]);

  // What the role holds beyond the config: whoever its trust lets in gets that too. Its grants policy (which the
  // grants section attaches) is the config's.
  const configured = [...wanted, ...(desired.alsoAttached ?? [])];
  const beyond = [
    ...current.attached.filter((a) => !configured.includes(a) && !toDetach.includes(a)).map(nameOfArn),
    ...(current.inline ?? []).map((n) => `the inline policy ${n}`),
  ];
  const trustChanges = !samePolicy(current.trust, desired.trust);
  // The first change this setup makes to a role it did not make: what the role holds is said once, then.
  const adopting = !owned && setupOf(current.tags) !== setup;
  const middle: Step[] = [];
  if (trustChanges) {
    middle.push({ op: 'UpdateAssumeRolePolicy', roleName: desired.name, trust: desired.trust, before: current.trust });
    if (dropsIrsa(current.trust, desired.trust) && desired.trust.Statement.some(isPodIdentityStatement)) {
      notes.push({
        level: 'warn',
        message:
          'its IRSA trust goes in this run, for Pod Identity: pods that still use IRSA (before Flyte is upgraded with ' +
          'the new Helm values) cannot assume it until then; to switch without that gap, apply identity: both first, ' +
          'upgrade Flyte, then identity: pod-identity',
      });
    }
    security.push(...broadeningReasons(current.trust, desired.trust).map((r) => `trust: ${r}`));
    if (!adopting && beyond.length > 0) {
      security.push(
        `trust: the role also holds ${beyond.join(', ')}, not from this config; whoever the new trust lets in gets ` +
          'that too',
      );
    }
  }
  if (desired.boundary !== undefined && current.boundary !== desired.boundary) {
    middle.push({
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
  for (const policyArn of toAttach) {
    middle.push({ op: 'AttachRolePolicy', roleName: desired.name, policyArn });
    const broad = tooBroad(policyArn);
    security.push(`attaches ${nameOfArn(policyArn)}${broad !== undefined ? `, which ${broad}` : ''}`);
  }
  for (const policyArn of toDetach) {
    middle.push({ op: 'DetachRolePolicy', roleName: desired.name, policyArn });
    notes.push({
      level: 'info',
      message: `detaches ${nameOfArn(policyArn)}: flyte-aws-setup attached it, and the config no longer names it`,
    });
  }
  const held = heldFindings(
    {
      name: desired.name,
      // A policy being detached is the config's doing, not something the role holds beyond it.
      wanted: [...configured, ...toDetach],
      pods: assumedByPods(desired.trust),
      ...(desired.scopedPolicy !== undefined ? { scopedPolicy: desired.scopedPolicy } : {}),
    },
    current,
  );
  notes.push(...held.notes);
  const findings = [...listedBroadFindings(desired), ...held.findings];
  if (current.path !== desired.path) {
    findings.push(
      finding(
        'path-differs',
        `is at path ${current.path}, the config says ${desired.path}; IAM cannot move a role, so it stays where it is`,
        `set path: ${current.path} in the config, or delete the role to have it made again at ${desired.path}`,
      ),
    );
  }

  // The tags: the config's (on the tool's own roles), this setup's, and the records, written before the changes
  // they record, so that a run that stops part-way loses nothing.
  const pre: Tags = {};
  if (owned) Object.assign(pre, missingTags(desired.tags, current.tags));
  const duringRecord = recordChange(current.tags, ATTACHED_KEY, during);
  Object.assign(pre, duringRecord.set);
  const recordsTrust = !owned && trustChanges && readRecord(current.tags, TRUST_KEY) === undefined;
  if (recordsTrust) Object.assign(pre, recordTags(TRUST_KEY, encodeTrust(current.trust)));
  const changes = middle.length > 0 || Object.keys(pre).length > 0;
  if (adopting && changes) pre[SETUP_KEY] = setup;
  // A role this setup adopts (or adopted before the mark) carries the tool's mark at the end of its description, its
  // own description recorded first: ListRoles finds it by the mark once the config no longer names it, and destroy
  // or --prune puts it back.
  const unmarked =
    !owned &&
    (setupOf(current.tags) === setup || (adopting && changes)) &&
    !(current.description ?? '').endsWith(DESCRIPTION_MARK);
  const described =
    readRecord(current.tags, DESCRIPTION_KEY) === undefined
      ? recordTags(DESCRIPTION_KEY, encodeDescription(current.description))
      : {};
  // No room for the record under IAM's limit: the role is used without the mark, saying what that costs.
  const marks = unmarked && tagCount(current.tags, { ...pre, ...described, [SETUP_KEY]: setup }) <= MAX_TAGS;
  if (unmarked && !marks) {
    notes.push({
      level: 'warn',
      message:
        `its description cannot get flyte-aws-setup's mark: the record of its own would not fit under IAM's limit of ` +
        `${MAX_TAGS} tags; once the config no longer names it, no plan finds it (free some of its tags, and run again)`,
    });
  }
  if (marks) {
    Object.assign(pre, described);
    if (setupOf(current.tags) !== setup) pre[SETUP_KEY] = setup;
    middle.unshift({
      op: 'UpdateRole',
      roleName: desired.name,
      description: markedDescription(current.description),
      before: current.description ?? '',
    });
  }
  const afterPre = { ...current.tags, ...pre };
  const post = recordChange(afterPre, ATTACHED_KEY, after);
  const most = tagCount(current.tags, pre);
  if (most > MAX_TAGS) return blocked(noRoom(`the role ${desired.name} with these records`, most));

  if (Object.keys(pre).length > 0) steps.push({ op: 'TagRole', roleName: desired.name, tags: pre });
  steps.push(...middle);
  if (Object.keys(post.set).length > 0) steps.push({ op: 'TagRole', roleName: desired.name, tags: post.set });
  if (post.unset.length > 0) steps.push({ op: 'UntagRole', roleName: desired.name, keys: post.unset });

  if (own === 'legacy') notes.push(legacyNote(setup));
  if (!owned) {
    notes.push(NOT_OWNED_NOTE);
    if (recordsTrust) {
      notes.push({
        level: 'info',
        message: `its trust before this change is recorded in its ${TRUST_KEY} tags; destroy puts it back`,
      });
    }
    if (marks) {
      notes.push({
        level: 'info',
        message:
          "its description gets flyte-aws-setup's mark, by which the role is found when the config no longer names " +
          `it (its own is recorded in its ${DESCRIPTION_KEY} tags; destroy and --prune put it back)`,
      });
    }
    if (adopting && steps.length > 0) security.push(...adoptionReasons(desired, current, beyond));
  }
  return {
    ...base,
    arn: current.arn,
    action: steps.length > 0 ? 'update' : 'none',
    owned,
    steps,
    notes,
    security,
    ...withFindings(findings),
  };
}

/** Whether `after` lets in none of the OIDC providers (IRSA) that `before` trusts. */
export function dropsIrsa(before: PolicyDocument, after: PolicyDocument): boolean {
  const providers = (doc: PolicyDocument) => federatedPrincipals(doc).filter(isOidcProviderArn);
  const kept = new Set(providers(after));
  return providers(before).some((p) => !kept.has(p)) && kept.size === 0;
}

function withFindings(findings: Finding[]): { findings?: Finding[] } {
  return findings.length > 0 ? { findings } : {};
}

/** What a role that existed before the tool holds beyond what the config gives it, when the tool adopts it. */
function adoptionReasons(desired: DesiredRole, current: CurrentRole, beyond: string[]): string[] {
  const reasons: string[] = [];
  if (beyond.length > 0) {
    reasons.push(
      `adopts a role that existed before flyte-aws-setup and holds more than this config gives it (` +
        `${beyond.join(', ')}): whoever its trust lets in gets that too`,
    );
  }
  const broader = broadeningReasons(desired.trust, current.trust);
  if (broader.length > 0) {
    const more = broader.map((r) => r.replace(/^lets in more: /, '')).join('; ');
    reasons.push(
      `adopts a role that existed before flyte-aws-setup whose trust lets in more than the config's: ${more}; ` +
        "the config's trust replaces it, and destroy puts it back",
    );
  }
  return reasons;
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
  const setup = setupOfDesired(desired.tags);
  const own = ownership(current.tags, setup);
  if (own === 'other') {
    return otherSetupPlan(
      base,
      current,
      setup,
      'A cluster has one OIDC provider, made by one setup: set oidcProvider: false in this config (its roles trust the provider all the same)',
    );
  }
  const steps: Step[] = desired.clientIds
    .filter((id) => !current.clientIds.includes(id))
    .map((clientId) => ({ op: 'AddClientIDToOpenIDConnectProvider', arn: current.arn, clientId }));
  const owned = own !== 'before';
  const notes: Note[] = [];
  if (owned) {
    const tags = missingTags(desired.tags, current.tags);
    if (tags !== undefined) steps.push({ op: 'TagOpenIDConnectProvider', arn: current.arn, tags });
    if (own === 'legacy') notes.push(legacyNote(setup));
  } else {
    notes.push(NOT_OWNED_NOTE);
  }
  return { ...base, action: steps.length > 0 ? 'update' : 'none', owned, steps, notes, security: [] };
}

/** IAM keeps at most five versions of a managed policy. */
export const MAX_POLICY_VERSIONS = 5;

/** The steps that attach a policy to the roles its section attaches it to (a grants policy), and why they matter. */
function policyAttachments(desired: DesiredPolicy, attached: readonly string[]): { steps: Step[]; security: string[] } {
  const missing = (desired.attachTo ?? []).filter((role) => !attached.includes(role));
  return {
    steps: missing.map((roleName) => ({ op: 'AttachRolePolicy', roleName, policyArn: desired.arn })),
    security: missing.map((role) => `attaches it to the role ${role}: whatever assumes the role gets what it grants`),
  };
}

function versionNumber(id: string): number {
  return Number(id.replace(/^v/, '')) || 0;
}

/**
 * A policy the config no longer wants (`gone`: the grants policy of a role without grants). This setup's is
 * detached from every role and deleted, its other versions first: a narrowing change. One that is not there needs
 * nothing; one of another setup, or made by hand, is never touched: the plan reports it where it still grants.
 */
export function planGonePolicy(desired: DesiredPolicy, current: CurrentPolicy | undefined): ResourcePlan {
  const base = { kind: 'policy' as const, name: desired.name, arn: desired.arn, desired, notes: [], security: [] };
  if (current === undefined) return { ...base, action: 'none', owned: false, steps: [] };
  const setup = setupOfDesired(desired.tags);
  const own = ownership(current.tags, setup);
  const roles = current.attachedRoles ?? [];
  if (own === 'other' || own === 'before') {
    const whose =
      own === 'other'
        ? `it belongs to the setup "${setupOf(current.tags)}" (its tag ${SETUP_KEY}), not to this config's setup "${setup}"`
        : 'flyte-aws-setup did not make it';
    return {
      ...base,
      arn: current.arn,
      action: 'none',
      owned: own === 'other' && isOwned(current.tags),
      steps: [],
      notes: [
        {
          level: roles.length > 0 ? 'warn' : 'info',
          message:
            `the config gives its role no grants, but ${whose}: it is left alone` +
            (roles.length > 0
              ? ` and still grants what it holds to ${roles.join(', ')}; if nothing needs it: ` +
                roles.map((r) => detachCommand(r, current.arn)).join('; ')
              : ''),
        },
      ],
      current,
    };
  }
  const versions = (current.versions ?? [])
    .filter((v) => !v.isDefault)
    .sort((a, b) => versionNumber(a.id) - versionNumber(b.id));
  return {
    ...base,
    arn: current.arn,
    action: 'update',
    owned: true,
    steps: [
      ...[...roles].sort().map((roleName): Step => ({ op: 'DetachRolePolicy', roleName, policyArn: current.arn })),
      ...versions.map((v): Step => ({ op: 'DeletePolicyVersion', policyArn: current.arn, versionId: v.id })),
      { op: 'DeletePolicy', policyArn: current.arn },
    ],
    notes: [
      {
        level: 'info',
        message:
          `deleted${roles.length > 0 ? ` (detached from ${roles.join(', ')} first)` : ''}: flyte-aws-setup made it ` +
          "for this setup's grants, and the config gives its role none now",
      },
    ],
  };
}

export function planPolicy(desired: DesiredPolicy, current: CurrentPolicy | undefined): ResourcePlan {
  if (desired.gone) return planGonePolicy(desired, current);
  const base = { kind: 'policy' as const, name: desired.name, arn: desired.arn, desired };
  if (current === undefined) {
    const attach = policyAttachments(desired, []);
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
        ...attach.steps,
      ],
      notes: [],
      security: attach.security,
    };
  }
  const setup = setupOfDesired(desired.tags);
  const own = ownership(current.tags, setup);
  if (own === 'other') return otherSetupPlan(base, current, setup, 'Give the policy another name in this config');
  const owned = own !== 'before';
  const middle: Step[] = [];
  const security: string[] = [];
  const notes: Note[] = [];
  const pre: Tags = {};
  if (owned) Object.assign(pre, missingTags(desired.tags, current.tags));
  if (!samePolicy(current.document, desired.document)) {
    // The default version it had before the tool first changed it: destroy makes it the default again, so it is
    // never the one deleted to make room.
    const recorded = current.tags[DEFAULT_VERSION_KEY];
    if (!owned && recorded === undefined) {
      pre[DEFAULT_VERSION_KEY] = current.defaultVersionId;
      notes.push({
        level: 'info',
        message:
          `its default version now, ${current.defaultVersionId}, is recorded in its ${DEFAULT_VERSION_KEY} tag; ` +
          'destroy makes it the default again',
      });
    }
    const versions = current.versions ?? [];
    if (versions.length >= MAX_POLICY_VERSIONS) {
      const oldest = versions
        .filter((v) => !v.isDefault && v.id !== recorded)
        .sort((a, b) => versionOrder(a) - versionOrder(b))[0];
      if (oldest !== undefined) {
        middle.push({ op: 'DeletePolicyVersion', policyArn: current.arn, versionId: oldest.id });
        // The tool's own versions are those of a policy it made, or made after it first changed one.
        const handMade = !owned && (recorded === undefined || versionNumber(oldest.id) < versionNumber(recorded));
        if (handMade) security.push(`deletes version ${oldest.id} of a policy that existed before the tool`);
      }
    }
    middle.push({
      op: 'CreatePolicyVersion',
      policyArn: current.arn,
      document: desired.document,
      before: current.document,
    });
    security.push(...permissionsAdded(current.document, desired.document));
  }
  if (!owned && middle.length > 0 && setupOf(current.tags) !== setup) pre[SETUP_KEY] = setup;
  // A policy its section attaches (a grants policy): to the roles that lack it.
  const attach = policyAttachments(desired, current.attachedRoles ?? []);
  const steps: Step[] = [
    ...(Object.keys(pre).length > 0 ? [{ op: 'TagPolicy' as const, policyArn: current.arn, tags: pre }] : []),
    ...middle,
    ...attach.steps,
  ];
  security.push(...attach.security);
  if (own === 'legacy') notes.push(legacyNote(setup));
  if (!owned) notes.unshift(NOT_OWNED_NOTE);
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
  // Its other policies are left alone, but a broad one is reported as on any role of the config.
  const held = heldFindings(
    { name: current.name, wanted: desired.policyArns, pods: false },
    { attached: current.attached.filter((arn) => tooBroad(arn) !== undefined) },
  );
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
    ...withFindings(held.findings),
  };
}

/** The VPC's DNS attributes: steps that turn them on (`fix`), or findings that say what to do (`check`). */
export function planVpcDns(desired: DesiredVpcDns, current: CurrentVpcDns | undefined): ResourcePlan {
  const base = { kind: 'vpc-dns' as const, name: desired.name, arn: desired.arn, desired, owned: false, notes: [] };
  const missing = current === undefined ? [] : vpcDnsMissing(current);
  if (desired.fix && current !== undefined && current.unreadable === undefined) {
    const steps: Step[] = missing.map((attribute) => ({
      op: 'ModifyVpcAttribute',
      vpcId: desired.name,
      region: desired.region,
      attribute,
    }));
    return { ...base, action: steps.length > 0 ? 'update' : 'none', steps, security: [] };
  }
  const findings = vpcDnsFindings(desired.name, desired.region, current);
  return { ...base, action: 'none', steps: [], security: [], ...(findings.length > 0 ? { findings } : {}) };
}

/**
 * The bucket is only looked up: one that does not exist, or is in another region than the config's, is reported
 * (Flyte cannot work with it), never changed; so is its SSE-KMS key, when the custom policy grants one.
 */
export function planBucket(desired: DesiredBucket, current: CurrentBucket | undefined): ResourcePlan {
  const plan = planBucketLocation(desired, current);
  const key = current !== undefined ? kmsKeyFindings(desired, current) : [];
  return key.length > 0 ? { ...plan, findings: [...(plan.findings ?? []), ...key] } : plan;
}

function planBucketLocation(desired: DesiredBucket, current: CurrentBucket | undefined): ResourcePlan {
  const base = { kind: 'bucket' as const, name: desired.name, arn: desired.arn, desired, owned: false, notes: [] };
  const none = { ...base, action: 'none' as const, steps: [], security: [] };
  if (current === undefined) {
    return {
      ...none,
      findings: [
        finding(
          'bucket-missing',
          `Flyte cannot work: the bucket ${desired.name} does not exist (looked up from ${desired.region})`,
          `check the name (bucket: in the config, or --bucket); to make it: aws s3api create-bucket --bucket ${desired.name} --region ${desired.region}` +
            (desired.region === 'us-east-1'
              ? ''
              : ` --create-bucket-configuration LocationConstraint=${desired.region}`),
        ),
      ],
    };
  }
  if (current.unreadable !== undefined || current.region === undefined) {
    return {
      ...none,
      findings: [
        finding(
          'unchecked',
          `the bucket ${desired.name} was not checked: ${current.unreadable ?? 'its region is not known'}`,
          'allow s3:GetBucketLocation on it (flyte-aws-setup permissions prints the policy), or check by hand that it ' +
            `is this account's and in ${desired.region}`,
        ),
      ],
    };
  }
  if (current.region !== desired.region) {
    return {
      ...none,
      findings: [
        finding(
          'bucket-other-region',
          `Flyte cannot work as configured: the bucket ${desired.name} is in ${current.region}, the config's region is ${desired.region}`,
          `use a bucket in ${desired.region} (bucket: in the config, or --bucket), or set the storage region of the ` +
            `Helm values flyte-aws-setup writes to ${current.region}`,
        ),
      ],
    };
  }
  return none;
}

/**
 * A pod identity association: made when missing; pointed at the config's role when it names another. Whose it is
 * decides as for roles and policies: this setup's is kept in line (one the tool made before setups is taken and
 * tagged with the setup); one made by hand is pointed at the config's role, and tagged with the setup when it is
 * (the config says which role those pods get); another setup's is never changed. Its other settings are left alone.
 */
export function planPodIdentityAssociation(
  desired: DesiredPodIdentityAssociation,
  current: CurrentPodIdentityAssociation | undefined,
): ResourcePlan {
  if (desired.gone) return planGoneAssociation(desired, current);
  const base = { kind: 'pod-identity-association' as const, name: desired.name, desired };
  const region = desired.region !== undefined ? { region: desired.region } : {};
  if (current === undefined) {
    return {
      ...base,
      arn: desired.arn,
      action: 'create',
      owned: true,
      steps: [
        {
          op: 'CreatePodIdentityAssociation',
          clusterName: desired.cluster,
          ...region,
          namespace: desired.namespace,
          serviceAccount: desired.serviceAccount,
          roleArn: desired.roleArn,
          tags: desired.tags,
        },
      ],
      notes: [],
      security: [],
    };
  }
  const setup = setupOfDesired(desired.tags);
  const own = ownership(current.tags, setup);
  if (own === 'other') {
    return otherSetupPlan(
      { ...base, arn: current.arn },
      current,
      setup,
      `A service account has one association in a cluster: leave ${desired.namespace}/${desired.serviceAccount} ` +
        'out of this config (its namespaces, projects or service accounts)',
    );
  }
  const owned = own !== 'before';
  const middle: Step[] = [];
  const security: string[] = [];
  if (current.roleArn !== desired.roleArn) {
    middle.push({
      op: 'UpdatePodIdentityAssociation',
      clusterName: desired.cluster,
      ...region,
      associationId: current.associationId,
      roleArn: desired.roleArn,
      before: current.roleArn,
    });
    security.push(
      `hands the pods of ${desired.name} the role ${nameOfArn(desired.roleArn)} in place of ${nameOfArn(current.roleArn)}`,
    );
  }
  // The config's tags and the setup's on the tool's own; the setup's on one made by hand that this run changes,
  // before the change (so that another setup then leaves it alone).
  const tags: Tags = owned ? { ...missingTags(desired.tags, current.tags) } : {};
  if (!owned && middle.length > 0 && setupOf(current.tags) !== setup) tags[SETUP_KEY] = setup;
  const steps: Step[] = [
    ...(Object.keys(tags).length > 0
      ? [
          {
            op: 'TagResource' as const,
            clusterName: desired.cluster,
            ...region,
            arn: current.arn,
            name: desired.name,
            tags,
          },
        ]
      : []),
    ...middle,
  ];
  const notes: Note[] = [];
  if (own === 'legacy') notes.push(legacyNote(setup));
  if (!owned) notes.push(NOT_OWNED_ASSOCIATION_NOTE);
  return {
    ...base,
    arn: current.arn,
    action: steps.length > 0 ? 'update' : 'none',
    owned,
    steps,
    notes,
    security,
  };
}

/** The step that deletes a pod identity association of `cluster` (in `region` when it is not the run's). */
export function deleteAssociationStep(
  cluster: string,
  region: string | undefined,
  associationId: string,
  name: string,
): Step {
  return {
    op: 'DeletePodIdentityAssociation',
    clusterName: cluster,
    ...(region !== undefined ? { region } : {}),
    associationId,
    name,
  };
}

/**
 * An association the config no longer wants (`gone`: its namespace and service account are no longer named, or
 * `identity: irsa`). This setup's (managed-by and its setup tag) is deleted: a narrowing change, as a policy the
 * tool attached that the config no longer names is detached. Anyone else's is never touched: reported (it hands a
 * role of the config to pods the config does not name), with the command that deletes it.
 */
export function planGoneAssociation(
  desired: DesiredPodIdentityAssociation,
  current: CurrentPodIdentityAssociation | undefined,
): ResourcePlan {
  const base = { kind: 'pod-identity-association' as const, name: desired.name, desired, security: [] };
  if (current === undefined) return { ...base, arn: desired.arn, action: 'none', owned: false, steps: [], notes: [] };
  const setup = setupOfDesired(desired.tags);
  const own = ownership(current.tags, setup);
  const role = nameOfArn(current.roleArn);
  const pods = `${current.namespace}/${current.serviceAccount}`;
  if (own !== 'mine') {
    const whose =
      own === 'other'
        ? `it belongs to the setup "${setupOf(current.tags)}" (its tag ${SETUP_KEY})`
        : own === 'legacy'
          ? 'it carries no setup tag (made by an earlier version of flyte-aws-setup, for a config that may not be this one)'
          : 'flyte-aws-setup did not make it';
    return {
      ...base,
      arn: current.arn,
      action: 'none',
      owned: own !== 'before' && isOwned(current.tags),
      steps: [],
      notes: [],
      findings: [
        finding(
          'association-not-wanted',
          `hands the pods of ${pods} the role ${role}, but the config does not name ${pods}; ${whose}, so it is left alone`,
          `if those pods should not have the role: aws eks delete-pod-identity-association --cluster-name ${desired.cluster} ` +
            `--association-id ${current.associationId}${desired.region !== undefined ? ` --region ${desired.region}` : ''}`,
        ),
      ],
      current,
    };
  }
  return {
    ...base,
    arn: current.arn,
    action: 'update',
    owned: true,
    steps: [deleteAssociationStep(desired.cluster, desired.region, current.associationId, desired.name)],
    notes: [
      {
        level: 'info',
        message:
          `deleted: flyte-aws-setup made it for this setup, and the config no longer gives the pods of ${pods} the ` +
          `role ${role}`,
      },
    ],
    current,
  };
}

/** An add-on the cluster needs: installed when missing (with its default version), reported when not healthy. */
export function planAddon(desired: DesiredAddon, current: CurrentAddon | undefined): ResourcePlan {
  const base = { kind: 'addon' as const, name: desired.name, desired, owned: false, security: [] };
  if (current === undefined) {
    return {
      ...base,
      arn: desired.arn,
      action: 'create',
      steps: [
        {
          op: 'CreateAddon',
          clusterName: desired.cluster,
          ...(desired.region !== undefined ? { region: desired.region } : {}),
          addonName: desired.name,
          tags: desired.tags,
        },
      ],
      notes: [
        {
          level: 'warn',
          message:
            `the cluster ${desired.cluster} lacks the ${desired.name} add-on, without which no pod gets credentials ` +
            'from a pod identity association: this run installs it (its default version)',
        },
      ],
    };
  }
  const healthy = current.status === 'ACTIVE' || current.status === 'CREATING' || current.status === 'UPDATING';
  return {
    ...base,
    arn: current.arn,
    action: 'none',
    steps: [],
    notes: healthy
      ? []
      : [
          {
            level: 'warn',
            message:
              `the ${desired.name} add-on is ${current.status}: pods may not get their credentials; see ` +
              `aws eks describe-addon --cluster-name ${desired.cluster} --addon-name ${desired.name}`,
          },
        ],
  };
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
    case 'bucket':
      return planBucket(desired, current as CurrentBucket | undefined);
    case 'pod-identity-association':
      return planPodIdentityAssociation(desired, current as CurrentPodIdentityAssociation | undefined);
    case 'addon':
      return planAddon(desired, current as CurrentAddon | undefined);
  }
}

/** A key that names a resource across desired and current state. */
export function resourceKey(r: DesiredResource): string {
  return r.kind === 'role' || r.kind === 'attachment' ? `${r.kind}:${r.name}` : `${r.kind}:${r.arn}`;
}
