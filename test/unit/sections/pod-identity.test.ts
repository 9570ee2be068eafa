/** EKS Pod Identity's associations: one per namespace and service account the config knows of, and the agent add-on. */
import { describe, expect, it } from 'vitest';
import type { CurrentPodIdentityAssociation, DesiredAddon, DesiredPodIdentityAssociation } from '../../../src/model.js';
import { destroySteps, planDestroy } from '../../../src/engine/destroy.js';
import { planAddon, planPodIdentityAssociation } from '../../../src/engine/plan.js';
import { sectionEnabled, sectionSkipReason } from '../../../src/sections/derived.js';
import { associationSpecs, podIdentity, POD_IDENTITY_AGENT } from '../../../src/sections/pod-identity.js';
import { ACCOUNT, TOOL_TAG, context, loadConfig } from './fixtures.js';

const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** namespace/serviceAccount -> role name, of what the section wants. */
function wanted(yaml: string): Record<string, string> {
  const resources = podIdentity.desired(context(loadConfig(yaml)));
  return Object.fromEntries(
    resources.flatMap((r) => (r.kind === 'pod-identity-association' ? [[r.name, r.roleArn.split('/').pop()!]] : [])),
  );
}

describe('podIdentity: what it is', () => {
  it('needs the cluster, comes after the roles it names, and is on only with pod-identity or both', () => {
    expect(podIdentity.needsCluster).toBe(true);
    expect(podIdentity.identity).toBe('none');
    expect(podIdentity.dependsOn).toEqual(['systemRole', 'workersRole', 'projectRoles']);
    expect(sectionEnabled(loadConfig(), podIdentity)).toBe(false);
    expect(sectionEnabled(loadConfig('identity: pod-identity\n'), podIdentity)).toBe(true);
    expect(sectionEnabled(loadConfig('identity: both\n'), podIdentity)).toBe(true);
  });

  it('with no role pods assume, it is off and says why', () => {
    const config = loadConfig('identity: pod-identity\nsystemRole: false\nworkersRole: false\n');
    expect(sectionEnabled(config, podIdentity)).toBe(false);
    expect(sectionSkipReason(config, podIdentity)).toBe('no role of the config is assumed by pods');
  });
});

