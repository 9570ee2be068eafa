/**
 * KMS key policies: whether one lets the account's IAM policies grant the use of its key, and the statement to add
 * when it does not. A KMS key is used only as its key policy allows: an IAM policy that grants kms:Decrypt on the
 * key does nothing unless the key policy names the account (its `root`) for that action. Pure.
 */
import type { PolicyDocument, PolicyStatement, StringOrList } from './document.js';
import type { Partition } from './partition.js';

function list(v: StringOrList | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** An IAM action pattern (`kms:*`, `kms:GenerateDataKey*`, `*`) matches an action; case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return re.test(action);
}

/** The principal names the account: `*`, the account's root, or its ID. */
function namesAccount(s: PolicyStatement, partition: Partition, accountId: string): boolean {
  if (s.Principal === '*') return true;
  if (s.Principal === undefined) return false;
  const root = `arn:${partition}:iam::${accountId}:root`;
  return list(s.Principal.AWS).some((p) => p === '*' || p === root || p === accountId);
}

/**
 * The actions of `needed` that no Allow statement of the key policy grants to the account (so IAM policies cannot
 * grant them). Conditions are not weighed: a statement that names the account counts even when one narrows it.
 */
export function actionsNotDelegated(
  doc: PolicyDocument,
  partition: Partition,
  accountId: string,
  needed: readonly string[],
): string[] {
  const allowing = doc.Statement.filter(
    (s) =>
      s.Effect === 'Allow' &&
      namesAccount(s, partition, accountId) &&
      (s.Resource === undefined || list(s.Resource).includes('*')),
  );
  return needed.filter((a) => !allowing.some((s) => list(s.Action).some((p) => actionMatches(p, a))));
}

/** The key policy statement that lets the account's IAM policies grant `actions` on the key. */
export function delegationStatement(partition: Partition, accountId: string, actions: readonly string[]) {
  return {
    Sid: 'AllowIamPoliciesOfTheAccount',
    Effect: 'Allow' as const,
    Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
    Action: [...actions],
    Resource: '*',
  };
}

/** The key's ID, account and region from its ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`). */
export function kmsKeyParts(arn: string): { region: string; account: string; id: string } | undefined {
  const m = /^arn:[a-z-]+:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(arn);
  return m === null ? undefined : { region: m[1]!, account: m[2]!, id: m[3]! };
}
