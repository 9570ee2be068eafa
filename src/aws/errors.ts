/**
 * AWS errors as messages a user can act on: the operation, the resource, and for a refusal the IAM action the
 * caller lacks. Error messages from AWS never carry credentials; nothing here prints request headers.
 */
import { regionTypo } from '../config/rules.js';
import { UserError } from '../errors.js';
import type { UnreadableAnswerError } from './answers.js';
import { profileSetting, profileSource, type ProfileSource } from './profiles.js';

export interface CallSite {
  service: 'iam' | 'eks' | 'sts' | 'ec2' | 's3' | 'kms';
  operation: string;
  /** The ARN or name the call is about. */
  resource?: string;
}

/** Where the calls go, for hints that name the profile to sign in with or the region to check. */
export interface CallContext {
  profile?: string;
  region?: string;
}

/** An AWS call that failed, with what it was about. `code` is the AWS error code (e.g. NoSuchEntity). */
export class AwsCallError extends UserError {
  readonly code: string;
  readonly site: CallSite;
  readonly action: string;
  constructor(message: string, code: string, site: CallSite, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'AwsCallError';
    this.code = code;
    this.site = site;
    this.action = `${site.service}:${site.operation}`;
  }
}

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess']);
const BAD_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'AuthFailure',
]);
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'TimeoutError']);

export function errorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.name ?? e?.code ?? 'Error';
}

function awsMessage(err: unknown): string {
  const msg = (err as { message?: string })?.message ?? '';
  return msg.replace(/\s+/g, ' ').trim();
}

function on(site: CallSite): string {
  return site.resource !== undefined ? ` on ${site.resource}` : '';
}

/** Turn anything an SDK call threw into an AwsCallError (or a UserError for credentials and network). */
export function toAwsError(err: unknown, site: CallSite, context: CallContext = {}): UserError {
  if (err instanceof UserError) return err;
  const code = errorCode(err);
  const message = awsMessage(err);
  const attempts = (err as { $metadata?: { attempts?: number } })?.$metadata?.attempts;
  const action = `${site.service}:${site.operation}`;

  if (DENIED.has(code)) {
    return new AwsCallError(`access denied: ${action}${on(site)} (${site.operation})`, code, site, {
      hint:
        `the AWS identity running flyte-aws-setup needs the IAM permission ${action}` +
        (site.resource !== undefined ? ` on ${site.resource}` : '') +
        '; `flyte-aws-setup permissions --config FILE` prints the policy it needs.' +
        (message ? ` AWS said: ${message}` : ''),
      cause: err,
    });
  }
  if (BAD_CREDENTIALS.has(code)) {
    return new AwsCallError(`AWS refused the credentials (${code}) at ${site.operation}`, code, site, {
      hint:
        refusedProfileHint(context.profile) ??
        (code.startsWith('Expired')
          ? `the session has expired: refresh it (for an SSO profile: ${ssoLogin(context)}) and run again`
          : 'check the access key, the profile and the clock of this machine, then run again'),
      cause: err,
    });
  }
  if (code === 'CredentialsProviderError' || /Could not load credentials|credentials/i.test(code)) {
    return credentialsError(err, site, context);
  }
  if (THROTTLED.has(code)) {
    return new AwsCallError(
      `AWS kept throttling ${site.operation}${attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : ''}`,
      code,
      site,
      {
        hint: 'nothing is half-done: run again later, or allow more attempts with --max-attempts (or AWS_MAX_ATTEMPTS)',
        cause: err,
      },
    );
  }
  if (code === 'UnreadableAnswer') {
    const e = err as UnreadableAnswerError;
    return new AwsCallError(`AWS answered ${action}${on(site)} ${e.what} (${e.via})`, code, site, {
      hint:
        'something between this machine and AWS (a proxy, a firewall, a wrong endpoint) seems to answer in its ' +
        'place; check it, then run again',
      cause: err,
    });
  }
  const netCode = (err as { code?: string })?.code;
  if (NETWORK.has(code) || (netCode !== undefined && NETWORK.has(netCode))) {
    const where = context.region !== undefined ? ` in region ${context.region}` : '';
    // The HTTP handler's own wording names its package; say what happened.
    const timeout = /exceeded the configured (\d+) ms requestTimeout/.exec(message);
    const what = timeout ? `no answer within ${Number(timeout[1]) / 1000} s` : message || code;
    const typo = context.region !== undefined ? regionTypo(context.region) : undefined;
    return new AwsCallError(`could not reach AWS for ${action}${where}: ${what}`, code, site, {
      hint:
        (typo !== undefined
          ? `is ${context.region} a typo of ${typo}? (--region, or region: in the config); else `
          : '') +
        `check the network (and AWS_ENDPOINT_URL, if set)` +
        (context.region !== undefined
          ? `, and that ${site.service.toUpperCase()} is offered in ${context.region} (--region)`
          : '') +
        '; nothing was half-done by this call: run again',
      cause: err,
    });
  }
  switch (code) {
    case 'NoSuchEntity':
    case 'ResourceNotFoundException':
      return new AwsCallError(`${site.operation}: not found${on(site)}${message ? ` (${message})` : ''}`, code, site, {
        cause: err,
      });
    case 'EntityAlreadyExists':
      return new AwsCallError(
        `${site.operation}: already exists${on(site)}${message ? ` (${message})` : ''}`,
        code,
        site,
        { cause: err },
      );
    case 'LimitExceeded':
      return new AwsCallError(
        `${site.operation}${on(site)}: an IAM quota is reached${message ? `: ${message}` : ''}`,
        code,
        site,
        {
          hint: 'remove what is unused (roles, policy versions), or have the quota raised in Service Quotas',
          cause: err,
        },
      );
    case 'MalformedPolicyDocument':
      return new AwsCallError(
        `IAM rejected the policy document at ${site.operation}${on(site)}${message ? `: ${message}` : ''}`,
        code,
        site,
        {
          cause: err,
        },
      );
    case 'PackedPolicyTooLarge':
      return new AwsCallError(
        `${site.operation}${on(site)}: the document is too large${message ? `: ${message}` : ''}`,
        code,
        site,
        { cause: err },
      );
    default:
      return new AwsCallError(
        `${action}${on(site)} failed: ${code}${message && message !== code ? `: ${message}` : ''}`,
        code,
        site,
        {
          cause: err,
        },
      );
  }
}

