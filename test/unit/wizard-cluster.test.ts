/**
 * The wizard's cluster question (src/wizard/cluster.ts) with several clusters: the region's other clusters offered
 * after the first (none by default), the answer in the draft and the saved file as the config writes it, the
 * question left out where it does not fit; and a walk whose second cluster is not ACTIVE yet waits for it before the
 * sections that need every cluster. Mocked AWS, a scripted prompter.
 */
import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import type { Progress } from '../../src/render/progress.js';
import { plainStyle } from '../../src/render/style.js';
import { chooseCluster } from '../../src/wizard/cluster.js';
import { draftConfig } from '../../src/wizard/draft.js';
import { configText } from '../../src/wizard/save.js';
import { Walk, type WizardDeps } from '../../src/wizard/walk.js';
import { runWizard } from '../../src/wizard/wizard.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';
import { ENTER, scriptedPrompter, walkStart, type ScriptStep } from '../helpers/script-prompter.js';

const OTHERS = /^Other clusters of eu-west-1 whose pods assume the same roles/;
const GREEN_ISSUER = ISSUER.replace('ABCDEF0123456789', '0123456789ABCDEF');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fas-wizard-cluster-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const quiet: Progress = { start: () => {}, update: () => {}, clear: () => {}, log: () => {} };

function deps(m: ReturnType<typeof mockAws>, script: ScriptStep[], more: Partial<WizardDeps> = {}) {
  const said: string[] = [];
  const printed: string[] = [];
  const prompter = scriptedPrompter(script);
  const d: WizardDeps = {
    prompter,
    say: (l) => void said.push(l),
    out: (l) => void printed.push(l),
    style: plainStyle,
    outStyle: plainStyle,
    progress: quiet,
    connect: async () => ({ gateway: m.gateway, close: () => {} }),
    defaultRegion: async () => 'eu-west-1',
    profiles: () => [],
    cwd: tempDir(),
    signal: new AbortController().signal,
    flags: {},
    ...more,
  };
  return { deps: d, said, printed, prompter };
}

/** The cluster question alone, in eu-west-1 where `listed` are the clusters. */
async function choose(listed: string[], script: ScriptStep[], more: Partial<WizardDeps> = {}) {
  const m = mockAws();
  m.eks.on(ListClustersCommand).resolves({ clusters: listed });
  const { deps: d, said, prompter } = deps(m, script, more);
  const walk = new Walk(d);
  walk.session = { gateway: m.gateway, close: () => {} };
  walk.region = 'eu-west-1';
  walk.draft.region = 'eu-west-1';
  walk.draft.bucket ??= 'acme-flyte-data';
  await chooseCluster(walk);
  prompter.expectDone();
  return { walk, said, asked: prompter.asked, saved: configText(walk.draft, 'flyte-aws-setup.yaml') };
}

const REGION = ['acme-blue', 'acme-green', 'other-team'];

