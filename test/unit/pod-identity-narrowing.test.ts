/**
 * Narrowing the config narrows the pod identity associations: the setup's own that the config no longer wants
 * (a namespace or project dropped, identity switched to irsa) are deleted by the plan (no --prune, not broadening),
 * anyone else's is only reported, verify fails on them, and destroy removes all of the setup's.
 */
import {
  DescribePodIdentityAssociationCommand,
  ListClustersCommand,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { driftFindings } from '../../src/audit/audit.js';
import { makePlan } from '../../src/engine/engine.js';
import { planGoneAssociation } from '../../src/engine/plan.js';
import { destroySteps, planDestroy } from '../../src/engine/destroy.js';
import { readDestroyState } from '../../src/engine/destroy-run.js';
import {
  planSecurity,
  planSteps,
  type CurrentPodIdentityAssociation,
  type DesiredPodIdentityAssociation,
} from '../../src/model.js';
import { associationsLeftBehind } from '../../src/sections/pod-identity.js';
import { awsError, mockAws, roleAnswer } from '../helpers/mock-aws.js';
import { ACCOUNT, loadConfig, TOOL_TAG } from './sections/fixtures.js';

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const MINE = TOOL_TAG;
const POD_CONFIG = 'identity: pod-identity\nworkersRole: { allNamespaces: false, namespaces: [] }\nprojectRoles: []\n';

function association(
  id: string,
  namespace: string,
  roleName: string,
  tags: Record<string, string> = MINE,
): CurrentPodIdentityAssociation {
  return {
    kind: 'pod-identity-association',
    arn: `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/acme/${id}`,
    associationId: id,
    cluster: 'acme',
    namespace,
    serviceAccount: 'default',
    roleArn: role(roleName),
    tags,
  };
}

function gone(current: CurrentPodIdentityAssociation): DesiredPodIdentityAssociation {
  return associationsLeftBehind(
    loadConfig(POD_CONFIG),
    [{ cluster: 'acme', current }],
    new Set([role(current.roleArn.split('/').pop()!)]),
    false,
  )[0]!;
}

describe('an association the config no longer wants, planned', () => {
  it("this setup's is deleted: a narrowing change (no security reason), with a note that says why", () => {
    const current = association('a-1', 'ml-team', 'flyte-workers-role');
    const plan = planGoneAssociation(gone(current), current);
    expect(plan.action).toBe('update');
    expect(plan.security).toEqual([]);
    expect(plan.steps).toEqual([
      { op: 'DeletePodIdentityAssociation', clusterName: 'acme', associationId: 'a-1', name: 'ml-team/default' },
    ]);
    expect(plan.notes[0]!.message).toContain('no longer gives the pods of ml-team/default the role flyte-workers-role');
  });

  it("another setup's, or one made by hand, is never touched: reported, with the command that deletes it", () => {
    for (const tags of <Record<string, string>[]>[
      { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other' },
      {},
    ]) {
      const current = association('a-2', 'ml-team', 'flyte-workers-role', tags);
      const plan = planGoneAssociation(gone(current), current);
      expect(plan.action).toBe('none');
      expect(plan.steps).toEqual([]);
      expect(plan.findings![0]!.code).toBe('association-not-wanted');
      expect(plan.findings![0]!.severity).toBe('error');
      expect(plan.findings![0]!.fix).toContain(
        'aws eks delete-pod-identity-association --cluster-name acme --association-id a-2',
      );
    }
  });

  it('gone already: nothing to do', () => {
    const current = association('a-3', 'ml-team', 'flyte-workers-role');
    expect(planGoneAssociation(gone(current), undefined)).toMatchObject({ action: 'none', steps: [] });
  });

  it("only the setup's own, and anyone else's that hands a role of the config, are planned at all", () => {
    const config = loadConfig(POD_CONFIG);
    const found = [
      association('a-1', 'ml-team', 'flyte-fraud-role'),
      association('a-2', 'ml-team', 'flyte-workers-role', {}),
      association('a-3', 'web', 'web-role', {}),
      association('a-4', 'web', 'web-role', { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'other' }),
    ].map((current) => ({ cluster: 'acme', current }));
    const left = associationsLeftBehind(config, found, new Set([role('flyte-workers-role')]), false);
    expect(left.map((a) => a.arn.split('/').pop())).toEqual(['a-1', 'a-2']);
    expect(left.every((a) => a.gone === true)).toBe(true);
  });
});

/** A mocked account: the config's roles as the tool made them (trusting Pod Identity or not), and associations. */
function account(associations: CurrentPodIdentityAssociation[], podTrust: boolean) {
  const m = mockAws();
  m.iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => {
    if (!['flyte-system-role', 'flyte-workers-role'].includes(input.RoleName)) throw awsError('NoSuchEntity');
    const statement = podTrust
      ? {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        }
      : {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/x' },
          Action: 'sts:AssumeRoleWithWebIdentity',
        };
    return roleAnswer(input.RoleName, { Version: '2012-10-17', Statement: [statement] }, MINE, ACCOUNT);
  });
  m.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  m.iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [] });
  m.iam.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [] });
  m.eks.on(ListClustersCommand).resolves({ clusters: ['acme'] });
  m.eks.on(ListPodIdentityAssociationsCommand).resolves({
    associations: associations.map((a) => ({
      associationId: a.associationId,
      associationArn: a.arn,
      clusterName: 'acme',
      namespace: a.namespace,
      serviceAccount: a.serviceAccount,
    })),
  });
  m.eks.on(DescribePodIdentityAssociationCommand).callsFake((input: { associationId: string }) => {
    const a = associations.find((x) => x.associationId === input.associationId);
    if (a === undefined) throw awsError('ResourceNotFoundException');
    return {
      association: {
        associationArn: a.arn,
        associationId: a.associationId,
        clusterName: 'acme',
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        roleArn: a.roleArn,
        tags: a.tags,
      },
    };
  });
  return m;
}

