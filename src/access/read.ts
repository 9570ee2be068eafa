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
import { nameOfArn } from '../policy/partition.js';
import { mapLimit } from '../util/concurrency.js';

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
function planPolicies(plan: Plan): Map<string, PolicyDocument> {
  const found = new Map<string, PolicyDocument>();
  for (const s of plan.sections) {
    for (const r of s.resources) if (r.current?.kind === 'policy') found.set(r.arn, r.current.document);
  }
  return found;
}

type PolicyAnswer = { document: PolicyDocument } | { unreadable: string } | undefined;

async function readManaged(gateway: AwsGateway, arn: string): Promise<PolicyAnswer> {
  try {
    const p = await gateway.readPolicy(arn, () => false);
    return p === undefined ? undefined : { document: p.document };
  } catch (err) {
    if (isCode(err, ...REFUSED))
      return { unreadable: `the policy ${arn} (iam:GetPolicy or iam:GetPolicyVersion denied)` };
    throw err;
  }
}

async function readInline(
  gateway: AwsGateway,
  role: CurrentRole,
): Promise<{ documents: Record<string, PolicyDocument>; unreadable?: string }> {
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
  concurrency = 4,
): Promise<Map<string, RoleRead>> {
  const roles = planRoles(plan);
  const known = planPolicies(plan);
  const wanted = [...new Set(roleNames)];
  const present = wanted.flatMap((n) => {
    const r = roles.get(n);
    return r !== undefined ? [r] : [];
  });
  const arns = [...new Set(present.flatMap((r) => [...r.attached, ...(r.boundary ? [r.boundary] : [])]))].filter(
    (a) => !known.has(a),
  );
  const [answers, inline] = await Promise.all([
    mapLimit(arns, concurrency, (arn) => readManaged(gateway, arn)),
    mapLimit(present, concurrency, (r) => readInline(gateway, r)),
  ]);
  const policies = new Map<string, PolicyAnswer>(arns.map((a, i) => [a, answers[i]]));
  for (const [arn, document] of known) policies.set(arn, { document });

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
    const attached = role.attached.flatMap((arn) => managed(arn) ?? []);
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
