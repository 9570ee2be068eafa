/**
 * One standard of findings: each code has one severity (src/policy/findings.ts), the plan, the run's summary and
 * verify take it from there, and docs/verify-and-destroy.md shows the same table. Also what counts as a broad
 * grant, the bucket's look-up, and why sections wait said once.
 */
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetBucketLocationCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentAsWanted } from '../helpers/current-state.js';
import { describe, expect, it } from 'vitest';
import { auditPlan, driftFindings, providersInPlan } from '../../src/audit/audit.js';
import type { RunResult } from '../../src/engine/apply.js';
import { buildPlan, desiredSections, makePlan, type CurrentState } from '../../src/engine/engine.js';
import { heldFindings, planBucket, planRole } from '../../src/engine/plan.js';
import { bucketRegion } from '../../src/aws/gateway.js';
import { parseConfigText } from '../../src/load/config.js';
import type { DesiredBucket, DesiredRole, Facts, Plan } from '../../src/model.js';
import { serviceTrustPolicy, type PolicyDocument } from '../../src/policy/document.js';
import { FINDINGS, broadGrant, severityCounts, severityOf, type FindingCode } from '../../src/policy/findings.js';
import { renderPlan, renderRunSummary, renderSectionResult } from '../../src/render/plan-text.js';
import { plainStyle } from '../../src/render/style.js';
import { ROOT } from '../helpers/cli.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const HOST = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';
const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const ALL: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

describe('the table', () => {
  it('docs/verify-and-destroy.md lists every code with its severity, and nothing else', () => {
    const text = readFileSync(join(ROOT, 'docs/verify-and-destroy.md'), 'utf8');
    const section = text.split('## Findings and their severity')[1]!.split('\n## ')[0]!;
    const rows = [...section.matchAll(/^\| `([a-z-]+)` +\| (error|warning) +\|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(Object.entries(FINDINGS).map(([code, rule]) => [code, rule.severity])),
    );
    expect(rows).toHaveLength(Object.keys(FINDINGS).length);
  });

  it('counts in words', () => {
    expect(severityCounts([])).toBe('');
    expect(severityCounts([{ severity: 'warning' }])).toBe('1 warning');
    expect(severityCounts([{ severity: 'error' }, { severity: 'warning' }, { severity: 'warning' }])).toBe(
      '1 error and 2 warnings',
    );
  });
});

describe('a broad grant in a document', () => {
  it.each<[string, PolicyDocument['Statement'], string | undefined]>([
    ['every action on *', [{ Effect: 'Allow', Action: '*', Resource: '*' }], 'allows every action ("*") on "*"'],
    [
      '*:* on *',
      [{ Effect: 'Allow', Action: ['s3:GetObject', '*:*'], Resource: ['*'] }],
      'allows every action ("*") on "*"',
    ],
    [
      's3:* on *',
      [{ Effect: 'Allow', Action: 'S3:*', Resource: '*' }],
      'allows every S3 action ("s3:*") on every bucket',
    ],
    [
      's3:* on every bucket',
      [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::*' }],
      'allows every S3 action ("s3:*") on every bucket',
    ],
    ['s3:* on one bucket', [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }], undefined],
    ['* denied', [{ Effect: 'Deny', Action: '*', Resource: '*' }], undefined],
    ['scoped actions', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }], undefined],
  ])('%s', (_name, Statement, expected) => {
    expect(broadGrant({ Version: '2012-10-17', Statement })).toBe(expected);
  });
});

