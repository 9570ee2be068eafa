/**
 * What each Flyte role must be able to do, and what it must not, as requests for the evaluator: built here, in one
 * place, from the config (the bucket, the target's prefixes, the bucket's KMS key, the role's grants). A new need is
 * one more entry of `neededCapabilities` (or `grantCapabilities`, per role); a new over-grant to look for, one more of
 * `overGrantProbes`. Pure.
 */
import type { Config, Grant, Target } from '../config/schema.js';
import type { Facts } from '../model.js';
import { POLICY_VERSION, regionOfArn } from '../policy/document.js';
import { delegationStatement } from '../policy/kms.js';
import type { NamedPolicy } from '../policy/simulate.js';
import { secretArn } from '../policy/grants.js';
import { bucketArn, dnsSuffix, type Partition } from '../policy/partition.js';
import { bucketKmsKey } from '../sections/custom-policy.js';
import { grantsByRole } from '../sections/grantees.js';

/**
 * The matrix's columns: what Flyte needs (list, get, put, delete; the use of the bucket's KMS key; what the config's
 * grants give), and what goes beyond it.
 */
export type CapabilityColumn = 'list' | 'get' | 'put' | 'delete' | 'kms' | 'grant' | 'beyond';

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
  /** The resource's own policy, for a resource used only as it allows (a KMS key). */
  resourcePolicy?: NamedPolicy;
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

/**
 * The request context of a use of a KMS key through S3: what S3 sends KMS when it encrypts or decrypts an object
 * for the caller (`kms:ViaService` is S3 in the key's region, `kms:CallerAccount` the caller's account).
 */
function kmsViaS3Context(partition: Partition, accountId: string, keyArn: string): Record<string, string> {
  const region = regionOfArn(keyArn) ?? 'us-east-1';
  return { 'kms:ViaService': `s3.${region}.${dnsSuffix(partition)}`, 'kms:CallerAccount': accountId };
}

/** The KMS uses of an SSE-KMS key through S3: decrypt (to read), and with `write`, generate a data key (to put). */
function kmsCapabilities(
  facts: Pick<Facts, 'partition' | 'accountId'>,
  keyArn: string,
  column: CapabilityColumn,
  idPrefix: string,
  what: string,
  write: boolean,
): Capability[] {
  const context = kmsViaS3Context(facts.partition, facts.accountId, keyArn);
  // A key is used only as its key policy allows: the check takes it to let the account's IAM policies grant the use
  // (the plan checks the bucket's key's real policy for that: kms-key-policy), and asks what the role's grant.
  const keyPolicy: NamedPolicy = {
    name: 'key policy',
    document: {
      Version: POLICY_VERSION,
      Statement: [delegationStatement(facts.partition, facts.accountId, ['kms:*'])],
    },
  };
  const uses = [
    ['decrypt', 'kms:Decrypt', `decrypt with ${what} (through S3)`],
    ...(write ? [['generate a data key', 'kms:GenerateDataKey', `generate a data key of ${what} (through S3)`]] : []),
  ] as const;
  return uses.map(([verb, action, label]) => ({
    id: `${idPrefix}${verb}`,
    column,
    label,
    action,
    resource: keyArn,
    where: keyArn,
    context,
    resourcePolicy: keyPolicy,
  }));
}

/**
 * What every Flyte role needs on the bucket: list it, and get, put and delete objects under each prefix; with a
 * customer managed SSE-KMS key (`bucketKmsKey`, or the one the bucket's default encryption names), decrypt with it
 * and generate data keys of it, through S3.
 */
export function neededCapabilities(
  config: Config,
  facts: Pick<Facts, 'partition' | 'accountId' | 'bucketEncryption'>,
): Capability[] {
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
  const key = bucketKmsKey(config, facts);
  if (key !== undefined) out.push(...kmsCapabilities(facts, key, 'kms', '', "the bucket's key", true));
  return out;
}

/** A secret's ARN as Secrets Manager gives it: its name (or one under its prefix), with six random characters. */
function aSecretArn(scope: Pick<Facts, 'partition' | 'region' | 'accountId'>, secret: string): string {
  const name = secret.endsWith('*') ? `${secret.slice(0, -1)}${CHECK_OBJECT}` : secret;
  return secretArn(scope, name).replace(/\?{6}$/, 'AbC123');
}

/** What one grant gives, as requests: get (and put) under its prefix and the use of its key, a secret, an image. */
function capabilitiesOfGrant(g: Grant, facts: Pick<Facts, 'partition' | 'region' | 'accountId'>): Capability[] {
  if (g.bucket !== undefined) {
    const prefix = g.prefix ?? '';
    const where = `s3://${g.bucket}/${prefix}`;
    const resource = `${bucketArn(facts.partition, g.bucket)}/${prefix}${CHECK_OBJECT}`;
    const write = g.access === 'read-write';
    const verbs = [['get', 's3:GetObject'], ...(write ? [['put', 's3:PutObject']] : [])] as const;
    return [
      ...verbs.map(([verb, action]) => ({
        id: `grant ${verb} ${where}`,
        column: 'grant' as const,
        label: `${verb} objects under ${where} (grant)`,
        action,
        resource,
        where,
      })),
      ...(g.kmsKey !== undefined
        ? kmsCapabilities(facts, g.kmsKey, 'grant', `grant ${where} `, `the key of ${where}`, write)
        : []),
    ];
  }
  if (g.secret !== undefined) {
    const arn = aSecretArn(facts, g.secret);
    return [
      {
        id: `grant secret ${g.secret}`,
        column: 'grant',
        label: `read the secret ${g.secret} (grant)`,
        action: 'secretsmanager:GetSecretValue',
        resource: arn,
        where: arn,
      },
    ];
  }
  if (g.ecrRepository !== undefined) {
    return [
      {
        id: `grant image ${g.ecrRepository}`,
        column: 'grant',
        label: `pull images of ${g.ecrRepository} (grant)`,
        action: 'ecr:BatchGetImage',
        resource: g.ecrRepository,
        where: g.ecrRepository,
      },
    ];
  }
  return [];
}

/** What the config's grants give one role (none when it has no grants), each grant's requests once. */
export function grantCapabilities(
  config: Config,
  facts: Pick<Facts, 'partition' | 'region' | 'accountId'>,
  roleName: string,
): Capability[] {
  const out = new Map<string, Capability>();
  for (const g of grantsByRole(config).get(roleName) ?? []) {
    for (const c of capabilitiesOfGrant(g, facts)) if (!out.has(c.id)) out.set(c.id, c);
  }
  return [...out.values()];
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
