/**
 * Section 4 (seed 002): the customer-managed policy that limits Flyte to its bucket, and the bucket itself, looked
 * up (never changed): it must exist, in the config's region, for Flyte to work.
 */
import { bucketPolicyDocument } from '../policy/document.js';
import { bucketArn } from '../policy/partition.js';
import { customPolicyArn, resourceTags, type SectionDefinition } from './section.js';

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
  desired(ctx) {
    const { config, facts } = ctx;
    if (config.customPolicy === false) return [];
    return [
      {
        kind: 'policy',
        name: config.customPolicy.name,
        path: config.path,
        arn: customPolicyArn(ctx)!,
        description: `Flyte access to s3://${config.bucket}, managed by flyte-aws-setup`,
        document: bucketPolicyDocument(facts.partition, config.bucket),
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
            },
          ]),
    ];
  },
};
