/**
 * How one AWS call is tried and what its answer must look like: the retry strategy the clients use (attempts,
 * pauses, the quota), where the attempts come from, and the checks that turn an answer that is not AWS's into a
 * plain error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import type { RetryErrorInfo, RetryErrorType } from '@smithy/types';
import { describe, expect, it, vi } from 'vitest';
import { checkAnswers, unreadable, via } from '../../src/aws/answers.js';
import { createAwsClients, destroyAwsClients, resolveMaxAttempts, RunEnded } from '../../src/aws/clients.js';
import { toAwsError } from '../../src/aws/errors.js';
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
    ['an HTML 502 page', info('TRANSIENT', { name: 'UnreadableAnswer', status: 502 }), 10],
    ['a refused connection', info('TRANSIENT', { code: 'ECONNREFUSED' }), 3],
    ['an unknown host', info('TRANSIENT', { code: 'ENOTFOUND' }), 3],
    ['no answer in time', info('TRANSIENT', { name: 'TimeoutError', code: 'ETIMEDOUT' }), 3],
    ['no connection in time', info('TRANSIENT', { name: 'TimeoutError' }), 3],
    ['an answer that is not AWS’s, status 200', info('TRANSIENT', { name: 'UnreadableAnswer', status: 200 }), 3],
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

  it('a closed quota (the run has ended) gives no retry, whatever is left of it', async () => {
    const quota = new RetryQuota();
    const strategy = new CallRetryStrategy({ maxAttempts: 10, quota, random: () => 0 });
    const throttled = info('THROTTLING', { $metadata: { httpStatusCode: 400 } });
    expect((await attemptsFor(strategy, throttled)).attempts).toBe(10);
    quota.close();
    expect((await attemptsFor(strategy, throttled)).attempts).toBe(1);
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

describe('answers that are not AWS’s', () => {
  const xml = (root: string) => `<?xml version="1.0"?>\n<${root} xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`;
  const html = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
  const type = (t: string) => ({ 'Content-Type': t });

  it.each<[string, 'xml' | 'json', number, Record<string, string>, string, string | undefined]>([
    ['the answer to the call', 'xml', 200, type('text/xml'), xml('GetRoleResponse'), undefined],
    ['an AWS error', 'xml', 400, type('text/xml'), xml('ErrorResponse'), undefined],
    ['an EC2 error', 'xml', 400, type('text/xml'), '<Response><Errors>', undefined],
    [
      'the answer to another call',
      'xml',
      200,
      type('text/xml'),
      xml('ListRolesResponse'),
      'with XML that is not its answer (<ListRolesResponse>, HTTP 200)',
    ],
    ['a proxy’s error page', 'xml', 502, type('text/html'), html, 'with an HTML page (HTTP 502, "502 Bad Gateway")'],
    [
      'a sign-in page',
      'xml',
      200,
      type('text/html; charset=utf-8'),
      '<!DOCTYPE html><p>hi',
      'with an HTML page (HTTP 200)',
    ],
    ['nothing', 'xml', 200, {}, '', 'with an empty answer (HTTP 200)'],
    [
      'plain text',
      'xml',
      503,
      type('text/plain'),
      'Service Unavailable',
      'with something that is not XML (HTTP 503, text/plain)',
    ],
    ['a JSON answer', 'json', 200, type('application/json'), '{"cluster":{}}', undefined],
    ['a JSON error named in a header', 'json', 404, { 'x-amzn-errortype': 'ResourceNotFoundException' }, '', undefined],
    [
      'cut-off JSON',
      'json',
      200,
      type('application/json'),
      '{"cluster":{"na',
      'with JSON that does not parse (HTTP 200)',
    ],
    ['a JSON list', 'json', 200, type('application/json'), '[]', 'with JSON that is not its answer (HTTP 200)'],
    ['HTML for JSON', 'json', 502, type('text/html'), html, 'with an HTML page (HTTP 502, "502 Bad Gateway")'],
  ])('%s', (_name, protocol, status, headers, body, expected) => {
    expect(unreadable(protocol, 'GetRole', status, headers, body)).toBe(expected);
  });

  it("take EKS TagResource's empty answer (HTTP 200, no body, as the API reference says), and no other's", () => {
    expect(unreadable('json', 'TagResource', 200, {}, '')).toBeUndefined();
    expect(unreadable('json', 'DescribePodIdentityAssociation', 200, {}, '')).toBe('with an empty answer (HTTP 200)');
    expect(unreadable('json', 'TagResource', 502, {}, '')).toBe('with an empty answer (HTTP 502)');
  });

  it('say where the answer came from, without a user or password', () => {
    expect(via('iam', {}, { AWS_ENDPOINT_URL: 'http://u:p@127.0.0.1:5000/x' })).toBe(
      'through AWS_ENDPOINT_URL=http://127.0.0.1:5000?',
    );
    expect(via('eks', {}, { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_EKS: 'http://b:1' })).toBe(
      'through AWS_ENDPOINT_URL_EKS=http://b:1?',
    );
    expect(via('sts', { protocol: 'https:', hostname: 'sts.eu-west-1.amazonaws.com' }, {})).toBe(
      'from https://sts.eu-west-1.amazonaws.com: a proxy in between?',
    );
  });

  /** An SDK client with the checks, against a server that answers every request with `answer`. */
  async function ask<T>(
    answer: { status: number; type: string; body: string },
    send: (endpoint: string) => Promise<T>,
  ): Promise<{ requests: number; error?: Error & { what?: string } }> {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await send(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      return { requests };
    } catch (err) {
      return { requests, error: err as Error };
    } finally {
      server.close();
    }
  }
  const config = (endpoint: string) => ({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    retryStrategy: new CallRetryStrategy({ maxAttempts: 10, maxDelayMs: 1 }),
  });

  it('a sign-in page with status 200 is an error, not "no such role"; tried 3 times', async () => {
    const { requests, error } = await ask(
      { status: 200, type: 'text/html', body: '<html><title>Sign in</title>' },
      (e) => {
        const iam = new IAMClient(config(e));
        checkAnswers(iam.middlewareStack as never, 'iam', 'xml');
        return iam.send(new GetRoleCommand({ RoleName: 'r' }));
      },
    );
    expect(requests).toBe(3);
    expect(error?.name).toBe('UnreadableAnswer');
    const e = toAwsError(error, { service: 'iam', operation: 'GetRole', resource: 'role r' });
    expect(e.message).toMatch(
      /^AWS answered iam:GetRole on role r with an HTML page \(HTTP 200, "Sign in"\) \(from http:\/\/127\.0\.0\.1:\d+: a proxy in between\?\)$/,
    );
    expect(e.message).not.toMatch(/Deserialization/);
  });

  it('cut-off XML, and an answer without what it must hold', async () => {
    const cut = await ask(
      { status: 200, type: 'text/xml', body: `${xml('GetRoleResponse')}<GetRoleResult><Role>` },
      (e) => {
        const iam = new IAMClient(config(e));
        checkAnswers(iam.middlewareStack as never, 'iam', 'xml');
        return iam.send(new GetRoleCommand({ RoleName: 'r' }));
      },
    );
    expect(cut.error?.what).toBe('with XML that does not parse (HTTP 200)');
    const empty = await ask({ status: 200, type: 'application/json', body: '{}' }, (e) => {
      const eks = new EKSClient(config(e));
      checkAnswers(eks.middlewareStack as never, 'eks', 'json');
      return eks.send(new DescribeClusterCommand({ name: 'c' }));
    });
    expect(empty.error?.what).toBe('without the cluster');
  });
});

