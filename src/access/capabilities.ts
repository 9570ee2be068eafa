/**
 * What each Flyte role must be able to do, and what it must not, as requests for the evaluator: built here, in one
 * place, from the config (the bucket, the target's prefixes). A new need (a bucket's KMS key, a grant of the config)
 * is one more entry of `neededCapabilities`; a new over-grant to look for, one more of `overGrantProbes`. Pure.
 */
import type { Config, Target } from '../config/schema.js';
import type { Facts } from '../model.js';
import { bucketArn } from '../policy/partition.js';

/** The matrix's columns: what Flyte needs (list, get, put, delete), and what goes beyond it. */
export type CapabilityColumn = 'list' | 'get' | 'put' | 'delete' | 'beyond';

export interface Capability {
  /** Stable within a report: `put metadata/`, `read another bucket`. */
  id: string;
  column: CapabilityColumn;
  /** What it is, in words: "put objects under s3://acme-flyte-data/metadata/". */
  label: string;
  action: string;
  resource: string;
  /** Where, as people write it: `s3://BUCKET/metadata/` for what is under a prefix, else the resource. */
  where: string;
  /** Request context beyond the role session's own (e.g. `kms:ViaService`). */
  context?: Record<string, string>;
}

/** Where Flyte writes in its bucket, by target: what the hand-off's values point it to. */
export interface FlytePrefix {
  /** The key prefix (`metadata/`), or `` for the bucket's root. */
  prefix: string;
  what: string;
}

export function flytePrefixes(target: Target): FlytePrefix[] {
  switch (target) {
    case 'flyte-binary':
    case 'flyte-core':
      return [
        { prefix: 'metadata/', what: 'metadata' },
        // rawoutput-prefix s3://BUCKET/: raw outputs go under random prefixes at the root.
        { prefix: '', what: 'raw outputs' },
      ];
    case 'flyte2':
      return [{ prefix: '', what: 'runs (storagePrefix)' }];
    case 'union':
      return [{ prefix: '', what: 'task data' }];
  }
}

/** The object each check is made on: one key under the prefix. */
export const CHECK_OBJECT = 'flyte-aws-setup-access-check';

/** What every Flyte role needs on the bucket: list it, and get, put and delete objects under each prefix. */
export function neededCapabilities(config: Config, facts: Pick<Facts, 'partition'>): Capability[] {
  const bucket = bucketArn(facts.partition, config.bucket);
  const out: Capability[] = [
    {
      id: 'list',
      column: 'list',
      label: `list s3://${config.bucket}`,
      action: 's3:ListBucket',
      resource: bucket,
      where: `s3://${config.bucket}`,
    },
  ];
  const verbs = [
    ['get', 's3:GetObject'],
    ['put', 's3:PutObject'],
    ['delete', 's3:DeleteObject'],
  ] as const;
  for (const { prefix, what } of flytePrefixes(config.target)) {
    for (const [verb, action] of verbs) {
      out.push({
        id: `${verb} ${prefix || '/'}`,
        column: verb,
        label: `${verb} objects under s3://${config.bucket}/${prefix} (${what})`,
        action,
        resource: `${bucket}/${prefix}${CHECK_OBJECT}`,
        where: `s3://${config.bucket}/${prefix}`,
      });
    }
  }
  return out;
}

/** A bucket that is not Flyte's: a grant that reaches it reaches any bucket. */
export const OTHER_BUCKET = 'flyte-aws-setup-any-other-bucket';

/**
 * What a Flyte role must not be able to do, each standing for a kind of over-grant: any other bucket (read, write),
 * the bucket's own settings (`s3:*` on it), IAM (a way to more permissions), and another service altogether (`*`).
 */
export function overGrantProbes(
  config: Config,
  facts: Pick<Facts, 'partition' | 'accountId' | 'region'>,
): Capability[] {
  const { partition, accountId, region } = facts;
  const other = bucketArn(partition, OTHER_BUCKET);
  return [
    {
      id: 'read another bucket',
      column: 'beyond',
      label: 'read any other bucket (s3:GetObject)',
      action: 's3:GetObject',
      resource: `${other}/${CHECK_OBJECT}`,
      where: `s3://${OTHER_BUCKET}/`,
    },
    {
      id: 'write another bucket',
      column: 'beyond',
      label: 'write any other bucket (s3:PutObject)',
      action: 's3:PutObject',
      resource: `${other}/${CHECK_OBJECT}`,
      where: `s3://${OTHER_BUCKET}/`,
    },
    {
      id: 'bucket settings',
      column: 'beyond',
      label: `change the bucket's own policy (s3:PutBucketPolicy on s3://${config.bucket})`,
      action: 's3:PutBucketPolicy',
      resource: bucketArn(partition, config.bucket),
      where: `s3://${config.bucket}`,
    },
    {
      id: 'pass a role',
      column: 'beyond',
      label: 'pass any role to a service (iam:PassRole)',
      action: 'iam:PassRole',
      resource: `arn:${partition}:iam::${accountId}:role/flyte-aws-setup-any-role`,
      where: `arn:${partition}:iam::${accountId}:role/flyte-aws-setup-any-role`,
    },
    {
      id: 'attach a policy',
      column: 'beyond',
      label: 'attach policies to roles (iam:AttachRolePolicy)',
      action: 'iam:AttachRolePolicy',
      resource: `arn:${partition}:iam::${accountId}:role/flyte-aws-setup-any-role`,
      where: `arn:${partition}:iam::${accountId}:role/flyte-aws-setup-any-role`,
    },
    {
      id: 'another service',
      column: 'beyond',
      label: 'use a service Flyte does not (sqs:DeleteQueue)',
      action: 'sqs:DeleteQueue',
      resource: `arn:${partition}:sqs:${region}:${accountId}:flyte-aws-setup-any-queue`,
      where: `arn:${partition}:sqs:${region}:${accountId}:flyte-aws-setup-any-queue`,
    },
  ];
}
