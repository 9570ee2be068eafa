/** A first-in, first-out limit on how many async tasks run at once. */
export function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(max) || max < 1) throw new Error(`limiter: max must be a positive integer, not ${max}`);
  let running = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * `fn` over `items`, at most `max` at once; results keep the order of `items`. Once one fails, no new one starts,
 * and the ones already started are let finish (nothing goes on behind the caller's back), then the first error is
 * thrown.
 */
export async function mapLimit<T, R>(items: readonly T[], max: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const limit = limiter(max);
  let failed: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    items.map((item) =>
      limit(async () => {
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