describe('a run that ends', () => {
  it('sends no call still waiting for its place (one place per service and region): it fails at once, and nothing reaches AWS', async () => {
    let seen = 0;
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const server = createServer((req, res) => {
      seen++;
      req.resume();
      void held.then(() => res.writeHead(200, { 'content-type': 'text/xml' }).end(CALLER));
    });
    await withEndpoint(server, async () => {
      const clients = await createAwsClients({ region: 'eu-west-1', maxInFlight: 1, maxAttempts: 1 });
      const s3 = await clients.s3();
      const [ec2, ec2There] = await Promise.all([clients.ec2(), clients.ec2('us-east-2')]);
      const cluster = (name: string) => new DescribeClusterCommand({ name });
      const settled = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        );
      const sent = [
        settled(clients.iam.send(new GetRoleCommand({ RoleName: 'flyte-backend-role' }))),
        // Another service, with a place of its own.
        settled(clients.sts.send(new GetCallerIdentityCommand({}))),
        settled(clients.eks.send(cluster('here'))),
        // The same service in another region: a place of its own there.
        settled(clients.eksIn('us-east-2').send(cluster('there'))),
        // The clients made on first use: the same.
        settled(s3.send(new ListBucketsCommand({}))),
        settled(ec2.send(new DescribeVpcsCommand({}))),
        settled(ec2There.send(new DescribeVpcsCommand({}))),
      ];
      // One place per service and region: a second call of each waits for the first (iamOnce is IAM too).
      const waiting = [
        settled(clients.iamOnce.send(new GetRoleCommand({ RoleName: 'flyte-workers-role' }))),
        settled(clients.eks.send(cluster('here-too'))),
        settled(s3.send(new ListBucketsCommand({}))),
        settled(ec2There.send(new DescribeVpcsCommand({}))),
      ];
      while (seen < sent.length) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
      destroyAwsClients(clients);
      answer();
      await Promise.all(sent);
      for (const w of waiting) expect(await w).toBeInstanceOf(RunEnded);
      expect(seen).toBe(sent.length);
      expect(clients.recorder.total).toBe(sent.length);
    });
  });
});

describe("the clients' middleware", () => {
  it('is put together once per kind of call, and still counts every call', async () => {
    let seen = 0;
    const server = createServer((req, res) => {
      seen++;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/xml' }).end(CALLER);
    });
    await withEndpoint(server, async () => {
      const clients = await createAwsClients({ region: 'eu-west-1', maxInFlight: 1, maxAttempts: 1 });
      const built = vi.spyOn(GetCallerIdentityCommand.prototype, 'resolveMiddleware');
      try {
        for (let i = 0; i < 3; i++) {
          expect((await clients.sts.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
        }
        expect(built).toHaveBeenCalledTimes(1);
        expect(seen).toBe(3);
        expect(clients.recorder.total).toBe(3);
      } finally {
        built.mockRestore();
        destroyAwsClients(clients);
      }
    });
  });
});

const CALLER =
  '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
  '<Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId><Account>123456789012</Account>' +
  '</GetCallerIdentityResult></GetCallerIdentityResponse>';

/** Run `fn` with the clients' environment pointing at `server` (fake keys, no profile), then put it back. */
async function withEndpoint(server: Server, fn: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const keys = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE'] as const;
  const before = keys.map((k) => process.env[k]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001',
    AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyDoNotPrint/0123456789abcdef',
  });
  delete process.env.AWS_PROFILE;
  try {
    await fn();
  } finally {
    keys.forEach((k, i) => (before[i] === undefined ? delete process.env[k] : (process.env[k] = before[i])));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
