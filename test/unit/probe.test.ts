/**
 * `flyte-aws-setup probe`: the Jobs' manifests (valid YAML of a batch/v1 Job, the right service account and
 * namespace, nothing secret, no credentials of their own), the script they run (with a stand-in `aws` on the PATH),
 * the verdict line and its reading, and `--apply` through a stand-in `kubectl`. The run in a real cluster cannot be
 * tested here (docs/cli.md says so).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { flyteIdentities } from '../../src/access/identities.js';
import {
  PROBE_IMAGE,
  PROBE_SCRIPT,
  assumedRoleName,
  parseProbeLine,
  probeJob,
  probeTargets,
  probeVerdict,
  type ProbeContext,
  type ProbeTarget,
} from '../../src/access/probe.js';
import { resolveConfig, type RawConfig } from '../../src/config/schema.js';
import { runMain } from '../helpers/in-process.js';

const ACCOUNT = '123456789012';
const CTX: ProbeContext = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  bucket: 'acme-flyte-data',
  path: '/',
};
const RAW: RawConfig = {
  region: 'eu-west-1',
  accountId: ACCOUNT,
  cluster: 'acme-ml',
  bucket: 'acme-flyte-data',
  projectRoles: [{ project: 'fraud', domains: ['development', 'production'] }],
};
const config = (over: Partial<RawConfig> = {}) => resolveConfig({ ...RAW, ...over });
const targets = (over: Partial<RawConfig> = {}) => probeTargets(flyteIdentities(config(over)), CTX);

const home = mkdtempSync(join(tmpdir(), 'fas-probe-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the Jobs', () => {
  it('one per identity whose pods run in the cluster, as its service account in its namespace', () => {
    expect(targets().map((t) => [t.id, t.roleName, t.expectedRoleArn])).toEqual([
      ['flyte/flyte-backend-flyte-binary', 'flyte-system-role', `arn:aws:iam::${ACCOUNT}:role/flyte-system-role`],
      // The workers role trusts every namespace: probed in Flyte's default project's.
      ['flytesnacks-development/default', 'flyte-workers-role', `arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`],
      ['fraud-development/default', 'flyte-fraud-role', `arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role`],
      ['fraud-production/default', 'flyte-fraud-role', `arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role`],
    ]);
    // Flyte 2: the backend's one service account, which its task pods use too.
    expect(targets({ target: 'flyte2', projectRoles: [] }).map((t) => t.id)).toEqual([
      'flyte/flyte-backend-flyte-binary',
    ]);
    // flyte-core: each component.
    expect(targets({ target: 'flyte-core', projectRoles: [] }).map((t) => t.id)).toEqual([
      'flyte/flyteadmin',
      'flyte/flytepropeller',
      'flyte/datacatalog',
      'flytesnacks-development/default',
    ]);
    // Union's role runs as Union's service accounts: no Job for it.
    expect(
      targets({
        target: 'union',
        globalAccess: { role: 'acme-userflyterole' },
        projectRoles: [{ project: 'fraud' }],
      }).map((t) => t.id),
    ).toEqual(['fraud-development/default', 'fraud-staging/default', 'fraud-production/default']);
  });

  it('are valid YAML of a batch/v1 Job that runs once, briefly, as the service account, and is deleted after', () => {
    for (const t of targets()) {
      const docs = parseAllDocuments(JSON.stringify(probeJob(t, CTX)));
      expect(docs).toHaveLength(1);
      const job = docs[0]!.toJS();
      expect(job).toMatchObject({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: t.jobName, namespace: t.namespace },
        spec: {
          backoffLimit: 0,
          ttlSecondsAfterFinished: 600,
          activeDeadlineSeconds: 300,
          template: { spec: { serviceAccountName: t.serviceAccount, restartPolicy: 'Never' } },
        },
      });
      expect(t.jobName).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    }
    const names = targets().map((t) => t.jobName);
    expect(new Set(names).size).toBe(names.length);
  });

  it('run a pinned aws CLI image, with no secret, no credentials of their own and nothing that bypasses the service account', () => {
    expect(PROBE_IMAGE).toMatch(/^public\.ecr\.aws\/aws-cli\/aws-cli:\d+\.\d+\.\d+$/);
    for (const t of targets()) {
      const job = probeJob(t, CTX);
      const pod = job.spec!.template.spec!;
      const text = JSON.stringify(job);
      expect(pod.automountServiceAccountToken).toBeUndefined();
      expect(pod.volumes!.every((v) => v.secret === undefined && v.projected === undefined)).toBe(true);
      for (const c of pod.containers) {
        expect(c.image).toBe(PROBE_IMAGE);
        expect(c.envFrom).toBeUndefined();
        for (const e of c.env ?? []) {
          expect(e.valueFrom).toBeUndefined();
          // The credentials come from the service account (its role annotation, the token EKS mounts), never here.
          expect(e.name).not.toMatch(
            /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|PROFILE)$/,
          );
        }
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      }
      expect(text).not.toMatch(/secretKeyRef|secretName|AKIA/);
    }
  });
});

/** A stand-in command at `path`: a shell script of `lines`, executable. */
function standIn(path: string, lines: string[]): void {
  writeFileSync(path, ['#!/bin/sh', ...lines, ''].join('\n'));
  chmodSync(path, 0o755);
}

