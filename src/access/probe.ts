/**
 * The in-cluster check (`flyte-aws-setup probe`): one short-lived Kubernetes Job per Flyte identity, running as its
 * service account in its namespace, that asks STS who it is and writes, reads and deletes one object under a probe
 * prefix of the bucket, then prints one machine-readable verdict line; and the reading of those lines. This is what
 * no reading of IAM can tell: whether the pods really get their role (the service account's annotation, the token the
 * EKS webhook mounts) or silently the node's. Pure: identities in, manifests out; log text in, verdicts out.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Partition } from '../policy/partition.js';
import { roleArn } from '../policy/partition.js';
import type { FlyteIdentity } from './identities.js';

/** The aws CLI image the Jobs run, pinned (`--image` takes another, e.g. a mirror). */
export const PROBE_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.22.0';
/** Where in the bucket the probe writes its one object (deleted again). */
export const PROBE_PREFIX = 'flyte-aws-setup-probe/';
/** The verdict line's prefix: the rest of the line is JSON. */
export const VERDICT_MARK = 'FLYTE_AWS_SETUP_PROBE ';
export const PROBE_LABEL = 'flyte-aws-setup-probe';

export interface ProbeTarget {
  /** The identity (`NAMESPACE/SERVICEACCOUNT`). */
  id: string;
  namespace: string;
  serviceAccount: string;
  roleName: string;
  /** The role the pod should run as. */
  expectedRoleArn: string;
  /** The Job's name (a DNS label). */
  jobName: string;
}

export interface ProbeContext {
  partition: Partition;
  accountId: string;
  region: string;
  bucket: string;
  /** The config's IAM path of the roles. */
  path: string;
}

/** A DNS label for the Job of an identity: the prefix, then the service account, then a short hash of the id. */
function jobName(id: string, serviceAccount: string): string {
  let h = 0;
  for (const c of id) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  const hash = h.toString(36).padStart(7, '0').slice(-7);
  const sa = serviceAccount
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63 - 'fas-probe--'.length - hash.length)
    .replace(/^-+|-+$/g, '');
  return `fas-probe-${sa}-${hash}`;
}

/**
 * The identities a Job can stand for: the pods' (not Union's role, whose service accounts are Union's). A `*` trust
 * is probed in its sample namespace (Flyte's default project's), which must exist in the cluster.
 */
export function probeTargets(identities: readonly FlyteIdentity[], ctx: ProbeContext): ProbeTarget[] {
  return identities.flatMap((i): ProbeTarget[] => {
    if (i.pod === undefined) return [];
    const id = `${i.pod.namespace}/${i.pod.serviceAccount}`;
    return [
      {
        id,
        namespace: i.pod.namespace,
        serviceAccount: i.pod.serviceAccount,
        roleName: i.roleName,
        expectedRoleArn: roleArn(ctx.partition, ctx.accountId, ctx.path, i.roleName),
        jobName: jobName(id, i.pod.serviceAccount),
      },
    ];
  });
}

/**
 * What the Job runs (POSIX sh in the aws CLI image): who am I, then put, get and delete one object, each step's
 * outcome kept; then one verdict line, JSON after VERDICT_MARK. An error's text is kept short and without quotes or
 * backslashes, so the line stays JSON.
 */
export const PROBE_SCRIPT = `set -u
clean() { tr -d '"\\\\' | tr '\\n\\r\\t' '   ' | cut -c1-300; }
step() { if out=$("$@" 2>&1 >/dev/null); then printf 'true'; else printf '%s' "$out" | clean > "/tmp/err-$STEP"; printf 'false'; fi; }
caller=$(aws sts get-caller-identity --query Arn --output text 2>/tmp/err-sts) && sts=true || { sts=false; caller=; }
key="\${PROBE_PREFIX}\${PROBE_IDENTITY}-$(date +%s)-$$"
STEP=put; put=$(step aws s3api put-object --bucket "$PROBE_BUCKET" --key "$key" --body /dev/null)
STEP=get; get=$(step aws s3api get-object --bucket "$PROBE_BUCKET" --key "$key" /dev/null)
STEP=delete; delete=$(step aws s3api delete-object --bucket "$PROBE_BUCKET" --key "$key")
err=""
for s in sts put get delete; do
  if [ -s "/tmp/err-$s" ]; then err="$err$s: $(clean < "/tmp/err-$s"); "; fi
done
printf '${VERDICT_MARK}{"v":1,"identity":"%s","caller":"%s","sts":%s,"put":%s,"get":%s,"delete":%s,"key":"%s","error":"%s"}\\n' \\
  "$PROBE_IDENTITY" "$caller" "$sts" "$put" "$get" "$delete" "$key" "$(printf '%s' "$err" | clean)"
[ "$sts" = true ] && [ "$put" = true ] && [ "$get" = true ] && [ "$delete" = true ]
`;

export interface ProbeOptions {
  image?: string;
  /** Seconds a finished Job is kept (for its logs) before Kubernetes deletes it. */
  ttlSeconds?: number;
  /** Seconds the Job may run in all. */
  deadlineSeconds?: number;
}

