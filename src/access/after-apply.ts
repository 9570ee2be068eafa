/**
 * What the access check at the end of an apply starts from, so that it reads little after the last write: the
 * run's own view of what it left (each written resource as its last read-back returned it, the others as the plan
 * read them), and the reads that do not depend on the writes, started when the apply starts. Without the evaluator:
 * it is loaded before the apply, when the check is not yet known to run.
 */
import type { AwsGateway } from '../aws/gateway.js';
import type { Config } from '../config/schema.js';
import { finalState, inlineOf, type RunResult } from '../engine/apply.js';
import { desiredSections } from '../engine/engine.js';
import { resourceKey } from '../engine/plan.js';
import type { CurrentResource, CurrentRole, Plan, ResourcePlan } from '../model.js';
import { limiter } from '../util/concurrency.js';
import { readBucketPolicy, type BucketPolicyRead } from './bucket-policy.js';
import { flyteIdentities } from './identities.js';
import { readInline, readManaged, type InlineAnswer, type KnownDocuments, type PolicyAnswer } from './read.js';

/**
 * The reads started beside the writes: managed policies' documents by ARN, inline policies by role name, and the
 * bucket's own policy (no run writes it).
 */
export interface AccessReads {
  policies: Map<string, Promise<PolicyAnswer>>;
  inline: Map<string, Promise<InlineAnswer>>;
  bucketPolicy?: Promise<BucketPolicyRead>;
}

/** A plan applied, and what the run made of it. */
export interface AppliedRun {
  plan: Plan;
  result: RunResult;
}

function roleResources(plan: Plan, names: ReadonlySet<string>): ResourcePlan[] {
  return plan.sections.flatMap((s) =>
    s.resources.filter((r) => (r.kind === 'role' || r.kind === 'attachment') && names.has(r.name)),
  );
}

/**
 * The ARNs of the policies the config's sections write (the custom policy, the grants policies): the run that
 * writes one reads it back, the plan of its section reads it (also when the plan is of one section, the wizard's).
 */
function ownPolicyArns(config: Config, plan: Plan): Set<string> {
  const desired = desiredSections(config, plan.facts).flatMap((s) => s.resources);
  return new Set(desired.flatMap((r) => (r.kind === 'policy' ? [r.arn] : [])));
}

/**
 * The managed policies and the boundary a role will carry once its steps are done, as the plan says: what it has,
 * with what the steps attach, without what they detach.
 */
function expectedAttachments(resource: ResourcePlan): { attached: string[]; boundary?: string } {
  const current = resource.current?.kind === 'role' ? resource.current : undefined;
  const attached = new Set(current?.attached ?? []);
  let boundary = current?.boundary;
  for (const step of resource.steps) {
    if (step.op === 'AttachRolePolicy') attached.add(step.policyArn);
    else if (step.op === 'DetachRolePolicy') attached.delete(step.policyArn);
    else if (step.op === 'PutRolePermissionsBoundary') boundary = step.boundary;
    else if (step.op === 'CreateRole' && step.boundary !== undefined) boundary = step.boundary;
  }
  return { attached: [...attached], ...(boundary !== undefined ? { boundary } : {}) };
}

/** `expectedAttachments` as one list, the boundary last. */
function expectedPolicies(resource: ResourcePlan): string[] {
  const { attached, boundary } = expectedAttachments(resource);
  return [...attached, ...(boundary !== undefined ? [boundary] : [])];
}

/**
 * Start the reads the access check needs that no write of the run changes (the run never writes inline policies,
 * nor policies that are not its own): the inline policies of the Flyte roles that exist and whose inline policies
 * the plan did not read, and the documents of the managed policies they will carry that the run does not write
 * (AWS managed policies, the config's extra policies, a permissions boundary). `concurrency` at a time; each call
 * within the gateway's bound, beside the run's.
 */
export function startAccessReads(
  gateway: AwsGateway,
  config: Config,
  plan: Plan,
  concurrency: number,
  /** Reads started before (by an earlier section's run): added to, not started again. */
  reads: AccessReads = { policies: new Map(), inline: new Map() },
): AccessReads {
  const names = new Set(flyteIdentities(config).map((i) => i.roleName));
  const own = ownPolicyArns(config, plan);
  const limit = limiter(concurrency);
  // Nobody may wait for a read (the run fails): its failure is the check's, when it waits for it.
  const started = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined);
    return p;
  };
  reads.bucketPolicy ??= started(limit(() => readBucketPolicy(gateway, config.bucket, plan.facts.accountId)));
  for (const resource of roleResources(plan, names)) {
    const role: CurrentRole | undefined = resource.current?.kind === 'role' ? resource.current : undefined;
    if (role !== undefined && role.inline === undefined && role.inlineUnreadable === undefined) {
      if (!reads.inline.has(role.name)) reads.inline.set(role.name, started(limit(() => readInline(gateway, role))));
    }
    for (const arn of expectedPolicies(resource)) {
      if (own.has(arn) || reads.policies.has(arn)) continue;
      reads.policies.set(arn, started(limit(() => readManaged(gateway, arn))));
    }
  }
  return reads;
}

/** What a run left of each resource of its plan, by `resourceKey` (the engine's `finalState`). */
export interface RunView {
  plan: Plan;
  final: ReadonlyMap<string, CurrentResource | undefined>;
  /** The roles the run created (its CreateRole done). */
  created: ReadonlySet<string>;
}

