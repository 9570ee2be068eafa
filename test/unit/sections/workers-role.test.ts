/** Section 6, the role of the task pods: IRSA for `default` in every namespace, or in a list of namespaces. */
import { describe, expect, it } from 'vitest';
import type { DesiredRole } from '../../../src/model.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { ruleInputOf } from '../../../src/sections/section.js';
import { workersRole, workersSubjects } from '../../../src/sections/workers-role.js';
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
/** `count` namespaces as a YAML flow list. */
const namespaces = (count: number) =>
  `[${Array.from({ length: count }, (_, i) => `team-namespace-${String(i).padStart(3, '0')}`).join(', ')}]`;

describe('workersRole: what it is', () => {
  it('an IRSA role: needs the cluster, after the OIDC provider and the custom policy', () => {
    expect(workersRole.id).toBe('workersRole');
    expect(workersRole.needsCluster).toBe(true);
    expect(workersRole.identity).toBe('irsa');
    expect(workersRole.dependsOn).toEqual(['oidcProvider', 'customPolicy']);
    expect(workersRole.rules!.map((r) => r.name)).toEqual([
      'workersRole.extraPolicies in the partition of the region',
      'workersRole.namespaces only with allNamespaces: false',
      'workersRole trust policy within the size limit',
    ]);
    expect(workersRole.notes).toBeUndefined();
    expect(workersRole.skipReason).toBeUndefined();
  });
});

describe('workersRole: which service accounts it trusts', () => {
  const workers = { name: 'w', serviceAccount: 'default', extraPolicies: [] };

  it('every namespace: one subject with * for the namespace', () => {
    expect(workersSubjects('flyte', { ...workers, allNamespaces: true, namespaces: ['ignored'] })).toEqual([sa('*')]);
  });

  it("a list: Flyte's namespace first, then the listed ones, each once", () => {
    expect(
      workersSubjects('flyte', { ...workers, allNamespaces: false, namespaces: ['a', 'flyte', 'b', 'a'] }),
    ).toEqual([sa('flyte'), sa('a'), sa('b')]);
    expect(
      workersSubjects('flyte', { ...workers, serviceAccount: 'tasks', allNamespaces: false, namespaces: [] }),
    ).toEqual([sa('flyte', 'tasks')]);
  });
});

