/**
 * Section 4 (seed 002): the customer-managed policy that limits Flyte to its bucket, and the bucket itself, looked
 * up (never changed): it must exist, in the config's region, for Flyte to work. A bucket encrypted by default with
 * SSE-KMS under a customer managed key needs that key too: the policy then also grants its use through S3, and the
 * key's policy is read to check that it lets IAM policies grant that.
 */
import type { Config } from '../config/schema.js';
import type { CurrentBucket, DesiredBucket, Facts, Finding, Note } from '../model.js';
import { bucketPolicyDocument, KMS_WRITE_ACTIONS, regionOfArn } from '../policy/document.js';
import { severityOf } from '../policy/findings.js';
import { actionsNotDelegated, delegationStatement, kmsKeyParts } from '../policy/kms.js';
import { bucketArn, isPartition, partitionOfRegion } from '../policy/partition.js';
import { customPolicyArn, resourceTags, type SectionDefinition } from './section.js';

/**
 * The bucket's SSE-KMS key that the policy grants the use of: the config's `bucketKmsKey`, else the customer
 * managed key the bucket's default encryption names (read while planning); undefined: none.
 */
export function bucketKmsKey(config: Config, facts: Pick<Facts, 'bucketEncryption'>): string | undefined {
  if (config.bucketKmsKey !== undefined) return config.bucketKmsKey;
  return facts.bucketEncryption?.kind === 'kms' ? facts.bucketEncryption.keyArn : undefined;
}

/**
 * The check of the bucket's SSE-KMS key, as data: a default encryption that could not be read, a key that is gone, a
 * key policy that does not let the account's IAM policies grant its use (with the statement to add), or why it was
 * not checked. Never passed unread. Pure; `current` is the bucket as read (with the key policy).
 */
export function kmsKeyFindings(desired: DesiredBucket, current: CurrentBucket): Finding[] {
  const key = desired.kmsKey;
  if (desired.encryptionUnread !== undefined) {
    return [
      {
        code: 'unchecked',
        severity: severityOf('unchecked'),
        message:
          `the bucket's default encryption was not read (${desired.encryptionUnread}): if it is SSE-KMS under a ` +
          'customer managed key, the Flyte pods get AccessDenied on its objects',
        fix:
          'allow s3:GetEncryptionConfiguration on the bucket (flyte-aws-setup permissions prints the policy), or ' +
          'set bucketKmsKey in the config to its key ARN',
      },
    ];
  }
  if (key === undefined) return [];
  const parts = kmsKeyParts(key);
  const arnPartition = key.split(':')[1] ?? 'aws';
  const partition = isPartition(arnPartition) ? arnPartition : 'aws';
  const account = desired.accountId ?? parts?.account ?? 'ACCOUNT';
  const statement = JSON.stringify(delegationStatement(partition, account, KMS_WRITE_ACTIONS));
  const unchecked = (message: string, fix: string): Finding[] => [
    { code: 'unchecked', severity: severityOf('unchecked'), message, fix },
  ];
  if (parts !== undefined && desired.accountId !== undefined && parts.account !== desired.accountId) {
    return unchecked(
      `the key policy of the bucket's KMS key ${key} was not checked: the key is account ${parts.account}'s, and ` +
        'only that account can read its key policy',
      `account ${parts.account} must let this account's IAM policies grant the key's use: add to its key policy ${statement}`,
    );
  }
  if (current.keyPolicyUnread?.missing) {
    return [
      {
        code: 'kms-key-missing',
        severity: severityOf('kms-key-missing'),
        message: `Flyte cannot read or write the bucket's objects: its KMS key ${key} does not exist`,
        fix:
          "check bucketKmsKey in the config if it names the key, and the bucket's default encryption " +
          `(aws s3api get-bucket-encryption --bucket ${desired.name})`,
      },
    ];
  }
  if (current.keyPolicy === undefined) {
    return unchecked(
      `the key policy of the bucket's KMS key ${key} was not checked: ${current.keyPolicyUnread?.reason ?? 'it was not read'}`,
      'allow kms:GetKeyPolicy on the key (flyte-aws-setup permissions prints the policy), or check by hand that ' +
        "its key policy lets the account's IAM policies grant kms:Decrypt, kms:Encrypt and kms:GenerateDataKey",
    );
  }
  const missing = actionsNotDelegated(current.keyPolicy, partition, account, KMS_WRITE_ACTIONS);
  if (missing.length === 0) return [];
  return [
    {
      code: 'kms-key-policy',
      severity: severityOf('kms-key-policy'),
      message:
        `the key policy of the bucket's KMS key ${key} does not let the account's IAM policies grant ` +
        `${missing.join(', ')}: the custom policy's KMS grant does nothing, and Flyte's pods get AccessDenied on ` +
        'the encrypted objects unless the key policy names their roles',
      fix:
        `add this statement to the key policy (aws kms get-key-policy --key-id ${key} --policy-name default, ` +
        `edit, then aws kms put-key-policy): ${statement}`,
    },
  ];
}

