/**
 * A fault-injecting HTTP proxy in front of the emulator: the CLI talks to it through AWS_ENDPOINT_URL, and it
 * forwards each call to moto_server unless a rule says to throttle it, fail it with a 500 (before the call reaches
 * AWS, or after it did its work), drop the connection (before, or after, so that the answer is lost), refuse it
 * with AccessDenied, answer something that is not AWS's (a garbled answer after the call did its work, an HTML
 * page, an answer without its result), or delay it. It logs every call it sees (service, operation, and what it
 * did to it).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { bodyServer, listenOnLoopback } from './loopback.js';

export type Fault =
  | 'throttle'
  | 'server-error'
  /** The call reaches AWS and does its work; the caller gets a 500. */
  | 'server-error-after'
  | 'drop-before'
  | 'drop-after'
  | 'access-denied'
  | 'expired-token'
  /** The call reaches AWS and does its work; the caller gets the first half of its answer. */
  | 'garbled'
  /** A proxy's error page: HTML, status 502; the call does not reach AWS. */
  | 'html-502'
  /** A portal's sign-in page: HTML, status 200; the call does not reach AWS. */
  | 'html-200'
  /** A well-formed answer without its result (GetCallerIdentity without the account); the call does not reach AWS. */
  | 'empty-result';

export interface ProxyCall {
  service: string;
  operation: string;
  /** 1-based index of this call among all calls the proxy saw. */
  index: number;
  /** 1-based index among the calls of this operation. */
  opIndex: number;
  /** The SDK's attempt number for this request (1 for the first try, 2 for its first retry, ...). */
  attempt: number;
}

export interface FaultRule {
  fault: Fault;
  /** Which calls: every call for which this returns true (see `every`, `operation`). */
  when: (call: ProxyCall) => boolean;
  /** How many times at most (default: every time it matches). */
  times?: number;
}

export interface FaultProxy {
  url: string;
  /** What the proxy did, call by call. */
  log: (ProxyCall & { fault?: Fault })[];
  /** Milliseconds to hold each answer (to make a run slow enough to interrupt it). */
  delayMs: number;
  /** Which calls `delayMs` holds (default: all). */
  delayOnly?: (call: ProxyCall) => boolean;
  rules: FaultRule[];
  /** Forget the log, the counts and the rules (between tests). */
  reset(): void;
  stop(): Promise<void>;
}

/**
 * The first attempt of every nth request (n, 2n, 3n, ...): the SDK's retry of it gets through, so the run must
 * complete whatever the interleaving of concurrent calls.
 */
export const everyNth =
  (n: number) =>
  (c: ProxyCall): boolean =>
    c.attempt === 1 && c.index % n === 0;

/**
 * Every nth request the proxy sees, retries included (n, 2n, ... shifted by `offset`): a call can be hit again on
 * its retry, as by a service that fails a steady share of requests.
 */
export const everyNthRequest =
  (n: number, offset = 0) =>
  (c: ProxyCall): boolean =>
    (c.index + offset) % n === 0;

/** Calls of one operation (optionally only its nth). */
export const operation =
  (name: string, nth?: number) =>
  (c: ProxyCall): boolean =>
    c.operation === name && (nth === undefined || c.opIndex === nth);

function callOf(req: IncomingMessage, body: string): { service: string; operation: string } {
  const scope = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '');
  const service = scope?.[1] ?? 'unknown';
  const action = new URLSearchParams(body).get('Action');
  if (action) return { service, operation: action };
  // REST services (EKS): the operation from the method and path.
  const path = (req.url ?? '/').split('?')[0]!;
  if (service === 'eks') {
    if (req.method === 'GET' && /^\/clusters\/[^/]+$/.test(path)) return { service, operation: 'DescribeCluster' };
    if (req.method === 'GET' && path === '/clusters') return { service, operation: 'ListClusters' };
  }
  return { service, operation: `${req.method} ${path}` };
}

const SERVER_ERROR = {
  status: 500,
  code: 'ServiceFailure',
  message: 'The request processing has failed because of an unknown error.',
};

const QUERY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  throttle: { status: 400, code: 'Throttling', message: 'Rate exceeded' },
  'server-error': SERVER_ERROR,
  'server-error-after': SERVER_ERROR,
  'access-denied': { status: 403, code: 'AccessDenied', message: 'User is not authorized to perform this action' },
  'expired-token': {
    status: 403,
    code: 'ExpiredToken',
    message: 'The security token included in the request is expired',
  },
};

