/** The grants section: other buckets or prefixes, secrets and ECR repositories, one policy per role that has them. */
import { describe, expect, it } from 'vitest';
import { planDestroy, type DestroyPolicyState } from '../../../src/engine/destroy.js';
import { buildPlan, desiredSections } from '../../../src/engine/engine.js';
import { planPolicy, planRole } from '../../../src/engine/plan.js';
import {
  planSecurity,
  type CurrentPolicy,
  type CurrentRole,
  type DesiredPolicy,
  type DesiredRole,
} from '../../../src/model.js';
import { grantsPolicyDocument, secretArn } from '../../../src/policy/grants.js';
import { grants } from '../../../src/sections/grants.js';
import { ACCOUNT, AWS, PARTITION_CASES, TOOL_TAG, context, facts, loadConfig, loaderProblems } from './fixtures.js';

const SCOPE = { partition: 'aws' as const, region: 'eu-west-1', accountId: ACCOUNT };
const KEY = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const REPO = 'arn:aws:ecr:us-east-1:444455556666:repository/team/trainer';
const WORKERS_GRANTS = `arn:aws:iam::${ACCOUNT}:policy/flyte-workers-role-grants`;

function policies(yaml: string): DesiredPolicy[] {
  return grants.desired(context(loadConfig(yaml))) as DesiredPolicy[];
}

