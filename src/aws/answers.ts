/**
 * Answers that are not AWS's: a proxy's HTML page, an empty body, XML or JSON that does not parse or that answers
 * another call, an answer without what it must hold (GetCallerIdentity without the account). Left to the SDK, some
 * read as an empty result (an HTML page with status 200 is "no roles", "no such cluster") and others fail with its
 * own words ("Deserialization error: to see the raw response, inspect the hidden field..."). Two middlewares, inside
 * the SDK's retries, make each an UnreadableAnswerError: tried again like a lost answer, then reported plainly.
 */
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';

export type Protocol = 'xml' | 'json';

/** An answer that is not AWS's, or not the one the call expects. */
export class UnreadableAnswerError extends Error {
  override readonly name = 'UnreadableAnswer';
  /** For the SDK's retry middleware: worth another attempt (its outcome, for a write, is read back). */
  readonly $retryable = {};
  readonly $metadata: { httpStatusCode?: number };
  /**
   * @param what completes "AWS answered iam:GetRole ...": "with an HTML page (HTTP 502, ...)", "without an account ID"
   * @param via where the answer came from: "through AWS_ENDPOINT_URL=http://...?" or "from https://iam...: a proxy?"
   */
  constructor(
    readonly what: string,
    readonly via: string,
    readonly status?: number,
  ) {
    super(`AWS answered ${what} (${via})`);
    this.$metadata = status !== undefined ? { httpStatusCode: status } : {};
  }
}

/**
 * What each answer must hold for the tool to use it; without it the SDK hands over an empty result that reads as
 * "there is none" (or, for the caller, an account "").
 */
const REQUIRED: Record<string, [field: string, what: string]> = {
  GetCallerIdentity: ['Account', 'an account ID'],
  GetRole: ['Role', 'the role'],
  CreateRole: ['Role', 'the role'],
  GetPolicy: ['Policy', 'the policy'],
  CreatePolicy: ['Policy', 'the policy'],
  GetPolicyVersion: ['PolicyVersion', 'the policy version'],
  CreatePolicyVersion: ['PolicyVersion', 'the policy version'],
  GetOpenIDConnectProvider: ['Url', 'the provider URL'],
  CreateOpenIDConnectProvider: ['OpenIDConnectProviderArn', 'the provider ARN'],
  DescribeCluster: ['cluster', 'the cluster'],
  DescribeNodegroup: ['nodegroup', 'the node group'],
};

/**
 * The JSON operations whose answer is an empty body: EKS's TagResource answers HTTP 200 with none, as its API
 * reference says. (Any other empty answer is not AWS's.)
 */
const EMPTY_ANSWERS = new Set(['TagResource']);

const SERVICE_IDS: Record<string, string> = { iam: 'IAM', sts: 'STS', eks: 'EKS', ec2: 'EC2' };

interface RequestLike {
  protocol?: string;
  hostname?: string;
  port?: number;
}

/** A URL as it may be shown: no user or password, no path. */
function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

