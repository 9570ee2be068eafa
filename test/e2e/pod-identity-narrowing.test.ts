/**
 * Narrowing the config narrows the pod identity associations, end to end (the built CLI, its roles against moto, its
 * associations against the stand-in): a namespace or project dropped, then identity switched to irsa, each takes the
 * setup's associations away under --yes (no --prune, no --approve-broadening for the deletions); verify fails on
 * them until then; one made by hand is only reported; destroy removes all of the setup's, also with irsa.
 */
import { CreatePodIdentityAssociationCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, clients, createBucket, createCluster } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../helpers/pod-identity-stand-in.js';

const skip = motoSkipReason();

const BASE = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
`;
const WIDE = `${BASE}identity: pod-identity
workersRole: { allNamespaces: false, namespaces: [ml-team] }
projectRoles: [{ project: fraud }]
`;
const NARROW = `${BASE}identity: pod-identity
workersRole: { allNamespaces: false, namespaces: [] }
`;
const IRSA = `${BASE}identity: irsa
workersRole: { allNamespaces: false, namespaces: [] }
`;

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

describe.skipIf(skip !== undefined)('pod identity associations follow a narrowed config', () => {
  let moto: Moto;
  let stand: PodIdentityStandIn;
  const files = { wide: '', narrow: '', irsa: '' };

  const run = (config: string, args: string[]) => runCli(['--config', config, ...args], { endpoint: stand.url });
  const verify = (config: string) => runCli(['verify', '--config', config, '--json'], { endpoint: stand.url });
  const held = () =>
    Object.fromEntries(stand.associationsOf('acme-ml').map((a) => [`${a.namespace}/${a.serviceAccount}`, a.roleArn]));
  const codes = (stdout: string) =>
    (JSON.parse(stdout) as { sections: { findings: { code: string; resource: string }[] }[] }).sections.flatMap((s) =>
      s.findings.map((f) => `${f.code} ${f.resource}`),
    );

  beforeAll(async () => {
    moto = await acquireMoto();
    stand = await startPodIdentityStandIn(moto.url);
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
    files.wide = writeConfig(WIDE, 'wide.yaml');
    files.narrow = writeConfig(NARROW, 'narrow.yaml');
    files.irsa = writeConfig(IRSA, 'irsa.yaml');
    const apply = await run(files.wide, ['--yes', '--approve-broadening']);
    expect(apply.code).toBe(0);
    // One made by hand, handing the workers role to a namespace no config names: never touched, only reported.
    await clients(stand.url).eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'acme-ml',
        namespace: 'web',
        serviceAccount: 'default',
        roleArn: role('flyte-workers-role'),
      }),
    );
  });
  afterAll(async () => {
    await stand?.stop();
    await moto?.stop();
  });

  it('ml-team and fraud dropped: verify fails on their associations, and --yes deletes them', async () => {
    expect(held()['ml-team/default']).toBe(role('flyte-workers-role'));
    expect(held()['fraud-production/default']).toBe(role('flyte-fraud-role'));

    const before = await verify(files.narrow);
    expect(before.code).toBe(1);
    expect(codes(before.stdout)).toEqual(
      expect.arrayContaining([
        'association-not-wanted pod identity association ml-team/default',
        'association-not-wanted pod identity association fraud-development/default',
        'association-not-wanted pod identity association web/default',
      ]),
    );

    const plan = await run(files.narrow, ['--dry-run']);
    expect(plan.stdout).toContain('- delete the pod identity association ml-team/default');
    expect(plan.stdout).not.toMatch(/up to date \(\d+ resource/);

    const apply = await run(files.narrow, ['--yes']);
    expect(apply.stderr).not.toMatch(/broaden/);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const ops = apply.mutating.map((c) => c.operation);
    expect(ops.filter((o) => o === 'DeletePodIdentityAssociation')).toHaveLength(4);
    expect(Object.keys(held()).sort()).toEqual(['flyte/default', 'flyte/flyte-backend-flyte-binary', 'web/default']);

    // The run after makes no write; the one made by hand is still reported (by verify too).
    const again = await run(files.narrow, ['--yes']);
    expect(again.mutating).toEqual([]);
    const after = await verify(files.narrow);
    expect(codes(after.stdout).filter((c) => c.startsWith('association-not-wanted'))).toEqual([
      'association-not-wanted pod identity association web/default',
    ]);
  });

  it('identity switched to irsa: the run that narrows the trusts deletes every association of the setup', async () => {
    const apply = await run(files.irsa, ['--yes', '--approve-broadening']);
    expect(apply.code).toBe(0);
    expect(apply.mutating.map((c) => c.operation).filter((o) => o === 'DeletePodIdentityAssociation')).toHaveLength(2);
    expect(held()).toEqual({ 'web/default': role('flyte-workers-role') });
    const again = await run(files.irsa, ['--yes']);
    expect(again.mutating).toEqual([]);
  });

  it('destroy removes the setup associations, also with identity: irsa', async () => {
    const back = await run(files.narrow, ['--yes', '--approve-broadening']);
    expect(back.code).toBe(0);
    expect(Object.keys(held())).toHaveLength(3);

    const dry = await runCli(['destroy', '--config', files.irsa, '--dry-run'], { endpoint: stand.url });
    expect(dry.stdout).toContain('flyte/default');
    const destroy = await runCli(['destroy', '--config', files.irsa, '--yes'], { endpoint: stand.url });
    expect(destroy.code).toBe(0);
    expect(destroy.mutating.map((c) => c.operation).filter((o) => o === 'DeletePodIdentityAssociation')).toHaveLength(
      2,
    );
    expect(held()).toEqual({ 'web/default': role('flyte-workers-role') });
  });
});
