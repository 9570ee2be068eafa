/**
 * The approval hosts of the commands: a question on the terminal, or `--yes`. (The wizard has its own, which asks
 * before each section.)
 */
import type { ApprovalHost, ApprovalRequest } from '../engine/approval.js';
import { BroadeningNotApprovedError } from '../errors.js';
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

/**
 * `--yes`: approves, without asking, the changes that do not broaden access; those that do only with
 * `--approve-broadening` as well (AWS CDK's `--require-approval broadening`). Refused, it stops before any change
 * (and before the permission preflight), listing the changes marked (!) with their reasons.
 */
export function yesHost(options: { approveBroadening: boolean }): ApprovalHost {
  const refuse = (req: ApprovalRequest): boolean => req.permissionChange === 'broadening' && !options.approveBroadening;
  return {
    assertCanAsk(req) {
      if (refuse(req)) throw new BroadeningNotApprovedError(req.reasons);
    },
    async approve(req) {
      if (refuse(req)) throw new BroadeningNotApprovedError(req.reasons);
      return true;
    },
  };
}
