/**
 * The approval hosts: what a request says (from the plan's (!) marks), the terminal's question and its refusal
 * without a terminal, --yes, and the wizard's question before a section.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli.js';
import { planApproval, sectionApproval } from '../../src/engine/approval.js';
import { makePlan } from '../../src/engine/engine.js';
import { BroadeningNotApprovedError, UsageError } from '../../src/errors.js';
import { parseConfigText } from '../../src/load/config.js';
import type { Plan } from '../../src/model.js';
import { plainStyle } from '../../src/render/style.js';
import { terminalHost, yesHost } from '../../src/session/approval.js';
import { wizardApprovalHost } from '../../src/wizard/approval.js';
import { InterruptedByUser } from '../../src/wizard/prompter.js';
import { ENTER, scriptedPrompter } from '../helpers/script-prompter.js';

const BASE = 'region: eu-west-1\naccountId: "111122223333"\nbucket: acme-flyte-data\ncluster: acme\n';
/** The documents' setup: the workers role trusts every namespace, which the plan marks (!). */
const FULL = BASE;
/** The cluster and node roles only: changes, none marked. */
const ROLES_ONLY = `${BASE}oidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n`;

const plan = (text: string): Promise<Plan> => makePlan(parseConfigText(text), undefined, { offline: true });

/** A plan with nothing to change: every resource as it is. */
function unchanged(p: Plan): Plan {
  return {
    ...p,
    sections: p.sections.map((s) => ({
      ...s,
      status: 'unchanged' as const,
      resources: s.resources.map((r) => ({ ...r, action: 'none' as const, steps: [], security: [] })),
    })),
  };
}

