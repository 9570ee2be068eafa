/**
 * The config's `target`: which sections serve it, whom the backend role trusts under it, and the config rules that
 * refuse a section or key the target does not use, naming the key, the target and what to do. Pure.
 */
import { currentAsWanted } from '../helpers/current-state.js';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { desiredSections, makePlan } from '../../src/engine/engine.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import type { DesiredRole, Facts } from '../../src/model.js';
import { sectionEnabled, sectionSkipReason } from '../../src/sections/derived.js';
import { conditionEntries } from '../../src/policy/irsa.js';
import { driftFindings } from '../../src/audit/audit.js';
import { verifyReport } from '../../src/audit/report.js';
import { buildPlan, type CurrentState } from '../../src/engine/engine.js';
import { renderVerify, verifyJson } from '../../src/render/verify-text.js';
import { makeStyle } from '../../src/render/style.js';

const MIN = 'cluster: acme\nbucket: acme-flyte-data\n';

function messages(text: string): string {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem).join('\n');
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

const FACTS: Facts = {
  partition: 'aws',
  accountId: '111122223333',
  region: 'eu-west-1',
  offline: false,
  cluster: {
    state: 'ready',
    name: 'acme',
    status: 'ACTIVE',
    issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  },
};

/** The `sub` values a section's role trusts, as its desired() computes them. */
function subjects(text: string, section: 'systemRole' | 'workersRole'): string[] {
  const s = desiredSections(parseConfigText(text), FACTS).find((d) => d.def.id === section)!;
  const role = s.resources[0] as DesiredRole;
  const sub = conditionEntries(role.trust.Statement[0]!).find((e) => e.key.endsWith(':sub'))!;
  return sub.values;
}

