/**
 * The permission preflight as the apply command shows it: one line when all is allowed or when it could not
 * check, and a stop (exit 1) listing what is denied before any change.
 */
import type { AwsGateway } from '../aws/gateway.js';
import type { Plan } from '../model.js';
import { UserError } from '../errors.js';
import { checkPermissions, type AccountRoles, type Denial, type PermissionsAhead } from '../permissions/preflight.js';
import type { Output } from './context.js';

function denialText(d: Denial): string {
  const given = d.context.map((c) => ` with ${c.key} ${c.values.join(', ')}`).join('');
  const missing = d.missingContext.length > 0 ? ` (depends on ${d.missingContext.join(', ')})` : '';
  return `${d.action} on ${d.resource}${given}${d.decision === 'explicitDeny' ? ' (explicitly denied)' : ''}${missing}`;
}

/**
 * Checks the plan's changes against the caller's permissions; throws when some are denied. Says whether it could
 * check (`not-checked`: IAM could not answer, and the run goes on).
 */
export async function preflight(
  plan: Plan,
  gateway: AwsGateway,
  output: Output,
  options: {
    json?: boolean;
    config?: string;
    permissionsAhead?: Promise<PermissionsAhead>;
    /** The account's roles as the plan listed them. */
    roles?: AccountRoles;
  },
): Promise<'checked' | 'not-checked'> {
  const write = options.json ? output.err : output.out;
  const style = options.json ? output.errStyle : output.style;
  output.progress.start('Checking permissions (iam:SimulatePrincipalPolicy)');
  let outcome: Awaited<ReturnType<typeof checkPermissions>>;
  try {
    outcome = await checkPermissions(plan, gateway, undefined, options.permissionsAhead, options.roles);
  } finally {
    output.progress.clear();
  }
  if (outcome.status === 'not-checked') {
    write(style.dim(`Permissions not checked: ${outcome.reason}; going on (--no-preflight skips this check).`));
    return 'not-checked';
  }
  if (outcome.denied.length > 0) {
    const lines = outcome.denied.map((d) => `  - ${denialText(d)}`);
    throw new UserError(
      `${outcome.principal} lacks ${outcome.denied.length} permission(s) this plan needs; nothing was changed:\n${lines.join('\n')}`,
      {
        hint:
          `flyte-aws-setup permissions --config ${options.config ?? 'FILE'} prints a policy with what this config needs; ` +
          '--no-preflight skips this check',
      },
    );
  }
  write(`Permissions checked for ${outcome.principal}: all ${outcome.checks} action(s) of the plan are allowed.`);
  if (outcome.uncertain.length > 0) {
    write(
      style.warn(
        `warning: ${outcome.uncertain.length} could not be decided without the request's own context: ${outcome.uncertain.map(denialText).join('; ')}`,
      ),
    );
  }
  return 'checked';
}
