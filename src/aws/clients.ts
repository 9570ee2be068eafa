/**
 * The AWS SDK clients, made once per run with the region, profile and retry settings (retries.ts), checks of what
 * answers (answers.ts), and a middleware that counts every call (and, with FLYTE_AWS_SETUP_CALL_LOG, appends each
 * to a file as a JSON line).
 *
 * The SDK itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which is how tests point it at a local
 * emulator. Attempts per call: --max-attempts, else AWS_MAX_ATTEMPTS, else the profile's max_attempts, else 10.
 * AWS_RETRY_MODE=adaptive (or the profile's retry_mode) hands the retries to the SDK's adaptive mode.
 */
import { appendFileSync } from 'node:fs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import { region as regionRule } from '../config/rules.js';
import { UsageError, UserError } from '../errors.js';
import { addSecrets } from '../util/secrets.js';
import { checkAnswers } from './answers.js';
import { profileNames, profileSetting } from './profiles.js';
import { CallRetryStrategy, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_DELAY_MS, RetryQuota } from './retries.js';
import { limiterPerKey, type limiter } from '../util/concurrency.js';

export interface AwsOptions {
  region?: string;
  profile?: string;
  /**
   * Attempts per call, first one included (default: AWS_MAX_ATTEMPTS, the profile's max_attempts, or 10); at most 3
   * when the endpoint cannot be reached or what answers is not AWS.
   */
  maxAttempts?: number;
  /**
   * AWS requests in flight at once to each service, in each region for the regional ones (IAM's two clients share
   * one bound); more wait their turn. A call keeps its place through its retries and their backoff, so throttling
   * slows the run down instead of adding requests. Absent: no bound.
   */
  maxInFlight?: number;
  /** Receives one line per call for `--debug`. Never given credentials. */
  debug?: (line: string) => void;
}

export interface CallRecord {
  service: string;
  operation: string;
  mutating: boolean;
}

const READ_PREFIXES = ['Get', 'List', 'Describe', 'Simulate'];

export function isMutatingOperation(operation: string): boolean {
  return !READ_PREFIXES.some((p) => operation.startsWith(p));
}

/** Every AWS call of a run, in order. */
export class CallRecorder {
  readonly calls: CallRecord[] = [];
  constructor(private readonly logFile = process.env.FLYTE_AWS_SETUP_CALL_LOG) {}

  record(service: string, operation: string): void {
    const call = { service, operation, mutating: isMutatingOperation(operation) };
    this.calls.push(call);
    if (this.logFile) appendFileSync(this.logFile, `${JSON.stringify(call)}\n`);
  }

  get total(): number {
    return this.calls.length;
  }

  get mutating(): number {
    return this.calls.filter((c) => c.mutating).length;
  }
}

export interface AwsClients {
  iam: IAMClient;
  /**
   * IAM without SDK retries: for the one call that is not idempotent (CreatePolicyVersion: a retry after a lost
   * answer would add a second version; the engine retries it itself, after reading what the first try did), and for
   * the advisory permission check, which is skipped when it cannot be made.
   */
  iamOnce: IAMClient;
  eks: EKSClient;
  /** EKS in a region (a cluster of the config in another region): the run's own client for its region. */
  eksIn(region: string | undefined): EKSClient;
  sts: STSClient;
  /**
   * EC2 in a region (default the run's), loaded on first use: only the cluster VPCs' DNS check needs it (a cluster
   * of the config in another region has its VPC there), and its SDK is larger than the others together.
   */
  ec2(region?: string): Promise<EC2Client>;
  /** S3, loaded on first use: only the look-up of the config's bucket needs it. */
  s3(): Promise<S3Client>;
  /**
   * KMS in a region (default the run's), loaded on first use: only a bucket encrypted with a customer managed KMS
   * key needs it (its key policy is checked).
   */
  kms(region?: string): Promise<KMSClient>;
  /** Clients made on first use, for `destroyAwsClients`. */
  lazy: { destroy(): void }[];
  region: string;
  profile?: string;
  recorder: CallRecorder;
  /**
   * The run's retry quota, shared by its clients; closed by `destroyAwsClients`, when the run ends: no retry, and a
   * call still waiting for its place is not sent.
   */
  quota?: RetryQuota;
}

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}

