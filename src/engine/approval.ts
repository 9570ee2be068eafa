/**
 * How a run asks for a yes: one request, one host that answers it (a terminal, `--yes`, the wizard). A request
 * says what would be approved and whether it lets more in, from the plan's security marks (the `(!)` of the plan).
 */
import { planSecurity, type Plan, type SectionPlan } from '../model.js';

/** `broadening`: a change the plan marks `(!)` (lets more principals in, or grants more). */
export type PermissionChange = 'none' | 'non-broadening' | 'broadening';

export interface ApprovalRequest {
  /** The whole plan at once (`apply`), or one section of it before that section runs (the wizard). */
  kind: 'plan' | 'section';
  plan: Plan;
  /** The section asked about (kind `section`). */
  section?: SectionPlan;
  permissionChange: PermissionChange;
  /** Why it is broadening: the security marks of its changes, `<resource>: <reason>`. */
  reasons: string[];
}

export interface ApprovalHost {
  /**
   * Throws when this host can never answer the request (a terminal host without a terminal). Called before
   * anything more is asked of AWS (the permission preflight), so a run that cannot go on stops first.
   */
  assertCanAsk?(req: ApprovalRequest): void;
  /** True to go ahead; false leaves it undone. */
  approve(req: ApprovalRequest): Promise<boolean>;
}

function request(kind: ApprovalRequest['kind'], plan: Plan, sections: SectionPlan[]): ApprovalRequest {
  const reasons = planSecurity({ ...plan, sections });
  const changes = sections.some((s) => s.resources.some((r) => r.steps.length > 0));
  const permissionChange: PermissionChange = !changes ? 'none' : reasons.length > 0 ? 'broadening' : 'non-broadening';
  return { kind, plan, permissionChange, reasons };
}

/** The request for a whole plan. */
export function planApproval(plan: Plan): ApprovalRequest {
  return request('plan', plan, plan.sections);
}

/** The request for one section of a plan. */
export function sectionApproval(plan: Plan, section: SectionPlan): ApprovalRequest {
  return { ...request('section', plan, [section]), section };
}
