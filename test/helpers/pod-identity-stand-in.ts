/**
 * A stand-in for what the emulator lacks: moto_server has no EKS Pod Identity API and no add-ons. This HTTP server
 * sits in front of it (the CLI talks to it through AWS_ENDPOINT_URL): it answers the pod identity association and
 * add-on operations of EKS itself, with state, and forwards every other call (IAM, STS, S3, EKS's clusters) to
 * moto. Written from the EKS API reference (REST-JSON, 2017-11-01):
 *
 * - CreatePodIdentityAssociation  POST   /clusters/{name}/pod-identity-associations
 * - ListPodIdentityAssociations   GET    /clusters/{name}/pod-identity-associations?namespace&serviceAccount&maxResults&nextToken
 * - DescribePodIdentityAssociation GET   /clusters/{name}/pod-identity-associations/{associationId}
 * - UpdatePodIdentityAssociation  POST   /clusters/{name}/pod-identity-associations/{associationId}
 * - DeletePodIdentityAssociation  DELETE /clusters/{name}/pod-identity-associations/{associationId}
 * - TagResource                   POST   /tags/{resourceArn}  (of an association; other ARNs go to moto)
 * - DescribeAddon                 GET    /clusters/{name}/addons/{addonName}
 * - CreateAddon                   POST   /clusters/{name}/addons
 *
 * with the errors the reference gives them: ResourceNotFoundException (404) for a cluster, association or add-on
 * that does not exist, ResourceInUseException (409) for a second association of a namespace and service account or
 * an add-on already installed, InvalidParameterException (400) for a missing or malformed parameter. A cluster
 * exists when moto's DescribeCluster finds it (in the region the request is signed for).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { bodyServer, forward, listenOnLoopback } from './loopback.js';

export interface StoredAssociation {
  associationArn: string;
  associationId: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  ownerArn?: string;
}

export interface StoredAddon {
  addonName: string;
  clusterName: string;
  status: string;
  addonVersion: string;
  addonArn: string;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
}

export interface PodIdentityStandIn {
  url: string;
  /** region/cluster -> the cluster's associations, by ID. */
  associations: Map<string, Map<string, StoredAssociation>>;
  /** region/cluster/addon -> the add-on. */
  addons: Map<string, StoredAddon>;
  /** Each call it answered itself, in order (`Operation cluster`). */
  log: string[];
  /** The associations of a cluster, in the order they were made. */
  associationsOf(cluster: string, region?: string): StoredAssociation[];
  stop(): Promise<void>;
}

const ACCOUNT = '123456789012';
/** The page size ListPodIdentityAssociations uses when maxResults is not given (up to 100, the reference says). */
const DEFAULT_PAGE = 100;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (message: string) => new ApiError(404, 'ResourceNotFoundException', message);
const inUse = (message: string) => new ApiError(409, 'ResourceInUseException', message);
const invalid = (message: string) => new ApiError(400, 'InvalidParameterException', message);

function regionOf(req: IncomingMessage): string {
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? 'us-east-1';
}

function serviceOf(req: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.status, { message: err.message }, { 'x-amzn-errortype': err.type });
}

/** A required string parameter of a request body. */
function required(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw invalid(`${key} is required`);
  return v;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

function checkRole(roleArn: string): void {
  if (!ROLE_ARN.test(roleArn)) throw invalid(`Role ARN ${roleArn} is not a valid IAM role ARN`);
}

/** Whether moto has the cluster (DescribeCluster, signed for the same region: moto reads the region from it). */
function clusterExists(target: URL, req: IncomingMessage, name: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const { 'content-length': _l, 'content-type': _t, ...headers } = req.headers;
    const r = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `/clusters/${encodeURIComponent(name)}`,
        method: 'GET',
        headers,
      },
      (up) => {
        up.resume();
        up.on('end', () => resolve(up.statusCode === 200));
      },
    );
    r.on('error', reject);
    r.end();
  });
}

export interface StandInOptions {
  /**
   * The most associations one ListPodIdentityAssociations page holds, whatever maxResults asks (a service may answer
   * with fewer and a nextToken): small, to exercise paging.
   */
  pageLimit?: number;
}

