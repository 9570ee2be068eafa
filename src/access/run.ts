/**
 * The access check as `verify` and the end of an apply run it: the config's identities, their roles' documents
 * read from AWS (beside what the plan read), the evaluation, the findings. Loaded lazily (it carries the evaluator).
 */
import type { AwsGateway } from '../aws/gateway.js';
import { USER_FLYTE_ROLE_POLICY, type Config } from '../config/schema.js';
import type { CurrentOidcProvider, Plan } from '../model.js';
import { policyArn } from '../policy/partition.js';
import type { Finding } from '../audit/finding.js';
import { accessFindings, checkAccess } from './check.js';
import type { AccessReport } from './matrix.js';
import { flyteIdentities, type FlyteIdentity } from './identities.js';
import { readRoleDocuments } from './read.js';

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
  },
): Promise<AccessOutcome> {
  const { facts } = plan;
  const identities = flyteIdentities(config, policyArn(facts.partition, facts.accountId, '/', USER_FLYTE_ROLE_POLICY));
  if (options.extra !== undefined && !identities.some((i) => i.id === options.extra!.id))
    identities.push(options.extra);
  const roles = await readRoleDocuments(
    gateway,
    plan,
    identities.map((i) => i.roleName),
    options.concurrency,
  );
  const report = await checkAccess({
    config,
    facts,
    identities,
    roles,
    ...(options.providers ? { providers: options.providers } : {}),
  });
  return { report, findings: accessFindings(report, { rerun: options.rerun, roles, identities }), identities };
}
