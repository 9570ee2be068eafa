/**
 * The documents the access check evaluates, as AWS holds them: each Flyte role's trust, the documents of its
 * attached managed policies, its inline policies and its permissions boundary. What the plan read already (the
 * role, its inline policies with verify, the custom policy) is taken from it; the rest is read once per policy
 * (GetPolicy and GetPolicyVersion), a few at a time. A document the caller may not read is noted, not guessed.
 */
import { isCode } from '../aws/errors.js';
import type { AwsGateway } from '../aws/gateway.js';
import type { CurrentRole, Plan } from '../model.js';
import type { PolicyDocument } from '../policy/document.js';
import type { RolePolicies } from '../policy/simulate.js';
import { nameOfArn } from '../policy/partition.js';
import { DEFAULT_CONCURRENCY, mapLimit } from '../util/concurrency.js';

/** A policy of a role, as the evaluator names it in its explanations. */
export interface RolePolicy {
  /** `NAME` for a managed policy, `inline NAME` for an inline one. */
  name: string;
  document: PolicyDocument;
  /** A managed policy's ARN. */
  arn?: string;
  inline?: string;
}

export interface RoleDocuments {
  name: string;
  arn: string;
  trust: PolicyDocument;
  policies: RolePolicy[];
  boundary?: RolePolicy;
  /** What could not be read (left out of `policies`): a decision made without it may be wrong. */
  unreadable: string[];
}

/** A role's documents as the evaluator takes them. */
export function rolePolicies(documents: RoleDocuments, accountId: string): RolePolicies {
  return {
    accountId,
    roleArn: documents.arn,
    policies: documents.policies,
    ...(documents.boundary !== undefined ? { boundary: documents.boundary } : {}),
  };
}

/** What the check found for a role: its documents, or that it does not exist. */
export type RoleRead = { kind: 'found'; documents: RoleDocuments } | { kind: 'missing' };

const REFUSED = ['AccessDenied', 'AccessDeniedException'];

/** The roles the plan found, by name (their attachments included, for Union's role). */
function planRoles(plan: Plan): Map<string, CurrentRole | undefined> {
  const found = new Map<string, CurrentRole | undefined>();
  for (const s of plan.sections) {
    for (const r of s.resources) {
      if (r.kind !== 'role' && r.kind !== 'attachment') continue;
      found.set(r.name, r.current?.kind === 'role' ? r.current : undefined);
    }
  }
  return found;
}

/** The policy documents the plan read (the custom policy), by ARN. */
function planPolicies(plan: Plan): Map<string, Promise<PolicyAnswer>> {
  const found = new Map<string, Promise<PolicyAnswer>>();
  for (const s of plan.sections) {
    for (const r of s.resources) {
      if (r.current?.kind === 'policy') found.set(r.arn, Promise.resolve({ document: r.current.document }));
    }
  }
  return found;
}

/** A managed policy's document: undefined when it does not exist. */
export type PolicyAnswer = { document: PolicyDocument } | { unreadable: string } | undefined;

/** A role's inline policies, and what of them could not be read. */
export interface InlineAnswer {
  documents: Record<string, PolicyDocument>;
  unreadable?: string;
}

/**
 * What is known (or being read) before the documents are put together: the roles by name (undefined: it does not
 * exist; a name not here is read), managed policies' documents by ARN, inline policies by role name (a role not here
 * gets them from its own read, or they are read).
 */
export interface KnownDocuments {
  roles: ReadonlyMap<string, CurrentRole | undefined>;
  policies: ReadonlyMap<string, Promise<PolicyAnswer>>;
  inline: ReadonlyMap<string, Promise<InlineAnswer>>;
}

export async function readManaged(gateway: AwsGateway, arn: string): Promise<PolicyAnswer> {
  try {
    const document = await gateway.policyDocument(arn);
    return document === undefined ? undefined : { document };
  } catch (err) {
    if (isCode(err, ...REFUSED))
      return { unreadable: `the policy ${arn} (iam:GetPolicy or iam:GetPolicyVersion denied)` };
    throw err;
  }
}

