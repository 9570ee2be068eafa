/**
 * A reader for the plain YAML that config files are written in (block mappings and lists, one-line `{ }` and `[ ]`,
 * plain and simply quoted scalars, comments), without the YAML library: loading and warming that library costs more
 * at start-up than the rest of reading a config. It reads a text only when it is sure to give what the library's
 * `parseDocument(text).toJS()` gives, and where each key and list item is; anything else (anchors, tags, block
 * scalars, escapes, numbers other than plain whole numbers, a value over several lines, tabs, duplicate keys, a syntax
 * error) makes it give up, and the caller reads the text with the library.
 */

/** A key path's place in the text: its key (or list item), 1-based, as the YAML library's LineCounter gives it. */
export interface TextPlace {
  line: number;
  col: number;
}

export interface QuickYaml {
  value: Record<string, unknown>;
  /** Where a key path is (its last key, or list item); nothing when the text does not have it. */
  locate(path: readonly (string | number)[]): TextPlace | Record<string, never>;
}

/** Thrown inside to give up; never leaves this module. */
class GiveUp extends Error {}

const giveUp = (): never => {
  throw new GiveUp();
};

interface Line {
  /** 0-based line number. */
  no: number;
  indent: number;
  /** The line without its indentation (comments are removed where its content is read). */
  text: string;
}

/** Printable ASCII and newlines only: no tabs, no carriage returns, no byte order mark. */
const PLAIN_TEXT = /^[\x20-\x7e\n]*$/;

export function quickYaml(text: string): QuickYaml | undefined {
  if (!PLAIN_TEXT.test(text)) return undefined;
  try {
    return new Reader(text).read();
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    throw err;
  }
}

class Reader {
  private readonly lines: Line[] = [];
  private i = 0;
  private readonly places = new Map<string, TextPlace>();

  constructor(text: string) {
    text.split('\n').forEach((raw, no) => {
      const indent = raw.length - raw.trimStart().length;
      const content = raw.slice(indent);
      // Blank and comment-only lines do not count (a value over several lines, where they would, is not read here).
      if (content === '' || content.startsWith('#')) return;
      // Directives and document markers.
      if (indent === 0 && (content.startsWith('%') || /^(---|\.\.\.)( |$)/.test(content))) giveUp();
      this.lines.push({ no, indent, text: content.trimEnd() });
    });
  }

  read(): QuickYaml {
    const first = this.lines[0];
    if (first === undefined || first.indent !== 0 || isItem(first.text)) giveUp();
    this.place([], first!.no, 0);
    const value = this.mapping(0, []);
    if (this.i < this.lines.length) giveUp();
    const places = this.places;
    return {
      value,
      locate: (path) => places.get(pathKey(path)) ?? {},
    };
  }

  private place(path: readonly (string | number)[], no: number, col: number): void {
    this.places.set(pathKey(path), { line: no + 1, col: col + 1 });
  }