// The clients' stacks differ only in their input and output types, which the recorder does not look at.
type AnyClient = { middlewareStack: MiddlewareStack<object, MetadataBearer> };

function instrument(client: AnyClient, service: string, recorder: CallRecorder, debug?: (line: string) => void): void {
  client.middlewareStack.add(
    (next, context: MiddlewareContext) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      recorder.record(service, operation);
      const started = Date.now();
      try {
        const out = await next(args);
        const meta = (out.output as { $metadata?: { httpStatusCode?: number; attempts?: number } }).$metadata;
        debug?.(
          `aws ${service}:${operation} ${meta?.httpStatusCode ?? ''} ${Date.now() - started}ms${meta?.attempts && meta.attempts > 1 ? ` (${meta.attempts} attempts)` : ''}`,
        );
        return out;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
        debug?.(
          `aws ${service}:${operation} failed: ${e.name ?? 'Error'} ${e.$metadata?.httpStatusCode ?? ''} ${Date.now() - started}ms${e.$metadata?.attempts && e.$metadata.attempts > 1 ? ` (${e.$metadata.attempts} attempts)` : ''}`,
        );
        throw err;
      }
    },
    { step: 'initialize', name: 'flyteAwsSetupCallRecorder' },
  );
}

/**
 * Calls wait for a place before anything else (so the recorder counts what is sent). The initialize step wraps the
 * SDK's retry middleware: a call keeps its place until its last attempt is done. One that gets its place after the
 * run ended (its quota closed by `destroyAwsClients`) is not sent: it fails at once.
 */
function bound(client: AnyClient, limit: ReturnType<typeof limiter>, quota: RetryQuota): void {
  client.middlewareStack.add(
    (next) => (args) => limit(() => (quota.closed ? Promise.reject(new RunEnded()) : next(args))),
    {
      step: 'initialize',
      priority: 'high',
      name: 'flyteAwsSetupInFlightLimit',
    },
  );
}

/** A call not sent because the run that made it has ended. */
export class RunEnded extends Error {
  constructor() {
    super('not sent: the run has ended');
    this.name = 'RunEnded';
  }
}

/** Seconds an AWS request may take before it fails (and is retried like a dropped connection). */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

/**
 * An endpoint that takes the connection and never answers (a hung proxy) must not hang the run: connections get
 * 5 s, requests `FLYTE_AWS_SETUP_REQUEST_TIMEOUT` seconds (default 30).
 */
function requestHandlerOptions() {
  const configured = Number(process.env.FLYTE_AWS_SETUP_REQUEST_TIMEOUT);
  const seconds = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_REQUEST_TIMEOUT_SECONDS;
  return { connectionTimeout: 5_000, requestTimeout: seconds * 1_000, throwOnRequestTimeout: true };
}

/** A positive whole number, as written, or undefined. */
function positive(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n >= 1 ? n : undefined;
}

/** Attempts per call: the option, AWS_MAX_ATTEMPTS, the profile's max_attempts, or the default. */
export function resolveMaxAttempts(
  option: number | undefined,
  profile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  return (
    option ??
    positive(env.AWS_MAX_ATTEMPTS) ??
    positive(profileSetting(profile, 'max_attempts', env)) ??
    DEFAULT_MAX_ATTEMPTS
  );
}

/** The longest pause between two attempts of a call: FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS, or 20 s. */
function maxRetryDelayMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS;
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : DEFAULT_MAX_RETRY_DELAY_MS;
}

/**
 * The retry settings of a client that tries each call up to `maxAttempts` times: the tool's strategy (retries.ts),
 * or, with AWS_RETRY_MODE=adaptive or the profile's retry_mode = adaptive, the SDK's adaptive mode (client-side
 * rate limiting) with the same attempts.
 */