describe('podIdentity: what it wants', () => {
  it("by default (flyte-binary): the agent add-on, the backend's and the workers' service accounts in the Flyte namespace", () => {
    const resources = podIdentity.desired(context(loadConfig('identity: pod-identity\n')));
    const addon = resources[0] as DesiredAddon;
    expect(addon).toEqual({
      kind: 'addon',
      name: POD_IDENTITY_AGENT,
      arn: `${CLUSTER_ARN}/addon/${POD_IDENTITY_AGENT}`,
      cluster: 'acme',
      tags: TOOL_TAG,
    });
    const backend = resources[1] as DesiredPodIdentityAssociation;
    expect(backend).toEqual({
      kind: 'pod-identity-association',
      name: 'flyte/flyte-backend-flyte-binary',
      arn: `${CLUSTER_ARN}/flyte/flyte-backend-flyte-binary`,
      cluster: 'acme',
      namespace: 'flyte',
      serviceAccount: 'flyte-backend-flyte-binary',
      roleArn: role('flyte-system-role'),
      tags: TOOL_TAG,
    });
    expect(wanted('identity: pod-identity\n')).toEqual({
      'flyte/flyte-backend-flyte-binary': 'flyte-system-role',
      'flyte/default': 'flyte-workers-role',
    });
  });

  it("each project's namespaces with its role; the workers role's listed namespaces; the config's path", () => {
    const yaml =
      'identity: both\npath: /flyte/\nworkersRole: { allNamespaces: false, namespaces: [ml-development] }\n' +
      'projectRoles: [{ project: fraud, domains: [development, production], serviceAccount: tasks }]\n';
    expect(wanted(yaml)).toEqual({
      'flyte/flyte-backend-flyte-binary': 'flyte-system-role',
      'fraud-development/tasks': 'flyte-fraud-role',
      'fraud-production/tasks': 'flyte-fraud-role',
      'flyte/default': 'flyte-workers-role',
      'ml-development/default': 'flyte-workers-role',
    });
    const [, first] = podIdentity.desired(context(loadConfig(yaml))) as DesiredPodIdentityAssociation[];
    expect(first!.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte/flyte-system-role`);
  });

  it("a namespace both the workers role and a project's role claim keeps the project's (one association each)", () => {
    const yaml =
      'identity: pod-identity\nworkersRole: { allNamespaces: false, namespaces: [fraud-development] }\n' +
      'projectRoles: [{ project: fraud, domains: [development] }]\n';
    expect(wanted(yaml)['fraud-development/default']).toBe('flyte-fraud-role');
  });

  it("follows the target: flyte-core's components, Flyte 2's one account, Union's project roles only", () => {
    expect(Object.keys(wanted('identity: pod-identity\ntarget: flyte-core\n'))).toEqual([
      'flyte/flyteadmin',
      'flyte/flytepropeller',
      'flyte/datacatalog',
      'flyte/default',
    ]);
    expect(wanted('identity: pod-identity\ntarget: flyte2\n')).toEqual({
      'flyte/flyte-backend-flyte-binary': 'flyte-system-role',
    });
    const union = loadConfig(
      'identity: pod-identity\ntarget: union\nprojectRoles: [{ project: fraud, domains: [development] }]\n',
    );
    expect(associationSpecs(union).map((s) => `${s.namespace}/${s.serviceAccount} ${s.from}`)).toEqual([
      'fraud-development/default projectRoles',
    ]);
  });

  it('with irsa it wants nothing', () => {
    expect(podIdentity.desired(context(loadConfig()))).toEqual([]);
  });
});

describe('podIdentity: what the plan says plainly', () => {
  const notes = (yaml: string) => podIdentity.notes!(context(loadConfig(yaml)));

  it('no wildcard: the namespaces it reaches, and that a project added later needs a re-run', () => {
    const [n] = notes('identity: pod-identity\n');
    expect(n!.level).toBe('warn');
    expect(n!.message).toContain('Pod Identity has no wildcard: the workers role is associated only in flyte.');
    expect(n!.message).toContain('a run of this setup again');
    expect(n!.message).toContain('allNamespaces: true has no Pod Identity equivalent');
  });

  it('with both, IRSA still serves the other namespaces meanwhile (info)', () => {
    const [n] = notes('identity: both\n');
    expect(n!.level).toBe('info');
    expect(n!.message).toContain('Its IRSA trust still lets in every namespace');
  });

  it('a listed trust is said as an info; a project role adds its own line', () => {
    const found = notes(
      'identity: pod-identity\nworkersRole: { allNamespaces: false, namespaces: [ml] }\nprojectRoles: [{ project: fraud }]\n',
    );
    expect(found.map((n) => n.level)).toEqual(['info', 'info']);
    expect(found[0]!.message).toContain('associated only in flyte, ml.');
    expect(found[1]!.message).toContain('projectRoles[].domains');
  });
});

describe('planning an association and the add-on', () => {
  const desired = podIdentity.desired(
    context(loadConfig('identity: pod-identity\n')),
  )[1] as DesiredPodIdentityAssociation;
  const current = (over: Partial<CurrentPodIdentityAssociation> = {}): CurrentPodIdentityAssociation => ({
    kind: 'pod-identity-association',
    arn: `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/acme/a-1`,
    associationId: 'a-1',
    cluster: 'acme',
    namespace: 'flyte',
    serviceAccount: 'flyte-backend-flyte-binary',
    roleArn: desired.roleArn,
    tags: TOOL_TAG,
    ...over,
  });

  it('missing: one CreatePodIdentityAssociation with the role and the tags', () => {
    const plan = planPodIdentityAssociation(desired, undefined);
    expect(plan.action).toBe('create');
    expect(plan.steps).toEqual([
      {
        op: 'CreatePodIdentityAssociation',
        clusterName: 'acme',
        namespace: 'flyte',
        serviceAccount: 'flyte-backend-flyte-binary',
        roleArn: desired.roleArn,
        tags: TOOL_TAG,
      },
    ]);
  });

  it('there with the right role: nothing to do', () => {
    const plan = planPodIdentityAssociation(desired, current());
    expect(plan.action).toBe('none');
    expect(plan.steps).toEqual([]);
    expect(plan.arn).toBe(current().arn);
  });

  it('another role: mended with UpdatePodIdentityAssociation, a security-relevant change', () => {
    const plan = planPodIdentityAssociation(desired, current({ roleArn: role('someone-else') }));
    expect(plan.steps).toEqual([
      {
        op: 'UpdatePodIdentityAssociation',
        clusterName: 'acme',
        associationId: 'a-1',
        roleArn: desired.roleArn,
        before: role('someone-else'),
      },
    ]);
    expect(plan.security).toEqual([
      'hands the pods of flyte/flyte-backend-flyte-binary the role flyte-system-role in place of someone-else',
    ]);
  });

  it("one made by hand is kept in line but said not to be the tool's", () => {
    const plan = planPodIdentityAssociation(desired, current({ tags: {} }));
    expect(plan.owned).toBe(false);
    expect(plan.action).toBe('none');
    expect(plan.notes[0]!.message).toContain('existed before flyte-aws-setup');
    // Its role before a change is not recorded: the note does not promise that destroy puts it back.
    expect(plan.notes[0]!.message).toContain('destroy leaves it as it is then');
  });

  it("one made by hand with another role: tagged with this setup's name before it is pointed at the config's role", () => {
    const plan = planPodIdentityAssociation(desired, current({ tags: { team: 'b' }, roleArn: role('hand-made') }));
    expect(plan.blocked).toBeUndefined();
    expect(plan.owned).toBe(false);
    expect(plan.steps.map((s) => s.op)).toEqual(['TagResource', 'UpdatePodIdentityAssociation']);
    // Only the setup's tag: the tool does not call it its own (destroy keeps it).
    expect(plan.steps[0]).toEqual({
      op: 'TagResource',
      clusterName: 'acme',
      arn: current().arn,
      name: 'flyte/flyte-backend-flyte-binary',
      tags: { 'flyte-aws-setup:setup': 'acme' },
    });
  });

  it("another setup's association is never changed: refused, naming its owner and how to go on", () => {
    const theirs = current({
      tags: { ...TOOL_TAG, 'flyte-aws-setup:setup': 'team-b' },
      roleArn: role('team-b-workers'),
    });
    const plan = planPodIdentityAssociation(desired, theirs);
    expect(plan.steps).toEqual([]);
    expect(plan.action).toBe('none');
    expect(plan.blocked).toContain('it belongs to the setup "team-b"');
    expect(plan.blocked).toContain('not to this config\'s setup "acme"');
    expect(plan.blocked).toContain('leave flyte/flyte-backend-flyte-binary out of this config');
    expect(plan.blocked).toContain('set setup: team-b in it');
    // The same with the right role: still another setup's, not taken over.
    expect(planPodIdentityAssociation(desired, { ...theirs, roleArn: desired.roleArn }).blocked).toContain('team-b');
    // A hand-made one another setup has pointed at its role carries that setup's tag alone: refused too.
    const adopted = current({ tags: { 'flyte-aws-setup:setup': 'team-b' }, roleArn: role('team-b-workers') });
    expect(planPodIdentityAssociation(desired, adopted).blocked).toContain('team-b');
  });

  it("one the tool made before setups: taken as this setup's and tagged with it", () => {
    const plan = planPodIdentityAssociation(desired, current({ tags: { 'managed-by': 'flyte-aws-setup' } }));
    expect(plan.blocked).toBeUndefined();
    expect(plan.owned).toBe(true);
    expect(plan.action).toBe('update');
    expect(plan.steps).toEqual([
      {
        op: 'TagResource',
        clusterName: 'acme',
        arn: current().arn,
        name: 'flyte/flyte-backend-flyte-binary',
        tags: { 'flyte-aws-setup:setup': 'acme' },
      },
    ]);
    expect(plan.notes[0]!.message).toContain('made by an earlier version of flyte-aws-setup');
    // Tagged, it is this setup's: nothing more to do.
    expect(planPodIdentityAssociation(desired, current()).steps).toEqual([]);
  });

  it('the agent add-on: installed when missing (said), left alone when there, warned about when unhealthy', () => {
    const addon = podIdentity.desired(context(loadConfig('identity: pod-identity\n')))[0] as DesiredAddon;
    const missing = planAddon(addon, undefined);
    expect(missing.steps).toEqual([
      { op: 'CreateAddon', clusterName: 'acme', addonName: POD_IDENTITY_AGENT, tags: TOOL_TAG },
    ]);
    expect(missing.notes[0]!.message).toContain('lacks the eks-pod-identity-agent add-on');
    const there = { kind: 'addon' as const, name: POD_IDENTITY_AGENT, arn: 'arn:x', status: 'ACTIVE' };
    expect(planAddon(addon, there)).toMatchObject({ action: 'none', steps: [], notes: [] });
    const degraded = planAddon(addon, { ...there, status: 'DEGRADED' });
    expect(degraded.steps).toEqual([]);
    expect(degraded.notes[0]!.message).toContain('is DEGRADED');
  });
});

describe("destroy: the associations go first, only the tool's own", () => {
  const facts = context(loadConfig()).facts;
  const association = (name: string, id: string, tags: Record<string, string>) => ({
    name,
    cluster: 'acme',
    current: {
      kind: 'pod-identity-association' as const,
      arn: `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/acme/${id}`,
      associationId: id,
      cluster: 'acme',
      namespace: name.split('/')[0]!,
      serviceAccount: name.split('/')[1]!,
      roleArn: role('flyte-workers-role'),
      tags,
    },
  });

  it("deletes this setup's, keeps another setup's and one made by hand, says one is absent; before the roles", () => {
    const plan = planDestroy({
      facts,
      setup: 'acme',
      clusterExists: true,
      roles: [
        {
          section: 'workersRole',
          name: 'flyte-workers-role',
          inlinePolicies: [],
          instanceProfiles: [],
          current: {
            kind: 'role',
            name: 'flyte-workers-role',
            arn: role('flyte-workers-role'),
            path: '/',
            trust: { Version: '2012-10-17', Statement: [] },
            attached: [],
            tags: TOOL_TAG,
          },
        },
      ],
      associations: [
        association('flyte/default', 'a-1', { ...TOOL_TAG, 'flyte-aws-setup:setup': 'acme' }),
        association('other/default', 'a-3', { ...TOOL_TAG, 'flyte-aws-setup:setup': 'team-b' }),
        association('ml/default', 'a-2', {}),
        { name: 'flyte/flyte-backend-flyte-binary', cluster: 'acme' },
      ],
    });
    expect(plan.items.map((i) => [i.kind, i.name, i.action])).toEqual([
      ['pod-identity-association', 'flyte/default', 'delete'],
      ['pod-identity-association', 'other/default', 'keep'],
      ['pod-identity-association', 'ml/default', 'keep'],
      ['pod-identity-association', 'flyte/flyte-backend-flyte-binary', 'absent'],
      ['role', 'flyte-workers-role', 'delete'],
    ]);
    expect(destroySteps(plan).map((s) => s.op)).toEqual(['DeletePodIdentityAssociation', 'DeleteRole']);
    expect(plan.items[0]!.steps).toEqual([
      { op: 'DeletePodIdentityAssociation', clusterName: 'acme', associationId: 'a-1', name: 'flyte/default' },
    ]);
  });
});
