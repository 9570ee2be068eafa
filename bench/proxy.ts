/**
 * The benchmark's proxy between the commands and the emulator. Every contender's requests pass through it, so all
 * are counted and timed the same way:
 *
 * - it records each request (service, operation, whether it writes, when it arrived and when its answer ended);
 * - it holds each request `latencyMs` before passing it on, as the network to AWS would;
 * - it answers iam:SimulatePrincipalPolicy as IAM does (every action allowed), which the emulator cannot, so that
 *   the permission preflight costs what it costs on AWS;
 * - with `lagMs`, it makes IAM eventually consistent: a role answers NoSuchEntity to reads for `lagMs` after
 *   CreateRole returned;
 * - it gives the EKS cluster's answer the VPC ID that EKS gives (`vpcId` in `resourcesVpcConfig`), which the
 *   emulator leaves out (it keeps only the subnets);
 * - it sends EKS's pod identity association and add-on operations, which the emulator lacks, to a stand-in that
 *   answers them (test/helpers/pod-identity-stand-in.ts), and everything else to the emulator;
 * - it keeps each contender's connections open between requests, as AWS's endpoints do: the emulator's server closes
 *   every connection after one answer (`Connection: close`), a header of that hop alone, which a proxy does not pass
 *   on (RFC 9110, section 7.6.1). Passed on, it made every request of every contender open a new connection.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallRecord {
  service: string;
  operation: string;
  write: boolean;
  /** Milliseconds since the proxy started: the request arrived, and its answer was sent. */
  start: number;
  end: number;
  /** Answered by the proxy (the preflight's stand-in, the consistency lag), not by the emulator. */
  standIn?: boolean;
}

export interface ProxyOptions {
  latencyMs: number;
  lagMs: number;
  /** Each cluster's VPC (by the cluster's name), added to DescribeCluster's answer. */
  clusterVpcIds: Map<string, string>;
  /** Where EKS's pod identity association and add-on operations go (the emulator has neither). */
  podIdentityUrl?: string;
}

export interface Proxy {
  url: string;
  options: ProxyOptions;
  /** Start a new record (e.g. before each timed command); returns what was recorded since the last one. */
  take(): CallRecord[];
  /** Forget the roles created so far (after the emulator was emptied). */
  forgetRoles(): void;
  close(): Promise<void>;
}

const WRITE = /^(Create|Attach|Put|Update|Tag|Untag|Delete|Detach|Remove|Add|Modify|Set|Upload|Associate)/;
const LAGGED_READS = new Set([
  'GetRole',
  'ListAttachedRolePolicies',
  'ListRolePolicies',
  'ListRoleTags',
  'GetRolePolicy',
  'ListInstanceProfilesForRole',
]);

/** The service from the request's signature (`Credential=AKID/date/region/service/aws4_request`). */
function serviceOf(headers: IncomingHttpHeaders): string {
  const auth = headers.authorization ?? '';
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
}

/** EKS's REST operations the tool makes, by method and path (the EKS API reference). */
const EKS_OPERATIONS: [string, RegExp, string][] = [
  ['GET', /^\/clusters$/, 'ListClusters'],
  ['GET', /^\/clusters\/[^/]+$/, 'DescribeCluster'],
  ['GET', /^\/clusters\/[^/]+\/node-groups$/, 'ListNodegroups'],
  ['GET', /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, 'DescribeNodegroup'],
  ['POST', /^\/clusters\/[^/]+\/pod-identity-associations$/, 'CreatePodIdentityAssociation'],
  ['GET', /^\/clusters\/[^/]+\/pod-identity-associations$/, 'ListPodIdentityAssociations'],
  ['GET', /^\/clusters\/[^/]+\/pod-identity-associations\/[^/]+$/, 'DescribePodIdentityAssociation'],
  ['POST', /^\/clusters\/[^/]+\/pod-identity-associations\/[^/]+$/, 'UpdatePodIdentityAssociation'],
  ['DELETE', /^\/clusters\/[^/]+\/pod-identity-associations\/[^/]+$/, 'DeletePodIdentityAssociation'],
  ['POST', /^\/clusters\/[^/]+\/addons$/, 'CreateAddon'],
  ['GET', /^\/clusters\/[^/]+\/addons\/[^/]+$/, 'DescribeAddon'],
  ['POST', /^\/tags\/.+$/, 'TagResource'],
];

