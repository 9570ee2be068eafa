/**
 * The sections beyond the main seven: Union's global access (an existing role that only gets an attachment),
 * the Union flavour of project-domain roles (the `userflyterole` policy), and the cluster VPC's DNS check.
 * Config rules, pure planning, and the engine with mocked AWS.
 */
import { DescribeSubnetsCommand, DescribeVpcAttributeCommand, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolesCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfigFile, parseConfigText } from '../../src/load/config.js';
import { applyPlan } from '../../src/engine/apply.js';
import { buildPlan, desiredSections, makePlan } from '../../src/engine/engine.js';
import type { CurrentRole, DesiredAttachment, DesiredRole, DesiredVpcDns, Facts } from '../../src/model.js';
import { planAttachment, planVpcDns } from '../../src/engine/plan.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { bucketPolicyDocument, serviceTrustPolicy } from '../../src/policy/document.js';
import { ROOT } from '../helpers/cli.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';

const MIN = 'cluster: acme\nbucket: acme-flyte-data\n';
const FAST = { consistency: { timeoutMs: 2_000, initialDelayMs: 1 } };

function messages(text: string): string {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem).join('\n');
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

function facts(over: Partial<Facts> = {}, vpcId?: string): Facts {
  return {
    partition: 'aws',
    accountId: '111122223333',
    region: 'eu-west-1',
    offline: false,
    cluster: {
      state: 'ready',
      name: 'acme',
      status: 'ACTIVE',
      issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      ...(vpcId ? { vpcId } : {}),
    },
    ...over,
  };
}

function existingRole(over: Partial<CurrentRole> = {}): CurrentRole {
  return {
    kind: 'role',
    name: 'acme-userflyterole',
    arn: 'arn:aws:iam::111122223333:role/union/acme-userflyterole',
    path: '/union/',
    trust: serviceTrustPolicy('eks.amazonaws.com'),
    attached: ['arn:aws:iam::111122223333:policy/userflyterole'],
    tags: { owner: 'union' },
    ...over,
  };
}

describe('config: globalAccess, vpcDns, userFlyteRolePolicy', () => {
  it('reads them, with their defaults', () => {
    const c = parseConfigText(
      `${MIN}globalAccess: { role: acme-userflyterole }\nvpcDns: fix\nprojectRoles:\n  - project: fraud\n    userFlyteRolePolicy: true\n`,
    );
    expect(c.globalAccess).toEqual({ role: 'acme-userflyterole' });
    expect(c.vpcDns).toBe('fix');
    expect(c.projectRoles[0]!.userFlyteRolePolicy).toBe(true);
    const d = parseConfigText(MIN);
    expect(d.globalAccess).toBe(false);
    expect(d.vpcDns).toBe('check');
  });

  it.each<[string, string, RegExp]>([
    [
      'vpcDns not one of the modes',
      `${MIN}vpcDns: yes\n`,
      /line 3, column 1: vpcDns: must be one of check, fix, off; not the string "yes"/,
    ],
    ['vpcDns as a boolean', `${MIN}vpcDns: true\n`, /vpcDns: must be one of check, fix, off; not the boolean true/],
    ['globalAccess without role', `${MIN}globalAccess: {}\n`, /globalAccess.role: is required/],
    ['globalAccess as true', `${MIN}globalAccess: true\n`, /globalAccess: must be a mapping, not the boolean true/],
    [
      'a typo in globalAccess',
      `${MIN}globalAccess: { roleName: x }\n`,
      /globalAccess.roleName: unknown key; allowed here: role/,
    ],
    [
      'a bad role name',
      `${MIN}globalAccess: { role: "my role" }\n`,
      /globalAccess.role: may only hold letters, digits/,
    ],
    [
      'userFlyteRolePolicy that is not a boolean',
      `${MIN}projectRoles:\n  - project: p\n    userFlyteRolePolicy: "yes"\n`,
      /projectRoles\[0\].userFlyteRolePolicy: must be true or false, not the string "yes"/,
    ],
    [
      'globalAccess without the custom policy',
      `${MIN}customPolicy: false\nglobalAccess: { role: acme-userflyterole }\n`,
      /globalAccess: attaches the custom policy to the existing role, but customPolicy is false/,
    ],
    [
      'globalAccess naming a role the config makes',
      `${MIN}globalAccess: { role: flyte-workers-role }\n`,
      /globalAccess.role: "flyte-workers-role" is the role workersRole.name makes and manages/,
    ],
    [
      'globalAccess naming a project role',
      `${MIN}projectRoles: [{ project: fraud }]\nglobalAccess: { role: flyte-fraud-role }\n`,
      /globalAccess.role: "flyte-fraud-role" is the role projectRoles\[0\].project makes/,
    ],
    [
      'vpcDns: fix without a cluster',
      'bucket: acme-flyte-data\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: fix\n',
      /cluster: is required by Cluster VPC DNS \(.*vpcDns: off\)/,
    ],
  ])('%s', (_name, text, expected) => {
    expect(messages(text)).toMatch(expected);
  });
});