/** Where the request went: the variable that points there, or the endpoint itself. */
export function via(service: string, request: RequestLike, env: NodeJS.ProcessEnv = process.env): string {
  for (const name of [`AWS_ENDPOINT_URL_${SERVICE_IDS[service] ?? service.toUpperCase()}`, 'AWS_ENDPOINT_URL']) {
    const value = env[name];
    if (value) return `through ${name}=${origin(value)}?`;
  }
  const port = request.port !== undefined ? `:${request.port}` : '';
  return `from ${request.protocol ?? 'https:'}//${request.hostname ?? '?'}${port}: a proxy in between?`;
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** The first element's name (without a namespace prefix), after the XML declaration, comments and a doctype. */
function rootElement(text: string): string | undefined {
  const rest = text.replace(/^(\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)*/i, '');
  return /^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(rest)?.[2];
}

/** "an HTML page (HTTP 502, "502 Bad Gateway")", "an empty answer (HTTP 200)", ... */
function describe(text: string, status: number, contentType: string | undefined, kind: string): string {
  const http = `HTTP ${status}`;
  if (text.trim() === '') return `an empty answer (${http})`;
  if (/html/i.test(contentType ?? '') || /^\s*(<!doctype html|<html)/i.test(text)) {
    const title = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();
    return `an HTML page (${http}${title ? `, ${JSON.stringify(title.slice(0, 80))}` : ''})`;
  }
  return `${kind} (${http}${contentType ? `, ${contentType.split(';')[0]}` : ''})`;
}

/** Why this answer is not one the SDK should read, or undefined when it looks like AWS's answer to the call. */
export function unreadable(
  protocol: Protocol,
  operation: string,
  status: number,
  headers: Record<string, string> | undefined,
  text: string,
): string | undefined {
  const contentType = header(headers, 'content-type');
  const ok = status >= 200 && status < 300;
  if (protocol === 'xml') {
    const root = rootElement(text);
    const expected = ok ? [`${operation}Response`] : ['ErrorResponse', 'Response', 'Error'];
    if (root !== undefined && expected.includes(root)) return undefined;
    if (root !== undefined && !/html/i.test(contentType ?? '') && root.toLowerCase() !== 'html') {
      return `with XML that is not its answer (<${root}>, HTTP ${status})`;
    }
    return `with ${describe(text, status, contentType, 'something that is not XML')}`;
  }
  // JSON: an object, or an error with an empty body that names itself in a header, or the empty answer of an
  // operation that answers with none.
  if (!ok && text.trim() === '' && header(headers, 'x-amzn-errortype') !== undefined) return undefined;
  if (ok && text === '' && EMPTY_ANSWERS.has(operation)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (/^\s*[[{]/.test(text)) return `with JSON that does not parse (HTTP ${status})`;
    return `with ${describe(text, status, contentType, 'something that is not JSON')}`;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return undefined;
  return `with JSON that is not its answer (HTTP ${status})`;
}

interface ResponseLike {
  statusCode: number;
  headers?: Record<string, string>;
  body?: unknown;
}

async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof body === 'string') return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

interface Context {
  commandName?: string;
}

type AnyStack = MiddlewareStack<object, MetadataBearer>;

/**
 * Add the checks to a client: before the SDK reads an answer, its body is read and looked at (the answers are
 * small); after, what it must hold; an answer the SDK could not parse becomes the same error.
 */
export function checkAnswers(stack: AnyStack, service: string, protocol: Protocol): void {
  const operationOf = (context: Context) => (context.commandName ?? 'Unknown').replace(/Command$/, '');
  stack.add(
    (next, context: Context) => async (args) => {
      const result = await next(args);
      const response = result.response as ResponseLike | undefined;
      if (response === undefined || typeof response.statusCode !== 'number') return result;
      const body = await readBody(response.body);
      response.body = body;
      const problem = unreadable(
        protocol,
        operationOf(context),
        response.statusCode,
        response.headers,
        body.toString(),
      );
      if (problem !== undefined) {
        throw new UnreadableAnswerError(problem, via(service, args.request as RequestLike), response.statusCode);
      }
      return result;
    },
    // Inside the SDK's deserializer: it sees the raw answer.
    { step: 'deserialize', priority: 'low', name: 'flyteAwsSetupRawAnswerCheck' },
  );
  stack.add(
    (next, context: Context) => async (args) => {
      let result;
      try {
        result = await next(args);
      } catch (err) {
        const e = err as { name?: string; message?: string; $response?: ResponseLike };
        if (
          e?.name !== 'UnreadableAnswer' &&
          e?.$response !== undefined &&
          /Deserialization error/.test(e.message ?? '')
        ) {
          const status = e.$response.statusCode;
          throw new UnreadableAnswerError(
            `with ${protocol === 'xml' ? 'XML' : 'JSON'} that does not parse (HTTP ${status})`,
            via(service, args.request as RequestLike),
            status,
          );
        }
        throw err;
      }
      const required = REQUIRED[operationOf(context)];
      const output = result.output as unknown as Record<string, unknown>;
      if (required !== undefined && (output[required[0]] === undefined || output[required[0]] === '')) {
        const status = (result.response as ResponseLike | undefined)?.statusCode;
        throw new UnreadableAnswerError(`without ${required[1]}`, via(service, args.request as RequestLike), status);
      }
      return result;
    },
    // Outside the SDK's deserializer (and inside its retries): it sees what the SDK made of the answer.
    { step: 'deserialize', priority: 'high', name: 'flyteAwsSetupAnswerCheck' },
  );
}
