/**
 * The wizard's questions go through this small interface, so the flow can be driven by a script in tests and by
 * @inquirer/prompts in a terminal (prompts on stderr, answers from stdin). Ctrl-C at a prompt, or the run's abort
 * signal, becomes a `InterruptedByUser`.
 */
import type { CliIo } from '../session/io.js';
import { CancelledError, ExitCode } from '../errors.js';
import type { SectionPrompter, SelectQuestion, CheckboxQuestion } from '../sections/section.js';

export type { CheckboxQuestion, Choice, ConfirmQuestion, InputQuestion, SelectQuestion } from '../sections/section.js';

/** The questions of the wizard and of the sections' wizard hooks. */
export type Prompter = SectionPrompter;

/** Ctrl-C at a prompt (or the run was interrupted while one was open). */
export class InterruptedByUser extends CancelledError {
  constructor() {
    super('Interrupted.', ExitCode.Interrupted);
    this.name = 'InterruptedByUser';
  }
}

function mapCancel(err: unknown): never {
  const name = (err as Error | undefined)?.name;
  if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new InterruptedByUser();
  throw err;
}

/** The real prompts, in the terminal. @inquirer/prompts is loaded on the first question. */
export function inquirerPrompter(io: CliIo, signal?: AbortSignal): Prompter {
  const context = { input: io.stdin, output: io.stderr, ...(signal ? { signal } : {}) };
  const prompts = () => import('@inquirer/prompts');
  return {
    async input(q) {
      const { input } = await prompts();
      const answer = await input(
        {
          message: q.message,
          ...(q.default !== undefined && q.default !== '' ? { default: q.default } : {}),
          validate: (value: string) => q.validate?.(value.trim()) ?? true,
        },
        context,
      ).catch(mapCancel);
      return answer.trim();
    },
    async confirm(q) {
      const { confirm } = await prompts();
      return confirm({ message: q.message, default: q.default }, context).catch(mapCancel);
    },
    async select<T>(q: SelectQuestion<T>) {
      const { select } = await prompts();
      return select<T>(
        {
          message: q.message,
          choices: q.choices.map((c) => ({
            name: c.name,
            value: c.value,
            ...(c.description ? { description: c.description } : {}),
            ...(c.short ? { short: c.short } : {}),
          })),
          ...(q.default !== undefined ? { default: q.default } : {}),
          pageSize: 10,
        },
        context,
      ).catch(mapCancel);
    },
    async checkbox<T>(q: CheckboxQuestion<T>) {
      const { checkbox } = await prompts();
      return checkbox<T>(
        {
          message: q.message,
          choices: q.choices.map((c) => ({
            name: c.name,
            value: c.value,
            checked: c.checked ?? false,
            ...(c.description ? { description: c.description } : {}),
            ...(c.short ? { short: c.short } : {}),
          })),
          validate: (items: readonly { value: T }[]) => q.validate?.(items.map((i) => i.value)) ?? true,
        },
        context,
      ).catch(mapCancel);
    },
  };
}
