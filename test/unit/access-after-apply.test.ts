/**
 * The documents the access check at the end of an apply evaluates, put together from the run's own reads (what it
 * read back, what the plan read) and from the reads started beside the writes; only what neither holds is read at
 * the end. Plans are built by the engine's pure planner; the gateway is a stand-in that counts its reads.
 */
import { describe, expect, it } from 'vitest';
import { expectedRunView, knownFromViews, startAccessReads, type RunView } from '../../src/access/after-apply.js';
import { accessAhead, accessFromViews } from '../../src/access/run.js';
import type { BucketPolicyRead } from '../../src/access/bucket-policy.js';
import { roleDocuments, type RoleRead } from '../../src/access/read.js';
import type { AwsGateway } from '../../src/aws/gateway.js';
import { resolveConfig, type Config, type RawConfig, type SectionId } from '../../src/config/schema.js';
import { buildPlan, desiredSections, type CurrentState } from '../../src/engine/engine.js';
import { resourceKey } from '../../src/engine/plan.js';
import type { CurrentResource, CurrentRole, DesiredResource, Plan } from '../../src/model.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { ACCOUNT, facts } from '../helpers/access-fixtures.js';
import { asWanted } from '../helpers/current-state.js';

const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/team-boundary`;
const CUSTOM = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const RAW: RawConfig = {
  region: 'eu-west-1',
  cluster: 'acme-ml',
  bucket: 'acme-flyte-data',
  projectRoles: [{ project: 'fraud', domains: ['development'], extraPolicies: [ATHENA] }],
};
const FLYTE_ROLES = ['flyte-system-role', 'flyte-workers-role', 'flyte-fraud-role'];
const IAM_KINDS = new Set(['role', 'policy']);

const doc = (sid: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Sid: sid, Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
});

/** A gateway that answers from `held` and lists what was read. */
function standIn(held: {
  roles?: Record<string, CurrentRole>;
  policies?: Record<string, PolicyDocument>;
  inline?: Record<string, Record<string, PolicyDocument>>;
}) {
  const reads: string[] = [];
  const gateway = {
    async readRole(name: string) {
      reads.push(`GetRole ${name}`);
      return held.roles?.[name];
    },
    async policyDocument(arn: string) {
      reads.push(`policy ${arn}`);
      return held.policies?.[arn];
    },
    async inlinePolicyNames(role: string) {
      reads.push(`ListRolePolicies ${role}`);
      return Object.keys(held.inline?.[role] ?? {});
    },
    async inlinePolicyDocument(role: string, name: string) {
      reads.push(`GetRolePolicy ${role} ${name}`);
      return held.inline?.[role]?.[name];
    },
  } as unknown as AwsGateway;
  return { gateway, reads };
}

function desiredOf(config: Config): DesiredResource[] {
  return desiredSections(config, facts).flatMap((s) => s.resources);
}

function roleOf(desired: DesiredResource[], name: string): DesiredResource & { kind: 'role' } {
  const r = desired.find((x) => x.kind === 'role' && x.name === name);
  if (r?.kind !== 'role') throw new Error(`no role ${name}`);
  return r;
}

/** Each desired role and policy as the run reads it back once it matches. */
function allMatching(desired: DesiredResource[]): Map<string, CurrentResource | undefined> {
  return new Map(desired.flatMap((r) => (IAM_KINDS.has(r.kind) ? [[resourceKey(r), matching(r)] as const] : [])));
}

/** What AWS holds for a desired role or policy once it matches the config (a role's fields as `over` says). */
function matching(r: DesiredResource, over: Partial<CurrentRole> = {}): CurrentResource {
  const found = IAM_KINDS.has(r.kind) ? asWanted(r) : undefined;
  if (found === undefined) throw new Error(`no current state for ${r.kind} here`);
  return found.kind === 'role' ? { ...found, ...over } : found;
}

/** The plan of `config` against `current`, and the run's view of it: `written` as read back, the rest as read. */
function run(
  config: Config,
  current: CurrentState,
  readBack: Map<string, CurrentResource | undefined> = new Map(),
  only?: SectionId[],
): RunView {
  const planned = desiredSections(config, facts).filter((s) => only === undefined || only.includes(s.def.id));
  const sections = planned.map((s) => ({
    ...s,
    resources: s.resources.filter((r) => IAM_KINDS.has(r.kind)),
  }));
  const plan: Plan = buildPlan(facts, sections, current);
  const final = new Map<string, CurrentResource | undefined>();
  const created = new Set<string>();
  for (const r of plan.sections.flatMap((s) => s.resources)) {
    const key = resourceKey(r.desired);
    final.set(key, readBack.has(key) ? readBack.get(key) : r.current);
    if (r.steps.some((step) => step.op === 'CreateRole')) created.add(r.name);
  }
  return { plan, final, created };
}

function found(read: RoleRead | undefined) {
  if (read?.kind !== 'found') throw new Error(`not found: ${JSON.stringify(read)}`);
  return read.documents;
}

const names = (documents: ReturnType<typeof found>) => documents.policies.map((p) => p.name);

describe('the access check after an apply, from the run’s reads', () => {
  it('created roles: nothing read again; only the AWS managed policy and the boundary, started with the writes', async () => {
    const config = resolveConfig({ ...RAW, permissionsBoundary: BOUNDARY });
    const { gateway, reads } = standIn({ policies: { [ATHENA]: doc('Athena'), [BOUNDARY]: doc('Boundary') } });
    // A fresh account: the plan creates every resource, and the run reads each back as the config wants it.
    const view = run(config, new Map(), allMatching(desiredOf(config)));
    const started = startAccessReads(gateway, config, view.plan, 4);
    expect([...started.policies.keys()].sort()).toEqual([ATHENA, BOUNDARY].sort());
    expect(started.inline.size).toBe(0);
    await Promise.all(started.policies.values());
    const before = reads.length;

    const roles = await roleDocuments(gateway, knownFromViews(config, [view], started), FLYTE_ROLES);
    expect(reads.slice(before)).toEqual([]);
    expect(reads.sort()).toEqual([`policy ${ATHENA}`, `policy ${BOUNDARY}`].sort());
    const fraud = found(roles.get('flyte-fraud-role'));
    expect(names(fraud)).toEqual(['flyte-custom-policy', 'AmazonAthenaFullAccess']);
    // The custom policy's document is the one read back, the AWS managed one the one read beside the writes.
    const custom = desiredOf(config).find((r) => r.kind === 'policy')!;
    expect(fraud.policies[0]!.document).toEqual((custom as { document: PolicyDocument }).document);
    expect(fraud.policies[1]!.document).toEqual(doc('Athena'));
    expect(fraud.boundary).toMatchObject({ arn: BOUNDARY, document: doc('Boundary') });
    expect(fraud.unreadable).toEqual([]);
    for (const name of FLYTE_ROLES)
      expect(found(roles.get(name)).policies.every((p) => p.inline === undefined)).toBe(true);
  });

  it('roles that existed: the tool’s own get their inline policies read beside the writes, another’s keep the plan’s', async () => {
    const config = resolveConfig(RAW);
    const desired = desiredOf(config);
    const current: CurrentState = new Map();
    for (const r of desired) {
      if (r.kind === 'policy') current.set(resourceKey(r), matching(r));
      if (r.kind !== 'role') continue;
      if (r.name === 'flyte-workers-role') {
        // Someone else's role (no managed-by tag): the plan read its inline policies.
        current.set(
          resourceKey(r),
          matching(r, { tags: {}, inline: ['legacy'], inlineDocuments: { legacy: doc('Legacy') } }),
        );
      } else if (r.name === 'flyte-fraud-role') {
        // The one change of the run: the AWS managed policy is attached again.
        current.set(resourceKey(r), matching(r, { attached: [CUSTOM] }));
      } else current.set(resourceKey(r), matching(r));
    }
    const fraud = roleOf(desired, 'flyte-fraud-role');
    const { gateway, reads } = standIn({
      policies: { [ATHENA]: doc('Athena') },
      inline: { 'flyte-system-role': { 'hand-made': doc('HandMade') } },
    });
    const view = run(config, current, new Map([[resourceKey(fraud), matching(fraud)]]));
    const steps = view.plan.sections.flatMap((s) => s.resources).filter((r) => r.name === fraud.name)[0]!.steps;
    expect(steps).toContainEqual({ op: 'AttachRolePolicy', roleName: fraud.name, policyArn: ATHENA });
    const started = startAccessReads(gateway, config, view.plan, 4);
    // Not the custom policy (the plan read it), not the workers role's inline policies (the plan read them).
    expect([...started.policies.keys()]).toEqual([ATHENA]);
    expect([...started.inline.keys()].sort()).toEqual(['flyte-fraud-role', 'flyte-system-role']);
    await Promise.all([...started.policies.values(), ...started.inline.values()]);
    const before = reads.length;

    const roles = await roleDocuments(gateway, knownFromViews(config, [view], started), FLYTE_ROLES);
    expect(reads.slice(before)).toEqual([]);
    expect(names(found(roles.get('flyte-system-role')))).toEqual(['flyte-custom-policy', 'inline hand-made']);
    expect(names(found(roles.get('flyte-workers-role')))).toEqual(['flyte-custom-policy', 'inline legacy']);
    expect(names(found(roles.get('flyte-fraud-role')))).toEqual(['flyte-custom-policy', 'AmazonAthenaFullAccess']);
  });

  it('a grants policy attached after its role was read back is on the role; a role missing is reported missing', async () => {
    const config = resolveConfig({ ...RAW, grants: [{ to: 'workers', secret: 'prod/db' }] });
    const desired = desiredOf(config);
    const grants = desired.find((r) => r.kind === 'policy' && r.attachTo !== undefined);
    if (grants?.kind !== 'policy') throw new Error('no grants policy');
    const workers = roleOf(desired, 'flyte-workers-role');
    const system = roleOf(desired, 'flyte-system-role');
    const readBack = allMatching(desired);
    // The workers role was read back before the grants section attached its policy; the policy's read-back after.
    readBack.set(resourceKey(workers), matching(workers, { attached: workers.managedPolicies }));
    // The backend's role was deleted behind the run's back.
    readBack.set(resourceKey(system), undefined);
    const { gateway, reads } = standIn({ policies: { [ATHENA]: doc('Athena') } });
    const view = run(config, new Map(), readBack);
    const roles = await roleDocuments(gateway, knownFromViews(config, [view]), FLYTE_ROLES);
    expect(names(found(roles.get('flyte-workers-role')))).toEqual(['flyte-custom-policy', grants.name]);
    expect(roles.get('flyte-system-role')).toEqual({ kind: 'missing' });
    // Without the reads started beside the writes, what they would have read is read at the end.
    expect(reads).toEqual([`policy ${ATHENA}`]);
  });

  it('the wizard’s sections, planned and run one at a time: the reads beside each, a role of no section read at the end', async () => {
    const config = resolveConfig(RAW);
    const desired = desiredOf(config);
    const workers = roleOf(desired, 'flyte-workers-role');
    const { gateway, reads } = standIn({
      roles: { 'flyte-workers-role': matching(workers) as CurrentRole },
      policies: { [ATHENA]: doc('Athena') },
    });
    const views = (['customPolicy', 'systemRole', 'projectRoles'] as SectionId[]).map((id) =>
      run(config, new Map(), allMatching(desired), [id]),
    );
    const started = { policies: new Map(), inline: new Map() };
    for (const view of views) startAccessReads(gateway, config, view.plan, 1, started);
    // The custom policy is the config's own (its section's run read it back), whichever section's plan this is.
    expect([...started.policies.keys()]).toEqual([ATHENA]);
    await Promise.all(started.policies.values());
    const before = reads.length;
    const roles = await roleDocuments(gateway, knownFromViews(config, views, started), FLYTE_ROLES);
    // The workers role's section was not run (declined, say): read as it is, with its inline policies.
    expect(reads.slice(before)).toEqual(['GetRole flyte-workers-role', 'ListRolePolicies flyte-workers-role']);
    expect(names(found(roles.get('flyte-workers-role')))).toEqual(['flyte-custom-policy']);
    expect(names(found(roles.get('flyte-fraud-role')))).toEqual(['flyte-custom-policy', 'AmazonAthenaFullAccess']);
  });

  it('a role the plan would create but someone else made first (its CreateRole not done) has its inline policies read', async () => {
    const config = resolveConfig(RAW);
    const { gateway, reads } = standIn({
      policies: { [ATHENA]: doc('Athena') },
      inline: { 'flyte-system-role': { theirs: doc('Theirs') } },
    });
    const view = run(config, new Map(), allMatching(desiredOf(config)));
    const lost: RunView = { ...view, created: new Set([...view.created].filter((n) => n !== 'flyte-system-role')) };
    const roles = await roleDocuments(gateway, knownFromViews(config, [lost]), FLYTE_ROLES);
    expect(reads.filter((r) => r.startsWith('ListRolePolicies'))).toEqual(['ListRolePolicies flyte-system-role']);
    expect(names(found(roles.get('flyte-system-role')))).toEqual(['flyte-custom-policy', 'inline theirs']);
  });

  it('a role of no run is read at the end with its inline policies; a document that cannot be read is said', async () => {
    const config = resolveConfig(RAW);
    const desired = desiredOf(config);
    const fraud = roleOf(desired, 'flyte-fraud-role');
    const { gateway, reads } = standIn({
      roles: { 'flyte-fraud-role': matching(fraud) as CurrentRole },
      policies: { [CUSTOM]: doc('Custom') },
    });
    const roles = await roleDocuments(gateway, knownFromViews(config, []), ['flyte-fraud-role']);
    expect(reads).toEqual([
      'GetRole flyte-fraud-role',
      `policy ${CUSTOM}`,
      `policy ${ATHENA}`,
      'ListRolePolicies flyte-fraud-role',
    ]);
    expect(found(roles.get('flyte-fraud-role')).unreadable).toEqual([`the policy ${ATHENA} (it does not exist)`]);
  });
});

describe('the access check worked out ahead, for the roles as the plan expects them', () => {
  it('a run that leaves what the config wants leaves the documents the plan expected', async () => {
    const config = resolveConfig({ ...RAW, permissionsBoundary: BOUNDARY });
    const { gateway } = standIn({ policies: { [ATHENA]: doc('Athena'), [BOUNDARY]: doc('Boundary') } });
    const view = run(config, new Map(), allMatching(desiredOf(config)));
    const started = startAccessReads(gateway, config, view.plan, 4);
    const documents = async (v: RunView) =>
      JSON.stringify([...(await roleDocuments(gateway, knownFromViews(config, [v], started), FLYTE_ROLES))]);
    const expected = expectedRunView(view.plan);
    expect(expected.created).toEqual(view.created);
    expect(await documents(expected)).toBe(await documents(view));

    // A run that left the fraud role with a policy more than the config wants: not what the plan expected.
    const desired = desiredOf(config);
    const fraud = roleOf(desired, 'flyte-fraud-role');
    const other = run(
      config,
      new Map(),
      new Map([
        ...allMatching(desired),
        [resourceKey(fraud), matching(fraud, { attached: [...fraud.managedPolicies, ATHENA, CUSTOM] })],
      ]),
    );
    expect(await documents(other)).not.toBe(await documents(expected));
  });

  it('a role that exists keeps the policies others attached, with what the run attaches', async () => {
    const config = resolveConfig(RAW);
    const OTHER = `arn:aws:iam::${ACCOUNT}:policy/team-extra`;
    const { gateway } = standIn({ policies: { [ATHENA]: doc('Athena'), [OTHER]: doc('Other') } });
    const desired = desiredOf(config);
    const fraud = roleOf(desired, 'flyte-fraud-role');
    const custom = fraud.managedPolicies.filter((a) => a !== ATHENA);
    // The fraud role is the tool's and there, with someone's policy on it and without Athena's, which the run attaches.
    const current: CurrentState = new Map([
      ...allMatching(desired),
      [resourceKey(fraud), matching(fraud, { attached: [...custom, OTHER], inline: [], inlineDocuments: {} })],
    ]);
    const view = run(
      config,
      current,
      new Map([
        [
          resourceKey(fraud),
          matching(fraud, { attached: [ATHENA, ...custom, OTHER], inline: [], inlineDocuments: {} }),
        ],
      ]),
    );
    // Athena's policy attached, and the record of what the tool attached retagged: no new trust.
    expect(view.plan.sections.flatMap((x) => x.resources).flatMap((r) => r.steps.map((st) => st.op))).toEqual([
      'TagRole',
      'AttachRolePolicy',
    ]);
    const started = startAccessReads(gateway, config, view.plan, 4);
    const documents = async (v: RunView) =>
      JSON.stringify([...(await roleDocuments(gateway, knownFromViews(config, [v], started), FLYTE_ROLES))]);
    expect(await documents(expectedRunView(view.plan))).toBe(await documents(view));
    expect(await documents(view)).toContain('team-extra');
  });

  it('not wanted any more (the run did not complete): nothing evaluated; the end works the check out itself', async () => {
    const config = resolveConfig(RAW);
    const { gateway } = standIn({ policies: { [ATHENA]: doc('Athena') } });
    const view = run(config, new Map(), allMatching(desiredOf(config)));
    const reads = startAccessReads(gateway, config, view.plan, 4);
    let answer!: (read: BucketPolicyRead) => void;
    reads.bucketPolicy = new Promise((resolve) => (answer = resolve));
    const notWanted = new AbortController();
    const ahead = accessAhead(config, view.plan, { rerun: 'r', reads, signal: notWanted.signal });
    notWanted.abort();
    answer({ kind: 'none', bucket: 'acme-flyte-data' });
    expect(await (await ahead)?.outcome).toBeUndefined();
    const outcome = await accessFromViews(gateway, config, facts, [view], { rerun: 'r', reads, ahead });
    expect(outcome.ahead).toBeUndefined();
    expect(outcome.report.identities.length).toBeGreaterThan(0);
  });

  /** The check worked out ahead for a run that leaves what the config wants, its bucket policy read (none). */
  const workedOutAhead = (signal?: AbortSignal) => {
    const config = resolveConfig(RAW);
    const { gateway } = standIn({ policies: { [ATHENA]: doc('Athena') } });
    const view = run(config, new Map(), allMatching(desiredOf(config)));
    const reads = startAccessReads(gateway, config, view.plan, 4);
    reads.bucketPolicy = Promise.resolve({ kind: 'none', bucket: 'acme-flyte-data' });
    return accessAhead(config, view.plan, { rerun: 'r', reads, ...(signal ? { signal } : {}) });
  };

  it("gives the event loop a turn before each evaluation, so that the writes' answers are handled as they come", async () => {
    const ahead = await workedOutAhead();
    // Turns of the event loop while it is worked out (what an AWS answer coming in would get).
    let turns = 0;
    let done = false;
    const count = () => {
      if (done) return;
      turns++;
      setImmediate(count);
    };
    setImmediate(count);
    const made = await ahead?.outcome;
    done = true;
    const byRole = new Map(made!.report.identities.map((i) => [i.roleName, i.cells.length]));
    const evaluations = [...byRole.values()].reduce((a, b) => a + b, 0);
    expect(evaluations).toBeGreaterThan(10);
    expect(turns).toBeGreaterThanOrEqual(evaluations);
  });

  it('stops between two evaluations once it is not wanted any more: no outcome', async () => {
    const notWanted = new AbortController();
    const ahead = await workedOutAhead(notWanted.signal);
    let turns = 0;
    const count = () => {
      // Aborted a few evaluations in: the rest are not made.
      if (++turns === 3) notWanted.abort();
      if (turns < 1000) setImmediate(count);
    };
    setImmediate(count);
    expect(await ahead?.outcome).toBeUndefined();
    expect(turns).toBeLessThan(10);
  });

  it('accessAfterApply takes it where the run left the same documents, and works the check out again where not', async () => {
    const config = resolveConfig(RAW);
    const { gateway } = standIn({ policies: { [ATHENA]: doc('Athena') } });
    const desired = desiredOf(config);
    const view = run(config, new Map(), allMatching(desired));
    const reads = startAccessReads(gateway, config, view.plan, 4);
    reads.bucketPolicy = Promise.resolve({ kind: 'none', bucket: 'acme-flyte-data' });
    const ahead = accessAhead(config, view.plan, { rerun: 'flyte-aws-setup --yes', reads });
    const made = await (await ahead)?.outcome;
    expect(made).toBeDefined();
    // The run's own view stands in for the engine's (what finalState gives for a complete run).
    const rerun = 'flyte-aws-setup --yes';
    const same = await accessFromViews(gateway, config, facts, [view], { rerun, reads, ahead });
    expect(same).toBe(made);

    const fraud = roleOf(desired, 'flyte-fraud-role');
    const changed = run(
      config,
      new Map(),
      new Map([...allMatching(desired), [resourceKey(fraud), matching(fraud, { attached: [CUSTOM] })]]),
    );
    const again = await accessFromViews(gateway, config, facts, [changed], { rerun, reads, ahead });
    expect(again).not.toBe(made);
    // Worked out for the roles as the run left them: the fraud role without Athena's policy.
    expect(JSON.stringify(again.report)).not.toBe(JSON.stringify(made!.report));
  });
});
