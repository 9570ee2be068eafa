/**
 * YAML text for the hand-off files: a comment header, then the value, with long ARNs never folded, and every string
 * that a YAML reader could take for something else in quotes. Helm, kubectl and flytectl read YAML 1.1, where a
 * project `yes` or a domain `on` is a boolean; the `yaml` package writes YAML 1.2, which would leave them plain.
 */
import { Document, isScalar, parse, visit } from 'yaml';

/**
 * Strings that neither YAML 1.1 nor 1.2 reads as anything but themselves, known without parsing them: a letter first
 * (numbers, dates, `.inf`, `~` and YAML's indicators start otherwise), then letters, digits and `_ . / @ + = : -`, a
 * `:` not last (`name:` is a mapping), not a word that is a boolean or null in either version (compared ignoring
 * case, which takes in more words than YAML does: those are parsed), and not an exponent (`e1`). The hand-off's names and ARNs are such strings.
 */
const PLAIN = /^[A-Za-z][\w./@+=:-]*$/;
const BOOLEAN_OR_NULL = /^(?:y|n|yes|no|true|false|on|off|null)$/i;
/** An exponent alone: the `yaml` package's YAML 1.1 reads `e1` as a float. */
const EXPONENT = /^[eE][-+_\d]/;
/** What parsing said of each string parsed (the hand-off writes many a string more than once). */
const parsed = new Map<string, boolean>();

/** Whether a YAML 1.1 or 1.2 reader would read the plain string as anything but itself (a boolean, a number, null...). */
export function misread(value: string): boolean {
  if (value.includes('\n')) return false; // written as a block scalar, which is always a string
  if (PLAIN.test(value) && !value.endsWith(':') && !BOOLEAN_OR_NULL.test(value) && !EXPONENT.test(value)) return false;
  let answer = parsed.get(value);
  if (answer === undefined) {
    answer = misreadWhenParsed(value);
    parsed.set(value, answer);
  }
  return answer;
}

/**
 * What `misread` says, by parsing the string as YAML 1.1 and as 1.2, whatever it is. A probe: what the parser would
 * warn about (a tag it does not know, `!x`) is not printed, and changes nothing of what it reads.
 */
export function misreadWhenParsed(value: string): boolean {
  for (const version of ['1.1', '1.2'] as const) {
    try {
      if (parse(value, { version, logLevel: 'error' }) !== value) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** A string as a YAML scalar inside YAML text the tool writes itself (a cluster resource template): quoted if needed. */
export function yamlScalar(value: string): string {
  return misread(value) || /^[\s'"]|[:#]|\s$/.test(value) ? `'${value.replace(/'/g, "''")}'` : value;
}

function document(value: unknown): Document {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && misread(node.value)) node.type = 'QUOTE_SINGLE';
    },
  });
  return doc;
}

export function yamlText(value: unknown, header: string[] = []): string {
  const doc = document(value);
  if (header.length > 0) doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** Several YAML documents in one file (`---` between them), under one header. */
export function yamlStream(values: unknown[], header: string[] = []): string {
  const body = values.map((v) => document(v).toString({ lineWidth: 0 })).join('---\n');
  return header.length > 0 ? `${header.map((l) => `# ${l}`.trimEnd()).join('\n')}\n${body}` : body;
}
