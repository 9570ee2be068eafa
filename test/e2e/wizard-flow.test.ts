/**
 * The wizard's flow in-process against a local AWS (moto): a scripted prompter answers (and fails the test on any
 * question the script does not expect), the engine changes the emulator, and the tests read IAM and the saved
 * config back.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAwsClients, destroyAwsClients, type CallRecorder } from '../../src/aws/clients.js';
import { AwsGateway } from '../../src/aws/gateway.js';
import { loadConfigFile } from '../../src/load/config.js';
import { makePlan } from '../../src/engine/engine.js';
import { planSteps } from '../../src/model.js';
import type { Progress } from '../../src/render/progress.js';
import { plainStyle } from '../../src/render/style.js';
import { runWizard, type WizardDeps } from '../../src/wizard/wizard.js';
import {
  ACCOUNT,
  clients,
  createBucket,
  createCluster,
  createVpc,
  readRole,
  readVpcDns,
  POLICY_ARN,
} from '../helpers/aws.js';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { AwsCallError } from '../../src/aws/errors.js';
import { FAKE_KEYS, runCli } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { ENTER, scriptedPrompter, walkStart, type ScriptStep } from '../helpers/script-prompter.js';

const skip = motoSkipReason();

const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';

/** Pressing Enter at every question but the bucket (which has no default). */
const START: ScriptStep[] = walkStart();

const FIRST_FIVE: ScriptStep[] = [
  { confirm: /Create the EKS cluster role\?/, answer: ENTER },
  { confirm: /Create the EKS node role\?/, answer: ENTER },
  { confirm: /Create the OIDC identity provider\?/, answer: ENTER },
  { confirm: /Create the S3 policy for the Flyte bucket\?/, answer: ENTER },
  { confirm: /Create the Flyte backend role\?/, answer: ENTER },
];

const NO_PROJECT: ScriptStep[] = [{ confirm: /Add a project with its own role/, answer: ENTER }];

/** The cluster role of a cluster made as the Flyte guide makes it. */
const CLUSTER_ROLE = 'flyte-eks-cluster-role';

