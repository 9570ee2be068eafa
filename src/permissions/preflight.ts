/**
 * Before any change: ask IAM (iam:SimulatePrincipalPolicy) whether the caller may make each change of the plan,
 * so a missing permission is found before the first call instead of half-way. The caller's STS identity is turned
 * into the user or role whose policies IAM evaluates. When the simulation itself is denied, unsupported or fails,
 * the outcome says why and the run goes on (the real calls still report what is missing).
 */
import type { AwsGateway, RoleListing, SimulationContext, SimulationResult } from '../aws/gateway.js';
import { failedCall, isCode, NOT_IMPLEMENTED } from '../aws/errors.js';
import type { Plan, ResourcePlan, Step } from '../model.js';
import { eksClusterArn } from '../policy/partition.js';
import { DEFAULT_CONCURRENCY, mapLimit } from '../util/concurrency.js';
import { AWS_OPERATIONS } from './operations.js';

/** One action on one resource that a step needs, with the condition values the request will carry. */
export interface PermissionCheck {
  action: string;
  resource: string;
  context: SimulationContext[];
}

/** The condition values a step's request carries that operator policies commonly limit. */
function stepContext(step: Step): SimulationContext[] {
  switch (step.op) {
    case 'AttachRolePolicy':
      return [{ key: 'iam:PolicyARN', values: [step.policyArn] }];
    case 'CreateRole':
      return step.boundary !== undefined ? [{ key: 'iam:PermissionsBoundary', values: [step.boundary] }] : [];
    case 'PutRolePermissionsBoundary':
      return [{ key: 'iam:PermissionsBoundary', values: [step.boundary] }];
    default:
      return [];
  }
}

/**
 * The ARN an action of a step is checked on: the resource's, except where the action is on something else (a new
 * association or add-on is made on the cluster; iam:PassRole is on the role handed to EKS).
 */
function actionResource(plan: Plan, step: Step, action: string, r: Pick<ResourcePlan, 'arn'>): string {
  const { partition, region, accountId } = plan.facts;
  switch (step.op) {
    case 'CreatePodIdentityAssociation':
    case 'UpdatePodIdentityAssociation':
      if (action === 'iam:PassRole') return step.roleArn;
      return step.op === 'CreatePodIdentityAssociation'
        ? eksClusterArn(partition, region, accountId, step.clusterName)
        : r.arn;
    case 'CreateAddon':
      return eksClusterArn(partition, region, accountId, step.clusterName);
    default:
      return r.arn;
  }
}

/** Every action the plan's steps need, on the ARN of the resource each step changes. Pure. */
export function planChecks(plan: Plan): PermissionCheck[] {
  const out: PermissionCheck[] = [];
  const seen = new Set<string>();
  const resources: Pick<ResourcePlan, 'arn' | 'steps'>[] = [
    ...plan.sections.flatMap((s) => s.resources),
    ...(plan.leftovers ?? []),
  ];
  for (const r of resources) {
    for (const step of r.steps) {
      // A step's op is the SDK operation it calls; the names are unique across the services used.
      const op = AWS_OPERATIONS.find((o) => o.operation === step.op);
      if (op === undefined) throw new Error(`no permissions entry for ${step.op}`);
      const context = stepContext(step);
      for (const action of op.actions) {
        const resource = actionResource(plan, step, action, r);
        const key = JSON.stringify([action, resource, context]);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ action, resource, context });
      }
    }
  }
  return out;
}

export type Principal =
  | { kind: 'user'; arn: string }
  | { kind: 'role'; name: string; arn: string }
  | { kind: 'root' }
  | { kind: 'other'; arn: string };

/**
 * The IAM identity whose policies apply to a caller ARN from STS. A role session
 * (`arn:aws:sts::111122223333:assumed-role/Name/session`) is evaluated as its role; its path is not in the
 * session ARN, so the ARN here is at `/` until the role is read.
 */
