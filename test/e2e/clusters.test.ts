/**
 * Several clusters end to end against moto: two clusters in two regions (two issuers). Apply makes a provider
 * each and every role trusts both; a re-run writes nothing and verify passes; dropping one cluster removes its
 * statement, a narrowing change that --yes alone applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { ACCOUNT, createBucket, createCluster, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../helpers/pod-identity-stand-in.js';

const skip = motoSkipReason();

const BASE = `
region: eu-west-1
bucket: acme-flyte-data
setup: acme
workersRole: { allNamespaces: false }
`;
const BOTH = `${BASE}cluster:\n  - blue\n  - { name: green, region: us-east-2 }\n`;
const BLUE_ONLY = `${BASE}cluster: [blue]\n`;

const providerOf = (issuer: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;

function federated(trust: { Statement: { Principal?: unknown }[] }): string[] {
  return trust.Statement.map((s) => ((s.Principal ?? {}) as { Federated?: string }).Federated ?? '?');
}

describe.skipIf(skip !== undefined)('several clusters in two regions', () => {
  let moto: Moto;
  let blue: string;
  let green: string;
  const run = (text: string, args: string[]) =>
    runCli(
      [
        ...(['verify', 'destroy'].includes(args[0]!) ? [args[0]!] : []),
        '--config',
        writeConfig(text),
        ...args.filter((a) => a !== 'verify' && a !== 'destroy'),
      ],
      {
        endpoint: moto.url,
      },
    );

  beforeAll(async () => {
    moto = await acquireMoto();
    blue = await createCluster(moto.url, 'blue', 'eu-west-1');
    green = await createCluster(moto.url, 'green', 'us-east-2');
    await createBucket(moto.url, 'acme-flyte-data');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('the two clusters have two distinct issuers, in their regions', () => {
    expect(blue).toContain('eu-west-1');
    expect(green).toContain('us-east-2');
    expect(blue).not.toBe(green);
  });

  it('apply: a provider per cluster, each role trusting both with the same subjects; a re-run writes nothing; verify passes', async () => {
    const apply = await run(BOTH, ['--yes', '--approve-broadening']);
    expect(apply.code, apply.stderr).toBe(0);
    const created = apply.mutating.filter((c) => c.operation === 'CreateOpenIDConnectProvider');
    expect(created).toHaveLength(2);
    const iam = new IAMClient({
      region: 'eu-west-1',
      endpoint: moto.url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const listed = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
    expect(listed.map((p) => p.Arn)).toEqual(expect.arrayContaining([providerOf(blue), providerOf(green)]));
    for (const name of ['flyte-system-role', 'flyte-workers-role']) {
      const role = (await readRole(moto.url, name))!;
      expect(federated(role.trust), name).toEqual([providerOf(blue), providerOf(green)]);
      const [a, b] = role.trust.Statement.map((s) =>
        JSON.stringify(s.Condition).replaceAll(blue.slice(8), 'ISSUER').replaceAll(green.slice(8), 'ISSUER'),
      );
      expect(a, name).toBe(b);
    }
    iam.destroy();

    const again = await run(BOTH, ['--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.mutating).toEqual([]);

    const verify = await run(BOTH, ['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('dropping a cluster removes its statement under --yes alone (narrowing); verify passes', async () => {
    const plan = await run(BLUE_ONLY, ['--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).not.toContain('lets in more');
    const apply = await run(BLUE_ONLY, ['--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.mutating.map((c) => c.operation)).toEqual(['UpdateAssumeRolePolicy', 'UpdateAssumeRolePolicy']);
    for (const name of ['flyte-system-role', 'flyte-workers-role']) {
      expect(federated((await readRole(moto.url, name))!.trust), name).toEqual([providerOf(blue)]);
    }
    const verify = await run(BLUE_ONLY, ['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("--prune removes the dropped cluster's provider once no role trusts it", async () => {
    const listed = await run(BLUE_ONLY, ['--dry-run']);
    expect(listed.stdout).not.toContain('OIDC provider oidc.eks.us-east-2');
    const plan = await run(BLUE_ONLY, ['--dry-run', '--prune']);
    expect(plan.stdout).toContain(`[-] OIDC provider ${green.slice(8)}`);
    const pruned = await run(BLUE_ONLY, ['--yes', '--prune']);
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.mutating.map((c) => c.operation)).toEqual(['DeleteOpenIDConnectProvider']);
    const iam = new IAMClient({
      region: 'eu-west-1',
      endpoint: moto.url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const arns = ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map(
      (p) => p.Arn,
    );
    iam.destroy();
    expect(arns).toContain(providerOf(blue));
    expect(arns).not.toContain(providerOf(green));
  });

  it('adding a cluster back is a broadening change: refused under --yes alone, applied with --approve-broadening', async () => {
    const refused = await run(BOTH, ['--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.mutating).toEqual([]);
    const apply = await run(BOTH, ['--yes', '--approve-broadening']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(federated((await readRole(moto.url, 'flyte-workers-role'))!.trust)).toEqual([
      providerOf(blue),
      providerOf(green),
    ]);
  });

  it("destroy removes every cluster's provider and the roles", async () => {
    const gone = await run(BOTH, ['destroy', '--yes']);
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect(gone.mutating.filter((c) => c.operation === 'DeleteOpenIDConnectProvider')).toHaveLength(2);
    const iam = new IAMClient({
      region: 'eu-west-1',
      endpoint: moto.url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const listed = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
    iam.destroy();
    expect(listed.map((p) => p.Arn)).not.toContain(providerOf(blue));
    expect(listed.map((p) => p.Arn)).not.toContain(providerOf(green));
    expect(await readRole(moto.url, 'flyte-workers-role')).toBeUndefined();
  });
});

describe.skipIf(skip !== undefined)('several clusters with Pod Identity', () => {
  let moto: Moto;
  let stand: PodIdentityStandIn;
  const text = `${BASE}identity: both\ncluster:\n  - blue\n  - { name: green, region: us-east-2 }\n`;
  const run = (args: string[]) =>
    runCli(
      [
        ...args.slice(0, 1).filter((a) => a === 'verify'),
        '--config',
        writeConfig(text),
        ...args.filter((a) => a !== 'verify'),
      ],
      {
        endpoint: stand.url,
      },
    );

  beforeAll(async () => {
    moto = await acquireMoto();
    stand = await startPodIdentityStandIn(moto.url);
    await createCluster(moto.url, 'blue', 'eu-west-1');
    await createCluster(moto.url, 'green', 'us-east-2');
    await createBucket(moto.url, 'acme-flyte-data');
  });
  afterAll(async () => {
    await stand?.stop();
    await moto?.stop();
  });

  it('each cluster gets the add-on and the associations in its region; a re-run writes nothing; verify passes', async () => {
    const apply = await run(['--yes', '--approve-broadening']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const of = (cluster: string, region: string) =>
      stand
        .associationsOf(cluster, region)
        .map((a) => `${a.namespace}/${a.serviceAccount} ${a.roleArn.split('/').pop()}`)
        .sort();
    const expected = ['flyte/default flyte-workers-role', 'flyte/flyte-backend-flyte-binary flyte-system-role'];
    expect(of('blue', 'eu-west-1')).toEqual(expected);
    expect(of('green', 'us-east-2')).toEqual(expected);
    expect(apply.mutating.filter((c) => c.operation === 'CreateAddon')).toHaveLength(2);
    const workers = (await readRole(moto.url, 'flyte-workers-role'))!;
    // IRSA and Pod Identity, a statement each per cluster.
    expect(workers.trust.Statement).toHaveLength(4);

    const again = await run(['--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.mutating).toEqual([]);
    const verify = await run(['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("destroy removes each cluster's associations, in its region", async () => {
    const gone = await runCli(['destroy', '--config', writeConfig(text), '--yes'], { endpoint: stand.url });
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect(gone.mutating.filter((c) => c.operation === 'DeletePodIdentityAssociation')).toHaveLength(4);
    expect(stand.associationsOf('blue', 'eu-west-1')).toEqual([]);
    expect(stand.associationsOf('green', 'us-east-2')).toEqual([]);
  });
});
