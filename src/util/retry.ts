/**
 * Trying a call again, and reading until something shows, with one backoff for both: the first pause is
 * `initialDelayMs`, each next one `factor` times the one before, at most `maxDelayMs`. A deadline (`timeoutMs`,
 * counted from the first attempt) is kept by not starting a pause that would end past it. An aborted signal stops
 * both before their next attempt; the first attempt is always made (a caller that must not start checks first).
 * Time comes from a clock that tests replace.
 */
import { sleep } from './concurrency.js';

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

export interface Backoff {
  initialDelayMs: number;
  maxDelayMs: number;
  /** How much longer each pause is than the one before; 2 unless given. */
  factor?: number;
  /** Each pause is shortened by a random part of it, up to this fraction (0 to 1); 0 unless given. */
  jitter?: number;
  /** When aborted: no further attempt. */
  signal?: AbortSignal;
  clock?: Clock;
  /** Gives [0, 1) for the jitter; Math.random unless given. */
  random?: () => number;
}

/** At least one limit: calls of `fn` in all (the first included), or a deadline counted from the first. */
export type RetryLimit = { attempts: number; timeoutMs?: number } | { attempts?: number; timeoutMs: number };

export type RetryOptions = Backoff &
  RetryLimit & {
    /**
     * Whether this failure is worth another attempt. Asked only when the limits allow one; may read first (whether
     * the failed call took effect after all, say).
     */
    shouldRetry(err: unknown, attempt: number): boolean | Promise<boolean>;
  };

export interface PollOptions<T> extends Backoff {
  /** Whether the value read is the one waited for. */
  until(value: T): boolean;
  timeoutMs: number;
}

/** How a poll ended, and the last value read (the one waited for, when `done`). */
export interface PollResult<T> {
  outcome: 'done' | 'timeout' | 'aborted';
  value: T;
}

/** The pauses of one retry or poll: their growth, the deadline and the signal. */
class Pauses {
  private readonly clock: Clock;
  private readonly started: number;
  private delay: number;

  constructor(private readonly options: Backoff & { timeoutMs?: number }) {
    this.clock = options.clock ?? systemClock;
    this.started = this.clock.now();
    this.delay = options.initialDelayMs;
  }

  /** The next pause; undefined when it would end past the deadline. */
  next(): number | undefined {
    const { jitter = 0, random = Math.random, timeoutMs } = this.options;
    const pause = jitter > 0 ? this.delay * (1 - Math.min(jitter, 1) * random()) : this.delay;
    if (timeoutMs !== undefined && this.clock.now() - this.started + pause > timeoutMs) return undefined;
    return pause;
  }

  /** Wait `pause`; false when the signal is aborted (before or during it). */
  async wait(pause: number): Promise<boolean> {
    const { signal, factor = 2, maxDelayMs } = this.options;
    if (signal?.aborted) return false;
    await this.clock.sleep(pause, signal);
    if (signal?.aborted) return false;
    this.delay = Math.min(this.delay * factor, maxDelayMs);
    return true;
  }
}

/**
 * `fn` until it resolves, with a pause after each failure. It gives up, throwing the last error as it is, when
 * `shouldRetry` says no, when `attempts` are used up, when the next pause would end past `timeoutMs`, or when the
 * signal is aborted.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const pauses = new Pauses(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.attempts !== undefined && attempt >= options.attempts) throw err;
      const pause = pauses.next();
      if (pause === undefined || !(await options.shouldRetry(err, attempt))) throw err;
      if (!(await pauses.wait(pause))) throw err;
    }
  }
}

/**
 * `read` until `until` accepts what it gives, with a pause between reads. Errors of `read` are thrown. It gives up
 * when the next pause would end past `timeoutMs` (`timeout`) or when the signal is aborted (`aborted`), with the
 * last value read.
 */
export async function poll<T>(read: () => Promise<T>, options: PollOptions<T>): Promise<PollResult<T>> {
  const pauses = new Pauses(options);
  for (;;) {
    const value = await read();
    if (options.until(value)) return { outcome: 'done', value };
    const pause = pauses.next();
    if (pause === undefined) return { outcome: 'timeout', value };
    if (!(await pauses.wait(pause))) return { outcome: 'aborted', value };
  }
}
