/**
 * What the tool keeps on the resources themselves (no local state): whose setup a resource is, the managed
 * policies it attached to a role, the trust a role had before the tool first changed it, the default version a
 * policy had. Tags only: a value holds at most 256 characters of letters, digits, spaces and `_ . : / = + - @`, so a
 * long record is split over `key`, `key-2`, `key-3`... Pure.
 */
import { createRequire } from 'node:module';
import { DESCRIPTION_MARK, MANAGED_BY_KEY, MANAGED_BY_VALUE, SETUP_KEY, TOOL_TAG_PREFIX } from '../config/rules.js';
import type { Tags } from '../model.js';
import type { PolicyDocument } from '../policy/document.js';

/** IAM's limit on a tag value. */
export const TAG_VALUE_MAX = 256;

export function isOwned(tags: Tags): boolean {
  return tags[MANAGED_BY_KEY] === MANAGED_BY_VALUE;
}

/** The setup a resource belongs to, by its tag; undefined when it has none. */
export function setupOf(tags: Tags): string | undefined {
  return tags[SETUP_KEY];
}

/**
 * Whose a resource is, for a setup:
 * - mine: the tool made it for this setup;
 * - legacy: the tool made it before setups existed (managed-by, no setup tag): taken as this setup's;
 * - other: another setup's (it carries another setup's tag, made or changed by the tool);
 * - before: it existed before the tool (no managed-by), and no other setup has changed it.
 */
export type Ownership = 'mine' | 'legacy' | 'other' | 'before';

export function ownership(tags: Tags, setup: string): Ownership {
  const owner = setupOf(tags);
  if (owner !== undefined && owner !== setup) return 'other';
  if (!isOwned(tags)) return 'before';
  return owner === undefined ? 'legacy' : 'mine';
}

/** The keys of a record split over several tags: `key`, `key-2`, `key-3`... */
function chunkKey(key: string, i: number): string {
  return i === 0 ? key : `${key}-${i + 1}`;
}

/** A record's value as tags (none for an empty value). */
export function recordTags(key: string, value: string): Tags {
  const out: Tags = {};
  for (let i = 0; i * TAG_VALUE_MAX < value.length; i++) {
    out[chunkKey(key, i)] = value.slice(i * TAG_VALUE_MAX, (i + 1) * TAG_VALUE_MAX);
  }
  return out;
}

/** The tag keys a record takes up now. */
export function recordKeys(tags: Tags, key: string): string[] {
  const keys: string[] = [];
  for (let i = 0; tags[chunkKey(key, i)] !== undefined; i++) keys.push(chunkKey(key, i));
  return keys;
}

/** A record's value, its tags joined; undefined when there is none. */
export function readRecord(tags: Tags, key: string): string | undefined {
  const keys = recordKeys(tags, key);
  return keys.length === 0 ? undefined : keys.map((k) => tags[k]).join('');
}

/** The tags to set and the keys to remove so that `tags` holds `value` (undefined: no record) for `key`. */
export function recordChange(tags: Tags, key: string, value: string | undefined): { set: Tags; unset: string[] } {
  const wanted = value === undefined ? {} : recordTags(key, value);
  const set: Tags = {};
  for (const [k, v] of Object.entries(wanted)) if (tags[k] !== v) set[k] = v;
  const unset = recordKeys(tags, key).filter((k) => wanted[k] === undefined);
  return { set, unset };
}

/** Every tag key of the tool's records on a resource (the setup's included, managed-by not). */
export function toolRecordKeys(tags: Tags): string[] {
  return Object.keys(tags)
    .filter((k) => k.startsWith(TOOL_TAG_PREFIX))
    .sort();
}

// Policy ARNs in compact form. The role's partition and account are implied: `aws:<path/name>` is an AWS managed
// policy, `<path/name>` one of the role's own account; anything else is the whole ARN. What a tag value cannot hold,
// and `:` and `=` (so no name is taken for a prefix), is written `=XX` (hex).

const PLAIN = /[A-Za-z0-9_./+@-]/;

/** `text` with each character `plain` does not match written as its UTF-8 bytes, `=XX` each (hex). */
function escape(text: string, plain = PLAIN): string {
  return [...text]
    .map((c) =>
      plain.test(c) ? c : [...Buffer.from(c, 'utf8')].map((b) => `=${b.toString(16).padStart(2, '0')}`).join(''),
    )
    .join('');
}