/** Run the Job's script with a stand-in `aws` that answers as `answers` says. */
function runScript(answers: { caller?: string; deny?: ('put' | 'get' | 'delete')[] }): string {
  const dir = mkdtempSync(join(home, 'aws-'));
  standIn(join(dir, 'aws'), [
    'case "$1 $2" in',
    answers.caller !== undefined
      ? `  "sts get-caller-identity") echo '${answers.caller}';;`
      : `  "sts get-caller-identity") echo 'Unable to locate credentials. You can configure credentials by running "aws configure".' >&2; exit 255;;`,
    ...(['put', 'get', 'delete'] as const).map((s) =>
      answers.deny?.includes(s)
        ? `  "s3api ${s}-object") echo 'An error occurred (AccessDenied) when calling the ${s} operation: Access Denied' >&2; exit 254;;`
        : `  "s3api ${s}-object") echo '{}';;`,
    ),
    'esac',
  ]);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const run = spawnSync('/bin/sh', ['-c', PROBE_SCRIPT.replaceAll('/tmp/', `${tmp}/`)], {
    encoding: 'utf8',
    env: {
      PATH: `${dir}:/usr/bin:/bin`,
      PROBE_IDENTITY: 'fraud-development.default',
      PROBE_BUCKET: 'acme-flyte-data',
      PROBE_PREFIX: 'flyte-aws-setup-probe/',
    },
  });
  return `some output of the pod\n${run.stdout}${run.stderr}`;
}