function retrySettings(maxAttempts: number, profile: string | undefined, quota: RetryQuota) {
  const mode = process.env.AWS_RETRY_MODE || profileSetting(profile, 'retry_mode');
  if (mode === 'adaptive') return { maxAttempts, retryMode: 'adaptive' };
  return { maxAttempts, retryStrategy: new CallRetryStrategy({ maxAttempts, maxDelayMs: maxRetryDelayMs(), quota }) };
}

/**
 * With a profile, the SDK's chain of providers ends in "Could not load credentials from any providers", whatever
 * went wrong in the profile (a credential_process that fails, a missing source_profile). Ask the profile alone
 * for what it says.
 */
async function explainCredentials(err: unknown, profile: string | undefined): Promise<unknown> {
  if (profile === undefined || !/from any providers/i.test((err as Error)?.message ?? '')) return err;
  const { fromIni } = await import('@aws-sdk/credential-provider-ini');
  try {
    await fromIni({ profile })();
  } catch (specific) {
    return specific;
  }
  return err;
}

export async function createAwsClients(options: AwsOptions, recorder = new CallRecorder()): Promise<AwsClients> {
  // The SDK warns on Node 20 that its future releases will need Node 22. That is for whoever picks SDK versions
  // (this package, which supports Node >= 20.19 with the versions it ships), not for the operator running it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const profile = options.profile ?? process.env.AWS_PROFILE;
  if (profile !== undefined && !profileNames().includes(profile)) {
    throw new UserError(`the AWS profile "${profile}" does not exist in the AWS config or credentials file`, {
      hint:
        `aws configure list-profiles lists the profiles; make it with aws configure --profile ${profile}` +
        (options.profile === undefined ? ' (it comes from AWS_PROFILE)' : ''),
    });
  }
  const maxAttempts = resolveMaxAttempts(options.maxAttempts, profile);
  // One retry quota for the run: when many calls fail, retries stop for all clients.
  const quota = new RetryQuota();
  // AWS_DEFAULT_REGION counts as the AWS CLI counts it, after AWS_REGION and before the profile's (the SDK alone
  // ignores it).
  const envDefault =
    options.region === undefined && !process.env.AWS_REGION ? process.env.AWS_DEFAULT_REGION || undefined : undefined;
  const given = options.region ?? envDefault;
  const common = {
    requestHandler: requestHandlerOptions(),
    // Each client's middleware is added when it is made, before its first call, and no call passes options of its
    // own: the SDK builds a command's chain of middleware once per kind of command, not again for every call.
    cacheMiddleware: true,
    ...(given !== undefined ? { region: given } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...retrySettings(maxAttempts, profile, quota),
  };
  const sts = new STSClient(common);
  let region: string | undefined;
  try {
    region = await sts.config.region();
  } catch {
    region = undefined;
  }
  if (!region) {
    sts.destroy();
    throw new UsageError(
      'no AWS region is set',
      'set `region:` in the config, pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the profile)',
    );
  }
  // The config's and --region's were checked with the config; one from the environment or the profile is here.
  const regionProblem = options.region === undefined ? regionRule(region) : undefined;
  if (regionProblem !== undefined) {
    sts.destroy();
    throw new UsageError(
      `the region "${region}" (from ${envDefault !== undefined ? 'AWS_DEFAULT_REGION' : 'AWS_REGION or the profile'}) ${regionProblem}`,
      'fix it, or set `region:` in the config or pass --region',
    );
  }
  // One credential provider for all clients, so a profile's SSO or assume-role is resolved once; what it resolves
  // is remembered as secret, so that no output can show it.
  const base = sts.config.credentials;
  const credentials = async () => {
    let c;
    try {
      c = await base();
    } catch (err) {
      throw await explainCredentials(err, profile);
    }
    addSecrets(c.accessKeyId, c.secretAccessKey, c.sessionToken);
    return c;
  };
  const withRegion = { ...common, region, credentials };
  // One limit per service, and per region for the regional ones (EKS, EC2, S3, KMS; IAM is global, STS here the
  // run's region): AWS limits each service's request rate on its own, in each region, and an EC2 or S3 read waiting
  // behind IAM's would only lengthen the run.
  const limitOf = options.maxInFlight !== undefined ? limiterPerKey(options.maxInFlight) : undefined;
  const bind = (client: AnyClient, service: string, where: string = region) => {
    if (limitOf !== undefined) bound(client, limitOf(service === 'iam' ? service : `${service}:${where}`), quota);
  };
  /**
   * A client of an SDK loaded on first use, one per region (default the run's), each made once: counted, bound to
   * the requests in flight, destroyed with the others.
   */
  const perRegion = <C extends { destroy(): void }>(make: (region: string) => Promise<[C, string]>) => {
    const made = new Map<string, Promise<C>>();
    return (wanted: string = region): Promise<C> => {
      let client = made.get(wanted);
      if (client === undefined) {
        client = make(wanted).then(([c, service]) => {
          instrument(c as unknown as AnyClient, service, recorder, options.debug);
          bind(c as unknown as AnyClient, service, wanted);
          lazy.push(c);
          return c;
        });
        made.set(wanted, client);
      }
      return client;
    };
  };
  const lazy: { destroy(): void }[] = [];
  const eksByRegion = new Map<string, EKSClient>();
  const clients: AwsClients = {
    sts: new STSClient(withRegion),
    iam: new IAMClient(withRegion),
    iamOnce: new IAMClient({ ...withRegion, ...retrySettings(1, profile, quota) }),
    eks: new EKSClient(withRegion),
    eksIn: (other) => {
      if (other === undefined || other === region) return clients.eks;
      let client = eksByRegion.get(other);
      if (client === undefined) {
        client = new EKSClient({ ...withRegion, region: other });
        checkAnswers((client as unknown as AnyClient).middlewareStack, 'eks', 'json');
        instrument(client as unknown as AnyClient, 'eks', recorder, options.debug);
        bind(client as unknown as AnyClient, 'eks', other);
        eksByRegion.set(other, client);
        lazy.push(client);
      }
      return client;
    },
    ec2: perRegion(async (r) => {
      const { EC2Client } = await import('./ec2.js');
      const client = new EC2Client({ ...withRegion, region: r });
      checkAnswers((client as unknown as AnyClient).middlewareStack, 'ec2', 'xml');
      return [client, 'ec2'];
    }),
    // Only in the run's region.
    s3: perRegion(async (r) => {
      const { S3Client } = await import('./s3.js');
      return [new S3Client({ ...withRegion, region: r }), 's3'];
    }),
    kms: perRegion(async (r) => {
      const { KMSClient } = await import('./kms.js');
      return [new KMSClient({ ...withRegion, region: r }), 'kms'];
    }),
    region,
    ...(profile !== undefined ? { profile } : {}),
    recorder,
    quota,
    lazy,
  };
  sts.destroy();
  for (const [service, client] of [
    ['sts', clients.sts],
    ['iam', clients.iam],
    ['iam', clients.iamOnce],
    ['eks', clients.eks],
  ] as const) {
    checkAnswers((client as unknown as AnyClient).middlewareStack, service, service === 'eks' ? 'json' : 'xml');
    instrument(client as unknown as AnyClient, service, recorder, options.debug);
    bind(client as unknown as AnyClient, service);
  }
  return clients;
}

export function destroyAwsClients(clients: AwsClients): void {
  // What is still in flight (a read beside the one that failed, between its attempts) is not tried again, and what
  // still waits for its place is not sent.
  clients.quota?.close();
  clients.sts.destroy();
  clients.iam.destroy();
  clients.iamOnce.destroy();
  clients.eks.destroy();
  for (const client of clients.lazy) client.destroy();
}