describe('global access: an attachment to an existing role', () => {
  const desired: DesiredAttachment = {
    kind: 'attachment',
    name: 'acme-userflyterole',
    arn: 'arn:aws:iam::111122223333:role/acme-userflyterole',
    policyArns: ['arn:aws:iam::111122223333:policy/flyte-custom-policy'],
  };

  it('the section wants the custom policy on the named role, after the custom policy', () => {
    const config = parseConfigText(`${MIN}globalAccess: { role: acme-userflyterole }\n`);
    const section = desiredSections(config, facts()).find((s) => s.def.id === 'globalAccess')!;
    expect(section.def.dependsOn).toEqual(['customPolicy']);
    expect(section.resources).toEqual([desired]);
    expect(section.notes).toBeUndefined();
  });

  it('a role name without -userflyterole is a warning, not an error', () => {
    const config = parseConfigText(`${MIN}globalAccess: { role: task-role }\n`);
    const section = desiredSections(config, facts()).find((s) => s.def.id === 'globalAccess')!;
    expect(section.notes![0]).toMatchObject({ level: 'warn' });
    expect(section.notes![0]!.message).toMatch(/task-role does not end in -userflyterole/);
  });

  it('attaches what is missing and nothing else: no trust, tag or boundary change, marked (!)', () => {
    const plan = planAttachment(desired, existingRole({ trust: { Version: '2012-10-17', Statement: [] } }));
    expect(plan.steps).toEqual([
      {
        op: 'AttachRolePolicy',
        roleName: 'acme-userflyterole',
        policyArn: 'arn:aws:iam::111122223333:policy/flyte-custom-policy',
      },
    ]);
    expect(plan.action).toBe('update');
    expect(plan.owned).toBe(false);
    // The ARN is the role's own (its path), not the one guessed at /.
    expect(plan.arn).toBe('arn:aws:iam::111122223333:role/union/acme-userflyterole');
    expect(plan.security).toEqual(['attaches flyte-custom-policy: every task that runs as this role gets it']);
  });

  it('already attached: nothing to do', () => {
    const plan = planAttachment(
      desired,
      existingRole({ attached: ['arn:aws:iam::111122223333:policy/flyte-custom-policy'] }),
    );
    expect(plan).toMatchObject({ action: 'none', steps: [], security: [] });
    expect(plan.blocked).toBeUndefined();
  });

  it('a role that does not exist blocks the section: never created', () => {
    const plan = planAttachment(desired, undefined);
    expect(plan.steps).toEqual([]);
    expect(plan.blocked).toMatch(/the role acme-userflyterole does not exist; .* never creates it/);
    const config = parseConfigText(`${MIN}globalAccess: { role: acme-userflyterole }\n`);
    const f = facts();
    const built = buildPlan(f, desiredSections(config, f), new Map());
    expect(built.sections.find((s) => s.id === 'globalAccess')!.status).toBe('blocked');
  });
});

describe('Union project-domain roles', () => {
  it("userFlyteRolePolicy attaches the account's userflyterole policy, in the account's partition", () => {
    const config = parseConfigText(
      'region: cn-north-1\ncluster: acme\nbucket: acme-flyte-data\nprojectRoles:\n  - project: fraud\n    userFlyteRolePolicy: true\n  - project: risk\n',
    );
    const f = facts({ partition: 'aws-cn', region: 'cn-north-1' });
    const roles = desiredSections(config, f).find((s) => s.def.id === 'projectRoles')!.resources as DesiredRole[];
    expect(roles[0]!.managedPolicies).toEqual([
      'arn:aws-cn:iam::111122223333:policy/flyte-custom-policy',
      'arn:aws-cn:iam::111122223333:policy/userflyterole',
    ]);
    expect(roles[1]!.managedPolicies).toEqual(['arn:aws-cn:iam::111122223333:policy/flyte-custom-policy']);
  });
});

