/**
 * Does a change let more in? Like `cdk diff`'s IAM broadening check, this decides which changes are
 * security-relevant and need an explicit yes. It is conservative: when in doubt, a change counts as broadening.
 */
import type { PolicyDocument, PolicyStatement, StringOrList } from './document.js';
import { hasWildcard, POD_IDENTITY_PRINCIPAL } from './document.js';

const POD_IDENTITY = `Service:${POD_IDENTITY_PRINCIPAL}`;

interface Condition {
  op: string;
  key: string;
  values: string[];
}

/** One (principal, action) pair a statement allows, under its conditions. */
interface Grant {
  principal: string;
  action: string;
  conditions: Condition[];
}

function list(value: StringOrList | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function principals(s: PolicyStatement): string[] {
  if (s.Principal === undefined) return ['(none)'];
  if (s.Principal === '*') return ['*'];
  return Object.entries(s.Principal).flatMap(([type, values]) => list(values).map((v) => `${type}:${v}`));
}

function conditions(s: PolicyStatement): Condition[] {
  return Object.entries(s.Condition ?? {}).flatMap(([op, block]) =>
    Object.entries(block).map(([key, values]) => ({ op, key: key.toLowerCase(), values: list(values).map(String) })),
  );
}

function grants(doc: PolicyDocument): { allow: Grant[]; denyText: string[] } {
  const allow: Grant[] = [];
  const denyText: string[] = [];
  for (const s of doc.Statement) {
    if (s.Effect === 'Deny') {
      denyText.push(JSON.stringify(s));
      continue;
    }
    const conds = conditions(s);
    for (const principal of principals(s)) {
      for (const action of list(s.Action).map((a) => a.toLowerCase())) {
        allow.push({ principal, action, conditions: conds });
      }
    }
  }
  return { allow, denyText };
}

/** The operators whose values this check weighs; any other is only as strict as an identical condition. */
const WEIGHED_OPERATORS = new Set(['StringEquals', 'StringLike']);

/**
 * Does a value of the `wide` condition let through every request a value of the `narrow` one does? StringLike
 * values are patterns (`patternCovers`); a StringEquals value is a literal, which as a pattern matches at least
 * itself. A value with a policy variable (`${...}`) is left to `patternCovers`' equality when the operators differ.
 */
function valueCovers(wideOp: string, wide: string, narrowOp: string, narrow: string): boolean {
  if (wideOp === 'StringLike') return patternCovers(wide, narrow);
  // StringEquals lets through `wide` only: so must `narrow`, a literal (or a pattern without a wildcard).
  if (wide !== narrow) return false;
  if (narrowOp === wideOp) return true;
  return !hasWildcard(narrow) && !narrow.includes('${');
}

/**
 * Is every request the `narrow` condition lets through also let through by `wide`? Both are on one key; a
 * condition's values are ORed, so each value of `narrow` must be covered by a value of `wide`. Sound, not complete.
 */
function conditionCovers(wide: Condition, narrow: Condition): boolean {
  if (wide.key !== narrow.key) return false;
  const same = (c: Condition) => [...new Set(c.values)].sort().join('\n');
  if (wide.op === narrow.op && same(wide) === same(narrow)) return true;
  // Operators this check does not understand (negations, IfExists, set operators, ...): only an identical
  // condition is known to be as strict. A condition with no value is left to IAM.
  if (!WEIGHED_OPERATORS.has(wide.op) || !WEIGHED_OPERATORS.has(narrow.op) || narrow.values.length === 0) {
    return false;
  }
  return narrow.values.every((v) => wide.values.some((w) => valueCovers(wide.op, w, narrow.op, v)));
}

/**
 * Are the `narrow` conditions at least as strict as the `wide` ones? Conditions are ANDed: every condition of
 * `wide` must be implied by one of `narrow`'s (extra conditions of `narrow` only narrow it further).
 */
function conditionsCovered(narrow: readonly Condition[], wide: readonly Condition[]): boolean {
  return wide.every((wc) => narrow.some((nc) => conditionCovers(wc, nc)));
}

/** Is `narrow` at most as permissive as `wide`? Every condition of `wide` must be met by one of `narrow`'s. */
function grantCovered(narrow: Grant, wide: Grant): boolean {
  if (narrow.principal !== wide.principal || narrow.action !== wide.action) return false;
  return conditionsCovered(narrow.conditions, wide.conditions);
}

/** What is broad about a trust on its own: wildcards, open principals, a federated principal with no condition. */
function broadFeatures(g: { allow: Grant[] }): string[] {
  const out: string[] = [];
  for (const grant of g.allow) {
    for (const c of grant.conditions) {
      if ((c.op.startsWith('StringLike') || c.op.startsWith('ArnLike')) && c.values.some(hasWildcard)) {
        out.push(`wildcard in ${c.key.split(':').pop()}: ${c.values.filter(hasWildcard).join(', ')}`);
      }
    }
    if (grant.principal === '*' || grant.principal.endsWith(':*')) out.push(`any principal (${grant.principal})`);
    if (grant.principal.startsWith('Federated:') && grant.conditions.length === 0) {
      out.push(`any identity of ${grant.principal.slice('Federated:'.length)}`);
    }
    if (grant.principal === POD_IDENTITY) {
      // Without these bounds a pod identity association of any cluster (or any account) may hand out the role.
      const keys = new Set(grant.conditions.map((c) => c.key));
      const missing = ['aws:SourceArn', 'aws:SourceAccount'].filter((k) => !keys.has(k.toLowerCase()));
      if (!keys.has('aws:sourcearn')) {
        out.push(
          `EKS Pod Identity of ${keys.has('aws:sourceaccount') ? "any of the account's clusters" : 'any cluster of any account'} (no ${missing.join(' or ')} condition)`,
        );
      }
    }
  }
  return out;
}

/** How a grant is named in "lets in more": Pod Identity by the clusters it is bounded to. */
function grantText(g: Grant): string {
  if (g.principal !== POD_IDENTITY) return `${g.principal} (${g.action})`;
  const clusters = g.conditions.filter((c) => c.key === 'aws:sourcearn').flatMap((c) => c.values);
  return `EKS Pod Identity${clusters.length > 0 ? ` of ${clusters.join(', ')}` : ''}`;
}

/**
 * Reasons why the trust `after` may let in someone `before` did not (empty: it does not). `before` undefined
 * means the trust is new; then its wildcards and open principals are the reasons.
 */
export function broadeningReasons(before: PolicyDocument | undefined, after: PolicyDocument): string[] {
  const a = grants(after);
  if (before === undefined) return [...new Set(broadFeatures(a))];
  const b = grants(before);
  const had = new Set(broadFeatures(b));
  const reasons: string[] = [];
  const features = broadFeatures(a).filter((r) => !had.has(r));
  const added = a.allow.filter((g) => !b.allow.some((w) => grantCovered(g, w)));
  if (added.length > 0) {
    // Name the subjects that are new, not every subject of a changed statement.
    const subjects = added.flatMap((g) =>
      g.conditions
        .filter((c) => c.key.endsWith(':sub'))
        .flatMap((c) =>
          c.values.filter(
            (v) =>
              !b.allow.some(
                (w) =>
                  w.principal === g.principal &&
                  w.action === g.action &&
                  w.conditions.some((wc) => conditionCovers(wc, { ...c, values: [v] })),
              ),
          ),
        ),
    );
    const named = [...new Set(subjects)];
    reasons.push(
      named.length > 0
        ? `lets in more: ${named.map((v) => (hasWildcard(v) ? `${v} (wildcard)` : v)).join(', ')}`
        : `lets in more: ${[...new Set(added.map(grantText))].join(', ')}`,
    );
    // A wildcard already named as a new subject needs no second line.
    reasons.push(...features.filter((f) => !named.some((v) => hasWildcard(v) && f.endsWith(v))));
  }
  // Nothing the old trust did not let in: a wildcard of the new one within the old one's (`*:*` to `*:default`, a
  // drift mended) narrows, whatever it lets in on its own (which the trust audit reports).
  if (b.denyText.some((d) => !a.denyText.includes(d))) reasons.push('removes a Deny statement');
  return [...new Set(reasons)];
}

/**
 * Does the IAM pattern `wide` match everything the pattern `narrow` matches? In both, `*` matches any run of
 * characters and `?` any one. A `*` of `wide` may absorb any part of `narrow`, wildcards included; a `?` of
 * `wide` matches one character of `narrow`, an ordinary one or a `?`; any other character only itself. Sound, not
 * complete: "no" may be a false alarm, "yes" never lets more in. A `narrow` with a policy variable (`${...}`, whose
 * value is known only to IAM) is covered only by itself or by a `wide` of nothing but `*`.
 */
export function patternCovers(wide: string, narrow: string): boolean {
  if (wide === narrow) return true;
  if (narrow.includes('${')) return /^\*+$/.test(wide);
  // covered[j]: does the part of `wide` read so far match the whole of narrow.slice(0, j)?
  let covered: boolean[] = Array.from({ length: narrow.length + 1 }, (_, j) => j === 0);
  for (let i = 0; i < wide.length; i++) {
    const w = wide[i]!;
    const next: boolean[] = new Array<boolean>(narrow.length + 1).fill(false);
    for (let j = 0; j <= narrow.length; j++) {
      if (w === '*') {
        // The `*` matches nothing more, or one more character of `narrow` (whatever it is).
        next[j] = covered[j]! || (j > 0 && next[j - 1]!);
      } else if (j > 0) {
        const n = narrow[j - 1]!;
        next[j] = covered[j - 1]! && (w === '?' ? n !== '*' : n === w);
      }
    }
    covered = next;
  }
  return covered[narrow.length]!;
}

interface Permission {
  action: string;
  resource: string;
  conditions: Condition[];
}

function permissions(doc: PolicyDocument): { allow: Permission[]; other: string[] } {
  const allow: Permission[] = [];
  const other: string[] = [];
  for (const s of doc.Statement) {
    if (s.Effect !== 'Allow' || s.NotAction !== undefined || s.NotResource !== undefined) {
      other.push(JSON.stringify(s));
      continue;
    }
    const conds = conditions(s);
    for (const action of list(s.Action).map((x) => x.toLowerCase())) {
      for (const resource of list(s.Resource)) allow.push({ action, resource, conditions: conds });
    }
  }
  return { allow, other };
}

/**
 * What a new version of a permissions policy allows that the old one did not (empty: nothing). A permission is
 * not new when one of the old policy covers its action and resource (wildcards weighed) under conditions no stricter
 * than its own: the same, fewer, or wider (a StringEquals or StringLike value list that covers its values).
 */
export function permissionsAdded(before: PolicyDocument, after: PolicyDocument): string[] {
  const b = permissions(before);
  const a = permissions(after);
  const added = a.allow.filter(
    (p) =>
      !b.allow.some(
        (o) =>
          patternCovers(o.action, p.action) &&
          patternCovers(o.resource, p.resource) &&
          conditionsCovered(p.conditions, o.conditions),
      ),
  );
  const reasons: string[] = [];
  if (added.length > 0) {
    const actions = [...new Set(added.map((p) => p.action))];
    const resources = [...new Set(added.map((p) => p.resource))];
    reasons.push(`allows ${actions.join(', ')} on ${resources.join(', ')}`);
  }
  const changedOther =
    a.other.filter((x) => !b.other.includes(x)).length + b.other.filter((x) => !a.other.includes(x)).length;
  if (changedOther > 0) reasons.push('changes Deny, NotAction or NotResource statements');
  return reasons;
}
