/**
 * The setup's roles the config no longer names: found without a call per unrelated role, listed by every plan
 * and by verify, planned for removal with --prune (with destroy's steps and reasons to keep), and removed.
 */
import { DescribeClusterCommand, DescribeNodegroupCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import {
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { leftoverFindings } from '../../src/audit/audit.js';
import { verifyReport } from '../../src/audit/report.js';
import { DESCRIPTION_MARK } from '../../src/config/rules.js';
import { desiredSections } from '../../src/engine/engine.js';
import { findLeftovers, pruneLeftovers } from '../../src/engine/leftovers.js';
import { parseConfigText } from '../../src/load/config.js';
import { planSteps, type Facts, type Plan } from '../../src/model.js';
import { encodeDescription, encodePolicyArns, encodeTrust } from '../../src/engine/records.js';
import { planChecks } from '../../src/permissions/preflight.js';
import { serviceTrustPolicy } from '../../src/policy/document.js';
import { renderLeftoverResults, renderPlan, renderRunSummary } from '../../src/render/plan-text.js';
import { plainStyle } from '../../src/render/style.js';
import { renderVerify } from '../../src/render/verify-text.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const POLICY = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const ATHENA = 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.slice(8)}`;

const CONFIG = parseConfigText('region: eu-west-1\ncluster: acme\nbucket: acme-flyte-data\n');
const FACTS: Facts = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  offline: false,
  cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: ISSUER },
};

const IRSA = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity' }],
};

function listed(name: string, description?: string) {
  return {
    RoleName: name,
    Arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    Path: '/',
    RoleId: name,
    CreateDate: new Date(),
    AssumeRolePolicyDocument: '{}',
    ...(description !== undefined ? { Description: description } : {}),
  };
}

function got(name: string, tags: Record<string, string>) {
  return {
    Role: {
      ...listed(name),
      AssumeRolePolicyDocument: JSON.stringify(IRSA),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    },
  };
}

const MINE = { 'managed-by': 'flyte-aws-setup', 'flyte-aws-setup:setup': 'acme' };
const toTags = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** An account with 1,000 unrelated roles, the config's own roles, and four roles the tool made that it does not name. */
function account() {
  const m = mockAws();
  const unrelated = Array.from({ length: 1000 }, (_, i) => listed(`app-${i}`, i % 2 ? 'some team role' : undefined));
  const tool = (n: string) => listed(n, `Flyte project ${n} (IRSA), ${DESCRIPTION_MARK}`);
  const roles = [
    ...unrelated,
    tool('flyte-system-role'), // in the config
    tool('flyte-fraud-role'), // this setup's, no longer in the config
    tool('flyte-other-role'), // another setup's
    tool('flyte-old-role'), // from before setups: not told whose
  ];
  // Two pages, as IAM gives them.
  m.iam
    .on(ListRolesCommand)
    .resolvesOnce({ Roles: roles.slice(0, 600), IsTruncated: true, Marker: 'm' })
    .resolves({ Roles: roles.slice(600), IsTruncated: false });
  m.iam.on(GetRoleCommand, { RoleName: 'flyte-fraud-role' }).resolves(got('flyte-fraud-role', MINE));
  m.iam
    .on(GetRoleCommand, { RoleName: 'flyte-other-role' })
    .resolves(got('flyte-other-role', { ...MINE, 'flyte-aws-setup:setup': 'other' }));
  m.iam
    .on(GetRoleCommand, { RoleName: 'flyte-old-role' })
    .resolves(got('flyte-old-role', { 'managed-by': 'flyte-aws-setup' }));
  m.iam
    .on(ListAttachedRolePoliciesCommand, { RoleName: 'flyte-fraud-role' })
    .resolves({ AttachedPolicies: [{ PolicyArn: POLICY }, { PolicyArn: ATHENA }] });
  m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  m.iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [] });
  m.eks.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
  return m;
}