describe('grants: the documents, least privilege', () => {
  it('a bucket, read: get its objects and list it, nothing else', () => {
    expect(grantsPolicyDocument(SCOPE, [{ bucket: 'acme-shared', access: 'read' }]).Statement).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::acme-shared/*' },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::acme-shared' },
    ]);
  });

  it('a prefix, read-write: objects under it only, listing only under it, and the write actions', () => {
    const doc = grantsPolicyDocument(SCOPE, [{ bucket: 'acme-shared', prefix: 'features/', access: 'read-write' }]);
    expect(doc.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: 'arn:aws:s3:::acme-shared/features/*',
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-shared',
        Condition: { StringLike: { 's3:prefix': 'features/*' } },
      },
    ]);
    expect(JSON.stringify(doc)).not.toMatch(/s3:\*|PutObjectAcl|"\*"/);
  });

  it("a bucket's SSE-KMS key: decrypt only for read, the data key too for read-write, through S3 only", () => {
    const read = grantsPolicyDocument(SCOPE, [{ bucket: 'acme-shared', access: 'read', kmsKey: KEY }]);
    expect(read.Statement[2]).toEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
    });
    const write = grantsPolicyDocument(SCOPE, [{ bucket: 'acme-shared', access: 'read-write', kmsKey: KEY }]);
    expect(write.Statement[2]!.Action).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });

  it("secrets of the config's region and account: a name gets Secrets Manager's six-character suffix, a prefix its *", () => {
    expect(secretArn(SCOPE, 'prod/fraud/db')).toBe(
      `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/fraud/db-??????`,
    );
    expect(secretArn(SCOPE, 'prod/fraud/*')).toBe(`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/fraud/*`);
    const doc = grantsPolicyDocument(SCOPE, [
      { secret: 'prod/fraud/db', access: 'read' },
      { secret: 'prod/shared/*', access: 'read' },
    ]);
    expect(doc.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: [secretArn(SCOPE, 'prod/fraud/db'), secretArn(SCOPE, 'prod/shared/*')],
      },
    ]);
  });

  it('an ECR repository: pull on that repository, and the registry token (which has no resource)', () => {
    expect(grantsPolicyDocument(SCOPE, [{ ecrRepository: REPO, access: 'read' }]).Statement).toEqual([
      { Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: REPO },
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    ]);
  });

  it.each(PARTITION_CASES)('in $partition: every ARN in the partition', (p) => {
    const doc = grantsPolicyDocument({ partition: p.partition, region: p.region, accountId: ACCOUNT }, [
      { bucket: 'b', access: 'read' },
      { secret: 's', access: 'read' },
    ]);
    const arns = JSON.stringify(doc).match(/arn:[a-z-]+:/g) ?? [];
    expect(arns.length).toBeGreaterThan(0);
    for (const a of arns) expect(a).toBe(`arn:${p.partition}:`);
  });
});

describe('grants: what the section wants', () => {
  it('one policy per role that has grants, named <role>-grants, attached by the section, tagged', () => {
    const [workers, fraud, ...rest] = policies(
      'projectRoles: [{ project: fraud }, { project: risk }]\n' +
        'grants:\n' +
        '  - { to: workers, bucket: acme-shared, prefix: features/ }\n' +
        '  - { to: [workers, fraud], secret: prod/db }\n',
    );
    // The other roles this config makes have no grants: their grants policy is wanted gone (removed when it is
    // this setup's), never attached.
    expect(rest.map((p) => p.name)).toContain('flyte-risk-role-grants');
    expect(rest.map((p) => p.name)).not.toContain('flyte-fraud-role-grants');
    for (const p of rest) expect(p).toMatchObject({ gone: true, tags: TOOL_TAG });
    for (const p of rest) expect(p).not.toHaveProperty('attachTo');
    expect(workers).toMatchObject({
      kind: 'policy',
      name: 'flyte-workers-role-grants',
      arn: WORKERS_GRANTS,
      path: '/',
      tags: TOOL_TAG,
      attachTo: ['flyte-workers-role'],
    });
    // The workers role's two grants; the fraud role's one (risk has none, so no policy).
    expect(workers!.document.Statement).toHaveLength(3);
    expect(fraud!.name).toBe('flyte-fraud-role-grants');
    expect(fraud!.attachTo).toEqual(['flyte-fraud-role']);
    expect(fraud!.document.Statement).toEqual([
      expect.objectContaining({ Resource: secretArn({ ...SCOPE }, 'prod/db') }),
    ]);
  });

  it('projects stands for every project role; the roles list their grants policy as attached by the grants section', () => {
    const config = loadConfig(
      'projectRoles: [{ project: fraud }, { project: risk }]\ngrants: [{ to: projects, bucket: acme-shared }]\n',
    );
    const wanted = (grants.desired(context(config)) as DesiredPolicy[]).filter((p) => !p.gone);
    expect(wanted.map((p) => p.name)).toEqual(['flyte-fraud-role-grants', 'flyte-risk-role-grants']);
    const roles = desiredSections(config, facts())
      .flatMap((s) => s.resources)
      .filter((r): r is DesiredRole => r.kind === 'role');
    const fraud = roles.find((r) => r.name === 'flyte-fraud-role')!;
    expect(fraud.alsoAttached).toEqual([`arn:aws:iam::${ACCOUNT}:policy/flyte-fraud-role-grants`]);
    // Not among the policies the role section attaches itself (the policy may not exist yet when it runs).
    expect(fraud.managedPolicies).not.toContain(fraud.alsoAttached![0]);
    expect(roles.find((r) => r.name === 'flyte-workers-role')).not.toHaveProperty('alsoAttached');
  });

  it('node gets the node role; its ECR grant is the one that lets the images pods run be pulled', () => {
    const ctx = context(loadConfig(`grants: [{ to: node, ecrRepository: ${REPO} }]\n`));
    const [node] = grants.desired(ctx) as DesiredPolicy[];
    expect(node!.name).toBe('flyte-eks-node-role-grants');
    const notes = grants.notes!(ctx);
    // Another account's repository: that account's repository policy, naming the role, is printed.
    expect(notes).toHaveLength(1);
    expect(notes[0]!.level).toBe('warn');
    expect(notes[0]!.message).toContain("is account 444455556666's");
    const statement = JSON.parse(notes[0]!.message.slice(notes[0]!.message.lastIndexOf(': {') + 2));
    expect(statement).toEqual({
      Sid: 'FlytePull',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/flyte-eks-node-role` },
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
    });
  });

  it("an ECR grant to a pod role says that the node pulls the pods' images; a repository of this account needs no repository policy", () => {
    const own = REPO.replace('444455556666', ACCOUNT);
    const notes = grants.notes!(context(loadConfig(`grants: [{ to: workers, ecrRepository: ${own} }]\n`)));
    expect(notes).toEqual([
      { level: 'info', message: expect.stringContaining('the images pods run are pulled by the node') },
    ]);
  });

  it('turned off (no grants), wants nothing', () => {
    expect(grants.enabled(loadConfig(), () => true)).toBe(false);
    expect(grants.desired(context(loadConfig()))).toEqual([]);
    expect(grants.off).toBe('no grants');
  });

  it('turned off, with a grants policy still attached to a role the config makes: only that one is wanted gone', () => {
    const ctx = context(loadConfig('projectRoles: [{ project: fraud }]\n'));
    const attached = new Map<string, string[]>([
      ['flyte-workers-role', [WORKERS_GRANTS, 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']],
      // Another role's grants policy on this role, and a role the config does not make: neither is this section's.
      ['flyte-fraud-role', [WORKERS_GRANTS]],
      ['someone-elses-role', [`arn:aws:iam::${ACCOUNT}:policy/someone-elses-role-grants`]],
    ]);
    const left = grants.leftBehind!(ctx, (role) => attached.get(role)) as DesiredPolicy[];
    expect(left).toEqual([
      expect.objectContaining({ kind: 'policy', arn: WORKERS_GRANTS, gone: true, name: 'flyte-workers-role-grants' }),
    ]);
    expect(left[0]!.attachTo).toBeUndefined();
    // Nothing attached (or the roles not read): nothing to take away.
    expect(grants.leftBehind!(ctx, () => undefined)).toEqual([]);
    expect(grants.leftBehind!(ctx, () => [])).toEqual([]);
  });
});

describe('grants: the config checks name the key', () => {
  it.each([
    ['nothing to grant', '[{ to: workers }]', ['grants', 0], 'needs one of bucket, secret or ecrRepository'],
    ['two things', '[{ to: workers, bucket: b-1, secret: s }]', ['grants', 0, 'secret'], 'make one grant of each'],
    [
      'a prefix without a bucket',
      '[{ to: workers, secret: s, prefix: a/ }]',
      ['grants', 0, 'prefix'],
      'only applies to a bucket grant',
    ],
    ['an unknown grantee', '[{ to: worker, bucket: b-1 }]', ['grants', 0, 'to'], 'did you mean workers?'],
    [
      'one in a list',
      '[{ to: [workers, fruad], bucket: b-1 }]',
      ['grants', 0, 'to', 1],
      'nor a project of projectRoles',
    ],
    [
      'a wildcard prefix',
      '[{ to: workers, bucket: b-1, prefix: "a/*" }]',
      ['grants', 0, 'prefix'],
      'must not hold * or ?',
    ],
    ['a lone *', '[{ to: workers, secret: "*" }]', ['grants', 0, 'secret'], 'a lone * would grant every secret'],
    [
      'a repository name',
      '[{ to: node, ecrRepository: team/trainer }]',
      ['grants', 0, 'ecrRepository'],
      'must be an ECR repository ARN',
    ],
    [
      'an alias for a key',
      '[{ to: workers, bucket: b-1, kmsKey: "arn:aws:kms:eu-west-1:123456789012:alias/x" }]',
      ['grants', 0, 'kmsKey'],
      'not an alias ARN',
    ],
    ['an unknown access', '[{ to: workers, bucket: b-1, access: write }]', ['grants', 0, 'access'], ''],
  ])('%s', (_what, list, path, words) => {
    const problems = loaderProblems(`grants: ${list}\n`);
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]!.message).toContain(words);
  });

  it('a grantee whose roles this config does not make is refused', () => {
    const [off] = loaderProblems('workersRole: false\ngrants: [{ to: workers, bucket: b-1 }]\n');
    expect(off).toMatchObject({ path: ['grants', 0, 'to'] });
    expect(off!.message).toContain('which this config does not make');
    const [none] = loaderProblems('grants: [{ to: projects, bucket: b-1 }]\n');
    expect(none!.message).toContain('projects');
    // Flyte 2 makes no workers role: its task pods run as the backend's service account (system).
    expect(loaderProblems('target: flyte2\ngrants: [{ to: workers, bucket: b-1 }]\n')).toHaveLength(1);
    expect(loaderProblems('target: flyte2\ngrants: [{ to: system, bucket: b-1 }]\n')).toEqual([]);
  });

  it("ARNs in another partition than the region's are refused", () => {
    const problems = loaderProblems(`region: cn-north-1\ngrants: [{ to: node, ecrRepository: ${REPO} }]\n`);
    expect(problems).toMatchObject([{ path: ['grants', 0, 'ecrRepository'] }]);
    expect(problems[0]!.message).toContain('is in partition aws, but region cn-north-1 is in aws-cn');
  });
});

describe('grants: planned, verified and destroyed like the custom policy', () => {
  const [desired] = policies('grants: [{ to: workers, bucket: acme-shared }]\n');
  const current = (over: Partial<CurrentPolicy>): CurrentPolicy => ({
    kind: 'policy',
    arn: WORKERS_GRANTS,
    name: 'flyte-workers-role-grants',
    path: '/',
    defaultVersionId: 'v1',
    document: desired!.document,
    tags: TOOL_TAG,
    attachedRoles: ['flyte-workers-role'],
    ...over,
  });

  it('created, then attached to its role: a change that lets more in', () => {
    const plan = planPolicy(desired!, undefined);
    expect(plan.steps.map((s) => s.op)).toEqual(['CreatePolicy', 'AttachRolePolicy']);
    expect(plan.steps[1]).toEqual({
      op: 'AttachRolePolicy',
      roleName: 'flyte-workers-role',
      policyArn: WORKERS_GRANTS,
    });
    expect(plan.security).toEqual([expect.stringContaining('attaches it to the role flyte-workers-role')]);
  });

  it('in line: nothing to do; detached by hand: attached again; a grant added: a new version', () => {
    expect(planPolicy(desired!, current({})).action).toBe('none');
    expect(planPolicy(desired!, current({ attachedRoles: [] })).steps.map((s) => s.op)).toEqual(['AttachRolePolicy']);
    const [wider] = policies('grants: [{ to: workers, bucket: acme-shared, access: read-write }]\n');
    expect(planPolicy(wider!, current({})).steps.map((s) => s.op)).toEqual(['CreatePolicyVersion']);
  });

  it("a grant's prefix narrowed, its other grants removed: a new version that lets nothing more in; widened back, it does", () => {
    // The tester's case, through the plan: the workers' grants policy as applied, then the config narrowed.
    const before = `grants:
  - to: workers
    bucket: acme-shared-data
    prefix: features/
  - to: workers
    secret: prod/fraud/db
`;
    const after = 'grants: [{ to: workers, bucket: acme-shared-data, prefix: features/public/ }]\n';
    const [applied] = policies(before);
    const held = (doc: DesiredPolicy) => new Map([[`policy:${WORKERS_GRANTS}`, current({ document: doc.document })]]);
    // Only the grants policy is held: the roles are to be made, which the plan marks for reasons of their own.
    const plan = (yaml: string, doc: DesiredPolicy) =>
      planSecurity(buildPlan(facts(), desiredSections(loadConfig(yaml), facts()), held(doc))).filter((m) =>
        m.startsWith('flyte-workers-role-grants:'),
      );
    const narrowed = buildPlan(facts(), desiredSections(loadConfig(after), facts()), held(applied!));
    const resource = narrowed.sections.flatMap((s) => s.resources).find((r) => r.arn === WORKERS_GRANTS)!;
    expect(resource.steps.map((s) => s.op)).toEqual(['CreatePolicyVersion']);
    expect(resource.security).toEqual([]);
    expect(plan(after, applied!)).toEqual([]);

    const [narrow] = policies(after);
    expect(plan(before, narrow!)).toEqual([
      'flyte-workers-role-grants: allows s3:getobject, s3:listbucket, secretsmanager:describesecret, ' +
        'secretsmanager:getsecretvalue on arn:aws:s3:::acme-shared-data/features/*, arn:aws:s3:::acme-shared-data, ' +
        `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/fraud/db-??????`,
    ]);
  });

  it('the role it is attached to does not report it as a policy the config does not list', () => {
    const config = loadConfig('grants: [{ to: workers, bucket: acme-shared }]\n');
    const role = desiredSections(config, facts())
      .flatMap((s) => s.resources)
      .find((r): r is DesiredRole => r.kind === 'role' && r.name === 'flyte-workers-role')!;
    const held: CurrentRole = {
      kind: 'role',
      name: role.name,
      arn: role.arn,
      path: '/',
      trust: role.trust,
      attached: [...role.managedPolicies, WORKERS_GRANTS],
      tags: TOOL_TAG,
      inline: [],
    };
    const plan = planRole(role, held);
    expect(plan.action).toBe('none');
    expect(plan.findings ?? []).toEqual([]);
    // Without the grant in the config, the same attachment is reported.
    const { alsoAttached: _, ...without } = role;
    expect(planRole(without, held).findings?.map((f) => f.code)).toEqual(['extra-policy']);
  });

  it("destroy detaches it with its role and deletes it; from a role that stays, only the tool's policies are detached", () => {
    const policyState = (roles: string[]): DestroyPolicyState => ({
      name: 'flyte-workers-role-grants',
      arn: WORKERS_GRANTS,
      current: current({}),
      versions: [{ id: 'v1', isDefault: true }],
      attachments: { roles, users: [], groups: [] },
    });
    const roleOf = (tags: Record<string, string>): CurrentRole => ({
      kind: 'role',
      name: 'flyte-workers-role',
      arn: `arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`,
      path: '/',
      trust: { Version: '2012-10-17', Statement: [] },
      attached: [WORKERS_GRANTS, 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'],
      tags,
    });
    const state = (tags: Record<string, string>) => ({
      facts: facts({ partition: AWS }),
      setup: 'acme',
      clusterExists: true,
      roles: [
        {
          section: 'workersRole' as const,
          name: 'flyte-workers-role',
          current: roleOf(tags),
          inlinePolicies: [],
          instanceProfiles: [],
        },
      ],
      grantPolicies: [policyState(['flyte-workers-role'])],
    });
    const own = planDestroy(state(TOOL_TAG));
    expect(own.items.map((i) => [i.section, i.kind, i.name, i.action])).toEqual([
      ['workersRole', 'role', 'flyte-workers-role', 'delete'],
      ['grants', 'policy', 'flyte-workers-role-grants', 'delete'],
    ]);
    expect(own.items[1]!.steps).toEqual([{ op: 'DeletePolicy', policyArn: WORKERS_GRANTS }]);

    const before = planDestroy(state({}));
    expect(before.items[0]!.action).toBe('detach');
    expect(before.items[0]!.steps).toEqual([
      { op: 'DetachRolePolicy', roleName: 'flyte-workers-role', policyArn: WORKERS_GRANTS },
    ]);
    expect(before.items[0]!.notes[0]).toContain('detached (flyte-workers-role-grants)');

    // Attached outside the config too: kept, with the commands to detach it.
    const shared = planDestroy({ ...state(TOOL_TAG), grantPolicies: [policyState(['flyte-workers-role', 'other'])] });
    expect(shared.items[1]).toMatchObject({ action: 'blocked', reason: expect.stringContaining('role other') });
  });
});

describe('grants: the wizard', () => {
  it('does not ask for grants: it says they are written in the config, and a walk without them saves no key', async () => {
    const said: string[] = [];
    const on = await grants.wizard!.offer!({ say: (line = '') => said.push(line) } as never);
    expect(on).toBe(false);
    expect(said.join('\n')).toContain('Grants are written in the config file (grants:), not asked here');
    const draft = { bucket: 'b-1', grants: [] };
    grants.wizard!.turnOff!(draft);
    expect(draft).toEqual({ bucket: 'b-1' });
  });
});

describe('grants: narrowing the config narrows AWS (a role that no longer has grants)', () => {
  const RISK_GRANTS = `arn:aws:iam::${ACCOUNT}:policy/flyte-risk-role-grants`;
  // The fraud role keeps a grant; the risk role has none any more.
  const desired = policies(
    'projectRoles: [{ project: fraud }, { project: risk }]\ngrants: [{ to: fraud, bucket: acme-shared }]\n',
  ).find((p) => p.name === 'flyte-risk-role-grants')!;
  const current = (over: Partial<CurrentPolicy>): CurrentPolicy => ({
    kind: 'policy',
    arn: RISK_GRANTS,
    name: 'flyte-risk-role-grants',
    path: '/',
    defaultVersionId: 'v3',
    document: grantsPolicyDocument(SCOPE, [{ bucket: 'acme-shared', access: 'read' }]),
    tags: TOOL_TAG,
    versions: [
      { id: 'v3', isDefault: true },
      { id: 'v1', isDefault: false },
      { id: 'v2', isDefault: false },
    ],
    attachedRoles: ['flyte-risk-role'],
    ...over,
  });

  it('the section wants the grants policy of a role without grants gone', () => {
    expect(desired).toMatchObject({ kind: 'policy', arn: RISK_GRANTS, gone: true, tags: TOOL_TAG });
  });

  it('not there: nothing to do, and the plan does not name it', () => {
    const plan = planPolicy(desired, undefined);
    expect(plan.action).toBe('none');
    expect(plan.steps).toEqual([]);
    const config = loadConfig(
      'projectRoles: [{ project: fraud }, { project: risk }]\ngrants: [{ to: fraud, bucket: acme-shared }]\n',
    );
    const section = buildPlan(facts(), desiredSections(config, facts()), new Map()).sections.find(
      (s) => s.id === 'grants',
    )!;
    expect(section.resources.map((r) => r.name)).toEqual(['flyte-fraud-role-grants']);
    // Once it exists, it is planned.
    const held = new Map([[`policy:${RISK_GRANTS}`, current({})]]);
    const again = buildPlan(facts(), desiredSections(config, facts()), held).sections.find((s) => s.id === 'grants')!;
    expect(again.resources.map((r) => [r.name, r.action])).toEqual([
      ['flyte-fraud-role-grants', 'create'],
      ['flyte-risk-role-grants', 'update'],
    ]);
  });

  it("this setup's: detached from its roles, its other versions deleted, then it; a narrowing change", () => {
    const plan = planPolicy(desired, current({ attachedRoles: ['flyte-risk-role', 'flyte-fraud-role'] }));
    expect(plan.action).toBe('update');
    expect(plan.steps).toEqual([
      { op: 'DetachRolePolicy', roleName: 'flyte-fraud-role', policyArn: RISK_GRANTS },
      { op: 'DetachRolePolicy', roleName: 'flyte-risk-role', policyArn: RISK_GRANTS },
      { op: 'DeletePolicyVersion', policyArn: RISK_GRANTS, versionId: 'v1' },
      { op: 'DeletePolicyVersion', policyArn: RISK_GRANTS, versionId: 'v2' },
      { op: 'DeletePolicy', policyArn: RISK_GRANTS },
    ]);
    // Nothing (!): --yes alone approves it.
    expect(plan.security).toEqual([]);
    expect(plan.notes.map((n) => n.message)).toEqual([expect.stringContaining('the config gives its role none now')]);
  });

  it("made before setups by the tool (managed-by only): taken as this setup's and removed", () => {
    const plan = planPolicy(desired, current({ tags: { 'managed-by': 'flyte-aws-setup' }, versions: [] }));
    expect(plan.steps.map((s) => s.op)).toEqual(['DetachRolePolicy', 'DeletePolicy']);
  });

  it('made by hand, or by another setup: never touched, and reported while it is attached', () => {
    const byHand = planPolicy(desired, current({ tags: {} }));
    expect(byHand.action).toBe('none');
    expect(byHand.steps).toEqual([]);
    expect(byHand.notes).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining(
          `flyte-aws-setup did not make it: it is left alone and still grants what it holds to flyte-risk-role; ` +
            `if nothing needs it: aws iam detach-role-policy --role-name flyte-risk-role --policy-arn ${RISK_GRANTS}`,
        ),
      },
    ]);
    const other = planPolicy(desired, current({ tags: { ...TOOL_TAG, 'flyte-aws-setup:setup': 'blue' } }));
    expect(other.steps).toEqual([]);
    expect(other.notes[0]!.message).toContain('it belongs to the setup "blue"');
    const detachedByHand = planPolicy(desired, current({ tags: {}, attachedRoles: [] }));
    expect(detachedByHand.notes[0]!.level).toBe('info');
  });
});
