/**
 * `destroy` end to end: the built CLI against the emulator removes what `apply` made, in order, leaves what
 * existed before (and what is still in use or attached elsewhere), never touches the cluster, and a second run
 * has nothing to do.
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateClusterCommand, CreateNodegroupCommand, DeleteClusterCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, clients, createCluster, readRole, POLICY_ARN } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
projectRoles:
  - project: fraud
    extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]
`;

const TOOL_ROLES = ['flyte-eks-node-role', 'flyte-system-role', 'flyte-workers-role', 'flyte-fraud-role'];

const EKS_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

describe.skipIf(skip !== undefined)('destroy against the emulator', () => {
  let moto: Moto;
  let configFile: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    configFile = writeConfig(CONFIG);
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => moto.reset());

  const cli = (args: string[]) => runCli(args, { endpoint: moto.url });
  const apply = async () => expect((await cli(['--config', configFile, '--yes', '--approve-broadening'])).code).toBe(0);
  const destroy = (...args: string[]) => cli(['destroy', '--config', configFile, ...args]);

  async function exists(check: () => Promise<unknown>): Promise<boolean> {
    try {
      await check();
      return true;
    } catch (err) {
      if ((err as Error).name === 'NoSuchEntityException' || (err as Error).name === 'NoSuchEntity') return false;
      throw err;
    }
  }
  const policyExists = () => exists(() => clients(moto.url).iam.send(new GetPolicyCommand({ PolicyArn: POLICY_ARN })));
  const providerExists = (arn: string) =>
    exists(() => clients(moto.url).iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })));

  it('removes everything the tool made, in order, leaves a role that existed before; a second destroy does nothing', async () => {
    const issuer = await createCluster(moto.url, 'acme-ml');
    const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer.replace('https://', '')}`;
    const { iam } = clients(moto.url);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'flyte-eks-cluster-role',
        AssumeRolePolicyDocument: EKS_TRUST,
        Tags: [{ Key: 'owner', Value: 'platform' }],
      }),
    );
    await apply();

    const refused = await destroy();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(refused.mutating).toEqual([]);

    const dry = await destroy('--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.mutating).toEqual([]);
    // It existed before: it stays, and loses what the tool attached to it and its records.
    expect(dry.stdout).toMatch(/\[~\] role flyte-eks-cluster-role {2}kept, put back as it was/);
    expect(dry.stdout).toContain('it existed before flyte-aws-setup (no managed-by tag), so it is never deleted');
    expect(dry.stdout).toContain('note: the policies flyte-aws-setup attached are detached (AmazonEKSClusterPolicy)');
    expect(dry.stdout).toContain('[-] role flyte-fraud-role');
    expect(dry.stdout).toContain('[-] policy flyte-custom-policy');
    expect(await readRole(moto.url, 'flyte-system-role')).toBeDefined();

    const run = await destroy('--yes');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Destroy complete');
    // Only IAM: the cluster is never touched.
    expect(run.mutating.every((c) => c.service === 'iam')).toBe(true);
    // Detach everything, then the policy, then the roles, then the provider.
    const ops = run.mutating.map((c) => c.operation);
    const last = (op: string) => ops.lastIndexOf(op);
    const first = (op: string) => ops.indexOf(op);
    expect(last('DetachRolePolicy')).toBeLessThan(first('DeletePolicy'));
    expect(last('DeletePolicy')).toBeLessThan(first('DeleteRole'));
    expect(last('DeleteRole')).toBeLessThan(first('DeleteOpenIDConnectProvider'));
    expect(ops.filter((o) => o === 'DeleteRole')).toHaveLength(TOOL_ROLES.length);

    for (const name of TOOL_ROLES) expect(await readRole(moto.url, name)).toBeUndefined();
    expect(await policyExists()).toBe(false);
    expect(await providerExists(provider)).toBe(false);
    // As it was before the tool: its tags, no policy.
    const kept = await readRole(moto.url, 'flyte-eks-cluster-role');
    expect(kept!.tags).toEqual({ owner: 'platform' });
    expect(kept!.attached).toEqual([]);

    const again = await destroy('--yes');
    expect(again.code).toBe(0);
    expect(again.mutating).toEqual([]);
    expect(again.stdout).toContain('Nothing to remove');
  });

  it('Union global access: detaches the custom policy from the existing userflyterole role, never deletes the role', async () => {
    await createCluster(moto.url, 'acme-ml');
    const { iam } = clients(moto.url);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'acme-userflyterole',
        AssumeRolePolicyDocument: EKS_TRUST,
        Tags: [{ Key: 'owner', Value: 'union' }],
      }),
    );
    const union = writeConfig(`${CONFIG}globalAccess: { role: acme-userflyterole }\n`);
    expect((await cli(['--config', union, '--yes', '--approve-broadening'])).code).toBe(0);
    expect((await readRole(moto.url, 'acme-userflyterole'))!.attached).toEqual([POLICY_ARN]);

    const run = await cli(['destroy', '--config', union, '--yes']);
    expect(run.code).toBe(0);
    const kept = await readRole(moto.url, 'acme-userflyterole');
    expect(kept).toMatchObject({ attached: [], tags: { owner: 'union' } });
    expect(await policyExists()).toBe(false);
    expect(run.mutating.filter((c) => c.operation === 'DeleteRole')).toHaveLength(TOOL_ROLES.length + 1);
  });

  it('once the cluster is gone, finds the provider through the roles; detaches its policy from a role it did not make', async () => {
    const issuer = await createCluster(moto.url, 'acme-ml');
    const host = issuer.replace('https://', '');
    const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`;
    const { iam, eks } = clients(moto.url);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'flyte-system-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: provider },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: {
                  [`${host}:aud`]: 'sts.amazonaws.com',
                  [`${host}:sub`]: 'system:serviceaccount:flyte:flyte-backend-flyte-binary',
                },
              },
            },
          ],
        }),
      }),
    );
    await apply();
    expect((await readRole(moto.url, 'flyte-system-role'))!.attached).toEqual([POLICY_ARN]);

    // While the cluster runs, the provider stays: the role that stays still needs it.
    const dry = await destroy('--dry-run');
    expect(dry.stdout).toMatch(/\[!\] OIDC provider \S+ {2}kept for now/);
    expect(dry.stdout).toContain('roles that stay trust it (flyte-system-role)');

    await eks.send(new DeleteClusterCommand({ name: 'acme-ml' }));
    const run = await destroy('--yes');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("found through the trust of the config's roles");
    expect(await providerExists(provider)).toBe(false);
    expect(await policyExists()).toBe(false);
    const kept = await readRole(moto.url, 'flyte-system-role');
    expect(kept!.attached).toEqual([]);
    expect(kept!.tags).toEqual({});
    for (const name of ['flyte-eks-cluster-role', 'flyte-workers-role', 'flyte-fraud-role']) {
      expect(await readRole(moto.url, name)).toBeUndefined();
    }
  });

  it('keeps the roles the cluster and its node group run with, and a policy attached outside the config; exits 1', async () => {
    const { iam, eks } = clients(moto.url);
    await eks.send(
      new CreateClusterCommand({
        name: 'acme-ml',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/flyte-eks-cluster-role`,
        resourcesVpcConfig: { subnetIds: [] },
      }),
    );
    await eks.send(
      new CreateNodegroupCommand({
        clusterName: 'acme-ml',
        nodegroupName: 'ng-1',
        subnets: ['subnet-1'],
        nodeRole: `arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role`,
      }),
    );
    await apply();
    await iam.send(new CreateRoleCommand({ RoleName: 'analytics', AssumeRolePolicyDocument: EKS_TRUST }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'analytics', PolicyArn: POLICY_ARN }));

    const plan = await destroy('--dry-run', '--json');
    const json = JSON.parse(plan.stdout) as { kind: string; items: { name: string; action: string }[] };
    expect(json.kind).toBe('destroy-plan');
    expect(json.items.filter((i) => i.action === 'blocked').map((i) => i.name)).toEqual([
      'flyte-eks-node-role',
      'flyte-eks-cluster-role',
      'flyte-custom-policy',
    ]);

    const run = await destroy('--yes');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('the EKS cluster acme-ml runs with it (its cluster role)');
    expect(run.stdout).toContain('node group(s) ng-1 of the EKS cluster acme-ml run with it');
    expect(run.stdout).toContain('it is also attached outside the config, to role analytics');
    expect(run.stdout).toContain(`aws iam detach-role-policy --role-name analytics --policy-arn ${POLICY_ARN}`);
    for (const name of ['flyte-eks-cluster-role', 'flyte-eks-node-role']) {
      expect((await readRole(moto.url, name))!.attached.length).toBeGreaterThan(0);
    }
    expect((await readRole(moto.url, 'analytics'))!.attached).toEqual([POLICY_ARN]);
    expect(await policyExists()).toBe(true);
    for (const name of ['flyte-system-role', 'flyte-workers-role', 'flyte-fraud-role']) {
      expect(await readRole(moto.url, name)).toBeUndefined();
    }

    const again = await destroy('--yes');
    expect(again.code).toBe(1);
    expect(again.mutating).toEqual([]);
    expect(again.stdout).toContain('Nothing to remove');
  });
});