/**
 * What a complete run of `plan` will have left, as the plan expects it: each role with steps with the trust its
 * steps write (else the one it has), the policies and boundary it had with what its steps attach and set, without
 * what they detach, and the inline policies the plan read; each policy with steps with the document the config wants
 * (and the roles its section attaches it to besides those it was on), or gone; the others as the plan read them; the
 * roles it makes, made. Pure. The access check worked out from it while the writes wait on AWS is taken at the end
 * only if the run left the same documents (`accessAhead` in ./run.ts).
 */
export function expectedRunView(plan: Plan): RunView {
  const final = new Map<string, CurrentResource | undefined>();
  const created = new Set<string>();
  for (const r of plan.sections.flatMap((s) => s.resources)) {
    const key = resourceKey(r.desired);
    const d = r.desired;
    if (r.steps.length === 0) {
      final.set(key, r.current);
    } else if (d.kind === 'role' || (d.kind === 'attachment' && r.current?.kind === 'role')) {
      if (r.steps.some((step) => step.op === 'CreateRole')) created.add(r.name);
      const base = r.current?.kind === 'role' ? r.current : undefined;
      const { attached, boundary } = expectedAttachments(r);
      // The trust the steps write, else the one it has; its inline policies as the plan read them (a run never
      // writes one).
      const trusted = r.steps.some((step) => step.op === 'CreateRole' || step.op === 'UpdateAssumeRolePolicy');
      const role: CurrentRole = {
        kind: 'role',
        name: r.name,
        arn: d.kind === 'role' ? d.arn : (base?.arn ?? r.arn),
        path: d.kind === 'role' ? d.path : (base?.path ?? '/'),
        trust:
          d.kind === 'role' && (trusted || base === undefined)
            ? d.trust
            : (base?.trust ?? { Version: '2012-10-17', Statement: [] }),
        attached,
        tags: d.kind === 'role' ? d.tags : (base?.tags ?? {}),
        ...(base !== undefined ? inlineOf(base) : {}),
      };
      final.set(key, boundary !== undefined ? { ...role, boundary } : role);
    } else if (d.kind === 'policy') {
      final.set(
        key,
        d.gone === true
          ? undefined
          : {
              kind: 'policy',
              arn: d.arn,
              name: d.name,
              path: d.path,
              defaultVersionId: '',
              document: d.document,
              tags: d.tags,
              // Attached to the roles its section attaches it to, and still to those it was on (none is detached).
              ...(d.attachTo !== undefined
                ? {
                    attachedRoles: [
                      ...new Set([
                        ...(r.current?.kind === 'policy' ? (r.current.attachedRoles ?? []) : []),
                        ...d.attachTo,
                      ]),
                    ],
                  }
                : {}),
            },
      );
    }
    // Anything else is not a document the check reads.
  }
  return { plan, final, created };
}

/** Each run's view of what it left; a run whose result carries none is left out. */
export function runViews(runs: readonly AppliedRun[]): RunView[] {
  return runs.flatMap(({ plan, result }): RunView[] => {
    const final = finalState(result);
    const created = result.sections.flatMap((s) =>
      s.resources.filter((r) => r.done.some((step) => step.op === 'CreateRole')).map((r) => r.name),
    );
    return final === undefined ? [] : [{ plan, final, created: new Set(created) }];
  });
}

/**
 * A role as its last read-back returned it (one the run created has no inline policies: the run never writes
 * them), or as the plan read it; a policy's document as its read-back or the plan's read returned it; a policy that
 * a section attaches to a role (a grants policy) on the roles its own read-back lists, since that read came after
 * the attachment, and on no role once it is gone. With the reads started beside the runs. Later runs (the wizard's
 * sections) take precedence. A Flyte role of no run is not known: the check reads it. Pure.
 */
export function knownFromViews(config: Config, views: readonly RunView[], reads?: AccessReads): KnownDocuments {
  const names = new Set(flyteIdentities(config).map((i) => i.roleName));
  const roles = new Map<string, CurrentRole | undefined>();
  const policies = new Map<string, Promise<PolicyAnswer>>(reads?.policies ?? []);
  for (const { plan, final, created } of views) {
    const resources = plan.sections.flatMap((s) => s.resources);
    for (const r of resources) {
      if (!final.has(resourceKey(r.desired))) continue;
      const now = final.get(resourceKey(r.desired));
      if (r.kind === 'policy') {
        if (now?.kind === 'policy') policies.set(r.arn, Promise.resolve({ document: now.document }));
        continue;
      }
      if ((r.kind !== 'role' && r.kind !== 'attachment') || !names.has(r.name)) continue;
      if (now === undefined) roles.set(r.name, undefined);
      else if (now.kind === 'role')
        roles.set(r.name, created.has(r.name) ? { ...now, inline: [], inlineDocuments: {} } : now);
    }
    // The attachments of a policy its section attaches or removes, as the policy's read-back found them.
    for (const r of resources) {
      if (r.desired.kind !== 'policy' || (r.desired.attachTo === undefined && r.desired.gone === undefined)) continue;
      if (!final.has(resourceKey(r.desired))) continue;
      const now = final.get(resourceKey(r.desired));
      if (now !== undefined && (now.kind !== 'policy' || now.attachedRoles === undefined)) continue;
      const on = new Set(now?.attachedRoles ?? []);
      for (const [name, role] of roles) {
        if (role === undefined || on.has(name) === role.attached.includes(r.arn)) continue;
        const attached = on.has(name) ? [...role.attached, r.arn] : role.attached.filter((a) => a !== r.arn);
        roles.set(name, { ...role, attached });
      }
    }
  }
  return { roles, policies, inline: reads?.inline ?? new Map() };
}
