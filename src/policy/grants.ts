/**
 * The documents of `grants:`: the managed policy of one role's grants (other buckets or prefixes, Secrets Manager
 * secrets, another account's ECR repositories), each least privilege, and the repository policy another account
 * must add for its ECR repository. Pure.
 */
import { KMS_READ_ACTIONS, KMS_WRITE_ACTIONS, kmsViaS3Statement, POLICY_VERSION } from './document.js';
import type { PolicyDocument, PolicyStatement } from './document.js';
import type { Partition } from './partition.js';

/** What a bucket grant allows on the objects: read gets them; read-write also puts and deletes them. */
export const GRANT_OBJECT_ACTIONS = {
  read: ['s3:GetObject'],
  'read-write': ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
} as const;
export const SECRET_ACTIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] as const;
/** What pulling an image needs on its repository; the token is asked of the registry (no resource). */
export const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;

/** A grant as the documents need it (the config's `grants:` entry, with `access` defaulted). */
export interface GrantSpec {
  bucket?: string;
  prefix?: string;
  access: 'read' | 'read-write';
  kmsKey?: string;
  secret?: string;
  ecrRepository?: string;
}

export interface GrantScope {
  partition: Partition;
  /** The config's region and account: secrets are granted there. */
  region: string;
  accountId: string;
}

/**
 * A secret's ARN pattern: a name gets the six random characters Secrets Manager appends (`-??????`), so that a
 * secret of a longer name is not matched; a name prefix (`prod/*`) every secret whose name starts so.
 */
export function secretArn(scope: GrantScope, secret: string): string {
  const base = `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.accountId}:secret:`;
  return secret.endsWith('*') ? `${base}${secret}` : `${base}${secret}-??????`;
}

function bucketStatements(partition: Partition, g: GrantSpec): PolicyStatement[] {
  const bucket = `arn:${partition}:s3:::${g.bucket}`;
  const prefix = g.prefix ?? '';
  return [
    { Effect: 'Allow', Action: [...GRANT_OBJECT_ACTIONS[g.access]], Resource: `${bucket}/${prefix}*` },
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucket,
      ...(g.prefix !== undefined ? { Condition: { StringLike: { 's3:prefix': `${prefix}*` } } } : {}),
    },
    ...(g.kmsKey !== undefined
      ? [kmsViaS3Statement(partition, g.kmsKey, g.access === 'read' ? KMS_READ_ACTIONS : KMS_WRITE_ACTIONS)]
      : []),
  ];
}

function one(values: string[]): string | string[] {
  return values.length === 1 ? values[0]! : values;
}

/** The managed policy of one role's grants: the buckets' statements, then the secrets', then ECR's. */
export function grantsPolicyDocument(scope: GrantScope, grants: readonly GrantSpec[]): PolicyDocument {
  const statements: PolicyStatement[] = grants.flatMap((g) =>
    g.bucket !== undefined ? bucketStatements(scope.partition, g) : [],
  );
  const secrets = [...new Set(grants.flatMap((g) => (g.secret !== undefined ? [secretArn(scope, g.secret)] : [])))];
  if (secrets.length > 0) statements.push({ Effect: 'Allow', Action: [...SECRET_ACTIONS], Resource: one(secrets) });
  const repositories = [...new Set(grants.flatMap((g) => (g.ecrRepository !== undefined ? [g.ecrRepository] : [])))];
  if (repositories.length > 0) {
    statements.push(
      { Effect: 'Allow', Action: [...ECR_PULL_ACTIONS], Resource: one(repositories) },
      // Takes no resource-level permissions: a token for the registries the repository statements allow.
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    );
  }
  return { Version: POLICY_VERSION, Statement: statements };
}

/** The repository policy statement another account adds so that these roles may pull from its repository. */
export function ecrRepositoryPolicy(roleArns: readonly string[]): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: 'FlytePull',
        Effect: 'Allow',
        Principal: { AWS: one([...roleArns]) },
        Action: [...ECR_PULL_ACTIONS],
      },
    ],
  };
}

/** The repository's region, account and name from its ARN. */
export function ecrRepositoryParts(arn: string): { region: string; account: string; name: string } {
  const [, , , region = '', account = '', resource = ''] = arn.split(':');
  return { region, account, name: resource.replace(/^repository\//, '') };
}
