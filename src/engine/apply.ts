/**
 * Applying a plan: sections run as soon as the sections they depend on are done and checked (independent ones
 * at the same time, up to a bound), the resources of a section at the same time (up to the same bound), each
 * resource's steps in order (its policy attachments at once), then read back until it matches (IAM is eventually
 * consistent). A section waiting in a back-off gives up its place to others. The engine never prompts: it asks its
 * host.
 */
import { isCode, isTransient, originalMessage } from '../aws/errors.js';
import type { AwsGateway } from '../aws/gateway.js';
import type { SectionId } from '../config/schema.js';
import { UserError } from '../errors.js';
import { sectionById } from '../sections/derived.js';
import { limiter, sleep, type Slot } from '../util/concurrency.js';
import { poll, retry, systemClock, type Clock } from '../util/retry.js';
import { LEFTOVER_KIND } from '../model.js';
import { DEFAULT_CONCURRENCY, readResource } from './engine.js';
import { pruneLeftovers, type LeftoverResult } from './leftovers.js';
import type {
  CurrentResource,
  CurrentRole,
  Facts,
  Finding,
  Leftover,
  Note,
  Plan,
  ResourceAction,
  ResourcePlan,
  SectionPlan,
  Step,
} from '../model.js';
import { planResource, resourceKey } from './plan.js';
import { sectionApproval, type ApprovalHost } from './approval.js';

export type SectionOutcome =
  'created' | 'updated' | 'unchanged' | 'waiting' | 'skipped' | 'declined' | 'failed' | 'interrupted' | 'not-run';

export interface ResourceResult {
  kind: ResourcePlan['kind'];
  name: string;
  arn: string;
  action: ResourceAction;
  done: Step[];
  remaining: Step[];
  notes: Note[];
  /** What a check found and left as it is (e.g. the VPC's DNS settings with `vpcDns: check`). */
  findings?: Finding[];
  /** Why the plan could not carry out the config for it (nothing was called). */
  blocked?: string;
}

export interface SectionResult {
  id: SectionId;
  title: string;
  outcome: SectionOutcome;
  resources: ResourceResult[];
  waiting?: { reason: string; todo: string };
  /** `stack` only for an internal error (a bug), which is reported with it. */
  error?: { message: string; hint?: string; code?: string; stack?: string };
  /** Why a section did not run (a dependency failed, the run stopped). */
  reason?: string;
}

export type RunOutcome = 'complete' | 'incomplete' | 'failed' | 'interrupted';

export interface RunResult {
  outcome: RunOutcome;
  facts: Facts;
  sections: SectionResult[];
  /** With `--prune`: what became of each of the setup's roles the config no longer names. */
  leftovers?: LeftoverResult[];
}

export type ApplyEvent =
  | { type: 'section-start'; section: SectionPlan }
  | { type: 'step'; section: SectionId; resource: string; step: Step }
  | { type: 'verify'; section: SectionId; resource: string }
  | { type: 'section-done'; result: SectionResult }
  | { type: 'leftover-step'; role: string; step: Step }
  /** Leftovers removed (--prune): the pod identity associations before the sections, the rest after them. */
  | { type: 'leftovers-done'; results: LeftoverResult[] };

export interface ApplyHost {
  /** Asked before each section with changes; a no skips it (declined). Absent: every section is applied. */
  approval?: ApprovalHost;
  onEvent?(event: ApplyEvent): void;
}

export interface ApplyOptions {
  /** Sections in flight at once (1 for the wizard, which asks before each). */
  concurrency?: number;
  /**
   * Stop before the next AWS call when aborted; the calls in flight complete. A resource this run has just created
   * is first given the rest of its steps (a role its policies), so that none is left half made: the next run would
   * see its attachments as broadening access.
   */
  signal?: AbortSignal;
  /** How long to wait for IAM to show a change (eventual consistency), and the first pause between reads. */
  consistency?: { timeoutMs: number; initialDelayMs: number };
}