describe('the cluster VPC', () => {
  const desired = (fix: boolean): DesiredVpcDns => ({
    kind: 'vpc-dns',
    name: 'vpc-0abc',
    arn: 'arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0abc',
    region: 'eu-west-1',
    clusters: ['acme'],
    fix,
  });
  const off = { kind: 'vpc-dns' as const, vpcId: 'vpc-0abc', enableDnsSupport: false, enableDnsHostnames: false };

  it('check: each attribute that is off is a finding with the command that fixes it; nothing to do', () => {
    const plan = planVpcDns(desired(false), { ...off, enableDnsSupport: true });
    expect(plan.steps).toEqual([]);
    expect(plan.action).toBe('none');
    expect(plan.findings).toEqual([
      {
        code: 'vpc-dns-off',
        severity: 'error',
        message: expect.stringMatching(/^enableDnsHostnames is off: nodes cannot register/),
        fix: 'aws ec2 modify-vpc-attribute --region eu-west-1 --vpc-id vpc-0abc --enable-dns-hostnames',
      },
    ]);
  });

  it('fix: one ModifyVpcAttribute per attribute, DNS support first (hostnames need it)', () => {
    const plan = planVpcDns(desired(true), off);
    expect(plan.steps).toEqual([
      { op: 'ModifyVpcAttribute', vpcId: 'vpc-0abc', region: 'eu-west-1', attribute: 'enableDnsSupport' },
      { op: 'ModifyVpcAttribute', vpcId: 'vpc-0abc', region: 'eu-west-1', attribute: 'enableDnsHostnames' },
    ]);
    expect(plan.findings).toBeUndefined();
    expect(plan.security).toEqual([]);
  });

  it('both on: up to date in either mode', () => {
    const on = { ...off, enableDnsSupport: true, enableDnsHostnames: true };
    for (const fix of [true, false]) {
      const plan = planVpcDns(desired(fix), on);
      expect(plan).toMatchObject({ action: 'none', steps: [] });
      expect(plan.findings).toBeUndefined();
    }
  });

  it('the section wants the VPC of the cluster, in the ARN of its region and account', () => {
    const section = desiredSections(parseConfigText(`${MIN}vpcDns: fix\n`), facts({}, 'vpc-0abc')).find(
      (s) => s.def.id === 'clusterVpc',
    )!;
    expect(section.resources).toEqual([desired(true)]);
    const unknown = desiredSections(parseConfigText(MIN), facts()).find((s) => s.def.id === 'clusterVpc')!;
    expect(unknown.resources).toEqual([]);
    expect(unknown.notes![0]!.message).toMatch(
      /VPC of the cluster acme is not known .*; its DNS settings are not checked/,
    );
  });
});