function ssoLogin(context: CallContext): string {
  return context.profile !== undefined ? `aws sso login --profile ${context.profile}` : 'aws sso login';
}

/** A profile and the profiles its credentials come from (source_profile), in order, each once. */
function profileChain(profile: string): { name: string; source: ProfileSource | undefined }[] {
  const chain: { name: string; source: ProfileSource | undefined }[] = [];
  for (let name: string | undefined = profile; name !== undefined && !chain.some((p) => p.name === name);) {
    const source = profileSource(name);
    chain.push({ name, source });
    name = source?.kind === 'assume-role' ? source.sourceProfile : undefined;
  }
  return chain;
}

/** What to do about a profile whose credentials failed, for its kind; undefined when it is not in the files. */
function profileHint(profile: string): string | undefined {
  const chain = profileChain(profile);
  const last = chain[chain.length - 1]!;
  const of = last.name === profile ? '' : ` (the source of profile ${profile})`;
  const see = `\`aws sts get-caller-identity --profile ${profile}\` shows the same error`;
  switch (last.source?.kind) {
    case undefined:
      return chain.length > 1
        ? `profile ${chain[chain.length - 2]!.name} names source_profile ${last.name}, which is in neither the AWS ` +
            'config nor the credentials file: add it, or correct source_profile'
        : undefined;
    case 'sso':
      return `sign in again first: aws sso login --profile ${last.name}${of}`;
    case 'login':
      return `sign in again first: aws login --profile ${last.name}${of}`;
    case 'process':
      return (
        `the credentials come from the credential_process of profile ${last.name}${of}; ${see} (it runs the same ` +
        'process); fix it, then run again'
      );
    case 'static':
      return (
        `check the access key of profile ${last.name}${of} (aws configure --profile ${last.name}) and the clock ` +
        `of this machine; ${see}`
      );
    case 'web-identity':
      return `check the web_identity_token_file and role_arn of profile ${last.name}${of}; ${see}`;
    case 'assume-role':
      return (
        `profile ${last.name} assumes its role with credentials from credential_source ` +
        `${last.source.credentialSource ?? ''}; ${see}`
      );
    case 'none':
      return (
        `profile ${last.name}${of} holds no credentials (no keys, credential_process, SSO or role): configure it ` +
        `(aws configure --profile ${last.name})`
      );
  }
}

/**
 * For credentials AWS refused, the hint for the profile they came from; none for a profile that holds none (they
 * came from elsewhere: an instance role, a container).
 */