describe("the setup's roles the config no longer names", () => {
  it('are found by one paged ListRoles and GetRole for the candidates only: 1,000 other roles cost no call', async () => {
    const m = account();
    const found = await findLeftovers(m.gateway, CONFIG, FACTS, { concurrency: 4 });
    expect(found).toEqual([
      {
        kind: 'role',
        name: 'flyte-fraud-role',
        arn: `arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role`,
        trustedBy: [`Federated ${PROVIDER}`],
        holds: [POLICY, ATHENA],
        action: 'listed',
        steps: [],
      },
    ]);
    expect(m.iam.commandCalls(ListRolesCommand)).toHaveLength(2);
    expect(
      m.iam
        .commandCalls(GetRoleCommand)
        .map((c) => c.args[0].input.RoleName)
        .sort(),
    ).toEqual(['flyte-fraud-role', 'flyte-old-role', 'flyte-other-role']);
    expect(m.iam.commandCalls(ListAttachedRolePoliciesCommand)).toHaveLength(1);
    expect(m.eks.commandCalls(DescribeClusterCommand)).toHaveLength(0);
  });

  it('none there: one ListRoles, nothing else', async () => {
    const m = mockAws();
    expect(await findLeftovers(m.gateway, CONFIG, FACTS, { concurrency: 4 })).toEqual([]);
    expect(m.iam.calls()).toHaveLength(1);
  });

  it("--prune plans destroy's steps for a role; one the cluster's node group runs with is kept, saying why", async () => {
    const m = account();
    const [fraud] = await findLeftovers(m.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    expect(fraud).toMatchObject({ action: 'remove' });
    expect(fraud!.steps).toEqual([
      { op: 'DetachRolePolicy', roleName: 'flyte-fraud-role', policyArn: POLICY },
      { op: 'DetachRolePolicy', roleName: 'flyte-fraud-role', policyArn: ATHENA },
      { op: 'DeleteRole', roleName: 'flyte-fraud-role' },
    ]);

    const used = account();
    used.eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'acme', status: 'ACTIVE' } });
    used.eks.on(ListNodegroupsCommand).resolves({ nodegroups: ['ng-1'] });
    used.eks
      .on(DescribeNodegroupCommand)
      .resolves({ nodegroup: { nodeRole: `arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role` } });
    const [kept] = await findLeftovers(used.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    expect(kept).toMatchObject({ action: 'blocked', steps: [] });
    expect(kept!.reason).toMatch(/^node group\(s\) ng-1 of the EKS cluster acme run with it/);
  });

  it('with several clusters, a role a node group of any of them runs with is kept', async () => {
    const two = parseConfigText('region: eu-west-1\ncluster: [acme, acme-green]\nbucket: acme-flyte-data\n');
    const m = account();
    m.eks.on(DescribeClusterCommand, { name: 'acme' }).resolves({ cluster: { name: 'acme', status: 'ACTIVE' } });
    m.eks
      .on(DescribeClusterCommand, { name: 'acme-green' })
      .resolves({ cluster: { name: 'acme-green', status: 'ACTIVE' } });
    m.eks.on(ListNodegroupsCommand, { clusterName: 'acme-green' }).resolves({ nodegroups: ['ng-green'] });
    m.eks
      .on(DescribeNodegroupCommand, { clusterName: 'acme-green' })
      .resolves({ nodegroup: { nodeRole: `arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role` } });
    const [kept] = await findLeftovers(m.gateway, two, FACTS, { prune: true, concurrency: 4 });
    expect(kept).toMatchObject({ action: 'blocked', steps: [] });
    expect(kept!.reason).toMatch(/^node group\(s\) ng-green of the EKS cluster acme-green run with it/);
  });

  it('the plan lists them (what they still grant), and with --prune shows the removal; the preflight checks it', async () => {
    const m = account();
    const base: Plan = { facts: FACTS, sections: [] };
    const listedPlan = { ...base, leftovers: await findLeftovers(m.gateway, CONFIG, FACTS, { concurrency: 4 }) };
    const text = renderPlan(listedPlan, plainStyle);
    expect(text).toContain('Roles of this setup that the config no longer names');
    expect(text).toContain('[!] role flyte-fraud-role  still grants access');
    expect(text).toContain(`trusts    Federated ${PROVIDER}`);
    expect(text).toContain(`holds     ${POLICY}`);
    expect(text).toContain('to remove it: run again with --prune');
    expect(text).toContain(
      '1 role(s) of this setup that the config no longer names still grant access (listed above); --prune removes them.',
    );
    expect(planSteps(listedPlan)).toEqual([]);

    const pruned = {
      ...base,
      leftovers: await findLeftovers(account().gateway, CONFIG, FACTS, { prune: true, concurrency: 4 }),
    };
    const prunedText = renderPlan(pruned, plainStyle);
    expect(prunedText).toContain('[-] role flyte-fraud-role');
    expect(prunedText).toContain('- delete the role');
    expect(prunedText).toContain('Plan: 0 to create, 0 to change, 0 up to date, 1 role(s) to remove (--prune).');
    expect(planSteps(pruned).map((s) => s.op)).toEqual(['DetachRolePolicy', 'DetachRolePolicy', 'DeleteRole']);
    expect(planChecks(pruned).map((c) => `${c.action} ${c.resource}`)).toContain(
      `iam:DeleteRole arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role`,
    );
  });

  it('verify reports each as an error: it still grants access', async () => {
    const m = account();
    const plan: Plan = {
      facts: FACTS,
      sections: [],
      leftovers: await findLeftovers(m.gateway, CONFIG, FACTS, { concurrency: 4 }),
    };
    const report = verifyReport(plan, [], undefined, leftoverFindings(plan, 'flyte-aws-setup --config c.yaml --yes'));
    expect(report).toMatchObject({ ok: false, errors: 1 });
    const text = renderVerify(report, plainStyle);
    expect(text).toContain('✗ Roles of this setup that the config no longer names: 1 error(s)');
    expect(text).toContain(
      "error   role flyte-fraud-role: is this setup's (made by flyte-aws-setup), but the config no longer names it; " +
        `it still lets in Federated ${PROVIDER}, and holds flyte-custom-policy, AmazonAthenaFullAccess`,
    );
    expect(text).toContain('fix: `flyte-aws-setup --config c.yaml --yes --prune` removes it');
  });

  it('pruning: detach, delete (retried while IAM catches up with the detaches), then read back until gone', async () => {
    const m = account();
    const leftovers = await findLeftovers(m.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    m.iam.on(DetachRolePolicyCommand).resolves({});
    m.iam.on(DeleteRoleCommand).rejectsOnce(awsError('DeleteConflict', 'must detach all policies first')).resolves({});
    m.iam.on(GetRoleCommand, { RoleName: 'flyte-fraud-role' }).rejects(awsError('NoSuchEntity'));
    const results = await pruneLeftovers(leftovers, m.gateway, {
      consistency: { timeoutMs: 2_000, initialDelayMs: 1 },
    });
    expect(results).toMatchObject([{ name: 'flyte-fraud-role', outcome: 'removed', remaining: [] }]);
    expect(m.iam.commandCalls(DeleteRoleCommand)).toHaveLength(2);
  });

  it('every role the tool makes carries the description mark that finds it', () => {
    const config = parseConfigText(
      'region: eu-west-1\ncluster: acme\nbucket: acme-flyte-data\nprojectRoles: [{ project: fraud }]\n',
    );
    const roles = desiredSections(config, FACTS)
      .flatMap((s) => s.resources)
      .flatMap((r) => (r.kind === 'role' ? [r] : []));
    expect(roles.length).toBeGreaterThan(4);
    for (const r of roles) expect(r.description.endsWith(DESCRIPTION_MARK), r.name).toBe(true);
  });
});

