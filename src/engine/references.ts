/**
 * What the config names that must exist already (the extra policies, the permissions boundary, Union's role and its
 * userflyterole policy), looked up while planning, before anything is written, each distinct one once (a policy the
 * plan reads attached to a role of the config is proven by that: `attachingRoles`); and a cluster that is not found,
 * against the region's other clusters. A missing reference is bad input: a ConfigError naming the key, with a
 * did-you-mean among AWS managed policies. So is a cluster name that is a likely typo of one the region has.
 */
import type { AwsGateway, ManagedPolicySummary } from '../aws/gateway.js';
import { didYouMean } from '../config/rules.js';
import type { Config } from '../config/schema.js';
import type { Problem } from '../errors.js';
import type { DesiredResource, Facts } from '../model.js';
import { isAwsManagedPolicy, nameOfArn } from '../policy/partition.js';
import { sectionEnabled } from '../sections/derived.js';
import { SECTIONS } from '../sections/index.js';
import { customPolicyArn, type Reference } from '../sections/section.js';

/**
 * Every reference of the config's enabled sections, and its permissions boundary, except what this config makes
 * itself (its custom policy). Pure.
 */
export function configReferences(config: Config, facts: Facts): Reference[] {
  const refs: Reference[] = [];
  if (config.permissionsBoundary !== undefined) {
    refs.push({ kind: 'policy', arn: config.permissionsBoundary, path: ['permissionsBoundary'] });
  }
  for (const def of SECTIONS) {
    if (sectionEnabled(config, def)) refs.push(...(def.references?.({ config, facts }) ?? []));
  }
  const own = customPolicyArn({ config, facts });
  return refs.filter((r) => r.kind !== 'policy' || r.arn !== own);
}

export function referenceKey(r: Reference): string {
  return r.kind === 'policy' ? `policy:${r.arn}` : `role:${r.name}`;
}

/** Whether a reference exists, by key; undefined: it could not be read (the look-up is skipped, not failed). */
export type ReferenceAnswers = Map<string, boolean | undefined>;

/** Each distinct reference looked up once, all at once; those `known` says the caller reads itself are left out. */
export async function lookUpReferences(
  gateway: AwsGateway,
  refs: readonly Reference[],
  known: (key: string) => boolean = () => false,
): Promise<ReferenceAnswers> {
  const distinct = new Map<string, Reference>();
  for (const r of refs) if (!known(referenceKey(r))) distinct.set(referenceKey(r), r);
  const answers = await Promise.all(
    [...distinct].map(
      async ([key, r]) =>
        [key, r.kind === 'policy' ? await gateway.policyExists(r.arn) : await gateway.roleExists(r.name)] as const,
    ),
  );
  return new Map(answers);
}

/**
 * The policies the config names that roles of `resources` attach, by key, with those roles: once one of them is read
 * with the policy attached, the policy exists (IAM refuses to delete a policy that is still attached), and it needs
 * no look-up of its own. Pure.
 */
export function attachingRoles(
  refs: readonly Reference[],
  resources: readonly DesiredResource[],
): Map<string, { arn: string; roles: string[] }> {
  const out = new Map<string, { arn: string; roles: string[] }>();
  for (const ref of refs) {
    if (ref.kind !== 'policy' || out.has(referenceKey(ref))) continue;
    const roles = resources.flatMap((r) => (r.kind === 'role' && r.managedPolicies.includes(ref.arn) ? [r.name] : []));
    if (roles.length > 0) out.set(referenceKey(ref), { arn: ref.arn, roles });
  }
  return out;
}

/**
 * One problem per config key that names what does not exist. The AWS managed policies, for a did-you-mean, are
 * asked for only when a policy is missing.
 */
export async function referenceProblems(
  refs: readonly Reference[],
  answers: ReferenceAnswers,
  facts: Pick<Facts, 'accountId'>,
  awsPolicies: () => Promise<ManagedPolicySummary[]>,
): Promise<Problem[]> {
  const missing = refs.filter((r) => answers.get(referenceKey(r)) === false);
  if (missing.length === 0) return [];
  const candidates = missing.some((r) => r.kind === 'policy') ? await awsPolicies().catch(() => []) : [];
  return missing.map((r) => ({ path: r.path, message: missingReference(r, facts.accountId, candidates) }));
}

/** What to say of a reference that does not exist. Pure. */
export function missingReference(
  r: Reference,
  accountId: string,
  awsPolicies: readonly ManagedPolicySummary[],
): string {
  const then = r.missing !== undefined ? `; ${r.missing}` : '';
  if (r.kind === 'role') return `the role ${r.name} does not exist in account ${accountId}${then}`;
  const name = nameOfArn(r.arn);
  if (isAwsManagedPolicy(r.arn)) {
    const guess = didYouMean(
      name,
      awsPolicies.map((p) => p.name),
    );
    const arn = awsPolicies.find((p) => p.name === guess)?.arn;
    return `the AWS managed policy ${r.arn} does not exist${arn !== undefined && arn !== r.arn ? `: did you mean ${arn}?` : ''}${then}`;
  }
  // An AWS managed policy's name under the account's ARN: a common slip.
  const aws = awsPolicies.find((p) => p.name.toLowerCase() === name.toLowerCase());
  return (
    `the policy ${r.arn} does not exist` +
    (aws !== undefined ? `: ${aws.name} is an AWS managed policy (${aws.arn})` : '') +
    then
  );
}

/** At most this many of the region's clusters are named. */
const NAMED_CLUSTERS = 5;

function clusterList(names: readonly string[]): string {
  const shown = names.slice(0, NAMED_CLUSTERS).join(', ');
  return names.length > NAMED_CLUSTERS ? `${shown} and ${names.length - NAMED_CLUSTERS} more` : shown;
}

/**
 * A cluster that is not found, against the clusters the region has (undefined: they could not be listed). A name
 * close to one of them is taken for a typo: a problem, so that nobody creates a cluster by a mistyped name. With
 * other clusters but none close, what the plan says beside waiting for it; with none, nothing (it is not created
 * yet). Pure.
 */
export function clusterNotFound(
  name: string,
  region: string,
  others: readonly string[] | undefined,
): { problem?: Problem; said?: string } {
  const names = (others ?? []).filter((n) => n !== name);
  if (names.length === 0) return {};
  const has = `no EKS cluster ${name} in ${region}; the region has ${clusterList(names)}`;
  const guess = didYouMean(name, names);
  if (guess !== undefined) {
    return {
      problem: { path: ['cluster'], message: `${has}: did you mean ${guess}? (or is it in another region? --region)` },
    };
  }
  return { said: `${has} (or is ${name} in another region? --region)` };
}
