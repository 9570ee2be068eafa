/** What the run needs to know about the account before it can build documents: who, where, which cluster. */
import type { AwsGateway, ClusterInfo } from '../aws/gateway.js';
import type { ClusterRef, Config } from '../config/schema.js';
import { clusterSectionsOn, sectionEnabled } from '../sections/derived.js';
import { UserError } from '../errors.js';
import { eksIssuerUrl, partitionOfArn, partitionOfRegion } from '../policy/partition.js';
import type { BucketEncryption, ClusterFacts, Facts } from '../model.js';

export function needsCluster(config: Config): boolean {
  return clusterSectionsOn(config).length > 0;
}

const GONE = new Set(['DELETING', 'FAILED']);

export function clusterFacts(name: string, info: ClusterInfo | undefined, region?: string): ClusterFacts {
  const where = region !== undefined ? { region } : {};
  if (info === undefined) return { state: 'missing', name, ...where };
  if (info.issuerUrl !== undefined && !GONE.has(info.status)) {
    return {
      state: 'ready',
      name,
      status: info.status,
      issuerUrl: info.issuerUrl,
      ...(info.vpcId !== undefined ? { vpcId: info.vpcId } : {}),
      ...where,
    };
  }
  return { state: 'not-ready', name, status: info.status, ...where };
}

/**
 * Ask STS who we are and EKS about each cluster (in its region), all at the same time. A caller that reads the
 * (first) cluster itself (destroy) passes that read, so the cluster is not described twice (nor its VPC looked up).
 */
export async function gatherFacts(
  gateway: AwsGateway,
  config: Config,
  clusterRead?: Promise<ClusterInfo | undefined>,
  options: { bucket?: boolean } = {},
): Promise<Facts> {
  const { facts, bucketEncryption } = await gatherFactsEarly(gateway, config, clusterRead, options);
  return withBucketEncryption(facts, await bucketEncryption);
}

/** The facts with the bucket's encryption, once it is known. */
export function withBucketEncryption(facts: Facts, bucketEncryption: BucketEncryption | undefined): Facts {
  return bucketEncryption !== undefined ? { ...facts, bucketEncryption } : facts;
}

/**
 * The facts as soon as the caller and the clusters are known, and the bucket's encryption (asked beside them) still
 * coming: the plan starts its reads without waiting for S3, and reads what the bucket's key adds once it is known.
 * Its failure is only said when it is awaited, after the caller's and the clusters'.
 */
export async function gatherFactsEarly(
  gateway: AwsGateway,
  config: Config,
  clusterRead?: Promise<ClusterInfo | undefined>,
  options: { bucket?: boolean } = {},
): Promise<{ facts: Facts; bucketEncryption: Promise<BucketEncryption | undefined> }> {
  const wantCluster = needsCluster(config) && config.cluster !== undefined;
  const refs = wantCluster ? configClusters(config) : [];
  // The VPC's DNS check reads EC2: its client (the largest) loads while STS and EKS answer (the run's region's; a
  // cluster in another region gets its own client from the same loaded code).
  if (wantCluster && sectionEnabled(config, 'clusterVpc')) gateway.preload(['ec2']);
  const identityRead = gateway.callerIdentity();
  // The bucket's encryption is asked at once: only a key named by its bare ID needs the account (from STS).
  const owner = identityRead.then((id) => ({
    accountId: id.account,
    partition: partitionOfArn(id.arn) ?? partitionOfRegion(gateway.region),
  }));
  owner.catch(() => undefined);
  const bucketRead =
    options.bucket !== false && readsBucketEncryption(config)
      ? gateway.bucketEncryption(config.bucket, owner)
      : undefined;
  bucketRead?.catch(() => undefined);
  const [identity, ...clusters] = await Promise.all([
    identityRead,
    ...refs.map((c, i) =>
      i === 0 && clusterRead !== undefined ? clusterRead : describeClusterWithVpc(gateway, config, c),
    ),
  ]);
  // The custom policy's bucket is read with the plan's first reads: S3's client loads from now, beside them.
  if (sectionEnabled(config, 'customPolicy')) gateway.preload(['s3']);
  if (config.accountId !== undefined && identity.account !== config.accountId) {
    throw new UserError(
      `the AWS credentials are for account ${identity.account} (${identity.arn}), but the config says accountId: ${config.accountId}; nothing was done`,
      { hint: 'use the profile of the right account (--profile), or correct accountId in the config' },
    );
  }
  const all = refs.map((c, i) => clusterFacts(c.name, clusters[i], otherRegion(c, gateway.region)));
  const facts: Facts = {
    partition: partitionOfArn(identity.arn) ?? partitionOfRegion(gateway.region),
    accountId: identity.account,
    region: gateway.region,
    callerArn: identity.arn,
    offline: false,
    cluster: wantCluster ? all[0]! : { state: 'not-needed', ...(config.cluster ? { name: config.cluster } : {}) },
    ...(all.length > 1 ? { clusters: all } : {}),
  };
  return { facts, bucketEncryption: bucketRead ?? Promise.resolve(undefined) };
}