/** The requests that go to the pod identity stand-in: its operations, and tagging one of its associations. */
const POD_IDENTITY_PATH =
  /^\/(clusters\/[^/]+\/(pod-identity-associations|addons)(\/|$)|tags\/arn(:|%3A)[^/]*(:|%3A)eks(:|%3A).*podidentityassociation)/i;

/**
 * The operation: the query protocol's Action, the JSON protocol's target, EKS's operation by its path, or else the
 * REST method and path.
 */
function operationOf(
  service: string,
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  form: URLSearchParams,
): string {
  const action = form.get('Action') ?? new URL(url, 'http://x').searchParams.get('Action');
  if (action) return action;
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop()!;
  const pathname = new URL(url, 'http://x').pathname;
  if (service === 'eks') {
    const known = EKS_OPERATIONS.find(([m, p]) => m === method && p.test(pathname));
    if (known) return known[2];
  }
  return `${method} ${pathname.replace(/\/[^/]+$/, '/*')}`;
}

function isWrite(method: string, operation: string): boolean {
  if (operation.includes(' ')) return method !== 'GET' && method !== 'HEAD';
  return WRITE.test(operation);
}

/** Every `Prefix.member.N` value of a query-protocol form, in order. */
function members(form: URLSearchParams, prefix: string): string[] {
  const out: [number, string][] = [];
  for (const [k, v] of form) {
    const m = new RegExp(`^${prefix}\\.member\\.(\\d+)$`).exec(k);
    if (m) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** IAM's answer to SimulatePrincipalPolicy when the principal's policies allow everything asked. */
function simulationAnswer(form: URLSearchParams): string {
  const actions = members(form, 'ActionNames');
  const resources = members(form, 'ResourceArns');
  const results = actions.map((action) => {
    // With one resource IAM gives it as EvalResourceName; with several, one ResourceSpecificResults entry each.
    const specific =
      resources.length > 1
        ? `<ResourceSpecificResults>${resources
            .map(
              (r) =>
                `<member><EvalResourceName>${xmlEscape(r)}</EvalResourceName><EvalResourceDecision>allowed</EvalResourceDecision><MatchedStatements/><MissingContextValues/></member>`,
            )
            .join('')}</ResourceSpecificResults>`
        : '';
    return (
      `<member><EvalActionName>${xmlEscape(action)}</EvalActionName>` +
      `<EvalResourceName>${xmlEscape(resources.length === 1 ? resources[0]! : '*')}</EvalResourceName>` +
      `<EvalDecision>allowed</EvalDecision><MatchedStatements/><MissingContextValues/>${specific}</member>`
    );
  });
  return (
    `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>` +
    `<IsTruncated>false</IsTruncated><EvaluationResults>${results.join('')}</EvaluationResults>` +
    `</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
    `</SimulatePrincipalPolicyResponse>`
  );
}

function noSuchRole(name: string): string {
  return (
    `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
    `<Message>The role with name ${xmlEscape(name)} cannot be found.</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

/**
 * Headers that belong to one connection, not to the message: a proxy does not pass them on (RFC 9110 7.6.1; RFC 2616
 * 13.5.1 named `trailer` among them).
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** The headers of a message to pass on: without those of the hop it came over (and those its Connection names). */
export function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const out = { ...headers };
  for (const h of [...HOP_BY_HOP, ...named]) delete out[h];
  return out;
}

/** Pass on an EKS answer with `vpcId` in the cluster's `resourcesVpcConfig` (the cluster's in `vpcIds`). */
function withVpcId(answer: IncomingMessage, vpcIds: Map<string, string>, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  answer.on('data', (d: Buffer) => chunks.push(d));
  answer.on('end', () => {
    let body = Buffer.concat(chunks);
    try {
      const json = JSON.parse(body.toString('utf8')) as {
        cluster?: { name?: string; resourcesVpcConfig?: { vpcId?: string } };
      };
      const vpcId = vpcIds.get(json.cluster?.name ?? '');
      if (json.cluster?.resourcesVpcConfig && json.cluster.resourcesVpcConfig.vpcId === undefined && vpcId) {
        json.cluster.resourcesVpcConfig.vpcId = vpcId;
        body = Buffer.from(JSON.stringify(json));
      }
    } catch {
      // Not JSON: passed on as it is.
    }
    const headers = { ...endToEnd(answer.headers), 'content-length': String(body.length) };
    res.writeHead(answer.statusCode ?? 502, headers).end(body);
  });
}

export async function startProxy(target: string, options: ProxyOptions): Promise<Proxy> {
  const to = new URL(target);
  const t0 = process.hrtime.bigint();
  const now = () => Number(process.hrtime.bigint() - t0) / 1e6;
  let records: CallRecord[] = [];
  /** When each role's CreateRole answered (proxy time). */
  const created = new Map<string, number>();

  const server = createServer((req, res) => {
    const start = now();
    const body: Buffer[] = [];
    req.on('data', (d: Buffer) => body.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(body);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const contentType = String(req.headers['content-type'] ?? '');
      const form = new URLSearchParams(contentType.includes('x-www-form-urlencoded') ? raw.toString('utf8') : '');
      const service = serviceOf(req.headers);
      const operation = operationOf(service, method, url, req.headers, form);
      const record: CallRecord = { service, operation, write: isWrite(method, operation), start, end: start };
      records.push(record);
      const finish = () => (record.end = now());
      res.on('finish', finish);
      res.on('close', finish);

      setTimeout(() => {
        if (service === 'iam' && operation === 'SimulatePrincipalPolicy') {
          record.standIn = true;
          res.writeHead(200, { 'content-type': 'text/xml' }).end(simulationAnswer(form));
          return;
        }
        const roleName = form.get('RoleName');
        if (service === 'iam' && roleName !== null && LAGGED_READS.has(operation)) {
          const at = created.get(roleName);
          if (at !== undefined && now() - at < options.lagMs) {
            record.standIn = true;
            res.writeHead(404, { 'content-type': 'text/xml' }).end(noSuchRole(roleName));
            return;
          }
        }
        const podIdentity =
          service === 'eks' && options.podIdentityUrl !== undefined && POD_IDENTITY_PATH.test(url.split('?')[0]!);
        const dest = podIdentity ? new URL(options.podIdentityUrl!) : to;
        const out = request(
          { host: dest.hostname, port: dest.port, method, path: url, headers: endToEnd(req.headers) },
          (answer) => {
            if (operation === 'CreateRole' && roleName !== null && answer.statusCode === 200) {
              created.set(roleName, now());
            }
            if (service === 'eks' && method === 'GET' && !podIdentity && options.clusterVpcIds.size > 0) {
              withVpcId(answer, options.clusterVpcIds, res);
              return;
            }
            res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
            answer.pipe(res);
          },
        );
        out.on('error', (err) => res.writeHead(502).end(String(err)));
        out.end(raw);
      }, options.latencyMs);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    options,
    take() {
      const out = records;
      records = [];
      return out;
    },
    forgetRoles: () => created.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sequential round trips: the longest chain of requests of which each started after the one before it had ended.
 * A request that started after another ended may depend on it (and at most on it); requests that overlapped cannot
 * depend on each other. So this is an upper bound on the calls that had to wait for each other, and what latency
 * multiplies.
 */
export function longestChain(records: readonly CallRecord[]): number {
  const byEnd = [...records].sort((a, b) => a.end - b.end);
  const chain: number[] = [];
  for (let i = 0; i < byEnd.length; i++) {
    let best = 0;
    for (let j = 0; j < i; j++) if (byEnd[j]!.end <= byEnd[i]!.start) best = Math.max(best, chain[j]!);
    chain.push(best + 1);
  }
  return Math.max(0, ...chain);
}
