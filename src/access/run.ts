/**
 * The access check as `verify` and the end of an apply run it: the config's identities, their roles' documents
 * read from AWS (beside what the plan read), the evaluation, the findings. Loaded lazily (it carries the evaluator).
 */
import type { AwsGateway } from '../aws/gateway.js';
import { USER_FLYTE_ROLE_POLICY, type Config } from '../config/schema.js';
import type { CurrentOidcProvider, Facts, Plan } from '../model.js';
import { policyArn } from '../policy/partition.js';
import { nextTurn } from '../util/concurrency.js';
import type { Finding } from '../audit/finding.js';
import { accessFindings, checkAccess } from './check.js';
import type { AccessReport } from './matrix.js';
import { flyteIdentities, type FlyteIdentity } from './identities.js';
import { readRoleDocuments, roleDocuments, type RoleRead } from './read.js';
import {
  expectedRunView,
  knownFromViews,
  runViews,
  type AccessReads,
  type AppliedRun,
  type RunView,
} from './after-apply.js';
import { readBucketPolicy, type BucketPolicyRead } from './bucket-policy.js';
import { secondOpinion, secondOpinionFindings, settle, SECOND_OPINION_OFF } from './second-opinion.js';

const concurrencyOf = (o: { concurrency?: number }) =>
  o.concurrency !== undefined ? { concurrency: o.concurrency } : {};

export interface AccessOutcome {
  report: AccessReport;
  findings: Finding[];
  identities: FlyteIdentity[];
  /** Worked out while the writes waited (`accessAhead`), for documents the run then left. */
  ahead?: true;
}

export async function runAccessCheck(
  gateway: AwsGateway,
  config: Config,
  plan: Plan,
  options: {
    rerun: string;
    providers?: ReadonlyMap<string, CurrentOidcProvider | undefined>;
    concurrency?: number;
    /** One more identity to evaluate (`verify --as` a namespace that a `*` trust covers). */
    extra?: FlyteIdentity;
    /** Ask IAM's simulator too (`verify`; `false`: --no-second-opinion); absent: not asked (an apply). */
    secondOpinion?: boolean;
  },
): Promise<AccessOutcome> {
  const { facts } = plan;
  const identities = configIdentities(config, facts);
  if (options.extra !== undefined && !identities.some((i) => i.id === options.extra!.id))
    identities.push(options.extra);
  const [roles, bucketPolicy] = await Promise.all([
    readRoleDocuments(
      gateway,
      plan,
      identities.map((i) => i.roleName),
      options.concurrency,
    ),
    readBucketPolicy(gateway, config.bucket, facts.accountId),
  ]);
  // IAM's second opinion (verify) goes out first: its calls are answered while the matrix is evaluated.
  const opinion =
    options.secondOpinion === true
      ? settle(secondOpinion(gateway, { config, facts, identities, roles, ...concurrencyOf(options) }))
      : undefined;
  const outcome = await evaluate(config, facts, identities, roles, {
    ...options,
    bucketPolicy,
    ...(options.extra !== undefined ? { focus: options.extra.id } : {}),
  });
  if (options.secondOpinion !== undefined) {
    const settled = opinion !== undefined ? await opinion : { value: SECOND_OPINION_OFF };
    if ('error' in settled) throw settled.error;
    outcome.report.secondOpinion = settled.value;
    const sectionOf = (role: string) => identities.find((i) => i.roleName === role)!.section;
    outcome.findings.push(...secondOpinionFindings(settled.value, sectionOf));
  }
  return outcome;
}

function configIdentities(config: Config, facts: Facts): FlyteIdentity[] {
  return flyteIdentities(config, policyArn(facts.partition, facts.accountId, '/', USER_FLYTE_ROLE_POLICY));
}

async function evaluate(
  config: Config,
  facts: Facts,
  identities: FlyteIdentity[],
  roles: Map<string, RoleRead>,
  options: {
    rerun: string;
    providers?: ReadonlyMap<string, CurrentOidcProvider | undefined>;
    bucketPolicy?: BucketPolicyRead;
    focus?: string;
    pause?: () => Promise<void>;
  },
): Promise<AccessOutcome> {
  const report = await checkAccess({
    ...(options.focus !== undefined ? { focus: options.focus } : {}),
    ...(options.pause !== undefined ? { pause: options.pause } : {}),
    config,
    facts,
    identities,
    roles,
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.bucketPolicy ? { bucketPolicy: options.bucketPolicy } : {}),
  });
  return { report, findings: accessFindings(report, { rerun: options.rerun, roles, identities }), identities };
}

