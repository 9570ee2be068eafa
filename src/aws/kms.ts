/**
 * The part of the KMS SDK the tool uses (the key policy of the bucket's SSE-KMS key, and an alias's key), in a
 * module of its own: it is imported only when a plan involves a KMS key.
 */
export { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
