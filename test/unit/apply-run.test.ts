/**
 * The one apply path of `apply` and the wizard (mocked AWS): the refusal, the permission preflight, the host's yes
 * and the run, in that order; and both adapters stop the same way when the preflight finds a permission denied.
 */
import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { ListClustersCommand } from '@aws-sdk/client-eks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import type { ApprovalHost, ApprovalRequest } from '../../src/engine/approval.js';
import { makePlan } from '../../src/engine/engine.js';
import { UserError } from '../../src/errors.js';
import { parseConfigText } from '../../src/load/config.js';
import type { Progress } from '../../src/render/progress.js';
import { plainStyle } from '../../src/render/style.js';
import { applyRun } from '../../src/session/apply-run.js';
import type { Output } from '../../src/session/context.js';
import { runWizard, type WizardDeps } from '../../src/wizard/wizard.js';
import { writeConfig } from '../helpers/cli.js';
import { captureIo } from '../helpers/in-process.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';
import { scriptedPrompter, walkStart, type ScriptStep } from '../helpers/script-prompter.js';

const ACCOUNT = '111122223333';
/** The cluster role alone: the wizard's first section, and a whole plan for `apply`. */
const CLUSTER_ROLE_ONLY =
  'region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme\nnodeRole: false\noidcProvider: false\n' +
  'customPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n';
const FAST = { timeoutMs: 50, initialDelayMs: 1 };

function emptyAccount(m: ReturnType<typeof mockAws>) {
  m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
  m.eks.on(ListClustersCommand).resolves({ clusters: ['acme'] });
}

/** IAM's simulation: `iam:CreateRole` denied, everything else allowed. */
function denyCreateRole(input: SimulatePrincipalPolicyCommandInput) {
  return {
    EvaluationResults: (input.ActionNames ?? []).map((action) => ({
      EvalActionName: action,
      EvalDecision: 'allowed' as const,
      ResourceSpecificResults: (input.ResourceArns ?? []).map((resource) => ({
        EvalResourceName: resource,
        EvalResourceDecision: (action === 'iam:CreateRole' ? 'implicitDeny' : 'allowed') as 'allowed',
        MissingContextValues: [],
      })),
    })),
    IsTruncated: false,
  };
}

function captured(): { output: Output; lines: string[] } {
  const lines: string[] = [];
  const progress: Progress = { start: () => {}, update: () => {}, clear: () => {}, log: (l) => void lines.push(l) };
  const write = (l: string) => void lines.push(l);
  return { output: { out: write, err: write, style: plainStyle, errStyle: plainStyle, progress }, lines };
}

/** A host that records what it was asked, and in which order relative to the AWS calls. */
function recordingHost(m: ReturnType<typeof mockAws>, answer: boolean, log: string[]) {
  const asked: ApprovalRequest[] = [];
  const host: ApprovalHost = {
    assertCanAsk: () => void log.push(`assert (simulations so far: ${simulations(m)})`),
    approve: async (req) => {
      asked.push(req);
      log.push(`approve ${req.kind} (simulations so far: ${simulations(m)})`);
      return answer;
    },
  };
  return { host, asked };
}

