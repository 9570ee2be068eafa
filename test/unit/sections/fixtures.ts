/**
 * What the section tests share: configs read by the real loader (or schema and resolver), facts of an account in
 * each partition, the context a section is asked with, and a section's rules by name.
 */
import { parse } from 'yaml';
import { expect } from 'vitest';
import { configSchema, resolveConfig, type Config } from '../../../src/config/schema.js';
import { ConfigError, type Problem } from '../../../src/errors.js';
import { parseConfigText } from '../../../src/load/config.js';
import type { ClusterFacts, Facts } from '../../../src/model.js';
import type { Partition } from '../../../src/policy/partition.js';
import type { ConfigRule, RuleInput, SectionContext, SectionDefinition } from '../../../src/sections/section.js';

export const ACCOUNT = '111122223333';
export const MIN = 'cluster: acme\nbucket: acme-flyte-data\n';
/** The tags the tool puts on what it makes: its own, and the setup's name (by default the cluster's). */
export const TOOL_TAG = { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'acme' };

export interface PartitionCase {
  partition: Partition;
  region: string;
  issuer: string;
  /** The issuer without its scheme, as IAM's condition keys and the provider ARN name it. */
  host: string;
}

const OIDC_ID = 'EXAMPLED539D4633E53DE1B71EXAMPLE';

export const PARTITION_CASES: readonly PartitionCase[] = [
  {
    partition: 'aws',
    region: 'eu-west-1',
    issuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${OIDC_ID}`,
    host: `oidc.eks.eu-west-1.amazonaws.com/id/${OIDC_ID}`,
  },
  {
    partition: 'aws-cn',
    region: 'cn-north-1',
    issuer: `https://oidc.eks.cn-north-1.amazonaws.com.cn/id/${OIDC_ID}`,
    host: `oidc.eks.cn-north-1.amazonaws.com.cn/id/${OIDC_ID}`,
  },
  {
    partition: 'aws-us-gov',
    region: 'us-gov-west-1',
    issuer: `https://oidc.eks.us-gov-west-1.amazonaws.com/id/${OIDC_ID}`,
    host: `oidc.eks.us-gov-west-1.amazonaws.com/id/${OIDC_ID}`,
  },
];

/** The commercial partition's case (eu-west-1). */
export const AWS = PARTITION_CASES[0]!;
/** The provider ARN of a partition case's issuer, in the test account. */
export const providerArn = (p: PartitionCase = AWS): string =>
  `arn:${p.partition}:iam::${ACCOUNT}:oidc-provider/${p.host}`;

/** A config read by the real loader: the minimal one (cluster + bucket, or `base`) plus `yaml`. */
export function loadConfig(yaml = '', base = MIN): Config {
  return parseConfigText(`${base}${yaml}`, 'test.yaml');
}

/** The problems the loader reports for the minimal config plus `yaml` (none when it is accepted). */
export function loaderProblems(yaml: string): Problem[] {
  try {
    parseConfigText(`${MIN}${yaml}`, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/**
 * What a rule reads, for the minimal config plus `yaml`, built as the loader builds it for a file that passes the
 * schema: the resolved config, its project entries, and the file's own mapping.
 */
export function ruleInput(yaml = ''): RuleInput {
  const input = parse(`${MIN}${yaml}`) as Record<string, unknown>;
  const config = resolveConfig(configSchema.parse(input));
  return { config, projects: config.projectRoles, input };
}

/** A section's rule by its name (fails the test when there is none). */
export function ruleOf(section: SectionDefinition, name: string): ConfigRule {
  const found = section.rules?.find((r) => r.name === name);
  expect(found, `${section.id} has a rule named "${name}"`).toBeDefined();
  return found!;
}

export interface FactsOptions {
  partition?: PartitionCase;
  cluster?: ClusterFacts;
  offline?: boolean;
  vpcId?: string;
}

/** An account in a partition's region whose cluster `acme` is ready, with the partition's issuer. */
export function facts(opts: FactsOptions = {}): Facts {
  const p = opts.partition ?? AWS;
  return {
    partition: p.partition,
    accountId: ACCOUNT,
    region: p.region,
    offline: opts.offline ?? false,
    cluster: opts.cluster ?? {
      state: 'ready',
      name: 'acme',
      status: 'ACTIVE',
      issuerUrl: p.issuer,
      ...(opts.vpcId !== undefined ? { vpcId: opts.vpcId } : {}),
    },
  };
}

/** The context the engine gives a section: the issuer only when the cluster is ready. */
export function context(config: Config, opts: FactsOptions = {}): SectionContext {
  const f = facts(opts);
  return { config, facts: f, ...(f.cluster.state === 'ready' ? { issuerUrl: f.cluster.issuerUrl } : {}) };
}

/**
 * The IRSA trust a role should have, written out: the provider of the cluster's own issuer, AssumeRoleWithWebIdentity,
 * `aud` under StringEquals, and `sub` under StringEquals, or StringLike where it holds a wildcard.
 */
export function irsaTrust(p: PartitionCase, sub: string | string[], subCondition: 'StringEquals' | 'StringLike') {
  const aud = { [`${p.host}:aud`]: 'sts.amazonaws.com' };
  const condition =
    subCondition === 'StringEquals'
      ? { StringEquals: { ...aud, [`${p.host}:sub`]: sub } }
      : { StringEquals: aud, StringLike: { [`${p.host}:sub`]: sub } };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn(p) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

/** A problem's key path and message, without its position in the file. */
export const pathAndMessage = (p: Problem): Pick<Problem, 'path' | 'message'> => ({ path: p.path, message: p.message });
