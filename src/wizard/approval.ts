/**
 * The wizard's approval host: before each section with changes, "Create the X?" or "Apply these changes to the
 * X?", Enter for yes; a change marked (!) is explained first, and Enter declines it (a yes is typed). Ctrl-C at the
 * question is raised from the run.
 */
import type { ApprovalHost } from '../engine/approval.js';
import type { SectionPlan } from '../model.js';
import type { Style } from '../render/style.js';
import type { Prompter } from './prompter.js';
import { inSentence } from './text.js';

export interface WizardApprovalContext {
  prompter: Prompter;
  say(line: string): void;
  style: Style;
  /** What the section's security-relevant change is, said after the (!) explanation. */
  securityNote?(section: SectionPlan): string | undefined;
  /** The default answer (else yes). */
  approveByDefault?: boolean;
}

export function wizardApprovalHost(ctx: WizardApprovalContext): ApprovalHost {
  return {
    async approve(req) {
      if (req.permissionChange === 'none') return true;
      // The wizard's plans hold the one section it is at.
      const section = req.section ?? (req.plan.sections.length === 1 ? req.plan.sections[0] : undefined);
      if (req.permissionChange === 'broadening') {
        const extra = section !== undefined ? ctx.securityNote?.(section) : undefined;
        const note =
          '(!) marks a security-relevant change: it lets more principals in, or grants more.' +
          (extra !== undefined ? ` ${extra}` : '');
        ctx.say(ctx.style.warn(note));
      }
      return ctx.prompter.confirm({
        message:
          section === undefined
            ? 'Apply these changes?'
            : section.status === 'create'
              ? `Create the ${inSentence(section.title)}?`
              : `Apply these changes to the ${inSentence(section.title)}?`,
        // A change that broadens access needs a yes typed: Enter declines it.
        default: req.permissionChange === 'broadening' ? false : (ctx.approveByDefault ?? true),
      });
    },
  };
}
