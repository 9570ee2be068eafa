/**
 * The Flyte bucket's own policy in the access check: read once (s3:GetBucketPolicy, only as the run's account's
 * bucket), and given to the evaluator as the resource policy of every request on the bucket and its objects. For
 * same-account access IAM allows what the role's policies or the bucket policy allow, and an explicit Deny in
 * either refuses. A policy that could not be read stays "not checked", never a pass.
 */
import type { AwsGateway } from '../aws/gateway.js';
import type { PolicyDocument } from '../policy/document.js';
import { bucketArn, type Partition } from '../policy/partition.js';
import type { Capability } from './capabilities.js';

/** How the evaluator names the bucket policy's statements: `bucket policy DenyPut`. */
export const BUCKET_POLICY = 'bucket policy';

/** The bucket's policy as the check read it: its document, none, or why it was not read. */
export type BucketPolicyRead =
  | { kind: 'found'; bucket: string; document: PolicyDocument }
  | { kind: 'none'; bucket: string }
  | { kind: 'unread'; bucket: string; reason: string };

export async function readBucketPolicy(
  gateway: AwsGateway,
  bucket: string,
  accountId: string,
): Promise<BucketPolicyRead> {
  const answer = await gateway.bucketPolicy(bucket, accountId);
  if ('policy' in answer) return { kind: 'found', bucket, document: answer.policy };
  if ('none' in answer) return { kind: 'none', bucket };
  return { kind: 'unread', bucket, reason: answer.reason };
}

/**
 * The capabilities, those on the bucket (and its objects) with its policy as their resource policy. A capability
 * with a resource policy of its own (a KMS key's) keeps it.
 */
export function withBucketPolicy(
  capabilities: readonly Capability[],
  read: BucketPolicyRead | undefined,
  partition: Partition,
): Capability[] {
  if (read?.kind !== 'found') return [...capabilities];
  const arn = bucketArn(partition, read.bucket);
  const policy = { name: BUCKET_POLICY, document: read.document };
  return capabilities.map((c) =>
    c.resourcePolicy === undefined && (c.resource === arn || c.resource.startsWith(`${arn}/`))
      ? { ...c, resourcePolicy: policy }
      : c,
  );
}

/** What the report lists as not checked about the bucket policy (nothing when it was read, or there is none). */
export function bucketPolicyNotChecked(read: BucketPolicyRead | undefined): string[] {
  if (read === undefined) {
    return [
      "the bucket's own policy, and whether the bucket is another account's (its policy must then allow the roles too)",
    ];
  }
  if (read.kind === 'unread') {
    return [
      `the bucket's own policy (not read: ${read.reason}); a bucket of another account must allow the roles in its policy too`,
    ];
  }
  return [];
}