describe.skipIf(skip !== undefined)('the wizard against the emulator', () => {
  let moto: Moto;
  let cwd: string;
  let host: string;

  const savedEnv = { ...process.env };

  beforeAll(async () => {
    moto = await acquireMoto();
    // The SDK in this process talks to the emulator, with fake keys and no machine settings (put back after).
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.url,
      ...FAKE_KEYS,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(tmpdir(), 'no-such-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'no-such-aws-credentials'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    process.env = savedEnv;
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    // The bucket the answers name (the plan looks it up, and warns when it is not there).
    await createBucket(moto.url, 'acme-flyte-data');
    cwd = mkdtempSync(join(tmpdir(), 'fas-wizard-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  /** An EKS cluster in the emulator that runs with the guide's cluster role (which the walk creates). */
  const flyteCluster = (name: string, region = 'eu-west-1', subnetIds: string[] = [], role = CLUSTER_ROLE) =>
    createCluster(moto.url, name, region, subnetIds, role);

  function harness(
    script: ScriptStep[],
    overrides: Partial<WizardDeps> & { onProgress?: (text: string) => void } = {},
  ) {
    const said: string[] = [];
    const printed: string[] = [];
    const spinner: string[] = [];
    const recorders: CallRecorder[] = [];
    const controller = new AbortController();
    const prompter = scriptedPrompter(script);
    const { onProgress, ...rest } = overrides;
    const progress: Progress = {
      start: (t) => void (spinner.push(t), onProgress?.(t)),
      update: (t) => void (spinner.push(t), onProgress?.(t)),
      clear: () => {},
      log: (l) => void said.push(l),
    };
    const deps: WizardDeps = {
      prompter,
      say: (l) => void said.push(l),
      out: (l) => void printed.push(l),
      style: plainStyle,
      outStyle: plainStyle,
      progress,
      async connect(region, profile) {
        const clients = await createAwsClients({ region, ...(profile !== undefined ? { profile } : {}) });
        recorders.push(clients.recorder);
        return { gateway: new AwsGateway(clients), close: () => destroyAwsClients(clients) };
      },
      defaultRegion: async () => 'eu-west-1',
      profiles: () => [],
      cwd,
      signal: controller.signal,
      flags: {},
      timing: { clusterWait: { initialDelayMs: 50, maxDelayMs: 100 } },
      ...rest,
    };
    return {
      deps,
      said,
      printed,
      spinner,
      prompter,
      controller,
      mutating: () => recorders.flatMap((r) => r.calls.filter((c) => c.mutating)),
      run: () => runWizard(deps),
    };
  }

  /** The plan of a saved config against the emulator: what a `--config FILE --yes` run would change. */
  async function stepsLeft(file: string): Promise<number> {
    const { config } = await loadConfigFile(file);
    const clients = await createAwsClients({ region: config.region! });
    try {
      return planSteps(await makePlan(config, new AwsGateway(clients))).length;
    } finally {
      destroyAwsClients(clients);
    }
  }

  it('the full walk with the defaults and one project: IAM as the documents say, a config that repeats it', async () => {
    host = (await flyteCluster('acme-ml')).replace('https://', '');
    const h = harness([
      START[0]!,
      START[1]!,
      START[2]!,
      START[3]!,
      {
        input: /S3 bucket/,
        answer: 'acme-flyte-data',
        rejected: [
          { answer: 'Bad_Bucket', error: /^may only hold lower-case letters, digits, dots and hyphens/ },
          { answer: 'ab', error: /^must be 3 to 63 characters, not 2/ },
        ],
      },
      ...START.slice(5),
      ...FIRST_FIVE,
      { confirm: /Add a project with its own role/, answer: true },
      {
        input: /Project name/,
        answer: 'fraud',
        rejected: [
          { answer: 'Fraud', error: /^must be a DNS label/ },
          { answer: '', error: /^a project name is required$/ },
        ],
      },
      { checkbox: /Domains of fraud/, answer: ENTER },
      {
        input: /Extra managed policy ARNs/,
        answer: ATHENA,
        rejected: [{ answer: 'AmazonAthenaFullAccess', error: /must be a managed policy ARN/ }],
      },
      { confirm: /Add another project/, answer: ENTER },
      { select: /The workers role trusts/, answer: ENTER },
      { confirm: /Create the Flyte workers role\?/, answer: true },
      { confirm: /Create the project-domain roles\?/, answer: ENTER },
      { input: /Save the config as/, answer: ENTER },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    // The workers role trusts every namespace's default service account, which broadens access: Enter would have
    // declined it (a yes is typed); the others are created on Enter.
    const defaults = (m: RegExp) => h.prompter.asked.find((a) => a.kind === 'confirm' && m.test(a.message))!.default;
    expect(defaults(/Create the Flyte workers role\?/)).toBe(false);
    expect(defaults(/Create the Flyte backend role\?/)).toBe(true);
    // The seven sections, then the cluster VPC's DNS check: the emulator's cluster names no VPC, so nothing to do.
    // Global access is not offered: there is no <prefix>-userflyterole role.
    expect(outcome.results.map((r) => r.outcome)).toEqual([...Array(7).fill('created'), 'unchanged']);

    // Who and where were shown before anything else.
    expect(h.said).toContain(`  Account    ${ACCOUNT}`);
    expect(h.said.some((l) => /Caller +arn:aws:sts::/.test(l))).toBe(true);
    expect(h.said).toContain('  Partition  aws');
    // Each section explained, planned and checked with its ARN.
    expect(h.said.some((l) => l.includes('AmazonEKSClusterPolicy. It must exist before the'))).toBe(true);
    expect(h.said).toContain('   [+] role flyte-eks-cluster-role');
    expect(h.said).toContain(`✓ EKS cluster role: created  arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`);
    // The broad choice is marked, the default explained.
    const trust = h.prompter.asked.find((a) => a.message === 'The workers role trusts')!;
    expect(trust.choices![0]).toMatch(/Every namespace \(\*:default\).*\(!\) broad/);
    // The project with its own role takes that role: its namespaces are not offered for the workers role.
    expect(trust.choices).toContain('The Flyte namespace and a list of namespaces you type');
    expect(trust.choices!.join('\n')).not.toContain('fraud-');
    expect(trust.answer).toBe('all');
    expect(h.said.join('\n')).toMatch(/Suggested: every namespace\. Flyte makes <project>-<domain> namespaces/);

    const workers = await readRole(moto.url, 'flyte-workers-role');
    expect(workers!.trust.Statement[0]!.Condition).toEqual({
      StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com' },
      StringLike: { [`${host}:sub`]: 'system:serviceaccount:*:default' },
    });
    const fraud = await readRole(moto.url, 'flyte-fraud-role');
    expect(fraud!.attached).toEqual([ATHENA, POLICY_ARN].sort());
    expect(fraud!.trust.Statement[0]!.Condition!.StringEquals![`${host}:sub`]).toEqual([
      'system:serviceaccount:fraud-development:default',
      'system:serviceaccount:fraud-staging:default',
      'system:serviceaccount:fraud-production:default',
    ]);
    expect((await readRole(moto.url, 'flyte-system-role'))!.attached).toEqual([POLICY_ARN]);

    const file = join(cwd, 'flyte-aws-setup.yaml');
    expect(outcome.configFile).toBe(file);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# flyte-aws-setup config, saved by the wizard/);
    expect(text).toContain('npx flyte-aws-setup --config flyte-aws-setup.yaml --yes');
    expect(parse(text)).toEqual({
      region: 'eu-west-1',
      accountId: ACCOUNT,
      cluster: 'acme-ml',
      bucket: 'acme-flyte-data',
      namespace: 'flyte',
      clusterRole: { name: 'flyte-eks-cluster-role' },
      nodeRole: { name: 'flyte-eks-node-role' },
      oidcProvider: true,
      customPolicy: { name: 'flyte-custom-policy' },
      systemRole: { name: 'flyte-system-role', serviceAccount: 'flyte-backend-flyte-binary' },
      workersRole: { name: 'flyte-workers-role', serviceAccount: 'default', allNamespaces: true },
      projectRoles: [{ project: 'fraud', domains: ['development', 'staging', 'production'], extraPolicies: [ATHENA] }],
    });
    expect(await stepsLeft(file)).toBe(0);

    // The summary: the saved file, the command that repeats it, the next step.
    const summary = h.printed.join('\n');
    expect(summary).toContain('Config saved: flyte-aws-setup.yaml');
    expect(summary).toContain('npx flyte-aws-setup --config flyte-aws-setup.yaml --yes');
    // As at the end of an apply: what IAM now decides for each Flyte identity, every need allowed.
    expect(summary).toContain('Access, as IAM evaluates the policies AWS holds:');
    expect(summary).toMatch(/fraud-production\/default\s+flyte-fraud-role\s+✓/);
    // No identity's row holds a refusal (the legend below the matrix names the ✗ mark).
    expect(summary).not.toMatch(/^\s+\S+\/\S+\s+flyte-\S+-role\s.*✗/m);
    // The hand-off files for Flyte are written with the ARNs, and the next command names them.
    expect(summary).toMatch(/Hand-off files in .*flyte-aws-setup-out/);
    expect(summary).toMatch(
      /helm install flyte-backend flyteorg\/flyte-binary --version v1\.16\.8 --namespace flyte .*flyte-binary-values\.yaml/,
    );
    const values = readFileSync(join(cwd, 'flyte-aws-setup-out', 'flyte-binary-values.yaml'), 'utf8');
    expect(values).toContain(`arn:aws:iam::${ACCOUNT}:role/flyte-system-role`);
    expect(values).toContain(`arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`);
  });

  it('the narrow trust choices map to the config keys, and flags skip their questions', async () => {
    host = (await flyteCluster('acme-ml')).replace('https://', '');
    const h = harness(
      [
        START[0]!,
        // No cluster, bucket or namespace question: the flags answered them. Which chart installs Flyte is asked,
        // and how the pods get their roles.
        START[2]!,
        START[3]!,
        { confirm: /Use these names/, answer: ENTER },
        { input: /^Tags/, answer: 'team=ml, cost-center=42' },
        { input: /Permissions boundary/, answer: 'arn:aws:iam::aws:policy/PowerUserAccess' },
        ...FIRST_FIVE.map((s) => ({ ...s, confirm: /Create the/ })),
        { confirm: /Add a project with its own role/, answer: true },
        { input: /Project name/, answer: 'fraud' },
        { checkbox: /Domains of fraud/, answer: ['development'] },
        { input: /Extra managed policy ARNs/, answer: ENTER },
        { confirm: /Add another project/, answer: ENTER },
        { select: /The workers role trusts/, pick: /^The Flyte namespace and a list/ },
        { input: /^Namespaces whose task pods use the workers role/, answer: 'ml-development, fraud-development' },
        { confirm: /^Keep fraud-development in the workers role's list anyway\?/, answer: ENTER },
        { confirm: /Create the Flyte workers role\?/, answer: true },
        { confirm: /Create the project-domain roles\?/, answer: ENTER },
        {
          input: /Save the config as/,
          answer: 'ml/flyte.yaml',
          rejected: [
            { answer: 'flyte.txt', error: /must end in \.yaml, \.yml or \.json/ },
            { answer: 'nowhere/flyte.yaml', error: /^there is no directory .*nowhere$/ },
          ],
        },
      ],
      { flags: { region: 'eu-west-1', cluster: 'acme-ml', bucket: 'acme-flyte-data', namespace: 'flyte-prod' } },
    );
    mkdirSync(join(cwd, 'ml'));
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    expect(h.prompter.asked[0]!.choices).toEqual(['Yes, continue', 'Use another AWS profile', 'No, stop here']);

    const workers = await readRole(moto.url, 'flyte-workers-role');
    expect(workers!.trust.Statement[0]!.Condition).toEqual({
      StringEquals: {
        [`${host}:aud`]: 'sts.amazonaws.com',
        [`${host}:sub`]: ['system:serviceaccount:flyte-prod:default', 'system:serviceaccount:ml-development:default'],
      },
    });
    expect(workers!.boundary).toBe('arn:aws:iam::aws:policy/PowerUserAccess');
    expect(workers!.tags).toEqual({
      team: 'ml',
      'cost-center': '42',
      'managed-by': 'flyte-aws-setup',
      'flyte-aws-setup:setup': 'acme-ml',
      'flyte-aws-setup:attached': 'flyte-custom-policy',
    });
    const saved = parse(readFileSync(join(cwd, 'ml/flyte.yaml'), 'utf8')) as Record<string, unknown>;
    expect(saved.workersRole).toEqual({
      name: 'flyte-workers-role',
      serviceAccount: 'default',
      allNamespaces: false,
      namespaces: ['ml-development'],
    });
    expect(saved).toMatchObject({
      namespace: 'flyte-prod',
      tags: { team: 'ml', 'cost-center': '42' },
      permissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess',
    });
    expect(await stepsLeft(join(cwd, 'ml/flyte.yaml'))).toBe(0);
  });

  it("Union and the VPC: global access offered for a *-userflyterole role, the VPC's DNS turned on when agreed", async () => {
    const { iam } = clients(moto.url);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'acme-userflyterole',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
        Tags: [{ Key: 'owner', Value: 'union' }],
      }),
    );
    const vpc = await createVpc(moto.url, { hostnames: false, support: true });
    await flyteCluster('acme-ml', 'eu-west-1', vpc.subnetIds);
    const h = harness([
      ...START,
      ...FIRST_FIVE,
      ...NO_PROJECT,
      { select: /The workers role trusts/, answer: ENTER },
      { confirm: /Create the Flyte workers role\?/, answer: true },
      { select: /Attach the bucket policy to every Union task/, pick: /^Yes, to acme-userflyterole/ },
      { confirm: /Apply these changes to the Union global access\?/, answer: true },
      { confirm: /Turn enableDnsHostnames on now\?/, answer: ENTER },
      { confirm: /Apply these changes to the cluster VPC DNS\?/, answer: ENTER },
      { input: /Save the config as/, answer: ENTER },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    // Global access: No is the default, and the broad choice is marked.
    const offer = h.prompter.asked.find((a) => /every Union task/.test(a.message))!;
    expect(offer.default).toMatch(/no-global-access/);
    expect(offer.choices!.join('\n')).toMatch(/\(!\) every task of every project gets it/);
    const role = await readRole(moto.url, 'acme-userflyterole');
    expect(role).toMatchObject({ attached: [POLICY_ARN], tags: { owner: 'union' } });
    expect(await readVpcDns(moto.url, vpc.vpcId)).toEqual({ enableDnsSupport: true, enableDnsHostnames: true });
    const saved = parse(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ globalAccess: { role: 'acme-userflyterole' }, vpcDns: 'fix' });
    expect(await stepsLeft(join(cwd, 'flyte-aws-setup.yaml'))).toBe(0);
  });

  it('a hand-off file changed by hand is replaced only when the user says so (the default keeps it, exit 4)', async () => {
    await flyteCluster('acme-ml');
    const values = join(cwd, 'flyte-aws-setup-out', 'flyte-binary-values.yaml');
    mkdirSync(join(cwd, 'flyte-aws-setup-out'));
    writeFileSync(values, '# my own edits\n');
    const h = harness([
      ...START,
      ...FIRST_FIVE,
      ...NO_PROJECT,
      { select: /The workers role trusts/, answer: ENTER },
      { confirm: /Create the Flyte workers role\?/, answer: true },
      { input: /Save the config as/, answer: ENTER },
      { confirm: /flyte-binary-values\.yaml differs from what would be written now\. Replace it\?/, answer: ENTER },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(4);
    expect(readFileSync(values, 'utf8')).toBe('# my own edits\n');
    expect(h.printed.join('\n')).toMatch(/KEPT +.*flyte-binary-values\.yaml/);
    // The files that were not there are written.
    expect(existsSync(join(cwd, 'flyte-aws-setup-out', 'service-accounts.yaml'))).toBe(true);
  });

  it('without the right to list clusters, the cluster name is asked', async () => {
    await flyteCluster('acme-ml');
    const h = harness(
      [
        START[0]!,
        { input: /EKS cluster name \(an existing one, or the one you will create\)/, answer: 'acme-ml' },
        // The point is the question about the cluster: stop at the next one.
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { interrupt: /S3 bucket/ },
      ],
      {
        async connect(region, profile) {
          const clients = await createAwsClients({ region, ...(profile !== undefined ? { profile } : {}) });
          const gateway = new AwsGateway(clients);
          gateway.listClusters = async () => {
            throw new AwsCallError('access denied: eks:ListClusters', 'AccessDeniedException', {
              service: 'eks',
              operation: 'ListClusters',
            });
          };
          return { gateway, close: () => destroyAwsClients(clients) };
        },
      },
    );
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    expect(h.said.join('\n')).toMatch(/The EKS clusters cannot be listed \(access denied: eks:ListClusters\)/);
  });

  it('a mistyped --cluster: the clusters of the region, a did-you-mean, the name asked again', async () => {
    await flyteCluster('acme-ml');
    await flyteCluster('other-team');
    const h = harness(
      [
        START[0]!,
        { select: /^EKS cluster for Flyte \(in eu-west-1\)/, answer: ENTER },
        // The point is the cluster: stop at the next question.
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { interrupt: /S3 bucket/ },
      ],
      { flags: { cluster: 'acme-m1' } },
    );
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    expect(h.said).toContain(
      'There is no EKS cluster acme-m1 in region eu-west-1. The clusters there: acme-ml, other-team. Did you mean acme-ml?',
    );
    const asked = h.prompter.asked[1]!;
    expect(asked.default).toBe('acme-ml');
    expect(asked.choices).toEqual([
      'acme-ml',
      'other-team',
      'acme-m1: not created yet (only the cluster and node roles can be done now)',
      'Use another region (not eu-west-1)',
    ]);
    // Nothing suggests creating acme-m1.
    expect(h.said.join('\n')).not.toContain('create-cluster');
  });

  it('a cluster of another region: no close name, so another region is the default; there it is found', async () => {
    await flyteCluster('acme-ml', 'eu-west-1');
    await flyteCluster('central-ml', 'eu-central-1');
    const h = harness(
      [
        START[0]!,
        { select: /^EKS cluster for Flyte \(in eu-central-1\)/, answer: ENTER },
        {
          input: /^AWS region/,
          answer: 'eu-west-1',
          rejected: [{ answer: 'eu-west', error: /must be an AWS region code such as eu-west-1/ }],
        },
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { interrupt: /S3 bucket/ },
      ],
      { flags: { cluster: 'acme-ml' }, defaultRegion: async () => 'eu-central-1' },
    );
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    expect(h.said).toContain('There is no EKS cluster acme-ml in region eu-central-1. The clusters there: central-ml.');
    expect(h.prompter.asked[1]!.default).toBe('\0another-region');
    expect(h.said).toContain('EKS cluster: acme-ml (--cluster)');
    expect(h.said.filter((l) => l.startsWith('  Region '))).toEqual([
      '  Region     eu-central-1',
      '  Region     eu-west-1',
    ]);
  });

  it('"not created yet" with the name of a cluster that exists, nearly: the existing one is offered', async () => {
    await flyteCluster('acme-ml');
    const h = harness([
      START[0]!,
      { select: /^EKS cluster for Flyte/, pick: /^Not created yet/ },
      { input: /Name of the EKS cluster you will create/, answer: 'acme-m1' },
      {
        confirm: /^acme-ml is a cluster of eu-west-1 already\. Use acme-ml rather than a new acme-m1\?/,
        answer: ENTER,
      },
      { select: /Which will install Flyte/, answer: ENTER },
      { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
      { input: /S3 bucket/, answer: 'acme-flyte-data' },
      { interrupt: /namespace/ },
    ]);
    expect((await h.run()).exitCode).toBe(130);
    h.prompter.expectDone();
  });

  it('a region EKS cannot be reached in: said plainly, and the region asked again (not an SDK error)', async () => {
    await flyteCluster('acme-ml');
    const h = harness(
      [
        START[0]!,
        { select: /^What now\?/, answer: ENTER },
        { input: /^AWS region/, answer: 'eu-west-1' },
        { select: /^EKS cluster for Flyte \(in eu-west-1\)/, answer: ENTER },
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { interrupt: /S3 bucket/ },
      ],
      { defaultRegion: async () => 'eu-wset-1' },
    );
    // The emulator answers a region it does not know with server errors, which are retried: shorter pauses between
    // the attempts (the same number of them) keep the test quick.
    process.env.FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS = '50';
    const outcome = await h.run().finally(() => delete process.env.FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS);
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    const text = h.said.join('\n');
    expect(text).toMatch(/error: EKS in eu-wset-1 cannot be reached: /);
    expect(text).not.toMatch(/Deserialization|\$response/);
    expect(h.prompter.asked[1]!.choices).toEqual(['Use another region', 'Try again', 'No, stop here']);
  });

  it('a region from the environment that is no region code is asked for', async () => {
    const h = harness(
      [
        { input: /^AWS region/, answer: 'eu-west-1' },
        { select: /Set up Flyte in this account and region/, answer: ENTER },
        { interrupt: /Name of the EKS cluster you will create/ },
      ],
      { defaultRegion: async () => 'europe' },
    );
    expect((await h.run()).exitCode).toBe(130);
    h.prompter.expectDone();
    expect(h.said).toContain(
      'The region "europe" (from AWS_REGION or the AWS config) must be an AWS region code such as eu-west-1.',
    );
  });

  it('who and where: another region, a profile that does not work, then the default credential chain', async () => {
    const h = harness(
      [
        { select: /Set up Flyte in this account and region/, pick: /^Use another region/ },
        {
          input: /^AWS region/,
          answer: 'eu-central-1',
          rejected: [{ answer: 'europe', error: /^must be an AWS region code such as eu-west-1/ }],
        },
        { select: /Set up Flyte in this account and region/, pick: /^Use another AWS profile/ },
        { select: /^AWS profile/, answer: 'admin' },
        { select: /^What now\?/, pick: /^Use another AWS profile/ },
        { select: /^AWS profile/, pick: /default credential chain/ },
        { select: /Set up Flyte in this account and region/, answer: ENTER },
        { input: /Name of the EKS cluster you will create/, answer: 'central' },
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { interrupt: /S3 bucket/ },
      ],
      { profiles: () => ['default', 'admin'] },
    );
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    // Shown for each identity that answered: the first region, the second, the second with the default chain.
    expect(h.said.filter((l) => l.startsWith('  Region '))).toEqual([
      '  Region     eu-west-1',
      '  Region     eu-central-1',
      '  Region     eu-central-1',
    ]);
    // The profile is offered (from the test's list) but is in no AWS config file: the tool says so.
    expect(h.said.join('\n')).toMatch(
      /error: the AWS profile "admin" does not exist in the AWS config or credentials file \(profile admin, region eu-central-1\)/,
    );
    expect(h.prompter.asked.find((a) => a.message === 'What now?')!.choices![0]).toBe('Try again');
    expect(h.said).toContain('  Profile    (none: the default credential chain)');
  });

  it('a skipped section is left out of AWS and of the saved config; an existing file is not replaced', async () => {
    await flyteCluster('acme-ml');
    writeFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'keep: me\n');
    const h = harness([
      ...START,
      { confirm: /Create the EKS cluster role\?/, answer: ENTER },
      { confirm: /Create the EKS node role\?/, answer: false },
      ...FIRST_FIVE.slice(2),
      ...NO_PROJECT,
      { select: /The workers role trusts/, pick: /Only the Flyte namespace/ },
      { confirm: /Create the Flyte workers role\?/, answer: true },
      { input: /Save the config as/, answer: ENTER },
      { confirm: /flyte-aws-setup\.yaml exists\. Replace it\?/, answer: ENTER },
      { input: /Save the config as/, answer: ENTER },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    expect(h.prompter.asked.at(-1)!.default).toBe('flyte-aws-setup-2.yaml');
    expect(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8')).toBe('keep: me\n');
    expect(await readRole(moto.url, 'flyte-eks-node-role')).toBeUndefined();
    const saved = parse(readFileSync(join(cwd, 'flyte-aws-setup-2.yaml'), 'utf8')) as Record<string, unknown>;
    expect(saved.nodeRole).toBe(false);
    expect(saved.workersRole).toMatchObject({ allNamespaces: false });
    expect(saved).not.toHaveProperty('projectRoles');
    expect(h.said).toContain('Skipped; the saved config says nodeRole: false (change it there to do it later).');
    expect(await stepsLeft(join(cwd, 'flyte-aws-setup-2.yaml'))).toBe(0);
  });

  it('a cluster that runs with another role: said, and a new cluster role is not made by default', async () => {
    await flyteCluster('acme-ml', 'eu-west-1', [], 'eks-prod-role');
    const h = harness([
      ...START,
      { confirm: /Create the EKS cluster role\?/, answer: ENTER },
      { confirm: /Create the EKS node role\?/, answer: ENTER },
      { interrupt: /Create the OIDC identity provider/ },
    ]);
    expect((await h.run()).exitCode).toBe(130);
    h.prompter.expectDone();
    expect(h.said).toContain(
      `The EKS cluster acme-ml exists and runs with another role: arn:aws:iam::${ACCOUNT}:role/eks-prod-role. A ` +
        'cluster keeps the role it was created with, so a new flyte-eks-cluster-role would not be used by it; make ' +
        'it only for another cluster you will create.',
    );
    expect(h.prompter.asked.find((a) => /Create the EKS cluster role/.test(a.message))!.default).toBe(false);
    expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();
    expect(h.said).toContain('Skipped; the saved config says clusterRole: false (change it there to do it later).');
    // The node role's question is not changed by it.
    expect(h.prompter.asked.find((a) => /Create the EKS node role/.test(a.message))!.default).toBe(true);
  });

  it('declining the OIDC provider: the IRSA roles that need it are named at once', async () => {
    await flyteCluster('acme-ml');
    const h = harness([
      ...START,
      ...FIRST_FIVE.slice(0, 2),
      { confirm: /Create the OIDC identity provider\?/, answer: false },
      { interrupt: /Create the S3 policy/ },
    ]);
    expect((await h.run()).exitCode).toBe(130);
    h.prompter.expectDone();
    const text = h.said.join('\n');
    expect(text).toContain(
      'Skipped; the saved config says oidcProvider: false (change it there to do it later).\n' +
        'Without the OIDC provider, pods cannot assume the IRSA roles that come next (the Flyte backend role, the ' +
        "workers role, the project-domain roles): their trust names this provider, and IAM refuses a role's trust in " +
        'a provider that does not exist, so those sections would fail.',
    );
  });

  it('a cluster not created yet: the cluster and node roles, how to create it, then waits for it', async () => {
    await flyteCluster('other-team');
    let created: Promise<string> | undefined;
    const h = harness([
      START[0]!,
      { select: /EKS cluster for Flyte/, pick: /^Not created yet/ },
      { input: /Name of the EKS cluster you will create/, answer: 'later-ml' },
      // The region's other cluster is not one of Flyte's: none (the default).
      { checkbox: /^Other clusters of eu-west-1 whose pods assume the same roles/, answer: ENTER },
      ...START.slice(2),
      ...FIRST_FIVE.slice(0, 2),
      { select: /Wait for the cluster/, answer: ENTER },
      {
        input: /Save the config as/,
        answer: ENTER,
        // Someone creates the cluster while the wizard waits.
        then: () => {
          created = new Promise((resolve) => setTimeout(resolve, 300)).then(() => flyteCluster('later-ml'));
        },
      },
      ...FIRST_FIVE.slice(2),
      ...NO_PROJECT,
      { select: /The workers role trusts/, answer: ENTER },
      { confirm: /Create the Flyte workers role\?/, answer: true },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    await created;
    expect(outcome.exitCode).toBe(0);
    const text = h.said.join('\n');
    expect(text).toContain(
      `aws eks create-cluster --name later-ml --region eu-west-1 --role-arn arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`,
    );
    expect(text).toContain(`Its node groups take the node role: arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`);
    expect(h.spinner.some((t) => /later-ml to become ACTIVE: not created yet/.test(t))).toBe(true);
    expect(text).toMatch(/✓ The EKS cluster later-ml is ready; its OIDC issuer is https:\/\/oidc\.eks\./);
    expect(outcome.results.map((r) => r.outcome)).toEqual([...Array(6).fill('created'), 'unchanged']);
    // Saved before the wait, saved again at the end without asking (one save question only).
    expect(h.prompter.asked.filter((a) => /Save the config/.test(a.message))).toHaveLength(1);
    expect(await stepsLeft(join(cwd, 'flyte-aws-setup.yaml'))).toBe(0);
  });

  /**
   * A walk that sets up two clusters, chosen by `clusterSteps` (no project): an OIDC provider per cluster, a
   * statement per cluster (`hosts`, in order) in each role's trust, and `saved` as the saved config's `cluster`.
   */
  async function twoClusters(clusterSteps: ScriptStep[], hosts: [string, string], saved: unknown) {
    const h = harness([
      START[0]!,
      ...clusterSteps,
      ...START.slice(2),
      ...FIRST_FIVE,
      ...NO_PROJECT,
      { select: /The workers role trusts/, answer: ENTER },
      { confirm: /Create the Flyte workers role\?/, answer: true },
      { input: /Save the config as/, answer: ENTER },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    const oidc = outcome.results.find((r) => r.id === 'oidcProvider')!;
    expect(oidc.resources.map((r) => r.name).sort()).toEqual([...hosts].sort());
    for (const role of ['flyte-system-role', 'flyte-workers-role']) {
      const trust = (await readRole(moto.url, role))!.trust;
      expect(trust.Statement.map((st) => Object.keys(st.Condition!.StringEquals!)[0])).toEqual(
        hosts.map((host) => `${host}:aud`),
      );
    }
    const file = join(cwd, 'flyte-aws-setup.yaml');
    expect(parse(readFileSync(file, 'utf8'))).toMatchObject({ cluster: saved });
    expect(await stepsLeft(file)).toBe(0);
    return h;
  }

  it('two clusters of the region (blue/green): each role trusts both, the saved config lists both', async () => {
    const blue = (await flyteCluster('acme-blue')).replace('https://', '');
    const green = (await flyteCluster('acme-green')).replace('https://', '');
    await flyteCluster('other-team');
    const h = await twoClusters(
      [
        { select: /EKS cluster for Flyte/, answer: 'acme-blue' },
        { checkbox: /^Other clusters of eu-west-1 whose pods assume the same roles/, answer: ['acme-green'] },
      ],
      [blue, green],
      ['acme-blue', 'acme-green'],
    );
    expect(h.prompter.asked[2]!.choices).toEqual(['acme-green', 'other-team']);
  });

  it('a cluster of another region, typed: its OIDC provider made in its region, every role trusts both', async () => {
    const blue = (await flyteCluster('acme-blue')).replace('https://', '');
    const us = (await flyteCluster('acme-us', 'us-east-2')).replace('https://', '');
    expect(us).toContain('oidc.eks.us-east-2.');
    await twoClusters(
      [
        { select: /EKS cluster for Flyte/, pick: /^Several clusters, some in other regions/ },
        { input: /^EKS clusters whose pods assume the same roles/, answer: 'acme-blue, acme-us@us-east-2' },
      ],
      [blue, us],
      ['acme-blue', { name: 'acme-us', region: 'us-east-2' }],
    );
  });

  it('stop and continue later from the saved config: exit 3, then the wizard again from that file', async () => {
    // No cluster at all in the region: the wizard asks for the name of the one to create, without a list.
    const first = harness([
      START[0]!,
      { input: /Name of the EKS cluster you will create/, answer: 'later-ml' },
      ...START.slice(2),
      ...FIRST_FIVE.slice(0, 2),
      { select: /Wait for the cluster/, pick: /^Stop now/ },
      { input: /Save the config as/, answer: ENTER },
    ]);
    const stopped = await first.run();
    first.prompter.expectDone();
    expect(stopped.exitCode).toBe(3);
    const file = join(cwd, 'flyte-aws-setup.yaml');
    expect(first.printed.join('\n')).toContain(
      'When it is ACTIVE, continue with:  npx flyte-aws-setup --config flyte-aws-setup.yaml --interactive',
    );
    // Without questions, the defaults of the questions not reached may broaden access: said with the command.
    expect(first.printed.join('\n')).toMatch(/a change it marks \(!\) also needs --approve-broadening/);

    await flyteCluster('later-ml');
    const { config } = await loadConfigFile(file);
    const again = harness(
      [
        { select: /Set up Flyte in this account and region/, answer: ENTER },
        { select: /EKS cluster for Flyte/, answer: ENTER },
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { input: /S3 bucket/, answer: ENTER },
        { input: /namespace/, answer: ENTER },
        { confirm: /Use these names/, answer: ENTER },
        { input: /^Tags/, answer: ENTER },
        { input: /Permissions boundary/, answer: ENTER },
        // The cluster and node roles are up to date: no question.
        ...FIRST_FIVE.slice(2),
        ...NO_PROJECT,
        { select: /The workers role trusts/, answer: ENTER },
        { confirm: /Create the Flyte workers role\?/, answer: true },
        { input: /Save the config as/, answer: ENTER },
        { confirm: /is the config this wizard started from\. Replace it/, answer: ENTER },
      ],
      { start: { config, file: 'flyte-aws-setup.yaml' } },
    );
    const done = await again.run();
    again.prompter.expectDone();
    expect(done.exitCode).toBe(0);
    expect(again.prompter.asked.find((a) => /S3 bucket/.test(a.message))!.default).toBe('acme-flyte-data');
    expect(done.results.map((r) => r.outcome)).toEqual([
      'unchanged',
      'unchanged',
      'created',
      'created',
      'created',
      'created',
      'unchanged',
    ]);
    expect(again.said).toContain(`✓ EKS cluster role: up to date  arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`);
    expect(await stepsLeft(file)).toBe(0);
  });

  it('from a config (--interactive): its answers are the defaults, a section it has off can be turned on', async () => {
    await flyteCluster('acme-ml');
    const file = join(cwd, 'mine.yaml');
    writeFileSync(
      file,
      'region: eu-west-1\ncluster: acme-ml\nbucket: acme-data\ntags: { team: ml }\n' +
        'nodeRole: false\nsystemRole: { name: my-backend }\nworkersRole: { allNamespaces: false }\n' +
        'projectRoles: [{ project: fraud, domains: [development] }]\n',
    );
    const { config } = await loadConfigFile(file);
    const h = harness(
      [
        { select: /Set up Flyte in this account and region/, answer: ENTER },
        { select: /EKS cluster for Flyte/, answer: ENTER },
        { select: /Which will install Flyte/, answer: ENTER },
        { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
        { input: /S3 bucket/, answer: ENTER },
        { input: /namespace/, answer: ENTER },
        { confirm: /^Keep these names\?/, answer: ENTER },
        { input: /^Tags/, answer: ENTER },
        { input: /Permissions boundary/, answer: ENTER },
        { confirm: /Create the EKS cluster role\?/, answer: ENTER },
        { confirm: /Set up the EKS node role now\?/, answer: true },
        { confirm: /Create the EKS node role\?/, answer: ENTER },
        ...FIRST_FIVE.slice(2),
        { confirm: /Keep these project roles\?/, answer: ENTER },
        { confirm: /Add another project\?/, answer: ENTER },
        { select: /The workers role trusts/, answer: ENTER },
        { confirm: /Create the Flyte workers role\?/, answer: true },
        { confirm: /Create the project-domain roles\?/, answer: ENTER },
        { input: /Save the config as/, answer: ENTER },
        { confirm: /mine\.yaml is the config this wizard started from\. Replace it/, answer: ENTER },
      ],
      { start: { config, file: 'mine.yaml' } },
    );
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    const asked = (re: RegExp) => h.prompter.asked.find((a) => re.test(a.message))!;
    expect(asked(/S3 bucket/).default).toBe('acme-data');
    expect(asked(/^Tags/).default).toBe('team=ml');
    expect(asked(/The workers role trusts/).answer).toBe('flyte');
    expect(h.said).toContain('Off in the config (nodeRole: false).');
    expect(h.said).toContain('  Flyte backend role   my-backend');
    expect(await readRole(moto.url, 'flyte-eks-node-role')).toBeDefined();
    expect(await readRole(moto.url, 'my-backend')).toBeDefined();
    const saved = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({
      bucket: 'acme-data',
      tags: { team: 'ml' },
      nodeRole: { name: 'flyte-eks-node-role' },
      systemRole: { name: 'my-backend' },
      workersRole: { allNamespaces: false },
      projectRoles: [{ project: 'fraud', domains: ['development'] }],
    });
    expect(await stepsLeft(file)).toBe(0);
  });

  it('a project taken out under --interactive: its role is listed at the end, with the command that removes it', async () => {
    await flyteCluster('acme-ml');
    const file = join(cwd, 'mine.yaml');
    writeFileSync(
      file,
      'region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\nworkersRole: { allNamespaces: false }\n' +
        'projectRoles: [{ project: fraud, domains: [development] }]\n',
    );
    const made = await runCli(['--config', file, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(made.code, made.stdout + made.stderr).toBe(0);
    const script = (projects: ScriptStep[]): ScriptStep[] => [
      // The config's answers (its bucket is the one walkStart types).
      ...walkStart(),
      ...projects,
      { select: /The workers role trusts/, answer: ENTER },
      { input: /Save the config as/, answer: ENTER },
      { confirm: /mine\.yaml is the config this wizard started from\. Replace it/, answer: ENTER },
    ];
    // The project is taken out at its question.
    const h = harness(script([{ confirm: /Keep these project roles\?/, answer: false }, ...NO_PROJECT]), {
      start: { config: (await loadConfigFile(file)).config, file: 'mine.yaml' },
    });
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(0);
    const printed = h.printed.join('\n');
    expect(printed).toContain('Roles of this setup that the config no longer names');
    expect(printed).toMatch(/\[!\] role flyte-fraud-role {2}still grants access/);
    expect(printed).toContain('npx flyte-aws-setup --config mine.yaml --yes --prune');
    // Listed, not removed: --prune does that.
    expect(await readRole(moto.url, 'flyte-fraud-role')).toBeDefined();

    // Ctrl-C while it looks for them: the walk ends as interrupted (exit 130), before the hand-off files.
    rmSync(join(cwd, 'flyte-aws-setup-out'), { recursive: true, force: true });
    let stop = () => {};
    const again = harness(script(NO_PROJECT), {
      start: { config: (await loadConfigFile(file)).config, file: 'mine.yaml' },
      onProgress: (text) => {
        if (text.startsWith("Looking for the setup's roles")) stop();
      },
    });
    stop = () => again.controller.abort();
    const interrupted = await again.run();
    again.prompter.expectDone();
    expect(interrupted.exitCode).toBe(130);
    expect(again.printed.join('\n')).not.toContain('flyte-fraud-role');
    expect(existsSync(join(cwd, 'flyte-aws-setup-out'))).toBe(false);

    // ListRoles refused: a warning with the error's hint, and the walk's outcome is unchanged.
    const refusedListing = harness(script(NO_PROJECT), {
      start: { config: (await loadConfigFile(file)).config, file: 'mine.yaml' },
      async connect(region, profile) {
        const clients = await createAwsClients({ region, ...(profile !== undefined ? { profile } : {}) });
        const gateway = new AwsGateway(clients);
        gateway.listRoles = () =>
          Promise.reject(Object.assign(new Error('access denied: iam:ListRoles'), { hint: 'grant iam:ListRoles' }));
        return { gateway, close: () => destroyAwsClients(clients) };
      },
    });
    expect((await refusedListing.run()).exitCode).toBe(0);
    const warned = refusedListing.printed.join('\n');
    expect(warned).toContain(
      "The setup's roles the config no longer names could not be looked for: access denied: iam:ListRoles",
    );
    expect(warned).toContain('  grant iam:ListRoles');
    expect(warned).toContain('npx flyte-aws-setup --config mine.yaml --dry-run lists them');

    const pruned = await runCli(['--config', file, '--yes', '--prune'], { endpoint: moto.url });
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(await readRole(moto.url, 'flyte-fraud-role')).toBeUndefined();
  });

  it('a failing section stops the walk: the error, what was done, the answers kept to run again (exit 1)', async () => {
    await flyteCluster('acme-ml');
    const missing = 'arn:aws:iam::aws:policy/NoSuchPolicyAnywhere';
    const h = harness([
      ...START,
      ...FIRST_FIVE,
      { confirm: /Add a project with its own role/, answer: true },
      { input: /Project name/, answer: 'fraud' },
      { checkbox: /Domains of fraud/, answer: ENTER },
      { input: /Extra managed policy ARNs/, answer: missing },
      { confirm: /Add another project/, answer: ENTER },
      { select: /The workers role trusts/, answer: ENTER },
      { confirm: /Create the Flyte workers role\?/, answer: true },
      { confirm: /Create the project-domain roles\?/, answer: ENTER },
      { input: /Save the config as/, answer: ENTER },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(1);
    expect(outcome.results.at(-1)!.outcome).toBe('failed');
    const text = h.said.join('\n');
    expect(text).toContain('✗ Project-domain roles: FAILED');
    expect(text).toContain(`AttachRolePolicy: not found on role flyte-fraud-role (${missing})`);
    expect(h.printed.join('\n')).toContain('The setup stopped at the failure above.');
    const saved = parse(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8')) as Record<string, unknown>;
    expect(saved.projectRoles).toEqual([
      { project: 'fraud', domains: ['development', 'staging', 'production'], extraPolicies: [missing] },
    ]);
  });

  it('Ctrl-C at a question after changes: exit 130, the answers saved marked incomplete, destroy undoes them', async () => {
    // A cluster that does not run with the role made here, so that destroy may remove it.
    await flyteCluster('acme-ml', 'eu-west-1', [], 'some-cluster-role');
    // A file of that name exists: it is not replaced without a question, and there is no one to ask.
    writeFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'keep: me\n');
    const h = harness([
      START[0]!,
      START[1]!,
      START[2]!,
      START[3]!,
      START[4]!,
      { input: /namespace/, answer: 'flyte-prod' },
      ...START.slice(6),
      { confirm: /Create the EKS cluster role\?/, answer: true },
      FIRST_FIVE[1]!,
      { interrupt: /Create the OIDC identity provider/ },
    ]);
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    const text = h.said.join('\n');
    expect(text).toContain('Interrupted.');
    expect(text).toContain('Before the interrupt, these changes were made in AWS:');
    expect(text).toContain(`✓ EKS node role: created  arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`);
    expect(text).toContain(
      'The answers so far are saved in flyte-aws-setup-2.yaml, marked incomplete (the questions not reached hold ' +
        'their defaults).\n' +
        'Continue:  npx flyte-aws-setup --config flyte-aws-setup-2.yaml --interactive\n' +
        'Undo:      npx flyte-aws-setup destroy --config flyte-aws-setup-2.yaml',
    );
    expect(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8')).toBe('keep: me\n');
    const file = join(cwd, 'flyte-aws-setup-2.yaml');
    expect(outcome.configFile).toBe(file);
    const saved = readFileSync(file, 'utf8');
    expect(saved).toContain(
      [
        '# INCOMPLETE: the wizard was interrupted before its end. The questions it had not reached yet hold',
        '# their defaults here: review them before applying this without questions.',
        '# Already applied in AWS:',
        `#   EKS cluster role: created (arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role)`,
        `#   EKS node role: created (arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role)`,
        '# Continue:  npx flyte-aws-setup --config flyte-aws-setup-2.yaml --interactive',
      ].join('\n'),
    );
    // Every answer given is in it.
    expect(parse(saved)).toMatchObject({ cluster: 'acme-ml', bucket: 'acme-flyte-data', namespace: 'flyte-prod' });

    // What the walk made can be undone from the saved file.
    const undo = await runCli(['destroy', '--config', file, '--yes'], { endpoint: moto.url });
    expect(undo.code).toBe(0);
    expect(await readRole(moto.url, 'flyte-eks-node-role')).toBeUndefined();
    expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();
  });

  it('Ctrl-C at a question before any change: nothing is written', async () => {
    await flyteCluster('acme-ml');
    const h = harness([...START, { interrupt: /Create the EKS cluster role/ }]);
    expect((await h.run()).exitCode).toBe(130);
    h.prompter.expectDone();
    expect(h.said.join('\n')).toContain('No config file was written.');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('Ctrl-C while a section is applied: the role being created gets its policy, the rest is reported, exit 130', async () => {
    await flyteCluster('acme-ml');
    const interrupt = new AbortController();
    const h = harness([...START, ...FIRST_FIVE], {
      signal: interrupt.signal,
      onProgress: (text) => {
        if (text.includes('creating role flyte-system-role')) interrupt.abort();
      },
    });
    const outcome = await h.run();
    h.prompter.expectDone();
    expect(outcome.exitCode).toBe(130);
    const system = await readRole(moto.url, 'flyte-system-role');
    expect(system).toBeDefined();
    // Not left without the policy it was made with (attaching it later would broaden access).
    expect(system!.attached).toEqual([POLICY_ARN]);
    const text = h.said.join('\n');
    expect(text).toContain('role flyte-system-role: done CreateRole, AttachRolePolicy; still to do nothing');
    expect(text).toContain(
      'role flyte-system-role: every step done, but not read back after the interrupt; the next run checks it',
    );
    expect(text).toContain(`✓ S3 policy for the Flyte bucket: created  ${POLICY_ARN}`);
    // The section stopped half-way is in the saved file's header.
    expect(readFileSync(join(cwd, 'flyte-aws-setup.yaml'), 'utf8')).toContain(
      `#   Flyte backend role: partly done (arn:aws:iam::${ACCOUNT}:role/flyte-system-role)`,
    );
    // Nothing after the role's policy was called.
    expect(
      h
        .mutating()
        .map((c) => c.operation)
        .slice(-2),
    ).toEqual(['CreateRole', 'AttachRolePolicy']);
  });

  it('again from the saved config with nothing to do: result lines only, the files in one line; --verbose shows all', async () => {
    await flyteCluster('acme-ml');
    const first = harness([
      ...START,
      ...FIRST_FIVE,
      ...NO_PROJECT,
      { select: /trusts/, answer: ENTER },
      { confirm: /workers/, answer: true },
      { input: /Save/, answer: ENTER },
    ]);
    expect((await first.run()).exitCode).toBe(0);
    expect(first.printed).toContain('6 resources created in account 123456789012, region eu-west-1.');
    const file = join(cwd, 'flyte-aws-setup.yaml');
    const { config } = await loadConfigFile(file);
    const again = (verbose: boolean) =>
      harness(
        [
          { select: /Set up Flyte in this account and region/, answer: ENTER },
          { select: /EKS cluster for Flyte/, answer: ENTER },
          { select: /Which will install Flyte/, answer: ENTER },
          { select: /How do Flyte's pods get their AWS roles/, answer: ENTER },
          { input: /S3 bucket/, answer: ENTER },
          { input: /namespace/, answer: ENTER },
          { confirm: /^Use these names/, answer: ENTER },
          { input: /^Tags/, answer: ENTER },
          { input: /Permissions boundary/, answer: ENTER },
          ...NO_PROJECT,
          { select: /The workers role trusts/, answer: ENTER },
          { input: /Save the config as/, answer: ENTER },
          { confirm: /is the config this wizard started from\. Replace it/, answer: ENTER },
        ],
        { start: { config, file: 'flyte-aws-setup.yaml' }, ...(verbose ? { verbose } : {}) },
      );
    const quiet = again(false);
    expect((await quiet.run()).exitCode).toBe(0);
    quiet.prompter.expectDone();
    expect(quiet.mutating()).toEqual([]);
    expect(quiet.said).toContain(`✓ EKS cluster role: up to date  arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`);
    expect(quiet.said.filter((l) => l.startsWith('Plan: up to date'))).toEqual([]);
    // A section with a note still says it (the emulator's cluster names no VPC).
    expect(quiet.said).toContain('Plan: not checked');
    const summary = quiet.printed.join('\n');
    expect(summary).toContain('Nothing changed in account 123456789012, region eu-west-1.');
    expect(summary).toMatch(/Hand-off files in \S*flyte-aws-setup-out: all 3 are up to date\./);
    expect(summary).not.toContain('Next:');
    expect(summary).not.toMatch(/unchanged +\S*flyte-binary-values\.yaml/);

    const verbose = again(true);
    expect((await verbose.run()).exitCode).toBe(0);
    expect(verbose.said.filter((l) => l.startsWith('Plan: up to date'))).toHaveLength(6);
    expect(verbose.said).toContain('   [=] role flyte-workers-role up to date');
    const all = verbose.printed.join('\n');
    expect(all).toMatch(/unchanged +\S*flyte-binary-values\.yaml\s+Helm values for flyte-binary/);
    expect(all).toContain('Next:');
  });

  it('re-running the saved config with the CLI makes no change', async () => {
    await flyteCluster('acme-ml');
    const h = harness([
      ...START,
      ...FIRST_FIVE,
      ...NO_PROJECT,
      { select: /trusts/, answer: ENTER },
      { confirm: /workers/, answer: true },
      { input: /Save/, answer: ENTER },
    ]);
    expect((await h.run()).exitCode).toBe(0);
    const run = await runCli(['--config', join(cwd, 'flyte-aws-setup.yaml'), '--yes', '--approve-broadening'], {
      endpoint: moto.url,
    });
    expect(run.code).toBe(0);
    expect(run.mutating).toEqual([]);
    expect(existsSync(join(cwd, 'flyte-aws-setup.yaml'))).toBe(true);
  });
});
