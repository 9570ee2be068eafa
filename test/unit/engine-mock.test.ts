/**
 * The engine and the AWS layer against mocked SDK clients: what the emulator cannot show (AWS errors per
 * operation, another partition, a lost answer, IAM's eventual consistency).
 */
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListPolicyVersionsCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { AwsCallError } from '../../src/aws/errors.js';
import { parseConfigText } from '../../src/load/config.js';
import { applyPlan, finalState } from '../../src/engine/apply.js';
import { makePlan } from '../../src/engine/engine.js';
import { planSteps } from '../../src/model.js';
import { bucketPolicyDocument, serviceTrustPolicy, type PolicyDocument } from '../../src/policy/document.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';

const FAST = { consistency: { timeoutMs: 2_000, initialDelayMs: 1 } };

/** The tags of the cluster role as the tool makes it for the setup `acme` (the configs' cluster). */
const MADE = {
  'managed-by': 'flyte-aws-setup',
  'flyte-aws-setup:setup': 'acme',
  'flyte-aws-setup:attached': 'aws:AmazonEKSClusterPolicy',
};

function emptyAccount(m: ReturnType<typeof mockAws>) {
  m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'The role cannot be found.'));
  m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
}

const ROLES_ONLY = parseConfigText(
  'bucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
);

/** A config with the cluster role alone. */
const CLUSTER_ROLE_ONLY = parseConfigText(
  'bucket: acme-flyte-data\ncluster: acme\nnodeRole: false\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
);

/** GetRole's answer for the cluster role, with this trust and these tags. */
function clusterRoleAnswer(trust: PolicyDocument, tags: Record<string, string>) {
  return {
    Role: {
      RoleName: 'flyte-eks-cluster-role',
      Arn: 'arn:aws:iam::111122223333:role/flyte-eks-cluster-role',
      Path: '/',
      RoleId: 'x',
      CreateDate: new Date(),
      AssumeRolePolicyDocument: JSON.stringify(trust),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    },
  };
}

describe('AWS errors name the operation, the resource and, for a refusal, the IAM action', () => {
  it.each([
    [
      'AccessDenied',
      /access denied: iam:CreateRole on role r \(CreateRole\)/,
      /needs the IAM permission iam:CreateRole on role r/,
    ],
    ['EntityAlreadyExists', /CreateRole: already exists on role r/, undefined],
    ['LimitExceeded', /CreateRole on role r: an IAM quota is reached/, /Service Quotas/],
    ['MalformedPolicyDocument', /IAM rejected the policy document at CreateRole on role r/, undefined],
    ['ExpiredToken', /AWS refused the credentials \(ExpiredToken\)/, /aws sso login/],
    ['Throttling', /AWS kept throttling CreateRole/, /--max-attempts/],
    ['ServiceFailure', /iam:CreateRole on role r failed: ServiceFailure/, undefined],
  ])('%s', async (code, message, hint) => {
    const m = mockAws();
    m.iam.on(CreateRoleCommand).rejects(awsError(code, `${code} happened`));
    const err = await m.gateway
      .execute({
        op: 'CreateRole',
        roleName: 'r',
        path: '/',
        trust: serviceTrustPolicy('eks.amazonaws.com'),
        description: 'd',
        tags: {},
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).code).toBe(code);
    expect((err as AwsCallError).message).toMatch(message);
    if (hint) expect((err as AwsCallError).hint).toMatch(hint);
  });

  it.each([
    [
      'GetRole',
      () => mockAws(),
      (m: ReturnType<typeof mockAws>) => m.iam.on(GetRoleCommand).rejects(awsError('AccessDenied')),
      (m: ReturnType<typeof mockAws>) => m.gateway.readRole('x'),
      /iam:GetRole on role x/,
    ],
    [
      'GetOpenIDConnectProvider',
      () => mockAws(),
      (m: ReturnType<typeof mockAws>) =>
        m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('AccessDeniedException')),
      (m: ReturnType<typeof mockAws>) => m.gateway.readOidcProvider('arn:p'),
      /iam:GetOpenIDConnectProvider on arn:p/,
    ],
    [
      'GetPolicy',
      () => mockAws(),
      (m: ReturnType<typeof mockAws>) => m.iam.on(GetPolicyCommand).rejects(awsError('AccessDenied')),
      (m: ReturnType<typeof mockAws>) => m.gateway.readPolicy('arn:pol', () => false),
      /iam:GetPolicy on arn:pol/,
    ],
  ])('a refused read (%s) is an error, not an empty account', async (_op, make, arrange, act, message) => {
    const m = make();
    arrange(m);
    await expect(act(m)).rejects.toThrow(message);
  });

  it('NoSuchEntity on a read means the resource does not exist', async () => {
    const m = mockAws();
    emptyAccount(m);
    expect(await m.gateway.readRole('nope')).toBeUndefined();
    expect(await m.gateway.readOidcProvider('arn:x')).toBeUndefined();
    expect(await m.gateway.readPolicy('arn:y', () => true)).toBeUndefined();
  });

  it('reads a URL-encoded trust policy as the document it is', async () => {
    const m = mockAws();
    const trust = serviceTrustPolicy('eks.amazonaws.com');
    m.iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'r',
        Arn: 'arn:aws:iam::1:role/r',
        Path: '/',
        RoleId: 'x',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
      },
    });
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:a' }], IsTruncated: false });
    expect(await m.gateway.readRole('r')).toMatchObject({ trust, attached: ['arn:a'] });
  });
});