describe('the engine with mocked AWS', () => {
  function account(m: ReturnType<typeof mockAws>) {
    m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
  }
  const VPC_ONLY = `${MIN}oidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nclusterRole: false\nnodeRole: false\nvpcDns: fix\n`;

  it("finds the VPC through the cluster's subnets when DescribeCluster names none, and turns DNS on", async () => {
    const m = mockAws();
    account(m);
    m.eks.on(DescribeClusterCommand).resolves({
      cluster: {
        name: 'acme',
        status: 'ACTIVE',
        identity: { oidc: { issuer: ISSUER } },
        resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
      },
    });
    m.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-1', VpcId: 'vpc-0abc' }] });
    let hostnames = false;
    m.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({
      EnableDnsSupport: { Value: true },
    });
    m.ec2
      .on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' })
      .callsFake(() => ({ EnableDnsHostnames: { Value: hostnames } }));
    m.ec2.on(ModifyVpcAttributeCommand).callsFake(() => {
      hostnames = true;
      return {};
    });

    const plan = await makePlan(parseConfigText(VPC_ONLY), m.gateway);
    expect(plan.facts.cluster).toMatchObject({ vpcId: 'vpc-0abc' });
    expect(m.ec2.commandCalls(DescribeSubnetsCommand)[0]!.args[0].input).toEqual({
      SubnetIds: ['subnet-1', 'subnet-2'],
    });
    const vpc = plan.sections.find((s) => s.id === 'clusterVpc')!;
    expect(vpc.resources[0]!.steps).toEqual([
      { op: 'ModifyVpcAttribute', vpcId: 'vpc-0abc', region: 'eu-west-1', attribute: 'enableDnsHostnames' },
    ]);

    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    const calls = m.ec2.commandCalls(ModifyVpcAttributeCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([{ VpcId: 'vpc-0abc', EnableDnsHostnames: { Value: true } }]);
    expect(result.sections.find((s) => s.id === 'clusterVpc')!.resources[0]!.arn).toBe(
      'arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0abc',
    );
  });

  it('uses the VPC ID DescribeCluster gives without asking for the subnets; a VPC that is gone is a finding', async () => {
    const m = mockAws();
    account(m);
    m.eks.on(DescribeClusterCommand).resolves({
      cluster: {
        name: 'acme',
        status: 'ACTIVE',
        identity: { oidc: { issuer: ISSUER } },
        resourcesVpcConfig: { vpcId: 'vpc-gone', subnetIds: ['subnet-1'] },
      },
    });
    m.ec2.on(DescribeVpcAttributeCommand).rejects(awsError('InvalidVpcID.NotFound'));
    const plan = await makePlan(parseConfigText(VPC_ONLY), m.gateway);
    expect(m.ec2.commandCalls(DescribeSubnetsCommand)).toHaveLength(0);
    const vpc = plan.sections.find((s) => s.id === 'clusterVpc')!.resources[0]!;
    expect(vpc.steps).toEqual([]);
    expect(vpc.findings![0]!.message).toMatch(/VPC vpc-gone was not found/);
  });

  it("a cluster in another region: its subnets, its VPC's attributes and the fix through EC2 of that region", async () => {
    const m = mockAws();
    account(m);
    const subnets: Record<string, string> = { acme: 'subnet-west', east: 'subnet-east' };
    m.eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => ({
      cluster: {
        name: input.name,
        status: 'ACTIVE',
        identity: { oidc: { issuer: ISSUER.replace('ABC', input.name.toUpperCase()) } },
        resourcesVpcConfig: { subnetIds: [subnets[input.name]!] },
      },
    }));
    m.ec2.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds: string[] }) => ({
      Subnets: [
        { SubnetId: input.SubnetIds[0], VpcId: input.SubnetIds[0] === 'subnet-east' ? 'vpc-east' : 'vpc-west' },
      ],
    }));
    m.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({
      EnableDnsSupport: { Value: true },
    });
    // DNS hostnames off in the east VPC until it is turned on.
    const on = new Set(['vpc-west']);
    m.ec2
      .on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' })
      .callsFake((input: { VpcId: string }) => ({ EnableDnsHostnames: { Value: on.has(input.VpcId) } }));
    m.ec2.on(ModifyVpcAttributeCommand).callsFake((input: { VpcId: string }) => {
      on.add(input.VpcId);
      return {};
    });
    const two = VPC_ONLY.replace('cluster: acme\n', 'cluster:\n  - acme\n  - { name: east, region: us-east-2 }\n');

    const plan = await makePlan(parseConfigText(two), m.gateway);
    const vpcs = plan.sections.find((s) => s.id === 'clusterVpc')!.resources;
    expect(vpcs.map((r) => [r.name, r.arn, r.steps])).toEqual([
      ['vpc-west', 'arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-west', []],
      [
        'vpc-east',
        'arn:aws:ec2:us-east-2:111122223333:vpc/vpc-east',
        [{ op: 'ModifyVpcAttribute', vpcId: 'vpc-east', region: 'us-east-2', attribute: 'enableDnsHostnames' }],
      ],
    ]);
    await applyPlan(plan, m.gateway, {}, FAST);
    /** What each EC2 call was about, with the region of the client that sent it. */
    const sent = async (calls: { args: [{ input: object }]; thisValue: unknown }[]) =>
      Promise.all(
        calls.map(async (c) => ({
          region: await (c.thisValue as { config: { region: () => Promise<string> } }).config.region(),
          input: c.args[0].input,
        })),
      );
    expect(await sent(m.ec2.commandCalls(DescribeSubnetsCommand))).toEqual(
      expect.arrayContaining([
        { region: 'eu-west-1', input: { SubnetIds: ['subnet-west'] } },
        { region: 'us-east-2', input: { SubnetIds: ['subnet-east'] } },
      ]),
    );
    // Read while planning, and again after the change: each VPC only in its own region.
    const attributes = await sent(m.ec2.commandCalls(DescribeVpcAttributeCommand));
    expect(new Set(attributes.map((a) => `${(a.input as { VpcId: string }).VpcId} ${a.region}`))).toEqual(
      new Set(['vpc-east us-east-2', 'vpc-west eu-west-1']),
    );
    expect(await sent(m.ec2.commandCalls(ModifyVpcAttributeCommand))).toEqual([
      { region: 'us-east-2', input: { VpcId: 'vpc-east', EnableDnsHostnames: { Value: true } } },
    ]);
  });

  /** The custom policy exists as the config wants it; roles live in a small fake IAM. */
  function fakeIam(m: ReturnType<typeof mockAws>, roles: Map<string, { arn: string; attached: string[] }>) {
    const policyArn = 'arn:aws:iam::111122223333:policy/flyte-custom-policy';
    m.iam.on(GetPolicyCommand).resolves({
      Policy: { PolicyName: 'flyte-custom-policy', Arn: policyArn, Path: '/', DefaultVersionId: 'v1', Tags: [] },
    });
    m.iam.on(GetPolicyVersionCommand).resolves({
      PolicyVersion: {
        VersionId: 'v1',
        IsDefaultVersion: true,
        Document: encodeURIComponent(JSON.stringify(bucketPolicyDocument('aws', 'acme-flyte-data'))),
      },
    });
    m.iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => {
      const r = roles.get(input.RoleName);
      if (r === undefined) throw awsError('NoSuchEntity');
      return {
        Role: {
          RoleName: input.RoleName,
          Arn: r.arn,
          Path: '/',
          RoleId: 'x',
          CreateDate: new Date(),
          AssumeRolePolicyDocument: JSON.stringify(serviceTrustPolicy('eks.amazonaws.com')),
          Tags: [{ Key: 'owner', Value: 'union' }],
        },
      };
    });
    m.iam.on(ListAttachedRolePoliciesCommand).callsFake((input: { RoleName: string }) => {
      const r = roles.get(input.RoleName);
      if (r === undefined) throw awsError('NoSuchEntity');
      return { AttachedPolicies: r.attached.map((PolicyArn) => ({ PolicyArn })) };
    });
    m.iam.on(CreateRoleCommand).callsFake((input: { RoleName: string }) => {
      roles.set(input.RoleName, { arn: `arn:aws:iam::111122223333:role/${input.RoleName}`, attached: [] });
      return {};
    });
    m.iam.on(AttachRolePolicyCommand).callsFake((input: { RoleName: string; PolicyArn: string }) => {
      roles.get(input.RoleName)!.attached.push(input.PolicyArn);
      return {};
    });
    return policyArn;
  }
  const ONLY = 'oidcProvider: false\nsystemRole: false\nworkersRole: false\nnodeRole: false\nvpcDns: off\n';

  it('a refused DescribeVpcAttribute is a finding, not a failed plan, even with fix', async () => {
    const m = mockAws();
    account(m);
    m.eks.on(DescribeClusterCommand).resolves({
      cluster: {
        name: 'acme',
        status: 'ACTIVE',
        identity: { oidc: { issuer: ISSUER } },
        resourcesVpcConfig: { vpcId: 'vpc-0abc' },
      },
    });
    m.ec2.on(DescribeVpcAttributeCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized'));
    const plan = await makePlan(parseConfigText(VPC_ONLY), m.gateway);
    const vpc = plan.sections.find((s) => s.id === 'clusterVpc')!;
    expect(vpc.status).toBe('unchanged');
    expect(vpc.resources[0]!.steps).toEqual([]);
    expect(vpc.resources[0]!.findings).toEqual([
      {
        code: 'unchecked',
        severity: 'warning',
        message:
          "the DNS settings of the cluster's VPC vpc-0abc could not be read: ec2:DescribeVpcAttribute is denied to the caller",
        fix: 'allow ec2:DescribeVpcAttribute (flyte-aws-setup permissions prints the policy), or set vpcDns: off',
      },
    ]);
  });

  it('a blocked section fails at apply without any call, and the others still run', async () => {
    const m = mockAws();
    const roles = new Map<string, { arn: string; attached: string[] }>();
    fakeIam(m, roles);
    const config = parseConfigText(`${MIN}${ONLY}globalAccess: { role: acme-userflyterole }\n`);
    const plan = await makePlan(config, m.gateway);
    expect(plan.sections.find((s) => s.id === 'globalAccess')!.status).toBe('blocked');
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    const global = result.sections.find((s) => s.id === 'globalAccess')!;
    expect(global.outcome).toBe('failed');
    expect(global.error!.message).toMatch(/the role acme-userflyterole does not exist/);
    expect(result.outcome).toBe('failed');
    // The cluster role was made; nothing was created or attached for the missing role.
    expect(result.sections.find((s) => s.id === 'clusterRole')!.outcome).toBe('created');
    expect([...roles.keys()]).toEqual(['flyte-eks-cluster-role']);
    const calls = m.iam.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input.RoleName);
    expect(calls).toEqual(['flyte-eks-cluster-role']);
  });

  it('global access on an existing role: one AttachRolePolicy, never UpdateAssumeRolePolicy or TagRole', async () => {
    const m = mockAws();
    const roles = new Map([
      ['acme-userflyterole', { arn: 'arn:aws:iam::111122223333:role/acme-userflyterole', attached: ['x'] }],
    ]);
    const policyArn = fakeIam(m, roles);
    const config = parseConfigText(`${MIN}${ONLY}clusterRole: false\nglobalAccess: { role: acme-userflyterole }\n`);
    const plan = await makePlan(config, m.gateway);
    expect(plan.sections.find((s) => s.id === 'globalAccess')!.resources[0]!.steps).toEqual([
      { op: 'AttachRolePolicy', roleName: 'acme-userflyterole', policyArn },
    ]);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    expect(result.sections.find((s) => s.id === 'globalAccess')!.outcome).toBe('updated');
    expect(m.iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(TagRoleCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(roles.get('acme-userflyterole')!.attached).toEqual(['x', policyArn]);

    const again = await makePlan(config, m.gateway);
    expect(again.sections.find((s) => s.id === 'globalAccess')!.status).toBe('unchanged');
  });
});

