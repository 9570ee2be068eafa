/**
 * Applying a plan, as every adapter does it: the permission preflight (unless turned off), the host's yes (for the
 * whole plan at once, or before each section), then the engine's run with progress. `apply` and the wizard both
 * come through here, so both check permissions and ask in the same order.
 */
import type { AwsGateway } from '../aws/gateway.js';
import { applyPlan, type ApplyEvent, type ApplyOptions, type RunResult } from '../engine/apply.js';
import { planApproval, type ApprovalHost } from '../engine/approval.js';
import { DEFAULT_CONCURRENCY } from '../engine/engine.js';
import { CancelledError, ExitCode } from '../errors.js';
import type { Plan } from '../model.js';
import type { AccountRoles, PermissionsAhead } from '../permissions/preflight.js';
import { stepText } from '../render/step-text.js';
import type { Output } from './context.js';

export interface ApplyRunOptions {
  /** Ask the host once for the whole plan (`apply`), or before each section with changes (the wizard). */
  approve: 'plan' | 'section';
  /** Check the plan's changes against the caller's permissions first (`--no-preflight` turns it off). */
  preflight: boolean;
  /** What IAM answered before the plan was made (`askPermissionsAhead`): the preflight asks only the rest. */
  permissionsAhead?: Promise<PermissionsAhead>;
  /** The account's roles as the plan listed them: the preflight finds a role session's role there. */
  roles?: AccountRoles;
  /** The preflight's line on stderr, to keep stdout for the JSON. */
  json?: boolean;
  /** The config file, for the command the preflight's hint names. */
  config?: string;
  concurrency?: number;
  signal: AbortSignal;
  consistency?: ApplyOptions['consistency'];
  /**
   * Called once the plan is approved, on the turn of the event loop after the run starts (in a run approved as a
   * whole, once its first writes are sent), to start what goes beside the run; not if the run has ended by then.
   */
  onStart?(): void;
  /** The engine's events, after the progress line has been updated for them. */
  onEvent?(event: ApplyEvent): void;
}

export interface ApplyRunResult {
  result: RunResult;
  /** The preflight: checked (nothing denied), could not check (said so, went on), or not run. */
  permissions: 'checked' | 'not-checked' | 'skipped';
}

/**
 * Throws, before any change, when the host can never answer (no terminal), when the preflight finds a permission
 * denied, or when the host says no to the whole plan ("Not applied", exit 1). A section the host declines is
 * reported in the result as `declined`.
 */
export async function applyRun(
  plan: Plan,
  gateway: AwsGateway,
  host: ApprovalHost,
  output: Output,
  options: ApplyRunOptions,
): Promise<ApplyRunResult> {
  const request = planApproval(plan);
  const changes = request.permissionChange !== 'none';
  // Refused without a way to ask: said before asking IAM anything more.
  if (changes) host.assertCanAsk?.(request);
  let permissions: ApplyRunResult['permissions'] = 'skipped';
  if (changes && options.preflight) {
    const { preflight } = await import('./preflight.js');
    permissions = await preflight(plan, gateway, output, options);
  }
  if (changes && options.approve === 'plan' && !(await host.approve(request))) {
    throw new CancelledError('Not applied; nothing was changed.', ExitCode.Failure);
  }
  // What goes beside the run (the access check's reads, loading its evaluator) starts on the next turn of the event
  // loop, once applyPlan has started: in a run approved as a whole its first writes are then on their way (it sends
  // them before it first waits, unless --prune's removals go first), and it neither queues before them nor holds up
  // sending them. Not once the run has ended: nothing is sent after it.
  const soon = setImmediate(() => {
    try {
      options.onStart?.();
    } catch {
      // What goes beside the run is not the run: without it, the access check reads what it needs itself.
    }
  });
  const result = await applyPlan(
    plan,
    gateway,
    {
      ...(options.approve === 'section' ? { approval: host } : {}),
      onEvent(event) {
        if (event.type === 'step') output.progress.update(`${event.resource}: ${stepText(event.step)}`);
        else if (event.type === 'leftover-step') output.progress.update(`${event.role}: ${stepText(event.step)}`);
        else if (event.type === 'verify') output.progress.update(`${event.resource}: checking the result`);
        options.onEvent?.(event);
      },
    },
    {
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      signal: options.signal,
      ...(options.consistency ? { consistency: options.consistency } : {}),
    },
  ).finally(() => clearImmediate(soon));
  output.progress.clear();
  return { result, permissions };
}
