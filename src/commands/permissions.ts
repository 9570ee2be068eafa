/**
 * `flyte-aws-setup permissions`: the least-privilege policy for the operator of a config, as JSON on stdout.
 * With credentials it reads who and where (STS), every cluster's OIDC issuer and VPC (EKS, EC2) and the real ARN of
 * an existing global-access role, so every ARN is exact; `--offline` makes no call and scopes what it cannot know
 * with a wildcard, saying so on stderr.
 */
import type { AwsGateway } from '../aws/gateway.js';
import type { CliIo, PermissionsCliOptions } from '../session/io.js';
import type { ClusterRef, Config } from '../config/schema.js';
import { ExitCode, UsageError, UserError } from '../errors.js';
import { describeClusterWithVpc, needsCluster } from '../engine/facts.js';
import { permissionPolicy, type PermissionFacts } from '../permissions/policy.js';
import { partitionOfArn, partitionOfRegion } from '../policy/partition.js';
import { loadConfig, openAws, openOutput } from '../session/context.js';

export async function runPermissions(opts: PermissionsCliOptions, io: CliIo): Promise<number> {
  const config = await loadConfig(opts);
  const output = await openOutput(io, opts);
  const mode = opts.for ?? 'apply';

  let facts: PermissionFacts;
  const notes: string[] = [];
  if (opts.offline) {
    facts = offlineFacts(config, io.env);
  } else {
    const aws = await openAws(config, opts, output);
    try {
      output.progress.start('Reading the account');
      facts = await onlineFacts(config, aws.gateway, notes);
    } finally {
      output.progress.clear();
      aws.close();
    }
  }
  const policy = permissionPolicy(config, facts, mode);
  output.out(JSON.stringify(policy.document, null, 2));
  for (const note of [...notes, ...policy.notes]) output.err(output.errStyle.dim(`note: ${note}`));
  return ExitCode.Success;
}

function offlineFacts(config: Config, env: NodeJS.ProcessEnv): PermissionFacts {
  if (config.accountId === undefined) {
    throw new UsageError(
      '--offline needs the account ID: the policy names it in every ARN',
      'add accountId: "123456789012" to the config, or run without --offline to ask STS',
    );
  }
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined) {
    throw new UsageError(
      '--offline needs a region: the cluster and VPC ARNs name it',
      'set region: in the config, pass --region, or set AWS_REGION',
    );
  }
  return { partition: partitionOfRegion(region), accountId: config.accountId, region };
}

async function onlineFacts(config: Config, gateway: AwsGateway, notes: string[]): Promise<PermissionFacts> {
  let identity;
  try {
    identity = await gateway.callerIdentity();
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    throw new UserError(err.message, {
      hint: `${err.hint ? `${err.hint}; ` : ''}or pass --offline (with accountId in the config) to build the policy without AWS`,
      cause: err,
    });
  }
  if (config.accountId !== undefined && identity.account !== config.accountId) {
    throw new UserError(
      `the AWS credentials are for account ${identity.account}, but the config says accountId: ${config.accountId}`,
      { hint: 'use the profile of the right account (--profile), or --offline to build the policy from the config' },
    );
  }
  const facts: PermissionFacts = {
    partition: partitionOfArn(identity.arn) ?? partitionOfRegion(gateway.region),
    accountId: identity.account,
    region: gateway.region,
  };
  if (needsCluster(config) && config.cluster !== undefined) {
    // Every cluster of the config, each in its region, at once.
    const [first, ...others] = await Promise.all(
      config.clusters.map((ref) => readCluster(config, gateway, ref, notes)),
    );
    Object.assign(facts, first);
    if (others.length > 0) facts.otherClusters = others;
  }
  if (config.globalAccess !== false) {
    const name = config.globalAccess.role;
    try {
      const arn = await gateway.roleArn(name);
      if (arn !== undefined) facts.existingRoleArns = { [name]: arn };
      else notes.push(`the role ${name} (globalAccess) does not exist`);
    } catch (err) {
      notes.push(`could not read the role ${name}: ${(err as Error).message}`);
    }
  }
  return facts;
}

/** A cluster's OIDC issuer and VPC, as far as they are known (the plan's own read of a cluster). */
async function readCluster(
  config: Config,
  gateway: AwsGateway,
  ref: ClusterRef,
  notes: string[],
): Promise<{ issuerUrl?: string; vpcId?: string }> {
  try {
    const info = await describeClusterWithVpc(gateway, config, ref);
    if (info?.issuerUrl === undefined) {
      notes.push(`the cluster ${ref.name} ${info === undefined ? 'does not exist yet' : `is ${info.status}`}`);
      return {};
    }
    return { issuerUrl: info.issuerUrl, ...(info.vpcId !== undefined ? { vpcId: info.vpcId } : {}) };
  } catch (err) {
    notes.push(`could not read the cluster ${ref.name}: ${(err as Error).message}`);
    return {};
  }
}
