/**
 * IAM policy documents: the types, and the builders for every document the tool writes.
 * Pure: no AWS calls, no I/O.
 */
import { dnsSuffix, STS_AUDIENCE, issuerHostPath, type Partition } from './partition.js';

export type StringOrList = string | string[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, StringOrList>;
  NotPrincipal?: '*' | Record<string, StringOrList>;
  Action?: StringOrList;
  NotAction?: StringOrList;
  Resource?: StringOrList;
  NotResource?: StringOrList;
  Condition?: Record<string, Record<string, StringOrList>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
  Id?: string;
}

export const POLICY_VERSION = '2012-10-17';

/** Trust for an AWS service (`eks.amazonaws.com`, `ec2.amazonaws.com`) to assume the role. */
export function serviceTrustPolicy(servicePrincipal: string): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [{ Effect: 'Allow', Principal: { Service: servicePrincipal }, Action: 'sts:AssumeRole' }],
  };
}

export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

export interface IrsaTrustInput {
  providerArn: string;
  issuerUrl: string;
  /** `system:serviceaccount:<namespace>:<name>` values; `*` in a namespace makes the condition StringLike. */
  subjects: string[];
}

/**
 * The IRSA trust of an EKS service account role. Both condition keys come from the cluster's own issuer
 * (the documents mix `us-east-1` with the real region); `aud` stays under StringEquals (the documents move it to
 * StringLike with `sub`); `sub` goes under StringLike only when one of its values holds a wildcard.
 */