describe('other clusters of the region', () => {
  it('picked: the draft and the saved file hold the list, the chosen cluster first; it reads back the same', async () => {
    const { walk, asked, saved } = await choose(REGION, [
      { select: /^EKS cluster for Flyte \(in eu-west-1\)/, answer: 'acme-green' },
      { checkbox: OTHERS, answer: ['acme-blue'] },
    ]);
    // The region's clusters but the chosen one, in the region's order.
    expect(asked[1]!.choices).toEqual(['acme-blue', 'other-team']);
    expect(walk.draft.cluster).toEqual(['acme-green', 'acme-blue']);
    const config = parseConfigText(saved);
    expect(config.clusters).toEqual([{ name: 'acme-green' }, { name: 'acme-blue' }]);
    expect(config.cluster).toBe('acme-green');
    expect(config.setup).toBe('acme-green');
    expect(config).toEqual(draftConfig(walk.draft));
    expect(saved).not.toMatch(/^setup:/m);
  });

  it('none picked (Enter: nothing is checked): one name, as without the question', async () => {
    const { walk, saved } = await choose(REGION, [
      { select: /^EKS cluster for Flyte/, answer: ENTER },
      { checkbox: OTHERS, answer: ENTER },
    ]);
    expect(walk.draft.cluster).toBe('acme-blue');
    expect(saved).toMatch(/^cluster: acme-blue$/m);
    expect(parseConfigText(saved).clusters).toEqual([{ name: 'acme-blue' }]);
  });

  it('a cluster not created yet comes first, beside the existing ones picked (a blue/green upgrade)', async () => {
    const { walk, asked } = await choose(REGION, [
      { select: /^EKS cluster for Flyte/, pick: /^Not created yet/ },
      { input: /Name of the EKS cluster you will create/, answer: 'acme-purple' },
      { checkbox: OTHERS, answer: ['acme-blue', 'other-team'] },
    ]);
    expect(asked[2]!.choices).toEqual(REGION);
    expect(walk.draft.cluster).toEqual(['acme-purple', 'acme-blue', 'other-team']);
  });

  it('from a config with one cluster: asked as without it', async () => {
    const config = parseConfigText('region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme-blue\n');
    const { walk } = await choose(
      REGION,
      [
        { select: /^EKS cluster for Flyte/, answer: ENTER },
        { checkbox: OTHERS, answer: ['other-team'] },
      ],
      { start: { config, file: 'flyte-aws-setup.yaml' } },
    );
    expect(walk.draft.cluster).toEqual(['acme-blue', 'other-team']);
  });

  it('from a config whose cluster the region does not have: picked again from the list, then asked', async () => {
    const config = parseConfigText('region: eu-west-1\nbucket: acme-flyte-data\ncluster: acme-gren\n');
    const { walk, said } = await choose(
      REGION,
      [
        { select: /^EKS cluster for Flyte/, answer: ENTER },
        { checkbox: OTHERS, answer: ['acme-blue'] },
      ],
      { start: { config, file: 'flyte-aws-setup.yaml' } },
    );
    expect(said.join('\n')).toContain('Did you mean acme-green?');
    expect(walk.draft.cluster).toEqual(['acme-green', 'acme-blue']);
  });
});

describe('several clusters typed, some in other regions', () => {
  const TYPED = /^EKS clusters whose pods assume the same roles, separated by commas/;

  it("NAME@REGION is saved as { name, region }, a name of the wizard's region as a name; it reads back the same", async () => {
    const { walk, asked, saved } = await choose(REGION, [
      { select: /^EKS cluster for Flyte/, pick: /^Several clusters, some in other regions/ },
      { input: TYPED, answer: 'acme-blue, acme-us@us-east-2, acme-green@eu-west-1' },
    ]);
    expect(asked[1]!.default).toBe('acme-blue');
    expect(walk.draft.cluster).toEqual(['acme-blue', { name: 'acme-us', region: 'us-east-2' }, 'acme-green']);
    const config = parseConfigText(saved);
    expect(config.clusters).toEqual([
      { name: 'acme-blue' },
      { name: 'acme-us', region: 'us-east-2' },
      { name: 'acme-green' },
    ]);
    expect(config.setup).toBe('acme-blue');
    expect(config).toEqual(draftConfig(walk.draft));
  });

  it('checked as the config is: a wrong region, a cluster twice and an empty list are refused with the reason', async () => {
    const { walk } = await choose(REGION, [
      { select: /^EKS cluster for Flyte/, pick: /^Several clusters/ },
      {
        input: TYPED,
        rejected: [
          { answer: 'acme-blue, acme-us@US East 2', error: /region/ },
          { answer: 'acme-blue, acme-blue', error: /acme-blue/ },
          { answer: ' , ', error: /^name at least one cluster$/ },
        ],
        answer: 'acme-us@us-east-2',
      },
    ]);
    // One cluster, of another region: a list of one, as the config writes it.
    expect(walk.draft.cluster).toEqual([{ name: 'acme-us', region: 'us-east-2' }]);
  });

  it('Enter keeps the one cluster offered', async () => {
    const { walk } = await choose(REGION, [
      { select: /^EKS cluster for Flyte/, pick: /^Several clusters/ },
      { input: TYPED, answer: ENTER },
    ]);
    expect(walk.draft.cluster).toBe('acme-blue');
  });

  it('where the region has no cluster yet: the name question takes a list too', async () => {
    const { walk, said, saved } = await choose(
      [],
      [
        {
          input: /^Name of the EKS cluster you will create; several: separated by commas/,
          answer: 'acme-ml, acme-us@us-east-2',
        },
      ],
    );
    expect(said.join('\n')).toMatch(/There is no EKS cluster in eu-west-1 yet/);
    expect(walk.draft.cluster).toEqual(['acme-ml', { name: 'acme-us', region: 'us-east-2' }]);
    expect(parseConfigText(saved).clusters).toEqual([{ name: 'acme-ml' }, { name: 'acme-us', region: 'us-east-2' }]);
  });

  it('where the clusters cannot be listed: the name question takes a list, checked as the config is', async () => {
    const m = mockAws();
    m.eks.on(ListClustersCommand).rejects(awsError('AccessDeniedException', 'not allowed: eks:ListClusters'));
    const {
      deps: d,
      said,
      prompter,
    } = deps(m, [
      {
        input: /^EKS cluster name \(an existing one, or the one you will create\); several:/,
        rejected: [{ answer: 'acme-ml, acme-ml', error: /acme-ml/ }],
        answer: 'acme-ml, acme-us@us-east-2',
      },
    ]);
    const walk = new Walk(d);
    walk.session = { gateway: m.gateway, close: () => {} };
    walk.region = walk.draft.region = 'eu-west-1';
    walk.draft.bucket = 'acme-flyte-data';
    await chooseCluster(walk);
    prompter.expectDone();
    expect(said.join('\n')).toMatch(/The EKS clusters cannot be listed/);
    expect(walk.draft.cluster).toEqual(['acme-ml', { name: 'acme-us', region: 'us-east-2' }]);
  });

  it('where the region has no cluster yet, one name (Enter: flyte) stays one name', async () => {
    const { walk, saved } = await choose([], [{ input: /^Name of the EKS cluster you will create/, answer: ENTER }]);
    expect(walk.draft.cluster).toBe('flyte');
    expect(saved).toMatch(/^cluster: flyte$/m);
  });
});

