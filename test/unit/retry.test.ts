/** Trying again and reading until something shows: the pauses, the limits, abort, and what comes back on giving up. */
import { describe, expect, it } from 'vitest';
import { poll, retry, type Clock, type RetryOptions } from '../../src/util/retry.js';

/** A clock whose pauses take no time: each is recorded and moves `now` on, and `during` runs in it. */
function fakeClock(during?: (pause: number) => void) {
  const pauses: number[] = [];
  let now = 0;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      pauses.push(ms);
      now += ms;
      during?.(ms);
    },
  };
  return {
    clock,
    pauses,
    /** Time passing during an attempt. */
    advance: (ms: number) => (now += ms),
  };
}

/** Fails `failures` times (with errors numbered from 1), then gives `value`. */
function failing<T>(failures: number, value: T) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    if (calls.length <= failures) throw new Error(`failure ${calls.length}`);
    return value;
  };
  return { fn, calls };
}

const always = () => true;

describe('retry', () => {
  it('gives the first result without a pause', async () => {
    const { clock, pauses } = fakeClock();
    const { fn, calls } = failing(0, 'ok');
    expect(await retry(fn, { attempts: 3, initialDelayMs: 10, maxDelayMs: 100, shouldRetry: always, clock })).toBe(
      'ok',
    );
    expect(calls).toEqual([1]);
    expect(pauses).toEqual([]);
  });

  it('tries again after each failure, each pause factor times the one before (2 unless given)', async () => {
    const { clock, pauses } = fakeClock();
    const { fn, calls } = failing(3, 'ok');
    expect(await retry(fn, { attempts: 10, initialDelayMs: 10, maxDelayMs: 1_000, shouldRetry: always, clock })).toBe(
      'ok',
    );
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(pauses).toEqual([10, 20, 40]);

    const three = fakeClock();
    await retry(failing(3, 'ok').fn, {
      attempts: 10,
      initialDelayMs: 10,
      maxDelayMs: 1_000,
      factor: 3,
      shouldRetry: always,
      clock: three.clock,
    });
    expect(three.pauses).toEqual([10, 30, 90]);
  });

  it('no pause is longer than maxDelayMs', async () => {
    const { clock, pauses } = fakeClock();
    await retry(failing(5, 'ok').fn, { attempts: 10, initialDelayMs: 10, maxDelayMs: 25, shouldRetry: always, clock });
    expect(pauses).toEqual([10, 20, 25, 25, 25]);
  });

  it('gives up after `attempts` calls with the last error as it is, without asking shouldRetry about it', async () => {
    const { clock, pauses } = fakeClock();
    const { fn, calls } = failing(10, 'never');
    const asked: [string, number][] = [];
    const err = await retry(fn, {
      attempts: 3,
      initialDelayMs: 10,
      maxDelayMs: 100,
      shouldRetry: (e, attempt) => {
        asked.push([(e as Error).message, attempt]);
        return true;
      },
      clock,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('failure 3');
    expect(calls).toEqual([1, 2, 3]);
    expect(asked).toEqual([
      ['failure 1', 1],
      ['failure 2', 2],
    ]);
    expect(pauses).toEqual([10, 20]);
  });

  it('an error not worth another try is thrown at once', async () => {
    const { clock, pauses } = fakeClock();
    const { fn, calls } = failing(10, 'never');
    await expect(
      retry(fn, { attempts: 5, initialDelayMs: 10, maxDelayMs: 100, shouldRetry: () => false, clock }),
    ).rejects.toThrow('failure 1');
    expect(calls).toEqual([1]);
    expect(pauses).toEqual([]);
  });

  it('shouldRetry may read first: it is awaited before the pause', async () => {
    const order: string[] = [];
    const { clock } = fakeClock((ms) => order.push(`pause ${ms}`));
    const { fn } = failing(1, 'ok');
    await retry(fn, {
      attempts: 2,
      initialDelayMs: 10,
      maxDelayMs: 100,
      shouldRetry: async () => {
        await Promise.resolve();
        order.push('read');
        return true;
      },
      clock,
    });
    expect(order).toEqual(['read', 'pause 10']);
  });

  it('keeps the deadline: no pause that would end past timeoutMs from the first attempt', async () => {
    const { clock, pauses, advance } = fakeClock();
    const calls: number[] = [];
    const fn = async (attempt: number) => {
      calls.push(attempt);
      advance(5);
      throw new Error(`failure ${attempt}`);
    };
    // Attempts at 0, 15, 40, 85 (each taking 5); the next pause (80) would end at 170, past 100.
    const err = await retry(fn, { timeoutMs: 100, initialDelayMs: 10, maxDelayMs: 1_000, shouldRetry: always, clock })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('failure 4');
    expect(pauses).toEqual([10, 20, 40]);
    expect(calls).toEqual([1, 2, 3, 4]);
  });

  it('an aborted signal stops it before the next attempt, with the last error', async () => {
    const controller = new AbortController();
    const { clock, pauses } = fakeClock();
    const calls: number[] = [];
    const fn = async (attempt: number) => {
      calls.push(attempt);
      if (attempt === 2) controller.abort();
      throw new Error(`failure ${attempt}`);
    };
    await expect(
      retry(fn, {
        attempts: 10,
        initialDelayMs: 10,
        maxDelayMs: 100,
        shouldRetry: always,
        signal: controller.signal,
        clock,
      }),
    ).rejects.toThrow('failure 2');
    expect(calls).toEqual([1, 2]);
    expect(pauses).toEqual([10]);
  });

  it('an abort during a pause: no attempt after it', async () => {
    const controller = new AbortController();
    const { clock, pauses } = fakeClock(() => controller.abort());
    const { fn, calls } = failing(10, 'never');
    await expect(
      retry(fn, {
        attempts: 10,
        initialDelayMs: 10,
        maxDelayMs: 100,
        shouldRetry: always,
        signal: controller.signal,
        clock,
      }),
    ).rejects.toThrow('failure 1');
    expect(calls).toEqual([1]);
    expect(pauses).toEqual([10]);
  });

  it('the first attempt is made even when the signal is already aborted (the caller checks before)', async () => {
    const { clock } = fakeClock();
    const { fn, calls } = failing(0, 'ok');
    const options = { attempts: 3, initialDelayMs: 10, maxDelayMs: 100, shouldRetry: always, clock };
    expect(await retry(fn, { ...options, signal: AbortSignal.abort() })).toBe('ok');
    expect(calls).toEqual([1]);
  });

  it('jitter shortens each pause by a random part, up to its fraction', async () => {
    const { clock, pauses } = fakeClock();
    await retry(failing(3, 'ok').fn, {
      attempts: 10,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      jitter: 0.5,
      random: () => 0.5,
      shouldRetry: always,
      clock,
    });
    // 100, 200, 400, each shortened by 0.5 × 0.5 of it; the growth is of the base pause.
    expect(pauses).toEqual([75, 150, 300]);
  });

  it('needs a limit: attempts or a deadline', () => {
    // @ts-expect-error neither attempts nor timeoutMs
    const unbounded: RetryOptions = { initialDelayMs: 1, maxDelayMs: 1, shouldRetry: always };
    expect(unbounded).toBeDefined();
  });

  it('waits for real with the system clock', async () => {
    const started = Date.now();
    expect(
      await retry(failing(2, 'ok').fn, { attempts: 3, initialDelayMs: 5, maxDelayMs: 5, shouldRetry: always }),
    ).toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(9);
  });
});

describe('poll', () => {
  /** Reads 1, 2, 3, ... */
  function counter() {
    let n = 0;
    return async () => ++n;
  }

  it('reads until the value is the one waited for, with growing pauses', async () => {
    const { clock, pauses } = fakeClock();
    expect(
      await poll(counter(), { until: (n) => n === 4, timeoutMs: 1_000, initialDelayMs: 10, maxDelayMs: 25, clock }),
    ).toEqual({ outcome: 'done', value: 4 });
    expect(pauses).toEqual([10, 20, 25]);
  });

  it('the first read that matches ends it without a pause', async () => {
    const { clock, pauses } = fakeClock();
    expect(
      await poll(counter(), { until: () => true, timeoutMs: 1_000, initialDelayMs: 10, maxDelayMs: 25, clock }),
    ).toEqual({ outcome: 'done', value: 1 });
    expect(pauses).toEqual([]);
  });

  it('gives up at the deadline with the last value read', async () => {
    const { clock, pauses } = fakeClock();
    // Reads at 0, 10, 30, 70; the next pause (80) would end at 150, past 100.
    expect(
      await poll(counter(), { until: () => false, timeoutMs: 100, initialDelayMs: 10, maxDelayMs: 1_000, clock }),
    ).toEqual({ outcome: 'timeout', value: 4 });
    expect(pauses).toEqual([10, 20, 40]);
  });

  it('an aborted signal stops it before the next read, with the last value read', async () => {
    const controller = new AbortController();
    const { clock, pauses } = fakeClock();
    let reads = 0;
    const read = async () => {
      if (++reads === 2) controller.abort();
      return reads;
    };
    const options = { until: () => false, timeoutMs: 1_000, initialDelayMs: 10, maxDelayMs: 100, clock };
    expect(await poll(read, { ...options, signal: controller.signal })).toEqual({ outcome: 'aborted', value: 2 });
    expect(reads).toBe(2);
    expect(pauses).toEqual([10]);
  });

  it('an abort during a pause: no read after it', async () => {
    const controller = new AbortController();
    const { clock, pauses } = fakeClock(() => controller.abort());
    const read = counter();
    const options = { until: () => false, timeoutMs: 1_000, initialDelayMs: 10, maxDelayMs: 100, clock };
    expect(await poll(read, { ...options, signal: controller.signal })).toEqual({ outcome: 'aborted', value: 1 });
    expect(pauses).toEqual([10]);
  });

  it('a failed read is thrown', async () => {
    const { clock } = fakeClock();
    let reads = 0;
    const read = async () => {
      if (++reads === 2) throw new Error('read failed');
      return reads;
    };
    await expect(
      poll(read, { until: () => false, timeoutMs: 1_000, initialDelayMs: 10, maxDelayMs: 100, clock }),
    ).rejects.toThrow('read failed');
  });
});
