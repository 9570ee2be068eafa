/**
 * The gateway's cheaper reads (against mocked SDK clients): a role this run made is read back by its attachments
 * alone, and a policy this run made by its version alone (their creation's answer describes the rest); a policy
 * version this run made is asked for beside GetPolicy; the pod identity associations of a cluster are listed once for all the plan's reads, and
 * one this run made is read back by its ID.
 */
import {
  CreatePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolesCommand,
  TagPolicyCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE } from '../../src/config/rules.js';
import { listedRoles, makePlan, readCurrent } from '../../src/engine/engine.js';
import { parseConfigText } from '../../src/load/config.js';
import type { DesiredPodIdentityAssociation, DesiredResource, Step } from '../../src/model.js';
import type { AwsGateway } from '../../src/aws/gateway.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { awsError, mockAws, roleAnswer } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const ARN = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] };

function desiredRole(name: string): DesiredResource {
  return {
    kind: 'role',
    name,
    path: '/',
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    description: '',
    trust: DOC as PolicyDocument,
    managedPolicies: [],
    tags: {},
  };
}

function versionAnswer(id: string) {
  return {
    PolicyVersion: { VersionId: id, IsDefaultVersion: true, Document: encodeURIComponent(JSON.stringify(DOC)) },
  };
}

/** GetPolicy answers only when `release` is called; what GetPolicyVersion was asked before that is recorded. */
function slowGetPolicy(m: ReturnType<typeof mockAws>, defaultVersionId: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const askedBefore: string[] = [];
  let answered = false;
  m.iam.on(GetPolicyCommand).callsFake(async () => {
    await gate;
    answered = true;
    return { Policy: { Arn: ARN, PolicyName: 'flyte-custom-policy', Path: '/', DefaultVersionId: defaultVersionId } };
  });
  m.iam.on(GetPolicyVersionCommand).callsFake(async (input: { VersionId: string }) => {
    if (!answered) askedBefore.push(input.VersionId);
    return versionAnswer(input.VersionId);
  });
  return { release, askedBefore };
}

/** A readPolicy whose GetPolicy answers (naming `defaultVersionId`) only after 20 ms: the policy, and what was asked before. */
async function readWhileGetPolicyWaits(m: ReturnType<typeof mockAws>, defaultVersionId: string) {
  const slow = slowGetPolicy(m, defaultVersionId);
  const read = m.gateway.readPolicy(ARN, () => false);
  await new Promise((r) => setTimeout(r, 20));
  slow.release();
  return { policy: await read, askedBefore: slow.askedBefore };
}

const ROLE = 'flyte-system-role';
const TAGS = { [MANAGED_BY_KEY]: MANAGED_BY_VALUE };
const CREATE_ROLE: Step = {
  op: 'CreateRole',
  roleName: ROLE,
  path: '/',
  trust: DOC as PolicyDocument,
  description: 'Flyte backend',
  tags: TAGS,
};
const CREATE_POLICY: Step = {
  op: 'CreatePolicy',
  name: 'flyte-custom-policy',
  path: '/',
  document: DOC as PolicyDocument,
  description: 'd',
  tags: {},
};
const ATTACHED = { AttachedPolicies: [{ PolicyArn: ARN, PolicyName: 'flyte-custom-policy' }] };

/** CreateRole answers as IAM does: the role as made (its trust URL-encoded), `without` some of what was asked. */
function createRoleAnswers(m: ReturnType<typeof mockAws>, without: ('Tags' | 'Description')[] = []) {
  const { Role } = roleAnswer(ROLE, DOC, TAGS, ACCOUNT);
  const made: Record<string, unknown> = { ...Role, Description: 'Flyte backend' };
  for (const key of without) delete made[key];
  m.iam.on(CreateRoleCommand).resolves({ Role: made as never });
}

