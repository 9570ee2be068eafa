/** How one AWS call is tried: the retry strategy the clients use (attempts, pauses, the quota), and where the attempts come from. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RetryErrorInfo, RetryErrorType } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { resolveMaxAttempts } from '../../src/aws/clients.js';
import { CallRetryStrategy, DEFAULT_MAX_ATTEMPTS, isUnreachable, RetryQuota } from '../../src/aws/retries.js';

const info = (errorType: RetryErrorType, error: object = {}): RetryErrorInfo =>
  ({ errorType, error }) as RetryErrorInfo;

/** Attempts the strategy allows a call whose every attempt fails like `info`, and the pauses between them. */
async function attemptsFor(strategy: CallRetryStrategy, failure: RetryErrorInfo) {
  const pauses: number[] = [];
  let token = await strategy.acquireInitialRetryToken();
  for (;;) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, failure);
    } catch {
      return { attempts: pauses.length + 1, pauses };
    }
    pauses.push(token.getRetryDelay());
  }
}

describe('the retry strategy of every client', () => {
  const max = (r = 0.999) => new CallRetryStrategy({ maxAttempts: 10, random: () => r });

  it.each<[string, RetryErrorInfo, number]>([
    ['throttling', info('THROTTLING'), 10],
    ['a 500', info('TRANSIENT', { $metadata: { httpStatusCode: 500 } }), 10],
    ['a dropped connection (the HTTP handler names it TimeoutError)', info('TRANSIENT', dropped()), 10],
    ['a refused connection', info('TRANSIENT', { code: 'ECONNREFUSED' }), 3],
    ['an unknown host', info('TRANSIENT', { code: 'ENOTFOUND' }), 3],
    ['no answer in time', info('TRANSIENT', { name: 'TimeoutError', code: 'ETIMEDOUT' }), 3],
    ['no connection in time', info('TRANSIENT', { name: 'TimeoutError' }), 3],
    ['AccessDenied', info('CLIENT_ERROR'), 1],
    ['a 501', info('SERVER_ERROR'), 1],
  ])('%s: %i attempts in all', async (_name, failure, attempts) => {
    expect((await attemptsFor(max(), failure)).attempts).toBe(attempts);
  });

  it('--max-attempts below 3 bounds the unreachable too', async () => {
    const strategy = new CallRetryStrategy({ maxAttempts: 2 });
    expect((await attemptsFor(strategy, info('TRANSIENT', { code: 'ECONNREFUSED' }))).attempts).toBe(2);
    expect((await attemptsFor(new CallRetryStrategy({ maxAttempts: 1 }), info('THROTTLING'))).attempts).toBe(1);
  });

  it('backs off exponentially with jitter, longer after throttling, within the longest pause', async () => {
    expect((await attemptsFor(max(0.5), info('TRANSIENT'))).pauses).toEqual([
      25, 50, 100, 200, 400, 800, 1600, 3200, 6400,
    ]);
    expect((await attemptsFor(max(0.5), info('THROTTLING'))).pauses).toEqual([
      500, 1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000,
    ]);
    const short = new CallRetryStrategy({ maxAttempts: 10, maxDelayMs: 20, random: () => 0.999 });
    expect(Math.max(...(await attemptsFor(short, info('THROTTLING'))).pauses)).toBeLessThanOrEqual(20);
  });

  it('waits as long as a Retry-After asks, within the longest pause', async () => {
    const strategy = new CallRetryStrategy({ maxAttempts: 3, random: () => 0, now: () => 0 });
    const token = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), {
      errorType: 'THROTTLING',
      retryAfterHint: new Date(3_000),
    });
    expect(token.getRetryDelay()).toBe(3_000);
  });

  it('shares a retry quota: when many calls keep failing, retries stop; successes give back', async () => {
    const quota = new RetryQuota();
    const a = new CallRetryStrategy({ maxAttempts: 10, quota, random: () => 0 });
    const b = new CallRetryStrategy({ maxAttempts: 10, quota, random: () => 0 });
    const failing = info('TRANSIENT', { $metadata: { httpStatusCode: 500 } });
    // 500 / 14 per retry: 35 retries, then none, for either client.
    let retries = 0;
    for (let call = 0; call < 10; call++) retries += (await attemptsFor(a, failing)).attempts - 1;
    expect(retries).toBe(35);
    expect((await attemptsFor(a, failing)).attempts).toBe(1);
    expect((await attemptsFor(b, failing)).attempts).toBe(1);
    // Each success gives one back (one after retries, what its last retry cost).
    for (let i = 0; i < 14; i++) a.recordSuccess(await a.acquireInitialRetryToken());
    expect((await attemptsFor(b, failing)).attempts).toBe(2);
  });

  it('tells an endpoint that is not there from a connection dropped on the way', () => {
    expect(isUnreachable(dropped())).toBe(false);
    expect(isUnreachable({ code: 'EAI_AGAIN' })).toBe(true);
    expect(isUnreachable({ name: 'Throttling' })).toBe(false);
  });
});

function dropped() {
  return Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
}

describe('attempts per call', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fas-aws-'));
  writeFileSync(join(dir, 'config'), '[profile five]\nmax_attempts = 5\n[profile bad]\nmax_attempts = many\n');
  const env = { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') };

  it('--max-attempts, else AWS_MAX_ATTEMPTS, else the profile’s max_attempts, else 10', () => {
    expect(resolveMaxAttempts(2, 'five', { ...env, AWS_MAX_ATTEMPTS: '4' })).toBe(2);
    expect(resolveMaxAttempts(undefined, 'five', { ...env, AWS_MAX_ATTEMPTS: '4' })).toBe(4);
    expect(resolveMaxAttempts(undefined, 'five', env)).toBe(5);
    expect(resolveMaxAttempts(undefined, 'bad', env)).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(resolveMaxAttempts(undefined, undefined, env)).toBe(10);
  });
});
