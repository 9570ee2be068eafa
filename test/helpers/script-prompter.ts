/**
 * A prompter that answers from a script, for wizard flow tests. Each question must be the next one in the script
 * (its kind and a pattern of its message), else the test fails: an extra, missing or reordered question shows.
 * `ENTER` takes the default, as pressing Enter does. Input answers go through the prompt's validation as they
 * would in a terminal: a script may give wrong answers first and the rejection messages they must get.
 */
import type {
  CheckboxQuestion,
  ConfirmQuestion,
  InputQuestion,
  Prompter,
  SelectQuestion,
} from '../../src/wizard/prompter.js';
import { InterruptedByUser } from '../../src/wizard/prompter.js';

export const ENTER = Symbol('enter');

type Hook = () => void | Promise<void>;

export type ScriptStep =
  | { input: RegExp; answer: string | typeof ENTER; rejected?: { answer: string; error: RegExp }[]; then?: Hook }
  | { confirm: RegExp; answer: boolean | typeof ENTER; then?: Hook }
  | { select: RegExp; answer: unknown; then?: Hook }
  /** Pick the choice whose name matches. */
  | { select: RegExp; pick: RegExp; then?: Hook }
  | { checkbox: RegExp; answer: unknown[] | typeof ENTER; then?: Hook }
  /** Ctrl-C at this question, whatever its kind. */
  | { interrupt: RegExp };

/**
 * The wizard's first answers, all defaults (the bucket named acme-flyte-data), up to its first section; `cluster`:
 * the answers to the cluster's question(s), the region's first cluster by default.
 */
export function walkStart(cluster: ScriptStep[] = [{ select: /EKS cluster for Flyte/, answer: ENTER }]): ScriptStep[] {
  return [
    { select: /Set up Flyte in this account and region/, answer: ENTER },
    ...cluster,
    { select: /Which will install Flyte/, answer: ENTER },
    { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
    { input: /S3 bucket/, answer: 'acme-flyte-data' },
    { input: /namespace/, answer: ENTER },
    { confirm: /Use these names/, answer: ENTER },
    { input: /^Tags/, answer: ENTER },
    { input: /Permissions boundary/, answer: ENTER },
  ];
}

export interface Asked {
  kind: 'input' | 'confirm' | 'select' | 'checkbox';
  message: string;
  answer: unknown;
  /** For select and checkbox: the choices offered. */
  choices?: string[];
  default?: unknown;
}

export interface ScriptedPrompter extends Prompter {
  asked: Asked[];
  /** Fails when the script has questions left. */
  expectDone(): void;
}

export function scriptedPrompter(script: ScriptStep[]): ScriptedPrompter {
  const steps = [...script];
  const asked: Asked[] = [];

  function next(kind: Asked['kind'], message: string): ScriptStep {
    const step = steps.shift();
    if (step === undefined) throw new Error(`unexpected ${kind} question (the script has ended): "${message}"`);
    if ('interrupt' in step) {
      if (!step.interrupt.test(message))
        throw new Error(`expected a question like ${step.interrupt} (to interrupt), got ${kind} "${message}"`);
      asked.push({ kind, message, answer: 'Ctrl-C' });
      throw new InterruptedByUser();
    }
    const pattern = kind in step ? (step as unknown as Record<string, RegExp>)[kind] : undefined;
    if (pattern === undefined || !pattern.test(message)) {
      const expected = Object.keys(step).find((k) => ['input', 'confirm', 'select', 'checkbox'].includes(k));
      throw new Error(
        `expected ${expected} ${String((step as unknown as Record<string, RegExp>)[expected ?? ''])}, got ${kind} "${message}"`,
      );
    }
    return step;
  }

  async function after(step: ScriptStep): Promise<void> {
    if ('then' in step && step.then) await step.then();
  }

  return {
    asked,
    expectDone() {
      if (steps.length > 0)
        throw new Error(
          `the wizard did not ask ${steps.length} scripted question(s): ${JSON.stringify(steps[0], (_k, v) => (v instanceof RegExp ? String(v) : v))}`,
        );
    },
    async input(q: InputQuestion) {
      const step = next('input', q.message) as Extract<ScriptStep, { input: RegExp }>;
      for (const wrong of step.rejected ?? []) {
        const error = q.validate?.(wrong.answer);
        if (error === undefined)
          throw new Error(`"${wrong.answer}" was accepted at "${q.message}"; it should be rejected`);
        if (!wrong.error.test(error))
          throw new Error(`"${wrong.answer}" at "${q.message}": rejected with "${error}", expected ${wrong.error}`);
      }
      const answer = step.answer === ENTER ? (q.default ?? '') : step.answer;
      const error = q.validate?.(answer);
      if (error !== undefined) throw new Error(`"${answer}" at "${q.message}" was rejected: ${error}`);
      asked.push({ kind: 'input', message: q.message, answer, default: q.default });
      await after(step);
      return answer;
    },
    async confirm(q: ConfirmQuestion) {
      const step = next('confirm', q.message) as Extract<ScriptStep, { confirm: RegExp }>;
      const answer = step.answer === ENTER ? q.default : step.answer;
      asked.push({ kind: 'confirm', message: q.message, answer, default: q.default });
      await after(step);
      return answer;
    },
    async select<T>(q: SelectQuestion<T>) {
      const step = next('select', q.message) as Extract<ScriptStep, { select: RegExp }>;
      let answer: T;
      if ('pick' in step) {
        const found = q.choices.find((c) => step.pick.test(c.name));
        if (found === undefined)
          throw new Error(`no choice like ${step.pick} at "${q.message}": ${q.choices.map((c) => c.name).join(' | ')}`);
        answer = found.value;
      } else if (step.answer === ENTER) {
        answer = q.default !== undefined ? q.default : q.choices[0]!.value;
      } else {
        if (!q.choices.some((c) => c.value === step.answer))
          throw new Error(`${String(step.answer)} is not a choice at "${q.message}"`);
        answer = step.answer as T;
      }
      asked.push({
        kind: 'select',
        message: q.message,
        answer,
        choices: q.choices.map((c) => c.name),
        default: q.default,
      });
      await after(step);
      return answer;
    },
    async checkbox<T>(q: CheckboxQuestion<T>) {
      const step = next('checkbox', q.message) as Extract<ScriptStep, { checkbox: RegExp }>;
      const answer =
        step.answer === ENTER ? q.choices.filter((c) => c.checked).map((c) => c.value) : (step.answer as T[]);
      const error = q.validate?.(answer);
      if (error !== undefined) throw new Error(`${JSON.stringify(answer)} at "${q.message}" was rejected: ${error}`);
      asked.push({ kind: 'checkbox', message: q.message, answer, choices: q.choices.map((c) => c.name) });
      await after(step);
      return answer;
    },
  };
}
