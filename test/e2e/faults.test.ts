/**
 * Reliability end to end: the built CLI through a fault-injecting proxy in front of the emulator. Whatever
 * happens, the account ends in a known state, the output says what was done, and the next run finishes the job.
 * "The same end state as a clean run" is checked by comparing IAM snapshots.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { CreatePolicyVersionCommand } from '@aws-sdk/client-iam';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isMutatingOperation } from '../../src/aws/clients.js';
import { clients, createBucket, createCluster, readRole } from '../helpers/aws.js';
import { FAKE_KEYS, runCli, spawnCli, writeConfig, type CliRun } from '../helpers/cli.js';
import {
  everyNth,
  everyNthRequest,
  operation,
  startFaultProxy,
  type Fault,
  type FaultProxy,
  type FaultRule,
} from '../helpers/fault-proxy.js';
import { clearIam, iamSnapshot } from '../helpers/iam-state.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
tags: { team: mlplatform }
projectRoles:
  - project: fraud
`;
const POLICY_ARN = 'arn:aws:iam::123456789012:policy/flyte-custom-policy';
/** Retries pause at most this long here (the default is 20 s): the tests wait no longer than they must. */
const SHORT_PAUSES = { FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS: '20' };

describe.skipIf(skip !== undefined)('faults on the way to AWS', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let configFile: string;
  /** The IAM state after a clean run: what every faulty run must end in. */
  let clean: unknown;

  const through = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(['--config', configFile, '--yes', '--approve-broadening', ...args], {
      endpoint: proxy.url,
      env: { ...SHORT_PAUSES, ...env },
    });
  const useRules = (...rules: FaultRule[]) => {
    proxy.rules.splice(0, proxy.rules.length, ...rules);
  };

  beforeAll(async () => {
    moto = await acquireMoto();
    proxy = await startFaultProxy(moto.url);
    configFile = writeConfig(CONFIG);
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
    const run = await through([]);
    expect(run.code).toBe(0);
    clean = await iamSnapshot(moto.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    proxy.reset();
    // Not moto.reset(): it takes seconds to load the AWS managed policies again.
    await clearIam(moto.url);
  });
  afterEach(() => useRules());

  function expectFaults(fault: string) {
    expect(proxy.log.filter((c) => c.fault === fault).length).toBeGreaterThan(0);
  }

  // A steady share of requests fails, retries included, so a call can be hit again on its retry; with the default
  // attempts (10) every run completes. Each pattern runs from more than one offset; one run keeps the default
  // pauses too.
  it.each<[string, Fault, number, number, Record<string, string | undefined>]>([
    ['every 3rd request throttled', 'throttle', 3, 0, {}],
    ['every 3rd request throttled', 'throttle', 3, 1, {}],
    ['every 4th request answered 500', 'server-error', 4, 0, { FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS: undefined }],
    ['every 4th request answered 500', 'server-error', 4, 2, {}],
    ['every 4th request answered 500 after it did its work', 'server-error-after', 4, 1, {}],
    ['every 6th connection dropped', 'drop-before', 6, 0, {}],
    ['every 6th connection dropped after the request did its work', 'drop-after', 6, 3, {}],
  ])(
    '%s (%s, 1 in %i, offset %i): the run completes with the same end state as a clean run',
    async (_n, fault, n, offset, env) => {
      useRules({ fault, when: everyNthRequest(n, offset) });
      const run = await through([], env);
      const seen = JSON.stringify({ stdout: run.stdout.slice(-2000), stderr: run.stderr });
      expect(run.code, seen).toBe(0);
      expect(run.stderr).toBe('');
      expectFaults(fault);
      expect(proxy.log.some((c) => c.attempt > 1)).toBe(true);
      expect(await iamSnapshot(moto.url)).toEqual(clean);
    },
  );

  // What answers is not AWS (a proxy's page, an answer cut off, an answer without its result): a plain message
  // before any write that depends on it, never "Deserialization error", an internal error or a stack.
  it.each<[string, FaultRule, RegExp]>([
    [
      'GetCallerIdentity without an account ID',
      { fault: 'empty-result', when: operation('GetCallerIdentity') },
      /^error: AWS answered sts:GetCallerIdentity without an account ID \(through AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+\?\)$/m,
    ],
    [
      'a cut-off answer to GetCallerIdentity',
      { fault: 'garbled', when: operation('GetCallerIdentity') },
      /^error: AWS answered sts:GetCallerIdentity with XML that does not parse \(HTTP 200\) \(through AWS_ENDPOINT_URL=/m,
    ],
    [
      "a proxy's 502 page for every call",
      { fault: 'html-502', when: () => true },
      /^error: AWS answered (sts:GetCallerIdentity|eks:DescribeCluster on cluster acme-ml) with an HTML page \(HTTP 502, "502 Bad Gateway"\)/m,
    ],
    [
      "a portal's sign-in page (status 200) for every call",
      { fault: 'html-200', when: () => true },
      /^error: AWS answered (sts:GetCallerIdentity|eks:DescribeCluster on cluster acme-ml) with an HTML page \(HTTP 200, "Sign in to continue"\)/m,
    ],
    [
      // A first setup reads none of its roles (the listing, asked beside the caller, lacks them): the listing is it.
      "a sign-in page for the account's roles listed while planning",
      { fault: 'html-200', when: operation('ListRoles') },
      /^error: AWS answered iam:ListRoles on roles with an HTML page \(HTTP 200, "Sign in to continue"\)/m,
    ],
  ])('%s: a plain error, nothing written', async (_name, rule, message) => {
    useRules(rule);
    const run = await through([]);
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/a proxy, a firewall, a wrong endpoint/);
    expect(out).not.toMatch(/Deserialization|internal error|\n\s+at /);
    expect(run.mutating).toEqual([]);
  });

  it('a sign-in page for the roles a dry run reads (each of them): a plain error', async () => {
    useRules({ fault: 'html-200', when: operation('GetRole') });
    const run = await through(['--dry-run']);
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(1);
    expect(run.stderr).toMatch(
      /^error: AWS answered iam:GetRole on role flyte-[\w-]+ with an HTML page \(HTTP 200, "Sign in to continue"\)/m,
    );
    expect(out).not.toMatch(/Deserialization|internal error|\n\s+at /);
    expect(run.mutating).toEqual([]);
  });

  it('garbled answers to writes that took effect: read back, reported done, same end state', async () => {
    // Every answer to these writes is cut off, those of the SDK's retries too: only reading back tells.
    useRules(
      { fault: 'garbled', when: operation('CreateRole') },
      { fault: 'garbled', when: operation('CreatePolicy') },
      { fault: 'garbled', when: operation('AttachRolePolicy') },
    );
    const run = await through([]);
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(0);
    expect(proxy.log.filter((c) => c.fault === 'garbled').length).toBeGreaterThan(10);
    expect(out).toMatch(/✓ EKS cluster role: created/);
    expect(out).toMatch(/✓ S3 policy for the Flyte bucket: created/);
    // What AWS holds, as read back: every change, none guessed.
    expect(out).toMatch(/Setup complete: 7 resources created; AWS matches the config/);
    expect(await iamSnapshot(moto.url)).toEqual(clean);
  });

  it('a write answered by a 502 page that never reached AWS: reported not done, as read back; a re-run finishes', async () => {
    useRules({ fault: 'html-502', when: operation('CreatePolicy') });
    const run = await through([]);
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(1);
    expect(out).toContain(
      'AWS answered iam:CreatePolicy on policy flyte-custom-policy with an HTML page (HTTP 502, "502 Bad Gateway")',
    );
    expect(out).toMatch(/policy flyte-custom-policy: done nothing; still to do CreatePolicy/);
    expect(out).not.toMatch(/✓ S3 policy for the Flyte bucket/);
    const state = (await iamSnapshot(moto.url)) as { policies: unknown[] };
    expect(state.policies).toEqual([]);
    useRules();
    expect((await through([])).code).toBe(0);
    expect(await iamSnapshot(moto.url)).toEqual(clean);
  });

  it('lost answers to creates: a create retried after it worked is not an error, nothing is duplicated', async () => {
    useRules(
      { fault: 'drop-after', when: operation('CreateRole', 1) },
      { fault: 'drop-after', when: operation('CreatePolicy', 1) },
      { fault: 'drop-after', when: operation('CreateOpenIDConnectProvider', 1) },
      { fault: 'drop-after', when: operation('AttachRolePolicy', 2) },
    );
    const run = await through([]);
    expect(run.code).toBe(0);
    expect(proxy.log.filter((c) => c.fault === 'drop-after')).toHaveLength(4);
    expect(await iamSnapshot(moto.url)).toEqual(clean);
  });

  it('a lost answer to a new policy version does not leave a duplicate version', async () => {
    expect((await through([])).code).toBe(0);
    await clients(moto.url).iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: POLICY_ARN,
        SetAsDefault: true,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );
    useRules({ fault: 'drop-after', when: operation('CreatePolicyVersion', 1) });
    const run = await through([]);
    expect(run.code).toBe(0);
    expectFaults('drop-after');
    const snapshot = (await iamSnapshot(moto.url)) as { policies: { versions: number }[] };
    // v1 (the tool's), v2 (by hand), v3 (the tool's again): one new version, not two.
    expect(snapshot.policies[0]!.versions).toBe(3);
  });

  it('--max-attempts (and AWS_MAX_ATTEMPTS) bound the retries: with one attempt, the first throttle stops the run', async () => {
    useRules({ fault: 'throttle', when: everyNth(1) });
    const run = await through(['--max-attempts', '1']);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/AWS kept throttling (GetCallerIdentity|DescribeCluster)/);
    expect(run.stdout + run.stderr).toMatch(/--max-attempts/);
    expect(run.mutating).toEqual([]);
    // Only first attempts were throttled: with AWS_MAX_ATTEMPTS=2 each retry gets through.
    const env = await through([], { AWS_MAX_ATTEMPTS: '2' });
    expect(env.code).toBe(0);
    expect(proxy.log.some((c) => c.attempt === 2)).toBe(true);
    expect(await iamSnapshot(moto.url)).toEqual(clean);
  });

  it('AccessDenied on one operation: stops there, names the action and resource, lists what was done and what is left; a re-run finishes', async () => {
    // One at a time: the OIDC provider and the policy first (the roles wait for them), then the cluster role.
    useRules({ fault: 'access-denied', when: operation('CreateRole') });
    const run = await through(['--concurrency', '1']);
    expect(run.code).toBe(1);
    const out = run.stdout + run.stderr;
    expect(out).toContain('access denied: iam:CreateRole on role flyte-eks-cluster-role');
    expect(out).toContain('needs the IAM permission iam:CreateRole');
    expect(out).toMatch(/✓ S3 policy for the Flyte bucket: created/);
    expect(out).toMatch(/✓ OIDC identity provider: created/);
    expect(out).toMatch(/role flyte-eks-cluster-role: done nothing; still to do CreateRole, AttachRolePolicy/);
    expect(out).toMatch(/Flyte backend role: not run/);
    expect(out).toMatch(
      /Setup stopped: 2 resources created \(listed above\); not done: EKS cluster role, EKS node role, Flyte backend role, Flyte workers role, Project-domain roles/,
    );

    useRules();
    const rerun = await through([]);
    expect(rerun.code).toBe(0);
    expect(rerun.mutating.filter((c) => c.operation === 'CreateRole')).toHaveLength(5);
    expect(rerun.mutating.map((c) => c.operation)).not.toContain('CreatePolicy');
    expect(await iamSnapshot(moto.url)).toEqual(clean);
  });

  async function interruptMidway(signal: NodeJS.Signals): Promise<CliRun> {
    // The writes are held, one at a time: the signal comes while one is in flight.
    proxy.delayMs = 150;
    proxy.delayOnly = (call) => isMutatingOperation(call.operation);
    const running = spawnCli(['--config', configFile, '--yes', '--approve-broadening', '--concurrency', '1'], {
      endpoint: proxy.url,
    });
    // Wait for the first change, then interrupt.
    const deadline = Date.now() + 20_000;
    while (!running.calls().some((c) => c.mutating) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    running.child.kill(signal);
    const run = await running.done;
    proxy.delayMs = 0;
    delete proxy.delayOnly;
    return run;
  }

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s during apply: stops after the call in flight, reports what was done, exits %i; the re-run completes',
    async (signal, code) => {
      const run = await interruptMidway(signal);
      expect(run.code).toBe(code);
      const out = run.stdout + run.stderr;
      expect(out).toContain('stopping after the AWS calls in flight, once a role just created has its policies');
      expect(out).toMatch(/Interrupted: (\d+ resources? (created|changed)|nothing changed)/);
      expect(run.mutating.length).toBeGreaterThan(0);
      // Far fewer than a whole run's 14 changes.
      expect(run.mutating.length).toBeLessThan(14);
      const rerun = await through([]);
      expect(rerun.code).toBe(0);
      expect(rerun.mutating.length).toBe(14 - run.mutating.length);
      expect(await iamSnapshot(moto.url)).toEqual(clean);
    },
  );

  it('SIGINT while a CreateRole is in flight, with --yes alone: the role gets its policies, and the printed command finishes the job', async () => {
    // The tester's setup: no change that broadens access (the workers role in its own namespace), so --yes alone
    // applies it; the options that replace the config's and tune the run must be in the command printed.
    const narrow = writeConfig(`${CONFIG}workersRole: { allNamespaces: false }\n`);
    proxy.delayMs = 500;
    proxy.delayOnly = (call) => call.operation === 'CreateRole';
    const args = ['--config', narrow, '--cluster', 'acme-ml', '--yes', '--concurrency', '1', '--max-attempts', '3'];
    const running = spawnCli(args, { endpoint: proxy.url });
    const deadline = Date.now() + 20_000;
    while (!proxy.log.some((c) => c.operation === 'CreateRole') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    running.child.kill('SIGINT');
    const run = await running.done;
    proxy.delayMs = 0;
    delete proxy.delayOnly;
    expect(run.code).toBe(130);
    const ops = run.mutating.map((c) => c.operation);
    // One at a time: the OIDC provider and the policy first (the roles wait for them), then the cluster role. The
    // role whose creation was in flight has its policy; nothing else was begun.
    expect(ops).toEqual(['CreateOpenIDConnectProvider', 'CreatePolicy', 'CreateRole', 'AttachRolePolicy']);
    expect((await readRole(moto.url, 'flyte-eks-cluster-role'))!.attached).toEqual([
      'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy',
    ]);
    const out = run.stdout + run.stderr;
    expect(out).toContain('role flyte-eks-cluster-role: done CreateRole, AttachRolePolicy; still to do nothing');
    const printed = /it picks up where this run stopped: (flyte-aws-setup .*)$/m.exec(run.stdout)?.[1];
    expect(printed).toBe(`flyte-aws-setup --config ${narrow} --cluster acme-ml --max-attempts 3 --concurrency 1 --yes`);

    // The command printed (its words have nothing a shell would change), as the user would run it.
    const again = await runCli(printed!.split(' ').slice(1), { endpoint: proxy.url });
    expect(again.stdout + again.stderr).not.toContain('broaden');
    expect(again.code).toBe(0);
    // The rest of a whole run's 14 changes, nothing twice.
    expect(run.mutating.length + again.mutating.length).toBe(14);
    const after = await runCli(args, { endpoint: moto.url });
    expect(after.code).toBe(0);
    expect(after.mutating).toEqual([]);
  });

  it('two runs at once: both end well, the end state is right, nothing is duplicated', async () => {
    proxy.delayMs = 20;
    const a = spawnCli(['--config', configFile, '--yes', '--approve-broadening'], { endpoint: proxy.url });
    const b = spawnCli(['--config', configFile, '--yes', '--approve-broadening'], { endpoint: proxy.url });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    for (const r of [ra, rb]) {
      // Each ends well, or says clearly why it stopped.
      if (r.code !== 0) expect(r.stdout + r.stderr).toMatch(/run the same command again/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    expect([ra.code, rb.code]).toContain(0);
    const after = await runCli(['--config', configFile, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(after.mutating).toEqual([]);
    expect(await iamSnapshot(moto.url)).toEqual(clean);
  });
});

describe.skipIf(skip !== undefined)('credentials and where to find AWS', () => {
  let moto: Moto;
  let proxy: FaultProxy;
  let configFile: string;
  beforeAll(async () => {
    moto = await acquireMoto();
    proxy = await startFaultProxy(moto.url);
    configFile = writeConfig(CONFIG);
    await createCluster(moto.url, 'acme-ml');
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });

  const noStack = (r: CliRun) => expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);

  it('no credentials at all', async () => {
    const r = await runCli(['--config', configFile, '--dry-run'], { env: { AWS_ENDPOINT_URL: moto.url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no usable AWS credentials/);
    expect(r.stderr).toMatch(/aws configure|AWS_PROFILE/);
    expect(r.stderr).toMatch(/--dry-run --offline/);
    noStack(r);
  });

  it('expired credentials', async () => {
    proxy.rules.splice(0, proxy.rules.length, { fault: 'expired-token', when: () => true });
    const r = await runCli(['--config', configFile, '--dry-run'], { endpoint: proxy.url });
    proxy.rules.splice(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/AWS refused the credentials \(ExpiredToken(Exception)?\)/);
    expect(r.stderr).toMatch(/aws sso login/);
    noStack(r);
  });

  it('a profile that does not exist', async () => {
    const r = await runCli(['--config', configFile, '--dry-run', '--profile', 'nope'], {
      env: { AWS_ENDPOINT_URL: moto.url },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/profile/i);
    expect(r.stderr).toMatch(/nope/);
    noStack(r);
  });

  it('an SSO profile that needs aws sso login', async () => {
    const home = writeConfig(
      '[profile sso-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = eu-west-1\n\n' +
        '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n',
      'aws-config',
    );
    const r = await runCli(['--config', configFile, '--dry-run', '--profile', 'sso-dev'], {
      env: { AWS_ENDPOINT_URL: moto.url, AWS_CONFIG_FILE: home },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/aws sso login --profile sso-dev/);
    noStack(r);
  });

  // The first calls (STS, EKS) go out together: either may be the one that reports it.
  it("a profile whose credential_process fails: the profile's own error, not the chain's", async () => {
    const home = writeConfig(
      '[profile broken]\nregion = eu-west-1\ncredential_process = /bin/echo not-json\n\n' +
        '[profile orphan]\nregion = eu-west-1\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = gone\n',
      'aws-config',
    );
    for (const [profile, message] of [
      ['broken', /profile broken\) for \w+: Profile broken credential_process returned invalid JSON/],
      ['orphan', /profile orphan\) for \w+: .*profile: \[gone\]/],
    ] as const) {
      const r = await runCli(['--config', configFile, '--dry-run', '--profile', profile], {
        env: { AWS_ENDPOINT_URL: moto.url, AWS_CONFIG_FILE: home },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/from any providers/);
      noStack(r);
    }
  });

  it('a credential_process that fails: which profile, not its command or what it printed; a hint for its kind', async () => {
    const token = 'tok-3f9a61c2e8b04d7f9e2a5b6c1d0e7f8a';
    const dir = dirname(writeConfig('', 'placeholder'));
    const script = join(dir, 'get-aws-credentials.sh');
    writeFileSync(script, `#!/bin/sh\necho "refreshing session $2 failed: token=${token} expired" >&2\nexit 1\n`);
    chmodSync(script, 0o755);
    const command = `${script} --session sess-77e1c0a9b2d34f5e`;
    const home = writeConfig(
      `[profile leaky]\nregion = eu-west-1\ncredential_process = ${command}\n\n` +
        '[profile deploy]\nregion = eu-west-1\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = leaky\n',
      'aws-config',
    );
    for (const [profile, failed, variants] of [
      ['leaky', 'the credential_process of profile leaky failed', [[], ['--debug'], ['--json']]],
      ['deploy', 'the credential_process of profile leaky (the source of profile deploy) failed', [[]]],
    ] as const) {
      for (const extra of variants) {
        const r = await runCli(['--config', configFile, '--dry-run', '--profile', profile, ...extra], {
          env: { AWS_ENDPOINT_URL: moto.url, AWS_CONFIG_FILE: home },
        });
        const out = r.stdout + r.stderr;
        expect(r.code, out).toBe(1);
        expect(out).toContain(`no usable AWS credentials (profile ${profile}) for `);
        expect(out).toContain(failed);
        expect(out).toContain('`aws sts get-caller-identity --profile leaky` runs the same process');
        expect(out).not.toMatch(/aws sso login/);
        for (const secret of [token, 'sess-77e1c0a9b2d34f5e', script, 'get-aws-credentials', 'refreshing session']) {
          expect(out).not.toContain(secret);
        }
        if (extra.length === 0) noStack(r);
      }
    }
  });

  it('expired keys of a static profile: a hint about its keys, not aws sso login', async () => {
    const home = writeConfig(
      '[profile ci]\nregion = eu-west-1\naws_access_key_id = AKIAFAKEFAKEFAKE0002\n' +
        'aws_secret_access_key = fakeSecretKeyDoNotPrint/abcdef0123456789\n',
      'aws-config',
    );
    proxy.rules.splice(0, proxy.rules.length, { fault: 'expired-token', when: () => true });
    const r = await runCli(['--config', configFile, '--dry-run', '--profile', 'ci'], {
      env: { AWS_ENDPOINT_URL: proxy.url, AWS_CONFIG_FILE: home },
    });
    proxy.rules.splice(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/AWS refused the credentials \(ExpiredToken(Exception)?\)/);
    expect(r.stderr).toContain('check the access key of profile ci (aws configure --profile ci)');
    expect(r.stderr).not.toMatch(/sso/);
    noStack(r);
  });

  it('a region where EKS cannot be reached', async () => {
    const r = await runCli(['--config', configFile, '--dry-run'], {
      endpoint: moto.url,
      env: { AWS_ENDPOINT_URL_EKS: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not reach AWS for eks:DescribeCluster/);
    expect(r.stderr).toMatch(/region eu-west-1/);
    noStack(r);
  });

  it('a region from AWS_REGION that is not one is bad input, named, before any call', async () => {
    const file = writeConfig('cluster: acme-ml\nbucket: acme-flyte-data\n');
    const r = await runCli(['--config', file, '--dry-run'], { endpoint: moto.url, env: { AWS_REGION: 'garbage' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the region "garbage" (from AWS_REGION or the profile) must be an AWS region code');
    expect(r.calls).toEqual([]);
    noStack(r);
  });

  it('an endpoint that takes the connection and never answers: a timeout, not a hang', async () => {
    // A hung proxy: it accepts connections and says nothing.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const r = await runCli(['--config', configFile, '--dry-run', '--max-attempts', '2'], {
        endpoint: `http://127.0.0.1:${port}`,
        env: { FLYTE_AWS_SETUP_REQUEST_TIMEOUT: '1' },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /could not reach AWS for (sts:GetCallerIdentity|eks:DescribeCluster) in region eu-west-1: no answer within 1 s/,
      );
      noStack(r);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('--debug shows the stack, and no output ever holds the keys or the session token', async () => {
    const token = 'FQoGZXIvYXdzEFAKESESSIONTOKEN0123456789abcdefghij';
    proxy.rules.splice(0, proxy.rules.length, { fault: 'access-denied', when: operation('CreateRole', 2) });
    const r = await runCli(['--config', configFile, '--yes', '--approve-broadening', '--debug'], {
      endpoint: proxy.url,
      env: { AWS_SESSION_TOKEN: token },
    });
    proxy.rules.splice(0);
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toMatch(/aws iam:CreateRole/);
    expect(all).toMatch(/AccessDenied[\s\S]*\n\s+at /);
    for (const secret of [FAKE_KEYS.AWS_ACCESS_KEY_ID, FAKE_KEYS.AWS_SECRET_ACCESS_KEY, token]) {
      expect(all).not.toContain(secret);
    }
    const json = await runCli(['--config', configFile, '--yes', '--approve-broadening', '--json', '--debug'], {
      endpoint: proxy.url,
      env: { AWS_SESSION_TOKEN: token },
    });
    for (const secret of [FAKE_KEYS.AWS_ACCESS_KEY_ID, FAKE_KEYS.AWS_SECRET_ACCESS_KEY, token]) {
      expect(json.stdout + json.stderr).not.toContain(secret);
    }
  });
});