  /** A block mapping whose keys start at column `indent`. */
  private mapping(indent: number, path: (string | number)[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent || isItem(line.text)) giveUp();
      const { key, rest, restCol } = keyOf(line.text, line.indent);
      if (Object.hasOwn(out, key) || key === '__proto__') giveUp();
      this.place([...path, key], line.no, line.indent);
      this.i++;
      out[key] = this.valueAfter(rest, restCol, line.no, indent, [...path, key]);
    }
    return out;
  }

  /** A block list whose dashes are at column `indent`. */
  private list(indent: number, path: (string | number)[]): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent || !isItem(line.text)) giveUp();
      const itemPath = [...path, out.length];
      const after = line.text.slice(1);
      const rest = after.trimStart();
      const col = line.indent + 1 + (after.length - rest.length);
      // `-` alone (the item on the lines below, or null) and `- - x` are left to the library.
      if (stripComment(rest, true) === '' || isItem(rest)) giveUp();
      if (isEntry(rest)) {
        // `- key: value`: a mapping whose keys line up with this first one.
        this.lines[this.i] = { no: line.no, indent: col, text: rest };
        this.place(itemPath, line.no, col);
        out.push(this.mapping(col, itemPath));
        continue;
      }
      this.place(itemPath, line.no, col);
      this.i++;
      out.push(this.inline(rest, line.no, col, itemPath));
      this.noDeeperThan(indent);
    }
    return out;
  }

  /** The value after `key:` on `line` (whose key is at `indent`): on the line itself, or in the lines below. */
  private valueAfter(rest: string, restCol: number, no: number, indent: number, path: (string | number)[]): unknown {
    if (stripComment(rest, true) !== '') {
      const value = this.inline(rest, no, restCol, path);
      this.noDeeperThan(indent);
      return value;
    }
    const next = this.lines[this.i];
    if (next === undefined || next.indent < indent || (next.indent === indent && !isItem(next.text))) return null;
    if (isItem(next.text)) return this.list(next.indent, path);
    return this.mapping(next.indent, path);
  }

  /** After a value on one line, the next line must not be indented under it (that would continue the value). */
  private noDeeperThan(indent: number): void {
    const next = this.lines[this.i];
    if (next !== undefined && next.indent > indent) giveUp();
  }

  /** A value on one line: a scalar, `{ ... }` or `[ ... ]`, then at most a comment. */
  private inline(text: string, no: number, col: number, path: (string | number)[]): unknown {
    const c = text[0];
    if (c === '{' || c === '[') {
      const cursor: Cursor = {
        s: text,
        at: 0,
        place: (sub, at) => this.place([...path, sub], no, col + at),
      };
      const value = c === '{' ? flowMapping(cursor) : flowList(cursor);
      if (stripComment(text.slice(cursor.at), false) !== '') giveUp();
      return value;
    }
    if (c === '"' || c === "'") {
      const { value, end } = quoted(text, 0);
      if (stripComment(text.slice(end), false) !== '') giveUp();
      return value;
    }
    return plainValue(stripComment(text, true), false);
  }
}

function pathKey(path: readonly (string | number)[]): string {
  return JSON.stringify(path);
}

/** A list item: `-` alone or followed by a space. */
function isItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** A `key: value` (or `key:`) entry, as opposed to a scalar. */
function isEntry(text: string): boolean {
  if (text.startsWith('{') || text.startsWith('[')) return false;
  if (text.startsWith('"') || text.startsWith("'")) {
    const { end } = quoted(text, 0);
    return text[end] === ':';
  }
  return /: |:$/.test(stripComment(text, true));
}

/**
 * The text before a comment, without trailing spaces. A comment starts with `#` after a space, or at the start of
 * text that follows a space (`afterSpace`); `'a'#b` or `[a]#b` has none, and is left to the library.
 */
function stripComment(text: string, afterSpace: boolean): string {
  if (text.startsWith('#')) return afterSpace ? '' : giveUp();
  const at = text.indexOf(' #');
  return (at === -1 ? text : text.slice(0, at)).trimEnd();
}

/** `key: rest` at column `indent`: the key, and the text after the colon and its space. */
function keyOf(text: string, indent: number): { key: string; rest: string; restCol: number } {
  let key: string;
  let end: number;
  if (text.startsWith('"') || text.startsWith("'")) {
    ({ value: key, end } = quoted(text, 0));
  } else {
    end = text.indexOf(':');
    if (end <= 0) giveUp();
    key = text.slice(0, end);
    if (key !== key.trimEnd() || plainValue(key, true) !== key) giveUp();
  }
  if (text[end] !== ':' || (text.length > end + 1 && text[end + 1] !== ' ')) giveUp();
  const after = text.slice(end + 1);
  const rest = after.trimStart();
  return { key, rest, restCol: indent + end + 1 + (after.length - rest.length) };
}

/** A single- or double-quoted scalar starting at `from`, on one line, without escapes. */
function quoted(text: string, from: number): { value: string; end: number } {
  const q = text[from];
  if (q === '"') {
    const close = text.indexOf('"', from + 1);
    if (close === -1) giveUp();
    const value = text.slice(from + 1, close);
    if (value.includes('\\')) giveUp();
    return { value, end: close + 1 };
  }
  let value = '';
  let at = from + 1;
  for (;;) {
    const close = text.indexOf("'", at);
    if (close === -1) giveUp();
    value += text.slice(at, close);
    if (text[close + 1] !== "'") return { value, end: close + 1 };
    value += "'";
    at = close + 2;
  }
}

