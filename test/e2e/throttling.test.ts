/**
 * Throttling: when IAM answers every request with `Throttling`, the CLI keeps to its bound on requests in flight,
 * tries each call no more than --max-attempts times (the SDK's standard retry mode, with backoff), starts no new
 * reads once one has failed, and stops with a message saying what to do. STS and EKS are the emulator; IAM is a
 * local server that throttles everything and counts what reaches it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster } from '../helpers/aws.js';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const THROTTLED = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`;

/** An IAM endpoint that throttles every request, after a short pause so that concurrent requests overlap. */
function throttlingIam() {
  const stats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  const server: Server = createServer((req, res) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        stats.inFlight--;
        res.writeHead(400, { 'content-type': 'text/xml' }).end(THROTTLED);
      }, 30);
    });
  });
  return {
    stats,
    reset: () => Object.assign(stats, { requests: 0, inFlight: 0, maxInFlight: 0 }),
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(skip !== undefined)('under IAM throttling', () => {
  let moto: Moto;
  const iam = throttlingIam();
  let iamUrl: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    await createCluster(moto.url, 'acme-ml');
    iamUrl = await iam.listen();
  });
  afterAll(async () => {
    await iam.close();
    await moto?.stop();
  });

  it.each([
    [2, 2],
    [4, 2],
  ])('--concurrency %i --max-attempts %i: bounded, no retry storm, a clear message', async (concurrency, attempts) => {
    iam.reset();
    const run = await runCli(
      [
        '--config',
        join(ROOT, 'examples/flyte-aws-setup.yaml'),
        '--yes',
        '--approve-broadening',
        '--concurrency',
        String(concurrency),
        '--max-attempts',
        String(attempts),
      ],
      // A process of its own: it ends only once the calls in flight when the run stopped have ended, so their
      // attempts are all counted below.
      { endpoint: moto.url, env: { AWS_ENDPOINT_URL_IAM: iamUrl }, process: true },
    );
    const seen = JSON.stringify({ calls: run.calls, iam: iam.stats, stderr: run.stderr });
    expect(run.code, seen).toBe(1);
    expect(run.stderr).toContain(`AWS kept throttling`);
    expect(run.stderr).toContain(`after ${attempts} attempts`);
    expect(run.mutating).toEqual([]);

    const iamCalls = run.calls.filter((c) => c.service === 'iam').length;
    // No call tried more than --max-attempts times; the one that stopped the run tried that many (the message says
    // so). A call still in its first attempt when the run stopped is not tried again: the run's retries end with it.
    expect(iam.stats.requests, seen).toBeLessThanOrEqual(iamCalls * attempts);
    expect(iam.stats.requests, seen).toBeGreaterThanOrEqual(attempts);
    // Never more requests in flight than --concurrency. A call keeps its place while it sleeps between attempts,
    // so with 2 places the other's requests often go one at a time; with 4 they overlap beyond 2.
    expect(iam.stats.maxInFlight, seen).toBeLessThanOrEqual(concurrency);
    if (concurrency > 2) expect(iam.stats.maxInFlight, seen).toBeGreaterThan(2);
    // Once a read has failed no new one starts: fewer calls than the 13 reads of the whole plan (5 roles with
    // their attached policies, the provider, the policy). Beside the reads in flight, the look-up of the extra
    // policy the config names (AmazonAthenaFullAccess) and the ListRoles for the setup's roles the config no longer
    // names were started with them.
    expect(iamCalls, seen).toBeLessThanOrEqual(2 * concurrency + 2);
  });
});