describe('not asked', () => {
  it('when the region has no other cluster', async () => {
    const { walk } = await choose(['acme-ml'], [{ select: /^EKS cluster for Flyte/, answer: ENTER }]);
    expect(walk.draft.cluster).toBe('acme-ml');
  });

  it('with --cluster', async () => {
    const { walk, said } = await choose(REGION, [], { flags: { cluster: 'acme-green' } });
    expect(walk.draft.cluster).toBe('acme-green');
    expect(said).toContain('EKS cluster: acme-green (--cluster)');
  });

  it('with a mistyped --cluster: the right one is picked, and stays the one cluster', async () => {
    const { walk } = await choose(REGION, [{ select: /^EKS cluster for Flyte/, answer: ENTER }], {
      flags: { cluster: 'acme-gren' },
    });
    expect(walk.draft.cluster).toBe('acme-green');
  });

  it('with a config that lists several: kept as they are', async () => {
    const config = parseConfigText(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster: [acme-blue, { name: acme-us, region: us-east-2 }]\n',
    );
    const { walk, said, saved } = await choose(REGION, [], { start: { config, file: 'flyte-aws-setup.yaml' } });
    expect(walk.draft.cluster).toEqual(['acme-blue', { name: 'acme-us', region: 'us-east-2' }]);
    expect(said).toContain('EKS clusters: acme-blue, acme-us (from the config)');
    expect(parseConfigText(saved)).toEqual(config);
  });
});

/** The mocked account with no role yet, where `listed` are the region's clusters. */
function emptyAccount(listed: string[]) {
  const m = mockAws();
  m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
  m.eks.on(ListClustersCommand).resolves({ clusters: listed });
  return m;
}

/** After the wait: both clusters' OIDC providers are planned, and no section is left waiting for a cluster. */
function expectProviderForEach(text: string): void {
  expect(text).toContain(ISSUER.replace('https://', ''));
  expect(text).toContain(GREEN_ISSUER.replace('https://', ''));
  expect(text).not.toMatch(/waiting for the cluster/);
}

const active = (name: string, issuer: string) => ({
  cluster: { name, status: 'ACTIVE' as const, identity: { oidc: { issuer } } },
});

/**
 * A walk with the clusters chosen by `pick`, the roles that need no cluster left out, that waits for a cluster, then
 * stops at the OIDC provider's question: what it said, and the config saved before the wait.
 */
async function walkToTheWait(m: ReturnType<typeof mockAws>, pick: ScriptStep[], wait: ScriptStep[]) {
  const {
    deps: d,
    said,
    printed,
    prompter,
  } = deps(
    m,
    [
      ...walkStart(pick),
      // The roles that need no cluster are left out: the point is the wait.
      { confirm: /Create the EKS cluster role\?/, answer: false },
      { confirm: /Create the EKS node role\?/, answer: false },
      ...wait,
    ],
    { preflight: false, timing: { clusterWait: { initialDelayMs: 1, maxDelayMs: 2 } } },
  );
  const outcome = await runWizard(d);
  prompter.expectDone();
  const saved = parseConfigText(readFileSync(join(d.cwd, 'flyte-aws-setup.yaml'), 'utf8'));
  return { exitCode: outcome.exitCode, said, printed, text: said.join('\n'), saved };
}

