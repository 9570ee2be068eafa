/**
 * What the config names that must exist (the extra policies, the boundary, Union's role and policy) and a cluster
 * that is not found: which references a config has, what is said of a missing one, when a cluster name is taken
 * for a typo, and the plan's look-ups against mocked AWS (each read once, beside the plan's reads, a refusal
 * skipped, the AWS managed policies listed only for a missing one).
 */
import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE } from '../../src/config/rules.js';
import { makePlan } from '../../src/engine/engine.js';
import { clusterNotFound, configReferences, missingReference } from '../../src/engine/references.js';
import { ConfigError } from '../../src/errors.js';
import { loadConfigFile, parseConfigText } from '../../src/load/config.js';
import { writeConfig } from '../helpers/cli.js';
import type { Facts } from '../../src/model.js';
import { awsError, mockAws, roleAnswer } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const FACTS: Facts = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  offline: false,
  cluster: { state: 'missing', name: 'acme' },
};
const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';
const AWS_POLICIES = [
  { name: 'AmazonAthenaFullAccess', arn: ATHENA },
  { name: 'AWSLambdaBasicExecutionRole', arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' },
  { name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
];

describe('the references of a config', () => {
  it('the boundary, each extra policy, Union role and policy, each with its key path', () => {
    const config = parseConfigText(`
bucket: acme-flyte-data
cluster: acme
permissionsBoundary: arn:aws:iam::${ACCOUNT}:policy/boundary
systemRole: { extraPolicies: [arn:aws:iam::aws:policy/ReadOnlyAccess] }
workersRole: { extraPolicies: [arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy] }
globalAccess: { role: acme-userflyterole }
projectRoles:
  - project: fraud
    userFlyteRolePolicy: true
    extraPolicies: [${ATHENA}, arn:aws:iam::aws:policy/ReadOnlyAccess]
`);
    const refs = configReferences(config, FACTS).map((r) =>
      r.kind === 'policy' ? `${r.path.join('.')} ${r.arn}` : `${r.path.join('.')} role ${r.name}`,
    );
    expect(refs).toEqual([
      `permissionsBoundary arn:aws:iam::${ACCOUNT}:policy/boundary`,
      'systemRole.extraPolicies.0 arn:aws:iam::aws:policy/ReadOnlyAccess',
      // The config's own custom policy in workersRole.extraPolicies is made by the run: not a reference.
      `projectRoles.0.userFlyteRolePolicy arn:aws:iam::${ACCOUNT}:policy/userflyterole`,
      `projectRoles.0.extraPolicies.0 ${ATHENA}`,
      'projectRoles.0.extraPolicies.1 arn:aws:iam::aws:policy/ReadOnlyAccess',
      'globalAccess.role role acme-userflyterole',
    ]);
  });

  it('a section that is off has none; the AWS managed policies the tool attaches itself are none', () => {
    const config = parseConfigText(`bucket: b-flyte\ncluster: acme\nsystemRole: false\nworkersRole: false\n`);
    expect(configReferences(config, FACTS)).toEqual([]);
  });
});

describe('what is said of a reference that does not exist', () => {
  it('an AWS managed policy: the closest name, as its ARN (with its path)', () => {
    const at = { kind: 'policy' as const, path: ['systemRole', 'extraPolicies', 0] };
    expect(
      missingReference({ ...at, arn: 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess' }, ACCOUNT, AWS_POLICIES),
    ).toBe(
      `the AWS managed policy arn:aws:iam::aws:policy/AmazonAthenaFullAcess does not exist: did you mean ${ATHENA}?`,
    );
    expect(
      missingReference({ ...at, arn: 'arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole' }, ACCOUNT, AWS_POLICIES),
    ).toBe(
      'the AWS managed policy arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole does not exist: did you mean ' +
        'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole?',
    );
    // Nothing close: no guess.
    expect(missingReference({ ...at, arn: 'arn:aws:iam::aws:policy/Nothing' }, ACCOUNT, AWS_POLICIES)).toBe(
      'the AWS managed policy arn:aws:iam::aws:policy/Nothing does not exist',
    );
    // The list could not be read: no guess either.
    expect(missingReference({ ...at, arn: 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess' }, ACCOUNT, [])).toBe(
      'the AWS managed policy arn:aws:iam::aws:policy/AmazonAthenaFullAcess does not exist',
    );
  });

  it("an AWS managed policy's name under the account's ARN says whose it is; a role says what to do", () => {
    expect(
      missingReference(
        { kind: 'policy', arn: `arn:aws:iam::${ACCOUNT}:policy/AmazonAthenaFullAccess`, path: [] },
        ACCOUNT,
        AWS_POLICIES,
      ),
    ).toBe(
      `the policy arn:aws:iam::${ACCOUNT}:policy/AmazonAthenaFullAccess does not exist: AmazonAthenaFullAccess is ` +
        `an AWS managed policy (${ATHENA})`,
    );
    expect(
      missingReference({ kind: 'role', name: 'acme-userflyterole', path: [], missing: 'check the name' }, ACCOUNT, []),
    ).toBe(`the role acme-userflyterole does not exist in account ${ACCOUNT}; check the name`);
  });
});

describe('where a missing reference is reported', () => {
  it("like the file's own problems: at its line and column, or under --key when a flag gave the value", async () => {
    const good = writeConfig(
      `region: eu-west-1\ncluster: acme\nbucket: acme-flyte-data\nsystemRole:\n  extraPolicies: [${ATHENA}]\n`,
    );
    const placed = (await loadConfigFile(good, { cluster: 'other' })).place([
      { path: ['systemRole', 'extraPolicies', 0], message: 'm' },
      { path: ['cluster'], message: 'c' },
    ]);
    expect(placed).toEqual([
      { path: ['systemRole', 'extraPolicies', 0], message: 'm', line: 5, col: 19 },
      { path: ['--cluster'], message: 'c' },
    ]);
  });
});

describe('a cluster that is not found', () => {
  it('with no other cluster in the region (or none listed): nothing to say, it is not created yet', () => {
    expect(clusterNotFound('acme-ml', 'eu-west-1', [])).toEqual({});
    expect(clusterNotFound('acme-ml', 'eu-west-1', undefined)).toEqual({});
  });

  it('a name close to one of the region: a problem at `cluster`, with a did-you-mean and the region', () => {
    expect(clusterNotFound('acme-ml', 'eu-west-1', ['acme-m1', 'data-eng'])).toEqual({
      problem: {
        path: ['cluster'],
        message:
          'no EKS cluster acme-ml in eu-west-1; the region has acme-m1, data-eng: did you mean acme-m1? (or is it ' +
          'in another region? --region)',
      },
    });
    // Case and separators are a typo too.
    expect(clusterNotFound('Acme_ML', 'eu-west-1', ['acme-ml']).problem?.message).toContain('did you mean acme-ml?');
  });

  it('others, none close: said beside the waiting plan; a long list is cut', () => {
    expect(clusterNotFound('acme-ml', 'eu-west-1', ['data-eng'])).toEqual({
      said: 'no EKS cluster acme-ml in eu-west-1; the region has data-eng (or is acme-ml in another region? --region)',
    });
    const many = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6', 'g7'].map((n) => `team-${n}-cluster`);
    expect(clusterNotFound('acme-ml', 'eu-west-1', many).said).toContain(
      'the region has team-a1-cluster, team-b2-cluster, team-c3-cluster, team-d4-cluster, team-e5-cluster and 2 more',
    );
  });
});

/** The system role carries Athena and a typo of it; the workers role Athena. */
const CONFIG = parseConfigText(`
bucket: acme-flyte-data
cluster: acme
vpcDns: off
systemRole: { extraPolicies: [${ATHENA}, arn:aws:iam::aws:policy/AmazonAthenaFullAcess] }
workersRole: { extraPolicies: [${ATHENA}] }
`);

describe('the look-ups of a plan, against mocked AWS', () => {
  function account(m: ReturnType<typeof mockAws>, existing: string[]) {
    m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyCommand).callsFake((input: { PolicyArn: string }) => {
      if (existing.includes(input.PolicyArn)) return { Policy: { Arn: input.PolicyArn, DefaultVersionId: 'v1' } };
      throw awsError('NoSuchEntity');
    });
    m.iam.on(ListPoliciesCommand).resolves({
      Policies: AWS_POLICIES.map((p) => ({ PolicyName: p.name, Arn: p.arn })),
      IsTruncated: false,
    });
  }

  const asked = (m: ReturnType<typeof mockAws>) =>
    m.iam.commandCalls(GetPolicyCommand).map((c) => c.args[0].input.PolicyArn);

  it('each distinct policy read once; a missing one is a ConfigError at its key, with a did-you-mean', async () => {
    const m = mockAws();
    account(m, [ATHENA]);
    const err = await makePlan(CONFIG, m.gateway, { references: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      {
        path: ['systemRole', 'extraPolicies', 1],
        message:
          'the AWS managed policy arn:aws:iam::aws:policy/AmazonAthenaFullAcess does not exist: did you mean ' +
          `${ATHENA}?`,
      },
    ]);
    // The custom policy (the plan's own read), Athena once though it is named twice, and the typo.
    expect(asked(m).sort()).toEqual(
      [
        'arn:aws:iam::111122223333:policy/flyte-custom-policy',
        ATHENA,
        'arn:aws:iam::aws:policy/AmazonAthenaFullAcess',
      ].sort(),
    );
    expect(m.iam.commandCalls(ListPoliciesCommand)).toHaveLength(1);
  });

  it('all there: the plan is made, and the AWS managed policies are not listed', async () => {
    const m = mockAws();
    account(m, [ATHENA, 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess']);
    const plan = await makePlan(CONFIG, m.gateway, { references: true });
    expect(plan.sections.find((s) => s.id === 'systemRole')!.status).toBe('create');
    expect(m.iam.commandCalls(ListPoliciesCommand)).toHaveLength(0);
  });

  it('a look-up the caller may not make is skipped, not failed (the run says so when it attaches)', async () => {
    const m = mockAws();
    account(m, []);
    m.iam.on(GetPolicyCommand, { PolicyArn: ATHENA }).rejects(awsError('AccessDenied'));
    m.iam
      .on(GetPolicyCommand, { PolicyArn: 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess' })
      .rejects(awsError('AccessDenied'));
    const plan = await makePlan(CONFIG, m.gateway, { references: true });
    expect(plan.sections.find((s) => s.id === 'workersRole')!.status).toBe('create');
  });

  it('without `references` (the wizard plans a section at a time) nothing is looked up', async () => {
    const m = mockAws();
    account(m, []);
    await makePlan(CONFIG, m.gateway);
    expect(asked(m)).toEqual(['arn:aws:iam::111122223333:policy/flyte-custom-policy']);
  });

  it('a cluster not found: the region is listed; a close name stops, another is said in the waiting plan', async () => {
    const m = mockAws();
    account(m, [ATHENA, 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess']);
    m.eks.on(DescribeClusterCommand).rejects(awsError('ResourceNotFoundException'));
    m.eks.on(ListClustersCommand).resolves({ clusters: ['acne', 'data-eng'] });
    const err = await makePlan(CONFIG, m.gateway, { references: true }).catch((e: unknown) => e);
    expect((err as ConfigError).problems[0]!.message).toContain('did you mean acne?');

    m.eks.on(ListClustersCommand).resolves({ clusters: ['data-eng'] });
    const plan = await makePlan(CONFIG, m.gateway, { references: true });
    const waiting = plan.sections.filter((s) => s.status === 'waiting').map((s) => s.waiting!.reason);
    expect(new Set(waiting)).toEqual(
      new Set(['no EKS cluster acme in eu-west-1; the region has data-eng (or is acme in another region? --region)']),
    );
    expect(plan.sections.find((s) => s.status === 'waiting')!.waiting!.todo).toMatch(
      /^if acme is a new cluster, create it with the cluster role \(aws eks create-cluster --name acme /,
    );

    // Clusters that cannot be listed: as before, not created yet.
    m.eks.on(ListClustersCommand).rejects(awsError('AccessDeniedException'));
    const before = await makePlan(CONFIG, m.gateway, { references: true });
    expect(before.sections.find((s) => s.status === 'waiting')!.waiting!.reason).toBe(
      'the EKS cluster acme does not exist yet in eu-west-1',
    );
  });
});

describe("a policy the config's roles hold attached", () => {
  const ROLES = ['flyte-system-role', 'flyte-workers-role'];

  /**
   * An account holding `roles` (listed, the tool's, with `attached` attached to each) and the policies `existing`; what is
   * asked and answered is logged in order. A role's reads answer after `delay` ms.
   */
  function account(roles: string[], attached: string[], existing: string[], delay = 0) {
    const m = mockAws({ account: ACCOUNT });
    const log: string[] = [];
    const later = () => new Promise((resolve) => setTimeout(resolve, delay));
    m.iam.on(ListRolesCommand).resolves({
      Roles: roles.map((RoleName) => ({
        RoleName,
        Path: '/',
        Arn: `x/${RoleName}`,
        RoleId: 'x',
        CreateDate: new Date(),
      })),
    });
    m.iam.on(GetRoleCommand).callsFake(async (input: { RoleName: string }) => {
      await later();
      log.push(`GetRole ${input.RoleName}`);
      if (!roles.includes(input.RoleName)) throw awsError('NoSuchEntity');
      return roleAnswer(
        input.RoleName,
        { Version: '2012-10-17', Statement: [] },
        { [MANAGED_BY_KEY]: MANAGED_BY_VALUE },
        ACCOUNT,
      );
    });
    m.iam.on(ListAttachedRolePoliciesCommand).callsFake(async (input: { RoleName: string }) => {
      await later();
      log.push(`ListAttachedRolePolicies ${input.RoleName}`);
      return { AttachedPolicies: attached.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })) };
    });
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyCommand).callsFake((input: { PolicyArn: string }) => {
      log.push(`GetPolicy ${input.PolicyArn}`);
      if (existing.includes(input.PolicyArn)) return { Policy: { Arn: input.PolicyArn, DefaultVersionId: 'v1' } };
      throw awsError('NoSuchEntity');
    });
    m.iam.on(ListPoliciesCommand).resolves({
      Policies: AWS_POLICIES.map((p) => ({ PolicyName: p.name, Arn: p.arn })),
      IsTruncated: false,
    });
    return { m, log };
  }
  const lookedUp = (log: string[]) => log.filter((l) => l.startsWith('GetPolicy arn:aws:iam::aws:'));

  it("is proven by the role's attachments, not looked up; one a role lacks is looked up once they are read", async () => {
    const { m, log } = account(ROLES, [ATHENA], [ATHENA]);
    const err = await makePlan(CONFIG, m.gateway, { references: true, trustRoleListing: true }).catch((e) => e);
    // The typo is not attached to the system role, so it is looked up, and is still a ConfigError at its key.
    expect((err as ConfigError).problems.map((p) => p.path)).toEqual([['systemRole', 'extraPolicies', 1]]);
    expect(lookedUp(log)).toEqual(['GetPolicy arn:aws:iam::aws:policy/AmazonAthenaFullAcess']);
    expect(log.indexOf('GetPolicy arn:aws:iam::aws:policy/AmazonAthenaFullAcess')).toBeGreaterThan(
      log.indexOf('ListAttachedRolePolicies flyte-system-role'),
    );

    // Both attached: nothing looked up, the plan is made.
    const both = account(ROLES, [ATHENA, 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess'], [ATHENA]);
    await makePlan(CONFIG, both.m.gateway, { references: true, trustRoleListing: true });
    expect(lookedUp(both.log)).toEqual([]);
  });

  it('roles the listing lacks (a first setup): looked up at once, without waiting for any role read', async () => {
    const { m, log } = account([], [], [ATHENA, 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess'], 20);
    // A dry run reads every role (GetRole, 20 ms each): the look-ups do not wait for those reads.
    await makePlan(CONFIG, m.gateway, { references: true });
    expect(lookedUp(log)).toHaveLength(2);
    const firstRoleRead = log.findIndex((l) => l.startsWith('GetRole'));
    expect(log.slice(0, firstRoleRead).filter((l) => l.startsWith('GetPolicy arn:aws:iam::aws:'))).toHaveLength(2);
  });

  it('verify looks every one up (its access check needs the default version GetPolicy tells)', async () => {
    const { m, log } = account(ROLES, [ATHENA, 'arn:aws:iam::aws:policy/AmazonAthenaFullAcess'], [ATHENA]);
    const err = await makePlan(CONFIG, m.gateway, { references: true, audit: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(lookedUp(log).sort()).toEqual(
      [`GetPolicy ${ATHENA}`, 'GetPolicy arn:aws:iam::aws:policy/AmazonAthenaFullAcess'].sort(),
    );
  });

  it('when the plan fails first (another look-up fails), nothing is looked up once the roles are read', async () => {
    const { m, log } = account(ROLES, [], [ATHENA], 30);
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/boundary`;
    m.iam.on(GetPolicyCommand, { PolicyArn: boundary }).rejects(awsError('InvalidInput', 'the ARN is not valid'));
    const config = parseConfigText(
      `bucket: acme-flyte-data\ncluster: acme\nvpcDns: off\npermissionsBoundary: ${boundary}\n` +
        `workersRole: { extraPolicies: [${ATHENA}] }\n`,
    );
    await expect(makePlan(config, m.gateway, { references: true, trustRoleListing: true })).rejects.toThrow(
      /not valid/,
    );
    // The workers role's reads end (without Athena attached) after the plan has failed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log.filter((l) => l.startsWith('ListAttachedRolePolicies flyte-workers-role'))).toHaveLength(1);
    expect(lookedUp(log)).toEqual([]);
  });

  it('when the role reads fail, the plan fails and nothing is looked up after them', async () => {
    const { m, log } = account(ROLES, [], [ATHENA], 5);
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('AccessDenied', 'not authorized'));
    await expect(makePlan(CONFIG, m.gateway, { references: true, trustRoleListing: true })).rejects.toThrow(
      /iam:ListAttachedRolePolicies/,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lookedUp(log)).toEqual([]);
  });
});
