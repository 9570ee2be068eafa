/**
 * A cluster dropped from the config (`cluster: [acme, {name: acme-us, region: us-east-2}]` → `cluster: acme`): the
 * pod identity associations this setup made there are found through the clusters the setup's roles still let Pod
 * Identity in from (no call while they name only the config's), listed by a plan and by verify, removed by --prune
 * (read back until gone) and by destroy; anyone else's there is never touched.
 */
import {
  DeletePodIdentityAssociationCommand,
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  ListNodegroupsCommand,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  DeleteRoleCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { leftoverFindings } from '../../src/audit/audit.js';
import { DESCRIPTION_MARK, TRUST_KEY } from '../../src/config/rules.js';
import { destroySteps, planDestroy } from '../../src/engine/destroy.js';
import { readDestroyState } from '../../src/engine/destroy-run.js';
import { applyPlan } from '../../src/engine/apply.js';
import { makePlan } from '../../src/engine/engine.js';
import { droppedClusters, pruneLeftovers } from '../../src/engine/leftovers.js';
import { encodeTrust } from '../../src/engine/records.js';
import { planSteps, type CurrentRole } from '../../src/model.js';
import { planChecks } from '../../src/permissions/preflight.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { renderLeftoverResults, renderPlan } from '../../src/render/plan-text.js';
import { plainStyle } from '../../src/render/style.js';
import { awsError, mockAws, roleAnswer } from '../helpers/mock-aws.js';
import { ACCOUNT, facts as accountFacts, loadConfig, TOOL_TAG } from './sections/fixtures.js';

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const clusterArn = (name: string, region = 'eu-west-1') => `arn:aws:eks:${region}:${ACCOUNT}:cluster/${name}`;

function podStatement(cluster: string) {
  return {
    Effect: 'Allow' as const,
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': cluster } },
  };
}
const trust = (...clusters: string[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: clusters.map(podStatement),
});

const DROPPED = clusterArn('acme-us', 'us-east-2');
const CONFIG = loadConfig(
  'customPolicy: false\nclusterRole: false\nnodeRole: false\nidentity: pod-identity\n' +
    'workersRole: { allNamespaces: false, namespaces: [] }\nprojectRoles: []\n',
);

interface Association {
  id: string;
  cluster: string;
  namespace: string;
  roleName: string;
  tags: Record<string, string>;
}

const assocArn = (a: Pick<Association, 'id' | 'cluster'>) =>
  `arn:aws:eks:${a.cluster === 'acme' ? 'eu-west-1' : 'us-east-2'}:${ACCOUNT}:podidentityassociation/${a.cluster}/${a.id}`;

/**
 * The config's roles as the tool made them, their trust naming `trusted` clusters; the associations of each
 * cluster (a deleted one is gone); `extraRoles`: roles the account lists (the setup's leftovers, say).
 */
function account(
  trusted: string[],
  associations: Association[],
  extraRoles: { name: string; trust: PolicyDocument; tags: Record<string, string> }[] = [],
) {
  const m = mockAws();
  const live = [...associations];
  const roles = new Map([
    ...['flyte-system-role', 'flyte-workers-role'].map(
      (n) => [n, { trust: trust(...trusted), tags: TOOL_TAG }] as const,
    ),
    ...extraRoles.map((r) => [r.name, { trust: r.trust, tags: r.tags }] as const),
  ]);
  m.iam.on(ListRolesCommand).resolves({
    Roles: [...roles.keys()].map((name) => ({
      RoleName: name,
      Arn: role(name),
      Path: '/',
      RoleId: name,
      CreateDate: new Date(),
      Description: `Flyte, ${DESCRIPTION_MARK}`,
    })),
  });
  m.iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => {
    const r = roles.get(input.RoleName);
    if (r === undefined) throw awsError('NoSuchEntity');
    return roleAnswer(input.RoleName, r.trust, r.tags, ACCOUNT);
  });
  m.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  m.iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [] });
  m.iam.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [] });
  m.eks.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
  m.eks.on(ListPodIdentityAssociationsCommand).callsFake((input: { clusterName: string }) => ({
    associations: live
      .filter((a) => a.cluster === input.clusterName)
      .map((a) => ({
        associationId: a.id,
        associationArn: assocArn(a),
        clusterName: a.cluster,
        namespace: a.namespace,
        serviceAccount: 'default',
      })),
  }));
  m.eks.on(DescribePodIdentityAssociationCommand).callsFake((input: { clusterName: string; associationId: string }) => {
    const a = live.find((x) => x.id === input.associationId && x.cluster === input.clusterName);
    if (a === undefined) throw awsError('ResourceNotFoundException');
    return {
      association: {
        associationArn: assocArn(a),
        associationId: a.id,
        clusterName: a.cluster,
        namespace: a.namespace,
        serviceAccount: 'default',
        roleArn: role(a.roleName),
        tags: a.tags,
      },
    };
  });
  m.eks.on(DeletePodIdentityAssociationCommand).callsFake((input: { associationId: string }) => {
    const i = live.findIndex((x) => x.id === input.associationId);
    if (i >= 0) live.splice(i, 1);
    return {};
  });
  return m;
}

