/**
 * Small text helpers for the wizard's conversation: section rules and paragraphs, at the terminal's width. (Every
 * line the wizard says is fitted to the terminal where it is written; these are for text that must know the width
 * itself.)
 */
import { DEFAULT_COLUMNS, wrapText } from '../render/wrap.js';

/** The widest a rule gets, on a wide terminal. */
const RULE_WIDTH = 78;

/** `── title ─────…`, the same width for every heading, within the terminal's width. */
export function rule(title: string, width = DEFAULT_COLUMNS): string {
  const total = Math.min(RULE_WIDTH, width);
  return `── ${title} ${'─'.repeat(Math.max(2, total - 4 - [...title].length))}`;
}

/** A paragraph as lines of at most `width` columns (never breaking a word). */
export function wrap(text: string, width = DEFAULT_COLUMNS): string[] {
  return wrapText(text, width);
}

/** A title inside a sentence: "Project-domain roles" -> "project-domain roles"; "EKS node role", names stay. */
export function inSentence(title: string): string {
  return /^[A-Z][a-z]/.test(title) && !/^(Flyte|Union)\b/.test(title)
    ? title[0]!.toLowerCase() + title.slice(1)
    : title;
}