describe('what a role holds beyond the config', () => {
  const role = (pods: boolean) => ({
    name: 'r',
    wanted: [] as string[],
    pods,
    scopedPolicy: 'arn:aws:iam::1:policy/p',
  });

  it('a broad policy or grant: an error on a role pods assume, a warning on another; never both kinds', () => {
    const current = { attached: [S3_FULL], inline: ['all', 'notes'], inlineDocuments: { all: ALL } };
    const pods = heldFindings(role(true), current).findings;
    expect(pods.map((f) => `${f.severity} ${f.code}`)).toEqual([
      'error broad-policy',
      'error broad-policy',
      'warning inline-policy',
    ]);
    expect(pods[0]!.message).toBe(
      'has AmazonS3FullAccess attached where the scoped policy p belongs: it grants every S3 bucket of the account',
    );
    expect(pods[1]!.message).toBe(
      'has the inline policy all, which allows every action ("*") on "*": every pod that assumes the role gets it',
    );
    const node = heldFindings(role(false), current).findings;
    expect(node.map((f) => `${f.severity} ${f.code}`)).toEqual([
      'warning broad-policy-non-irsa',
      'warning broad-policy-non-irsa',
      'warning inline-policy',
    ]);
  });

  it('another policy: a warning on a role pods assume, a note on another', () => {
    const current = { attached: ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'] };
    expect(heldFindings(role(true), current).findings.map((f) => f.code)).toEqual(['extra-policy']);
    const node = heldFindings(role(false), current);
    expect(node.findings).toEqual([]);
    expect(node.notes[0]!.message).toContain('AmazonSSMManagedInstanceCore attached (not by this config; left alone)');
  });

  it('a broad policy the config lists: a warning, on a new role as on an existing one', () => {
    const desired: DesiredRole = {
      kind: 'role',
      name: 'r',
      path: '/',
      arn: `arn:aws:iam::${ACCOUNT}:role/r`,
      description: 'd',
      trust: serviceTrustPolicy('eks.amazonaws.com'),
      managedPolicies: [ADMIN],
      tags: {},
    };
    const created = planRole(desired, undefined);
    expect(created.findings!.map((f) => `${f.severity} ${f.code}`)).toEqual(['warning broad-policy-listed']);
    // The change is still marked security-relevant, for its yes.
    expect(created.security).toEqual(['attaches AdministratorAccess, which grants everything']);
    const kept = planRole(desired, {
      kind: 'role',
      name: 'r',
      arn: desired.arn,
      path: '/',
      trust: desired.trust,
      attached: [ADMIN],
      tags: {},
    });
    expect(kept.findings!.map((f) => `${f.severity} ${f.code}`)).toEqual(['warning broad-policy-listed']);
  });
});

describe('the bucket', () => {
  const desired: DesiredBucket = { kind: 'bucket', name: 'b', arn: 'arn:aws:s3:::b', region: 'eu-west-1' };

  it('is only looked up: there, in the region, is nothing to do; else a warning that says why Flyte cannot work', () => {
    expect(planBucket(desired, { kind: 'bucket', name: 'b', region: 'eu-west-1' })).toMatchObject({
      action: 'none',
      steps: [],
    });
    expect(planBucket(desired, { kind: 'bucket', name: 'b', region: 'eu-west-1' }).findings).toBeUndefined();
    const missing = planBucket(desired, undefined).findings!;
    expect(missing.map((f) => `${f.severity} ${f.code} ${f.message}`)).toEqual([
      'warning bucket-missing Flyte cannot work: the bucket b does not exist (looked up from eu-west-1)',
    ]);
    expect(missing[0]!.fix).toContain(
      'aws s3api create-bucket --bucket b --region eu-west-1 --create-bucket-configuration LocationConstraint=eu-west-1',
    );
    expect(planBucket(desired, { kind: 'bucket', name: 'b', region: 'us-east-1' }).findings![0]).toMatchObject({
      code: 'bucket-other-region',
      severity: 'warning',
      message: "Flyte cannot work as configured: the bucket b is in us-east-1, the config's region is eu-west-1",
    });
    expect(
      planBucket(desired, { kind: 'bucket', name: 'b', unreadable: 's3:GetBucketLocation is denied to the caller' })
        .findings![0],
    ).toMatchObject({
      code: 'unchecked',
      message: 'the bucket b was not checked: s3:GetBucketLocation is denied to the caller',
    });
  });

  it('is read with GetBucketLocation: its region; gone is undefined, a refusal is kept as unreadable', async () => {
    const m = mockAws();
    m.s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'EU' });
    expect(await m.gateway.readBucket('b')).toEqual({ kind: 'bucket', name: 'b', region: 'eu-west-1' });
    m.s3.on(GetBucketLocationCommand).rejects(awsError('NoSuchBucket'));
    expect(await m.gateway.readBucket('b')).toBeUndefined();
    m.s3.on(GetBucketLocationCommand).rejects(awsError('AccessDenied'));
    expect(await m.gateway.readBucket('b')).toEqual({
      kind: 'bucket',
      name: 'b',
      unreadable: 's3:GetBucketLocation is denied to the caller',
    });
  });

  it("GetBucketLocation's answer as a region", () => {
    expect(bucketRegion(undefined)).toBe('us-east-1');
    expect(bucketRegion('')).toBe('us-east-1');
    expect(bucketRegion('EU')).toBe('eu-west-1');
    expect(bucketRegion('ap-southeast-5')).toBe('ap-southeast-5');
  });
});

