/**
 * Progress on stderr: a spinner on a terminal (uncoloured when colour is off), nothing otherwise (logs stay
 * clean); `--debug` lines always.
 * Results are not progress: they are written by the command.
 */
import type { Ora } from 'ora';

export interface Progress {
  start(text: string): void;
  update(text: string): void;
  /** Stop the spinner and leave nothing behind (the command prints the result line). */
  clear(): void;
  /** Write a line without breaking the spinner. */
  log(line: string): void;
}

export async function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  enabled: boolean,
  color = true,
): Promise<Progress> {
  // A terminal that reports no width (some pseudo-terminals) gets no spinner: ora cannot lay one out there.
  if (!enabled || stream.isTTY !== true || !(stream.columns !== undefined && stream.columns > 0)) {
    return {
      start: () => {},
      update: () => {},
      clear: () => {},
      log: (line) => void stream.write(`${line}\n`),
    };
  }
  const { default: ora } = await import('ora');
  let spinner: Ora | undefined;
  const start = (text: string) => {
    spinner?.stop();
    spinner = ora({ text, stream, discardStdin: false, ...(color ? {} : { color: false }) }).start();
  };
  return {
    start,
    update(text) {
      if (spinner) spinner.text = text;
      else start(text);
    },
    clear() {
      spinner?.stop();
      spinner = undefined;
    },
    log(line) {
      if (spinner?.isSpinning) {
        spinner.clear();
        stream.write(`${line}\n`);
        spinner.render();
      } else {
        stream.write(`${line}\n`);
      }
    },
  };
}
