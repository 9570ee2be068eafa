/**
 * Waiting for an EKS cluster to be usable (its OIDC issuer known): DescribeCluster polled with backoff until the
 * cluster is ready in the sense of the facts, abortable at any time. Creating a cluster takes EKS 10 to 15 minutes.
 */
import type { AwsGateway } from '../aws/gateway.js';
import { UserError } from '../errors.js';
import { sleep } from '../util/concurrency.js';
import { clusterFacts } from './facts.js';
import type { ClusterFacts } from '../model.js';

export interface WaitForClusterOptions {
  signal?: AbortSignal;
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
  const maxDelayMs = options.maxDelayMs ?? CLUSTER_WAIT_DEFAULTS.maxDelayMs;
  let delay = options.initialDelayMs ?? CLUSTER_WAIT_DEFAULTS.initialDelayMs;
  const started = Date.now();
  for (;;) {
    if (options.signal?.aborted) return { state: 'aborted' };
    const info = await gateway.describeCluster(name);
    options.onStatus?.(info?.status, Date.now() - started);
    const facts = clusterFacts(name, info);
    if (facts.state === 'ready') return { state: 'ready', cluster: facts };
    if (info !== undefined && (info.status === 'FAILED' || info.status === 'DELETING')) {
      throw new UserError(`the EKS cluster ${name} is ${info.status}: it will not become ACTIVE`, {
        hint: 'look at the cluster in the EKS console; create it again if needed, then continue from the saved config',
      });
    }
    if (Date.now() - started + delay > timeoutMs) {
      throw new UserError(
        `the EKS cluster ${name} was not ready after ${Math.round(timeoutMs / 60_000)} minutes (last status: ${info?.status ?? 'not found'})`,
        { hint: 'when it is ACTIVE, continue from the saved config' },
      );
    }
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}