export class InterruptedError extends UserError {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

/** The account is not in the state the config describes, even after waiting for IAM to settle. */
export class VerificationError extends UserError {
  constructor(resource: string, remaining: Step[]) {
    super(
      `${resource} does not match the config after the changes: still to do ${remaining.map((s) => s.op).join(', ')}`,
      { hint: 'someone or something may be changing it at the same time; run again to see the plan' },
    );
    this.name = 'VerificationError';
  }
}

/**
 * IAM usually shows a change within a second or two: the read-backs start 200 ms apart, each pause a quarter longer
 * than the one before (200, 250, 313, 391, 488 ms...), so a lag costs little more than itself (a read lands at most
 * a quarter of the time waited after IAM caught up; with each pause half as long again, a 1 s lag cost 1.6 s).
 */
const DEFAULT_CONSISTENCY = { timeoutMs: 60_000, initialDelayMs: 200 };
const BACKOFF_FACTOR = 1.25;
/** The longest pause between tries while waiting for IAM. */
const MAX_DELAY_MS = 8_000;
const CREATES = new Set<Step['op']>([
  'CreateRole',
  'CreatePolicy',
  'CreateOpenIDConnectProvider',
  'CreatePodIdentityAssociation',
  'CreateAddon',
]);

interface RunState {
  plan: Plan;
  gateway: AwsGateway;
  options: Required<Pick<ApplyOptions, 'consistency'>> & ApplyOptions;
  /** Names and ARNs of what this run created: only those may be missing for a moment (eventual consistency). */
  created: Set<string>;
  stopped: boolean;
  /** What AWS holds for each resource as far as the run knows: the plan's read, then the last read-back. */
  final: Map<string, CurrentResource | undefined>;
}

export async function applyPlan(
  plan: Plan,
  gateway: AwsGateway,
  host: ApplyHost = {},
  options: ApplyOptions = {},
): Promise<RunResult> {
  const state: RunState = {
    plan,
    gateway,
    options: { ...options, consistency: options.consistency ?? DEFAULT_CONSISTENCY },
    created: new Set(),
    stopped: false,
    final: new Map(plan.sections.flatMap((s) => s.resources.map((r) => [resourceKey(r.desired), r.current] as const))),
  };
  const limit = limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
  const byId = new Map<SectionId, Promise<SectionResult>>();
  const emitter = orderedEmitter(plan.sections.length, (result) => host.onEvent?.({ type: 'section-done', result }));

  // --prune: the setup's pod identity associations in clusters the config no longer names go first. The sections
  // may narrow the roles' trusts, which are the only way a later run finds that cluster: a run stopped between the
  // two must not have narrowed them first. The roles and OIDC providers the config no longer names go after the
  // sections, which never need them.
  const all = plan.leftovers ?? [];
  const pruned = all.some((l) => l.action !== 'listed');
  const pruneOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    consistency: state.options.consistency,
    onStep: (name: string, step: Step) => host.onEvent?.({ type: 'leftover-step', role: name, step }),
  };
  const goFirst = (l: Leftover) => l.kind === 'pod-identity-association' && l.action === 'remove';
  const early = all.some(goFirst) ? await pruneLeftovers(all.filter(goFirst), gateway, pruneOptions) : [];
  if (early.length > 0) host.onEvent?.({ type: 'leftovers-done', results: early });
  const failed = early.find((r) => r.outcome !== 'removed');
  // After an interrupt the sections say the run stopped before them, and the other leftovers that they were
  // interrupted, not that they wait.
  const held =
    failed !== undefined && !options.signal?.aborted
      ? `waits for the removal of the ${LEFTOVER_KIND['pod-identity-association']} ${failed.name}, which did not complete`
      : undefined;

  for (const section of startOrder(plan.sections)) {
    const index = plan.sections.indexOf(section);
    const deps = sectionById(section.id)
      .dependsOn.map((d) => byId.get(d))
      .filter((p): p is Promise<SectionResult> => p !== undefined);
    const promise = (async (): Promise<SectionResult> => {
      // Only a section with changes needs what it depends on.
      if (section.status !== 'create' && section.status !== 'update') return runSection(section, state, host);
      if (held !== undefined) return notRun(section, held);
      const depResults = await Promise.all(deps);
      const failedDep = depResults.find((r) => ['failed', 'interrupted', 'not-run'].includes(r.outcome));
      if (failedDep !== undefined) return notRun(section, `needs ${failedDep.id}, which did not complete`);
      return limit((slot) => runSection(section, state, host, slot));
    })();
    byId.set(section.id, promise);
    // A section that throws (a host whose question fails) rejects applyPlan below; this report only needs results.
    promise.then(
      (r) => emitter(index, r),
      () => {},
    );
  }

