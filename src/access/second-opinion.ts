/**
 * A second opinion on the access check, from IAM itself: `verify` asks iam:SimulatePrincipalPolicy, for each Flyte
 * role that exists, the requests the check makes of it (what Flyte needs, its grants, what goes beyond), and
 * compares IAM's decisions with the evaluator's on the same documents: the role's managed and inline policies and
 * its boundary (the simulator does not read a bucket's policy by itself, so the evaluator is asked without it too).
 * One call per role and set of condition values (IAM evaluates each action on each resource of a call; only the
 * pairs the check asks are kept), a few at a time. Where the caller may not call it, or the endpoint does not
 * implement it (an emulator), the second opinion is not made, and says so: never agreement.
 */
import { failedCall, isCode, NOT_IMPLEMENTED } from '../aws/errors.js';
import type { AwsGateway, SimulationContext, SimulationResult } from '../aws/gateway.js';
import type { Config } from '../config/schema.js';
import type { Finding } from '../audit/finding.js';
import type { Facts } from '../model.js';
import { severityOf } from '../policy/findings.js';
import { evaluateAction, loadEvaluator, sessionContext } from '../policy/simulate.js';
import { DEFAULT_CONCURRENCY, mapLimit } from '../util/concurrency.js';
import { grantCapabilities, neededCapabilities, overGrantProbes, type Capability } from './capabilities.js';
import type { FlyteIdentity } from './identities.js';
import type { Disagreement, SecondOpinion, SecondOpinionRole } from './matrix.js';
import { rolePolicies, type RoleRead } from './read.js';

/** Condition keys IAM's simulator takes as booleans (the others are given as strings, as ARNs are). */
const BOOLEAN_KEYS = new Set(['aws:securetransport']);

/** Why the simulation of a role could not be made. */
export function whyNotMade(err: unknown): string {
  if (isCode(err, 'AccessDenied', 'AccessDeniedException'))
    return 'iam:SimulatePrincipalPolicy is not allowed to the caller';
  if (isCode(err, ...NOT_IMPLEMENTED)) return 'this endpoint does not implement iam:SimulatePrincipalPolicy';
  return failedCall('iam:SimulatePrincipalPolicy', err);
}

/** A promise's outcome as a value: it never rejects. */
export function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function contextEntries(context: Record<string, string | string[]>): SimulationContext[] {
  return Object.entries(context).map(([key, v]) => ({
    key,
    values: Array.isArray(v) ? v : [v],
    ...(BOOLEAN_KEYS.has(key.toLowerCase()) ? { type: 'boolean' as const } : {}),
  }));
}

interface Asked {
  capability: Capability;
  context: Record<string, string>;
}

async function oneRole(
  gateway: AwsGateway,
  roleName: string,
  read: RoleRead | undefined,
  capabilities: Capability[],
  facts: Facts,
  identities: string[],
): Promise<{ role: SecondOpinionRole; disagreements: Disagreement[] }> {
  if (read === undefined || read.kind !== 'found') {
    return { role: { roleName, state: 'not-made', reason: 'the role does not exist', compared: 0 }, disagreements: [] };
  }
  const documents = read.documents;
  if (documents.unreadable.length > 0) {
    const reason = `not all its policies were read (${documents.unreadable.join('; ')})`;
    return { role: { roleName, state: 'not-made', reason, compared: 0 }, disagreements: [] };
  }
  const policies = rolePolicies(documents, facts.accountId);
  const session = sessionContext(policies, facts.region);
  // The requests by their condition values: one simulation each, sent before the evaluator is asked.
  const groups = new Map<string, Asked[]>();
  for (const c of capabilities) {
    const context = { ...session, ...c.context };
    const key = JSON.stringify(context);
    groups.set(key, [...(groups.get(key) ?? []), { capability: c, context }]);
  }
  const asked = [...groups.values()];
  // Settled at once into an answer or its error, so that a refusal arriving while the evaluator runs is not an
  // unhandled rejection.
  const simulations = settle(
    Promise.all(
      asked.map((g) =>
        gateway.simulatePrincipalPolicy({
          principalArn: documents.arn,
          actions: [...new Set(g.map((a) => a.capability.action))],
          resourceArns: [...new Set(g.map((a) => a.capability.resource))],
          context: contextEntries(g[0]!.context),
        }),
      ),
    ),
  );
  // Meanwhile the evaluator, on the same documents. A capability's own resource policy is kept only where it
  // stands for the key policy's delegation to IAM (the bucket's policy is not among them).
  const decided = new Map<Asked, boolean>();
  for (const a of asked.flat()) {
    const c = a.capability;
    const d = await evaluateAction(policies, c.action, c.resource, a.context, c.resourcePolicy);
    if (d.reason !== 'invalid') decided.set(a, d.allowed);
  }
  const settled = await simulations;
  if ('error' in settled) {
    return {
      role: { roleName, state: 'not-made', reason: whyNotMade(settled.error), compared: 0 },
      disagreements: [],
    };
  }
  const answers: SimulationResult[][] = settled.value;
  let compared = 0;
  const disagreements: Disagreement[] = [];
  asked.forEach((g, i) => {
    for (const a of g) {
      const c = a.capability;
      const allowed = decided.get(a);
      const r = answers[i]!.find((x) => x.action === c.action && x.resource === c.resource);
      if (allowed === undefined || r === undefined) continue;
      compared++;
      if ((r.decision === 'allowed') === allowed) continue;
      disagreements.push({
        roleName,
        roleArn: documents.arn,
        identities,
        capability: c.id,
        action: c.action,
        resource: c.resource,
        evaluator: allowed ? 'allowed' : 'denied',
        iam: r.decision,
        missingContext: r.missingContext,
      });
    }
  });
  return { role: { roleName, state: 'made', compared }, disagreements };
}