export function principalOf(callerArn: string): Principal {
  const m = /^arn:([\w-]+):(iam|sts)::(\d{12}):(.+)$/.exec(callerArn);
  if (m === null) return { kind: 'other', arn: callerArn };
  const [, partition, , account, resource] = m as unknown as [string, string, string, string, string];
  if (resource === 'root') return { kind: 'root' };
  if (resource.startsWith('assumed-role/')) {
    const name = resource.split('/')[1] ?? '';
    return { kind: 'role', name, arn: `arn:${partition}:iam::${account}:role/${name}` };
  }
  if (resource.startsWith('user/')) return { kind: 'user', arn: `arn:${partition}:iam::${account}:${resource}` };
  return { kind: 'other', arn: callerArn };
}

export interface Denial {
  action: string;
  resource: string;
  /** The condition values the check gave (e.g. which policy an attachment is of). */
  context: SimulationContext[];
  decision: string;
  /** Condition keys the caller's policies use that the check could not supply. */
  missingContext: string[];
}

export type PreflightOutcome =
  /** Every change was simulated: `denied` is what IAM refuses, `uncertain` what depends on more context. */
  | { status: 'checked'; principal: string; checks: number; denied: Denial[]; uncertain: Denial[] }
  | { status: 'not-checked'; reason: string };

/** The account's roles as ListRoles gave them (their ARNs, with the path a role session's ARN lacks). */
export type AccountRoles = readonly Pick<RoleListing, 'name' | 'arn'>[];

/** IAM's answer for one action on one resource, with the condition values it was given. */
type Answer = SimulationResult & { context: SimulationContext[] };

/**
 * What IAM answered before the plan was made (`askPermissionsAhead`), by action, resource and condition values; or
 * why it could not (then the preflight could not either: it is not asked again, as a failed preflight is not).
 */
export type PermissionsAhead = { caller: string | undefined } & (
  | { status: 'answered'; principal: string; answers: ReadonlyMap<string, Answer> }
  | { status: 'not-checked'; reason: string }
);

/**
 * Simulation calls asked at once: all of a setup's at the default bound (one round trip). The bound on requests in
 * flight (`--concurrency`) still holds them, and once one fails no more are started.
 */
const CONCURRENCY = DEFAULT_CONCURRENCY;

function whyNot(err: unknown, principal: string): string {
  if (isCode(err, 'AccessDenied', 'AccessDeniedException'))
    return `iam:SimulatePrincipalPolicy is not allowed for ${principal}`;
  if (isCode(err, 'NoSuchEntity')) return `IAM does not know ${principal}`;
  if (isCode(err, ...NOT_IMPLEMENTED)) return 'this endpoint does not support iam:SimulatePrincipalPolicy';
  return failedCall('iam:SimulatePrincipalPolicy', err);
}

function answerKey(action: string, resource: string, context: readonly SimulationContext[]): string {
  return JSON.stringify([action, resource, JSON.stringify(context)]);
}

/**
 * The ARN whose policies IAM evaluates for the caller, or why there is none. A role session's role is looked up in
 * `roles` (the account's roles, as ListRoles gave them) when given, else read.
 */
async function simulatedArn(
  gateway: AwsGateway,
  callerArn: string | undefined,
  roles?: AccountRoles,
): Promise<{ arn: string } | { reason: string }> {
  if (callerArn === undefined) return { reason: 'the caller is not known' };
  const principal = principalOf(callerArn);
  if (principal.kind === 'root') {
    return { reason: "running as the account's root user, whom IAM policies do not limit" };
  }
  if (principal.kind === 'other') return { reason: `IAM cannot simulate the policies of ${principal.arn}` };
  if (principal.kind === 'user') return { arn: principal.arn };
  // The session ARN has no path; the role's own ARN has. Without iam:GetRole on it, try the ARN at /.
  const listed = roles?.find((r) => r.name.toLowerCase() === principal.name.toLowerCase());
  if (listed !== undefined) return { arn: listed.arn };
  return { arn: (await gateway.roleArn(principal.name).catch(() => undefined)) ?? principal.arn };
}

/**
 * IAM's answers for `checks`, by `answerKey`. One simulation per set of condition values: IAM evaluates each of its
 * actions on each of its resources, and every pair it answers is kept (a later plan may need one the checks did not
 * name). So the calls are few (one, and one per attached policy) and go at once. Throws what the first failed call
 * threw.
 */