/**
 * A plain scalar as the YAML 1.2 core schema reads it: null, true or false, a whole number written plainly, or a
 * string. Anything else that might be read as something other than a string is left to the library.
 */
function plainValue(text: string, flow: boolean): unknown {
  if (text === '' || text === '~' || /^(null|Null|NULL)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(0|[1-9][0-9]{0,14})$/.test(text)) return Number(text);
  // Other numbers (signs, leading zeros, octal, hex, floats, .inf, .nan), and what starts with an indicator.
  if (/^[-+0-9?:,[\]{}#&*!|>'"%@`]/.test(text) || /^\.([0-9]|(inf|Inf|INF|nan|NaN|NAN)$)/.test(text)) giveUp();
  if (/: |:$| #/.test(text)) giveUp();
  if (flow && /[,[\]{}]/.test(text)) giveUp();
  return text;
}

interface Cursor {
  s: string;
  at: number;
  /** Records where an entry (its key) or item starts. */
  place(sub: string | number, at: number): void;
}

function skipSpaces(c: Cursor): void {
  while (c.s[c.at] === ' ') c.at++;
}

/** A scalar inside `{ }` or `[ ]`: quoted, or plain up to `,`, `]`, `}` (or `: ` in a mapping's key). */
function flowScalar(c: Cursor, isKey: boolean): unknown {
  const ch = c.s[c.at];
  if (ch === '"' || ch === "'") {
    const { value, end } = quoted(c.s, c.at);
    c.at = end;
    return value;
  }
  if (ch === '{' || ch === '[') giveUp();
  const start = c.at;
  while (c.at < c.s.length && !',]}'.includes(c.s[c.at]!)) {
    if (isKey && c.s[c.at] === ':' && (c.s[c.at + 1] === ' ' || c.s[c.at + 1] === ',' || c.at + 1 === c.s.length))
      break;
    c.at++;
  }
  const text = c.s.slice(start, c.at).trimEnd();
  if (text === '' || text.includes(' #')) giveUp();
  return plainValue(text, true);
}

/** `{ key: value, ... }` on one line, with scalar values. */
function flowMapping(c: Cursor): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  c.at++;
  skipSpaces(c);
  if (c.s[c.at] === '}') {
    c.at++;
    return out;
  }
  for (;;) {
    skipSpaces(c);
    const start = c.at;
    const key = flowScalar(c, true);
    if (typeof key !== 'string' || Object.hasOwn(out, key) || key === '__proto__') giveUp();
    c.place(key as string, start);
    if (c.s[c.at] !== ':' || c.s[c.at + 1] !== ' ') giveUp();
    c.at += 2;
    skipSpaces(c);
    out[key as string] = flowScalar(c, false);
    skipSpaces(c);
    const ch = c.s[c.at];
    c.at++;
    if (ch === '}') return out;
    if (ch !== ',') giveUp();
    skipSpaces(c);
    // A trailing comma is left to the library.
    if (c.s[c.at] === '}') giveUp();
  }
}

/** `[ a, b ]` on one line, with scalar items. */
function flowList(c: Cursor): unknown[] {
  const out: unknown[] = [];
  c.at++;
  skipSpaces(c);
  if (c.s[c.at] === ']') {
    c.at++;
    return out;
  }
  for (;;) {
    skipSpaces(c);
    const start = c.at;
    const item = flowScalar(c, true);
    // `[a: b]` is a list holding a mapping: left to the library.
    if (c.s[c.at] === ':') giveUp();
    if (c.at === start) giveUp();
    c.place(out.length, start);
    out.push(item);
    skipSpaces(c);
    const ch = c.s[c.at];
    c.at++;
    if (ch === ']') return out;
    if (ch !== ',') giveUp();
    skipSpaces(c);
    if (c.s[c.at] === ']') giveUp();
  }
}