  const sections = await Promise.all(plan.sections.map((s) => byId.get(s.id)!));
  const rest = all.filter((l) => !goFirst(l));
  const late = pruned
    ? await pruneLeftovers(rest, gateway, { ...pruneOptions, ...(held !== undefined ? { held } : {}) })
    : [];
  if (late.length > 0) host.onEvent?.({ type: 'leftovers-done', results: late });
  const leftovers = pruned ? [...early, ...late] : undefined;
  const result: RunResult = {
    outcome: runOutcome(sections, options.signal, leftovers),
    facts: plan.facts,
    sections,
    ...(leftovers !== undefined ? { leftovers } : {}),
  };
  finals.set(result, state.final);
  return result;
}

/**
 * The sections in the order they start: those that more of the plan's sections with changes wait for (directly or
 * through another) first, the others in the plan's order. A section has more sections waiting for it than any
 * section with changes that depends on it, so each still starts after what it needs. Where requests queue (the bound
 * on requests in flight, a service that answers them in turn), the writes that others wait for go first.
 */
export function startOrder(sections: readonly SectionPlan[]): SectionPlan[] {
  const ids = new Set(sections.map((s) => s.id));
  const waitedFor = new Map<SectionId, number>();
  const changes = (s: SectionPlan) => s.status === 'create' || s.status === 'update';
  const needs = (id: SectionId, seen = new Set<SectionId>()): Set<SectionId> => {
    for (const d of sectionById(id).dependsOn) {
      if (seen.has(d)) continue;
      seen.add(d);
      needs(d, seen);
    }
    return seen;
  };
  for (const s of sections.filter(changes)) {
    for (const d of needs(s.id)) if (ids.has(d)) waitedFor.set(d, (waitedFor.get(d) ?? 0) + 1);
  }
  return sections
    .map((s, i) => ({ s, i, n: waitedFor.get(s.id) ?? 0 }))
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .map(({ s }) => s);
}

/** What the run left, kept beside its result (not in its JSON). */
const finals = new WeakMap<RunResult, ReadonlyMap<string, CurrentResource | undefined>>();

/**
 * What AWS holds for each resource of the plan as the run left it, by `resourceKey`: for one the run wrote, what its
 * last read-back returned (a role without its inline policies, which the run never writes); for the others, what
 * the plan read. Undefined for a result this module did not make.
 */
export function finalState(result: RunResult): ReadonlyMap<string, CurrentResource | undefined> | undefined {
  return finals.get(result);
}

function runOutcome(sections: SectionResult[], signal?: AbortSignal, leftovers: LeftoverResult[] = []): RunOutcome {
  if (signal?.aborted) return 'interrupted';
  if (sections.some((s) => ['failed', 'interrupted', 'not-run'].includes(s.outcome))) return 'failed';
  // A leftover --prune could not remove still grants access: the run is not done.
  if (leftovers.some((l) => l.outcome !== 'removed' && l.outcome !== 'restored')) return 'failed';
  if (sections.some((s) => s.outcome === 'waiting' || s.outcome === 'declined')) return 'incomplete';
  return 'complete';
}

/** Calls `emit` in section order, whatever order the sections finish in. */
function orderedEmitter(count: number, emit: (r: SectionResult) => void): (index: number, r: SectionResult) => void {
  const done: (SectionResult | undefined)[] = new Array(count);
  let next = 0;
  return (index, r) => {
    done[index] = r;
    while (next < count && done[next] !== undefined) emit(done[next++]!);
  };
}

function resourceResult(r: ResourcePlan, done: Step[] = [], remaining: Step[] = r.steps, arn = r.arn): ResourceResult {
  return {
    kind: r.kind,
    name: r.name,
    arn,
    action: r.action,
    done,
    remaining,
    notes: r.notes,
    ...(r.findings !== undefined ? { findings: r.findings } : {}),
    ...(r.blocked !== undefined ? { blocked: r.blocked } : {}),
  };
}

function notRun(section: SectionPlan, reason: string): SectionResult {
  return {
    id: section.id,
    title: section.title,
    outcome: 'not-run',
    resources: section.resources.map((r) => resourceResult(r)),
    reason,
  };
}