export function irsaTrustPolicy({ providerArn, issuerUrl, subjects }: IrsaTrustInput): PolicyDocument {
  if (subjects.length === 0) throw new Error('irsaTrustPolicy: no subjects');
  const host = issuerHostPath(issuerUrl);
  const sub = subjects.length === 1 ? subjects[0]! : [...subjects];
  const wildcard = subjects.some(hasWildcard);
  const condition: Record<string, Record<string, StringOrList>> = wildcard
    ? { StringEquals: { [`${host}:aud`]: STS_AUDIENCE }, StringLike: { [`${host}:sub`]: sub } }
    : { StringEquals: { [`${host}:aud`]: STS_AUDIENCE, [`${host}:sub`]: sub } };
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

/** The service principal of EKS Pod Identity (the same in every partition). */
export const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';
/** What the Pod Identity Agent asks STS for: the role, and the session tags naming the pod's cluster and namespace. */
export const POD_IDENTITY_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;

export interface PodIdentityTrustInput {
  accountId: string;
  /** The EKS cluster whose associations may hand out the role. */
  clusterArn: string;
}

/**
 * The Pod Identity statement of a role's trust: `pods.eks.amazonaws.com` may assume it (and tag the session), but
 * only for this account's cluster (`aws:SourceAccount`, `aws:SourceArn`), so another account's or another cluster's
 * association cannot hand it out. Which service accounts get it is the associations' business, not the trust's.
 */
export function podIdentityTrustStatement({ accountId, clusterArn }: PodIdentityTrustInput): PolicyStatement {
  return {
    Effect: 'Allow',
    Principal: { Service: POD_IDENTITY_PRINCIPAL },
    Action: [...POD_IDENTITY_ACTIONS],
    Condition: {
      StringEquals: { 'aws:SourceAccount': accountId },
      ArnEquals: { 'aws:SourceArn': clusterArn },
    },
  };
}

/** Whether a statement lets EKS Pod Identity assume the role. */
export function isPodIdentityStatement(s: PolicyStatement): boolean {
  if (s.Principal === undefined || s.Principal === '*') return false;
  const service = s.Principal.Service;
  return (Array.isArray(service) ? service : service === undefined ? [] : [service]).includes(POD_IDENTITY_PRINCIPAL);
}

/** Where one cluster's pods come from: its OIDC provider (IRSA) and its ARN (Pod Identity). */
export interface ClusterTrustInput {
  irsa?: { providerArn: string; issuerUrl: string };
  pod?: PodIdentityTrustInput;
}

export interface ServiceAccountTrustInput {
  mode: 'irsa' | 'pod-identity' | 'both';
  /** Every cluster whose pods assume the role (several: blue/green upgrades, multi-cluster Flyte). */
  clusters: ClusterTrustInput[];
  /** The service account subjects, the same for every cluster (IRSA). */
  subjects: string[];
}

/**
 * The trust of a role Flyte's pods assume, as the config's `identity` says: an IRSA statement per cluster (its own
 * provider and condition keys, the same subjects), then a Pod Identity statement per cluster (bounded to it). A
 * cluster removed takes its statements with it, a narrowing change; one added is a broadening one.
 */
export function serviceAccountTrustPolicy({ mode, clusters, subjects }: ServiceAccountTrustInput): PolicyDocument {
  if (clusters.length === 0) throw new Error('serviceAccountTrustPolicy: no cluster');
  const statements: PolicyStatement[] = [];
  if (mode !== 'pod-identity') {
    for (const c of clusters) {
      if (c.irsa === undefined) throw new Error('serviceAccountTrustPolicy: IRSA needs the issuer');
      statements.push(...irsaTrustPolicy({ ...c.irsa, subjects }).Statement);
    }
  }
  if (mode !== 'irsa') {
    for (const c of clusters) {
      if (c.pod === undefined) throw new Error('serviceAccountTrustPolicy: Pod Identity needs the cluster');
      statements.push(podIdentityTrustStatement(c.pod));
    }
  }
  return { Version: POLICY_VERSION, Statement: statements };
}

/**
 * How many of `clusters` (in order) a role's trust can hold within IAM's limit: the size with all of them, and
 * the most that fit (0: not even the first). `size(n)` measures the trust with the first n clusters.
 */
export function clustersThatFit(
  count: number,
  size: (n: number) => number,
  max = TRUST_POLICY_MAX,
): { size: number; fit: number } {
  const all = size(count);
  let fit = 0;
  while (fit < count && size(fit + 1) <= max) fit++;
  return { size: all, fit };
}

export function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/** The S3 actions of the documents' custom policy (seed 002). */
export const FLYTE_S3_ACTIONS = ['s3:DeleteObject*', 's3:GetObject*', 's3:ListBucket', 's3:PutObject*'] as const;

/** What S3 asks KMS for on a reader's or writer's behalf, with SSE-KMS: decrypt to read, a data key to write. */
export const KMS_READ_ACTIONS = ['kms:Decrypt'] as const;
export const KMS_WRITE_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

/** The region of an ARN (`arn:PARTITION:SERVICE:REGION:...`); undefined when it has none. */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}

/**
 * Use of a KMS key through S3 only: the actions on that one key, when S3 in the key's region (which is the
 * bucket's: S3 uses a key of its own region) asks on the caller's behalf (`kms:ViaService`).
 */
export function kmsViaS3Statement(partition: Partition, keyArn: string, actions: readonly string[]): PolicyStatement {
  const region = regionOfArn(keyArn) ?? 'us-east-1';
  return {
    Effect: 'Allow',
    Action: [...actions],
    Resource: keyArn,
    Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.${dnsSuffix(partition)}` } },
  };
}

/**
 * The customer-managed policy that scopes Flyte to its bucket, in place of AmazonS3FullAccess; with the bucket's
 * SSE-KMS key (a customer managed one), also the use of that key through S3.
 */
export function bucketPolicyDocument(partition: Partition, bucket: string, kmsKey?: string): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Effect: 'Allow',
        Action: [...FLYTE_S3_ACTIONS],
        Resource: [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`],
      },
      ...(kmsKey !== undefined ? [kmsViaS3Statement(partition, kmsKey, KMS_WRITE_ACTIONS)] : []),
    ],
  };
}

/** Length as IAM counts it for the trust-policy quota: the document without white space. */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** IAM's default quota for a role trust policy (it can be raised to 4,096 on request). */
export const TRUST_POLICY_MAX = 2048;
/** IAM's quota for a customer-managed policy document. */
export const MANAGED_POLICY_MAX = 6144;