const ON_DROPPED: Association[] = [
  { id: 'a-9', cluster: 'acme-us', namespace: 'flyte', roleName: 'flyte-workers-role', tags: TOOL_TAG },
  // Another setup's, and one made by hand: never this setup's to touch.
  {
    id: 'a-10',
    cluster: 'acme-us',
    namespace: 'web',
    roleName: 'web-role',
    tags: { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other' },
  },
  { id: 'a-11', cluster: 'acme-us', namespace: 'ml', roleName: 'flyte-workers-role', tags: {} },
];

const listedOn = (m: ReturnType<typeof mockAws>) =>
  m.eks.commandCalls(ListPodIdentityAssociationsCommand).map((c) => c.args[0].input.clusterName);

describe('a cluster dropped from the config: its associations of this setup', () => {
  it('without --prune: listed as leftovers (verify fails on them), nothing deleted', async () => {
    const m = account([clusterArn('acme'), DROPPED], ON_DROPPED);
    const plan = await makePlan(CONFIG, m.gateway);
    const left = plan.leftovers!.filter((l) => l.kind === 'pod-identity-association');
    expect(left).toEqual([
      {
        kind: 'pod-identity-association',
        name: 'acme-us: flyte/default',
        arn: assocArn({ id: 'a-9', cluster: 'acme-us' }),
        trustedBy: ['service account flyte/default of the cluster acme-us (us-east-2)'],
        holds: [role('flyte-workers-role')],
        action: 'listed',
        steps: [],
      },
    ]);
    expect(planSteps(plan).filter((s) => s.op === 'DeletePodIdentityAssociation')).toEqual([]);
    const findings = leftoverFindings(plan, 'flyte-aws-setup --config c.yaml --yes');
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        resource: 'pod identity association acme-us: flyte/default',
        fix: expect.stringContaining('--prune` removes it'),
      }),
    ]);
    const text = renderPlan(plan, plainStyle);
    expect(text).toContain('What this setup made that the config no longer names');
    expect(text).toContain('[!] pod identity association acme-us: flyte/default  still grants access');
    expect(text).toContain('1 resource(s) of this setup that the config no longer names still grant access');
  });

  it("with --prune: deleted (only the setup's), in its region, then read back until gone", async () => {
    const m = account([clusterArn('acme'), DROPPED], ON_DROPPED);
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    const left = plan.leftovers!.filter((l) => l.kind === 'pod-identity-association');
    expect(left.map((l) => [l.name, l.action, l.steps])).toEqual([
      [
        'acme-us: flyte/default',
        'remove',
        [
          {
            op: 'DeletePodIdentityAssociation',
            clusterName: 'acme-us',
            region: 'us-east-2',
            associationId: 'a-9',
            name: 'acme-us: flyte/default',
          },
        ],
      ],
    ]);
    // The preflight asks IAM about the delete on the association itself.
    expect(planChecks(plan)).toContainEqual({
      action: 'eks:DeletePodIdentityAssociation',
      resource: assocArn({ id: 'a-9', cluster: 'acme-us' }),
      context: [],
    });
    const results = await pruneLeftovers(plan.leftovers!, m.gateway, {
      consistency: { timeoutMs: 1000, initialDelayMs: 1 },
    });
    expect(results.map((r) => [r.name, r.outcome])).toEqual([['acme-us: flyte/default', 'removed']]);
    const deleted = m.eks.commandCalls(DeletePodIdentityAssociationCommand).map((c) => c.args[0].input);
    expect(deleted).toEqual([{ clusterName: 'acme-us', associationId: 'a-9' }]);
    // Read back after the delete: described again, and gone.
    const reads = m.eks
      .commandCalls(DescribePodIdentityAssociationCommand)
      .filter((c) => c.args[0].input.associationId === 'a-9');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(renderLeftoverResults(results, plainStyle)).toContain(
      '✓ pod identity association acme-us: flyte/default (no longer in the config): removed',
    );
  });

  it('with --prune: before the sections narrow the trusts; one that cannot go leaves them, and the rest, as they were', async () => {
    // A leftover role of the setup besides: pruned after the sections, so not at all here.
    const m = account([clusterArn('acme'), DROPPED], ON_DROPPED, [
      { name: 'flyte-old-role', trust: trust(DROPPED), tags: TOOL_TAG },
    ]);
    m.eks.on(DeletePodIdentityAssociationCommand).rejects(awsError('AccessDeniedException', 'not allowed'));
    m.iam.on(UpdateAssumeRolePolicyCommand).resolves({});
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    expect(planSteps(plan).filter((s) => s.op === 'UpdateAssumeRolePolicy')).toHaveLength(2);
    expect(plan.leftovers!.map((l) => [l.name, l.action])).toEqual([
      ['acme-us: flyte/default', 'remove'],
      ['flyte-old-role', 'remove'],
    ]);
    const events: string[] = [];
    const result = await applyPlan(
      plan,
      m.gateway,
      { onEvent: (e) => events.push(e.type === 'leftovers-done' ? `leftovers ${e.results.length}` : e.type) },
      { consistency: { timeoutMs: 1000, initialDelayMs: 1 } },
    );
    expect(result.outcome).toBe('failed');
    const held = 'waits for the removal of the pod identity association acme-us: flyte/default, which did not complete';
    expect(result.leftovers!.map((l) => [l.name, l.outcome, l.reason])).toEqual([
      ['acme-us: flyte/default', 'failed', undefined],
      ['flyte-old-role', 'not-run', held],
    ]);
    // The trusts still name acme-us, so the next run finds the association again; the leftover role is untouched.
    expect(m.iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
    for (const id of ['systemRole', 'workersRole']) {
      const section = result.sections.find((s) => s.id === id)!;
      expect(section.outcome).toBe('not-run');
      expect(section.reason).toBe(held);
    }
    // The failed removal is reported first, before the sections it held; the leftover held, after them.
    expect(events.filter((e) => e.startsWith('leftovers') || e === 'section-done')[0]).toBe('leftovers 1');
    expect(events.at(-1)).toBe('leftovers 1');
    const text = renderLeftoverResults(result.leftovers!, plainStyle);
    expect(text).toContain('✗ pod identity association acme-us: flyte/default (no longer in the config): not done');
    expect(text).toContain(`✗ role flyte-old-role (no longer in the config): not run\n    ${held}`);
  });

  it('with --prune, interrupted during the early removal: no section starts, and the removal is not called failed', async () => {
    const m = account([clusterArn('acme'), DROPPED], ON_DROPPED, [
      { name: 'flyte-old-role', trust: trust(DROPPED), tags: TOOL_TAG },
    ]);
    m.iam.on(UpdateAssumeRolePolicyCommand).resolves({});
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    const described = m.eks.commandCalls(DescribePodIdentityAssociationCommand).length;
    const interrupt = new AbortController();
    // Ctrl-C while the delete is in flight: it completes, and nothing more is asked of AWS.
    m.eks.on(DeletePodIdentityAssociationCommand).callsFake(() => {
      interrupt.abort();
      return {};
    });
    const result = await applyPlan(
      plan,
      m.gateway,
      {},
      { signal: interrupt.signal, consistency: { timeoutMs: 1000, initialDelayMs: 1 } },
    );
    expect(result.outcome).toBe('interrupted');
    expect(m.iam.commandCalls(UpdateAssumeRolePolicyCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
    // Not read back after the interrupt: the next run's plan reads it.
    expect(m.eks.commandCalls(DescribePodIdentityAssociationCommand)).toHaveLength(described);
    const [association, role] = result.leftovers!;
    expect(association).toMatchObject({ outcome: 'interrupted', remaining: [] });
    expect(association!.done.map((d) => d.op)).toEqual(['DeletePodIdentityAssociation']);
    expect(association!.error).toBeUndefined();
    expect(role).toMatchObject({ name: 'flyte-old-role', outcome: 'interrupted', done: [] });
    for (const id of ['systemRole', 'workersRole']) {
      expect(result.sections.find((s) => s.id === id)).toMatchObject({
        outcome: 'not-run',
        reason: 'the run stopped before this section',
      });
    }
    const text = renderLeftoverResults(result.leftovers!, plainStyle);
    expect(text).toContain(
      '! pod identity association acme-us: flyte/default (no longer in the config): delete the pod identity ' +
        'association acme-us: flyte/default',
    );
    expect(text).toContain('not read back (interrupted)');
    expect(text).toContain('✗ role flyte-old-role (no longer in the config): not done (interrupted)');
  });

  it("after the config's roles, with the setup's roles the config no longer names (their trust names it too)", async () => {
    // The config's roles no longer trust acme-us (narrowed already); a leftover role does.
    const m = account([clusterArn('acme')], ON_DROPPED, [
      { name: 'flyte-old-role', trust: trust(DROPPED), tags: TOOL_TAG },
    ]);
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    // The association first: the role that names its cluster (the only way to find it) goes after it.
    expect(plan.leftovers!.map((l) => [l.kind, l.name, l.action])).toEqual([
      ['pod-identity-association', 'acme-us: flyte/default', 'remove'],
      ['role', 'flyte-old-role', 'remove'],
    ]);
  });

  it("no call for it while the roles trust only the config's clusters, with or without --prune, and in verify", async () => {
    const m = account([clusterArn('acme')], ON_DROPPED);
    await makePlan(CONFIG, m.gateway);
    await makePlan(CONFIG, m.gateway, { prune: true });
    await makePlan(CONFIG, m.gateway, { audit: true });
    expect(new Set(listedOn(m))).toEqual(new Set(['acme']));
    expect(
      m.eks.commandCalls(DescribePodIdentityAssociationCommand).filter((c) => c.args[0].input.clusterName !== 'acme'),
    ).toEqual([]);
  });

  it("the config's cluster not found (a run in another region, say): none is looked for, none deleted", async () => {
    // The cluster is acme of eu-central-1 (a leftover role's trust names it); the run looks in eu-west-1.
    const wanted = { id: 'a-1', cluster: 'acme', namespace: 'flyte', roleName: 'flyte-workers-role', tags: TOOL_TAG };
    const m = account(
      [clusterArn('acme', 'eu-central-1')],
      [wanted],
      [{ name: 'flyte-old-role', trust: trust(clusterArn('acme', 'eu-central-1')), tags: TOOL_TAG }],
    );
    m.eks.on(DescribeClusterCommand, { name: 'acme' }).rejects(awsError('ResourceNotFoundException'));
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    expect(plan.leftovers!.filter((l) => l.kind === 'pod-identity-association')).toEqual([]);
    expect(listedOn(m)).toEqual([]);
  });

  it('a dropped cluster whose associations may not be listed: nothing found there, and the run goes on', async () => {
    const m = account([clusterArn('acme'), DROPPED], ON_DROPPED);
    m.eks
      .on(ListPodIdentityAssociationsCommand, { clusterName: 'acme-us' })
      .rejects(awsError('AccessDeniedException', 'not allowed'));
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    expect(plan.leftovers!.filter((l) => l.kind === 'pod-identity-association')).toEqual([]);
  });

  it('a cluster that is gone has none; the dropped cluster is listed once', async () => {
    const m = account([clusterArn('acme'), DROPPED], []);
    m.eks
      .on(ListPodIdentityAssociationsCommand, { clusterName: 'acme-us' })
      .rejects(awsError('ResourceNotFoundException', 'No cluster found for name: acme-us.'));
    const plan = await makePlan(CONFIG, m.gateway, { prune: true });
    expect((plan.leftovers ?? []).filter((l) => l.kind === 'pod-identity-association')).toEqual([]);
    expect(listedOn(m).filter((c) => c === 'acme-us')).toHaveLength(1);
  });

  it('destroy removes them too, with the roles they hand out', async () => {
    const m = account([clusterArn('acme'), DROPPED], ON_DROPPED);
    const plan = planDestroy(await readDestroyState(CONFIG, m.gateway));
    const steps = destroySteps(plan);
    const deletes = steps.filter((s) => s.op === 'DeletePodIdentityAssociation');
    expect(deletes).toEqual([
      {
        op: 'DeletePodIdentityAssociation',
        clusterName: 'acme-us',
        region: 'us-east-2',
        associationId: 'a-9',
        name: 'acme-us: flyte/default',
      },
    ]);
    // Before the roles they name.
    const first = steps.findIndex((s) => s.op === 'DeleteRole');
    expect(steps.indexOf(deletes[0]!)).toBeLessThan(first);
    expect(plan.items.find((i) => i.name === 'acme-us: flyte/default')).toMatchObject({
      kind: 'pod-identity-association',
      action: 'delete',
    });
  });
});

describe('which clusters are looked at (pure)', () => {
  const facts = accountFacts();
  const current = (t: PolicyDocument, tags: Record<string, string>): CurrentRole => ({
    kind: 'role',
    name: 'r',
    arn: role('r'),
    path: '/',
    trust: t,
    attached: [],
    tags,
  });

  it("the Pod Identity clusters of the setup's roles that the config does not name, each once, in its region", () => {
    const roles = [
      current(trust(clusterArn('acme'), DROPPED, clusterArn('old')), TOOL_TAG),
      current(trust(DROPPED), TOOL_TAG),
    ];
    expect(droppedClusters(CONFIG, facts, roles)).toEqual([{ name: 'old' }, { name: 'acme-us', region: 'us-east-2' }]);
  });

  it("not another setup's role, nor one that is no setup's (Union's), nor another account's cluster or a wildcard", () => {
    const elsewhere = trust(DROPPED, `arn:aws:eks:us-east-2:999999999999:cluster/x`, clusterArn('*'));
    expect(
      droppedClusters(CONFIG, facts, [
        current(elsewhere, { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other' }),
        current(elsewhere, {}),
        current(trust(`arn:aws:eks:us-east-2:999999999999:cluster/x`, clusterArn('*')), TOOL_TAG),
      ]),
    ).toEqual([]);
  });

  it('a cluster the config names without a region is never taken for a dropped one, whatever region a trust names', () => {
    const roles = [current(trust(clusterArn('acme', 'us-west-2'), DROPPED), TOOL_TAG)];
    expect(droppedClusters(CONFIG, facts, roles)).toEqual([{ name: 'acme-us', region: 'us-east-2' }]);
  });

  it('of a role this setup adopted: not a cluster its trust named before the tool changed it', () => {
    const adopted = { 'flyte-aws-setup:setup': 'acme', [TRUST_KEY]: encodeTrust(trust(DROPPED)) };
    expect(droppedClusters(CONFIG, facts, [current(trust(clusterArn('acme'), DROPPED), adopted)])).toEqual([]);
    expect(
      droppedClusters(CONFIG, facts, [
        current(trust(clusterArn('acme'), DROPPED), { 'flyte-aws-setup:setup': 'acme' }),
      ]),
    ).toEqual([{ name: 'acme-us', region: 'us-east-2' }]);
  });
});
