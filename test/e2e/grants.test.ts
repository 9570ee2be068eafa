/**
 * `grants:` end to end: apply makes one policy per role with grants and attaches it, verify checks both, a
 * detached or changed one is reported and mended, the ECR repository of another account is said with the policy
 * that account must add, destroy removes the grants policies with the roles, and a role whose grants leave the
 * config loses its grants policy on the next run (one made by hand stays).
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, clients, createBucket, createCluster, readPolicy, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const REPO = 'arn:aws:ecr:eu-west-1:444455556666:repository/team/trainer';
const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
vpcDns: off
projectRoles:
  - project: fraud
grants:
  - to: workers
    bucket: acme-shared-data
    prefix: features/
  - to: [workers, fraud]
    secret: prod/fraud/db
  - to: node
    ecrRepository: ${REPO}
`;

const policyArn = (role: string) => `arn:aws:iam::${ACCOUNT}:policy/${role}-grants`;
const WORKERS = policyArn('flyte-workers-role');
const FRAUD = policyArn('flyte-fraud-role');
const NODE = policyArn('flyte-eks-node-role');

describe.skipIf(skip !== undefined)('grants against the emulator', () => {
  let moto: Moto;
  let file: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    file = writeConfig(CONFIG);
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
  });

  const cli = (args: string[]) => runCli(args, { endpoint: moto.url });

  it('apply, verify, drift mended, destroy: the policies read back from IAM', async () => {
    const dry = await cli(['--config', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('policy flyte-workers-role-grants');
    expect(dry.stdout).toContain('+ attach to role flyte-workers-role');
    // The system role has no grants, and no grants policy to remove: the plan does not name one.
    expect(dry.stdout).not.toContain('flyte-system-role-grants');
    // Another account's repository: the statement that account must add to its repository policy.
    expect(dry.stdout).toContain(`"Principal":{"AWS":"arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role"}`);

    // The setup without its grants first; then attaching the grants lets more in: --yes alone does not apply it.
    const without = writeConfig(CONFIG.slice(0, CONFIG.indexOf('grants:')));
    expect((await cli(['--config', without, '--yes', '--approve-broadening'])).code).toBe(0);
    const refused = await cli(['--config', file, '--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.mutating).toEqual([]);
    expect((await readRole(moto.url, 'flyte-workers-role'))!.attached.some((a) => a.endsWith('-grants'))).toBe(false);

    const run = await cli(['--config', file, '--yes', '--approve-broadening']);
    expect(run.code).toBe(0);
    const workers = await readPolicy(moto.url, WORKERS);
    expect(workers.document.Statement).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::acme-shared-data/features/*' },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-shared-data',
        Condition: { StringLike: { 's3:prefix': 'features/*' } },
      },
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/fraud/db-??????`,
      },
    ]);
    expect(workers.tags['managed-by']).toBe('flyte-aws-setup');
    expect((await readPolicy(moto.url, FRAUD)).document.Statement).toHaveLength(1);
    expect((await readPolicy(moto.url, NODE)).document.Statement[0]!.Resource).toBe(REPO);
    expect((await readRole(moto.url, 'flyte-workers-role'))!.attached).toContain(WORKERS);
    expect((await readRole(moto.url, 'flyte-fraud-role'))!.attached).toContain(FRAUD);
    expect((await readRole(moto.url, 'flyte-eks-node-role'))!.attached).toContain(NODE);
    // The system role has no grants.
    expect((await readRole(moto.url, 'flyte-system-role'))!.attached.some((a) => a.endsWith('-grants'))).toBe(false);

    const verify = await cli(['verify', '--config', file]);
    expect(verify.code).toBe(0);
    // A re-run has nothing to do.
    const rerun = await cli(['--config', file, '--yes']);
    expect(rerun.code).toBe(0);
    expect(rerun.mutating).toEqual([]);

    // Detached by hand: verify says so, and the next run attaches it again.
    await clients(moto.url).iam.send(new DetachRolePolicyCommand({ RoleName: 'flyte-fraud-role', PolicyArn: FRAUD }));
    const drift = await cli(['verify', '--config', file]);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('policy flyte-fraud-role-grants: is not attached to the role flyte-fraud-role');
    expect((await cli(['--config', file, '--yes', '--approve-broadening'])).code).toBe(0);
    expect((await readRole(moto.url, 'flyte-fraud-role'))!.attached).toContain(FRAUD);

    // A grant widened: a new version of that policy only.
    const wider = writeConfig(CONFIG.replace('prefix: features/', 'prefix: features/\n    access: read-write'));
    const widened = await cli(['--config', wider, '--yes', '--approve-broadening']);
    expect(widened.code).toBe(0);
    expect(widened.mutating.map((c) => c.operation)).toEqual(['CreatePolicyVersion']);
    expect((await readPolicy(moto.url, WORKERS)).document.Statement[0]!.Action).toContain('s3:PutObject');

    const destroy = await cli(['destroy', '--config', wider, '--yes']);
    expect(destroy.code).toBe(0);
    for (const arn of [WORKERS, FRAUD, NODE]) {
      await expect(clients(moto.url).iam.send(new GetPolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
        name: expect.stringMatching(/NoSuchEntity/),
      });
    }
    expect(await readRole(moto.url, 'flyte-workers-role')).toBeUndefined();
  });

  it('a role whose grants leave the config: its grants policy is detached and deleted by --yes alone; a hand-made one stays', async () => {
    const iam = clients(moto.url).iam;
    expect((await cli(['--config', file, '--yes', '--approve-broadening'])).code).toBe(0);
    // A second version of the fraud role's policy: a policy is deleted only once its other versions are.
    await iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: FRAUD,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-shared-data/x/*' }],
        }),
        SetAsDefault: false,
      }),
    );
    // The system role has no grants; someone made a policy of its grants policy's name by hand and attached it.
    const handMade = policyArn('flyte-system-role');
    await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'flyte-system-role-grants',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-shared-data/*' }],
        }),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyArn: handMade }));

    // The fraud role and the node lose their grants; the workers keep theirs.
    const narrowed = writeConfig(
      CONFIG.replace('to: [workers, fraud]', 'to: workers').replace(`  - to: node\n    ecrRepository: ${REPO}\n`, ''),
    );
    expect(narrowed).not.toContain('ecrRepository');
    const dry = await cli(['--config', narrowed, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('- detach from role flyte-fraud-role');
    expect(dry.stdout).toContain('- delete the policy');
    expect(dry.stdout).toContain('flyte-aws-setup did not make it: it is left alone');

    // Until a run removes it, verify fails: it still grants.
    const drift = await cli(['verify', '--config', narrowed]);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain(
      'policy flyte-fraud-role-grants: is still attached to the role flyte-fraud-role, though the config gives that role no grants',
    );

    // A narrowing change: --yes alone applies it.
    const run = await cli(['--config', narrowed, '--yes']);
    expect(run.code).toBe(0);
    const ops = run.mutating.map((c) => c.operation);
    expect(ops.filter((o) => o === 'DeletePolicy')).toHaveLength(2);
    expect(ops).toContain('DeletePolicyVersion');
    expect((await readRole(moto.url, 'flyte-fraud-role'))!.attached).not.toContain(FRAUD);
    expect((await readRole(moto.url, 'flyte-eks-node-role'))!.attached).not.toContain(NODE);
    for (const arn of [FRAUD, NODE]) {
      await expect(iam.send(new GetPolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
        name: expect.stringMatching(/NoSuchEntity/),
      });
    }
    // The workers keep theirs; the hand-made policy stays, attached.
    expect((await readRole(moto.url, 'flyte-workers-role'))!.attached).toContain(WORKERS);
    expect((await readPolicy(moto.url, handMade)).document.Statement).toHaveLength(1);
    expect((await readRole(moto.url, 'flyte-system-role'))!.attached).toContain(handMade);

    // Nothing left to do.
    const rerun = await cli(['--config', narrowed, '--yes']);
    expect(rerun.code).toBe(0);
    expect(rerun.mutating).toEqual([]);
  });

  it("a grant's prefix narrowed and the other grants removed: --yes alone applies it all", async () => {
    expect((await cli(['--config', file, '--yes', '--approve-broadening'])).code).toBe(0);
    // The tester's case: features/ narrowed to features/public/, the secret and ECR grants removed.
    const narrowed = writeConfig(
      CONFIG.slice(0, CONFIG.indexOf('grants:')) +
        'grants:\n  - to: workers\n    bucket: acme-shared-data\n    prefix: features/public/\n',
    );
    const dry = await cli(['--config', narrowed, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toContain('(!)');

    const run = await cli(['--config', narrowed, '--yes']);
    expect(run.code).toBe(0);
    const ops = run.mutating.map((c) => c.operation);
    expect(ops).toContain('CreatePolicyVersion');
    expect(ops.filter((o) => o === 'DeletePolicy')).toHaveLength(2);
    expect((await readPolicy(moto.url, WORKERS)).document.Statement).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::acme-shared-data/features/public/*' },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-shared-data',
        Condition: { StringLike: { 's3:prefix': 'features/public/*' } },
      },
    ]);
    for (const arn of [FRAUD, NODE]) {
      await expect(clients(moto.url).iam.send(new GetPolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
        name: expect.stringMatching(/NoSuchEntity/),
      });
    }

    // Widened back to features/: that lets more in, and --yes alone changes nothing.
    const widened = writeConfig(
      CONFIG.slice(0, CONFIG.indexOf('grants:')) +
        'grants:\n  - to: workers\n    bucket: acme-shared-data\n    prefix: features/\n',
    );
    const refused = await cli(['--config', widened, '--yes']);
    expect(refused.code).toBe(5);
    expect(refused.stdout + refused.stderr).toContain('allows s3:getobject, s3:listbucket on');
    expect(refused.mutating).toEqual([]);
  });

  it('the last grant removed: the grants policies still go, by --yes alone; a config that never had grants reads none', async () => {
    expect((await cli(['--config', file, '--yes', '--approve-broadening'])).code).toBe(0);
    const none = writeConfig(CONFIG.slice(0, CONFIG.indexOf('grants:')));
    expect(none).not.toContain('grants');

    const dry = await cli(['--config', none, '--dry-run']);
    expect(dry.code).toBe(0);
    for (const role of ['flyte-workers-role', 'flyte-fraud-role', 'flyte-eks-node-role']) {
      expect(dry.stdout).toContain(`- detach from role ${role}`);
    }
    expect(dry.stdout).not.toContain('skipped (no grants in the config)');
    const verify = await cli(['verify', '--config', none]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(
      'policy flyte-workers-role-grants: is still attached to the role flyte-workers-role',
    );

    const run = await cli(['--config', none, '--yes']);
    expect(run.code).toBe(0);
    expect(run.mutating.filter((c) => c.operation === 'DeletePolicy')).toHaveLength(3);
    for (const [role, arn] of [
      ['flyte-workers-role', WORKERS],
      ['flyte-fraud-role', FRAUD],
      ['flyte-eks-node-role', NODE],
    ] as const) {
      expect((await readRole(moto.url, role))!.attached).not.toContain(arn);
    }

    // Gone: the section looks up nothing more (the roles' attachments, read anyway, show no grants policy): the one
    // GetPolicy is the custom policy's.
    const rerun = await cli(['--config', none, '--yes']);
    expect(rerun.code).toBe(0);
    expect(rerun.mutating).toEqual([]);
    expect(rerun.calls.filter((c) => c.operation === 'GetPolicy')).toHaveLength(1);
  });

  it('destroy by a config without grants deletes the grants policies it finds on its roles', async () => {
    expect((await cli(['--config', file, '--yes', '--approve-broadening'])).code).toBe(0);
    const none = writeConfig(CONFIG.slice(0, CONFIG.indexOf('grants:')));
    const destroy = await cli(['destroy', '--config', none, '--yes']);
    expect(destroy.code).toBe(0);
    const iam = clients(moto.url).iam;
    for (const arn of [WORKERS, FRAUD, NODE]) {
      await expect(iam.send(new GetPolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
        name: expect.stringMatching(/NoSuchEntity/),
      });
    }
  });
});
