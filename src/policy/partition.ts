/** AWS partitions and the names that differ between them. Every ARN the tool builds goes through here. */

export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type Partition = (typeof PARTITIONS)[number];

export function isPartition(value: string): value is Partition {
  return (PARTITIONS as readonly string[]).includes(value);
}

/** The partition named by an ARN (`arn:<partition>:...`), e.g. the caller ARN from STS. */
export function partitionOfArn(arn: string): Partition | undefined {
  const part = arn.split(':')[1];
  return part !== undefined && isPartition(part) ? part : undefined;
}

/** The partition a region belongs to, for when there is no caller ARN (an offline plan). */
export function partitionOfRegion(region: string | undefined): Partition {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The EC2 service principal: the China regions have their own. */
export function ec2ServicePrincipal(partition: Partition): string {
  return partition === 'aws-cn' ? 'ec2.amazonaws.com.cn' : 'ec2.amazonaws.com';
}

/** The EKS service principal is the same in every partition. */
export function eksServicePrincipal(_partition: Partition): string {
  return 'eks.amazonaws.com';
}

/** The audience EKS projects into service account tokens for IRSA. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

export function awsManagedPolicyArn(partition: Partition, name: string): string {
  return `arn:${partition}:iam::aws:policy/${name}`;
}

export function roleArn(partition: Partition, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

export function policyArn(partition: Partition, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:policy${path}${name}`;
}

/** The issuer URL without its scheme, as IAM and the IRSA condition keys use it. */
export function issuerHostPath(issuerUrl: string): string {
  return issuerUrl.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

export function oidcProviderArn(partition: Partition, account: string, issuerUrl: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${issuerHostPath(issuerUrl)}`;
}

/** The last path segment of an ARN: a policy ARN's name. */
/** An AWS managed policy (`arn:<partition>:iam::aws:policy/...`), not one of an account. */
export function isAwsManagedPolicy(arn: string): boolean {
  return /^arn:[\w-]+:iam::aws:policy\//.test(arn);
}

export function nameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export function eksClusterArn(partition: Partition, region: string, account: string, name: string): string {
  return `arn:${partition}:eks:${region}:${account}:cluster/${name}`;
}

export function vpcArn(partition: Partition, region: string, account: string, vpcId: string): string {
  return `arn:${partition}:ec2:${region}:${account}:vpc/${vpcId}`;
}

export function bucketArn(partition: Partition, bucket: string): string {
  return `arn:${partition}:s3:::${bucket}`;
}

/** The DNS suffix of a partition's service endpoints (and of its EKS OIDC issuers). */
export function dnsSuffix(partition: Partition): string {
  return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** An EKS cluster's OIDC issuer URL in `region`, with `id` (a real one, a placeholder, or `*`). */
export function eksIssuerUrl(partition: Partition, region: string, id: string): string {
  return `https://oidc.eks.${region}.${dnsSuffix(partition)}/id/${id}`;
}