function unescape(text: string): string {
  return text.replace(/(?:=[0-9a-f]{2})+/g, (run) => Buffer.from(run.replaceAll('=', ''), 'hex').toString('utf8'));
}

/** The partition and account of an IAM ARN. */
function arnParts(arn: string): { partition: string; account: string } | undefined {
  const m = /^arn:([\w-]+):iam::([^:]*):/.exec(arn);
  return m === null ? undefined : { partition: m[1]!, account: m[2]! };
}

/** Policy ARNs as one compact value, for a role of `roleArn`. */
export function encodePolicyArns(arns: readonly string[], roleArn: string): string {
  const role = arnParts(roleArn);
  return [...new Set(arns)]
    .map((arn) => {
      const p = arnParts(arn);
      const rest = arn.split(':policy/')[1];
      if (role === undefined || p === undefined || rest === undefined || p.partition !== role.partition) {
        return `arn:${escape(arn.slice(4))}`;
      }
      if (p.account === 'aws') return `aws:${escape(rest)}`;
      if (p.account === role.account) return escape(rest);
      return `arn:${escape(arn.slice(4))}`;
    })
    .sort()
    .join(' ');
}

/** The policy ARNs of a compact value, for a role of `roleArn`. */
export function decodePolicyArns(value: string, roleArn: string): string[] {
  const role = arnParts(roleArn);
  if (role === undefined) return [];
  return value
    .split(' ')
    .filter((e) => e !== '')
    .map((e) => {
      if (e.startsWith('arn:')) return `arn:${unescape(e.slice(4))}`;
      if (e.startsWith('aws:')) return `arn:${role.partition}:iam::aws:policy/${unescape(e.slice(4))}`;
      return `arn:${role.partition}:iam::${role.account}:policy/${unescape(e)}`;
    });
}

// A description in a tag value: what a tag value cannot hold, and `=`, is written as its UTF-8 bytes, `=XX` each
// (hex). `=` alone stands for no description.

const PLAIN_TEXT = /[A-Za-z0-9 _./+@-]/;
const NO_DESCRIPTION = '=';

/** A role's description as a tag-safe value (undefined or empty: `=`). */
export function encodeDescription(description: string | undefined): string {
  if (description === undefined || description === '') return NO_DESCRIPTION;
  return escape(description, PLAIN_TEXT);
}

/** The description of `encodeDescription`'s value ('' for none); undefined when the value is damaged. */
export function decodeDescription(value: string): string | undefined {
  if (value === NO_DESCRIPTION) return '';
  if (!/^(?:[A-Za-z0-9 _./+@-]|=[0-9a-f]{2})*$/.test(value)) return undefined;
  return unescape(value);
}

/** IAM's limit on a role's description. */
const DESCRIPTION_MAX = 1000;

/**
 * The description of a role the tool adopts: its own with the tool's mark at the end (ListRoles gives descriptions,
 * not tags: the mark is how the role is found once the config no longer names it). A description too long for the
 * mark is shortened; the whole of it is in the role's record.
 */
export function markedDescription(description: string | undefined): string {
  const own = (description ?? '').trim();
  if (own === '') return `Adopted for Flyte, ${DESCRIPTION_MARK}`;
  const mark = `; adopted for Flyte, ${DESCRIPTION_MARK}`;
  const room = DESCRIPTION_MAX - mark.length;
  return `${own.length > room ? `${own.slice(0, room - 3)}...` : own}${mark}`;
}

/** zlib, loaded when first used: a plan for an empty account (offline) encodes no record. */
const zlib = (): typeof import('node:zlib') => createRequire(import.meta.url)('node:zlib');

/** A trust policy as a tag-safe value: its JSON, zlib-deflated, in base64. */
export function encodeTrust(doc: PolicyDocument): string {
  return zlib()
    .deflateSync(Buffer.from(JSON.stringify(doc)), { level: 9 })
    .toString('base64');
}

/** The trust policy of `encodeTrust`'s value; undefined when the value is damaged (a tag lost or changed). */
export function decodeTrust(value: string): PolicyDocument | undefined {
  try {
    const doc = JSON.parse(zlib().inflateSync(Buffer.from(value, 'base64')).toString('utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as PolicyDocument).Statement)) return undefined;
    return doc as PolicyDocument;
  } catch {
    return undefined;
  }
}
