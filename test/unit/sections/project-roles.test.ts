/** Section 7, project-domain roles: one IRSA role per project, trusted by its <project>-<domain> namespaces. */
import { describe, expect, it } from 'vitest';
import { resolveProjectRole } from '../../../src/config/schema.js';
import type { DesiredRole } from '../../../src/model.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { projectNamespace, projectRoles, projectSubjects } from '../../../src/sections/project-roles.js';
import { ruleInputOf } from '../../../src/sections/section.js';
import {
  ACCOUNT,
  AWS,
  PARTITION_CASES,
  TOOL_TAG,
  context,
  irsaTrust,
  loadConfig,
  loaderProblems,
  pathAndMessage,
  ruleInput,
  ruleOf,
} from './fixtures.js';

const CUSTOM = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const sa = (ns: string, name = 'default') => `system:serviceaccount:${ns}:${name}`;
const FRAUD = 'projectRoles:\n  - project: fraud\n';

describe('projectRoles: what it is', () => {
  it('IRSA roles: need the cluster, after the OIDC provider and the custom policy', () => {
    expect(projectRoles.id).toBe('projectRoles');
    expect(projectRoles.needsCluster).toBe(true);
    expect(projectRoles.identity).toBe('irsa');
    expect(projectRoles.dependsOn).toEqual(['oidcProvider', 'customPolicy']);
    expect(projectRoles.rules!.map((r) => r.name)).toEqual([
      'projectRoles: a project listed once',
      'projectRoles: the default role name is a valid role name',
      "projectRoles: each namespace valid, once, and not Flyte's own",
      'projectRoles: trust policy within the size limit',
      'projectRoles.extraPolicies in the partition of the region',
    ]);
    expect(projectRoles.notes).toBeUndefined();
    // Left out (or empty) to skip it: the plan says so, not `projectRoles: false` (which the config refuses).
    expect(projectRoles.skipReason!(loadConfig())).toBe('no projectRoles in the config');
  });

  it("a project's namespaces are <project>-<domain>, its subjects their service account", () => {
    expect(projectNamespace('fraud', 'production')).toBe('fraud-production');
    const p = resolveProjectRole({ project: 'fraud', domains: ['development', 'production'], serviceAccount: 'tasks' });
    expect(projectSubjects(p)).toEqual([sa('fraud-development', 'tasks'), sa('fraud-production', 'tasks')]);
  });
});

