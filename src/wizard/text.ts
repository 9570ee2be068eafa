/** Small text helpers for the wizard's conversation: section rules and wrapped paragraphs. */

const WIDTH = 100;

/** `── title ─────…`, the same width for every heading. */
export function rule(title: string): string {
  return `── ${title} ${'─'.repeat(Math.max(4, 74 - title.length))}`;
}

/** A paragraph as lines of at most `width` characters (a longer word stays whole). */
export function wrap(text: string, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** A title inside a sentence: "Project-domain roles" -> "project-domain roles"; "EKS node role", names stay. */
export function inSentence(title: string): string {
  return /^[A-Z][a-z]/.test(title) && !/^(Flyte|Union)\b/.test(title)
    ? title[0]!.toLowerCase() + title.slice(1)
    : title;
}
