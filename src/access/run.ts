/**
 * The access check as `verify` and the end of an apply run it: the config's identities, their roles' documents
 * read from AWS (beside what the plan read), the evaluation, the findings. Loaded lazily (it carries the evaluator).
 */
import type { AwsGateway } from '../aws/gateway.js';
import { USER_FLYTE_ROLE_POLICY, type Config, type SectionId } from '../config/schema.js';
import { makePlan } from '../engine/engine.js';
import type { CurrentOidcProvider, Facts, Plan } from '../model.js';
import { policyArn } from '../policy/partition.js';
import type { Finding } from '../audit/finding.js';
import { accessFindings, checkAccess } from './check.js';
import type { AccessReport } from './matrix.js';
import { flyteIdentities, type FlyteIdentity } from './identities.js';
import { readRoleDocuments } from './read.js';
import { readBucketPolicy } from './bucket-policy.js';
import { secondOpinion, secondOpinionFindings, settle, SECOND_OPINION_OFF } from './second-opinion.js';

const concurrencyOf = (o: { concurrency?: number }) =>
  o.concurrency !== undefined ? { concurrency: o.concurrency } : {};

export interface AccessOutcome {
  report: AccessReport;
  findings: Finding[];
  identities: FlyteIdentity[];
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
  const identities = flyteIdentities(config, policyArn(facts.partition, facts.accountId, '/', USER_FLYTE_ROLE_POLICY));
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
  const report = await checkAccess({
    config,
    facts,
    identities,
    roles,
    bucketPolicy,
    ...(options.providers ? { providers: options.providers } : {}),
  });
  const findings = accessFindings(report, { rerun: options.rerun, roles, identities });
  if (options.secondOpinion !== undefined) {
    const settled = opinion !== undefined ? await opinion : { value: SECOND_OPINION_OFF };
    if ('error' in settled) throw settled.error;
    report.secondOpinion = settled.value;
    const sectionOf = (role: string) => identities.find((i) => i.roleName === role)!.section;
    findings.push(...secondOpinionFindings(report.secondOpinion, sectionOf));
  }
  return { report, findings, identities };
}

/**
 * The access check at the end of an apply that changed something: the Flyte roles read again (with their inline
 * policies), as the run left them, and evaluated. Only the sections of the identities are read; the facts are the
 * run's.
 */
export async function accessAfterApply(
  gateway: AwsGateway,
  config: Config,
  facts: Facts,
  options: { rerun: string; concurrency?: number },
): Promise<AccessOutcome> {
  const sections = [...new Set(flyteIdentities(config).map((i) => i.section))] as SectionId[];
  const plan = await makePlan(config, gateway, {
    facts,
    audit: true,
    only: sections,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  });
  return runAccessCheck(gateway, config, plan, {
    rerun: options.rerun,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  });
}