describe('reading back a role this run made', () => {
  it("its attachments alone: CreateRole's answer gives its trust, tags and description", async () => {
    const m = mockAws({ account: ACCOUNT });
    createRoleAnswers(m);
    m.iam.on(ListAttachedRolePoliciesCommand).resolves(ATTACHED);
    await m.gateway.execute(CREATE_ROLE);
    await m.gateway.execute({ op: 'AttachRolePolicy', roleName: ROLE, policyArn: ARN });
    const role = await m.gateway.readRole(ROLE);
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(ListAttachedRolePoliciesCommand)).toHaveLength(1);
    expect(m.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
    expect(role).toMatchObject({ name: ROLE, trust: DOC, tags: TAGS, description: 'Flyte backend', attached: [ARN] });
  });

  it('with GetRole when the answer lacks what the request set, or once another change is made to the role', async () => {
    for (const without of [['Tags'], ['Description']] as const) {
      const m = mockAws({ account: ACCOUNT });
      createRoleAnswers(m, [...without]);
      m.iam.on(GetRoleCommand).resolves(roleAnswer(ROLE, DOC, TAGS, ACCOUNT));
      m.iam.on(ListAttachedRolePoliciesCommand).resolves(ATTACHED);
      await m.gateway.execute(CREATE_ROLE);
      await m.gateway.readRole(ROLE);
      expect(m.iam.commandCalls(GetRoleCommand), without[0]).toHaveLength(1);
    }
    const m = mockAws({ account: ACCOUNT });
    createRoleAnswers(m);
    m.iam.on(GetRoleCommand).resolves(roleAnswer(ROLE, DOC, { ...TAGS, team: 'ml' }, ACCOUNT));
    m.iam.on(ListAttachedRolePoliciesCommand).resolves(ATTACHED);
    await m.gateway.execute(CREATE_ROLE);
    m.iam.on(TagRoleCommand).resolves({});
    await m.gateway.execute({ op: 'TagRole', roleName: ROLE, tags: { team: 'ml' } });
    expect((await m.gateway.readRole(ROLE))?.tags).toEqual({ ...TAGS, team: 'ml' });
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(1);
  });

  it('an answer whose trust does not parse: the create is done, and the role is read back with GetRole', async () => {
    const m = mockAws({ account: ACCOUNT });
    const { Role } = roleAnswer(ROLE, DOC, TAGS, ACCOUNT);
    m.iam
      .on(CreateRoleCommand)
      .resolves({ Role: { ...Role, Description: 'Flyte backend', AssumeRolePolicyDocument: '%7Bnot' } });
    m.iam.on(GetRoleCommand).resolves(roleAnswer(ROLE, DOC, TAGS, ACCOUNT));
    m.iam.on(ListAttachedRolePoliciesCommand).resolves(ATTACHED);
    await m.gateway.execute(CREATE_ROLE);
    expect((await m.gateway.readRole(ROLE))?.trust).toEqual(DOC);
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(1);
  });

  it('not served yet (its attachments answer NoSuchEntity): missing for now, and the answer kept for the next read', async () => {
    const m = mockAws({ account: ACCOUNT });
    createRoleAnswers(m);
    m.iam.on(ListAttachedRolePoliciesCommand).rejectsOnce(awsError('NoSuchEntity')).resolves(ATTACHED);
    await m.gateway.execute(CREATE_ROLE);
    expect(await m.gateway.readRole(ROLE)).toBeUndefined();
    expect((await m.gateway.readRole(ROLE))?.attached).toEqual([ARN]);
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(ListAttachedRolePoliciesCommand)).toHaveLength(2);
  });

  it.each([
    { when: 'once it was read', before: (m: ReturnType<typeof mockAws>) => m.gateway.readRole(ROLE) },
    {
      when: "once the role's apply has ended",
      before: async (m: ReturnType<typeof mockAws>) =>
        m.gateway.forgetMade({ kind: 'role', name: ROLE, arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}` }),
    },
  ])('forgotten $when: a later read is a GetRole', async ({ before }) => {
    const m = mockAws({ account: ACCOUNT });
    createRoleAnswers(m);
    m.iam.on(GetRoleCommand).resolves(roleAnswer(ROLE, DOC, TAGS, ACCOUNT));
    m.iam.on(ListAttachedRolePoliciesCommand).resolves(ATTACHED);
    await m.gateway.execute(CREATE_ROLE);
    await before(m);
    expect((await m.gateway.readRole(ROLE))?.attached).toEqual([ARN]);
    expect(m.iam.commandCalls(GetRoleCommand)).toHaveLength(1);
  });
});

describe('reading back a policy this run made', () => {
  it("its default version alone: CreatePolicy's answer gives its name, path and tags", async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam.on(CreatePolicyCommand).resolves({
      Policy: {
        Arn: ARN,
        PolicyName: 'flyte-custom-policy',
        Path: '/flyte/',
        DefaultVersionId: 'v1',
        Tags: [{ Key: 'a', Value: 'b' }],
      },
    });
    m.iam.on(GetPolicyVersionCommand).resolves(versionAnswer('v1'));
    await m.gateway.execute({ ...CREATE_POLICY, path: '/flyte/', tags: { a: 'b' } } as Step);
    const policy = await m.gateway.readPolicy(ARN, () => false);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(0);
    expect(policy).toMatchObject({
      name: 'flyte-custom-policy',
      path: '/flyte/',
      defaultVersionId: 'v1',
      document: DOC,
      tags: { a: 'b' },
    });
  });

  it('with GetPolicy when that version is no longer the default, the answer lacks the tags, or it was tagged since', async () => {
    const made = { Arn: ARN, PolicyName: 'flyte-custom-policy', Path: '/', DefaultVersionId: 'v1' };
    const create = CREATE_POLICY;
    const cases: {
      name: string;
      answer: typeof made;
      tags: Record<string, string>;
      notDefault: boolean;
      tag: boolean;
    }[] = [
      { name: 'not the default', answer: made, tags: {}, notDefault: true, tag: false },
      { name: 'no tags in the answer', answer: made, tags: { a: 'b' }, notDefault: false, tag: false },
      { name: 'tagged since', answer: made, tags: {}, notDefault: false, tag: true },
    ];
    for (const c of cases) {
      const m = mockAws({ account: ACCOUNT });
      m.iam.on(CreatePolicyCommand).resolves({ Policy: c.answer });
      m.iam.on(TagPolicyCommand).resolves({});
      m.iam.on(GetPolicyCommand).resolves({ Policy: { ...made, DefaultVersionId: c.notDefault ? 'v2' : 'v1' } });
      m.iam.on(GetPolicyVersionCommand).callsFake(async (input: { VersionId: string }) => ({
        PolicyVersion: {
          ...versionAnswer(input.VersionId).PolicyVersion,
          IsDefaultVersion: !c.notDefault || input.VersionId === 'v2',
        },
      }));
      await m.gateway.execute({ ...create, tags: c.tags } as Step);
      if (c.tag) await m.gateway.execute({ op: 'TagPolicy', policyArn: ARN, tags: { x: 'y' } });
      const policy = await m.gateway.readPolicy(ARN, () => false);
      expect(m.iam.commandCalls(GetPolicyCommand), c.name).toHaveLength(1);
      expect(policy?.defaultVersionId, c.name).toBe(c.notDefault ? 'v2' : 'v1');
    }
  });

  it('not served yet (its version answers NoSuchEntity): missing for now, the answer kept; another CreatePolicy of its name forgets it', async () => {
    const m = mockAws({ account: ACCOUNT });
    const made = { Arn: ARN, PolicyName: 'flyte-custom-policy', Path: '/', DefaultVersionId: 'v1' };
    m.iam.on(CreatePolicyCommand).resolves({ Policy: made });
    m.iam.on(GetPolicyCommand).resolves({ Policy: made });
    m.iam.on(GetPolicyVersionCommand).rejectsOnce(awsError('NoSuchEntity')).resolves(versionAnswer('v1'));
    const create = CREATE_POLICY;
    await m.gateway.execute(create);
    expect(await m.gateway.readPolicy(ARN, () => false)).toBeUndefined();
    expect((await m.gateway.readPolicy(ARN, () => false))?.document).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(0);
    // Made again under its name (one made meanwhile answers EntityAlreadyExists): what the first answered is not used.
    await m.gateway.execute(create);
    m.iam.on(CreatePolicyCommand).rejects(awsError('EntityAlreadyExists'));
    await expect(m.gateway.execute(create)).rejects.toThrow();
    await m.gateway.readPolicy(ARN, () => false);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
  });

  it("forgotten once the policy's apply has ended: a later read is a GetPolicy", async () => {
    const m = mockAws({ account: ACCOUNT });
    const made = { Arn: ARN, PolicyName: 'flyte-custom-policy', Path: '/', DefaultVersionId: 'v1' };
    m.iam.on(CreatePolicyCommand).resolves({ Policy: made });
    m.iam.on(GetPolicyCommand).resolves({ Policy: made });
    m.iam.on(GetPolicyVersionCommand).resolves(versionAnswer('v1'));
    await m.gateway.execute(CREATE_POLICY);
    m.gateway.forgetMade({ kind: 'policy', name: 'flyte-custom-policy', arn: ARN });
    expect((await m.gateway.readPolicy(ARN, () => false))?.document).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
  });

  it('a second read of a policy it made asks GetPolicy, with the version it made beside it', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam.on(CreatePolicyCommand).resolves({
      Policy: { Arn: ARN, PolicyName: 'flyte-custom-policy', DefaultVersionId: 'v1' },
    });
    await m.gateway.execute(CREATE_POLICY);
    // The read-back: the version alone.
    m.iam.on(GetPolicyVersionCommand).resolves(versionAnswer('v1'));
    await m.gateway.readPolicy(ARN, () => false);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(0);
    const { policy, askedBefore } = await readWhileGetPolicyWaits(m, 'v1');
    expect(askedBefore).toEqual(['v1']);
    expect(policy?.defaultVersionId).toBe('v1');
    expect(policy?.document).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
    expect(m.iam.commandCalls(GetPolicyVersionCommand)).toHaveLength(2);
  });

  it.each([
    { made: 'v2', default: 'v2', asked: ['v2'] },
    // Another has become the default meanwhile: the version GetPolicy names is read.
    { made: 'v3', default: 'v4', asked: ['v3', 'v4'] },
  ])(
    'asks for the version CreatePolicyVersion made ($made) beside GetPolicy, not after it (default $default)',
    async (c) => {
      const m = mockAws({ account: ACCOUNT });
      m.iam.on(CreatePolicyVersionCommand).resolves({ PolicyVersion: { VersionId: c.made } });
      await m.gateway.execute({ op: 'CreatePolicyVersion', policyArn: ARN, document: DOC } as never);
      const { policy, askedBefore } = await readWhileGetPolicyWaits(m, c.default);
      expect(askedBefore).toEqual([c.made]);
      expect(policy?.defaultVersionId).toBe(c.default);
      expect(policy?.document).toEqual(DOC);
      expect(m.iam.commandCalls(GetPolicyVersionCommand).map((v) => v.args[0].input.VersionId)).toEqual(c.asked);
    },
  );

  it('a policy the run did not make: GetPolicy, then its default version', async () => {
    const m = mockAws({ account: ACCOUNT });
    const { policy, askedBefore } = await readWhileGetPolicyWaits(m, 'v2');
    expect(policy?.defaultVersionId).toBe('v2');
    expect(askedBefore).toEqual([]);
  });
});

describe('the document of a policy the config names, for the access check', () => {
  const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';
  const version = (id: string, isDefault: boolean) => ({
    PolicyVersion: { VersionId: id, IsDefaultVersion: isDefault, Document: encodeURIComponent(JSON.stringify(DOC)) },
  });

  it('looked up by the plan: one GetPolicyVersion of the default it saw, which says it still is', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam
      .on(GetPolicyCommand)
      .resolves({ Policy: { Arn: ATHENA, PolicyName: 'AmazonAthenaFullAccess', DefaultVersionId: 'v9' } });
    m.iam.on(GetPolicyVersionCommand, { PolicyArn: ATHENA, VersionId: 'v9' }).resolves(version('v9', true));
    expect(await m.gateway.policyExists(ATHENA)).toBe(true);
    expect(await m.gateway.policyDocument(ATHENA)).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
    expect(m.iam.commandCalls(GetPolicyVersionCommand)).toHaveLength(1);
  });

  it('its default changed since: GetPolicy, then the new default', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam
      .on(GetPolicyCommand)
      .resolvesOnce({ Policy: { Arn: ATHENA, DefaultVersionId: 'v9' } })
      .resolves({
        Policy: { Arn: ATHENA, DefaultVersionId: 'v10' },
      });
    m.iam.on(GetPolicyVersionCommand, { PolicyArn: ATHENA, VersionId: 'v9' }).resolves(version('v9', false));
    m.iam.on(GetPolicyVersionCommand, { PolicyArn: ATHENA, VersionId: 'v10' }).resolves(version('v10', true));
    await m.gateway.policyExists(ATHENA);
    expect(await m.gateway.policyDocument(ATHENA)).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyVersionCommand).map((c) => c.args[0].input.VersionId)).toEqual(['v9', 'v10']);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(2);
  });

  it('not looked up by this run: GetPolicy, then its default version; gone, undefined', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam
      .on(GetPolicyCommand)
      .resolvesOnce({ Policy: { Arn: ATHENA, DefaultVersionId: 'v9' } })
      .rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyVersionCommand).resolves(version('v9', true));
    expect(await m.gateway.policyDocument(ATHENA)).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(1);
    expect(await m.gateway.policyDocument(ATHENA)).toBeUndefined();
  });
});

const CLUSTER = 'acme';
const associationArn = (id: string) => `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/${CLUSTER}/${id}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

function wantedAssociation(
  namespace: string,
  serviceAccount: string,
  cluster = CLUSTER,
): DesiredPodIdentityAssociation {
  return {
    kind: 'pod-identity-association',
    name: `${namespace}/${serviceAccount}`,
    arn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/${cluster}/${namespace}/${serviceAccount}`,
    cluster,
    namespace,
    serviceAccount,
    roleArn: roleArn('flyte-workers-role'),
    tags: {},
  };
}

/** DescribePodIdentityAssociation answers for these associations (by ID), ResourceNotFound for any other. */
function describes(m: ReturnType<typeof mockAws>, held: { id: string; namespace: string; serviceAccount: string }[]) {
  m.eks.on(DescribePodIdentityAssociationCommand).callsFake(async (input: { associationId: string }) => {
    const a = held.find((h) => h.id === input.associationId);
    if (a === undefined) throw awsError('ResourceNotFoundException');
    return {
      association: {
        clusterName: CLUSTER,
        associationId: a.id,
        associationArn: associationArn(a.id),
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        roleArn: roleArn('flyte-workers-role'),
        tags: { 'managed-by': 'flyte-aws-setup' },
      },
    };
  });
}

describe('a policy deleted between its two reads (another run at the same time)', () => {
  const ARN = 'arn:aws:iam::111122223333:policy/flyte-custom-policy';
  it('is read again: gone, it is undefined, not an error', async () => {
    const m = mockAws();
    m.iam
      .on(GetPolicyCommand)
      .resolvesOnce({ Policy: { Arn: ARN, PolicyName: 'flyte-custom-policy', DefaultVersionId: 'v1' } })
      .rejects(awsError('NoSuchEntity', 'Policy does not exist'));
    m.iam.on(GetPolicyVersionCommand).rejects(awsError('NoSuchEntity', 'Policy version does not exist'));
    expect(await m.gateway.readPolicy(ARN, () => false)).toBeUndefined();
    expect(m.iam.commandCalls(GetPolicyCommand)).toHaveLength(2);
  });

  it('its default changed meanwhile: the new default is read', async () => {
    const m = mockAws();
    m.iam
      .on(GetPolicyCommand)
      .resolvesOnce({ Policy: { Arn: ARN, PolicyName: 'flyte-custom-policy', DefaultVersionId: 'v1' } })
      .resolves({ Policy: { Arn: ARN, PolicyName: 'flyte-custom-policy', DefaultVersionId: 'v2' } });
    m.iam.on(GetPolicyVersionCommand, { VersionId: 'v1' }).rejects(awsError('NoSuchEntity', 'gone'));
    m.iam
      .on(GetPolicyVersionCommand, { VersionId: 'v2' })
      .resolves({ PolicyVersion: { Document: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}') } });
    expect(await m.gateway.readPolicy(ARN, () => false)).toMatchObject({ defaultVersionId: 'v2' });
  });
});

describe("reading a cluster's pod identity associations", () => {
  const wanted = [
    wantedAssociation('flyte', 'default'),
    wantedAssociation('flyte', 'flyte-backend-flyte-binary'),
    wantedAssociation('fraud-development', 'default'),
  ];

  it('an empty cluster: one ListPodIdentityAssociations for all of its associations, nothing described', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.eks.on(ListPodIdentityAssociationsCommand).resolves({ associations: [] });
    describes(m, []);
    const current = await readCurrent(m.gateway, wanted);
    expect([...current.values()]).toEqual([undefined, undefined, undefined]);
    const lists = m.eks.commandCalls(ListPodIdentityAssociationsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([{ clusterName: CLUSTER, maxResults: 100, nextToken: undefined }]);
    expect(m.eks.commandCalls(DescribePodIdentityAssociationCommand)).toHaveLength(0);
  });

  it('every page of the listing is read; only the associations that exist are described', async () => {
    const m = mockAws({ account: ACCOUNT });
    const summary = (id: string, namespace: string, serviceAccount: string) => ({
      clusterName: CLUSTER,
      associationId: id,
      associationArn: associationArn(id),
      namespace,
      serviceAccount,
    });
    m.eks
      .on(ListPodIdentityAssociationsCommand, { nextToken: undefined })
      .resolves({ associations: [summary('a-other', 'other-team', 'default')], nextToken: 'page-2' })
      .on(ListPodIdentityAssociationsCommand, { nextToken: 'page-2' })
      .resolves({ associations: [summary('a-2', 'flyte', 'flyte-backend-flyte-binary')] });
    describes(m, [{ id: 'a-2', namespace: 'flyte', serviceAccount: 'flyte-backend-flyte-binary' }]);
    const current = await readCurrent(m.gateway, wanted);
    expect([...current.values()].map((c) => (c as { associationId?: string } | undefined)?.associationId)).toEqual([
      undefined,
      'a-2',
      undefined,
    ]);
    expect(m.eks.commandCalls(ListPodIdentityAssociationsCommand).map((c) => c.args[0].input.nextToken)).toEqual([
      undefined,
      'page-2',
    ]);
    expect(m.eks.commandCalls(DescribePodIdentityAssociationCommand).map((c) => c.args[0].input)).toEqual([
      { clusterName: CLUSTER, associationId: 'a-2' },
    ]);
  });

  it('two clusters: one listing each', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.eks.on(ListPodIdentityAssociationsCommand).resolves({ associations: [] });
    await readCurrent(m.gateway, [...wanted, wantedAssociation('flyte', 'default', 'other')]);
    const clusters = m.eks.commandCalls(ListPodIdentityAssociationsCommand).map((c) => c.args[0].input.clusterName);
    expect(clusters.sort()).toEqual([CLUSTER, 'other']);
  });

  /** The run creates the association of flyte/default (the workers' role) in the cluster. */
  const createWorkersAssociation = (m: ReturnType<typeof mockAws>) =>
    m.gateway.execute({
      op: 'CreatePodIdentityAssociation',
      clusterName: CLUSTER,
      namespace: 'flyte',
      serviceAccount: 'default',
      roleArn: roleArn('flyte-workers-role'),
      tags: {},
    });

  it('one this run made is read back with one DescribePodIdentityAssociation by the ID its creation answered', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.eks.on(CreatePodIdentityAssociationCommand).resolves({
      association: { associationId: 'a-new', associationArn: associationArn('a-new'), namespace: 'flyte' },
    });
    m.eks.on(ListPodIdentityAssociationsCommand).resolves({ associations: [] });
    describes(m, [{ id: 'a-new', namespace: 'flyte', serviceAccount: 'default' }]);
    await createWorkersAssociation(m);
    const found = await m.gateway.readPodIdentityAssociation(CLUSTER, 'flyte', 'default');
    expect(found?.associationId).toBe('a-new');
    expect(m.eks.commandCalls(ListPodIdentityAssociationsCommand)).toHaveLength(0);
    expect(m.eks.commandCalls(DescribePodIdentityAssociationCommand)).toHaveLength(1);
    // Another service account of the cluster, which the run did not make: listed as before.
    await m.gateway.readPodIdentityAssociation(CLUSTER, 'flyte', 'flyte-backend-flyte-binary');
    expect(m.eks.commandCalls(ListPodIdentityAssociationsCommand).map((c) => c.args[0].input)).toEqual([
      {
        clusterName: CLUSTER,
        namespace: 'flyte',
        serviceAccount: 'flyte-backend-flyte-binary',
        maxResults: 100,
        nextToken: undefined,
      },
    ]);
  });

  it('one this run made that is gone since: found by the list, as any other', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.eks.on(CreatePodIdentityAssociationCommand).resolves({ association: { associationId: 'a-gone' } });
    m.eks.on(ListPodIdentityAssociationsCommand).resolves({
      associations: [{ associationId: 'a-again', namespace: 'flyte', serviceAccount: 'default' }],
    });
    describes(m, [{ id: 'a-again', namespace: 'flyte', serviceAccount: 'default' }]);
    await createWorkersAssociation(m);
    const found = await m.gateway.readPodIdentityAssociation(CLUSTER, 'flyte', 'default');
    expect(found?.associationId).toBe('a-again');
    expect(m.eks.commandCalls(DescribePodIdentityAssociationCommand).map((c) => c.args[0].input.associationId)).toEqual(
      ['a-gone', 'a-again'],
    );
    expect(m.eks.commandCalls(ListPodIdentityAssociationsCommand)).toHaveLength(1);
  });
});

describe('the reads of each service side by side', () => {
  it("the VPC's read does not wait behind the roles' when there are more roles than reads at a time", async () => {
    const events: string[] = [];
    const gate = (what: string) =>
      new Promise<undefined>((resolve) => {
        events.push(`start ${what}`);
        setTimeout(() => {
          events.push(`end ${what}`);
          resolve(undefined);
        }, 5);
      });
    const gateway = {
      readRole: (name: string) => gate(name),
      readVpcDns: () => gate('vpc'),
    } as unknown as AwsGateway;
    const roles = Array.from({ length: 12 }, (_, i) => desiredRole(`role-${i}`));
    const vpc: DesiredResource = {
      kind: 'vpc-dns',
      name: 'vpc-1',
      arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/vpc-1`,
      region: 'eu-west-1',
      clusters: ['acme-ml'],
      fix: false,
    };
    const current = await readCurrent(gateway, [...roles, vpc], 10);
    expect(current.size).toBe(13);
    // Ten roles at a time, and the VPC beside the first ten, not after one of them ended.
    expect(events.indexOf('start vpc')).toBeLessThan(events.findIndex((e) => e.startsWith('end')));
    expect(events.slice(0, 11).filter((e) => e.startsWith('start role'))).toHaveLength(10);
  });
});

describe("the plan's role reads and the account's listing of roles", () => {
  /** A gateway whose GetRole takes 5 ms and finds the roles in `exist` (the tool's); each role asked is recorded. */
  function rolesGateway(exist: string[]) {
    const asked: string[] = [];
    const gateway = {
      readRole: (name: string) => {
        asked.push(name);
        return new Promise((resolve) =>
          setTimeout(
            () =>
              resolve(
                exist.includes(name)
                  ? { kind: 'role', name, attached: [], tags: { [MANAGED_BY_KEY]: MANAGED_BY_VALUE } }
                  : undefined,
              ),
            5,
          ),
        );
      },
    } as unknown as AwsGateway;
    return { gateway, asked };
  }
  const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
  const listing = (names: string[]) =>
    names.map((name) => ({ name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, path: '/' }));

  it('a role read that starts once the listing is complete makes no GetRole for a role it lacks', async () => {
    const roles = Array.from({ length: 25 }, (_, i) => desiredRole(`role-${i}`));
    // The account holds role-3 and role-20 (the latter as ROLE-20: IAM's names are unique regardless of case).
    const { gateway, asked } = rolesGateway(['role-3', 'role-20']);
    const current = await readCurrent(
      gateway,
      roles,
      10,
      'unowned',
      new Map(),
      listedRoles(after(1, listing(['role-3', 'ROLE-20', 'other']))),
    );
    expect(current.size).toBe(25);
    // The first ten started before the listing was in (1 ms, a GetRole 5 ms); of the rest, only the role it holds.
    expect(asked).toEqual([...Array.from({ length: 10 }, (_, i) => `role-${i}`), 'role-20']);
    expect(current.get('role:role-3')).toBeDefined();
    expect(current.get('role:role-20')).toBeDefined();
    expect([...current.values()].filter((r) => r === undefined)).toHaveLength(23);
  });

  it('every role is read while the listing is not complete, or when it failed', async () => {
    const roles = Array.from({ length: 15 }, (_, i) => desiredRole(`role-${i}`));
    const never = () => new Promise<never>(() => undefined);
    const refused = () => Promise.reject(new Error('AccessDenied'));
    for (const listing of [never, refused]) {
      const pending = listing();
      pending.catch(() => undefined);
      const { gateway, asked } = rolesGateway([]);
      await readCurrent(gateway, roles, 10, 'unowned', new Map(), listedRoles(pending));
      expect(asked).toHaveLength(15);
    }
  });
});

describe("the account's roles are listed with the first calls", () => {
  /** A mocked account whose caller and listing record the order they were asked in. */
  function account() {
    const m = mockAws({ account: ACCOUNT });
    const asked: string[] = [];
    m.sts.on(GetCallerIdentityCommand).callsFake(() => {
      asked.push('GetCallerIdentity');
      return { Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ci`, UserId: 'AIDA' };
    });
    m.iam.on(ListRolesCommand).callsFake(() => {
      asked.push('ListRoles');
      return { Roles: [] };
    });
    return { m, asked };
  }

  it("beside the caller and the cluster; with the config's accountId, once the account is confirmed", async () => {
    const free = account();
    await makePlan(parseConfigText('bucket: acme-flyte-data\ncluster: acme\n'), free.m.gateway);
    expect(free.asked).toEqual(['ListRoles', 'GetCallerIdentity']);

    const pinned = account();
    const config = parseConfigText(`bucket: acme-flyte-data\ncluster: acme\naccountId: '${ACCOUNT}'\n`);
    await makePlan(config, pinned.m.gateway);
    expect(pinned.asked).toEqual(['GetCallerIdentity', 'ListRoles']);
  });
});

describe('what the plan starts once the roles are listed', () => {
  it('is not started when the plan has failed by then', async () => {
    const m = mockAws({ account: ACCOUNT });
    let answer!: () => void;
    const listing = new Promise<void>((resolve) => (answer = resolve));
    m.iam.on(ListRolesCommand).callsFake(async () => {
      await listing;
      return { Roles: [] };
    });
    // The listing answers late; a role read (made, as the listing is not in) is refused: the plan fails first.
    m.iam.on(GetRoleCommand).rejects(awsError('AccessDenied', 'not authorized to perform iam:GetRole'));
    const called: string[][] = [];
    const config = parseConfigText(
      'bucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
    );
    const plan = makePlan(config, m.gateway, {
      trustRoleListing: true,
      whenListed: (_facts, lacking) => called.push(lacking),
    });
    await expect(plan).rejects.toThrow(/iam:GetRole/);
    answer();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(m.iam.commandCalls(ListRolesCommand)).toHaveLength(1);
    expect(called).toEqual([]);
  });

  it('is started with the roles of the config the listing lacks', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam.on(ListRolesCommand).resolves({
      Roles: [{ RoleName: 'FLYTE-EKS-NODE-ROLE', Path: '/', Arn: 'x', RoleId: 'x', CreateDate: new Date() }],
    });
    const called: string[][] = [];
    await makePlan(
      parseConfigText(
        'bucket: acme-flyte-data\ncluster: acme\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
      ),
      m.gateway,
      { whenListed: (_facts, lacking) => called.push(lacking) },
    );
    // IAM's role names are unique whatever their case: the node role is listed.
    expect(called).toEqual([['flyte-eks-cluster-role']]);
  });
});
