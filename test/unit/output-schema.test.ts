/**
 * The contract of the JSON output (docs/json-output.md): schema/output.schema.json is what the types in
 * src/render/json-types.ts say, every kind of document the CLI writes validates against it, and a change of its
 * shape comes with a new formatVersion (schema/output.versions.json).
 */
import { ListNodegroupsCommand } from '@aws-sdk/client-eks';
import {
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  DetachRolePolicyCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { CommanderError } from 'commander';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditPlan, driftFindings } from '../../src/audit/audit.js';
import { verifyReport } from '../../src/audit/report.js';
import { errorJson } from '../../src/cli.js';
import { buildPlan, desiredSections, makePlan, type CurrentState } from '../../src/engine/engine.js';
import { planDestroy, type DestroyState } from '../../src/engine/destroy.js';
import { applyDestroy } from '../../src/engine/destroy-run.js';
import { resourceKey } from '../../src/engine/plan.js';
import { UserError } from '../../src/errors.js';
import { parseConfigText } from '../../src/load/config.js';
import type { CurrentResource, Facts } from '../../src/model.js';
import { serviceTrustPolicy } from '../../src/policy/document.js';
import { destroyPlanJson, destroyResultJson } from '../../src/render/destroy-text.js';
import { JSON_FORMAT_VERSION } from '../../src/render/format-version.js';
import { planJson, resultJson } from '../../src/render/json.js';
import type { OutputDocument } from '../../src/render/json-types.js';
import { verifyJson } from '../../src/render/verify-text.js';
import { handOff, handoffJson } from '../../src/session/hand-off.js';
import {
  OUTPUT_SCHEMA_FILE,
  OUTPUT_VERSIONS_FILE,
  outputJsonSchema,
  recordVersion,
  schemaFormatVersion,
  shapeHash,
  type OutputVersions,
} from '../../scripts/output-schema.js';
import { ROOT, writeConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/in-process.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';

type Schema = ReturnType<typeof outputJsonSchema>;
const committedSchema = () => JSON.parse(readFileSync(join(ROOT, OUTPUT_SCHEMA_FILE), 'utf8')) as Schema;
const committedVersions = () => JSON.parse(readFileSync(join(ROOT, OUTPUT_VERSIONS_FILE), 'utf8')) as OutputVersions;

let generated: Schema;
beforeAll(() => {
  // Reads the TypeScript program: a few seconds.
  generated = outputJsonSchema();
});

describe('the committed schema is the one the types give', () => {
  it(`${OUTPUT_SCHEMA_FILE} is generated from src/render/json-types.ts`, () => {
    expect(
      committedSchema(),
      `${OUTPUT_SCHEMA_FILE} is not what the types give: run \`npm run schema\`, and when the shape changed raise ` +
        'JSON_FORMAT_VERSION (src/render/format-version.ts) first (docs/json-output.md)',
    ).toEqual(generated);
  });

  it('says the formatVersion of the code', () => {
    expect(schemaFormatVersion(generated)).toBe(JSON_FORMAT_VERSION);
    expect(schemaFormatVersion(committedSchema()), `run \`npm run schema\``).toBe(JSON_FORMAT_VERSION);
  });

  it('its shape is the one recorded for this formatVersion: a change of shape needs a new version', () => {
    const versions = committedVersions();
    const hash = shapeHash(generated);
    const record = recordVersion(versions, JSON_FORMAT_VERSION, hash);
    expect(record.ok, record.ok ? '' : record.problem).toBe(true);
    expect(
      versions.versions[String(JSON_FORMAT_VERSION)],
      `formatVersion ${JSON_FORMAT_VERSION} is not recorded in ${OUTPUT_VERSIONS_FILE}: run \`npm run schema\``,
    ).toBe(hash);
  });
});

describe('the fingerprint of the shape', () => {
  const clone = () => structuredClone(generated) as Schema & { $defs: Record<string, any> };

  it('does not change with a comment, a type renamed, or the order of a union', () => {
    const schema = clone();
    schema.$defs.PlanSummary.description = 'another comment';
    schema.$defs.Facts.properties.offline.description = 'another comment';
    schema.$defs.Tally = schema.$defs.CallCounts;
    delete schema.$defs.CallCounts;
    const text = JSON.stringify(schema).replaceAll('#/$defs/CallCounts"', '#/$defs/Tally"');
    const renamed = JSON.parse(text) as typeof schema;
    renamed.$defs.OutputDocument.anyOf.reverse();
    renamed.$defs.Partition.enum.reverse();
    expect(shapeHash(renamed)).toBe(shapeHash(generated));
  });

  it('changes with a property added, removed, made optional, or a value more allowed', () => {
    const changes: ((s: ReturnType<typeof clone>) => void)[] = [
      (s) => (s.$defs.PlanSummary.properties.extra = { type: 'number' }),
      (s) => delete s.$defs.PlanSection.properties.title,
      (s) => s.$defs.ResultDocument.required.pop(),
      (s) => s.$defs.Partition.enum.push('aws-eusc'),
      (s) => (s.$defs.FormatVersion.const = (s.$defs.FormatVersion.const as number) + 1),
    ];
    for (const change of changes) {
      const schema = clone();
      change(schema);
      expect(shapeHash(schema)).not.toBe(shapeHash(generated));
    }
  });

  it('npm run schema refuses a new shape under a recorded version, and a version that goes down', () => {
    const recorded = { versions: { '1': 'sha256:a', '2': 'sha256:b' } };
    expect(recordVersion(recorded, 2, 'sha256:b').ok).toBe(true);
    const changed = recordVersion(recorded, 2, 'sha256:c');
    expect(changed.ok ? '' : changed.problem).toMatch(/formatVersion is still 2\. Raise JSON_FORMAT_VERSION/);
    expect(recordVersion(recorded, 1, 'sha256:c').ok).toBe(false);
    const next = recordVersion(recorded, 3, 'sha256:c');
    expect(next.ok && next.versions.versions).toEqual({ '1': 'sha256:a', '2': 'sha256:b', '3': 'sha256:c' });
  });
});

describe('every document the CLI writes validates against the schema', () => {
  let validate: ValidateFunction;
  beforeAll(() => {
    validate = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }).compile(committedSchema());
  });
  const seen = new Set<string>();
  const valid = (doc: unknown) => {
    const ok = validate(doc);
    expect(ok ? [] : validate.errors, JSON.stringify(doc).slice(0, 400)).toEqual([]);
    seen.add((doc as OutputDocument).kind);
  };
  const parsed = (stdout: string): unknown => JSON.parse(stdout);

  const ACCOUNT = '111122223333';
  const FULL = `
region: eu-west-1
cluster: acme
bucket: acme-flyte-data
projectRoles: [{ project: fraud }]
vpcDns: off
`;
  const facts: Facts = {
    partition: 'aws',
    accountId: ACCOUNT,
    region: 'eu-west-1',
    offline: false,
    cluster: {
      state: 'ready',
      name: 'acme',
      status: 'ACTIVE',
      issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    },
  };
  const emptyAccount = (m: ReturnType<typeof mockAws>) => {
    m.iam.onAnyCommand().rejects(awsError('NoSuchEntity', 'The entity cannot be found.'));
    m.iam.on(ListRolesCommand).resolves({ Roles: [] });
    m.eks.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
  };

  it('plan: offline, for each example config', async () => {
    for (const example of ['examples/flyte-aws-setup.yaml', 'examples/union-flyte-aws-setup.yaml']) {
      const r = await runMain(['--config', example, '--dry-run', '--offline', '--json']);
      expect(r.code).toBe(0);
      valid(parsed(r.stdout));
    }
  });

  /** AWS holding what the config wants, but a trust, an attachment and the custom policy changed by hand. */
  function driftedPlan() {
    const config = parseConfigText(FULL);
    const sections = desiredSections(config, facts);
    const current = new Map<string, CurrentResource>();
    for (const r of sections.flatMap((s) => s.resources)) {
      if (r.kind === 'role') {
        const { name, arn, path, tags } = r;
        const broad = r.name === 'flyte-system-role' ? ['arn:aws:iam::aws:policy/AmazonS3FullAccess'] : [];
        const attached = r.name === 'flyte-eks-node-role' ? [] : [...r.managedPolicies, ...broad];
        const trust = r.name === 'flyte-eks-cluster-role' ? serviceTrustPolicy('ec2.amazonaws.com') : r.trust;
        current.set(resourceKey(r), { kind: 'role', name, arn, path, trust, attached, tags, inline: ['by-hand'] });
      } else if (r.kind === 'policy') {
        const document = { ...r.document, Statement: [] };
        const versions = ['v1', 'v2', 'v3', 'v4', 'v5'].map((id) => ({ id, isDefault: id === 'v5' }));
        current.set(resourceKey(r), { ...r, defaultVersionId: 'v5', document, versions, tags: {} });
      } else if (r.kind === 'oidc-provider') {
        current.set(resourceKey(r), { kind: 'oidc-provider', arn: r.arn, url: r.url, clientIds: [], tags: r.tags });
      }
    }
    return { config, plan: buildPlan(facts, sections, current as CurrentState) };
  }

  it('plan and verify: AWS that differs from the config', () => {
    const { plan } = driftedPlan();
    const doc = planJson(plan);
    expect(doc.summary.update).toBeGreaterThan(0);
    valid(doc);
    const options = { rerun: 'flyte-aws-setup --config c.yaml', createsProvider: true, customPolicyName: 'x' };
    const findings = [...driftFindings(plan, options.rerun), ...auditPlan(plan, new Map(), options)];
    const report = verifyReport(plan, findings);
    expect(report.errors).toBeGreaterThan(0);
    valid(verifyJson(report, 1));
  });

  it('verify, a run and its result, outputs and destroy, in-process against an empty account', async () => {
    const file = writeConfig(FULL);
    const out = mkdtempSync(join(tmpdir(), 'out-'));
    const m = mockAws();
    emptyAccount(m);
    m.iam.on(CreateRoleCommand).rejects(awsError('AccessDenied', 'not allowed'));

    const verify = await runMain(['verify', '--config', file, '--json']);
    expect(verify.code).toBe(1);
    expect(parsed(verify.stdout)).toMatchObject({ kind: 'verify', ok: false });
    valid(parsed(verify.stdout));

    const run = await runMain([
      '--config',
      file,
      '--yes',
      '--approve-broadening',
      '--json',
      '--no-preflight',
      '--out-dir',
      out,
    ]);
    expect(run.code).toBe(1);
    expect(parsed(run.stdout)).toMatchObject({ kind: 'result', outcome: 'failed' });
    valid(parsed(run.stdout));

    const outputs = await runMain(['outputs', '--config', file, '--json', '--out-dir', out]);
    expect(outputs.code).toBe(1);
    expect(parsed(outputs.stdout)).toMatchObject({ kind: 'handoff' });
    valid(parsed(outputs.stdout));

    for (const [flag, kind] of [
      ['--dry-run', 'destroy-plan'],
      ['--yes', 'destroy-result'],
    ]) {
      const destroy = await runMain(['destroy', '--config', file, '--json', flag!]);
      expect(parsed(destroy.stdout)).toMatchObject({ kind });
      valid(parsed(destroy.stdout));
    }
  });

  it('a complete run', async () => {
    const config = parseConfigText(FULL);
    const plan = await makePlan(config, undefined, { offline: true });
    const result = {
      outcome: 'complete' as const,
      facts: plan.facts,
      sections: plan.sections.map((s) => ({
        id: s.id,
        title: s.title,
        outcome: s.status === 'skipped' ? ('skipped' as const) : ('created' as const),
        resources: s.resources.map((r) => ({
          kind: r.kind,
          name: r.name,
          arn: r.arn,
          action: r.action,
          done: r.steps,
          remaining: [],
          notes: r.notes,
        })),
      })),
    };
    valid(resultJson(result, { exitCode: 0, calls: { total: 40, mutating: 20 } }));
    valid(resultJson({ ...result, outcome: 'interrupted' }, { exitCode: 130 }));
  });

  it('destroy: every action, and a run stopped by a refusal', async () => {
    const own = { 'managed-by': 'flyte-aws-setup' };
    const policy = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
    const role = (name: string, attached: string[], tags: Record<string, string> = own) => ({
      kind: 'role' as const,
      name,
      arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      path: '/',
      trust: serviceTrustPolicy('eks.amazonaws.com'),
      attached,
      tags,
    });
    const state: DestroyState = {
      facts: { ...facts, cluster: { state: 'missing', name: 'acme' } },
      setup: 'acme',
      clusterExists: false,
      roles: [
        { section: 'clusterRole', name: 'a', current: role('a', [policy]), inlinePolicies: [], instanceProfiles: [] },
        { section: 'nodeRole', name: 'b', current: role('b', [policy], {}), inlinePolicies: [], instanceProfiles: [] },
        { section: 'systemRole', name: 'c', inlinePolicies: [], instanceProfiles: [] },
        { section: 'workersRole', name: 'd', current: role('d', [], {}), inlinePolicies: [], instanceProfiles: [] },
        {
          section: 'projectRoles',
          name: 'e',
          current: role('e', [], { 'flyte-aws-setup:setup': 'acme' }),
          inlinePolicies: [],
          instanceProfiles: [],
        },
      ],
      policy: {
        name: 'flyte-custom-policy',
        arn: policy,
        current: {
          kind: 'policy',
          arn: policy,
          name: 'flyte-custom-policy',
          path: '/',
          defaultVersionId: 'v2',
          document: { Version: '2012-10-17', Statement: [] },
          tags: own,
        },
        versions: [
          { id: 'v2', isDefault: true },
          { id: 'v1', isDefault: false },
        ],
        attachments: { roles: ['a', 'b', 'elsewhere'], users: [], groups: [] },
      },
      provider: { trustedBy: [], unknown: { reason: 'the cluster is gone', candidates: ['arn:x'] } },
    };
    const plan = planDestroy(state);
    expect(new Set(plan.items.map((i) => i.action))).toEqual(
      new Set(['delete', 'detach', 'restore', 'keep', 'blocked', 'absent', 'unknown']),
    );
    valid(destroyPlanJson(plan));
    const m = mockAws();
    m.iam.on(DetachRolePolicyCommand).resolves({});
    m.iam.on(DeletePolicyVersionCommand).rejects(awsError('AccessDenied', 'not allowed'));
    const fast = { consistency: { timeoutMs: 2_000, initialDelayMs: 1 } };
    const result = await applyDestroy(plan, async () => plan, m.gateway, fast);
    expect(result.outcome).toBe('failed');
    valid(destroyResultJson(plan, result, { exitCode: 1, calls: { total: 9, mutating: 3 } }));
  });

  it('handoff: the files written', async () => {
    const config = parseConfigText(FULL);
    const plan = await makePlan(config, undefined, { offline: true });
    const arns = new Map(
      plan.sections.flatMap((s) => s.resources).flatMap((r) => (r.kind === 'role' ? [[r.name, r.arn] as const] : [])),
    );
    const req = { config, facts: plan.facts, arns, sections: plan.sections, rerun: 'flyte-aws-setup' };
    const outcome = await handOff(req, { outDir: mkdtempSync(join(tmpdir(), 'out-')) }, undefined);
    expect(outcome.result?.files.length).toBeGreaterThan(0);
    valid(handoffJson(outcome, 2));
  });

  it('error: an invalid config, a bad command line, a refusal with a hint, a bug', async () => {
    const bad = writeConfig('bucket: acme-flyte-data\ncluster: acme\nregion: mars\nsurprise: 1\n');
    const r = await runMain(['--config', bad, '--dry-run', '--offline', '--json']);
    expect(parsed(r.stdout)).toMatchObject({ kind: 'error', problems: [{}, {}] });
    valid(parsed(r.stdout));
    const usage = await runMain(['--config', 'examples/flyte-aws-setup.yaml', '--offline', '--json']);
    expect(parsed(usage.stdout)).toMatchObject({ kind: 'error', hint: expect.any(String) });
    valid(parsed(usage.stdout));
    valid(errorJson(new CommanderError(2, 'commander.unknownOption', "error: unknown option '--x'"), 2));
    valid(errorJson(new UserError('no', { hint: 'do this' }), 1));
    valid(errorJson(new TypeError('x is undefined'), 1));
    valid(errorJson('thrown as a string', 1));
  });

  it('covers every kind, and the schema rejects what is not one', () => {
    expect([...seen].sort()).toEqual([
      'destroy-plan',
      'destroy-result',
      'error',
      'handoff',
      'plan',
      'result',
      'verify',
    ]);
    const doc = errorJson(new Error('x'), 1);
    expect(validate({ ...doc, extra: true })).toBe(false);
    expect(validate({ ...doc, kind: 'warning' })).toBe(false);
    expect(validate({ ...doc, formatVersion: JSON_FORMAT_VERSION + 1 })).toBe(false);
  });
});
