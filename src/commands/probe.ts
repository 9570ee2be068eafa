/**
 * `flyte-aws-setup probe`: the in-cluster check. Writes one short-lived Kubernetes Job per Flyte identity (stdout,
 * or one file each in `--out`); with `--apply` and a working `kubectl`, runs them, waits, reads their logs and prints
 * a verdict per identity, including the pod that silently got the node's role. Changes nothing in AWS; with
 * `--apply` it creates the Jobs (Kubernetes deletes them `ttlSecondsAfterFinished` after they finish) and one object
 * per Job under the bucket's probe prefix, which the Job deletes again.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flyteIdentities } from '../access/identities.js';
import {
  probeJob,
  probeTargets,
  probeVerdict,
  type ProbeContext,
  type ProbeTarget,
  type ProbeVerdict,
} from '../access/probe.js';
import { ExitCode, UsageError, UserError } from '../errors.js';
import { yamlStream } from '../handoff/yaml.js';
import { partitionOfArn, partitionOfRegion } from '../policy/partition.js';
import { loadConfigAt, openAws, openOutput } from '../session/context.js';
import type { CliIo, ProbeCliOptions } from '../session/io.js';

/** How `kubectl` is run: its exit code and output. Tests hand in a stand-in. */
export type Kubectl = (args: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

export function processKubectl(env: NodeJS.ProcessEnv, command = 'kubectl'): Kubectl {
  return (args, input) =>
    new Promise((resolve) => {
      const child = spawn(command, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      if (input !== undefined) {
        // A kubectl that exits before reading it all is answered by its exit code, not by a broken pipe.
        child.stdin!.on('error', () => {});
        child.stdin!.end(input);
      }
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Apply one Job (replacing an earlier probe of the same name), wait until it ends, and read its log. */
async function runJob(
  kubectl: Kubectl,
  target: ProbeTarget,
  manifest: string,
  timeoutMs: number,
  pollMs: number,
): Promise<string | undefined> {
  const ns = ['-n', target.namespace];
  await kubectl(['delete', 'job', target.jobName, ...ns, '--ignore-not-found', '--wait=true']);
  const applied = await kubectl(['apply', '-f', '-'], manifest);
  if (applied.code !== 0)
    throw new UserError(`kubectl apply of the Job for ${target.id} failed: ${applied.stderr.trim()}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await kubectl([
      'get',
      'job',
      target.jobName,
      ...ns,
      '-o',
      'jsonpath={.status.succeeded},{.status.failed}',
    ]);
    const [succeeded, failed] = status.stdout.trim().split(',');
    if (Number(succeeded) > 0 || Number(failed) > 0) break;
    if (Date.now() > deadline) break;
    await sleep(pollMs);
  }
  const logs = await kubectl(['logs', `job/${target.jobName}`, ...ns]);
  return logs.code === 0 ? logs.stdout : undefined;
}

export async function runProbe(opts: ProbeCliOptions, io: CliIo, kubectl?: Kubectl): Promise<number> {
  const loaded = await loadConfigAt(opts);
  const config = loaded.config;
  const output = await openOutput(io, opts);
  let accountId = config.accountId;
  let partition = partitionOfRegion(config.region);
  let region = config.region;
  if (opts.offline) {
    if (accountId === undefined || region === undefined) {
      throw new UsageError(
        '--offline needs the account and the region in the config (accountId:, region:)',
        'add them to the config, or drop --offline to ask STS',
      );
    }
  } else {
    const aws = await openAws(config, opts, output);
    try {
      const me = await aws.gateway.callerIdentity();
      accountId = me.account;
      partition = partitionOfArn(me.arn) ?? partition;
      region = aws.gateway.region;
    } finally {
      aws.close();
    }
  }
  const ctx: ProbeContext = {
    partition,
    accountId: accountId!,
    region: region!,
    bucket: config.bucket,
    path: config.path,
  };
  const targets = probeTargets(flyteIdentities(config), ctx);
  if (targets.length === 0) {
    throw new UsageError(
      `the config has no Flyte identity whose pods run in the cluster (target ${config.target})`,
      "Union's role is run by Union's own service accounts: probe its task pods from Union",
    );
  }
  const options = { ...(opts.image !== undefined ? { image: opts.image } : {}) };
  const manifests = targets.map((t) => ({
    target: t,
    text: yamlStream(
      [probeJob(t, ctx, options)],
      [
        `flyte-aws-setup probe: ${t.id} should run as ${t.expectedRoleArn}`,
        `and put, get and delete one object under s3://${config.bucket}/flyte-aws-setup-probe/.`,
        `kubectl apply -f FILE; kubectl logs -n ${t.namespace} job/${t.jobName}`,
      ],
    ),
  }));

  if (!opts.apply) {
    if (opts.out !== undefined) {
      await mkdir(opts.out, { recursive: true });
      for (const m of manifests) {
        const path = join(opts.out, `${m.target.jobName}.yaml`);
        await writeFile(path, m.text);
        output.err(`wrote ${path}  (${m.target.id})`);
      }
    } else {
      output.out(manifests.map((m) => m.text).join('---\n'));
    }
    return ExitCode.Success;
  }

  const run = kubectl ?? processKubectl(io.env);
  const version = await run(['version', '--client=true']);
  if (version.code !== 0) {
    throw new UserError(`--apply needs a working kubectl: ${version.stderr.trim() || 'kubectl version failed'}`, {
      hint: 'install kubectl and point it at the cluster (aws eks update-kubeconfig --name CLUSTER), or drop --apply and apply the manifests yourself',
    });
  }
  const nodeRoles = config.nodeRole !== false ? [config.nodeRole.name] : [];
  const timeoutMs = (opts.timeout ?? 300) * 1000;
  output.progress.start(`Running ${targets.length} probe Job(s) in the cluster`);
  let verdicts: ProbeVerdict[];
  try {
    // Every Job is tried, whatever another's fate: each identity gets its line, in the manifests' order.
    const settled = await Promise.allSettled(
      manifests.map(async (m) => {
        const log = await runJob(run, m.target, m.text, timeoutMs, 2000);
        return probeVerdict(m.target, log, nodeRoles);
      }),
    );
    verdicts = settled.map((s, i): ProbeVerdict => {
      if (s.status === 'fulfilled') return s.value;
      const reason = s.reason as Error;
      if (!(reason instanceof UserError)) throw reason;
      return { id: manifests[i]!.target.id, kind: 'no-verdict', ok: false, message: `not run: ${reason.message}` };
    });
  } finally {
    output.progress.clear();
  }
  const { style } = output;
  for (const v of verdicts) output.out(`${v.ok ? style.ok('✓') : style.error('✗')} ${v.id}: ${v.message}`);
  return verdicts.every((v) => v.ok) ? ExitCode.Success : ExitCode.Failure;
}
