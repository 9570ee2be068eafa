/**
 * Whose a pod identity association is, end to end (the built CLI, its roles against moto, its associations against
 * the stand-in for the EKS endpoints moto lacks): a second setup that names the same namespace and service account
 * is refused, naming the setup that owns the association, and the association keeps its role; one the tool made
 * before setups existed (managed-by, no setup tag) is taken by the setup that names it and tagged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, createBucket, createCluster } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../helpers/pod-identity-stand-in.js';

const skip = motoSkipReason();

const FIRST = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
setup: team-a
identity: pod-identity
workersRole: { allNamespaces: false }
`;

/** Another setup on the same cluster: its own roles and policy, the same service account for its task pods. */
const SECOND = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
setup: team-b
identity: pod-identity
clusterRole: false
nodeRole: false
customPolicy: { name: team-b-custom-policy }
systemRole: false
workersRole: { name: team-b-workers-role, allNamespaces: false }
`;

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const SETUP_TAG = 'flyte-aws-setup:setup';

describe.skipIf(skip !== undefined)("pod identity associations: another setup's is refused, an older one taken", () => {
  let moto: Moto;
  let stand: PodIdentityStandIn;
  let first: string;
  let second: string;

  const run = (config: string, args: string[]) => runCli(['--config', config, ...args], { endpoint: stand.url });
  const association = (namespace: string, serviceAccount: string) =>
    stand.associationsOf('acme-ml').find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);

  beforeAll(async () => {
    moto = await acquireMoto();
    stand = await startPodIdentityStandIn(moto.url);
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
    first = writeConfig(FIRST);
    second = writeConfig(SECOND);
    const apply = await run(first, ['--yes', '--approve-broadening']);
    expect(apply.code).toBe(0);
  });
  afterAll(async () => {
    await stand?.stop();
    await moto?.stop();
  });

  it('a second setup naming the same service account is refused, naming the owner; the association keeps its role', async () => {
    const made = association('flyte', 'default')!;
    expect(made.tags[SETUP_TAG]).toBe('team-a');

    const plan = await run(second, ['--dry-run']);
    expect(plan.stdout).toMatch(/EKS Pod Identity associations +cannot be done/);
    expect(plan.stdout).toContain(
      'it belongs to the setup "team-a" (its tag flyte-aws-setup:setup), not to this config\'s setup "team-b"',
    );
    expect(plan.stdout).toContain('leave flyte/default out of this config');
    expect(plan.stdout).toContain('set setup: team-a in it');

    const apply = await run(second, ['--yes', '--approve-broadening']);
    expect(apply.code).toBe(1);
    const ops = apply.mutating.map((c) => c.operation);
    expect(ops).not.toContain('UpdatePodIdentityAssociation');
    expect(ops).not.toContain('TagResource');
    // Its own role is made; the association still hands the first setup's role out, with its tags.
    expect(ops).toContain('CreateRole');
    const after = association('flyte', 'default')!;
    expect(after.associationId).toBe(made.associationId);
    expect(after.roleArn).toBe(role('flyte-workers-role'));
    expect(after.tags[SETUP_TAG]).toBe('team-a');
  });

  it('one made before setups (managed-by, no setup tag) is taken by the setup that names it and tagged', async () => {
    const older = association('flyte', 'flyte-backend-flyte-binary')!;
    delete older.tags[SETUP_TAG];
    expect(older.tags['managed-by']).toBe('flyte-aws-setup');

    const plan = await run(first, ['--dry-run']);
    expect(plan.stdout).toContain(
      "made by an earlier version of flyte-aws-setup (managed-by, but no flyte-aws-setup:setup tag): taken as this setup's (team-a)",
    );
    const apply = await run(first, ['--yes']);
    expect(apply.code).toBe(0);
    expect(apply.mutating.map((c) => c.operation)).toEqual(['TagResource']);
    expect(association('flyte', 'flyte-backend-flyte-binary')!.tags[SETUP_TAG]).toBe('team-a');
    expect(stand.log.filter((l) => l.startsWith('TagResource'))).toEqual(['TagResource acme-ml']);

    const again = await run(first, ['--yes']);
    expect(again.code).toBe(0);
    expect(again.mutating).toEqual([]);
  });
});