/** Wait, then stop at the OIDC provider's question. */
const WAIT_THEN_STOP: ScriptStep[] = [
  { select: /^Wait for the cluster\?/, answer: ENTER },
  { input: /Save the config as/, answer: ENTER },
  { interrupt: /Create the OIDC identity provider\?/ },
];

describe('a walk with two clusters, one not ACTIVE yet', () => {
  it('the second: waits for it before the OIDC provider, then plans a provider for each cluster', async () => {
    const m = emptyAccount(['acme-blue', 'acme-green']);
    m.eks.on(DescribeClusterCommand, { name: 'acme-blue' }).resolves(active('acme-blue', ISSUER));
    m.eks
      .on(DescribeClusterCommand, { name: 'acme-green' })
      .resolvesOnce({ cluster: { name: 'acme-green', status: 'CREATING' } })
      .resolves(active('acme-green', GREEN_ISSUER));
    const { exitCode, said, text, saved } = await walkToTheWait(
      m,
      [
        { select: /^EKS cluster for Flyte/, answer: 'acme-blue' },
        { checkbox: OTHERS, answer: ['acme-green'] },
      ],
      WAIT_THEN_STOP,
    );
    expect(exitCode).toBe(130);
    // The cluster waited for is the second: its state, not how to create it.
    expect(said).toContain('The cluster is CREATING and has no OIDC issuer yet; the next sections need it.');
    expect(text).toContain('The EKS cluster acme-green');
    expect(text).not.toContain('create-cluster');
    expect(text).toContain(`✓ The EKS cluster acme-green is ready; its OIDC issuer is ${GREEN_ISSUER}`);
    expectProviderForEach(text);
    // Saved before the wait: the list, as the config writes it.
    expect(saved.clusters).toEqual([{ name: 'acme-blue' }, { name: 'acme-green' }]);
  });

  it('the first, not created yet: how to create it, the wait, then a provider for each cluster', async () => {
    const m = emptyAccount(['acme-blue']);
    m.eks.on(DescribeClusterCommand, { name: 'acme-blue' }).resolves(active('acme-blue', ISSUER));
    m.eks
      .on(DescribeClusterCommand, { name: 'acme-green' })
      .rejectsOnce(awsError('ResourceNotFoundException'))
      .resolves(active('acme-green', GREEN_ISSUER));
    const { exitCode, text, saved } = await walkToTheWait(
      m,
      [
        { select: /^EKS cluster for Flyte/, pick: /^Not created yet/ },
        { input: /Name of the EKS cluster you will create/, answer: 'acme-green' },
        { checkbox: OTHERS, answer: ['acme-blue'] },
      ],
      WAIT_THEN_STOP,
    );
    expect(exitCode).toBe(130);
    expect(text).toContain('aws eks create-cluster --name acme-green --region eu-west-1');
    expect(text).toContain(`✓ The EKS cluster acme-green is ready; its OIDC issuer is ${GREEN_ISSUER}`);
    expectProviderForEach(text);
    expect(saved.clusters).toEqual([{ name: 'acme-green' }, { name: 'acme-blue' }]);
  });

  it('stopping there: the end names the cluster waited for, the second', async () => {
    const m = emptyAccount(['acme-blue', 'acme-green']);
    m.eks.on(DescribeClusterCommand, { name: 'acme-blue' }).resolves(active('acme-blue', ISSUER));
    m.eks
      .on(DescribeClusterCommand, { name: 'acme-green' })
      .resolves({ cluster: { name: 'acme-green', status: 'CREATING' } });
    const { exitCode, printed } = await walkToTheWait(
      m,
      [
        { select: /^EKS cluster for Flyte/, answer: 'acme-blue' },
        { checkbox: OTHERS, answer: ['acme-green'] },
      ],
      [
        { select: /^Wait for the cluster\?/, pick: /^Stop now/ },
        { input: /Save the config as/, answer: ENTER },
      ],
    );
    expect(exitCode).toBe(3);
    expect(printed).toContain('The sections after the node role wait for the EKS cluster acme-green.');
  });
});