const deletes = (steps: { op: string }[]) => steps.filter((s) => s.op === 'DeletePodIdentityAssociation');
const CONFIG = 'customPolicy: false\nclusterRole: false\nnodeRole: false\n';

describe('the plan of a run, against a mocked account', () => {
  it('a namespace dropped (pod-identity): its association goes with --yes alone, from the one listing', async () => {
    const m = account(
      [association('a-1', 'ml-team', 'flyte-workers-role'), association('a-2', 'web', 'web-role', {})],
      true,
    );
    const config = loadConfig(
      `${CONFIG}identity: pod-identity\nworkersRole: { allNamespaces: false, namespaces: [] }\n`,
    );
    const plan = await makePlan(config, m.gateway);
    expect(deletes(planSteps(plan))).toEqual([
      { op: 'DeletePodIdentityAssociation', clusterName: 'acme', associationId: 'a-1', name: 'ml-team/default' },
    ]);
    expect(planSecurity(plan)).toEqual([]);
    expect(plan.sections.find((s) => s.id === 'podIdentity')!.status).toBe('update');
    // The cluster is listed once; only the associations the config does not want are described beyond its own.
    expect(m.eks.commandCalls(ListPodIdentityAssociationsCommand)).toHaveLength(1);
    // verify: an error, fixed by the next run.
    const findings = driftFindings(plan, 'flyte-aws-setup --config c.yaml --yes');
    const f = findings.find((x) => x.code === 'association-not-wanted')!;
    expect(f).toMatchObject({ severity: 'error', resource: 'pod identity association ml-team/default' });
    expect(f.fix).toContain('the next');
  });

  it('identity switched to irsa: the run that narrows the trusts deletes every association of the setup', async () => {
    const m = account(
      [association('a-1', 'flyte', 'flyte-workers-role'), association('a-2', 'web', 'web-role', {})],
      true,
    );
    const plan = await makePlan(loadConfig(CONFIG), m.gateway);
    const section = plan.sections.find((s) => s.id === 'podIdentity')!;
    expect(section.status).toBe('update');
    expect(deletes(planSteps(plan))).toEqual([
      { op: 'DeletePodIdentityAssociation', clusterName: 'acme', associationId: 'a-1', name: 'flyte/default' },
    ]);
  });

  it('irsa, and no role trusts Pod Identity (a setup that never used it): no call for them, in a run or verify', async () => {
    const m = account([association('a-1', 'flyte', 'flyte-workers-role')], false);
    const plan = await makePlan(loadConfig(CONFIG), m.gateway);
    expect(plan.sections.find((s) => s.id === 'podIdentity')!.status).toBe('skipped');
    await makePlan(loadConfig(CONFIG), m.gateway, { audit: true, prune: true });
    expect(m.eks.commandCalls(ListPodIdentityAssociationsCommand)).toHaveLength(0);
  });

  it('irsa: a refusal to list the associations is a note that they were not checked, not a failure', async () => {
    const m = account([], true);
    m.eks.on(ListPodIdentityAssociationsCommand).rejects(awsError('AccessDeniedException', 'not allowed'));
    const plan = await makePlan(loadConfig(CONFIG), m.gateway, { audit: true });
    const section = plan.sections.find((s) => s.id === 'podIdentity')!;
    expect(section.notes[0]).toMatchObject({ level: 'warn', unchecked: true });
    expect(section.notes[0]!.message).toContain('could not be listed');
  });
});

describe('destroy', () => {
  it("removes every association of the setup in the config's clusters, also with identity: irsa", async () => {
    const m = account(
      [association('a-1', 'flyte', 'flyte-workers-role'), association('a-2', 'web', 'web-role', {})],
      true,
    );
    const plan = planDestroy(await readDestroyState(loadConfig(CONFIG), m.gateway));
    expect(deletes(destroySteps(plan))).toEqual([
      { op: 'DeletePodIdentityAssociation', clusterName: 'acme', associationId: 'a-1', name: 'flyte/default' },
    ]);
  });
});