const simulations = (m: ReturnType<typeof mockAws>) => m.iam.commandCalls(SimulatePrincipalPolicyCommand).length;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('applyRun', () => {
  async function planned() {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(parseConfigText(CLUSTER_ROLE_ONLY), m.gateway);
    return { m, plan };
  }

  it('whole plan: can the host ask, then the preflight, then the yes, then the run', async () => {
    const { m, plan } = await planned();
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied'));
    const log: string[] = [];
    const { host, asked } = recordingHost(m, true, log);
    const { output, lines } = captured();
    const run = await applyRun(plan, m.gateway, host, output, {
      approve: 'plan',
      preflight: true,
      signal: new AbortController().signal,
      consistency: FAST,
      onStart: () => void log.push(`start (creates so far: ${m.iam.commandCalls(CreateRoleCommand).length})`),
    });
    // The preflight is one round: its two calls (the role's creation, its attachment) at once, before the question;
    // what goes beside the run starts after the yes, once the first change is sent, not before it.
    expect(log).toEqual([
      'assert (simulations so far: 0)',
      'approve plan (simulations so far: 2)',
      'start (creates so far: 1)',
    ]);
    expect(asked[0]).toMatchObject({ kind: 'plan', permissionChange: 'non-broadening' });
    expect(run.permissions).toBe('not-checked');
    expect(lines[0]).toMatch(/^Permissions not checked: iam:SimulatePrincipalPolicy is not allowed for /);
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(1);
    expect(run.result.sections[0]!.id).toBe('clusterRole');
  });

  it('what goes beside the run does not start once the run has ended: nothing is sent after it', async () => {
    const { m, plan } = await planned();
    const log: string[] = [];
    const { host } = recordingHost(m, true, log);
    // The turn of the event loop that would start it comes only after the run has ended.
    vi.useFakeTimers({ toFake: ['setImmediate', 'clearImmediate'] });
    try {
      await applyRun(plan, m.gateway, host, captured().output, {
        approve: 'plan',
        preflight: false,
        signal: new AbortController().signal,
        consistency: FAST,
        onStart: () => void log.push('start'),
      });
      vi.runAllTicks();
      vi.runOnlyPendingTimers();
    } finally {
      vi.useRealTimers();
    }
    expect(log.filter((l) => l === 'start')).toEqual([]);
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(1);
  });

  it('a failure of what goes beside the run is not the run', async () => {
    const { m, plan } = await planned();
    const { host } = recordingHost(m, true, []);
    let called = 0;
    const run = await applyRun(plan, m.gateway, host, captured().output, {
      approve: 'plan',
      preflight: false,
      signal: new AbortController().signal,
      consistency: FAST,
      onStart: () => {
        called++;
        throw new Error('beside the run');
      },
    });
    // The run went on and ended as it would have (its sections' results know nothing of the failure).
    expect(called).toBe(1);
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(1);
    expect(run.result.sections[0]!.id).toBe('clusterRole');
    expect(JSON.stringify(run.result)).not.toContain('beside the run');
  });

  it('a no to the whole plan: "Not applied", exit 1, nothing called', async () => {
    const { m, plan } = await planned();
    const { host } = recordingHost(m, false, []);
    let started = false;
    await expect(
      applyRun(plan, m.gateway, host, captured().output, {
        approve: 'plan',
        preflight: false,
        signal: new AbortController().signal,
        onStart: () => void (started = true),
      }),
    ).rejects.toMatchObject({ message: 'Not applied; nothing was changed.', exitCode: 1 });
    expect(started).toBe(false);
    expect(simulations(m)).toBe(0);
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  it('per section: the engine asks the host before the section; a no declines it', async () => {
    const { m, plan } = await planned();
    const log: string[] = [];
    const { host, asked } = recordingHost(m, false, log);
    const run = await applyRun(plan, m.gateway, host, captured().output, {
      approve: 'section',
      preflight: false,
      signal: new AbortController().signal,
    });
    expect(asked.map((r) => [r.kind, r.section?.id])).toEqual([['section', 'clusterRole']]);
    expect(run.result.sections.map((s) => s.outcome)).toEqual(['declined', ...Array(10).fill('skipped')]);
    expect(run.permissions).toBe('skipped');
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  it('nothing to change: neither asked nor checked', async () => {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(parseConfigText(`${CLUSTER_ROLE_ONLY}clusterRole: false\n`), m.gateway);
    const log: string[] = [];
    const { host } = recordingHost(m, false, log);
    const run = await applyRun(plan, m.gateway, host, captured().output, {
      approve: 'plan',
      preflight: true,
      signal: new AbortController().signal,
    });
    expect(log).toEqual([]);
    expect(run.result.outcome).toBe('complete');
  });
});

describe('the preflight in both adapters', () => {
  /** The wizard against the mocked account, answering up to its first section. */
  function wizard(m: ReturnType<typeof mockAws>, script: ScriptStep[], deps: Partial<WizardDeps> = {}) {
    const cwd = mkdtempSync(join(tmpdir(), 'fas-apply-run-'));
    dirs.push(cwd);
    const said: string[] = [];
    const prompter = scriptedPrompter([...walkStart(), ...script]);
    const { output } = captured();
    const run = runWizard({
      prompter,
      say: (l) => void said.push(l),
      out: () => {},
      style: plainStyle,
      outStyle: plainStyle,
      progress: output.progress,
      connect: async () => ({ gateway: m.gateway, close: () => {} }),
      defaultRegion: async () => 'eu-west-1',
      profiles: () => [],
      cwd,
      signal: new AbortController().signal,
      flags: {},
      timing: { consistency: FAST },
      ...deps,
    });
    return { run, said, prompter };
  }

  it('a denied permission stops apply and the wizard with the same message, before any change or question', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(SimulatePrincipalPolicyCommand).callsFake(denyCreateRole);
    const c = captureIo();
    expect(await main(['--config', writeConfig(CLUSTER_ROLE_ONLY), '--yes'], c.io)).toBe(1);
    const message =
      `arn:aws:iam::${ACCOUNT}:role/Admin lacks 1 permission(s) this plan needs; nothing was changed:\n` +
      `  - iam:CreateRole on arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`;
    expect(c.err()).toContain(`error: ${message}\n`);

    const w = wizard(m, []);
    const err = await w.run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(message);
    expect((err as UserError).hint).toMatch(
      /prints a policy with what this config needs; --no-preflight skips this check/,
    );
    // Asked nothing about the section: the check comes before the question.
    w.prompter.expectDone();
    expect(w.said).toContain('Before this error, nothing was changed in AWS.');
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  it('in the wizard, a check IAM cannot answer is said once, not asked again for each section', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied'));
    const w = wizard(m, [
      { confirm: /Create the EKS cluster role\?/, answer: false },
      { interrupt: /Create the EKS node role\?/ },
    ]);
    expect((await w.run).exitCode).toBe(130);
    w.prompter.expectDone();
    expect(w.said.filter((l) => l.startsWith('Permissions not checked'))).toEqual([
      'Permissions not checked: iam:SimulatePrincipalPolicy is not allowed for ' +
        `arn:aws:iam::${ACCOUNT}:role/Admin; going on (--no-preflight skips this check).`,
    ]);
    // One round for the whole plan (its calls at once, at most 4), none for the sections after it.
    expect(simulations(m)).toBeGreaterThan(0);
    expect(simulations(m)).toBeLessThanOrEqual(4);
  });

  it('--no-preflight: the wizard checks nothing', async () => {
    const m = mockAws();
    emptyAccount(m);
    const w = wizard(m, [{ interrupt: /Create the EKS cluster role\?/ }], { preflight: false });
    expect((await w.run).exitCode).toBe(130);
    expect(simulations(m)).toBe(0);
    expect(w.said.join('\n')).not.toContain('Permissions');
  });
});