/** The Job of one identity: runs as its service account, no credentials of its own, no retries, deleted after. */
export function probeJob(t: ProbeTarget, ctx: ProbeContext, options: ProbeOptions = {}): Job {
  const labels = {
    'app.kubernetes.io/name': PROBE_LABEL,
    'app.kubernetes.io/managed-by': 'flyte-aws-setup',
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: t.jobName,
      namespace: t.namespace,
      labels,
      annotations: {
        'flyte-aws-setup/identity': t.id,
        'flyte-aws-setup/expected-role': t.expectedRoleArn,
      },
    },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: options.ttlSeconds ?? 600,
      activeDeadlineSeconds: options.deadlineSeconds ?? 300,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: t.serviceAccount,
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 },
          containers: [
            {
              name: 'probe',
              image: options.image ?? PROBE_IMAGE,
              command: ['/bin/sh', '-c', PROBE_SCRIPT],
              env: [
                { name: 'PROBE_IDENTITY', value: t.id.replace('/', '.') },
                { name: 'PROBE_BUCKET', value: ctx.bucket },
                { name: 'PROBE_PREFIX', value: PROBE_PREFIX },
                { name: 'AWS_REGION', value: ctx.region },
                { name: 'AWS_DEFAULT_REGION', value: ctx.region },
                { name: 'HOME', value: '/tmp' },
              ],
              resources: {
                requests: { cpu: '50m', memory: '128Mi' },
                limits: { cpu: '500m', memory: '256Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
        },
      },
    },
  };
}

/** What one Job printed, as the verdict line says it. */
export interface ProbeLine {
  identity: string;
  caller: string;
  sts: boolean;
  put: boolean;
  get: boolean;
  delete: boolean;
  key?: string;
  error?: string;
}

export type VerdictKind =
  /** It ran as its role and could write, read and delete. */
  | 'ok'
  /** It got no credentials at all (STS refused, or no credentials in the pod). */
  | 'no-credentials'
  /** It ran as the node's role: the service account's annotation or the token is missing. */
  | 'node-role'
  /** It ran as another role than its own. */
  | 'other-role'
  /** It ran as its role, but S3 refused a step. */
  | 'denied'
  /** No verdict line: the Job did not run to its end (image, scheduling, a missing namespace or service account). */
  | 'no-verdict';

export interface ProbeVerdict {
  id: string;
  kind: VerdictKind;
  ok: boolean;
  /** What happened, in words. */
  message: string;
  caller?: string;
}

/** The verdict line in a Job's log (the last one, when a log holds several), or undefined. */
export function parseProbeLine(log: string): ProbeLine | undefined {
  const lines = log.split(/\r?\n/).filter((l) => l.includes(VERDICT_MARK));
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  try {
    const v = JSON.parse(last.slice(last.indexOf(VERDICT_MARK) + VERDICT_MARK.length)) as Record<string, unknown>;
    const bool = (k: string) => v[k] === true;
    if (typeof v.identity !== 'string') return undefined;
    return {
      identity: v.identity,
      caller: typeof v.caller === 'string' ? v.caller : '',
      sts: bool('sts'),
      put: bool('put'),
      get: bool('get'),
      delete: bool('delete'),
      ...(typeof v.key === 'string' && v.key !== '' ? { key: v.key } : {}),
      ...(typeof v.error === 'string' && v.error.trim() !== '' ? { error: v.error.trim() } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The role an STS caller ARN is a session of (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` -> NAME). */
export function assumedRoleName(callerArn: string): string | undefined {
  return /^arn:[\w-]+:sts::\d{12}:assumed-role\/([^/]+)\/.+$/.exec(callerArn)?.[1];
}

/**
 * An identity's verdict from its Job's log. `nodeRoles` are the role names the cluster's nodes run with (the config's
 * node role, and any the cluster's node groups name): a pod that got one of them got the node's role instead.
 */
export function probeVerdict(
  target: ProbeTarget,
  log: string | undefined,
  nodeRoles: readonly string[] = [],
): ProbeVerdict {
  const base = { id: target.id };
  const line = log === undefined ? undefined : parseProbeLine(log);
  if (line === undefined) {
    return {
      ...base,
      kind: 'no-verdict',
      ok: false,
      message:
        `the Job ${target.namespace}/${target.jobName} printed no verdict: it did not run to its end (does the ` +
        `namespace and the service account ${target.serviceAccount} exist? kubectl describe job -n ${target.namespace} ${target.jobName})`,
    };
  }
  const caller = line.caller;
  if (!line.sts || caller === '') {
    return {
      ...base,
      kind: 'no-credentials',
      ok: false,
      message: `the pod got no AWS credentials (sts get-caller-identity failed${line.error ? `: ${line.error}` : ''})`,
    };
  }
  const role = assumedRoleName(caller);
  const expected = target.roleName;
  if (role !== expected) {
    const node = role !== undefined && nodeRoles.includes(role);
    return {
      ...base,
      kind: node || role === undefined ? 'node-role' : 'other-role',
      ok: false,
      caller,
      message:
        node || role === undefined
          ? `the pod got the node's role instead (${caller}), not ${expected}: the service account ${target.serviceAccount} ` +
            'lacks the eks.amazonaws.com/role-arn annotation (or the pod started before it was added), or the EKS ' +
            'pod identity webhook did not mount its token'
          : `the pod ran as ${caller}, not ${expected}: the service account's eks.amazonaws.com/role-arn annotation names another role`,
    };
  }
  const refused = (['put', 'get', 'delete'] as const).filter((s) => !line[s]);
  if (refused.length > 0) {
    return {
      ...base,
      kind: 'denied',
      ok: false,
      caller,
      message: `ran as ${expected}, but S3 refused ${refused.join(', ')} under ${PROBE_PREFIX} in the bucket${line.error ? ` (${line.error})` : ''}`,
    };
  }
  return { ...base, kind: 'ok', ok: true, caller, message: `ran as ${expected}; put, get and delete worked` };
}
