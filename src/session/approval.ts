/**
 * The approval hosts of the commands: a question on the terminal, or `--yes`. (The wizard has its own, which asks
 * before each section.)
 */
import type { ApprovalHost, ApprovalRequest } from '../engine/approval.js';
import { askOnTerminal, requireTerminal } from './context.js';
import type { CliIo } from './io.js';

/** The question for a request: a change marked (!) is named, and makes No the default. */
function question(req: ApprovalRequest): { message: string; default: boolean } {
  const broadening = req.permissionChange === 'broadening';
  const marked = broadening ? ', including the security-relevant ones marked (!)' : '';
  const message =
    req.kind === 'section' && req.section !== undefined
      ? `Apply the changes to the ${req.section.title}${marked}?`
      : `Apply these changes${marked}?`;
  return { message, default: !broadening };
}

/**
 * Asks on the terminal (the question on stderr); without one (stdin or stderr not a terminal) it refuses, saying
 * what to pass instead. Ctrl-C, or the signal, cancels (exit 130).
 */
export function terminalHost(io: CliIo, signal: AbortSignal): ApprovalHost {
  const assertCanAsk = (): void =>
    requireTerminal(
      io,
      'the plan above changes AWS, and there is no terminal to ask for a yes',
      'pass --yes to apply it, or --dry-run to only print the plan',
    );
  return {
    assertCanAsk,
    async approve(req) {
      if (req.permissionChange === 'none') return true;
      assertCanAsk();
      return askOnTerminal(io, signal, question(req));
    },
  };
}

/** `--yes`: approves without asking. */
export function yesHost(): ApprovalHost {
  return {
    async approve(req) {
      switch (req.permissionChange) {
        case 'none':
        case 'non-broadening':
          return true;
        case 'broadening':
          // --yes approves these too. (A rule that they also need another flag would refuse here, with req.reasons.)
          return true;
      }
    },
  };
}
