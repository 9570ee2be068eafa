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
 * `Promise.all(items.map(fn))` with at most `max` running at once; results keep the order of `items`. Once one
 * fails, the items not yet started are not started (the result is that first failure either way): a run that has
 * failed sends no more requests, and under throttling adds none to it.
 */
export async function mapLimit<T, R>(items: readonly T[], max: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const limit = limiter(max);
  let failed: { error: unknown } | undefined;
  return Promise.all(
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