/**
 * The access check worked out ahead, while a run's writes wait on AWS, for the Flyte roles as its plan expects them
 * (`expectedRunView`): the roles' documents it is worked out for (as JSON, taken before the evaluation), and its
 * outcome (undefined where it failed or was not wanted any more). `accessAfterApply` takes it only when the run
 * left the same documents.
 */
export interface AccessAhead {
  roles: string;
  outcome: Promise<AccessOutcome | undefined>;
}

/**
 * Work out the access check ahead (see `AccessAhead`), once the reads started beside the writes (`reads`) are in;
 * undefined where the plan does not know every Flyte role (the check reads those at the end). Makes no AWS call of
 * its own; evaluates nothing more once `signal` is aborted (the run did not complete).
 */
export async function accessAhead(
  config: Config,
  plan: Plan,
  options: { rerun: string; reads: AccessReads; signal?: AbortSignal },
): Promise<AccessAhead | undefined> {
  const { reads } = options;
  let identities: FlyteIdentity[];
  let roles: Map<string, RoleRead>;
  try {
    identities = configIdentities(config, plan.facts);
    const known = knownFromViews(config, [expectedRunView(plan)], reads);
    const names = identities.map((i) => i.roleName);
    if (!names.every((n) => known.roles.has(n)) || reads.bucketPolicy === undefined) return undefined;
    roles = await roleDocuments(NO_CALLS, known, names);
  } catch {
    return undefined;
  }
  const documents = documentsKey(roles);
  const outcome = (async () => {
    const bucketPolicy = await reads.bucketPolicy;
    if (options.signal?.aborted) return undefined;
    // The writes' answers come in meanwhile: each is handled when it comes, between two evaluations. Once it is not
    // wanted any more (the run ended without completing, or the command ended), the next pause ends it (no outcome).
    const pause = async () => {
      await nextTurn();
      if (options.signal?.aborted) throw new Error('the access check is not wanted any more');
    };
    const made = await evaluate(config, plan.facts, identities, roles, { rerun: options.rerun, bucketPolicy, pause });
    return { ...made, ahead: true as const };
  })().catch(() => undefined);
  return { roles: documents, outcome };
}

/** The roles' documents an access check is worked out for, as one string: equal for the same documents. */
function documentsKey(roles: ReadonlyMap<string, RoleRead>): string {
  return JSON.stringify([...roles]);
}

/** A gateway for work that must not call AWS: any call fails. (Not a thenable: `then` is not one of its calls.) */
const NO_CALLS = new Proxy({} as AwsGateway, {
  get(_target, name) {
    if (typeof name !== 'string' || name === 'then') return undefined;
    return () => Promise.reject(new Error(`internal: the access check ahead called ${name}`));
  },
});

/**
 * The access check at the end of an apply that changed something, on the Flyte roles as the run left them: what
 * the runs read back and the plans read (`runs`), with the reads started beside them (`reads`: inline policies,
 * policies the run does not write); only what neither holds is read now (a role of no run, with its inline policies
 * and policies). The facts are the run's.
 */
export async function accessAfterApply(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  options: {
    rerun: string;
    concurrency?: number;
    runs?: readonly AppliedRun[];
    reads?: AccessReads;
    /** The check worked out ahead (`accessAhead`): taken when the roles' documents are the same. */
    ahead?: Promise<AccessAhead | undefined>;
  },
): Promise<AccessOutcome> {
  return accessFromViews(gateway, config, facts, runViews(options.runs ?? []), options);
}

/** `accessAfterApply`, from the runs' views of what they left. */
export async function accessFromViews(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  views: readonly RunView[],
  options: {
    rerun: string;
    concurrency?: number;
    reads?: AccessReads;
    ahead?: Promise<AccessAhead | undefined>;
  },
): Promise<AccessOutcome> {
  const identities = configIdentities(config, facts);
  const [roles, bucketPolicy] = await Promise.all([
    roleDocuments(
      gateway,
      knownFromViews(config, views, options.reads),
      identities.map((i) => i.roleName),
      options.concurrency,
    ),
    // Started beside the writes when the run started the reads (no run writes it), else read now.
    options.reads?.bucketPolicy ?? readBucketPolicy(gateway, config.bucket, facts.accountId),
  ]);
  // Worked out ahead from the same reads (the bucket's policy among them), for the same documents: the same outcome.
  // Not worked out ahead (or that failed): worked out now.
  const before = await options.ahead?.catch(() => undefined);
  if (before !== undefined && options.reads?.bucketPolicy !== undefined && before.roles === documentsKey(roles)) {
    const outcome = await before.outcome;
    if (outcome !== undefined) return outcome;
  }
  return evaluate(config, facts, identities, roles, { ...options, bucketPolicy });
}
