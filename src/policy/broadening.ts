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
    Object.entries(block).map(([key, values]) => ({ op, key: key.toLowerCase(), values: list(values) })),
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

/** Is every value the `narrow` condition lets through also let through by `wide`? */
function conditionCovers(wide: Condition, narrow: Condition): boolean {
  if (wide.key !== narrow.key) return false;
  const isEq = (op: string) => op === 'StringEquals';
  const isLike = (op: string) => op === 'StringLike';
  if (!(isEq(wide.op) || isLike(wide.op)) || !(isEq(narrow.op) || isLike(narrow.op))) {
    // Operators this check does not understand: only an identical condition is known to be as strict.
    return wide.op === narrow.op && [...wide.values].sort().join('\n') === [...narrow.values].sort().join('\n');
  }
  return narrow.values.every((v) => {
    const exact = isEq(narrow.op) || !hasWildcard(v);
    return wide.values.some((w) => (isLike(wide.op) ? patternCovers(w, v) : w === v && exact));
  });
}

/** Is `narrow` at most as permissive as `wide`? Every condition of `wide` must be met by one of `narrow`'s. */
function grantCovered(narrow: Grant, wide: Grant): boolean {
  if (narrow.principal !== wide.principal || narrow.action !== wide.action) return false;
  return wide.conditions.every((wc) => narrow.conditions.some((nc) => conditionCovers(wc, nc)));
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
  } else {
    reasons.push(...features);
  }
  if (b.denyText.some((d) => !a.denyText.includes(d))) reasons.push('removes a Deny statement');
  return [...new Set(reasons)];
}

/**
 * Does the IAM pattern `wide` match everything the pattern `narrow` matches? `*` in `wide` may absorb a wildcard
 * of `narrow`; `?` in `wide` matches one ordinary character only. Sound, not complete: "no" may be a false alarm.
 */
export function patternCovers(wide: string, narrow: string): boolean {
  if (wide === narrow) return true;
  const escaped = wide
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '[^*?]');
  return new RegExp(`^${escaped}$`, 's').test(narrow);
}

interface Permission {
  action: string;
  resource: string;
  condition: string;
}

function permissions(doc: PolicyDocument): { allow: Permission[]; other: string[] } {
  const allow: Permission[] = [];
  const other: string[] = [];
  for (const s of doc.Statement) {
    if (s.Effect !== 'Allow' || s.NotAction !== undefined || s.NotResource !== undefined) {
      other.push(JSON.stringify(s));
      continue;
    }
    const condition = JSON.stringify(s.Condition ?? {});
    for (const action of list(s.Action).map((x) => x.toLowerCase())) {
      for (const resource of list(s.Resource)) allow.push({ action, resource, condition });
    }
  }
  return { allow, other };
}

/** What a new version of a permissions policy allows that the old one did not (empty: nothing). */
export function permissionsAdded(before: PolicyDocument, after: PolicyDocument): string[] {
  const b = permissions(before);
  const a = permissions(after);
  const added = a.allow.filter(
    (p) =>
      !b.allow.some(
        (o) =>
          patternCovers(o.action, p.action) &&
          patternCovers(o.resource, p.resource) &&
          (o.condition === '{}' || o.condition === p.condition),
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