function refusedProfileHint(profile: string | undefined): string | undefined {
  if (profile === undefined) return undefined;
  const kind = profileSource(profile)?.kind;
  return kind === undefined || kind === 'none' ? undefined : profileHint(profile);
}

/**
 * Node's words when a credential_process fails are "Command failed: COMMAND\nWHAT IT PRINTED ON STDERR"; both may
 * hold tokens, so they are never shown. The SDK's own words about its output ("returned invalid JSON") are.
 */
function failedProcess(message: string, profile: string | undefined): string | undefined {
  if (profile === undefined) return undefined;
  for (const { name, source } of profileChain(profile)) {
    if (source?.kind !== 'process') continue;
    const command = profileSetting(name, 'credential_process')?.replace(/\s+/g, ' ');
    if (/^Command failed/i.test(message) || (command !== undefined && message.includes(command))) return name;
  }
  return undefined;
}

export function credentialsError(err: unknown, site?: CallSite, context: CallContext = {}): UserError {
  const message = awsMessage(err);
  const forProfile = context.profile !== undefined ? ` (profile ${context.profile})` : '';
  const at = site ? ` for ${site.operation}` : '';
  const processProfile = failedProcess(message, context.profile);
  if (processProfile !== undefined) {
    // Not even as the cause: --debug would print its message.
    const of = processProfile === context.profile ? '' : ` (the source of profile ${context.profile})`;
    return new UserError(
      `no usable AWS credentials${forProfile}${at}: the credential_process of profile ${processProfile}${of} failed`,
      {
        hint:
          'its command and what it printed are not shown, as they may hold secrets; ' +
          `\`aws sts get-caller-identity --profile ${processProfile}\` runs the same process and shows its error; ` +
          'fix it, then run again',
      },
    );
  }
  const known = context.profile !== undefined ? profileHint(context.profile) : undefined;
  const sso = /sso/i.test(message);
  const expired = /expired|token/i.test(message);
  return new UserError(`no usable AWS credentials${forProfile}${at}: ${message}`, {
    hint:
      known ??
      (sso || expired
        ? `sign in again first: ${ssoLogin(context)}`
        : 'configure credentials (aws configure, AWS_PROFILE, --profile, or environment variables), or use ' +
          '--dry-run --offline to plan without any'),
    cause: err,
  });
}

export function isCode(err: unknown, ...codes: string[]): boolean {
  const code = err instanceof AwsCallError ? err.code : errorCode(err);
  return codes.includes(code);
}

/** Error codes of an endpoint that does not implement the operation asked (as an emulator may answer). */
export const NOT_IMPLEMENTED = ['InvalidAction', 'NotImplemented', 'UnknownOperationException'];

/**
 * `OPERATION failed (CODE)`: an answer that is not AWS's (an emulator's error page) has no code of its own, so its
 * HTTP status is said instead.
 */
export function failedCall(operation: string, err: unknown): string {
  const code = err instanceof AwsCallError ? err.code : errorCode(err);
  const cause = (err instanceof AwsCallError ? err.cause : err) as { $metadata?: { httpStatusCode?: number } };
  const status = cause?.$metadata?.httpStatusCode;
  const unreadable = code === 'Error' || code === 'UnreadableAnswer';
  return `${operation} failed (${unreadable && status !== undefined ? `HTTP ${status}` : code})`;
}

/** The message AWS itself gave (not this tool's wording of it). */
export function originalMessage(err: unknown): string {
  const source = err instanceof AwsCallError && err.cause !== undefined ? err.cause : err;
  return (source as { message?: string })?.message ?? '';
}

/**
 * Might the same call succeed if made again? Throttling, 5xx answers, dropped connections, timeouts and answers
 * that were not AWS's: what the SDK retries by itself, and what the engine retries (after checking) for calls that
 * are not idempotent. For a write, its outcome is unknown: it may have taken effect.
 */
export function isTransient(err: unknown): boolean {
  const source = err instanceof AwsCallError && err.cause !== undefined ? err.cause : err;
  const code = errorCode(source);
  const netCode = (source as { code?: string })?.code;
  const status = (source as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return (
    code === 'UnreadableAnswer' ||
    THROTTLED.has(code) ||
    NETWORK.has(code) ||
    (netCode !== undefined && NETWORK.has(netCode)) ||
    (status !== undefined && status >= 500) ||
    /socket hang up|ECONNRESET|EPIPE/.test((source as Error)?.message ?? '')
  );
}
