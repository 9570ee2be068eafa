/**
 * One helper for SDK mocks (aws-sdk-client-mock): the IAM, EKS, STS, EC2, S3 and KMS clients mocked together, reset
 * for each test, with STS answering for a default caller and S3 for a bucket in the region (without default
 * encryption of its own: SSE-S3, and without a bucket policy). Nothing is mocked on import.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, DescribeClusterCommand, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { CallRecorder, type AwsClients } from '../../src/aws/clients.js';
import { AwsGateway } from '../../src/aws/gateway.js';

export const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789';

export function awsError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  Object.assign(err, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return err;
}

/** GetRole's answer for the role `name` of `account`: its trust URL-encoded, as IAM gives it, and its tags. */
export function roleAnswer(name: string, trust: unknown, tags: Record<string, string> = {}, account = '111122223333') {
  return {
    Role: {
      RoleName: name,
      Arn: `arn:aws:iam::${account}:role/${name}`,
      Path: '/',
      RoleId: 'x',
      CreateDate: new Date(),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    },
  };
}

/** The clients' stubs made so far: every instance of each client class answers from them until they are restored. */
const stubbed: { restore(): void }[] = [];

/** Give the SDK clients back their own `send` (after a test file: the next one may talk to a server). */
export function restoreAwsMocks(): void {
  for (const mock of stubbed.splice(0)) mock.restore();
}

export function mockAws(options: { partition?: string; account?: string; region?: string } = {}) {
  const partition = options.partition ?? 'aws';
  const account = options.account ?? '111122223333';
  const region = options.region ?? 'eu-west-1';
  const iam = mockClient(IAMClient);
  const eks = mockClient(EKSClient);
  const sts = mockClient(STSClient);
  const ec2 = mockClient(EC2Client);
  const s3 = mockClient(S3Client);
  const kms = mockClient(KMSClient);
  stubbed.push(iam, eks, sts, ec2, s3, kms);
  iam.reset();
  eks.reset();
  sts.reset();
  ec2.reset();
  s3.reset();
  kms.reset();
  s3.on(GetBucketEncryptionCommand).resolves({
    ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
  });
  s3.on(GetBucketLocationCommand).resolves(region === 'us-east-1' ? {} : { LocationConstraint: region as never });
  // The bucket has no policy of its own.
  s3.on(GetBucketPolicyCommand).rejects(awsError('NoSuchBucketPolicy', 'The bucket policy does not exist'));
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: account, Arn: `arn:${partition}:sts::${account}:assumed-role/Admin/me`, UserId: 'AROA:me' });
  // No role of the account lists as the tool's until a test says so (every plan looks for the setup's leftovers).
  iam.on(ListRolesCommand).resolves({ Roles: [] });
  // A cluster has no pod identity association until a test says so (destroy and verify look for the setup's).
  eks.on(ListPodIdentityAssociationsCommand).resolves({ associations: [] });
  eks.on(DescribeClusterCommand).resolves({
    cluster: { name: 'acme', status: 'ACTIVE', identity: { oidc: { issuer: ISSUER.replace('eu-west-1', region) } } },
  });
  const credentials = { accessKeyId: 'AKIAMOCK', secretAccessKey: 'mock' };
  const clients: AwsClients = {
    iam: new IAMClient({ region, credentials }),
    iamOnce: new IAMClient({ region, credentials, maxAttempts: 1 }),
    eks: new EKSClient({ region, credentials }),
    eksIn: (other) =>
      other === undefined || other === region ? clients.eks : new EKSClient({ region: other, credentials }),
    sts: new STSClient({ region, credentials }),
    ec2: async (vpcRegion = region) => new EC2Client({ region: vpcRegion, credentials }),
    s3: async () => new S3Client({ region, credentials }),
    kms: async (keyRegion = region) => new KMSClient({ region: keyRegion, credentials }),
    lazy: [],
    region,
    recorder: new CallRecorder(''),
  };
  return { iam, eks, sts, ec2, s3, kms, clients, gateway: new AwsGateway(clients) };
}
