/**
 * Waiting for an EKS cluster to be usable (its OIDC issuer known): DescribeCluster polled with backoff until the
 * cluster is ready in the sense of the facts, abortable at any time. Creating a cluster takes EKS 10 to 15 minutes.
 */
import type { AwsGateway } from '../aws/gateway.js';
import { UserError } from '../errors.js';
import { poll } from '../util/retry.js';
import { clusterFacts } from './facts.js';
import type { ClusterFacts } from '../model.js';

export interface WaitForClusterOptions {
  signal?: AbortSignal;
  /** The cluster's region, when it is not the gateway's. */
  region?: string;
  /** Give up after this long. */
  timeoutMs?: number;
  /** The first pause between reads; it doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Each read's status (undefined: the cluster does not exist yet), for progress. */
  onStatus?(status: string | undefined, waitedMs: number): void;
}

export type ClusterWait = { state: 'ready'; cluster: Extract<ClusterFacts, { state: 'ready' }> } | { state: 'aborted' };

export const CLUSTER_WAIT_DEFAULTS = { timeoutMs: 45 * 60_000, initialDelayMs: 2_000, maxDelayMs: 20_000 };

/** Until the cluster exists with its OIDC issuer; `aborted` as soon as the signal is. */
export async function waitForCluster(
  gateway: AwsGateway,
  name: string,
  options: WaitForClusterOptions = {},
): Promise<ClusterWait> {
  const timeoutMs = options.timeoutMs ?? CLUSTER_WAIT_DEFAULTS.timeoutMs;
  if (options.signal?.aborted) return { state: 'aborted' };
  const started = Date.now();
  const read = async (): Promise<ClusterFacts> => {
    const info = await gateway.describeCluster(name, options.region);
    options.onStatus?.(info?.status, Date.now() - started);
    if (info !== undefined && (info.status === 'FAILED' || info.status === 'DELETING')) {
      throw new UserError(`the EKS cluster ${name} is ${info.status}: it will not become ACTIVE`, {
        hint: 'look at the cluster in the EKS console; create it again if needed, then continue from the saved config',
      });
    }
    return clusterFacts(name, info, options.region);
  };
  const { outcome, value: facts } = await poll(read, {
    until: (facts) => facts.state === 'ready',
    timeoutMs,
    initialDelayMs: options.initialDelayMs ?? CLUSTER_WAIT_DEFAULTS.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? CLUSTER_WAIT_DEFAULTS.maxDelayMs,
    signal: options.signal,
  });
  if (facts.state === 'ready') return { state: 'ready', cluster: facts };
  if (outcome === 'aborted') return { state: 'aborted' };
  throw new UserError(
    `the EKS cluster ${name} was not ready after ${Math.round(timeoutMs / 60_000)} minutes (last status: ${facts.state === 'not-ready' ? facts.status : 'not found'})`,
    { hint: 'when it is ACTIVE, continue from the saved config' },
  );
}
