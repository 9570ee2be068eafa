/**
 * The part of the S3 SDK the tool uses (looking up the config's bucket, its default encryption and its policy), in a module of its own: it is imported only
 * when a plan looks the bucket up, so `--help` and an offline plan never load it.
 */
export {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