describe('offline', () => {
  it('the Union example plans offline: the existing role is assumed there, the VPC not read', async () => {
    const { config } = await loadConfigFile(join(ROOT, 'examples/union-flyte-aws-setup.yaml'));
    const plan = await makePlan(config, undefined, { offline: true });
    const global = plan.sections.find((s) => s.id === 'globalAccess')!;
    expect(global.status).toBe('update');
    // That the role is not looked up is said once, beside the facts, not per section.
    expect(global.notes).toEqual([]);
    expect(global.resources[0]!.steps).toEqual([
      {
        op: 'AttachRolePolicy',
        roleName: 'acme-userflyterole',
        policyArn: 'arn:aws:iam::<account-id>:policy/flyte-custom-policy',
      },
    ]);
    const fraud = plan.sections.find((s) => s.id === 'projectRoles')!.resources[0]!;
    expect(fraud.steps).toContainEqual({
      op: 'AttachRolePolicy',
      roleName: 'flyte-fraud-role',
      policyArn: 'arn:aws:iam::<account-id>:policy/userflyterole',
    });
    expect(plan.sections.find((s) => s.id === 'clusterVpc')!.resources).toEqual([]);
  });
});

describe('the wizard finds Union roles by name', () => {
  it('rolesEndingWith reads every page of ListRoles and keeps the names that end so', async () => {
    const m = mockAws();
    m.iam
      .on(ListRolesCommand)
      .resolvesOnce({
        Roles: [
          {
            RoleName: 'acme-userflyterole',
            Arn: 'arn:aws:iam::1:role/acme-userflyterole',
            Path: '/',
            RoleId: 'a',
            CreateDate: new Date(),
          },
          {
            RoleName: 'acme-adminflyterole',
            Arn: 'arn:aws:iam::1:role/acme-adminflyterole',
            Path: '/',
            RoleId: 'b',
            CreateDate: new Date(),
          },
        ],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .resolvesOnce({
        Roles: [
          {
            RoleName: 'userflyterole-old',
            Arn: 'arn:aws:iam::1:role/userflyterole-old',
            Path: '/',
            RoleId: 'c',
            CreateDate: new Date(),
          },
          {
            RoleName: 'beta-userflyterole',
            Arn: 'arn:aws:iam::1:role/u/beta-userflyterole',
            Path: '/u/',
            RoleId: 'd',
            CreateDate: new Date(),
          },
        ],
        IsTruncated: false,
      });
    const found = await m.gateway.rolesEndingWith('-userflyterole');
    expect(found).toEqual([
      { name: 'acme-userflyterole', arn: 'arn:aws:iam::1:role/acme-userflyterole', path: '/' },
      { name: 'beta-userflyterole', arn: 'arn:aws:iam::1:role/u/beta-userflyterole', path: '/u/' },
    ]);
    const calls = m.iam.commandCalls(ListRolesCommand);
    expect(calls.map((c) => c.args[0].input.Marker)).toEqual([undefined, 'page-2']);
  });
});