/** The inline policies of a role: those its read holds, or read now. */
export async function readInline(gateway: AwsGateway, role: CurrentRole): Promise<InlineAnswer> {
  if (role.inlineUnreadable !== undefined) {
    return { documents: {}, unreadable: `the inline policies of ${role.name} (${role.inlineUnreadable})` };
  }
  if (role.inline !== undefined) {
    const missing = role.inline.filter((n) => role.inlineDocuments?.[n] === undefined);
    return {
      documents: role.inlineDocuments ?? {},
      ...(missing.length > 0 ? { unreadable: `the inline policies ${missing.join(', ')} of ${role.name}` } : {}),
    };
  }
  try {
    const names = await gateway.inlinePolicyNames(role.name);
    const docs = await Promise.all(names.map((n) => gateway.inlinePolicyDocument(role.name, n)));
    const documents: Record<string, PolicyDocument> = {};
    names.forEach((n, i) => {
      if (docs[i] !== undefined) documents[n] = docs[i];
    });
    return { documents };
  } catch (err) {
    if (isCode(err, ...REFUSED)) {
      return {
        documents: {},
        unreadable: `the inline policies of ${role.name} (iam:ListRolePolicies or iam:GetRolePolicy denied)`,
      };
    }
    if (isCode(err, 'NoSuchEntity')) return { documents: {} };
    throw err;
  }
}

/** Each role's documents (or that it does not exist), for the roles named; `concurrency` reads at a time. */
export async function readRoleDocuments(
  gateway: AwsGateway,
  plan: Plan,
  roleNames: readonly string[],
  concurrency = DEFAULT_CONCURRENCY,
): Promise<Map<string, RoleRead>> {
  const roles = planRoles(plan);
  // A role of no planned section (one that waits for the cluster) is taken as missing, as the plan shows it.
  for (const n of roleNames) if (!roles.has(n)) roles.set(n, undefined);
  return roleDocuments(gateway, { roles, policies: planPolicies(plan), inline: new Map() }, roleNames, concurrency);
}

/**
 * Each role's documents (or that it does not exist), for the roles named, from what is known and what is read
 * now: the roles not known, the documents of their managed policies not known, their inline policies not known.
 */
export async function roleDocuments(
  gateway: AwsGateway,
  known: KnownDocuments,
  roleNames: readonly string[],
  concurrency = DEFAULT_CONCURRENCY,
): Promise<Map<string, RoleRead>> {
  const wanted = [...new Set(roleNames)];
  const unknown = wanted.filter((n) => !known.roles.has(n));
  const read = await mapLimit(unknown, concurrency, (n) => gateway.readRole(n));
  const roles = new Map(known.roles);
  unknown.forEach((n, i) => roles.set(n, read[i]));
  const present = wanted.flatMap((n) => {
    const r = roles.get(n);
    return r !== undefined ? [r] : [];
  });
  const arns = [...new Set(present.flatMap((r) => [...r.attached, ...(r.boundary ? [r.boundary] : [])]))].filter(
    (a) => !known.policies.has(a),
  );
  const [answers, inline] = await Promise.all([
    mapLimit(arns, concurrency, (arn) => readManaged(gateway, arn)),
    mapLimit(present, concurrency, (r) => known.inline.get(r.name) ?? readInline(gateway, r)),
  ]);
  const policies = new Map<string, PolicyAnswer>(arns.map((a, i) => [a, answers[i]]));
  const wantedKnown = new Set(present.flatMap((r) => [...r.attached, ...(r.boundary ? [r.boundary] : [])]));
  for (const [arn, answer] of known.policies) if (wantedKnown.has(arn)) policies.set(arn, await answer);

  const out = new Map<string, RoleRead>();
  for (const name of wanted) {
    const role = roles.get(name);
    if (role === undefined) {
      out.set(name, { kind: 'missing' });
      continue;
    }
    const unreadable: string[] = [];
    const managed = (arn: string): RolePolicy | undefined => {
      const answer = policies.get(arn);
      if (answer === undefined) {
        unreadable.push(`the policy ${arn} (it does not exist)`);
        return undefined;
      }
      if ('unreadable' in answer) {
        unreadable.push(answer.unreadable);
        return undefined;
      }
      return { name: nameOfArn(arn), document: answer.document, arn };
    };
    // In the order of their ARNs, not in the order IAM lists them (which varies with the order they were attached
    // in): the same documents give the same report, whatever the listing.
    const attached = [...role.attached].sort().flatMap((arn) => managed(arn) ?? []);
    const own = inline[present.indexOf(role)]!;
    if (own.unreadable !== undefined) unreadable.push(own.unreadable);
    const inlinePolicies = Object.entries(own.documents).map(([n, document]): RolePolicy => ({
      name: `inline ${n}`,
      document,
      inline: n,
    }));
    const boundary = role.boundary !== undefined ? managed(role.boundary) : undefined;
    out.set(name, {
      kind: 'found',
      documents: {
        name: role.name,
        arn: role.arn,
        trust: role.trust,
        policies: [...attached, ...inlinePolicies],
        ...(boundary !== undefined ? { boundary } : {}),
        unreadable,
      },
    });
  }
  return out;
}