/**
 * The place of a section in the bound on sections, shared by its resources in flight: given up while every one of
 * them waits in a back-off (so that other sections can run), taken again before one goes on.
 */
class SectionPlace {
  private working = 0;
  private returning: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly slot: Slot) {}

  start(): void {
    this.working++;
  }

  /** A resource is done. The place stays held: the section gives it back when it ends. */
  end(): void {
    this.working--;
  }

  /** A clock whose pauses do not hold the place. */
  clock(): Clock {
    return { now: systemClock.now, sleep: (ms, signal) => this.pause(() => sleep(ms, signal)) };
  }

  private async pause<T>(wait: () => Promise<T>): Promise<T> {
    this.working--;
    if (this.working === 0 && this.returning === undefined) {
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      this.returning = this.slot
        .idle(() => woken)
        .then(() => {
          this.returning = undefined;
        });
    }
    try {
      return await wait();
    } finally {
      this.working++;
      if (this.returning !== undefined) {
        this.wake?.();
        this.wake = undefined;
        await this.returning;
      }
    }
  }
}

async function runSection(section: SectionPlan, state: RunState, host: ApplyHost, slot?: Slot): Promise<SectionResult> {
  const base = { id: section.id, title: section.title };
  switch (section.status) {
    case 'skipped':
      return { ...base, outcome: 'skipped', resources: [] };
    case 'waiting':
      return { ...base, outcome: 'waiting', resources: [], ...(section.waiting ? { waiting: section.waiting } : {}) };
    case 'unchanged':
      return { ...base, outcome: 'unchanged', resources: section.resources.map((r) => resourceResult(r, [], [])) };
    case 'blocked': {
      // The plan already knows the config cannot be carried out here: nothing is called, the section fails.
      const reasons = section.resources.flatMap((r) => (r.blocked !== undefined ? [r.blocked] : []));
      return {
        ...base,
        outcome: 'failed',
        resources: section.resources.map((r) => resourceResult(r)),
        error: { message: reasons.join('; ') },
      };
    }
  }
  if (state.stopped || state.options.signal?.aborted) return notRun(section, 'the run stopped before this section');
  if (host.approval && !(await host.approval.approve(sectionApproval(state.plan, section)))) {
    return { ...base, outcome: 'declined', resources: section.resources.map((r) => resourceResult(r)) };
  }
  host.onEvent?.({ type: 'section-start', section });
  const concurrency = state.options.concurrency ?? DEFAULT_CONCURRENCY;
  // With one at a time (the wizard asks before each section) a section keeps its place to the end.
  const place = slot !== undefined && concurrency > 1 ? new SectionPlace(slot) : undefined;
  const clock = place?.clock();
  const limit = limiter(concurrency);
  const results: (ResourceResult | undefined)[] = section.resources.map(() => undefined);
  let failure: { error: unknown } | undefined;
  /** What has every step done but was not read back, as the run was interrupted. */
  const unchecked: string[] = [];
  await Promise.all(
    section.resources.map((resource, i) =>
      limit(async () => {
        // Once one failed, the ones not yet started are not started.
        if (failure !== undefined) return;
        const progress: Progress = { done: [], arn: resource.arn };
        place?.start();
        try {
          await applyResource(section.id, resource, state, host, progress, clock);
          results[i] = resourceResult(resource, progress.done, [], progress.arn);
        } catch (error) {
          state.stopped = true;
          // A real error (a role finishing what it was made with after an interrupt, whose attachment was refused)
          // is reported over the interrupt another resource stopped at.
          const prior = failure as { error: unknown } | undefined;
          if (prior === undefined || (prior.error instanceof InterruptedError && !(error instanceof InterruptedError)))
            failure = { error };
          results[i] = resourceResult(
            resource,
            progress.done,
            resource.steps.filter((s) => !progress.done.includes(s)),
          );
          if (progress.unchecked) unchecked.push(`${resource.kind} ${resource.name}`);
        } finally {
          // What CreateRole or CreatePolicy answered serves this resource's read-back only.
          state.gateway.forgetMade(resource);
          place?.end();
        }
      }),
    ),
  );
  const all = section.resources.map((r, i) => results[i] ?? resourceResult(r));
  if (failure !== undefined) {
    const err = failure.error;
    if (err instanceof InterruptedError) {
      return {
        ...base,
        outcome: 'interrupted',
        resources: all,
        ...(unchecked.length > 0
          ? {
              reason:
                `${unchecked.join(', ')}: every step done, but not read back after the interrupt; the next run ` +
                `checks ${unchecked.length === 1 ? 'it' : 'them'}`,
            }
          : {}),
      };
    }
    const e = err instanceof UserError ? err : undefined;
    return withCause(err, {
      ...base,
      outcome: 'failed',
      resources: all,
      error: {
        message: (err as Error).message,
        ...(e?.hint ? { hint: e.hint } : {}),
        ...((err as { code?: string }).code ? { code: (err as { code?: string }).code } : {}),
        ...(e === undefined ? { stack: (err as Error).stack ?? String(err) } : {}),
      },
    });
  }
  const changed = all.filter((r) => r.action !== 'none');
  return {
    ...base,
    outcome: changed.every((r) => r.action === 'create') ? 'created' : 'updated',
    resources: all,
  };
}

