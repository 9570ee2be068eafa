/**
 * How a failed attempt of an AWS call is tried again. The SDK's retry middleware sends each attempt, says what
 * kind of failure it was (throttling, transient, a server error, the caller's error) and asks this strategy
 * whether to try again and after what pause.
 *
 * It is the SDK's standard retry mode (the same classification, exponential backoff with full jitter, longer after
 * throttling, and a retry quota so that a failing endpoint does not get a retry storm) with other limits:
 *
 * - up to `maxAttempts` attempts per call (default 10, where the SDK has 3): under a steady rate of throttles, 5xx
 *   answers or dropped connections a run must still finish, and with 3 attempts about one call in 64 fails when
 *   every 4th request does (retries included): about one run in two;
 * - at most 3 attempts when the endpoint cannot be reached at all (refused, unknown host, no connection or no
 *   answer in time) or when what answered was not AWS (an HTML page, an empty or unreadable answer): trying ten
 *   times would not help and would keep the user waiting;
 * - pauses of at most `maxDelayMs` (default 20 s, the SDK's).
 */
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';

export const DEFAULT_MAX_ATTEMPTS = 10;
/** Attempts when the endpoint cannot be reached or did not answer like AWS. */
export const UNREACHABLE_MAX_ATTEMPTS = 3;
export const DEFAULT_MAX_RETRY_DELAY_MS = 20_000;

/** The SDK's standard mode: a quota of 500, a retry costs 14 (5 after throttling); a success gives back. */
const QUOTA = 500;
const RETRY_COST = 14;
const THROTTLING_RETRY_COST = 5;
const SUCCESS_REFUND = 1;
/** The first pause, before jitter: 50 ms, or 1 s after throttling; each next one twice the one before. */
const BASE_DELAY_MS = 50;
const THROTTLING_BASE_DELAY_MS = 1_000;

/** Network failures that mean the endpoint is not there, as opposed to a connection dropped on the way. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The endpoint cannot be reached (no connection, no answer in time), or what answered was not AWS. The HTTP handler
 * names a dropped connection TimeoutError too, with its code ECONNRESET or EPIPE: that one is not unreachable.
 */
export function isUnreachable(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  if (e?.code !== undefined && UNREACHABLE_CODES.has(e.code)) return true;
  if (e?.name === 'UnreadableAnswer') {
    // Not AWS's answer; with a 5xx status, a server in between failing: worth the full attempts, as AWS failing is.
    const status = (err as { status?: number }).status;
    return status === undefined || status < 500;
  }
  return e?.name === 'TimeoutError' && !(e.code !== undefined && DROPPED_CODES.has(e.code));
}

class Token implements StandardRetryToken {
  constructor(
    private readonly count: number,
    private readonly delay: number,
    private readonly cost: number | undefined,
  ) {}
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delay;
  }
  getRetryCost(): number | undefined {
    return this.cost;
  }
}

/** What the clients of one run share: the retry quota, closed when the run ends. */
export class RetryQuota {
  private capacity = QUOTA;
  private ended = false;
  /**
   * No retry from now on: the run has ended (its clients are destroyed), so a call still in flight, which nothing
   * waits for any more, fails at its next error instead of keeping the process alive through its pauses; and a call
   * still waiting for its place is not sent (src/aws/clients.ts).
   */
  close(): void {
    this.ended = true;
  }
  get closed(): boolean {
    return this.ended;
  }
  take(cost: number): boolean {
    if (this.ended || this.capacity < cost) return false;
    this.capacity -= cost;
    return true;
  }
  giveBack(amount: number): void {
    this.capacity = Math.min(QUOTA, this.capacity + amount);
  }
}

export interface CallRetryOptions {
  maxAttempts: number;
  maxDelayMs?: number;
  quota?: RetryQuota;
  /** [0, 1), for the jitter; Math.random unless given. */
  random?: () => number;
  now?: () => number;
}

export class CallRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly maxDelayMs: number;
  private readonly quota: RetryQuota;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: CallRetryOptions) {
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    this.quota = options.quota ?? new RetryQuota();
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async acquireInitialRetryToken(): Promise<Token> {
    return new Token(0, 0, undefined);
  }

  /** The token for the next attempt; throws (and the middleware throws the call's error) when there is none. */
  async refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo): Promise<Token> {
    const retries = token.getRetryCount();
    const throttled = info.errorType === 'THROTTLING';
    if (!throttled && info.errorType !== 'TRANSIENT') throw new Error('not retryable');
    const attempts = isUnreachable(info.error)
      ? Math.min(this.options.maxAttempts, UNREACHABLE_MAX_ATTEMPTS)
      : this.options.maxAttempts;
    if (retries + 1 >= attempts) throw new Error('no attempts left');
    const cost = throttled ? THROTTLING_RETRY_COST : RETRY_COST;
    if (!this.quota.take(cost)) throw new Error('retry quota used up');
    const base = throttled ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    let delay = Math.floor(this.random() * Math.min(base * 2 ** retries, this.maxDelayMs));
    // A Retry-After from the service is honoured, within the same bound.
    if (info.retryAfterHint instanceof Date) {
      delay = Math.max(delay, Math.min(info.retryAfterHint.getTime() - this.now(), this.maxDelayMs));
    }
    return new Token(retries + 1, delay, cost);
  }

  recordSuccess(token: StandardRetryToken): void {
    this.quota.giveBack(token.getRetryCost() ?? SUCCESS_REFUND);
  }
}