const FRAUD: ProbeTarget = targets()[2]!;
const session = (role: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/botocore-session-1700000000`;

describe('the script and its verdict', () => {
  it('as its role, with S3 answering: one verdict line, valid JSON, and an ok verdict', () => {
    const log = runScript({ caller: session('flyte-fraud-role') });
    const line = parseProbeLine(log);
    expect(line).toMatchObject({
      identity: 'fraud-development.default',
      caller: session('flyte-fraud-role'),
      sts: true,
      put: true,
      get: true,
      delete: true,
    });
    expect(line!.key).toMatch(/^flyte-aws-setup-probe\/fraud-development\.default-\d+-\d+$/);
    expect(line!.error).toBeUndefined();
    expect(probeVerdict(FRAUD, log)).toEqual({
      id: 'fraud-development/default',
      kind: 'ok',
      ok: true,
      caller: session('flyte-fraud-role'),
      message: 'ran as flyte-fraud-role; put, get and delete worked',
    });
  });

  it("the pod that silently got the node's role", () => {
    const log = runScript({ caller: session('flyte-eks-node-role') });
    const v = probeVerdict(FRAUD, log, ['flyte-eks-node-role']);
    expect(v.kind).toBe('node-role');
    expect(v.message).toContain("the pod got the node's role instead");
    expect(v.message).toContain('lacks the eks.amazonaws.com/role-arn annotation');
  });

  it('another role than its own (an annotation naming another role)', () => {
    const v = probeVerdict(FRAUD, runScript({ caller: session('flyte-workers-role') }), ['flyte-eks-node-role']);
    expect(v).toMatchObject({ kind: 'other-role', ok: false });
    expect(v.message).toContain('not flyte-fraud-role');
  });

  it('no credentials at all', () => {
    const log = runScript({});
    expect(parseProbeLine(log)).toMatchObject({ sts: false, caller: '' });
    const v = probeVerdict(FRAUD, log);
    expect(v.kind).toBe('no-credentials');
    expect(v.message).toContain('Unable to locate credentials');
  });

  it('its role, but S3 refuses the write: which steps, and what S3 said', () => {
    const log = runScript({ caller: session('flyte-fraud-role'), deny: ['put', 'get', 'delete'] });
    const v = probeVerdict(FRAUD, log);
    expect(v.kind).toBe('denied');
    expect(v.message).toMatch(
      /^ran as flyte-fraud-role, but S3 refused put, get, delete under flyte-aws-setup-probe\//,
    );
    expect(v.message).toContain('AccessDenied');
  });

  it('no verdict line: the Job did not run to its end', () => {
    expect(probeVerdict(FRAUD, undefined).kind).toBe('no-verdict');
    expect(probeVerdict(FRAUD, 'Error from server (NotFound): serviceaccounts "default" not found').kind).toBe(
      'no-verdict',
    );
    expect(parseProbeLine('FLYTE_AWS_SETUP_PROBE {not json')).toBeUndefined();
  });

  it('reads the role of a session ARN', () => {
    expect(assumedRoleName(session('flyte-fraud-role'))).toBe('flyte-fraud-role');
    expect(assumedRoleName(`arn:aws:iam::${ACCOUNT}:user/alice`)).toBeUndefined();
  });
});

describe('the command', () => {
  const configFile = join(home, 'flyte-aws-setup.yaml');
  writeFileSync(
    configFile,
    'region: eu-west-1\naccountId: "123456789012"\ncluster: acme-ml\nbucket: acme-flyte-data\nprojectRoles:\n  - project: fraud\n    domains: [development]\n',
  );

  it('--offline writes every Job on stdout, without AWS', async () => {
    const r = await runMain(['probe', '--config', configFile, '--offline']);
    expect(r.code).toBe(0);
    const jobs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { metadata: { namespace: string } });
    expect(jobs.map((j) => j.metadata.namespace)).toEqual(['flyte', 'flytesnacks-development', 'fraud-development']);
  });

  it('--out writes one file per Job', async () => {
    const out = join(home, 'probe-out');
    const r = await runMain(['probe', '--config', configFile, '--offline', '--out', out]);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toHaveLength(3);
    expect(r.stderr).toContain('(fraud-development/default)');
  });

  it('--apply runs each Job through kubectl and prints a verdict per identity', async () => {
    const dir = mkdtempSync(join(home, 'kubectl-'));
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const line = (identity: string, role: string) =>
      `FLYTE_AWS_SETUP_PROBE {"v":1,"identity":"${identity}","caller":"${session(role)}","sts":true,"put":true,"get":true,"delete":true,"key":"k","error":""}\n`;
    writeFileSync(join(logs, 'flyte.log'), line('flyte.flyte-backend-flyte-binary', 'flyte-system-role'));
    writeFileSync(
      join(logs, 'flytesnacks-development.log'),
      line('flytesnacks-development.default', 'flyte-eks-node-role'),
    );
    // fraud-development: no log (the Job never ran).
    standIn(join(dir, 'kubectl'), [
      `echo "$*" >> ${dir}/calls`,
      'ns=""; prev=""; for a in "$@"; do [ "$prev" = "-n" ] && ns="$a"; prev="$a"; done',
      'case "$1" in',
      '  version) echo "Client Version: v1.33.0";;',
      `  apply) cat > ${dir}/applied-$$.yaml;;`,
      '  delete) ;;',
      '  get) printf "1,";;',
      `  logs) if [ -f ${logs}/$ns.log ]; then cat ${logs}/$ns.log; else echo "no logs" >&2; exit 1; fi;;`,
      'esac',
    ]);
    const r = await runMain(['probe', '--config', configFile, '--offline', '--apply'], {
      PATH: `${dir}:${process.env.PATH}`,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✓ flyte/flyte-backend-flyte-binary: ran as flyte-system-role; put, get and delete worked',
    );
    expect(r.stdout).toContain("✗ flytesnacks-development/default: the pod got the node's role instead");
    expect(r.stdout).toContain('✗ fraud-development/default: the Job fraud-development/fas-probe-default-');
    const applied = readdirSync(dir).filter((f) => f.startsWith('applied-'));
    expect(applied).toHaveLength(3);
    const calls = readFileSync(join(dir, 'calls'), 'utf8');
    expect(calls).toMatch(/^apply -f -$/m);
    expect(calls).toMatch(/^delete job fas-probe-default-\w+ -n fraud-development --ignore-not-found --wait=true$/m);
  });

  it('--apply where kubectl cannot apply a Job: every identity gets its line, in order, and the run fails', async () => {
    const dir = mkdtempSync(join(home, 'kubectl-'));
    standIn(join(dir, 'kubectl'), [
      'case "$1" in',
      '  version) echo "Client Version: v1.33.0";;',
      '  apply) echo "error: the server could not be reached" >&2; exit 1;;',
      'esac',
    ]);
    const r = await runMain(['probe', '--config', configFile, '--offline', '--apply'], {
      PATH: `${dir}:${process.env.PATH}`,
    });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      '✗ flyte/flyte-backend-flyte-binary',
      '✗ flytesnacks-development/default',
      '✗ fraud-development/default',
    ]);
    for (const l of lines)
      expect(l).toMatch(/not run: kubectl apply of the Job for \S+ failed: error: the server could not be reached$/);
  });

  it('--apply without a working kubectl says so', async () => {
    const r = await runMain(['probe', '--config', configFile, '--offline', '--apply'], { PATH: join(home, 'none') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--apply needs a working kubectl');
  });
});