async function simulate(
  gateway: AwsGateway,
  principalArn: string,
  checks: readonly PermissionCheck[],
): Promise<Map<string, Answer>> {
  const groups = new Map<string, { context: SimulationContext[]; actions: Set<string>; resources: Set<string> }>();
  for (const c of checks) {
    const key = JSON.stringify(c.context);
    const g = groups.get(key) ?? { context: c.context, actions: new Set(), resources: new Set() };
    g.actions.add(c.action);
    g.resources.add(c.resource);
    groups.set(key, g);
  }
  const requests = [...groups.values()].map((g) => ({
    principalArn,
    actions: [...g.actions],
    resourceArns: [...g.resources],
    context: g.context,
  }));
  const ask = async (r: (typeof requests)[number]): Promise<Answer[]> =>
    (await gateway.simulatePrincipalPolicy(r)).map((a) => ({ ...a, context: r.context }));
  const answers = (await mapLimit(requests, CONCURRENCY, ask)).flat();
  return new Map(answers.map((a) => [answerKey(a.action, a.resource, a.context), a]));
}

/**
 * Ask IAM about the changes of `plan` before the plan the run applies is made: for a first setup, while the
 * plan's reads are in flight, with the plan such a setup makes (`firstSetupPlan`). `checkPermissions` takes the
 * answers for the checks they cover and asks only the rest. `roles`: the account's roles as listed, where a role
 * session's role is found without reading it. Never throws for AWS errors.
 */
export async function askPermissionsAhead(
  plan: Plan,
  gateway: AwsGateway,
  roles?: AccountRoles,
): Promise<PermissionsAhead> {
  const caller = plan.facts.callerArn;
  const who = await simulatedArn(gateway, caller, roles);
  if ('reason' in who) return { caller, status: 'not-checked', reason: who.reason };
  try {
    const answers = await simulate(gateway, who.arn, planChecks(plan));
    return { caller, status: 'answered', principal: who.arn, answers };
  } catch (err) {
    return { caller, status: 'not-checked', reason: whyNot(err, who.arn) };
  }
}

/**
 * Check the plan's changes against the caller's policies. Never throws for AWS errors: it says why it could not.
 * With `ahead` (asked before the plan was made), only what its answers do not cover is asked; where it could not
 * ask, that is the outcome. Answers asked for another caller are not taken. `roles`: the account's roles as listed,
 * where a role session's role is found without reading it (the check is then one round trip).
 */
export async function checkPermissions(
  plan: Plan,
  gateway: AwsGateway,
  callerArn = plan.facts.callerArn,
  ahead?: Promise<PermissionsAhead>,
  roles?: AccountRoles,
): Promise<PreflightOutcome> {
  const checks = planChecks(plan);
  const asked = await ahead;
  const before = asked?.caller === callerArn ? asked : undefined;
  if (before?.status === 'not-checked') return { status: 'not-checked', reason: before.reason };
  let arn: string;
  let known: ReadonlyMap<string, Answer> = new Map();
  if (before?.status === 'answered') {
    arn = before.principal;
    known = before.answers;
  } else {
    const who = await simulatedArn(gateway, callerArn, roles);
    if ('reason' in who) return { status: 'not-checked', reason: who.reason };
    arn = who.arn;
  }
  const key = (c: PermissionCheck) => answerKey(c.action, c.resource, c.context);
  const rest = checks.filter((c) => !known.has(key(c)));
  let now: ReadonlyMap<string, Answer> = new Map();
  if (rest.length > 0) {
    try {
      now = await simulate(gateway, arn, rest);
    } catch (err) {
      return { status: 'not-checked', reason: whyNot(err, arn) };
    }
  }
  const results = checks.flatMap((c) => known.get(key(c)) ?? now.get(key(c)) ?? []);
  const refused = results
    .filter((r) => r.decision !== 'allowed')
    .map((r) => ({
      action: r.action,
      resource: r.resource,
      context: r.context,
      decision: r.decision,
      missingContext: r.missingContext,
    }));
  return {
    status: 'checked',
    principal: arn,
    checks: checks.length,
    // An implicit deny that hinges on condition keys the check could not give is not a verdict.
    denied: refused.filter((r) => r.decision === 'explicitDeny' || r.missingContext.length === 0),
    uncertain: refused.filter((r) => r.decision !== 'explicitDeny' && r.missingContext.length > 0),
  };
}