describe('a role this setup adopted that the config no longer names', () => {
  // A role made by hand before the tool (it trusted EC2, held AmazonS3ReadOnlyAccess), which a setup adopted: its
  // trust, description and the policies it attached recorded, its description marked.
  const READ_ONLY = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
  const EC2 = serviceTrustPolicy('ec2.amazonaws.com');
  const adoptedTags = () => ({
    owner: 'platform',
    'flyte-aws-setup:setup': 'acme',
    'flyte-aws-setup:attached': encodePolicyArns([POLICY, ATHENA], `arn:aws:iam::${ACCOUNT}:role/fraud-hand-made`),
    'flyte-aws-setup:trust': encodeTrust(EC2),
    'flyte-aws-setup:description': encodeDescription('Made by hand: for EC2'),
  });

  function adoptedAccount(tags: Record<string, string> = adoptedTags()) {
    const m = mockAws();
    const description = `Made by hand: for EC2; adopted for Flyte, ${DESCRIPTION_MARK}`;
    m.iam.on(ListRolesCommand).resolves({ Roles: [listed('fraud-hand-made', description)], IsTruncated: false });
    const role = got('fraud-hand-made', tags);
    m.iam.on(GetRoleCommand).resolves({ Role: { ...role.Role, Description: description } });
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: POLICY }, { PolicyArn: ATHENA }, { PolicyArn: READ_ONLY }] });
    return m;
  }

  it('is found by its mark and listed as adopted: put back, never deleted', async () => {
    const found = await findLeftovers(adoptedAccount().gateway, CONFIG, FACTS, { concurrency: 4 });
    expect(found).toEqual([
      expect.objectContaining({ name: 'fraud-hand-made', action: 'listed', adopted: true, steps: [] }),
    ]);
    const text = renderPlan({ facts: FACTS, sections: [], leftovers: found }, plainStyle);
    expect(text).toContain('to put it back: run again with --prune');
    expect(text).toMatch(/why: it existed before flyte-aws-setup, which adopted it for this setup/);
    const [finding] = leftoverFindings({ facts: FACTS, sections: [], leftovers: found }, 'flyte-aws-setup --yes');
    expect(finding!.problem).toMatch(/it existed before flyte-aws-setup, which adopted it/);
    expect(finding!.fix).toMatch(/--prune` puts it back as it was \(it is not deleted\)/);
  });

  it('--prune puts back its trust and description, detaches what the tool attached, removes the records', async () => {
    const [l] = await findLeftovers(adoptedAccount().gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    expect(l).toMatchObject({ action: 'restore', adopted: true });
    // What the tool attached goes first: the trust put back never gets the tool's policies. Then the records, the
    // mark in its description (by which a run that stops before finds it again) after them, its setup's tag last.
    expect(l!.steps.map((s) => s.op)).toEqual([
      'DetachRolePolicy',
      'DetachRolePolicy',
      'UpdateAssumeRolePolicy',
      'UntagRole',
      'UpdateRole',
      'UntagRole',
    ]);
    expect(l!.steps).toContainEqual(expect.objectContaining({ op: 'UpdateAssumeRolePolicy', trust: EC2 }));
    expect(l!.steps).toContainEqual(
      expect.objectContaining({ op: 'UpdateRole', description: 'Made by hand: for EC2' }),
    );
    // What it held before the tool stays; nothing deletes it.
    expect(l!.steps).not.toContainEqual(expect.objectContaining({ policyArn: READ_ONLY }));
    expect(l!.steps.some((s) => s.op === 'DeleteRole')).toBe(false);
    expect(l!.steps[3]).toEqual({
      op: 'UntagRole',
      roleName: 'fraud-hand-made',
      keys: ['flyte-aws-setup:attached', 'flyte-aws-setup:trust'],
    });
    expect(l!.steps.at(-1)).toEqual({
      op: 'UntagRole',
      roleName: 'fraud-hand-made',
      keys: ['flyte-aws-setup:description', 'flyte-aws-setup:setup'],
    });
    const text = renderPlan({ facts: FACTS, sections: [], leftovers: [l!] }, plainStyle);
    expect(text).toContain('[~] role fraud-hand-made  put back as it was');
  });

  it('interrupted once its description is back: its last records go too (no later run would find it)', async () => {
    const m = adoptedAccount();
    const [l] = await findLeftovers(m.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    const stop = new AbortController();
    const [result] = await pruneLeftovers([l!], m.gateway, {
      signal: stop.signal,
      consistency: { timeoutMs: 50, initialDelayMs: 1 },
      onStep: (_role, step) => {
        if (step.op === 'UpdateRole') stop.abort();
      },
    });
    expect(result!.remaining).toEqual([]);
    expect(m.iam.commandCalls(UntagRoleCommand).map((c) => c.args[0].input.TagKeys)).toContainEqual([
      'flyte-aws-setup:description',
      'flyte-aws-setup:setup',
    ]);

    // Interrupted before it: it stops there, and the summary counts what was done and says what is left.
    const early = new AbortController();
    const m2 = adoptedAccount();
    const [l2] = await findLeftovers(m2.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    const [cut] = await pruneLeftovers([l2!], m2.gateway, {
      signal: early.signal,
      onStep: (_role, step) => {
        if (step.op === 'UpdateAssumeRolePolicy') early.abort();
      },
    });
    expect(cut).toMatchObject({ outcome: 'interrupted' });
    const summary = renderRunSummary(
      { outcome: 'interrupted', facts: FACTS, sections: [], leftovers: [cut!] },
      plainStyle,
      'flyte-aws-setup --config c.yaml --yes --prune',
    );
    expect(summary).toMatch(/^Interrupted: 3 changes to what the config no longer names \(listed above\)/);
    expect(summary).toContain('not done: the put-back of role fraud-hand-made');
  });

  it("--prune detaches its grants policy too (attached by the grants section, without a record), when it is the setup's", async () => {
    const GRANTS = `arn:aws:iam::${ACCOUNT}:policy/fraud-hand-made-grants`;
    const m = adoptedAccount();
    m.iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: POLICY }, { PolicyArn: ATHENA }, { PolicyArn: GRANTS }] });
    m.iam.on(GetPolicyCommand, { PolicyArn: GRANTS }).resolves({
      Policy: { Arn: GRANTS, PolicyName: 'fraud-hand-made-grants', DefaultVersionId: 'v1', Tags: toTags(MINE) },
    });
    m.iam
      .on(GetPolicyVersionCommand)
      .resolves({ PolicyVersion: { Document: '{"Version":"2012-10-17","Statement":[]}' } });
    const [l] = await findLeftovers(m.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    expect(l!.steps).toContainEqual({ op: 'DetachRolePolicy', roleName: 'fraud-hand-made', policyArn: GRANTS });

    // One of that name that is not the setup's stays.
    m.iam.on(GetPolicyCommand, { PolicyArn: GRANTS }).resolves({
      Policy: { Arn: GRANTS, PolicyName: 'fraud-hand-made-grants', DefaultVersionId: 'v1', Tags: [] },
    });
    const [kept] = await findLeftovers(m.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    expect(kept!.steps).not.toContainEqual(expect.objectContaining({ policyArn: GRANTS }));
  });

  it("another setup adopted it, or nobody did: not this setup's, no call beyond its GetRole", async () => {
    const other = adoptedAccount({ ...adoptedTags(), 'flyte-aws-setup:setup': 'other' });
    expect(await findLeftovers(other.gateway, CONFIG, FACTS, { concurrency: 4 })).toEqual([]);
    expect(other.iam.commandCalls(ListAttachedRolePoliciesCommand)).toHaveLength(0);
  });

  it('its trust record cannot be read: kept for now, saying why', async () => {
    const damaged = adoptedAccount({ ...adoptedTags(), 'flyte-aws-setup:trust': 'not-a-record' });
    const [l] = await findLeftovers(damaged.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    expect(l).toMatchObject({ action: 'blocked', adopted: true, steps: [] });
    expect(l!.reason).toMatch(/cannot be read/);
  });

  it('pruned: the steps run, then it is read back until the records are gone; it is put back, not removed', async () => {
    const m = adoptedAccount();
    const [l] = await findLeftovers(m.gateway, CONFIG, FACTS, { prune: true, concurrency: 4 });
    m.iam
      .on(GetRoleCommand)
      .resolves({ Role: { ...listed('fraud-hand-made'), Tags: [{ Key: 'owner', Value: 'platform' }] } });
    const [result] = await pruneLeftovers([l!], m.gateway, { consistency: { timeoutMs: 1000, initialDelayMs: 1 } });
    expect(result).toMatchObject({ outcome: 'restored', remaining: [] });
    expect(m.iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
    expect(m.iam.commandCalls(DetachRolePolicyCommand)).toHaveLength(2);
    expect(renderLeftoverResults([result!], plainStyle)).toMatch(/fraud-hand-made .*: put back as it was/);
  });
});