/** The config's clusters (a config made in code may give only `cluster`). */
export function configClusters(config: Pick<Config, 'cluster' | 'clusters'>): ClusterRef[] {
  return config.clusters ?? (config.cluster !== undefined ? [{ name: config.cluster }] : []);
}

/** A cluster's region when it is not the run's. */
function otherRegion(c: ClusterRef, runRegion: string): string | undefined {
  return c.region !== undefined && c.region !== runRegion ? c.region : undefined;
}

/**
 * Whether the plan reads the bucket's default encryption: for the custom policy, unless the config names the key
 * (`bucketKmsKey`, for a bucket the operator cannot read).
 */
export function readsBucketEncryption(config: Config): boolean {
  return sectionEnabled(config, 'customPolicy') && config.bucketKmsKey === undefined;
}

/**
 * DescribeCluster, and when it names subnets but no VPC (as some emulators answer) the subnets' VPC. The VPC is
 * only for a check: when the subnets cannot be read it stays unknown, and the plan says so.
 */
export async function describeClusterWithVpc(
  gateway: AwsGateway,
  config: Config,
  cluster: ClusterRef,
): Promise<ClusterInfo | undefined> {
  const region = otherRegion(cluster, gateway.region);
  const info = await gateway.describeCluster(cluster.name, region);
  if (info?.issuerUrl === undefined || info.vpcId !== undefined || !sectionEnabled(config, 'clusterVpc')) return info;
  // The subnets are the cluster's region's (EC2 in that region).
  const vpcId = await gateway.vpcOfSubnets(info.subnetIds ?? [], region).catch(() => undefined);
  return vpcId !== undefined ? { ...info, vpcId } : info;
}

export const OFFLINE_ACCOUNT = '<account-id>';

/** Facts for `--dry-run --offline`: no AWS call; the account is assumed empty and the IDs are placeholders. */
export function offlineFacts(
  config: Config,
  envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
): Facts {
  const region = config.region ?? envRegion ?? '<region>';
  const partition = partitionOfRegion(region);
  const wantCluster = needsCluster(config) && config.cluster !== undefined;
  const refs = wantCluster ? configClusters(config) : [];
  const all = refs.map((c): ClusterFacts => {
    const where = c.region ?? region;
    // Several clusters have an issuer each: the placeholder names its cluster.
    const id = refs.length > 1 ? `<oidc-id-${c.name}>` : '<oidc-id>';
    return {
      state: 'ready',
      name: c.name,
      status: 'UNKNOWN',
      issuerUrl: eksIssuerUrl(partition, where, id),
      placeholder: true,
      ...(c.region !== undefined && c.region !== region ? { region: c.region } : {}),
    };
  });
  return {
    partition,
    accountId: OFFLINE_ACCOUNT,
    region,
    offline: true,
    cluster: all[0] ?? { state: 'not-needed' },
    ...(all.length > 1 ? { clusters: all } : {}),
  };
}
