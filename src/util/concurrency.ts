/**
 * AWS requests in flight at once to each service (`--concurrency`): as many as Terraform's default parallelism, so
 * that the reads of the documents' setup (IAM's ten or fewer, beside the VPC's and the bucket's) take one round trip
 * and the permission preflight one, few enough that IAM's request rate limits are not reached by one run (throttled
 * calls back off and keep their place). Each service has a bound of its own (in each region, for the regional ones),
 * as AWS limits each service's request rate on its own: the VPC's reads (EC2) and the bucket's (S3) do not wait
 * behind IAM's.
 */
export const DEFAULT_CONCURRENCY = 10;

/** What a task run by a `limiter` holds: its place, which it can give up while it only waits. */
export interface Slot {
  /**
   * Run `wait` without holding the place (a pause in a back-off), so that other tasks can run meanwhile; the place
   * is taken again, in turn, before this resolves.
   */
  idle<T>(wait: () => Promise<T>): Promise<T>;
}

/** A first-in, first-out limit on how many async tasks run at once. */
export function limiter(max: number): <T>(task: (slot: Slot) => Promise<T>) => Promise<T> {
  if (!Number.isInteger(max) || max < 1) throw new Error(`limiter: max must be a positive integer, not ${max}`);
  let running = 0;
  const queue: (() => void)[] = [];
  // A place given up goes straight to the first in the queue, so no newcomer can take it in between.
  const acquire = async () => {
    if (running < max) running++;
    else await new Promise<void>((resolve) => queue.push(resolve));
  };
  const release = () => {
    const next = queue.shift();
    if (next !== undefined) next();
    else running--;
  };
  const slot: Slot = {
    async idle(wait) {
      release();
      try {
        return await wait();
      } finally {
        await acquire();
      }
    },
  };
  return async <T>(task: (slot: Slot) => Promise<T>): Promise<T> => {
    await acquire();
    try {
      return await task(slot);
    } finally {
      release();
    }
  };
}

/** A `limiter(max)` for each key, made on first use: each service's (or group's) bound of its own. */
export function limiterPerKey(max: number): (key: string) => ReturnType<typeof limiter> {
  const limits = new Map<string, ReturnType<typeof limiter>>();
  return (key) => {
    let limit = limits.get(key);
    if (limit === undefined) limits.set(key, (limit = limiter(max)));
    return limit;
  };
}

/**
 * `fn` over `items`, at most `max` at once; results keep the order of `items`. Once one fails, no new one starts,
 * and the ones already started are let finish (nothing goes on behind the caller's back), then the first error is
 * thrown.
 */
export async function mapLimit<T, R>(items: readonly T[], max: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  return mapLimitBy(items, () => '', max, fn);
}

/**
 * `mapLimit` with a bound for each group of items (`groupOf`): at most `max` of each group at once, the groups side
 * by side (the reads of each AWS service, as each has its own bound on requests in flight). Once one fails, no new
 * one of any group starts.
 */
export async function mapLimitBy<T, R>(
  items: readonly T[],
  groupOf: (item: T) => string,
  max: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const limitOf = limiterPerKey(max);
  let failed: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    items.map((item) =>
      limitOf(groupOf(item))(async () => {
        if (failed) throw failed.error;
        try {
          return await fn(item);
        } catch (error) {
          failed ??= { error };
          throw error;
        }
      }),
    ),
  );
  if (failed) throw failed.error;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/** A turn of the event loop: what came in meanwhile (an AWS answer, a connection made) is handled first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