export async function startPodIdentityStandIn(
  motoUrl: string,
  options: StandInOptions = {},
): Promise<PodIdentityStandIn> {
  const target = new URL(motoUrl);
  const stand: PodIdentityStandIn = {
    url: '',
    associations: new Map(),
    addons: new Map(),
    log: [],
    associationsOf: (cluster, region = 'eu-west-1') => [
      ...(stand.associations.get(`${region}/${cluster}`)?.values() ?? []),
    ],
    stop: async () => {},
  };

  async function answer(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<boolean> {
    if (serviceOf(req) !== 'eks') return false;
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname.startsWith('/tags/') && req.method === 'POST') return tagAssociation(url, body, res);
    const path = url.pathname.split('/').map(decodeURIComponent);
    // ['', 'clusters', name, 'pod-identity-associations' | 'addons', id?]
    if (path[1] !== 'clusters' || path.length < 4) return false;
    const kind = path[3];
    if (kind !== 'pod-identity-associations' && kind !== 'addons') return false;
    const cluster = path[2]!;
    const id = path[4];
    const region = regionOf(req);
    const method = req.method ?? 'GET';
    const input = body.length > 0 ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
    const now = Date.now() / 1000;
    const operation =
      kind === 'addons'
        ? method === 'POST'
          ? 'CreateAddon'
          : 'DescribeAddon'
        : id === undefined
          ? method === 'POST'
            ? 'CreatePodIdentityAssociation'
            : 'ListPodIdentityAssociations'
          : method === 'GET'
            ? 'DescribePodIdentityAssociation'
            : method === 'POST'
              ? 'UpdatePodIdentityAssociation'
              : 'DeletePodIdentityAssociation';
    stand.log.push(`${operation} ${cluster}`);
    try {
      if (!(await clusterExists(target, req, cluster))) throw notFound(`No cluster found for name: ${cluster}.`);
      const key = `${region}/${cluster}`;
      if (kind === 'addons') {
        if (operation === 'CreateAddon') {
          const name = required(input, 'addonName');
          if (stand.addons.has(`${key}/${name}`)) throw inUse(`Addon already exists: ${name}`);
          const addon: StoredAddon = {
            addonName: name,
            clusterName: cluster,
            // A real add-on goes through CREATING; the stand-in installs it at once.
            status: 'ACTIVE',
            addonVersion: 'v1.3.4-eksbuild.1',
            addonArn: `arn:aws:eks:${region}:${ACCOUNT}:addon/${cluster}/${name}/${randomBytes(16).toString('hex')}`,
            tags: (input.tags as Record<string, string> | undefined) ?? {},
            createdAt: now,
            modifiedAt: now,
          };
          stand.addons.set(`${key}/${name}`, addon);
          send(res, 200, { addon });
          return true;
        }
        const addon = stand.addons.get(`${key}/${id}`);
        if (addon === undefined) throw notFound(`No addon: ${id} found in cluster: ${cluster}`);
        send(res, 200, { addon });
        return true;
      }

      let byId = stand.associations.get(key);
      if (byId === undefined) stand.associations.set(key, (byId = new Map()));
      switch (operation) {
        case 'CreatePodIdentityAssociation': {
          const namespace = required(input, 'namespace');
          const serviceAccount = required(input, 'serviceAccount');
          const roleArn = required(input, 'roleArn');
          if (!DNS_LABEL.test(namespace)) throw invalid(`namespace ${namespace} is not a valid Kubernetes name`);
          checkRole(roleArn);
          const dup = [...byId.values()].find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);
          if (dup !== undefined) {
            throw inUse(
              `Association already exists: ${dup.associationArn} for service account ${serviceAccount} in namespace ${namespace}`,
            );
          }
          const associationId = `a-${randomBytes(9).toString('hex').slice(0, 17)}`;
          const association: StoredAssociation = {
            associationArn: `arn:aws:eks:${region}:${ACCOUNT}:podidentityassociation/${cluster}/${associationId}`,
            associationId,
            clusterName: cluster,
            namespace,
            serviceAccount,
            roleArn,
            tags: (input.tags as Record<string, string> | undefined) ?? {},
            createdAt: now,
            modifiedAt: now,
          };
          byId.set(associationId, association);
          send(res, 200, { association });
          return true;
        }
        case 'ListPodIdentityAssociations': {
          const namespace = url.searchParams.get('namespace');
          const serviceAccount = url.searchParams.get('serviceAccount');
          const asked = Number(url.searchParams.get('maxResults') ?? DEFAULT_PAGE);
          if (!Number.isInteger(asked) || asked < 1 || asked > 100) {
            throw invalid('maxResults must be between 1 and 100');
          }
          const max = Math.min(asked, options.pageLimit ?? asked);
          const all = [...byId.values()].filter(
            (a) =>
              (namespace === null || a.namespace === namespace) &&
              (serviceAccount === null || a.serviceAccount === serviceAccount),
          );
          const start = Number(url.searchParams.get('nextToken') ?? 0);
          if (!Number.isInteger(start) || start < 0 || start > all.length) throw invalid('nextToken is not valid');
          const page = all.slice(start, start + max);
          send(res, 200, {
            associations: page.map(({ clusterName, namespace, serviceAccount, associationArn, associationId }) => ({
              clusterName,
              namespace,
              serviceAccount,
              associationArn,
              associationId,
            })),
            ...(start + max < all.length ? { nextToken: String(start + max) } : {}),
          });
          return true;
        }
        default: {
          const association = byId.get(id!);
          if (association === undefined) {
            throw notFound(`Could not find the pod identity association ${id} in cluster ${cluster}`);
          }
          if (operation === 'UpdatePodIdentityAssociation') {
            if (typeof input.roleArn === 'string') {
              checkRole(input.roleArn);
              association.roleArn = input.roleArn;
            }
            association.modifiedAt = now;
          } else if (operation === 'DeletePodIdentityAssociation') {
            byId.delete(id!);
          }
          send(res, 200, { association });
          return true;
        }
      }
    } catch (err) {
      if (err instanceof ApiError) {
        sendError(res, err);
        return true;
      }
      throw err;
    }
  }

  /**
   * TagResource of an association ARN (`arn:aws:eks:<region>:<account>:podidentityassociation/<cluster>/<id>`): an
   * empty 200 answer; NotFoundException (404) for an association that does not exist, BadRequestException (400) for
   * no tags or more than 50, as the reference gives them.
   */
  function tagAssociation(url: URL, body: Buffer, res: ServerResponse): boolean {
    const arn = decodeURIComponent(url.pathname.slice('/tags/'.length));
    const m = /^arn:aws:eks:([^:]+):\d{12}:podidentityassociation\/([^/]+)\/([^/]+)$/.exec(arn);
    if (m === null) return false;
    const [, region, cluster, id] = m;
    stand.log.push(`TagResource ${cluster}`);
    const association = stand.associations.get(`${region}/${cluster}`)?.get(id!);
    if (association === undefined) {
      sendError(res, new ApiError(404, 'NotFoundException', `The resource ${arn} could not be found`));
      return true;
    }
    const tags = body.length > 0 ? (JSON.parse(body.toString()) as { tags?: unknown }).tags : undefined;
    const merged = { ...association.tags, ...(tags as Record<string, string>) };
    if (
      tags === null ||
      typeof tags !== 'object' ||
      Object.keys(tags).length === 0 ||
      Object.keys(merged).length > 50
    ) {
      sendError(res, new ApiError(400, 'BadRequestException', 'tags must hold 1 to 50 tags'));
      return true;
    }
    association.tags = merged;
    res.writeHead(200);
    res.end();
    return true;
  }

  const server = bodyServer((req, res, body) => {
    answer(req, body, res).then(
      (answered) => {
        if (!answered) forward(target, req, body, res);
      },
      (err: unknown) => send(res, 500, { message: String(err) }, { 'x-amzn-errortype': 'ServerException' }),
    );
  });
  const listening = await listenOnLoopback(server);
  stand.url = listening.url;
  stand.stop = listening.stop;
  return stand;
}