describe('target: the sections each one uses', () => {
  it.each([
    ['flyte-binary', ['systemRole', 'workersRole', 'projectRoles']],
    ['flyte-core', ['systemRole', 'workersRole', 'projectRoles']],
    ['flyte2', ['systemRole']],
    ['union', ['projectRoles']],
  ] as const)('%s: %j', (target, used) => {
    const config = parseConfigText(
      `${MIN}target: ${target}\n${target === 'flyte2' ? '' : 'projectRoles: [{ project: fraud }]\n'}`,
    );
    for (const id of ['systemRole', 'workersRole', 'projectRoles'] as const) {
      expect(sectionEnabled(config, id), id).toBe((used as readonly string[]).includes(id));
    }
    // The sections every target uses stay on.
    for (const id of ['clusterRole', 'nodeRole', 'oidcProvider', 'customPolicy'] as const) {
      expect(sectionEnabled(config, id)).toBe(true);
    }
  });

  it('is flyte-binary when absent', () => {
    expect(parseConfigText(MIN).target).toBe('flyte-binary');
  });

  it('a section the target does not use is skipped, saying why', async () => {
    const plan = await makePlan(parseConfigText(`${MIN}region: eu-west-1\ntarget: flyte2\n`), undefined, {
      offline: true,
    });
    const workers = plan.sections.find((s) => s.id === 'workersRole')!;
    expect(workers.status).toBe('skipped');
    expect(workers.skipReason).toMatch(/^not used with target flyte2: Flyte 2 runs task pods as the backend's/);
    expect(sectionSkipReason(parseConfigText(`${MIN}target: union\n`), 'systemRole')).toBe(
      'not used with target union: Union runs its own backend, with roles it makes itself',
    );
  });
});

describe("target: whom the backend role trusts (the section's desired trust)", () => {
  it('flyte-binary and flyte2: the one service account of the chart', () => {
    expect(subjects(MIN, 'systemRole')).toEqual(['system:serviceaccount:flyte:flyte-backend-flyte-binary']);
    expect(
      subjects(`${MIN}target: flyte2\nnamespace: flyte2\nsystemRole: { serviceAccount: flyte }\n`, 'systemRole'),
    ).toEqual(['system:serviceaccount:flyte2:flyte']);
  });

  it('flyte-core: flyteadmin, flytepropeller and datacatalog, or the list given', () => {
    expect(subjects(`${MIN}target: flyte-core\n`, 'systemRole')).toEqual([
      'system:serviceaccount:flyte:flyteadmin',
      'system:serviceaccount:flyte:flytepropeller',
      'system:serviceaccount:flyte:datacatalog',
    ]);
    expect(
      subjects(
        `${MIN}target: flyte-core\nsystemRole: { serviceAccounts: [flyteadmin, flytepropeller, datacatalog, flytescheduler] }\n`,
        'systemRole',
      ),
    ).toEqual([
      'system:serviceaccount:flyte:flyteadmin',
      'system:serviceaccount:flyte:flytepropeller',
      'system:serviceaccount:flyte:datacatalog',
      'system:serviceaccount:flyte:flytescheduler',
    ]);
  });

  it('the workers role is the same under both Flyte 1 charts', () => {
    expect(subjects(`${MIN}target: flyte-core\n`, 'workersRole')).toEqual(['system:serviceaccount:*:default']);
  });
});

describe('target: what it does not use is refused before any AWS call, naming the key, the target and what to do', () => {
  it.each([
    [
      'projectRoles with flyte2',
      `${MIN}target: flyte2\nprojectRoles: [{ project: fraud }]\n`,
      /projectRoles: is not used with target flyte2 \(Flyte 2 runs every task in one namespace .*\): remove it \(or write no projectRoles\), or set target to flyte-binary, flyte-core or union/,
    ],
    [
      'workersRole with flyte2',
      `${MIN}target: flyte2\nworkersRole: { name: tasks }\n`,
      /workersRole: is not used with target flyte2 .*: remove it \(or write workersRole: false\), or set target to flyte-binary or flyte-core/,
    ],
    [
      'workersRole with union',
      `${MIN}target: union\nworkersRole: true\n`,
      /workersRole: is not used with target union \(on a Union data plane task pods run as its <prefix>-userflyterole/,
    ],
    [
      'systemRole with union',
      `${MIN}target: union\nsystemRole: { name: backend }\n`,
      /systemRole: is not used with target union \(Union runs its own backend, with roles it makes itself\)/,
    ],
    [
      "flyte-core's list on flyte-binary",
      `${MIN}systemRole: { serviceAccounts: [flyteadmin] }\n`,
      /systemRole.serviceAccounts: is flyte-core's list of components, but the target is flyte-binary, whose backend runs as one service account: set systemRole.serviceAccount instead, or target: flyte-core/,
    ],
    [
      "flyte-core's list on flyte2",
      `${MIN}target: flyte2\nsystemRole: { serviceAccounts: [flyteadmin] }\n`,
      /systemRole.serviceAccounts: is flyte-core's list of components, but the target is flyte2/,
    ],
    [
      'one service account on flyte-core',
      `${MIN}target: flyte-core\nsystemRole: { serviceAccount: flyte-backend-flyte-binary }\n`,
      /systemRole.serviceAccount: is not used with target flyte-core, .*list the ones the role trusts in systemRole.serviceAccounts/,
    ],
    [
      'a list without a component that reads the bucket',
      `${MIN}target: flyte-core\nsystemRole: { serviceAccounts: [flyteadmin, flytepropeller, flytescheduler] }\n`,
      /systemRole.serviceAccounts: must list flyteadmin, flytepropeller, datacatalog, which read and write the bucket \(missing: datacatalog\); flytescheduler may be added/,
    ],
    [
      'a component listed twice',
      `${MIN}target: flyte-core\nsystemRole: { serviceAccounts: [flyteadmin, flytepropeller, datacatalog, flyteadmin] }\n`,
      /systemRole.serviceAccounts\[3\]: "flyteadmin" is listed twice/,
    ],
    [
      'no component of flyte-core',
      `${MIN}target: flyte-core\nsystemRole: { serviceAccounts: [flyte-backend] }\n`,
      /systemRole.serviceAccounts\[0\]: must be one of flyteadmin, flytepropeller, datacatalog, flytescheduler \(got "flyte-backend"\)/,
    ],
    [
      'an empty list',
      `${MIN}target: flyte-core\nsystemRole: { serviceAccounts: [] }\n`,
      /systemRole.serviceAccounts: must not be an empty list/,
    ],
    [
      'an unknown target',
      `${MIN}target: flyte-sandbox\n`,
      /target: must be one of flyte-binary, flyte-core, flyte2, union; not the string "flyte-sandbox"/,
    ],
  ])('%s', (_name, text, expected) => {
    expect(messages(text)).toMatch(expected);
  });

  it('off is fine: a section the target does not use may be written off', () => {
    expect(() => parseConfigText(`${MIN}target: flyte2\nworkersRole: false\nprojectRoles: []\n`)).not.toThrow();
    expect(() => parseConfigText(`${MIN}target: union\nsystemRole: false\nworkersRole: false\n`)).not.toThrow();
  });

  it('Union keeps globalAccess and project roles', () => {
    const c = parseConfigText(
      `${MIN}target: union\nglobalAccess: { role: acme-userflyterole }\nprojectRoles: [{ project: fraud, userFlyteRolePolicy: true }]\n`,
    );
    expect(sectionEnabled(c, 'globalAccess')).toBe(true);
    expect(sectionEnabled(c, 'projectRoles')).toBe(true);
  });
});

describe('verify knows the target: the roles and trusts it needs', () => {
  const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC';
  const facts: Facts = { ...FACTS, cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: issuer } };

  /** AWS as `made` set it up, verified against `wanted`. */
  function verify(made: string, wanted: string) {
    const current = currentAsWanted(
      desiredSections(parseConfigText(made), facts).flatMap((s) => s.resources),
      {
        bucket: false,
      },
    );
    const config = parseConfigText(wanted);
    const plan = buildPlan(facts, desiredSections(config, facts), current as CurrentState);
    const findings = driftFindings(plan, 'flyte-aws-setup --config c.yaml --yes');
    return { report: verifyReport(plan, findings, config.target), findings };
  }

  it('a backend role made for flyte-binary does not serve flyte-core: the finding names the components it lacks', () => {
    const { report, findings } = verify(MIN, `${MIN}target: flyte-core\n`);
    const trust = findings.find((f) => f.code === 'trust-differs')!;
    expect(trust).toMatchObject({ section: 'systemRole', resource: 'role flyte-system-role', severity: 'error' });
    expect(trust.problem).toBe(
      'its trust policy differs from the config: it does not let in system:serviceaccount:flyte:flyteadmin, ' +
        'system:serviceaccount:flyte:flytepropeller, system:serviceaccount:flyte:datacatalog; it lets in ' +
        'system:serviceaccount:flyte:flyte-backend-flyte-binary, which the config does not',
    );
    expect(report.ok).toBe(false);
    expect(renderVerify(report, makeStyle(false))).toContain(
      'Target flyte-core (the flyte-core chart v1.16.8): the roles and trusts it needs',
    );
  });

  it('flyte2: the workers role is not checked (skipped, saying why), the backend role is', () => {
    const { report } = verify(`${MIN}workersRole: false\n`, `${MIN}target: flyte2\n`);
    expect(report.ok).toBe(true);
    const workers = report.sections.find((s) => s.id === 'workersRole')!;
    expect(workers).toMatchObject({ verdict: 'skipped' });
    expect(workers.skipReason).toMatch(/^not used with target flyte2/);
    expect(report.sections.find((s) => s.id === 'systemRole')!.verdict).toBe('ok');
    expect(verifyJson(report, 0)).toMatchObject({ kind: 'verify', target: 'flyte2' });
  });
});
