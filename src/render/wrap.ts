/**
 * Text that fits the terminal: a line longer than the width is broken at spaces, never inside a word, and goes on
 * under where its text starts (under a bullet's text, under a label's value). A word longer than a whole line (an
 * ARN, a path) is broken after a `/`, `:`, `,` or `-`; a shell command goes on with ` \` so that it can still be
 * copied. Colour codes take no room.
 */

const ANSI = /\x1b\[[0-9;]*m/g;

/** The width of terminals that do not say theirs, and of output that is not a terminal. */
export const DEFAULT_COLUMNS = 80;

/** The columns of a stream: its own on a terminal, else the default. */
export function columnsOf(stream: { isTTY?: boolean; columns?: number }): number {
  return stream.isTTY === true && stream.columns !== undefined && stream.columns > 0 ? stream.columns : DEFAULT_COLUMNS;
}

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** The columns a string takes (colour codes take none; every other character one). */
export function visibleLength(s: string): number {
  return [...stripAnsi(s)].length;
}

/** Commands that are shown to be copied: a line of one goes on with ` \`. */
const COMMANDS = /^(npx|flyte-aws-setup|helm|sh|aws|eksctl|flytectl|uctl|kubectl) /;

/** The longest label before a value (`Account    123...`) that its value lines up under. */
const MAX_LABEL = 28;

/** A paragraph as lines of at most `width` columns, each starting with `indent`. */
export function wrapText(text: string, width: number, indent = ''): string[] {
  return fitLine(`${indent}${text.replace(/\s+/g, ' ').trim()}`, width);
}

/** Each line of `text` (which may hold several) fitted to `width` columns. */
export function fitText(text: string, width: number): string[] {
  return text.split('\n').flatMap((line) => fitLine(line, width));
}

/** One line as lines of at most `width` columns (a line that fits is left as it is). */
export function fitLine(line: string, width: number): string[] {
  if (visibleLength(line) <= width) return [line];
  const plain = stripAnsi(line);
  const lead = /^ */.exec(plain)![0].length;
  const label = labelled(plain.slice(lead));
  const command = COMMANDS.test(plain.slice(lead + (label ?? 0)));
  // Where the lines after the first start: under the text of a bullet or the value of a label, a command's own
  // lines further in; never so far in that little room is left.
  let hang = command ? lead + (label ?? 0) + 4 : hangingIndent(plain.slice(lead), lead, label);
  if (hang > Math.floor(width / 3)) hang = Math.min(lead + 2, Math.floor(width / 3));
  // A command's lines but the last end with ` \`: room is kept for it, but on the last line.
  let limit = width - (command ? 2 : 0);

  const out: string[] = [];
  let current = ' '.repeat(lead);
  let used = lead;
  let empty = true;
  const add = (text: string) => {
    current += text;
    used += visibleLength(text);
    empty = false;
  };
  const newLine = () => {
    out.push(current.replace(/ +$/, '') + (command ? ' \\' : ''));
    current = ' '.repeat(hang);
    used = hang;
    empty = true;
  };
  // Words with the spaces before them (runs of spaces are kept: they line columns up).
  const all = [...line.slice(indexAfter(line, lead)).matchAll(/( *)(\S+)/g)];
  for (const [i, [, gap, word]] of all.entries()) {
    if (i === all.length - 1) limit = width;
    const sep = () => (empty ? '' : gap!);
    const w = visibleLength(word!);
    if (used + sep().length + w <= limit) {
      add(sep() + word);
      continue;
    }
    if (w <= limit - hang) {
      newLine();
      add(word!);
      continue;
    }
    // Longer than any line: broken after a / : , = or -, from this line on (unless only a small piece of it
    // fits here: then from the next).
    let rest = stripAnsi(word!);
    const here = breakPoint(rest, limit - used - sep().length);
    const fresh = breakPoint(rest, limit - hang);
    if (!empty && (here === undefined || (fresh !== undefined && here.length * 2 < fresh.length))) newLine();
    for (;;) {
      const room = limit - used - sep().length;
      let piece = breakPoint(rest, room);
      if (piece === undefined) {
        if (!empty) {
          newLine();
          continue;
        }
        // Nowhere to break it: cut (a word this long has no better place).
        piece = [...rest].slice(0, Math.max(1, room)).join('');
      }
      add(sep() + piece);
      rest = rest.slice(piece.length);
      if (rest === '') break;
      newLine();
      if (visibleLength(rest) <= limit - hang) {
        add(rest);
        break;
      }
    }
  }
  out.push(current.replace(/ +$/, ''));
  return out;
}

/** Where the text after the first `lead` columns starts, in `line` with its colour codes. */
function indexAfter(line: string, lead: number): number {
  let seen = 0;
  let i = 0;
  while (seen < lead && i < line.length) {
    const code = /^\x1b\[[0-9;]*m/.exec(line.slice(i));
    if (code) {
      i += code[0].length;
    } else {
      i++;
      seen++;
    }
  }
  return i;
}

/** The columns of a short label and the spaces after it (`Account    `, `trust     `, `written   `). */
function labelled(text: string): number | undefined {
  const m = /^(\S+(?: \S+)*?) {2,}(?=\S)/.exec(text);
  return m !== null && m[1]!.length <= MAX_LABEL ? m[0].length : undefined;
}

function hangingIndent(text: string, lead: number, label: number | undefined): number {
  // A bullet, a number, a mark (✓ done, ✗ failed, … waiting, ! attention, (!) security): under the text after it.
  // The marks are escaped (• ✓ ✔ ✗ …): the built files stay ASCII, which Node reads into strings of half the size.
  const bullet = /^([-\u2022*\u2713\u2714\u2717\u2026!]|\d+\.|\(!\)) /.exec(text);
  if (bullet) return lead + bullet[0].length;
  if (label !== undefined) return lead + label;
  return lead === 0 ? 0 : lead + 2;
}

/**
 * The longest start of `word` that takes at most `room` columns and ends with a `/` or `:` (the parts of an ARN or
 * a path), else with a `,` or `=`, else with a `-`.
 */
function breakPoint(word: string, room: number): string | undefined {
  const chars = [...word];
  for (const marks of ['/:', ',=', '-']) {
    for (let i = Math.min(room, chars.length) - 1; i > 0; i--) {
      if (marks.includes(chars[i]!)) return chars.slice(0, i + 1).join('');
    }
  }
  return undefined;
}