describe('the plan, the run and verify say the same', () => {
  const config = parseConfigText(`
region: eu-west-1
cluster: acme
bucket: acme-flyte-data
vpcDns: off
workersRole: { extraPolicies: [${ADMIN}] }
`);
  const facts: Facts = {
    partition: 'aws',
    accountId: ACCOUNT,
    region: 'eu-west-1',
    offline: false,
    cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: `https://${HOST}` },
  };
  const sections = desiredSections(config, facts);

  /** AWS as the config wants it, but AmazonS3FullAccess on the backend role, and no bucket. */
  function plan(): Plan {
    const current = currentAsWanted(
      sections.flatMap((s) => s.resources),
      { extraAttached: (name) => (name === 'flyte-system-role' ? [S3_FULL] : []), bucket: false },
    );
    return buildPlan(facts, sections, current as CurrentState);
  }

  it("each finding's severity is its code's, in the plan and in verify", () => {
    const p = plan();
    const inPlan = p.sections.flatMap((s) => s.resources.flatMap((r) => r.findings ?? []));
    expect(inPlan.map((f) => `${f.severity} ${f.code}`).sort()).toEqual(
      ['error broad-policy', 'warning broad-policy-listed', 'warning bucket-missing'].sort(),
    );
    const verify = [
      ...driftFindings(p, 'rerun'),
      ...auditPlan(p, providersInPlan(p), { rerun: 'rerun', createsProvider: true }),
    ];
    expect(verify.map((f) => `${f.severity} ${f.code}`).sort()).toEqual(
      inPlan.map((f) => `${f.severity} ${f.code}`).sort(),
    );
    for (const f of [...inPlan, ...verify]) expect(f.severity).toBe(severityOf(f.code as FindingCode));
  });

  it('the plan text and the last line of a run count them the same way', () => {
    const p = plan();
    const text = renderPlan(p, plainStyle);
    expect(text).toContain(
      '       error: has AmazonS3FullAccess attached where the scoped policy flyte-custom-policy belongs',
    );
    expect(text).toContain(
      '       warning: the config attaches AdministratorAccess (extraPolicies), which grants everything',
    );
    expect(text).toContain('This run leaves 1 error and 2 warnings as they are; each has its fix above.');

    const result: RunResult = {
      outcome: 'complete',
      facts: p.facts,
      sections: p.sections.map((s) => ({
        id: s.id,
        title: s.title,
        outcome: s.status === 'skipped' ? 'skipped' : 'unchanged',
        resources: s.resources.map((r) => ({
          kind: r.kind,
          name: r.name,
          arn: r.arn,
          action: r.action,
          done: [],
          remaining: [],
          notes: r.notes,
          ...(r.findings ? { findings: r.findings } : {}),
        })),
      })),
    };
    expect(renderRunSummary(result, plainStyle, 'rerun')).toBe(
      'Setup complete, with 1 error and 2 warnings: nothing changed; AWS matches the config; what is listed above ' +
        'is left as it is (verify fails until the error is fixed).',
    );
    const customPolicy = result.sections.find((s) => s.id === 'customPolicy')!;
    // The section's line names what it made, not the bucket it looked up.
    expect(renderSectionResult(customPolicy, plainStyle).split('\n')).toEqual([
      `! S3 policy for the Flyte bucket: needs attention  arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`,
      expect.stringMatching(/^ {4}warning: Flyte cannot work: the bucket acme-flyte-data does not exist .*; fix: /),
    ]);
  });

  it('why sections wait is said once: in the plan, in a run, and in verify', () => {
    const missing: Facts = { ...facts, cluster: { state: 'missing', name: 'acme' } };
    const waiting = buildPlan(missing, desiredSections(config, missing), new Map());
    const text = renderPlan(waiting, plainStyle);
    expect(text.split('does not exist yet in eu-west-1')).toHaveLength(2);
    expect(text.split('to do:')).toHaveLength(2);
    const found = driftFindings(waiting, 'rerun').filter((f) => f.code === 'waiting');
    expect(found.length).toBeGreaterThan(1);
    expect(found.filter((f) => f.fix.includes('aws eks create-cluster'))).toHaveLength(1);
    const section = {
      id: 'systemRole' as const,
      title: 't',
      outcome: 'waiting' as const,
      resources: [],
      waiting: waiting.sections[4]!.waiting!,
    };
    expect(renderSectionResult(section, plainStyle, { waiting: false })).toBe('… t: waiting for the cluster');
  });
});

describe("an inline policy's document is read to find a broad grant", () => {
  it('on a role pods assume, "*" inline is an error; its document read with its name', async () => {
    const m = mockAws();
    const config = parseConfigText(
      'bucket: acme-flyte-data\ncluster: acme\nvpcDns: off\ncustomPolicy: false\nworkersRole: false\n' +
        'oidcProvider: false\nclusterRole: false\nnodeRole: false\n',
    );
    const facts: Facts = {
      partition: 'aws',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      offline: false,
      cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: ISSUER },
    };
    const desired = desiredSections(config, facts).find((s) => s.def.id === 'systemRole')!.resources[0] as DesiredRole;
    m.iam.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'flyte-system-role',
        Arn: `arn:aws:iam::${ACCOUNT}:role/flyte-system-role`,
        Path: '/',
        RoleId: 'x',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: JSON.stringify(desired.trust),
        Tags: [{ Key: 'managed-by', Value: 'flyte-aws-setup' }],
      },
    });
    m.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['everything'], IsTruncated: false });
    m.iam.on(GetRolePolicyCommand).resolves({
      RoleName: 'flyte-system-role',
      PolicyName: 'everything',
      PolicyDocument: encodeURIComponent(JSON.stringify(ALL)),
    });
    // verify reads every role's inline policies; a plan only those of roles not the tool's.
    const audited = await makePlan(config, m.gateway, { audit: true });
    const role = audited.sections.find((s) => s.id === 'systemRole')!.resources[0]!;
    expect(role.findings!.map((f) => `${f.severity} ${f.code} ${f.message}`)).toEqual([
      'error broad-policy has the inline policy everything, which allows every action ("*") on "*": every pod that ' +
        'assumes the role gets it',
    ]);
    const planned = await makePlan(config, m.gateway);
    expect(planned.sections.find((s) => s.id === 'systemRole')!.resources[0]!.findings).toBeUndefined();
  });
});
