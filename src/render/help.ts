/**
 * The help of a command, as data and as text. The CLI fills a page from its commander command (`helpPage` in
 * cli.ts) and prints it with `formatHelp`; the build writes every command's page into the start-up file
 * (`src/front.ts`), which prints `--help` with the same `formatHelp` without loading the CLI. The layout is
 * commander's own (its `Help.formatHelp`: usage, description, then the headed lists, terms in one column and
 * their descriptions wrapped beside them), followed by the paragraphs and examples after the lists.
 */
import { fitLine, visibleLength } from './wrap.js';

/** After the lists: a paragraph, or example commands with what each does. */
export type HelpBlock = string | { title: string; examples: [command: string, comment?: string][] };

export interface HelpPage {
  usage: string;
  description: string;
  /** Headed lists (arguments, options, commands) of a term and its description; the terms line up across them. */
  lists: { heading: string; items: [term: string, description: string][] }[];
  after: HelpBlock[];
}

/** Descriptions wrap beside their terms while this much room is left (commander's default stops at 40). */
export const MIN_WIDTH_TO_WRAP = 20;

/** A help page as text `width` columns wide: what `--help` prints. */
export function formatHelp(page: HelpPage, width: number): string {
  const termWidth = Math.max(0, ...page.lists.flatMap((l) => l.items.map(([term]) => visibleLength(term))));
  const out = [`Usage: ${page.usage}`, ''];
  if (page.description.length > 0) out.push(boxWrap(page.description, width), '');
  for (const { heading, items } of page.lists) {
    if (items.length === 0) continue;
    out.push(heading, ...items.map(([term, description]) => formatItem(term, termWidth, description, width)), '');
  }
  const text = out.join('\n');
  if (page.after.length === 0) return text;
  const after = page.after.map((b) => (typeof b === 'string' ? fitLine(b, width) : examples(b, width)).join('\n'));
  // An empty line before the text and after it, as commander's `addHelpText('after')` gave.
  return `${text}\n${after.join('\n\n')}\n\n`;
}

/** A term, padded to the terms' column, and its description wrapped beside it (commander's `formatItem`). */
function formatItem(term: string, termWidth: number, description: string, width: number): string {
  const indent = '  ';
  if (!description) return indent + term;
  const padded = term.padEnd(termWidth + term.length - visibleLength(term));
  const room = width - termWidth - 2 - indent.length;
  // A description with lines of its own that start with spaces is laid out already.
  const laidOut = /\n[^\S\r\n]/.test(description);
  const wrapped =
    room < MIN_WIDTH_TO_WRAP || laidOut
      ? description
      : boxWrap(description, room).replace(/\n/g, `\n${' '.repeat(termWidth + 2)}`);
  return `${indent}${padded}  ${wrapped.replace(/\n/g, `\n${indent}`)}`;
}

/** Each line of `text` broken at spaces to at most `width` columns (commander's `boxWrap`). */
function boxWrap(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  const lines: string[] = [];
  for (const line of text.split(/\r\n|\n/)) {
    const chunks = line.match(/\s*\S+/g);
    if (chunks === null) {
      lines.push('');
      continue;
    }
    let current = chunks.shift()!;
    let used = visibleLength(current);
    for (const chunk of chunks) {
      const w = visibleLength(chunk);
      if (used + w <= width) {
        current += chunk;
        used += w;
        continue;
      }
      lines.push(current);
      current = chunk.trimStart();
      used = visibleLength(current);
    }
    lines.push(current);
  }
  return lines.join('\n');
}

/**
 * Example commands with what they do: in a column beside them when every line fits, else each comment on a line of
 * its own above its command (a long command goes on with ` \`).
 */
function examples({ title, examples: list }: Exclude<HelpBlock, string>, width: number): string[] {
  const column = Math.max(...list.map(([c, comment]) => (comment ? c.length : 0))) + 4;
  const beside = list.map(([c, comment]) => (comment ? `  ${c.padEnd(column)}# ${comment}` : `  ${c}`));
  if (beside.every((l) => l.length <= width)) return [title, ...beside];
  return [
    title,
    ...list.flatMap(([c, comment]) => [...(comment ? [`  # ${comment}`] : []), ...fitLine(`  ${c}`, width)]),
  ];
}
