/** SDK access to the emulator for tests: make the world a test needs, and read IAM back to check the tool. */
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CreatePolicyCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { decodePolicyDocument } from '../../src/policy/compare.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { FAKE_KEYS } from './cli.js';

export const ACCOUNT = '123456789012';

/** The custom policy with the default name, as the tool makes it in the emulator's account. */
export const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;

export function clients(endpoint: string, region = 'eu-west-1') {
  const config = {
    endpoint,
    region,
    credentials: { accessKeyId: FAKE_KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_KEYS.AWS_SECRET_ACCESS_KEY },
  };
  return {
    iam: new IAMClient(config),
    eks: new EKSClient(config),
    ec2: new EC2Client(config),
    s3: new S3Client(config),
  };
}

/** An S3 bucket in the emulator, in `region` (Flyte's bucket: the tool only looks it up). */
export async function createBucket(endpoint: string, name: string, region = 'eu-west-1'): Promise<void> {
  await clients(endpoint, region).s3.send(
    new CreateBucketCommand({
      Bucket: name,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
}

/**
 * An EKS cluster in the emulator (on `subnetIds`, none by default), running with the role `roleName`; returns its
 * OIDC issuer URL.
 */
export async function createCluster(
  endpoint: string,
  name: string,
  region = 'eu-west-1',
  subnetIds: string[] = [],
  roleName = 'some-cluster-role',
): Promise<string> {
  const { eks } = clients(endpoint, region);
  const out = await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
      resourcesVpcConfig: { subnetIds },
    }),
  );
  const issuer = out.cluster?.identity?.oidc?.issuer;
  if (!issuer) throw new Error('the emulator gave the cluster no OIDC issuer');
  return issuer;
}

export interface RoleState {
  arn: string;
  path: string;
  trust: PolicyDocument;
  attached: string[];
  boundary?: string;
  tags: Record<string, string>;
  description?: string;
}

export async function readRole(endpoint: string, name: string): Promise<RoleState | undefined> {
  const { iam } = clients(endpoint);
  try {
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
    return {
      arn: role.Arn!,
      path: role.Path!,
      trust: decodePolicyDocument(role.AssumeRolePolicyDocument!),
      attached: (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn!).sort(),
      ...(role.PermissionsBoundary?.PermissionsBoundaryArn
        ? { boundary: role.PermissionsBoundary.PermissionsBoundaryArn }
        : {}),
      tags: Object.fromEntries((role.Tags ?? []).map((t) => [t.Key!, t.Value!])),
      ...(role.Description !== undefined ? { description: role.Description } : {}),
    };
  } catch (err) {
    if ((err as Error).name === 'NoSuchEntityException' || (err as Error).name === 'NoSuchEntity') return undefined;
    throw err;
  }
}

export async function readPolicy(endpoint: string, arn: string) {
  const { iam } = clients(endpoint);
  const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!;
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId! }));
  return {
    policy,
    document: decodePolicyDocument(version.PolicyVersion!.Document!),
    tags: Object.fromEntries((policy.Tags ?? []).map((t) => [t.Key!, t.Value!])),
  };
}

export async function readProvider(endpoint: string, arn: string) {
  const { iam } = clients(endpoint);
  const out = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
  return {
    url: out.Url!,
    clientIds: out.ClientIDList ?? [],
    tags: Object.fromEntries((out.Tags ?? []).map((t) => [t.Key!, t.Value!])),
  };
}

/** A VPC with two subnets and the given DNS settings, as a cluster would sit on. */
export async function createVpc(
  endpoint: string,
  dns: { hostnames: boolean; support: boolean },
  region = 'eu-west-1',
): Promise<{ vpcId: string; subnetIds: string[] }> {
  const { ec2 } = clients(endpoint, region);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: dns.support } }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: dns.hostnames } }));
  const subnetIds: string[] = [];
  for (const cidr of ['10.0.1.0/24', '10.0.2.0/24']) {
    subnetIds.push((await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr }))).Subnet!.SubnetId!);
  }
  return { vpcId, subnetIds };
}

export async function readVpcDns(endpoint: string, vpcId: string, region = 'eu-west-1') {
  const { ec2 } = clients(endpoint, region);
  const [support, hostnames] = await Promise.all([
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' })),
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' })),
  ]);
  return {
    enableDnsSupport: support.EnableDnsSupport?.Value ?? false,
    enableDnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
  };
}

/** A config with every documented system on: VPC DNS fixed, Union's global access and userflyterole policy. */
export const UNION_CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
vpcDns: fix
globalAccess: { role: acme-userflyterole }
projectRoles:
  - project: fraud
    userFlyteRolePolicy: true
`;

/** Union's data plane as it stands before the tool runs: the role `acme-userflyterole` at /union/. */
export async function createUnionRole(endpoint: string): Promise<void> {
  await clients(endpoint).iam.send(
    new CreateRoleCommand({
      RoleName: 'acme-userflyterole',
      Path: '/union/',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
    }),
  );
}

/** The account's `userflyterole` policy, which Union's project-domain roles carry. */
export async function createUserFlyteRolePolicy(endpoint: string): Promise<void> {
  await clients(endpoint).iam.send(
    new CreatePolicyCommand({
      PolicyName: 'userflyterole',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }],
      }),
    }),
  );
}