describe('the engine with mocked AWS', () => {
  it('China: ARNs and the EC2 principal follow the partition from STS', async () => {
    const m = mockAws({ partition: 'aws-cn', region: 'cn-north-1' });
    emptyAccount(m);
    m.iam.on(CreateRoleCommand).resolves({});
    m.iam.on(AttachRolePolicyCommand).resolves({});
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    expect(plan.facts.partition).toBe('aws-cn');
    const creates = planSteps(plan).filter((s) => s.op === 'CreateRole');
    expect(JSON.stringify(creates)).toContain('ec2.amazonaws.com.cn');
    const attaches = planSteps(plan)
      .filter((s) => s.op === 'AttachRolePolicy')
      .map((s) => (s as { policyArn: string }).policyArn);
    expect(attaches).toEqual([
      'arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy',
      'arn:aws-cn:iam::aws:policy/AmazonEKSWorkerNodePolicy',
      'arn:aws-cn:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
      'arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy',
    ]);
  });

  it('a run that applies skips the GetRole of roles ListRoles lacks once it answered; a dry run and verify do not', async () => {
    const projects = Array.from({ length: 20 }, (_, i) => `  - project: p${i}\n    domains: [development]`).join('\n');
    const config = parseConfigText(
      `bucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nprojectRoles:\n${projects}\n`,
    );
    const roles = 24; // the cluster, node, backend and workers roles, and 20 project roles
    const getRoles = async (options: Parameters<typeof makePlan>[2]) => {
      const m = mockAws();
      emptyAccount(m);
      // Each GetRole takes 5 ms; the account's roles (none of these) are listed at once.
      m.iam
        .on(GetRoleCommand)
        .callsFake(() => new Promise((_, reject) => setTimeout(() => reject(awsError('NoSuchEntity')), 5)));
      m.iam.on(ListRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
      const plan = await makePlan(config, m.gateway, options);
      expect(planSteps(plan).filter((s) => s.op === 'CreateRole')).toHaveLength(roles);
      return m.iam.commandCalls(GetRoleCommand).length;
    };
    // Those sent before the listing was in (at most the reads in flight) are sent; the rest are not.
    expect(await getRoles({ trustRoleListing: true })).toBeLessThanOrEqual(10);
    expect(await getRoles({})).toBe(roles);
    expect(await getRoles({ audit: true })).toBe(roles);
  });

  it('a create whose role now exists (a lost answer, another run) is read again and finished, not an error', async () => {
    const m = mockAws();
    m.iam
      .on(GetRoleCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves(clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), MADE));
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolvesOnce({ AttachedPolicies: [] })
      .resolves({
        AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }],
      });
    m.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExists'));
    m.iam.on(AttachRolePolicyCommand).resolves({});
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(1);
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
  });

  it("a create whose role is there, this setup's, with a trust that lets in less: not widened unasked", async () => {
    const m = mockAws();
    // Not there for the plan; there, with another trust, when the run goes to make it.
    m.iam
      .on(GetRoleCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves(clusterRoleAnswer(serviceTrustPolicy('ec2.amazonaws.com'), MADE));
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }] });
    m.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExists'));
    m.iam.on(UpdateAssumeRolePolicyCommand).resolves({});
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    expect(planSteps(plan)[0]!.op).toBe('CreateRole');
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('failed');
    expect(m.iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
    const error = result.sections.find((s) => s.id === 'clusterRole')!.error!;
    expect(error.message).toContain('was there when this run went to make it');
    expect(error.message).toContain('trust: ');
    expect(error.hint).toContain('marked (!)');
  });

  it('what the run left: a written role as read back, with the inline policies the plan read of it', async () => {
    const m = mockAws();
    m.iam.on(GetRoleCommand).resolves(clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), { owner: 'them' }));
    const policy = 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy';
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolvesOnce({ AttachedPolicies: [] })
      .resolves({ AttachedPolicies: [{ PolicyArn: policy }] });
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['legacy'] });
    const legacy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] };
    m.iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: encodeURIComponent(JSON.stringify(legacy)) });
    m.iam.on(AttachRolePolicyCommand).resolves({});
    m.iam.on(TagRoleCommand).resolves({});
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    expect(planSteps(plan).map((s) => s.op)).toContain('AttachRolePolicy');
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    const role = finalState(result)!.get('role:flyte-eks-cluster-role');
    expect(role).toMatchObject({ kind: 'role', attached: [policy], inline: ['legacy'], inlineDocuments: { legacy } });
    // The read-back lists no inline policies: the run never writes them.
    expect(m.iam.commandCalls(ListRolePoliciesCommand)).toHaveLength(1);
    // Kept beside the result, not in it.
    expect(JSON.stringify(result)).not.toContain('ec2:*');
  });

  it("a refusal to list a role's inline policies is a finding (not checked), not a failure", async () => {
    const m = mockAws();
    m.iam.on(GetRoleCommand).resolves(clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), { owner: 'them' }));
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }] });
    m.iam.on(ListRolePoliciesCommand).rejects(awsError('AccessDenied', 'not allowed: iam:ListRolePolicies'));
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    expect(planSteps(plan)).toEqual([]);
    const role = plan.sections.find((s) => s.id === 'clusterRole')!.resources[0]!;
    expect(role.findings).toEqual([
      expect.objectContaining({
        code: 'unchecked',
        severity: 'warning',
        message: expect.stringMatching(/^its inline policies could not be read \(access denied/),
      }),
    ]);
  });

  it('a role someone else made during the run (no managed-by tag) is not changed unasked: the run stops', async () => {
    const m = mockAws();
    m.iam
      .on(GetRoleCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves(clusterRoleAnswer(serviceTrustPolicy('ec2.amazonaws.com'), { owner: 'someone-else' }));
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }] });
    m.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExists'));
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('failed');
    const section = result.sections.find((s) => s.id === 'clusterRole')!;
    expect(section.error!.message).toContain('role flyte-eks-cluster-role was made by someone else');
    expect(m.iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  });

  it('a role another setup made during the run is not taken over, even when it matches: the run stops', async () => {
    const m = mockAws();
    m.iam
      .on(GetRoleCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves(
        clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), { ...MADE, 'flyte-aws-setup:setup': 'other' }),
      );
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }] });
    m.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExists'));
    const result = await applyPlan(await makePlan(CLUSTER_ROLE_ONLY, m.gateway), m.gateway, {}, FAST);
    expect(result.outcome).toBe('failed');
    expect(result.sections.find((s) => s.id === 'clusterRole')!.error!.message).toMatch(
      /^role flyte-eks-cluster-role: it belongs to the setup "other"/,
    );
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  });

  it('waits for IAM to show a role it just created (NoSuchEntity on attach, then success)', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(CreateRoleCommand).resolves({});
    m.iam.on(AttachRolePolicyCommand).rejectsOnce(awsError('NoSuchEntity')).resolves({});
    const config = parseConfigText(
      'bucket: acme-flyte-data\ncluster: acme\nnodeRole: false\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
    );
    const plan = await makePlan(config, m.gateway);
    // After the changes, the role reads back as created.
    m.iam.on(GetRoleCommand).resolves(clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), MADE));
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }] });
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(2);
  });

  it("what CreateRole answered serves that role's read-back only: after a failed attachment, a later read asks GetRole", async () => {
    const m = mockAws();
    emptyAccount(m);
    // CreateRole answers with the role as made: its trust, tags and description as asked.
    m.iam.on(CreateRoleCommand).callsFake(async (input: Record<string, unknown>) => ({
      Role: {
        RoleName: input.RoleName,
        Arn: `arn:aws:iam::111122223333:role/${String(input.RoleName)}`,
        Path: input.Path,
        RoleId: 'x',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: encodeURIComponent(String(input.AssumeRolePolicyDocument)),
        Description: input.Description,
        Tags: input.Tags,
      },
    }));
    m.iam
      .on(AttachRolePolicyCommand)
      .rejects(awsError('AccessDenied', 'not authorized to perform iam:AttachRolePolicy'));
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('failed');
    m.iam.on(GetRoleCommand).resolves(clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), MADE));
    m.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    const before = m.iam.commandCalls(GetRoleCommand).length;
    expect(await m.gateway.readRole('flyte-eks-cluster-role')).toMatchObject({ tags: MADE });
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(before + 1);
  });

  it('NoSuchEntity for a policy ARN the run did not create is reported at once, not waited for', async () => {
    const m = mockAws();
    emptyAccount(m);
    const nope = 'arn:aws:iam::aws:policy/Nope';
    m.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ Url: ISSUER.slice(8), ClientIDList: ['sts.amazonaws.com'], Tags: [] });
    m.iam.on(CreateRoleCommand).resolves({});
    m.iam
      .on(AttachRolePolicyCommand)
      .rejects(awsError('NoSuchEntity', `Policy ${nope} does not exist or is not attachable.`));
    const config = parseConfigText(
      `bucket: acme-flyte-data\ncluster: acme\nclusterRole: false\nnodeRole: false\noidcProvider: false\ncustomPolicy: false\nworkersRole: false\nsystemRole: { extraPolicies: [${nope}] }\n`,
    );
    const plan = await makePlan(config, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, { consistency: { timeoutMs: 60_000, initialDelayMs: 1_000 } });
    expect(result.outcome).toBe('failed');
    // One attempt: a typo in a policy ARN is not IAM's eventual consistency.
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
    const failed = result.sections.find((s) => s.outcome === 'failed')!;
    expect(failed.id).toBe('systemRole');
    expect(failed.error!.message).toContain(`AttachRolePolicy: not found on role flyte-system-role (${nope})`);
    // What was done and what remains are both reported.
    expect(failed.resources[0]!.done.map((s) => s.op)).toEqual(['CreateRole']);
    expect(failed.resources[0]!.remaining.map((s) => s.op)).toEqual(['AttachRolePolicy']);
  });

  it('a refusal part-way stops the run: later sections are not started, and the result says what was done', async () => {
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(CreateRoleCommand, { RoleName: 'flyte-eks-cluster-role' }).resolves({});
    m.iam
      .on(CreateRoleCommand, { RoleName: 'flyte-eks-node-role' })
      .rejects(awsError('AccessDenied', 'not authorized to perform iam:CreateRole'));
    m.iam.on(AttachRolePolicyCommand).resolves({});
    m.iam
      .on(GetRoleCommand, { RoleName: 'flyte-eks-cluster-role' })
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves(clusterRoleAnswer(serviceTrustPolicy('eks.amazonaws.com'), MADE));
    m.iam
      .on(ListAttachedRolePoliciesCommand, { RoleName: 'flyte-eks-cluster-role' })
      .rejectsOnce(awsError('NoSuchEntity'))
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }] });
    // No role waits for the provider and the policy: the sections start in the plan's order.
    const config = parseConfigText('bucket: acme-flyte-data\ncluster: acme\nsystemRole: false\nworkersRole: false\n');
    m.iam.on(CreateOpenIDConnectProviderCommand).resolves({});
    m.iam.on(CreatePolicyCommand).resolves({});
    const plan = await makePlan(config, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, { ...FAST, concurrency: 1 });
    expect(result.outcome).toBe('failed');
    expect(result.sections.map((s) => s.outcome)).toEqual([
      'created',
      'failed',
      'not-run',
      'not-run',
      'skipped', // systemRole: false
      'skipped', // workersRole: false
      'skipped', // projectRoles: none in the config
      'skipped', // globalAccess: not in the config
      'unchanged', // clusterVpc: the mocked cluster names no VPC, so there is nothing to check
      'skipped', // podIdentity: identity: irsa
      'skipped', // grants: none
    ]);
    const failed = result.sections[1]!;
    expect(failed.error!.message).toBe('access denied: iam:CreateRole on role flyte-eks-node-role (CreateRole)');
    expect(failed.error!.hint).toMatch(/needs the IAM permission iam:CreateRole/);
    expect(m.iam.commandCalls(CreateOpenIDConnectProviderCommand)).toHaveLength(0);
  });

  it('an interrupt right after a CreateRole: that role still gets its policies (even waiting for IAM), then the run stops', async () => {
    const m = mockAws();
    emptyAccount(m);
    const interrupt = new AbortController();
    // The interrupt comes while CreateRole is in flight; AWS then makes the role.
    m.iam.on(CreateRoleCommand).callsFake(() => {
      interrupt.abort();
      return {};
    });
    // IAM does not show the new role at once: the first attachment is refused, and tried again.
    m.iam.on(AttachRolePolicyCommand).rejectsOnce(awsError('NoSuchEntity')).resolves({});
    m.iam.on(CreatePolicyCommand).resolves({});
    const config = parseConfigText(
      'bucket: acme-flyte-data\ncluster: acme\nclusterRole: false\noidcProvider: false\nsystemRole: false\nworkersRole: false\n',
    );
    const plan = await makePlan(config, m.gateway);
    const reads = m.iam.commandCalls(GetRoleCommand).length;
    const result = await applyPlan(plan, m.gateway, {}, { ...FAST, concurrency: 1, signal: interrupt.signal });

    expect(result.outcome).toBe('interrupted');
    // The node role has each of its three policies (one attachment tried twice).
    const attached = m.iam.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input.PolicyArn);
    expect(new Set(attached)).toEqual(
      new Set([
        'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
        'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
        'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
      ]),
    );
    expect(attached).toHaveLength(4);
    const node = result.sections.find((s) => s.id === 'nodeRole')!;
    expect(node.outcome).toBe('interrupted');
    expect(node.resources[0]!.done.map((s) => s.op)).toEqual([
      'CreateRole',
      'AttachRolePolicy',
      'AttachRolePolicy',
      'AttachRolePolicy',
    ]);
    expect(node.resources[0]!.remaining).toEqual([]);
    // Not read back, and said so.
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(reads);
    expect(node.reason).toBe(
      'role flyte-eks-node-role: every step done, but not read back after the interrupt; the next run checks it',
    );
    // Then it stops as before: what was not begun is not begun.
    expect(m.iam.commandCalls(CreatePolicyCommand)).toHaveLength(0);
    expect(result.sections.find((s) => s.id === 'customPolicy')!.outcome).toBe('not-run');
  });

  it('an interrupt before a resource is created still stops it before its first call', async () => {
    const m = mockAws();
    emptyAccount(m);
    const interrupt = new AbortController();
    interrupt.abort();
    const plan = await makePlan(CLUSTER_ROLE_ONLY, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, { ...FAST, signal: interrupt.signal });
    expect(result.outcome).toBe('interrupted');
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  });

  it('a changed custom policy at the 5-version limit: delete the oldest non-default, then a new default', async () => {
    const m = mockAws();
    const arn = 'arn:aws:iam::111122223333:policy/flyte-custom-policy';
    m.iam.on(GetPolicyCommand).resolves({
      Policy: {
        PolicyName: 'flyte-custom-policy',
        Arn: arn,
        Path: '/',
        DefaultVersionId: 'v5',
        Tags: [
          { Key: 'managed-by', Value: 'flyte-aws-setup' },
          { Key: 'flyte-aws-setup:setup', Value: 'acme' },
        ],
      },
    });
    m.iam
      .on(GetPolicyVersionCommand)
      .resolvesOnce({
        PolicyVersion: { Document: encodeURIComponent(JSON.stringify(bucketPolicyDocument('aws', 'old-bucket'))) },
      })
      .resolves({
        PolicyVersion: { Document: encodeURIComponent(JSON.stringify(bucketPolicyDocument('aws', 'acme-flyte-data'))) },
      });
    m.iam.on(ListPolicyVersionsCommand).resolves({
      Versions: [1, 2, 3, 4, 5].map((n) => ({
        VersionId: `v${n}`,
        IsDefaultVersion: n === 5,
        CreateDate: new Date(2024, n, 1),
      })),
    });
    m.iam.on(DeletePolicyVersionCommand).resolves({});
    m.iam.on(CreatePolicyVersionCommand).resolves({});
    m.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ Url: ISSUER.slice(8), ClientIDList: ['sts.amazonaws.com'], Tags: [] });
    const config = parseConfigText(
      'bucket: acme-flyte-data\ncluster: acme\nclusterRole: false\nnodeRole: false\nsystemRole: false\nworkersRole: false\n',
    );
    const plan = await makePlan(config, m.gateway);
    expect(planSteps(plan).map((s) => s.op)).toEqual(['DeletePolicyVersion', 'CreatePolicyVersion']);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    expect(m.iam.commandCalls(DeletePolicyVersionCommand)[0]!.args[0].input).toEqual({
      PolicyArn: arn,
      VersionId: 'v1',
    });
    expect(m.iam.commandCalls(CreatePolicyVersionCommand)[0]!.args[0].input).toMatchObject({
      PolicyArn: arn,
      SetAsDefault: true,
    });
  });

  it('a host whose question throws makes applyPlan reject with that error, and nothing is left unhandled', async () => {
    const m = mockAws();
    emptyAccount(m);
    const plan = await makePlan(ROLES_ONLY, m.gateway);
    const host = {
      approval: {
        approve: async () => {
          throw new Error('the terminal went away');
        },
      },
    };
    await expect(applyPlan(plan, m.gateway, host, FAST)).rejects.toThrow('the terminal went away');
    expect(m.iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  it('does not call UpdateAssumeRolePolicy when only the spelling of the trust differs', async () => {
    const m = mockAws();
    const config = parseConfigText(
      'bucket: acme-flyte-data\ncluster: acme\nnodeRole: false\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
    );
    m.iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'flyte-eks-cluster-role',
        Arn: 'arn:aws:iam::111122223333:role/flyte-eks-cluster-role',
        Path: '/',
        RoleId: 'x',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: encodeURIComponent(
          '{"Statement":[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"Service":["eks.amazonaws.com"]}}],"Version":"2012-10-17"}',
        ),
      },
    });
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }] });
    // A role that is not the tool's (no managed-by tag): its inline policies are read too.
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    const plan = await makePlan(config, m.gateway);
    expect(planSteps(plan)).toEqual([]);
    await applyPlan(plan, m.gateway, {}, FAST);
    expect(m.iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
  });
});