describe('projectRoles: what it wants', () => {
  it('by default, flyte-<project>-role trusting default in its three domains (StringEquals), with the custom policy', () => {
    const resources = projectRoles.desired(context(loadConfig(FRAUD)));
    expect(resources).toHaveLength(1);
    const role = resources[0] as DesiredRole;
    expect(role.kind).toBe('role');
    expect(role.name).toBe('flyte-fraud-role');
    expect(role.path).toBe('/');
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte-fraud-role`);
    expect(role.description).toBe('Flyte project fraud (IRSA), managed by flyte-aws-setup');
    expect(role.trust).toEqual(
      irsaTrust(AWS, [sa('fraud-development'), sa('fraud-staging'), sa('fraud-production')], 'StringEquals'),
    );
    expect(role.managedPolicies).toEqual([CUSTOM]);
    expect(role).not.toHaveProperty('boundary');
    expect(role.tags).toEqual(TOOL_TAG);
  });

  it('one role per project, in the order of the config, each with its own domains, name and service account', () => {
    const config = loadConfig(
      'projectRoles:\n  - { project: fraud, domains: [production] }\n  - { project: risk, domains: [development, production], roleName: acme-risk, serviceAccount: tasks }\n',
    );
    const roles = projectRoles.desired(context(config)) as DesiredRole[];
    expect(roles.map((r) => r.name)).toEqual(['flyte-fraud-role', 'acme-risk']);
    // One domain: sub is a single value.
    expect(roles[0]!.trust).toEqual(irsaTrust(AWS, sa('fraud-production'), 'StringEquals'));
    expect(roles[1]!.trust).toEqual(
      irsaTrust(AWS, [sa('risk-development', 'tasks'), sa('risk-production', 'tasks')], 'StringEquals'),
    );
    expect(roles[1]!.description).toBe('Flyte project risk (IRSA), managed by flyte-aws-setup');
  });

  it("userFlyteRolePolicy adds the account's userflyterole policy (at /), before the extras", () => {
    const config = loadConfig(
      'path: /flyte/\nprojectRoles:\n  - project: fraud\n    userFlyteRolePolicy: true\n    extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]\n  - project: risk\n',
    );
    const roles = projectRoles.desired(context(config)) as DesiredRole[];
    expect(roles[0]!.managedPolicies).toEqual([
      `arn:aws:iam::${ACCOUNT}:policy/flyte/flyte-custom-policy`,
      `arn:aws:iam::${ACCOUNT}:policy/userflyterole`,
      'arn:aws:iam::aws:policy/AmazonAthenaFullAccess',
    ]);
    expect(roles[1]!.managedPolicies).toEqual([`arn:aws:iam::${ACCOUNT}:policy/flyte/flyte-custom-policy`]);
    expect(roles[0]!.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte/flyte-fraud-role`);
    expect(roles[0]!.path).toBe('/flyte/');
  });

  it('extras each once; without the custom policy only the extras; boundary and tags from the config', () => {
    const config = loadConfig(
      `customPolicy: false\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\ntags: { team: ml }\nprojectRoles:\n  - project: fraud\n    extraPolicies: [arn:aws:iam::aws:policy/A, arn:aws:iam::aws:policy/A]\n`,
    );
    const [role] = projectRoles.desired(context(config)) as DesiredRole[];
    expect(role!.managedPolicies).toEqual(['arn:aws:iam::aws:policy/A']);
    expect(role!.boundary).toBe('arn:aws:iam::aws:policy/PowerUserAccess');
    expect(role!.tags).toEqual({ team: 'ml', ...TOOL_TAG });
  });

  it.each(PARTITION_CASES)("in $partition: ARNs in the partition, the trust from the region's issuer", (p) => {
    const config = loadConfig(
      `region: ${p.region}\nprojectRoles:\n  - { project: fraud, domains: [production], userFlyteRolePolicy: true }\n`,
    );
    const [role] = projectRoles.desired(context(config, { partition: p })) as DesiredRole[];
    expect(role!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:role/flyte-fraud-role`);
    expect(role!.managedPolicies).toEqual([
      `arn:${p.partition}:iam::${ACCOUNT}:policy/flyte-custom-policy`,
      `arn:${p.partition}:iam::${ACCOUNT}:policy/userflyterole`,
    ]);
    expect(role!.trust).toEqual(irsaTrust(p, sa('fraud-production'), 'StringEquals'));
  });

  it('cannot be described without the issuer', () => {
    const ctx = context(loadConfig(FRAUD), { cluster: { state: 'missing', name: 'acme' } });
    expect(() => projectRoles.desired(ctx)).toThrow('section needs the cluster issuer, but it is not known');
  });

  it('no projects: wants nothing (and does not ask for the issuer)', () => {
    expect(projectRoles.desired(context(loadConfig()))).toEqual([]);
    expect(projectRoles.desired(context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } }))).toEqual([]);
  });
});

describe('projectRoles: on and off', () => {
  it('is on when the config lists a project', () => {
    const never = () => {
      throw new Error('project roles do not ask whether the cluster is needed');
    };
    expect(projectRoles.enabled(loadConfig(FRAUD), never)).toBe(true);
    expect(projectRoles.enabled(loadConfig(), never)).toBe(false);
    expect(projectRoles.enabled(loadConfig('projectRoles: []\n'), never)).toBe(false);
  });

  it('its off text is "no projectRoles": without the key (or with an empty list) it is off', () => {
    expect(projectRoles.off).toBe('no projectRoles');
    expect(sectionEnabled(loadConfig(FRAUD), projectRoles)).toBe(true);
    expect(sectionEnabled(loadConfig(), projectRoles)).toBe(false);
    expect(sectionEnabled(loadConfig('projectRoles: []\n'), projectRoles)).toBe(false);
  });
});

describe('projectRoles: its roles', () => {
  it('names each role where the config names it: roleName when given, else the project it is made from', () => {
    const r = ruleInput('projectRoles:\n  - project: fraud\n  - { project: risk, roleName: acme-risk }\n');
    expect(projectRoles.roles!(r)).toEqual([
      { name: 'flyte-fraud-role', path: ['projectRoles', 0, 'project'] },
      { name: 'acme-risk', path: ['projectRoles', 1, 'roleName'] },
    ]);
  });

  it('a project listed twice names its role once; no projects, no roles', () => {
    const r = ruleInput('projectRoles:\n  - project: fraud\n  - { project: fraud, roleName: other }\n');
    expect(projectRoles.roles!(r)).toEqual([{ name: 'flyte-fraud-role', path: ['projectRoles', 0, 'project'] }]);
    expect(projectRoles.roles!(ruleInputOf(loadConfig()))).toEqual([]);
  });

  it('skips an entry that failed the schema', () => {
    const r = ruleInput('projectRoles:\n  - project: fraud\n  - project: risk\n');
    expect(projectRoles.roles!({ ...r, projects: [undefined, r.projects[1]] })).toEqual([
      { name: 'flyte-risk-role', path: ['projectRoles', 1, 'project'] },
    ]);
  });
});

describe('projectRoles: rule "a project listed once"', () => {
  const rule = ruleOf(projectRoles, 'projectRoles: a project listed once');

  it('each later entry of a project is a problem that names the first', () => {
    const yaml =
      'projectRoles:\n  - project: fraud\n  - project: risk\n  - { project: fraud, domains: [production] }\n  - project: fraud\n';
    const expected = [2, 3].map((i) => ({
      path: ['projectRoles', i, 'project'],
      message: 'project "fraud" is listed twice (also projectRoles[0]); list all its domains in one entry',
    }));
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('different projects, or entries that failed the schema: none', () => {
    expect(rule.check(ruleInput('projectRoles: [{ project: fraud }, { project: risk }]\n'))).toEqual([]);
    const r = ruleInput('projectRoles: [{ project: fraud }, { project: fraud }]\n');
    expect(rule.check({ ...r, projects: [undefined, r.projects[1]] })).toEqual([]);
    expect(rule.check(ruleInput())).toEqual([]);
  });
});

describe('projectRoles: rule "the default role name is a valid role name"', () => {
  const rule = ruleOf(projectRoles, 'projectRoles: the default role name is a valid role name');

  it('flyte-<project>-role over 64 characters is a problem at the project', () => {
    const long = 'a'.repeat(54);
    const yaml = `projectRoles:\n  - { project: ${long}, domains: [d] }\n`;
    const expected = [
      {
        path: ['projectRoles', 0, 'project'],
        message: `the role name made from it, "flyte-${long}-role", must be 1 to 64 characters, not 65; set a shorter roleName`,
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('64 characters fit; a roleName of its own makes the project name not matter; a repeated entry is left to its rule', () => {
    expect(rule.check(ruleInput(`projectRoles: [{ project: ${'a'.repeat(53)}, domains: [d] }]\n`))).toEqual([]);
    expect(
      rule.check(ruleInput(`projectRoles: [{ project: ${'a'.repeat(60)}, domains: [d], roleName: short }]\n`)),
    ).toEqual([]);
    const long = 'a'.repeat(60);
    expect(
      rule.check(ruleInput(`projectRoles: [{ project: ${long}, domains: [d] }, { project: ${long}, domains: [d] }]\n`)),
    ).toHaveLength(1);
  });
});

describe(`projectRoles: rule "each namespace valid, once, and not Flyte's own"`, () => {
  const rule = ruleOf(projectRoles, "projectRoles: each namespace valid, once, and not Flyte's own");

  it('a domain listed twice is a problem at the second', () => {
    const yaml = 'projectRoles:\n  - { project: fraud, domains: [development, production, development] }\n';
    const expected = [{ path: ['projectRoles', 0, 'domains', 2], message: 'domain "development" is listed twice' }];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('<project>-<domain> longer than a DNS label is a problem at the domain', () => {
    const long = 'p'.repeat(55);
    const yaml = `projectRoles:\n  - { project: ${long}, domains: [development], roleName: short }\n`;
    const expected = [
      {
        path: ['projectRoles', 0, 'domains', 0],
        message: `the namespace "${long}-development" must be 1 to 63 characters, not 67`,
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
    // 63 characters fit.
    expect(
      rule.check(ruleInput(`projectRoles: [{ project: ${'p'.repeat(51)}, domains: [development], roleName: r }]\n`)),
    ).toEqual([]);
  });

  it('two projects that make the same namespace: a problem at the later domain, naming the first', () => {
    const yaml =
      'projectRoles:\n  - { project: fraud, domains: [ml-prod] }\n  - { project: fraud-ml, domains: [prod] }\n';
    const expected = [
      {
        path: ['projectRoles', 1, 'domains', 0],
        message:
          'the namespace "fraud-ml-prod" is also that of projectRoles[0] (project fraud, domain ml-prod): two roles would trust the same pods; rename a project or domain',
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it("a project namespace that is Flyte's own is a problem at its domain", () => {
    const yaml = 'namespace: flyte-system\nprojectRoles:\n  - { project: flyte, domains: [development, system] }\n';
    const expected = [
      {
        path: ['projectRoles', 0, 'domains', 1],
        message:
          'the namespace "flyte-system" is Flyte\'s own (namespace: flyte-system); a project\'s tasks need their own namespace',
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('distinct namespaces, or a project listed twice (reported by its own rule): none', () => {
    expect(rule.check(ruleInput('projectRoles: [{ project: fraud }, { project: risk }]\n'))).toEqual([]);
    expect(rule.check(ruleInput('projectRoles: [{ project: fraud }, { project: fraud }]\n'))).toEqual([]);
    // Flyte's own namespace is "flyte" by default; the project flyte's namespaces are flyte-<domain>.
    expect(rule.check(ruleInput('projectRoles: [{ project: flyte }]\n'))).toEqual([]);
  });
});

describe('projectRoles: rule "trust policy within the size limit"', () => {
  const rule = ruleOf(projectRoles, 'projectRoles: trust policy within the size limit');
  const domains = (count: number) => `[${Array.from({ length: count }, (_, i) => `domain-number-${i}`).join(', ')}]`;
  const MESSAGE =
    /^the trust policy for 30 namespaces would be about (\d+) characters; IAM allows 2048 by default\. Use fewer domains or shorter names, or have the "Role trust policy length" quota raised and split the project into its own config$/;

  it('too many domains: a problem at the domains of that project, with the size', () => {
    const yaml = `projectRoles:\n  - project: small\n  - project: bigproject\n    domains: ${domains(30)}\n`;
    const problems = rule.check(ruleInput(yaml));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toEqual(['projectRoles', 1, 'domains']);
    expect(Number(MESSAGE.exec(problems[0]!.message)?.[1])).toBeGreaterThan(2048);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(problems);
  });

  it("the size it reports is that of the trust the section wants, for a real issuer's length", () => {
    const yaml = `region: eu-west-1\nprojectRoles:\n  - project: bigproject\n    domains: ${domains(30)}\n`;
    const [problem] = rule.check(ruleInput(yaml));
    const [role] = projectRoles.desired(context(ruleInput(yaml).config)) as DesiredRole[];
    expect(Number(MESSAGE.exec(problem!.message)?.[1])).toBe(JSON.stringify(role!.trust).length);
  });

  it('15 domains fit', () => {
    expect(rule.check(ruleInput(`projectRoles: [{ project: bigproject, domains: ${domains(15)} }]\n`))).toEqual([]);
  });
});

describe('projectRoles: rule "extraPolicies in the partition of the region"', () => {
  const rule = ruleOf(projectRoles, 'projectRoles.extraPolicies in the partition of the region');

  it("an extra policy of another partition than the region is a problem at its project's index", () => {
    const yaml =
      'region: cn-north-1\nprojectRoles:\n  - project: fraud\n  - { project: risk, extraPolicies: [arn:aws-cn:iam::aws:policy/A, arn:aws:iam::aws:policy/B] }\n';
    const expected = [
      {
        path: ['projectRoles', 1, 'extraPolicies', 1],
        message: 'is in partition aws, but region cn-north-1 is in aws-cn',
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('in the partition of the region, or no region: none', () => {
    expect(
      rule.check(
        ruleInput(
          'region: cn-north-1\nprojectRoles: [{ project: a, extraPolicies: [arn:aws-cn:iam::aws:policy/A] }]\n',
        ),
      ),
    ).toEqual([]);
    expect(
      rule.check(ruleInput('projectRoles: [{ project: a, extraPolicies: [arn:aws-us-gov:iam::aws:policy/A] }]\n')),
    ).toEqual([]);
  });
});