const HTML_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const HTML_200 =
  '<!DOCTYPE html><html><head><title>Sign in to continue</title></head><body><form action="/login">' +
  '<input name="user"></form></body></html>';

/** Answers that are not AWS's (see Fault). */
function sendNotAws(res: ServerResponse, service: string, fault: Fault, op: string): void {
  if (fault === 'html-502' || fault === 'html-200') {
    res.writeHead(fault === 'html-502' ? 502 : 200, { 'content-type': 'text/html' });
    res.end(fault === 'html-502' ? HTML_502 : HTML_200);
    return;
  }
  // empty-result
  if (service === 'eks') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(
    `<${op}Response xmlns="https://${service}.amazonaws.com/doc/"><${op}Result></${op}Result>` +
      `<ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></${op}Response>`,
  );
}

function sendError(res: ServerResponse, service: string, fault: Fault, op: string): void {
  if (fault === 'html-502' || fault === 'html-200' || fault === 'empty-result') {
    sendNotAws(res, service, fault, op);
    return;
  }
  const e = QUERY_ERRORS[fault]!;
  const message =
    fault === 'access-denied'
      ? `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ${service}:${op}`
      : e.message;
  if (service === 'eks') {
    const code =
      fault === 'throttle'
        ? 'ThrottlingException'
        : fault === 'server-error' || fault === 'server-error-after'
          ? 'ServerException'
          : fault === 'access-denied'
            ? 'AccessDeniedException'
            : 'ExpiredTokenException';
    res.writeHead(fault === 'throttle' ? 429 : e.status, {
      'content-type': 'application/json',
      'x-amzn-errortype': code,
    });
    res.end(JSON.stringify({ message }));
    return;
  }
  res.writeHead(e.status, { 'content-type': 'text/xml' });
  res.end(
    `<ErrorResponse><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${e.code}</Code>` +
      `<Message>${message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`,
  );
}

export async function startFaultProxy(target: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  const counts = new Map<string, number>();
  const used = new Map<FaultRule, number>();
  const proxy: FaultProxy = {
    url: '',
    log: [],
    delayMs: 0,
    rules,
    reset() {
      proxy.log.length = 0;
      proxy.rules.length = 0;
      proxy.delayMs = 0;
      delete proxy.delayOnly;
      counts.clear();
      used.clear();
    },
    stop: async () => {},
  };

  const server = bodyServer((req, res, body) => {
    const { service, operation: op } = callOf(req, body.toString());
    const opIndex = (counts.get(op) ?? 0) + 1;
    counts.set(op, opIndex);
    const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);
    const call: ProxyCall = { service, operation: op, index: proxy.log.length + 1, opIndex, attempt };
    const rule = proxy.rules.find((r) => r.when(call) && (r.times === undefined || (used.get(r) ?? 0) < r.times));
    if (rule) used.set(rule, (used.get(rule) ?? 0) + 1);
    proxy.log.push({ ...call, ...(rule ? { fault: rule.fault } : {}) });

    const answer = () => {
      if (rule?.fault === 'drop-before') {
        req.socket.destroy();
        return;
      }
      // These reach AWS first.
      const after: Fault[] = ['drop-after', 'server-error-after', 'garbled'];
      if (rule && !after.includes(rule.fault)) {
        sendError(res, service, rule.fault, op);
        return;
      }
      const upstream = http.request(
        { host: targetUrl.hostname, port: targetUrl.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (d: Buffer) => parts.push(d));
          up.on('end', () => {
            // The call reached AWS and did its work; the caller never hears back.
            if (rule?.fault === 'drop-after') {
              req.socket.destroy();
              return;
            }
            if (rule?.fault === 'server-error-after') {
              sendError(res, service, rule.fault, op);
              return;
            }
            const answer = Buffer.concat(parts);
            if (rule?.fault === 'garbled') {
              const { 'content-length': _length, ...headers } = up.headers;
              res.writeHead(up.statusCode ?? 502, headers);
              res.end(answer.subarray(0, Math.floor(answer.length / 2)));
              return;
            }
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(answer);
          });
        },
      );
      upstream.on('error', () => req.socket.destroy());
      upstream.end(body);
    };
    if (proxy.delayMs > 0 && (proxy.delayOnly?.(call) ?? true)) setTimeout(answer, proxy.delayMs);
    else answer();
  });
  const listening = await listenOnLoopback(server);
  proxy.url = listening.url;
  proxy.stop = listening.stop;
  return proxy;
}