/** Steps that do not depend on each other: a role's attachments and detachments, which run at once. */
const INDEPENDENT = new Set<Step['op']>(['AttachRolePolicy', 'DetachRolePolicy']);

/** The steps in runs to do one after another; the steps of a run go at once. */
function stepRuns(steps: Step[]): Step[][] {
  const runs: Step[][] = [];
  for (const step of steps) {
    const last = runs.at(-1);
    if (last !== undefined && INDEPENDENT.has(step.op) && INDEPENDENT.has(last[0]!.op)) last.push(step);
    else runs.push([step]);
  }
  return runs;
}

/** What a resource's run has done so far, for the result when it stops. */
interface Progress {
  done: Step[];
  arn: string;
  /** Every step done, but not read back: the run was interrupted. */
  unchecked?: boolean;
}

async function applyResource(
  sectionId: SectionId,
  resource: ResourcePlan,
  state: RunState,
  host: ApplyHost,
  progress: Progress,
  clock?: Clock,
): Promise<void> {
  if (resource.steps.length === 0) return;
  let steps = resource.steps;
  // Once this run has created the resource, an interrupt no longer stops it before its other steps (a role's policy
  // attachments): left without them, the next run would have to attach them to a role that exists, which broadens
  // access (the plan marks it (!)), and the same command would no longer finish the job.
  let created = false;
  for (let round = 0; round < 2; round++) {
    let conflict: Step | undefined;
    for (const run of stepRuns(steps)) {
      if (!created && state.options.signal?.aborted) throw new InterruptedError();
      const limit = limiter(state.options.concurrency ?? DEFAULT_CONCURRENCY);
      // Finishing what it created, a step waits for IAM to show it (or retries) whatever the signal.
      const signal = created ? undefined : state.options.signal;
      const outcomes = await Promise.allSettled(
        run.map((step) =>
          limit(() => {
            host.onEvent?.({ type: 'step', section: sectionId, resource: resource.name, step });
            return executeStep(step, resource, state, signal, clock);
          }),
        ),
      );
      // What was done, in the plan's order whatever order the answers came in.
      run.forEach((step, i) => {
        if (outcomes[i]!.status !== 'fulfilled') return;
        progress.done.push(step);
        if (CREATES.has(step.op)) {
          state.created.add(createdKey(step));
          created = true;
        }
      });
      const failed = outcomes.findIndex((o) => o.status === 'rejected');
      if (failed === -1) continue;
      const err = (outcomes[failed] as PromiseRejectedResult).reason;
      // Made meanwhile (a retried create whose first answer was lost, or another run at the same time), or the
      // version limit reached by another run: read it again and plan what is left. (A create or a new version is
      // a run of its own.)
      if (round === 0 && isConflict(run[failed]!, err)) {
        conflict = run[failed];
        break;
      }
      throw err;
    }
    if (conflict === undefined) break;
    const current = await readResource(state.gateway, resource.desired, 'never');
    const again = planResource(resource.desired, current);
    // Made by another setup between the plan and now: it is never changed from here.
    if (again.blocked !== undefined) throw new UserError(`${resource.kind} ${resource.name}: ${again.blocked}`);
    // Made by someone else between the plan and now: what it holds was never shown, so it is not changed unasked.
    if (CREATES.has(conflict.op) && current !== undefined && !again.owned && again.steps.length > 0) {
      throw new UserError(
        `${resource.kind} ${resource.name} was made by someone else while this run was under way (it has no ` +
          'managed-by tag) and differs from the config, so it was not changed',
        { hint: 'run again: the plan then shows what would change on it, for you to look at first' },
      );
    }
    // Made meanwhile, and this setup's (or there all along, and not shown to the plan: IAM is eventually consistent):
    // what the approved create would have done is done (its attachments), but a change that lets in more than it
    // now does (a trust narrowed by hand, say) was never shown as such, so it is not done unasked.
    const widens = again.security.filter((m) => !m.startsWith('attaches ') && !resource.security.includes(m));
    if (CREATES.has(conflict.op) && current !== undefined && again.steps.length > 0 && widens.length > 0) {
      throw new UserError(
        `${resource.kind} ${resource.name} was there when this run went to make it, and making it as the config ` +
          `says would let in more than it does now (${widens.join('; ')}), so it was not changed`,
        { hint: 'run again: the plan then shows the change, marked (!), for you to look at first' },
      );
    }
    steps = again.steps;
  }
  // Interrupted: the read-back is left to the next run (its plan reads the resource anyway).
  if (state.options.signal?.aborted) {
    progress.unchecked = true;
    throw new InterruptedError();
  }
  host.onEvent?.({ type: 'verify', section: sectionId, resource: resource.name });
  progress.arn = await waitUntilMatches(resource, state, clock);
}