/**
 * Ask IAM's simulator about each Flyte role that exists, and compare. Never throws for AWS errors. Independent of
 * the access matrix, so that its calls go while the matrix is evaluated.
 */
export async function secondOpinion(
  gateway: AwsGateway,
  input: {
    config: Config;
    facts: Facts;
    identities: readonly Pick<FlyteIdentity, 'id' | 'roleName'>[];
    roles: ReadonlyMap<string, RoleRead>;
    concurrency?: number;
  },
): Promise<SecondOpinion> {
  const { config, facts } = input;
  if (!(await loadEvaluator())) {
    return {
      state: 'not-made',
      reason: 'the evaluator is not installed: there is no first opinion to compare',
      roles: [],
      disagreements: [],
    };
  }
  const byRole = new Map<string, string[]>();
  for (const i of input.identities) {
    if (input.roles.get(i.roleName)?.kind !== 'found') continue;
    byRole.set(i.roleName, [...(byRole.get(i.roleName) ?? []), i.id]);
  }
  if (byRole.size === 0) return { state: 'not-made', reason: 'no Flyte role exists', roles: [], disagreements: [] };
  // Without the bucket policy: the simulator evaluates the role's own policies only.
  const common = [...neededCapabilities(config, facts), ...overGrantProbes(config, facts)];
  const done = await mapLimit([...byRole], input.concurrency ?? DEFAULT_CONCURRENCY, ([roleName, ids]) =>
    oneRole(
      gateway,
      roleName,
      input.roles.get(roleName),
      [...common, ...grantCapabilities(config, facts, roleName)],
      facts,
      ids,
    ),
  );
  const roles = done.map((d) => d.role);
  const made = roles.filter((r) => r.state === 'made');
  const reasons = [...new Set(roles.flatMap((r) => (r.state === 'not-made' && r.reason ? [r.reason] : [])))];
  return {
    state: made.length === roles.length ? 'made' : made.length === 0 ? 'not-made' : 'partial',
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    roles,
    disagreements: done.flatMap((d) => d.disagreements),
  };
}

/** The second opinion turned off (`verify --no-second-opinion`). */
export const SECOND_OPINION_OFF: SecondOpinion = {
  state: 'off',
  reason: 'turned off (--no-second-opinion)',
  roles: [],
  disagreements: [],
};

/** A warning per request IAM and the evaluator decide otherwise, naming the identities, the action, both answers. */
export function secondOpinionFindings(opinion: SecondOpinion, sectionOf: (roleName: string) => Finding['section']) {
  return opinion.disagreements.map((d): Finding => ({
    code: 'second-opinion-differs',
    severity: severityOf('second-opinion-differs'),
    section: sectionOf(d.roleName),
    resource: `role ${d.roleName}`,
    problem:
      `for ${d.identities.join(', ')}, ${d.action} on ${d.resource}: the evaluator says ${d.evaluator}, ` +
      `IAM's simulator (iam:SimulatePrincipalPolicy) says ${d.iam}` +
      (d.missingContext.length > 0 ? ` (it lacked values of ${d.missingContext.join(', ')})` : ''),
    fix:
      `compare with aws iam simulate-principal-policy --policy-source-arn ${d.roleArn} --action-names ` +
      `${d.action} --resource-arns ${d.resource}; IAM's answer is the one AWS applies (the matrix may be wrong ` +
      'for this request)',
  }));
}
