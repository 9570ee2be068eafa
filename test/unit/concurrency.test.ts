/** The concurrency helpers the engine and the AWS clients use to bound what is in flight. */
import { describe, expect, it } from 'vitest';
import { limiter, mapLimit, mapLimitBy } from '../../src/util/concurrency.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('limiter', () => {
  it('runs at most max tasks at once, first in first out', async () => {
    const limit = limiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(n);
          await tick();
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets other tasks run while a task is idle, and gives it its place back before it goes on', async () => {
    const limit = limiter(1);
    const events: string[] = [];
    let running = 0;
    let peak = 0;
    let wake!: () => void;
    const sleeping = new Promise<void>((resolve) => (wake = resolve));
    const step = async (name: string) => {
      running++;
      peak = Math.max(peak, running);
      events.push(name);
      await tick();
      running--;
    };
    const first = limit(async (slot) => {
      await step('first: before the pause');
      await slot.idle(() => sleeping);
      await step('first: after the pause');
    });
    const second = limit(async () => {
      await step('second');
      wake();
    });
    await Promise.all([first, second]);
    // The second ran while the first was paused (with one place, it could not have otherwise), never both at once.
    expect(events).toEqual(['first: before the pause', 'second', 'first: after the pause']);
    expect(peak).toBe(1);
  });

  it('hands a freed place to the first in the queue, not to a newcomer', async () => {
    const limit = limiter(1);
    const order: string[] = [];
    const a = limit(async () => {
      await tick();
      order.push('a');
    });
    const b = limit(async () => {
      order.push('b');
    });
    // Queued after b, while a still runs: must not overtake b.
    await tick();
    const c = limit(async () => {
      order.push('c');
    });
    await Promise.all([a, b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('frees the place of a task that failed', async () => {
    const limit = limiter(1);
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });
});

describe('mapLimit', () => {
  it('keeps the order of the items', async () => {
    const out = await mapLimit([30, 10, 20], 2, async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    });
    expect(out).toEqual([30, 10, 20]);
  });

  it('starts no item after one has failed, and rejects with that first failure', async () => {
    const started: number[] = [];
    const run = mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 1) throw new Error('throttled');
      await tick();
      return n;
    });
    await expect(run).rejects.toThrow('throttled');
    // Let anything still queued have its turn: none of it may start.
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toEqual([1, 2]);
  });

  it('lets the items already started finish before it rejects: nothing goes on after the error', async () => {
    const finished: number[] = [];
    const run = mapLimit([1, 2], 2, async (n) => {
      if (n === 1) throw new Error('refused');
      await new Promise((r) => setTimeout(r, 30));
      finished.push(n);
      return n;
    });
    await expect(run).rejects.toThrow('refused');
    // Item 2 was in flight when item 1 failed: it has finished by the time the error comes out.
    expect(finished).toEqual([2]);
  });
});

describe('mapLimitBy', () => {
  it('bounds each group on its own: a group does not wait behind another', async () => {
    const started: string[] = [];
    const done: string[] = [];
    const run = mapLimitBy(
      ['iam1', 'iam2', 'iam3', 'ec2'],
      (x) => x.replace(/\d$/, ''),
      1,
      async (x) => {
        started.push(x);
        await tick();
        done.push(x);
        return x.toUpperCase();
      },
    );
    // At first, one of each group: the EC2 item starts beside the first IAM one, not after the three.
    await Promise.resolve();
    expect(started).toEqual(['iam1', 'ec2']);
    expect(await run).toEqual(['IAM1', 'IAM2', 'IAM3', 'EC2']);
    expect(done.indexOf('ec2')).toBeLessThan(done.indexOf('iam2'));
  });

  it('once one fails, no new one of any group starts', async () => {
    const started: string[] = [];
    const run = mapLimitBy(
      ['a1', 'b1', 'a2', 'b2'],
      (x) => x[0]!,
      1,
      async (x) => {
        started.push(x);
        if (x === 'a1') throw new Error('refused');
        await new Promise((r) => setTimeout(r, 20));
        return x;
      },
    );
    await expect(run).rejects.toThrow('refused');
    await new Promise((r) => setTimeout(r, 30));
    // b1 had started beside a1 and finished; a2 and b2 never started.
    expect(started).toEqual(['a1', 'b1']);
  });
});