function createdKey(step: Step): string {
  switch (step.op) {
    case 'CreateRole':
      return `role:${step.roleName}`;
    case 'CreatePolicy':
      return `policy:${step.name}`;
    case 'CreateOpenIDConnectProvider':
      return `oidc:${step.url}`;
    case 'CreatePodIdentityAssociation':
      return `association:${step.clusterName}/${step.namespace}/${step.serviceAccount}`;
    case 'CreateAddon':
      return `addon:${step.clusterName}/${step.addonName}`;
    default:
      return step.op;
  }
}

function isConflict(step: Step, err: unknown): boolean {
  // EKS says a duplicate association or add-on is in use.
  if (CREATES.has(step.op) && isCode(err, 'EntityAlreadyExists', 'ResourceInUseException')) return true;
  return step.op === 'CreatePolicyVersion' && isCode(err, 'LimitExceeded');
}

/** Steps the SDK must not retry on its own: a retry after a lost answer would do the work twice. */
const NOT_IDEMPOTENT = new Set<Step['op']>(['CreatePolicyVersion']);
const NOT_IDEMPOTENT_ATTEMPTS = 5;

/**
 * One step. Retried while IAM has not yet caught up with something this run just created (a role or policy that
 * answers NoSuchEntity, a trust naming a just-created OIDC provider that answers "Invalid principal"). A step that
 * is not idempotent and fails in transit is retried only after reading back that it did not take effect. A step
 * whose last answer was lost or unreadable (the SDK's retries used up) is done if reading back shows it took
 * effect, and fails otherwise: what is reported is what AWS holds. (A version that is already gone is not an
 * error: the gateway says the removal is done.)
 */
async function executeStep(
  step: Step,
  resource: ResourcePlan,
  state: RunState,
  signal: AbortSignal | undefined,
  clock?: Clock,
): Promise<void> {
  const { timeoutMs, initialDelayMs } = state.options.consistency;
  const backoff = {
    initialDelayMs,
    factor: BACKOFF_FACTOR,
    maxDelayMs: MAX_DELAY_MS,
    signal,
    ...(clock !== undefined ? { clock } : {}),
  };
  const send = () => state.gateway.execute(step);
  if (!NOT_IDEMPOTENT.has(step.op)) {
    try {
      await retry(send, { ...backoff, timeoutMs, shouldRetry: (err) => mayBeEventualConsistency(step, err, state) });
    } catch (err) {
      if (!isTransient(err)) throw err;
      const current = await readResource(state.gateway, resource.desired, 'never').catch(() => undefined);
      const left = current === undefined ? [step] : planResource(resource.desired, current).steps;
      if (left.some((s) => JSON.stringify(s) === JSON.stringify(step))) throw err;
    }
    return;
  }
  // Did the call work before its answer was lost? Then it is done.
  let tookEffect = false;
  const stillToDo = async () => {
    const current = await readResource(state.gateway, resource.desired, 'never');
    tookEffect = !planResource(resource.desired, current).steps.some((s) => s.op === step.op);
    return !tookEffect;
  };
  try {
    await retry(send, {
      ...backoff,
      attempts: NOT_IDEMPOTENT_ATTEMPTS,
      shouldRetry: async (err) => isTransient(err) && (await stillToDo()),
    });
  } catch (err) {
    if (!tookEffect) throw err;
  }
}

