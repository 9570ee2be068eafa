/**
 * Reading policy documents back from IAM and comparing them by meaning, not by text: IAM returns them
 * URL-encoded (RFC 3986), may reorder keys, and `"a"` means the same as `["a"]`.
 */
import type { PolicyDocument, PolicyStatement, StringOrList } from './document.js';

/** Parse a policy document as IAM returns it: URL-encoded JSON, or plain JSON. */
export function decodePolicyDocument(raw: string): PolicyDocument {
  const text = raw.trimStart().startsWith('{') ? raw : decodeURIComponent(raw);
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('policy document is not a JSON object');
  }
  const doc = parsed as { Version?: unknown; Statement?: unknown; Id?: unknown };
  const statements = doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return {
    Version: typeof doc.Version === 'string' ? doc.Version : '2008-10-17',
    Statement: statements as PolicyStatement[],
    ...(typeof doc.Id === 'string' ? { Id: doc.Id } : {}),
  };
}

type Canonical = string | string[] | { [key: string]: Canonical } | Canonical[];

const STATEMENT_KEY_ORDER = [
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
];

function list(value: StringOrList | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Sorted, de-duplicated; one value collapses to a string. */
function canonicalValues(value: StringOrList | undefined, lower = false): string | string[] {
  const values = [...new Set(list(value).map((v) => (lower ? v.toLowerCase() : v)))].sort();
  return values.length === 1 ? values[0]! : values;
}

function canonicalPrincipal(p: PolicyStatement['Principal']): Canonical {
  if (p === '*' || typeof p === 'string') return p;
  const out: Record<string, Canonical> = {};
  for (const key of Object.keys(p ?? {}).sort()) out[key] = canonicalValues(p![key]);
  return out;
}

function canonicalCondition(c: NonNullable<PolicyStatement['Condition']>, fold: boolean): Canonical {
  const out: Record<string, Canonical> = {};
  for (const op of Object.keys(c).sort()) {
    const block = c[op] ?? {};
    const inner: Record<string, Canonical> = {};
    // Condition key names are case-insensitive in IAM; values are not.
    const keys = Object.keys(block).map((k) => [fold ? k.toLowerCase() : k, k] as const);
    keys.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [lower, original] of keys) inner[lower] = canonicalValues(block[original]);
    out[op] = inner;
  }
  return out;
}

function canonicalStatement(s: PolicyStatement, fold: boolean): Record<string, Canonical> {
  const out: Record<string, Canonical> = {};
  for (const key of STATEMENT_KEY_ORDER) {
    const value = (s as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    switch (key) {
      case 'Effect':
        out[key] = String(value);
        break;
      case 'Principal':
      case 'NotPrincipal':
        out[key] = canonicalPrincipal(value as PolicyStatement['Principal']);
        break;
      case 'Action':
      case 'NotAction':
        // Action names are case-insensitive.
        out[key] = canonicalValues(value as StringOrList, fold);
        break;
      case 'Condition':
        out[key] = canonicalCondition(value as NonNullable<PolicyStatement['Condition']>, fold);
        break;
      default:
        out[key] = canonicalValues(value as StringOrList);
    }
  }
  return out;
}

/**
 * The canonical form of a document: statements without Sid, keys in a fixed order, lists sorted and
 * de-duplicated, one-element lists as strings, case-insensitive names in lower case, statements sorted.
 * Two documents mean the same when their canonical forms are equal. `fold: false` keeps the case of names,
 * for display.
 */
export function canonicalPolicy(
  doc: PolicyDocument,
  { fold = true }: { fold?: boolean } = {},
): { Version: string; Statement: Record<string, Canonical>[] } {
  const statements = doc.Statement.map((s) => canonicalStatement(s, fold));
  const keyed = statements.map((s) => [JSON.stringify(s), s] as const);
  keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const unique = keyed.filter(([k], i) => i === 0 || keyed[i - 1]![0] !== k);
  return { Version: doc.Version, Statement: unique.map(([, s]) => s) };
}

export function samePolicy(a: PolicyDocument, b: PolicyDocument): boolean {
  return JSON.stringify(canonicalPolicy(a)) === JSON.stringify(canonicalPolicy(b));
}

/** A document as readable, stable lines for a diff. */
export function policyLines(doc: PolicyDocument): string[] {
  return JSON.stringify(canonicalPolicy(doc, { fold: false }), null, 2).split('\n');
}

export interface DiffLine {
  kind: ' ' | '+' | '-';
  text: string;
}

/**
 * A line diff (longest common subsequence); documents are small, so the quadratic table is fine. Lines are
 * matched with `key` (by default: without a trailing comma, so a line that only gained or lost its comma is
 * not shown as changed); a matched line is shown as it is in `after`.
 */
export function diffLines(
  before: string[],
  after: string[],
  key: (line: string) => string = (l) => l.replace(/,$/, ''),
): DiffLine[] {
  const n = before.length;
  const m = after.length;
  const b = before.map(key);
  const a = after.map(key);
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = b[i] === a[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (b[i] === a[j]) {
      out.push({ kind: ' ', text: after[j]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ kind: '-', text: before[i++]! });
    } else {
      out.push({ kind: '+', text: after[j++]! });
    }
  }
  while (i < n) out.push({ kind: '-', text: before[i++]! });
  while (j < m) out.push({ kind: '+', text: after[j++]! });
  return out;
}

export function policyDiff(before: PolicyDocument, after: PolicyDocument): DiffLine[] {
  return diffLines(policyLines(before), policyLines(after));
}
