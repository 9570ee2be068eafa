/**
 * Ctrl-C and SIGTERM while AWS is being changed: the first one asks the engine to stop after the calls in flight,
 * once a role it has just created has its policies (it then reports what was done); a second Ctrl-C quits at once.
 */
import type { CliIo } from './io.js';
import { ExitCode } from '../errors.js';

export interface Interrupt {
  signal: AbortSignal;
  signalName(): string | undefined;
  exitCode(): ExitCode;
  dispose(): void;
}

/**
 * What the first Ctrl-C (or SIGTERM) stops after: while applying, a role the run has just created gets the rest of
 * its steps first (its policies), so that the same command finishes the job; `destroy` stops after the call in
 * flight.
 */
const STOPPING = {
  apply: 'stopping after the AWS calls in flight, once a role just created has its policies',
  destroy: 'stopping after the AWS call in flight',
} as const;

export function interruptController(io: CliIo, run: keyof typeof STOPPING = 'apply'): Interrupt {
  const controller = new AbortController();
  let received: string | undefined;
  const onExternal = () => {
    received ??= 'SIGINT';
    controller.abort();
  };
  io.signal?.addEventListener('abort', onExternal, { once: true });
  if (io.signal?.aborted) onExternal();

  const handlers: [NodeJS.Signals, () => void][] = [];
  if (io.handleSignals) {
    for (const name of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => {
        if (controller.signal.aborted) {
          io.stderr.write('\nStopped at once; run again to see what is left to do.\n');
          process.exit(name === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted);
        }
        received = name;
        io.stderr.write(
          `\n${name === 'SIGINT' ? 'Ctrl-C' : name}: ${STOPPING[run]} (Ctrl-C again to quit at once)...\n`,
        );
        controller.abort();
      };
      process.on(name, handler);
      handlers.push([name, handler]);
    }
  }
  return {
    signal: controller.signal,
    signalName: () => received,
    exitCode: () => (received === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted),
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
      io.signal?.removeEventListener('abort', onExternal);
    },
  };
}
