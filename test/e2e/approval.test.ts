/**
 * `--yes` approves what does not broaden access; a plan with a change marked (!) applies only with
 * `--approve-broadening` as well. Refused, nothing at all is changed (no mutating call), the changes are listed
 * with their reasons, the exit code is 5, and `--json` carries the decision.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  ListPolicyVersionsCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clients, createBucket, createCluster, POLICY_ARN, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { motoSkipReason, startMoto, type Moto } from '../helpers/moto.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
vpcDns: off
`;

describe.skipIf(skip !== undefined)('approval of broadening changes under --yes', () => {
  let moto: Moto;
  let config: string;

  beforeAll(async () => {
    moto = await startMoto();
    config = writeConfig(CONFIG);
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml', 'eu-west-1');
    await createBucket(moto.url, 'acme-flyte-data');
  });

  it('refuses a plan that creates the workers role with its *:default wildcard, changing nothing', async () => {
    const r = await runCli(['--config', config, '--yes'], { endpoint: moto.url });
    expect(r.code).toBe(5);
    expect(r.mutating).toEqual([]);
    expect(r.stderr).toMatch(
      /change\(s\) that broaden access \(marked \(!\)\), and --yes approves only changes that do not/,
    );
    expect(r.stderr).toContain('flyte-workers-role: trust: wildcard in sub: system:serviceaccount:*:default');
    expect(r.stderr).toContain('add --approve-broadening to --yes');
    expect(await readRole(moto.url, 'flyte-workers-role')).toBeUndefined();
    expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();

    const json = await runCli(['--config', config, '--yes', '--json'], { endpoint: moto.url });
    expect(json.code).toBe(5);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ kind: 'error', exitCode: 5 });
    expect(doc.broadening).toContain('flyte-workers-role: trust: wildcard in sub: system:serviceaccount:*:default');
  });

  it('applies it with --approve-broadening; a plan that narrows, or changes nothing broad, needs no more than --yes', async () => {
    const applied = await runCli(['--config', config, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(applied.code).toBe(0);
    expect(JSON.stringify((await readRole(moto.url, 'flyte-workers-role'))!.trust)).toContain('*:default');

    // Narrowing the config narrows the trust: not broadening, --yes is enough.
    const narrow = writeConfig(`${CONFIG}workersRole: { allNamespaces: false, namespaces: [ml-production] }\n`);
    const narrowed = await runCli(['--config', narrow, '--yes'], { endpoint: moto.url });
    expect(narrowed.code).toBe(0);
    expect(JSON.stringify((await readRole(moto.url, 'flyte-workers-role'))!.trust)).not.toContain('*:default');

    // Roles that trust no wildcard are made with --yes alone.
    const roles = writeConfig(
      'region: eu-west-1\nbucket: acme-flyte-data\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\nclusterRole: { name: other-cluster-role }\nnodeRole: { name: other-node-role }\n',
    );
    const made = await runCli(['--config', roles, '--yes'], { endpoint: moto.url });
    expect(made.code).toBe(0);
    expect(await readRole(moto.url, 'other-cluster-role')).toBeDefined();
  });

  it('does not re-widen a trust someone narrowed by hand, under --yes alone', async () => {
    expect((await runCli(['--config', config, '--yes', '--approve-broadening'], { endpoint: moto.url })).code).toBe(0);
    const before = (await readRole(moto.url, 'flyte-workers-role'))!;
    const narrowed = JSON.parse(
      JSON.stringify(before.trust).replace('system:serviceaccount:*:default', 'system:serviceaccount:flyte:default'),
    );
    for (const s of narrowed.Statement) {
      s.Condition.StringEquals = { ...s.Condition.StringEquals, ...s.Condition.StringLike };
      delete s.Condition.StringLike;
    }
    await clients(moto.url).iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'flyte-workers-role', PolicyDocument: JSON.stringify(narrowed) }),
    );
    const r = await runCli(['--config', config, '--yes'], { endpoint: moto.url });
    expect(r.code).toBe(5);
    expect(r.mutating).toEqual([]);
    expect(r.stderr).toContain('flyte-workers-role: trust: lets in more: system:serviceaccount:*:default (wildcard)');
    expect(JSON.stringify((await readRole(moto.url, 'flyte-workers-role'))!.trust)).not.toContain('*:default');
  });

  it('adopting a role that existed before and holds AdministratorAccess is broadening: refused under --yes alone', async () => {
    const { iam } = clients(moto.url);
    const ec2 = { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'flyte-workers-role',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [ec2] }),
      }),
    );
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'flyte-workers-role',
        PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    );
    // Narrow workers: no wildcard, so the adoption is the only broadening change.
    const narrow = writeConfig(`${CONFIG}workersRole: { allNamespaces: false, namespaces: [ml-production] }\n`);
    const r = await runCli(['--config', narrow, '--yes'], { endpoint: moto.url });
    expect(r.code).toBe(5);
    expect(r.mutating).toEqual([]);
    expect(r.stderr).toContain(
      'flyte-workers-role: adopts a role that existed before flyte-aws-setup and holds more than this config gives ' +
        'it (AdministratorAccess)',
    );
    expect(JSON.stringify((await readRole(moto.url, 'flyte-workers-role'))!.trust)).toContain('ec2.amazonaws.com');

    const approved = await runCli(['--config', narrow, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(approved.code).toBe(0);
    expect(JSON.stringify((await readRole(moto.url, 'flyte-workers-role'))!.trust)).toContain(
      'system:serviceaccount:ml-production:default',
    );
  });

  it('deleting a version of a hand-made policy to make room is approved like broadening, and the default stays', async () => {
    const { iam } = clients(moto.url);
    const doc = (action: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: action, Resource: 'arn:aws:s3:::acme-flyte-data/*' }],
      });
    await iam.send(new CreatePolicyCommand({ PolicyName: 'flyte-custom-policy', PolicyDocument: doc('s3:GetObject') }));
    for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:GetObjectTagging', 's3:PutObjectTagging']) {
      await iam.send(new CreatePolicyVersionCommand({ PolicyArn: POLICY_ARN, PolicyDocument: doc(action) }));
    }
    const only = writeConfig(
      `${CONFIG}clusterRole: false\nnodeRole: false\noidcProvider: false\nsystemRole: false\nworkersRole: false\n`,
    );
    const versions = async () =>
      ((await iam.send(new ListPolicyVersionsCommand({ PolicyArn: POLICY_ARN }))).Versions ?? []).map(
        (v) => `${v.VersionId}${v.IsDefaultVersion ? '*' : ''}`,
      );
    expect(await versions()).toHaveLength(5);
    const r = await runCli(['--config', only, '--yes'], { endpoint: moto.url });
    expect(r.code).toBe(5);
    expect(r.mutating).toEqual([]);
    expect(r.stderr).toContain('flyte-custom-policy: deletes version v2 of a policy that existed before the tool');
    expect((await versions()).sort()).toEqual(['v1*', 'v2', 'v3', 'v4', 'v5']);

    const approved = await runCli(['--config', only, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(approved.code).toBe(0);
    // v2 made room; v1, the default before, stays (destroy makes it the default again).
    expect((await versions()).sort()).toEqual(['v1', 'v3', 'v4', 'v5', 'v6*']);
  });

  it('--approve-broadening goes with --yes', async () => {
    const r = await runCli(['--config', config, '--approve-broadening'], { endpoint: moto.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--approve-broadening goes with --yes/);
  });
});