export const customPolicy: SectionDefinition = {
  id: 'customPolicy',
  title: 'S3 policy for the Flyte bucket',
  explain:
    "Flyte's backend and task pods read and write one S3 bucket. This customer-managed policy allows exactly " +
    'that (get, put and delete objects, list the bucket) on that bucket only, instead of AmazonS3FullAccess on ' +
    'every bucket of the account. The Flyte roles that follow carry it.',
  needsCluster: true,
  identity: 'none',
  dependsOn: [],
  enabled: (config) => config.customPolicy !== false,
  off: 'customPolicy: false',
  rules: [
    {
      name: 'bucketKmsKey: with the custom policy, in the partition and region of the config',
      check({ config }) {
        const key = config.bucketKmsKey;
        if (key === undefined) return [];
        if (config.customPolicy === false) {
          return [
            {
              path: ['bucketKmsKey'],
              message: 'only applies with the custom policy (customPolicy: false leaves the bucket to your policies)',
            },
          ];
        }
        if (config.region === undefined) return [];
        const partition = partitionOfRegion(config.region);
        if (key.split(':')[1] !== partition) {
          return [
            {
              path: ['bucketKmsKey'],
              message: `is in partition ${key.split(':')[1]}, but region ${config.region} is in ${partition}`,
            },
          ];
        }
        const region = regionOfArn(key);
        return region !== config.region
          ? [
              {
                path: ['bucketKmsKey'],
                message: `is a key in ${region}, but the bucket is in ${config.region} (region:), and S3 only uses a key of the bucket's own region`,
              },
            ]
          : [];
      },
    },
  ],
  notes(ctx) {
    const { config, facts } = ctx;
    const notes: Note[] = [];
    const key = bucketKmsKey(config, facts);
    if (key !== undefined) {
      notes.push({
        level: 'info',
        message:
          `the bucket is encrypted with the KMS key ${key}${config.bucketKmsKey !== undefined ? ' (bucketKmsKey)' : ''}: ` +
          'the policy also grants kms:Decrypt, kms:Encrypt and kms:GenerateDataKey on that key, only through S3',
      });
    }
    // A default encryption that could not be read is a finding of the bucket (verify counts it).
    return notes;
  },
  desired(ctx) {
    const { config, facts } = ctx;
    if (config.customPolicy === false) return [];
    const kmsKey = bucketKmsKey(config, facts);
    return [
      {
        kind: 'policy',
        name: config.customPolicy.name,
        path: config.path,
        arn: customPolicyArn(ctx)!,
        description: `Flyte access to s3://${config.bucket}, managed by flyte-aws-setup`,
        document: bucketPolicyDocument(facts.partition, config.bucket, kmsKey),
        tags: resourceTags(config),
      },
      // An offline plan cannot look it up (the plan says so once, beside the facts).
      ...(facts.offline
        ? []
        : [
            {
              kind: 'bucket' as const,
              name: config.bucket,
              arn: bucketArn(facts.partition, config.bucket),
              region: facts.region,
              ...(kmsKey !== undefined ? { kmsKey, accountId: facts.accountId } : {}),
              ...(facts.bucketEncryption?.kind === 'unknown'
                ? { encryptionUnread: facts.bucketEncryption.reason }
                : {}),
            },
          ]),
    ];
  },
};