function mayBeEventualConsistency(step: Step, err: unknown, state: RunState): boolean {
  // A policy deleted right after its detaches: IAM may not have caught up with them yet.
  if (isCode(err, 'DeleteConflict') && step.op === 'DeletePolicy') return true;
  if (isCode(err, 'NoSuchEntity')) {
    if (step.op === 'AttachRolePolicy' && originalMessage(err).includes(step.policyArn)) {
      // The policy is what is missing: wait only for one this run created.
      return [...state.created].some((k) => k.startsWith('policy:') && step.policyArn.endsWith(`/${k.slice(7)}`));
    }
    return 'roleName' in step && state.created.has(`role:${step.roleName}`);
  }
  if (isCode(err, 'MalformedPolicyDocument') && (step.op === 'CreateRole' || step.op === 'UpdateAssumeRolePolicy')) {
    const createdProvider = [...state.created].some((k) => k.startsWith('oidc:'));
    return createdProvider && /principal/i.test(originalMessage(err));
  }
  return false;
}

/** Read the resource back until it matches what the config wants; its ARN as AWS reports it. */
async function waitUntilMatches(resource: ResourcePlan, state: RunState, clock?: Clock): Promise<string> {
  const { timeoutMs, initialDelayMs } = state.options.consistency;
  // A policy or a pod identity association the config no longer wants matches once it is gone.
  const goes =
    (resource.desired.kind === 'policy' || resource.desired.kind === 'pod-identity-association') &&
    resource.desired.gone === true;
  const read = async () => {
    const current = await readResource(state.gateway, resource.desired, 'never');
    const again = planResource(resource.desired, current);
    return { current, left: again.steps, blocked: again.blocked };
  };
  const { outcome, value } = await poll(read, {
    until: ({ current, left, blocked }) =>
      (goes ? current === undefined : current !== undefined) && left.length === 0 && blocked === undefined,
    timeoutMs,
    initialDelayMs,
    factor: BACKOFF_FACTOR,
    maxDelayMs: MAX_DELAY_MS,
    signal: state.options.signal,
    ...(clock !== undefined ? { clock } : {}),
  });
  if (outcome !== 'done' || (value.current === undefined && !goes)) {
    throw new VerificationError(`${resource.kind} ${resource.name}`, value.left);
  }
  // The read-back of a role has no inline policies: what the plan read of them stays (the run never writes them).
  const before = state.final.get(resourceKey(resource.desired));
  state.final.set(
    resourceKey(resource.desired),
    value.current?.kind === 'role' && before?.kind === 'role'
      ? { ...inlineOf(before), ...value.current }
      : value.current,
  );
  if (value.current === undefined) return resource.arn;
  return value.current.kind === 'vpc-dns' || value.current.kind === 'bucket' ? resource.arn : value.current.arn;
}

/** A role's inline policies as read (their names, documents, or why they could not be read), where there are any. */
export function inlineOf(role: CurrentRole): Pick<CurrentRole, 'inline' | 'inlineDocuments' | 'inlineUnreadable'> {
  return {
    ...(role.inline !== undefined ? { inline: role.inline } : {}),
    ...(role.inlineDocuments !== undefined ? { inlineDocuments: role.inlineDocuments } : {}),
    ...(role.inlineUnreadable !== undefined ? { inlineUnreadable: role.inlineUnreadable } : {}),
  };
}

/** The error a section failed with, kept beside the result (not in its JSON) for `--debug`. */
const causes = new WeakMap<SectionResult, unknown>();

function withCause(err: unknown, result: SectionResult): SectionResult {
  causes.set(result, err);
  return result;
}

export function sectionErrorCause(result: SectionResult): unknown {
  return causes.get(result);
}
