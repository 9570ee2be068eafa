/**
 * A cluster dropped from a multi-cluster config with Pod Identity, end to end (the built CLI, its roles against
 * moto, its associations against the stand-in): its associations of this setup are listed by a plan and by verify
 * (which fails on them), removed by --prune before the roles' trust is narrowed and the cluster's provider goes,
 * in the dropped cluster's region; one made by hand there stays. A run with nothing to change then makes
 * no call for that cluster.
 */
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, createBucket, createCluster } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../helpers/pod-identity-stand-in.js';

const skip = motoSkipReason();

const BASE = `
region: eu-west-1
bucket: acme-flyte-data
setup: acme
identity: both
workersRole: { allNamespaces: false }
`;
const BOTH = `${BASE}cluster:\n  - blue\n  - { name: green, region: us-east-2 }\n`;
const BLUE_ONLY = `${BASE}cluster: blue\n`;

const held = (stand: PodIdentityStandIn, cluster: string, region: string) =>
  stand
    .associationsOf(cluster, region)
    .map((a) => `${a.namespace}/${a.serviceAccount}`)
    .sort();

describe.skipIf(skip !== undefined)(
  "a cluster dropped from the config: --prune removes the setup's associations there",
  () => {
    let moto: Moto;
    let stand: PodIdentityStandIn;
    const run = (text: string, args: string[]) =>
      runCli(
        [
          ...(args[0] === 'verify' ? ['verify'] : []),
          '--config',
          writeConfig(text),
          ...args.filter((a) => a !== 'verify'),
        ],
        { endpoint: stand.url },
      );

    beforeAll(async () => {
      moto = await acquireMoto();
      stand = await startPodIdentityStandIn(moto.url);
      await createCluster(moto.url, 'blue', 'eu-west-1');
      await createCluster(moto.url, 'green', 'us-east-2');
      await createBucket(moto.url, 'acme-flyte-data');
      const apply = await run(BOTH, ['--yes', '--approve-broadening']);
      expect(apply.code, apply.stdout + apply.stderr).toBe(0);
      // One made by hand in green: not this setup's, never touched.
      const eks = new EKSClient({
        region: 'us-east-2',
        endpoint: stand.url,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      });
      await eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'green',
          namespace: 'web',
          serviceAccount: 'default',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/web-role`,
        }),
      );
      eks.destroy();
    });
    afterAll(async () => {
      await stand?.stop();
      await moto?.stop();
    });

    it('without --prune: the plan lists them, verify fails on them', async () => {
      expect(held(stand, 'green', 'us-east-2')).toEqual([
        'flyte/default',
        'flyte/flyte-backend-flyte-binary',
        'web/default',
      ]);
      const plan = await run(BLUE_ONLY, ['--dry-run']);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('[!] pod identity association green: flyte/default  still grants access');
      expect(plan.stdout).not.toContain('green: web/default');

      const verify = await run(BLUE_ONLY, ['verify', '--json']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(1);
      const leftovers = (JSON.parse(verify.stdout) as { leftovers: { resource: string }[] }).leftovers;
      expect(leftovers.map((l) => l.resource).sort()).toEqual([
        'pod identity association green: flyte/default',
        'pod identity association green: flyte/flyte-backend-flyte-binary',
      ]);
    });

    it('--prune: the associations deleted in their region, then the trust narrowed, then the provider; the next run writes nothing', async () => {
      const dry = await run(BLUE_ONLY, ['--dry-run', '--prune']);
      expect(dry.stdout).toContain('[-] pod identity association green: flyte/default');

      const pruned = await run(BLUE_ONLY, ['--yes', '--prune']);
      expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
      const ops = pruned.mutating.map((c) => c.operation);
      expect(ops.filter((o) => o === 'DeletePodIdentityAssociation')).toHaveLength(2);
      // The associations go before the trusts that lead to green are narrowed: a run stopped between the two leaves
      // the trusts naming green, so the next run still finds what is left there.
      expect(ops.lastIndexOf('DeletePodIdentityAssociation')).toBeLessThan(ops.indexOf('UpdateAssumeRolePolicy'));
      expect(ops.lastIndexOf('DeletePodIdentityAssociation')).toBeLessThan(ops.indexOf('DeleteOpenIDConnectProvider'));
      expect(pruned.stdout).toContain(
        'pod identity association green: flyte/default (no longer in the config): removed',
      );
      // Two associations and a provider: resources, not roles.
      expect(pruned.stdout).toContain('3 resource(s) to remove (--prune)');
      expect(pruned.stdout).toContain('3 resources the config no longer names removed');
      expect(held(stand, 'green', 'us-east-2')).toEqual(['web/default']);
      expect(held(stand, 'blue', 'eu-west-1')).toEqual(['flyte/default', 'flyte/flyte-backend-flyte-binary']);

      const again = await run(BLUE_ONLY, ['--yes', '--prune']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.mutating).toEqual([]);
      // No role names green any more: nothing is asked of it (blue's associations are listed once).
      expect(again.calls.filter((c) => c.operation === 'ListPodIdentityAssociations')).toHaveLength(1);
      const verify = await run(BLUE_ONLY, ['verify']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    });
  },
);