describe('workersRole: what it wants', () => {
  it('by default, flyte-workers-role trusting default in every namespace (sub under StringLike), with the custom policy', () => {
    const resources = workersRole.desired(context(loadConfig()));
    expect(resources).toHaveLength(1);
    const role = resources[0] as DesiredRole;
    expect(role.kind).toBe('role');
    expect(role.name).toBe('flyte-workers-role');
    expect(role.path).toBe('/');
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`);
    expect(role.description).toBe('Flyte task pods (IRSA), managed by flyte-aws-setup');
    // aud stays under StringEquals when sub is widened to StringLike.
    expect(role.trust).toEqual(irsaTrust(AWS, 'system:serviceaccount:*:default', 'StringLike'));
    expect(role.managedPolicies).toEqual([CUSTOM]);
    expect(role).not.toHaveProperty('boundary');
    expect(role.tags).toEqual(TOOL_TAG);
  });

  it('allNamespaces: false trusts the Flyte namespace alone, sub under StringEquals', () => {
    const [role] = workersRole.desired(context(loadConfig('workersRole: { allNamespaces: false }\n'))) as DesiredRole[];
    expect(role!.trust).toEqual(irsaTrust(AWS, 'system:serviceaccount:flyte:default', 'StringEquals'));
  });

  it('allNamespaces: false with namespaces lists every subject under one sub key', () => {
    const config = loadConfig(
      'namespace: flyte-prod\nworkersRole:\n  serviceAccount: tasks\n  allNamespaces: false\n  namespaces: [team-a, team-b]\n',
    );
    const [role] = workersRole.desired(context(config)) as DesiredRole[];
    expect(role!.trust).toEqual(
      irsaTrust(AWS, [sa('flyte-prod', 'tasks'), sa('team-a', 'tasks'), sa('team-b', 'tasks')], 'StringEquals'),
    );
  });

  it('every namespace for another service account: still StringLike', () => {
    const [role] = workersRole.desired(
      context(loadConfig('workersRole: { serviceAccount: tasks }\n')),
    ) as DesiredRole[];
    expect(role!.trust).toEqual(irsaTrust(AWS, 'system:serviceaccount:*:tasks', 'StringLike'));
  });

  it('name, extra policies (after the custom policy, each once), path, boundary and tags from the config', () => {
    const config = loadConfig(
      `path: /flyte/\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\ntags: { team: ml }\nworkersRole:\n  name: acme-tasks\n  extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess, arn:aws:iam::aws:policy/AmazonAthenaFullAccess]\n`,
    );
    const [role] = workersRole.desired(context(config)) as DesiredRole[];
    expect(role!.name).toBe('acme-tasks');
    expect(role!.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte/acme-tasks`);
    expect(role!.path).toBe('/flyte/');
    expect(role!.managedPolicies).toEqual([
      `arn:aws:iam::${ACCOUNT}:policy/flyte/flyte-custom-policy`,
      'arn:aws:iam::aws:policy/AmazonAthenaFullAccess',
    ]);
    expect(role!.boundary).toBe('arn:aws:iam::aws:policy/PowerUserAccess');
    expect(role!.tags).toEqual({ team: 'ml', ...TOOL_TAG });
  });

  it('without the custom policy, carries only its extras', () => {
    const [role] = workersRole.desired(context(loadConfig('customPolicy: false\n'))) as DesiredRole[];
    expect(role!.managedPolicies).toEqual([]);
  });

  it.each(PARTITION_CASES)("in $partition: ARNs in the partition, the trust from the region's issuer", (p) => {
    const [role] = workersRole.desired(context(loadConfig(`region: ${p.region}\n`), { partition: p })) as DesiredRole[];
    expect(role!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:role/flyte-workers-role`);
    expect(role!.managedPolicies).toEqual([`arn:${p.partition}:iam::${ACCOUNT}:policy/flyte-custom-policy`]);
    expect(role!.trust).toEqual(irsaTrust(p, 'system:serviceaccount:*:default', 'StringLike'));
  });

  it('cannot be described without the issuer', () => {
    const ctx = context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } });
    expect(() => workersRole.desired(ctx)).toThrow('section needs the cluster issuer, but it is not known');
  });

  it('turned off, wants nothing', () => {
    expect(workersRole.desired(context(loadConfig('workersRole: false\n')))).toEqual([]);
  });
});

describe('workersRole: on and off', () => {
  it('is on unless the config says workersRole: false', () => {
    const never = () => {
      throw new Error('the workers role does not ask whether the cluster is needed');
    };
    expect(workersRole.enabled(loadConfig(), never)).toBe(true);
    expect(workersRole.enabled(loadConfig('workersRole: { allNamespaces: false }\n'), never)).toBe(true);
    expect(workersRole.enabled(loadConfig('workersRole: false\n'), never)).toBe(false);
  });

  it('its off text, written in the config, turns it off', () => {
    expect(workersRole.off).toBe('workersRole: false');
    expect(sectionEnabled(loadConfig(), workersRole)).toBe(true);
    expect(sectionEnabled(loadConfig(`${workersRole.off}\n`), workersRole)).toBe(false);
  });
});

describe('workersRole: its roles', () => {
  it('names its role at workersRole.name, and none when off', () => {
    expect(workersRole.roles!(ruleInput('workersRole: { name: acme-tasks }\n'))).toEqual([
      { name: 'acme-tasks', path: ['workersRole', 'name'] },
    ]);
    expect(workersRole.roles!(ruleInputOf(loadConfig()))).toEqual([
      { name: 'flyte-workers-role', path: ['workersRole', 'name'] },
    ]);
    expect(workersRole.roles!(ruleInputOf(loadConfig('workersRole: false\n')))).toEqual([]);
  });
});

describe('workersRole: rule "extraPolicies in the partition of the region"', () => {
  const rule = ruleOf(workersRole, 'workersRole.extraPolicies in the partition of the region');

  it('an extra policy of another partition than the region is a problem at its index', () => {
    const yaml = 'region: us-gov-west-1\nworkersRole: { extraPolicies: [arn:aws:iam::111122223333:policy/tasks] }\n';
    const expected = [
      {
        path: ['workersRole', 'extraPolicies', 0],
        message: 'is in partition aws, but region us-gov-west-1 is in aws-us-gov',
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('in the partition of the region, or no region, or the section off: none', () => {
    expect(
      rule.check(ruleInput('region: cn-north-1\nworkersRole: { extraPolicies: [arn:aws-cn:iam::aws:policy/X] }\n')),
    ).toEqual([]);
    expect(rule.check(ruleInput('workersRole: { extraPolicies: [arn:aws-cn:iam::aws:policy/X] }\n'))).toEqual([]);
    expect(rule.check(ruleInput('region: cn-north-1\nworkersRole: false\n'))).toEqual([]);
  });
});

describe('workersRole: rule "namespaces only with allNamespaces: false"', () => {
  const rule = ruleOf(workersRole, 'workersRole.namespaces only with allNamespaces: false');
  const expected = [
    {
      path: ['workersRole', 'namespaces'],
      message: 'only applies with allNamespaces: false (allNamespaces: true already trusts every namespace)',
    },
  ];

  it.each([
    ['allNamespaces left at its default', 'workersRole: { namespaces: [team-a] }\n'],
    ['allNamespaces: true', 'workersRole: { allNamespaces: true, namespaces: [team-a] }\n'],
    ['an empty list', 'workersRole: { namespaces: [] }\n'],
  ])('namespaces with %s: a problem at workersRole.namespaces', (_name, yaml) => {
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('namespaces with allNamespaces: false, or no namespaces, or the section off: none', () => {
    expect(rule.check(ruleInput('workersRole: { allNamespaces: false, namespaces: [team-a] }\n'))).toEqual([]);
    expect(rule.check(ruleInput('workersRole: { allNamespaces: true }\n'))).toEqual([]);
    expect(rule.check(ruleInput('workersRole: true\n'))).toEqual([]);
    expect(rule.check(ruleInput('workersRole: false\n'))).toEqual([]);
    expect(rule.check(ruleInput())).toEqual([]);
  });
});

describe('workersRole: rule "trust policy within the size limit"', () => {
  const rule = ruleOf(workersRole, 'workersRole trust policy within the size limit');
  const MESSAGE =
    /^the trust policy for these namespaces would be about (\d+) characters; IAM allows 2048 by default\. Trust fewer namespaces or use allNamespaces: true$/;

  it('too many namespaces: one problem at workersRole.namespaces, with the size', () => {
    const yaml = `workersRole: { allNamespaces: false, namespaces: ${namespaces(80)} }\n`;
    const problems = rule.check(ruleInput(yaml));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toEqual(['workersRole', 'namespaces']);
    const size = Number(MESSAGE.exec(problems[0]!.message)?.[1]);
    expect(size).toBeGreaterThan(2048);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(problems);
  });

  it("the size it reports is that of the trust the section wants, for a real issuer's length", () => {
    // The rule sizes the trust before the cluster is known; an issuer ID and account are as long as the real ones.
    const yaml = `region: eu-west-1\nworkersRole: { allNamespaces: false, namespaces: ${namespaces(60)} }\n`;
    const [problem] = rule.check(ruleInput(yaml));
    const [role] = workersRole.desired(context(ruleInput(yaml).config)) as DesiredRole[];
    expect(Number(MESSAGE.exec(problem!.message)?.[1])).toBe(JSON.stringify(role!.trust).length);
  });

  it('a few namespaces, every namespace (whatever the list), or the section off: none', () => {
    expect(rule.check(ruleInput(`workersRole: { allNamespaces: false, namespaces: ${namespaces(5)} }\n`))).toEqual([]);
    expect(rule.check(ruleInput(`workersRole: { namespaces: ${namespaces(80)} }\n`))).toEqual([]);
    expect(rule.check(ruleInput('workersRole: false\n'))).toEqual([]);
    expect(rule.check(ruleInput())).toEqual([]);
  });
});