function terminal(tty: boolean) {
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let screen = '';
  // The prompt's colours and cursor moves left out.
  stderr.on('data', (d: Buffer) => (screen += d.toString().replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')));
  const io: CliIo = { stdin, stderr, stdout: new PassThrough(), env: { NO_COLOR: '1' }, handleSignals: false };
  const waitFor = async (text: string) => {
    for (let i = 0; i < 200 && !screen.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
    if (!screen.includes(text)) throw new Error(`"${text}" never appeared on the screen:\n${screen}`);
  };
  return { io, stdin, waitFor, screen: () => screen };
}

describe('an approval request', () => {
  it('broadening when the plan marks a change (!), with the marks as reasons', async () => {
    const p = await plan(FULL);
    const req = planApproval(p);
    expect(req).toMatchObject({ kind: 'plan', permissionChange: 'broadening' });
    expect(req.reasons).toEqual(['flyte-workers-role: trust: wildcard in sub: system:serviceaccount:*:default']);
    const workers = p.sections.find((s) => s.id === 'workersRole')!;
    expect(sectionApproval(p, workers)).toMatchObject({
      kind: 'section',
      section: workers,
      permissionChange: 'broadening',
    });
    const cluster = p.sections.find((s) => s.id === 'clusterRole')!;
    expect(sectionApproval(p, cluster)).toMatchObject({ permissionChange: 'non-broadening', reasons: [] });
  });

  it('non-broadening for changes without a mark; none without changes', async () => {
    const p = await plan(ROLES_ONLY);
    expect(planApproval(p)).toMatchObject({ permissionChange: 'non-broadening', reasons: [] });
    expect(planApproval(unchanged(p)).permissionChange).toBe('none');
    const skipped = p.sections.find((s) => s.status === 'skipped')!;
    expect(sectionApproval(p, skipped).permissionChange).toBe('none');
  });
});

describe('the terminal host', () => {
  it('without a terminal: refuses, saying what to pass instead, before and when asked', async () => {
    const t = terminal(false);
    const host = terminalHost(t.io, new AbortController().signal);
    const req = planApproval(await plan(ROLES_ONLY));
    expect(() => host.assertCanAsk!(req)).toThrow(UsageError);
    expect(() => host.assertCanAsk!(req)).toThrow(
      'the plan above changes AWS, and there is no terminal to ask for a yes',
    );
    await expect(host.approve(req)).rejects.toMatchObject({
      exitCode: 2,
      hint: 'pass --yes to apply it, or --dry-run to only print the plan',
    });
    expect(t.screen()).toBe('');
  });

  it('nothing to change: approved without a question', async () => {
    const t = terminal(false);
    const host = terminalHost(t.io, new AbortController().signal);
    expect(await host.approve(planApproval(unchanged(await plan(ROLES_ONLY))))).toBe(true);
  });

  it('a broadening plan: the question names the (!) changes, and Enter is No', async () => {
    const t = terminal(true);
    const host = terminalHost(t.io, new AbortController().signal);
    const answer = host.approve(planApproval(await plan(FULL)));
    await t.waitFor('Apply these changes, including the security-relevant ones marked (!)? (y/N)');
    t.stdin.write('\r');
    expect(await answer).toBe(false);
  });

  it('other changes: Enter is Yes', async () => {
    const t = terminal(true);
    const host = terminalHost(t.io, new AbortController().signal);
    const answer = host.approve(planApproval(await plan(ROLES_ONLY)));
    await t.waitFor('Apply these changes? (Y/n)');
    t.stdin.write('\r');
    expect(await answer).toBe(true);
  });

  it('Ctrl-C, or the signal, cancels with exit 130', async () => {
    const t = terminal(true);
    const controller = new AbortController();
    const host = terminalHost(t.io, controller.signal);
    const answer = host.approve(planApproval(await plan(ROLES_ONLY)));
    await t.waitFor('Apply these changes?');
    controller.abort();
    await expect(answer).rejects.toMatchObject({ message: 'Cancelled; nothing was changed.', exitCode: 130 });
  });
});

describe('the --yes host', () => {
  it('approves what does not broaden access; refuses what does, before anything, listing the (!) reasons', async () => {
    const host = yesHost({ approveBroadening: false });
    const full = await plan(FULL);
    const rolesOnly = planApproval(await plan(ROLES_ONLY));
    expect(rolesOnly.permissionChange).toBe('non-broadening');
    expect(() => host.assertCanAsk!(rolesOnly)).not.toThrow();
    expect(await host.approve(rolesOnly)).toBe(true);
    expect(await host.approve(planApproval(unchanged(full)))).toBe(true);

    // The documents' workers role trusts *:default: a wildcard, broadening also when the role is first made.
    const broad = planApproval(full);
    expect(broad.permissionChange).toBe('broadening');
    let refused: unknown;
    try {
      host.assertCanAsk!(broad);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(BroadeningNotApprovedError);
    expect(refused).toMatchObject({ exitCode: 5, broadening: broad.reasons });
    expect((refused as Error).message).toMatch(/change\(s\) that broaden access .* nothing was changed/s);
    expect((refused as Error).message).toContain(
      'flyte-workers-role: trust: wildcard in sub: system:serviceaccount:*:default',
    );
    await expect(host.approve(broad)).rejects.toBeInstanceOf(BroadeningNotApprovedError);
    const workers = sectionApproval(
      full,
      full.sections.find((s) => s.id === 'workersRole')!,
    );
    await expect(host.approve(workers)).rejects.toBeInstanceOf(BroadeningNotApprovedError);
  });

  it('with --approve-broadening, approves every request and never refuses for want of a terminal', async () => {
    const host = yesHost({ approveBroadening: true });
    const full = await plan(FULL);
    expect(() => host.assertCanAsk!(planApproval(full))).not.toThrow();
    expect(await host.approve(planApproval(full))).toBe(true);
    expect(
      await host.approve(
        sectionApproval(
          full,
          full.sections.find((s) => s.id === 'workersRole')!,
        ),
      ),
    ).toBe(true);
  });
});

describe("the wizard's host", () => {
  it('asks per section in its words; a (!) change is explained first, with what the section adds', async () => {
    const p = await plan(FULL);
    const prompter = scriptedPrompter([
      { confirm: /^Create the EKS cluster role\?$/, answer: ENTER },
      { confirm: /^Create the Flyte workers role\?$/, answer: false },
    ]);
    const said: string[] = [];
    const host = wizardApprovalHost({
      prompter,
      say: (l) => void said.push(l),
      style: plainStyle,
      securityNote: (s) =>
        s.title === 'Flyte workers role' ? 'Here it is the namespace choice made above.' : undefined,
    });
    const section = (title: string) => p.sections.find((s) => s.title === title)!;
    expect(await host.approve(sectionApproval(p, section('EKS cluster role')))).toBe(true);
    expect(said).toEqual([]);
    expect(await host.approve(sectionApproval(p, section('Flyte workers role')))).toBe(false);
    expect(said.join(' ')).toBe(
      '(!) marks a security-relevant change: it lets more principals in, or grants more. Here it is the namespace choice made above.',
    );
    prompter.expectDone();
    // A change that broadens access is asked with No as the default: a yes is typed.
    expect(prompter.asked.map((a) => a.default)).toEqual([true, false]);
  });

  it('a section that exists is updated: "Apply these changes to the ..."; Ctrl-C is raised', async () => {
    const p = await plan(ROLES_ONLY);
    const cluster = { ...p.sections[0]!, status: 'update' as const };
    const prompter = scriptedPrompter([
      { confirm: /^Apply these changes to the EKS cluster role\?$/, answer: ENTER },
      { interrupt: /EKS cluster role/ },
    ]);
    const host = wizardApprovalHost({ prompter, say: () => {}, style: plainStyle });
    expect(await host.approve(sectionApproval(p, cluster))).toBe(true);
    await expect(host.approve(sectionApproval(p, cluster))).rejects.toBeInstanceOf(InterruptedByUser);
  });
});
