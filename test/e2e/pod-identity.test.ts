/**
 * EKS Pod Identity end to end: the built CLI with `identity: pod-identity`, its pod identity associations and add-on
 * against the stand-in for the EKS endpoints moto lacks (test/helpers/pod-identity-stand-in.ts), its roles against
 * moto as everywhere else. Apply makes the associations with the right roles and the agent add-on; a second run
 * makes no write; an association pointed elsewhere, or deleted, is mended; verify passes; destroy removes them.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, clients, createBucket, createCluster, readProvider, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../helpers/pod-identity-stand-in.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
identity: pod-identity
workersRole: { allNamespaces: false, namespaces: [ml-development] }
projectRoles:
  - project: fraud
    domains: [development, production]
`;

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** How many times each call of the stand-in's log was made. */
function countsOf(log: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of log) counts[call] = (counts[call] ?? 0) + 1;
  return counts;
}
const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-ml`;
/** namespace/serviceAccount -> the role its pods take. */
const WANTED = {
  'flyte/flyte-backend-flyte-binary': role('flyte-system-role'),
  'fraud-development/default': role('flyte-fraud-role'),
  'fraud-production/default': role('flyte-fraud-role'),
  'flyte/default': role('flyte-workers-role'),
  'ml-development/default': role('flyte-workers-role'),
};

describe.skipIf(skip !== undefined)('EKS Pod Identity against the emulator and the stand-in', () => {
  let moto: Moto;
  let stand: PodIdentityStandIn;
  let configFile: string;
  let issuer: string;

  const run = (args: string[]) => runCli(['--config', configFile, ...args], { endpoint: stand.url });
  const held = () =>
    Object.fromEntries(stand.associationsOf('acme-ml').map((a) => [`${a.namespace}/${a.serviceAccount}`, a.roleArn]));
  const eks = () => clients(stand.url).eks;

  beforeAll(async () => {
    moto = await acquireMoto();
    // Two associations a page: the CLI reads every page of the cluster's listing.
    stand = await startPodIdentityStandIn(moto.url, { pageLimit: 2 });
    issuer = await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
    configFile = writeConfig(CONFIG);
  });
  afterAll(async () => {
    await stand?.stop();
    await moto?.stop();
  });

  it('the plan says Pod Identity has no wildcard and that the agent add-on is missing', async () => {
    const plan = await run(['--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.mutating).toEqual([]);
    expect(plan.stdout).toContain('EKS Pod Identity associations');
    expect(plan.stdout).toContain(
      'Pod Identity has no wildcard: the workers role is associated only in flyte, ml-development',
    );
    expect(plan.stdout).toContain('lacks the eks-pod-identity-agent add-on');
    expect(plan.stdout).toMatch(/OIDC identity provider +skipped \(identity: pod-identity/);
  });

  it('apply: the roles trust Pod Identity of the cluster, each service account is associated, the add-on installed', async () => {
    const logged = stand.log.length;
    const apply = await run(['--yes', '--approve-broadening']);
    expect(apply.stderr).not.toMatch(/error/i);
    expect(apply.code).toBe(0);
    expect(held()).toEqual(WANTED);
    // The empty cluster's associations: one listing for all five; each new one read back by its ID alone.
    const calls = countsOf(stand.log.slice(logged));
    expect(calls).toEqual({
      'ListPodIdentityAssociations acme-ml': 1,
      'CreatePodIdentityAssociation acme-ml': 5,
      'DescribePodIdentityAssociation acme-ml': 5,
      'DescribeAddon acme-ml': 2,
      'CreateAddon acme-ml': 1,
    });
    for (const a of stand.associationsOf('acme-ml')) {
      expect(a.tags['managed-by']).toBe('flyte-aws-setup');
      expect(a.associationArn).toMatch(/^arn:aws:eks:eu-west-1:123456789012:podidentityassociation\/acme-ml\/a-/);
    }
    expect([...stand.addons.values()].map((a) => [a.clusterName, a.addonName])).toEqual([
      ['acme-ml', 'eks-pod-identity-agent'],
    ]);
    // The role side, read back from moto.
    const system = await readRole(moto.url, 'flyte-system-role');
    expect(system!.trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnEquals: { 'aws:SourceArn': CLUSTER_ARN },
        },
      },
    ]);
    expect(system!.attached).toContain(`arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`);
    // No OIDC provider: Pod Identity needs none.
    const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer.replace('https://', '')}`;
    await expect(readProvider(moto.url, provider)).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('a second run makes no write, and verify passes reading only', async () => {
    const again = await run(['--yes']);
    expect(again.code).toBe(0);
    expect(again.mutating).toEqual([]);
    const verify = await runCli(['verify', '--config', configFile], { endpoint: stand.url });
    expect(verify.stdout + verify.stderr).not.toMatch(/error:/);
    expect(verify.code).toBe(0);
    expect(verify.mutating).toEqual([]);
  });

  it('an association pointed at another role is mended (a security-relevant change), one deleted is made again', async () => {
    const [backend] = stand
      .associationsOf('acme-ml')
      .filter((a) => a.namespace === 'flyte' && a.serviceAccount !== 'default');
    await eks().send(
      new UpdatePodIdentityAssociationCommand({
        clusterName: 'acme-ml',
        associationId: backend!.associationId,
        roleArn: role('someone-elses-role'),
      }),
    );
    const [ml] = stand.associationsOf('acme-ml').filter((a) => a.namespace === 'ml-development');
    await eks().send(
      new DeletePodIdentityAssociationCommand({ clusterName: 'acme-ml', associationId: ml!.associationId }),
    );

    const verify = await runCli(['verify', '--config', configFile, '--json'], { endpoint: stand.url });
    expect(verify.code).toBe(1);
    const codes = (JSON.parse(verify.stdout) as { sections: { findings: { code: string }[] }[] }).sections.flatMap(
      (s) => s.findings.map((f) => f.code),
    );
    expect(codes).toEqual(expect.arrayContaining(['association-role-differs', 'missing']));

    // Without --approve-broadening the (!) change is refused.
    const refused = await run(['--yes']);
    expect(refused.code).not.toBe(0);
    expect(held()['flyte/flyte-backend-flyte-binary']).toBe(role('someone-elses-role'));

    const mend = await run(['--yes', '--approve-broadening']);
    expect(mend.code).toBe(0);
    expect(mend.mutating.map((c) => c.operation).sort()).toEqual([
      'CreatePodIdentityAssociation',
      'UpdatePodIdentityAssociation',
    ]);
    expect(held()).toEqual(WANTED);
    // The mended association is the same one, pointed back.
    expect(stand.associationsOf('acme-ml').find((a) => a.associationId === backend!.associationId)?.roleArn).toBe(
      role('flyte-system-role'),
    );
  });

  it('the stand-in answers as EKS does: a second association of a service account is ResourceInUseException', async () => {
    await expect(
      eks().send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'acme-ml',
          namespace: 'flyte',
          serviceAccount: 'default',
          roleArn: role('flyte-workers-role'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceInUseException' });
    await expect(
      eks().send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'no-such-cluster',
          namespace: 'flyte',
          serviceAccount: 'default',
          roleArn: role('flyte-workers-role'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it("destroy removes the tool's associations before its roles, and leaves one made by hand and the add-on", async () => {
    await eks().send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'acme-ml',
        namespace: 'other-team',
        serviceAccount: 'default',
        roleArn: role('other-team-role'),
      }),
    );
    const logged = stand.log.length;
    const destroy = await runCli(['destroy', '--config', configFile, '--yes'], { endpoint: stand.url });
    // Six associations, two a page: the cluster listed once for all of them (three pages), its five of the config
    // described and the one made by hand too (whose is it?); after the removal, listed once more to tell that none is
    // left (one page: the one made by hand, described again).
    const calls = countsOf(stand.log.slice(logged));
    expect(calls['ListPodIdentityAssociations acme-ml']).toBe(3 + 1);
    expect(calls['DescribePodIdentityAssociation acme-ml']).toBe(5 + 1 + 1);
    expect(calls['DeletePodIdentityAssociation acme-ml']).toBe(5);
    expect(destroy.stderr).not.toMatch(/error/i);
    expect(destroy.stdout).toContain('nothing flyte-aws-setup made for this config is left');
    expect(destroy.code).toBe(0);
    const ops = destroy.mutating.map((c) => c.operation);
    expect(ops.filter((o) => o === 'DeletePodIdentityAssociation')).toHaveLength(Object.keys(WANTED).length);
    expect(ops.indexOf('DeletePodIdentityAssociation')).toBeLessThan(ops.indexOf('DeleteRole'));
    expect(held()).toEqual({ 'other-team/default': role('other-team-role') });
    expect(await readRole(moto.url, 'flyte-system-role')).toBeUndefined();
    expect(stand.addons.size).toBe(1);
  });
});
