import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText, validateConfig } from '../../src/load/config.js';
import * as rules from '../../src/config/rules.js';
import { ConfigError, formatProblem, type Problem } from '../../src/errors.js';

const MIN = 'cluster: acme\nbucket: acme-flyte-data\n';

function problems(text: string, overrides = {}): Problem[] {
  try {
    parseConfigText(text, 'test.yaml', overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

function messages(text: string, overrides = {}): string[] {
  return problems(text, overrides).map(formatProblem);
}

describe('config defaults', () => {
  it("fills in the documents' names when only cluster and bucket are given", () => {
    const c = parseConfigText(MIN);
    expect(c).toEqual({
      cluster: 'acme',
      clusters: [{ name: 'acme' }],
      bucket: 'acme-flyte-data',
      setup: 'acme',
      namespace: 'flyte',
      target: 'flyte-binary',
      identity: 'irsa',
      tags: {},
      path: '/',
      clusterRole: { name: 'flyte-eks-cluster-role' },
      nodeRole: { name: 'flyte-eks-node-role' },
      oidcProvider: true,
      customPolicy: { name: 'flyte-custom-policy' },
      systemRole: { name: 'flyte-system-role', serviceAccount: 'flyte-backend-flyte-binary', extraPolicies: [] },
      workersRole: {
        name: 'flyte-workers-role',
        serviceAccount: 'default',
        allNamespaces: true,
        namespaces: [],
        extraPolicies: [],
      },
      projectRoles: [],
      globalAccess: false,
      grants: [],
      vpcDns: 'check',
    });
  });

  it("the setup's name: as given, else the cluster's, else the bucket's", () => {
    expect(parseConfigText(`${MIN}setup: acme-prod\n`).setup).toBe('acme-prod');
    expect(parseConfigText(MIN).setup).toBe('acme');
    const noCluster = parseConfigText(
      'bucket: acme-flyte-data\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\nvpcDns: off\n',
    );
    expect(noCluster.setup).toBe('acme-flyte-data');
  });

  it('project roles default to the three Flyte domains and flyte-<project>-role', () => {
    const c = parseConfigText(`${MIN}projectRoles:\n  - project: fraud\n`);
    expect(c.projectRoles).toEqual([
      {
        project: 'fraud',
        domains: ['development', 'staging', 'production'],
        roleName: 'flyte-fraud-role',
        serviceAccount: 'default',
        extraPolicies: [],
        userFlyteRolePolicy: false,
      },
    ]);
  });

  it('false skips a section; true takes its defaults; cluster is not needed for the first two alone', () => {
    const c = parseConfigText(
      'bucket: b-bucket\nclusterRole: true\nnodeRole: { name: n }\noidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n',
    );
    expect(c.clusterRole).toEqual({ name: 'flyte-eks-cluster-role' });
    expect(c.nodeRole).toEqual({ name: 'n' });
    expect(c.customPolicy).toBe(false);
    expect(c.cluster).toBeUndefined();
  });

  it('reads JSON as well as YAML', () => {
    expect(parseConfigText('{"cluster": "acme", "bucket": "acme-flyte-data", "region": "eu-west-1"}').region).toBe(
      'eu-west-1',
    );
  });

  it("command-line values take the place of the file's, and are checked the same way", () => {
    expect(parseConfigText(`${MIN}region: eu-west-1\n`, 'f', { region: 'us-east-2' }).region).toBe('us-east-2');
    expect(messages(MIN, { region: 'mars' })).toEqual([
      '--region: must be an AWS region code such as eu-west-1 (got "mars")',
    ]);
  });
});

describe('several clusters', () => {
  it('a single name stays the one cluster, as before', () => {
    const c = parseConfigText(MIN);
    expect(c.cluster).toBe('acme');
    expect(c.clusters).toEqual([{ name: 'acme' }]);
  });

  it("takes a list of names and { name, region }; the first names the setup; the config's region is left out", () => {
    const c = parseConfigText(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster:\n  - blue\n  - { name: green, region: us-east-2 }\n  - { name: west, region: eu-west-1 }\n',
    );
    expect(c.clusters).toEqual([{ name: 'blue' }, { name: 'green', region: 'us-east-2' }, { name: 'west' }]);
    expect(c.cluster).toBe('blue');
    expect(c.setup).toBe('blue');
  });

  it.each([
    [
      'an empty list',
      `bucket: acme-flyte-data\ncluster: []\n`,
      /^line 2, column 1: cluster: must not be an empty list$/,
    ],
    [
      'a bad name in the list',
      `bucket: acme-flyte-data\ncluster: [a, -b]\n`,
      /cluster\[1\]: must start with a letter or digit/,
    ],
    [
      'a bad region',
      `bucket: acme-flyte-data\ncluster: [a, { name: b, region: mars }]\n`,
      /cluster\[1\]\.region: must be an AWS region code/,
    ],
    [
      'an unknown key',
      `bucket: acme-flyte-data\ncluster: [a, { name: b, zone: x }]\n`,
      /cluster\[1\]\.zone: unknown key; allowed here: name, region$/,
    ],
    [
      'a number',
      `bucket: acme-flyte-data\ncluster: 5\n`,
      /cluster: must be an EKS cluster name, or a list of them \(a name, or a mapping with name, region, for each\); not the number 5/,
    ],
    [
      'a name twice',
      `bucket: acme-flyte-data\ncluster: [a, b, a]\n`,
      /cluster\[2\]: names the cluster a again \(as cluster\[0\]\): give each cluster once/,
    ],
    [
      "a name twice, once with the config's region",
      `region: eu-west-1\nbucket: acme-flyte-data\ncluster: [a, { name: a, region: eu-west-1 }]\n`,
      /cluster\[1\]: names the cluster a in eu-west-1 again \(as cluster\[0\]\)/,
    ],
    [
      'a cluster in another partition',
      `region: eu-west-1\nbucket: acme-flyte-data\ncluster: [a, { name: b, region: cn-north-1 }]\n`,
      /cluster\[1\]\.region: is in partition aws-cn, but region eu-west-1 is in aws/,
    ],
  ])('refuses %s', (_what, text, expected) => {
    const all = messages(text);
    expect(
      all.some((m) => expected.test(m)),
      all.join('\n'),
    ).toBe(true);
  });

  it('the same name in two regions is two clusters', () => {
    const c = parseConfigText(
      'region: eu-west-1\nbucket: acme-flyte-data\ncluster: [a, { name: a, region: us-east-2 }]\n',
    );
    expect(c.clusters).toEqual([{ name: 'a' }, { name: 'a', region: 'us-east-2' }]);
  });
});

describe('the config reference (docs/config.md)', () => {
  it('is a valid config, with the keys it documents', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../docs/config.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The reference example'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const config = parseConfigText(yaml);
    expect(config.cluster).toBe('acme-ml');
    expect(config.projectRoles[0]!.roleName).toBe('flyte-fraud-role');
    expect(config.globalAccess).toEqual({ role: 'acme-userflyterole' });
  });
});

describe('bad config: every problem at once, with key path and position', () => {
  it.each<[string, string, RegExp]>([
    [
      'a wrong type',
      `${MIN}oidcProvider: "yes"\n`,
      /line 3, column 1: oidcProvider: must be true or false, not the string "yes"/,
    ],
    ['a number for a string', `${MIN}namespace: 5\n`, /namespace: must be a string, not the number 5/],
    [
      'an unknown key with a close one',
      `${MIN}permissionBoundary: arn:aws:iam::aws:policy/X\n`,
      /permissionBoundary: unknown key; did you mean "permissionsBoundary"\?/,
    ],
    ['an unknown key with none close', `${MIN}colour: blue\n`, /colour: unknown key; allowed here: region, profile/],
    [
      'an unknown key in a section',
      `${MIN}systemRole: { serviceaccount: x }\n`,
      /systemRole.serviceaccount: unknown key; did you mean "serviceAccount"\?/,
    ],
    [
      'an unknown key in a project entry',
      `${MIN}projectRoles:\n  - project: p\n    domain: [a]\n`,
      /projectRoles\[0\].domain: unknown key; did you mean "domains"\?/,
    ],
    [
      'an unknown key with two letters swapped',
      `${MIN}systemRole: { nmae: x }\n`,
      /systemRole.nmae: unknown key; did you mean "name"\?/,
    ],
    [
      'an account ID without quotes (YAML makes it a number, without its leading zero)',
      `${MIN}accountId: 012345678901\n`,
      /accountId: must be a string, not the number 12345678901: put the 12 digits in quotes, as in '012345678901'/,
    ],
    [
      'a section that is neither',
      `${MIN}workersRole: 3\n`,
      /workersRole: must be true, false \(to skip this section\) or a mapping/,
    ],
    [
      'a role name too long',
      `${MIN}systemRole: { name: ${'r'.repeat(65)} }\n`,
      /systemRole.name: must be 1 to 64 characters, not 65/,
    ],
    [
      'a role name with a space',
      `${MIN}nodeRole: { name: "my role" }\n`,
      /nodeRole.name: may only hold letters, digits and \+ = , \. @ _ -/,
    ],
    [
      'a policy name too long',
      `${MIN}customPolicy: { name: ${'p'.repeat(129)} }\n`,
      /customPolicy.name: must be 1 to 128 characters/,
    ],
    ['a bucket with capitals', 'cluster: c\nbucket: My_Bucket\n', /bucket: may only hold lower-case letters/],
    ['a bucket like an IP address', 'cluster: c\nbucket: 192.168.1.1\n', /must not look like an IP address/],
    ['a bucket too short', 'cluster: c\nbucket: ab\n', /bucket: must be 3 to 63 characters, not 2/],
    ['a bucket with two dots', 'cluster: c\nbucket: a..b\n', /two dots/],
    ['a bad region', `${MIN}region: europe\n`, /region: must be an AWS region code/],
    ['a bad cluster name', 'cluster: -acme\nbucket: acme-flyte-data\n', /cluster: must start with a letter or digit/],
    [
      'a policy ARN that is a role',
      `${MIN}permissionsBoundary: arn:aws:iam::123456789012:role/x\n`,
      /permissionsBoundary: must be a managed policy ARN/,
    ],
    [
      'an extra policy that is a name',
      `${MIN}systemRole: { extraPolicies: [AmazonS3ReadOnlyAccess] }\n`,
      /systemRole.extraPolicies\[0\]: must be a managed policy ARN/,
    ],
    ['a path without slashes', `${MIN}path: flyte\n`, /path: must start and end with "\/"/],
    ['a path with an empty segment', `${MIN}path: /a//b/\n`, /empty segment/],
    ['a namespace in capitals', `${MIN}namespace: Flyte\n`, /namespace: must be a DNS label/],
    [
      'a service account with _',
      `${MIN}systemRole: { serviceAccount: flyte_backend }\n`,
      /systemRole.serviceAccount: must be a DNS subdomain/,
    ],
    [
      'a project that is not a DNS label',
      `${MIN}projectRoles:\n  - project: Fraud\n`,
      /projectRoles\[0\].project: must be a DNS label/,
    ],
    [
      'no domains',
      `${MIN}projectRoles:\n  - project: p\n    domains: []\n`,
      /projectRoles\[0\].domains: must not be an empty list/,
    ],
    ['a missing bucket', 'cluster: c\n', /bucket: is required/],
    [
      'a missing cluster',
      'bucket: acme-flyte-data\n',
      /cluster: is required by OIDC identity provider, S3 policy for the Flyte bucket, Flyte backend role, Flyte workers role, Cluster VPC DNS \(.*turn those off: oidcProvider: false, .*vpcDns: off\)/,
    ],
    ['an accountId that is not 12 digits', `${MIN}accountId: "1234"\n`, /accountId: must be a 12-digit AWS account ID/],
    [
      'an ARN in another partition',
      `${MIN}region: cn-north-1\npermissionsBoundary: arn:aws:iam::aws:policy/X\n`,
      /permissionsBoundary: is in partition aws, but region cn-north-1 is in aws-cn/,
    ],
    ["the tool's own tag", `${MIN}tags: { managed-by: me }\n`, /tags.managed-by: is the tool's own tag/],
    [
      "a key of the tool's records",
      `${MIN}tags: { "flyte-aws-setup:setup": x }\n`,
      /tags.flyte-aws-setup:setup: tag keys that start with flyte-aws-setup: are the tool's own records/,
    ],
    ['a setup name with a space', `${MIN}setup: "my setup"\n`, /setup: may only hold letters, digits and/],
    ['a reserved tag prefix', `${MIN}tags: { "aws:team": x }\n`, /must not start with "aws:"/],
    [
      'a tag value that is too long',
      `${MIN}tags: { t: ${'v'.repeat(257)} }\n`,
      /tag values must be at most 256 characters/,
    ],
    ['a tag value of another type', `${MIN}tags: { t: 5 }\n`, /tags.t: must be a string, not the number 5/],
    [
      'namespaces with allNamespaces: true',
      `${MIN}workersRole: { namespaces: [a] }\n`,
      /workersRole.namespaces: only applies with allNamespaces: false/,
    ],
  ])('%s', (_name, text, expected) => {
    expect(messages(text).join('\n')).toMatch(expected);
  });

  it('too many tags: the tool keeps five of the 50 for its own', () => {
    const tags = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])));
    expect(messages(`${MIN}tags: ${tags(46)}\n`).join()).toBe(
      'line 3, column 1: tags: at most 45 tags (IAM allows 50 per resource, and the tool keeps 5 for its own: ' +
        'managed-by, ' +
        'flyte-aws-setup:setup and up to three flyte-aws-setup:attached); got 46',
    );
    expect(parseConfigText(`${MIN}tags: ${tags(45)}\n`).tags).toHaveProperty('k44');
  });

  it('a project listed twice, a domain listed twice, a role name used twice', () => {
    const text = `${MIN}projectRoles:
  - project: fraud
    domains: [development, development]
  - project: fraud
  - project: other
    roleName: flyte-workers-role
`;
    const all = messages(text).join('\n');
    expect(all).toMatch(
      /line 6, column 5: projectRoles\[1\].project: project "fraud" is listed twice \(also projectRoles\[0\]\)/,
    );
    expect(all).toMatch(/projectRoles\[0\].domains\[1\]: domain "development" is listed twice/);
    expect(all).toMatch(
      /projectRoles\[2\].roleName: role name "flyte-workers-role" is already used by workersRole.name/,
    );
  });

  it("two projects that make the same namespace, or a project namespace that is Flyte's own", () => {
    const same = messages(
      `${MIN}projectRoles:\n  - { project: fraud, domains: [ml-prod] }\n  - { project: fraud-ml, domains: [prod] }\n`,
    );
    expect(same.join()).toMatch(
      /projectRoles\[1\].domains\[0\]: the namespace "fraud-ml-prod" is also that of projectRoles\[0\] \(project fraud, domain ml-prod\): two roles would trust the same pods/,
    );
    const own = messages(`${MIN}namespace: flyte-system\nprojectRoles: [{ project: flyte, domains: [system] }]\n`);
    expect(own.join()).toMatch(/projectRoles\[0\].domains\[0\]: the namespace "flyte-system" is Flyte's own/);
  });

  it('a default project role name that collides counts too', () => {
    expect(
      messages(`${MIN}systemRole: { name: flyte-fraud-role }\nprojectRoles:\n  - project: fraud\n`).join(),
    ).toMatch(/projectRoles\[0\].project: role name "flyte-fraud-role" is already used by systemRole.name/);
  });

  it('<project>-<domain> must be a DNS label of at most 63 characters', () => {
    expect(() =>
      parseConfigText(`${MIN}projectRoles:\n  - project: ${'p'.repeat(51)}\n    domains: [development]\n`),
    ).not.toThrow();
    const longer = 'p'.repeat(55);
    expect(messages(`${MIN}projectRoles:\n  - project: ${longer}\n    domains: [development]\n`).join()).toMatch(
      /the namespace "p{55}-development" must be 1 to 63 characters, not 67/,
    );
  });

  it('a trust policy over 2,048 characters is caught before any AWS call', () => {
    const domains = Array.from({ length: 30 }, (_, i) => `domain-number-${i}`);
    const all = messages(`${MIN}projectRoles:\n  - project: bigproject\n    domains: [${domains.join(', ')}]\n`).join();
    expect(all).toMatch(
      /line 5, column 5: projectRoles\[0\].domains: the trust policy for 30 namespaces would be about \d+ characters; IAM allows 2048/,
    );
    // 15 domains fit.
    expect(() =>
      parseConfigText(
        `${MIN}projectRoles:\n  - project: bigproject\n    domains: [${domains.slice(0, 15).join(', ')}]\n`,
      ),
    ).not.toThrow();
  });

  it('lists type errors and rules between keys together', () => {
    const all = messages(`cluster: acme\nbucket: 5\nprojectRoles:\n  - project: a\n  - project: a\n`);
    expect(all.some((m) => m.includes('bucket: must be a string'))).toBe(true);
    expect(all.some((m) => m.includes('is listed twice'))).toBe(true);
  });

  it('YAML syntax errors come with line and column', () => {
    const [p] = problems('cluster: acme\nbucket: [unclosed\n');
    expect(p!.line).toBeGreaterThanOrEqual(2);
    expect(p!.col).toBeGreaterThanOrEqual(1);
    expect(p!.message).toMatch(/not valid YAML/);
    expect(messages('a: 1\na: 2\n').join()).toMatch(/not valid YAML: the key "a" appears twice in the same mapping/);
    expect(messages(`${MIN}---\nx: 1\n`).join()).toMatch(/the file holds more than one document/);
    // The library's own wording (and its "at line" tail, given as the position instead) is not shown.
    expect(messages('cluster: acme\nbucket: [unclosed\n').join()).not.toMatch(/ at line \d+/);
  });

  it('aliases that expand without bound are bad input, not a crash', () => {
    const levels = ['a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]'];
    for (const [prev, next] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ]) {
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const [m] = messages(`${MIN}${levels.join('\n')}\n`);
    expect(m).toMatch(/not valid as a config: Excessive alias count/);
  });

  it('a project whose default role name would be too long says so under the project', () => {
    const long = 'a'.repeat(55);
    expect(messages(`${MIN}projectRoles:\n  - { project: ${long}, domains: [d] }\n`).join()).toMatch(
      new RegExp(
        `projectRoles\\[0\\].project: the role name made from it, "flyte-${long}-role", must be 1 to 64 characters, not 66; set a shorter roleName`,
      ),
    );
    // With a roleName of its own, the project name's length does not matter.
    expect(
      parseConfigText(`${MIN}projectRoles:\n  - { project: ${long}, domains: [d], roleName: short }\n`).projectRoles[0]!
        .roleName,
    ).toBe('short');
  });

  it('a bad namespace under allNamespaces: false is one problem, not also "only applies with allNamespaces: false"', () => {
    expect(messages(`${MIN}workersRole: { allNamespaces: false, namespaces: [UPPER] }\n`)).toEqual([
      expect.stringMatching(/workersRole.namespaces\[0\]: must be a DNS label/),
    ]);
  });

  it('an empty file, a file that is not a mapping', () => {
    expect(messages('')).toEqual(['the file is empty: it needs at least `bucket:` (and `cluster:`)']);
    expect(messages('# only a comment\n')).toEqual(['the file is empty: it needs at least `bucket:` (and `cluster:`)']);
    expect(messages('- a\n- b\n')[0]).toMatch(/must be a mapping of keys to values .*not a list/);
    expect(messages('just text\n')[0]).toMatch(/not the string "just text"/);
  });

  it('a missing file and a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-'));
    await expect(loadConfigFile(join(dir, 'nope.yaml'))).rejects.toThrow(/cannot read the config file: no such file/);
    await expect(loadConfigFile(dir)).rejects.toThrow(/it is a directory/);
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, MIN);
    await expect(loadConfigFile(file)).resolves.toMatchObject({ config: { cluster: 'acme' }, file });
  });

  it("validateConfig checks objects (the wizard's answers) by the same rules", () => {
    expect(() => validateConfig({ bucket: 'acme-flyte-data', cluster: 'acme' })).not.toThrow();
    expect(() => validateConfig({ bucket: 'x' })).toThrow(ConfigError);
  });
});

describe('naming rules', () => {
  it.each<[rules.Rule, string, boolean]>([
    [rules.roleName, 'flyte-system-role', true],
    [rules.roleName, 'a+b=c,d.e@f_g-h', true],
    [rules.roleName, 'r'.repeat(64), true],
    [rules.roleName, 'r'.repeat(65), false],
    [rules.roleName, '', false],
    [rules.roleName, 'a/b', false],
    [rules.bucketName, 'my.bucket-1', true],
    [rules.bucketName, 'xn--bucket', false],
    [rules.bucketName, 'bucket-s3alias', false],
    [rules.bucketName, '-bucket', false],
    [rules.region, 'us-gov-west-1', true],
    [rules.region, 'cn-northwest-1', true],
    [rules.region, 'ap-southeast-5', true],
    [rules.region, 'us-east', false],
    [rules.dnsLabel, 'fraud-development', true],
    [rules.dnsLabel, 'a'.repeat(63), true],
    [rules.dnsLabel, 'a'.repeat(64), false],
    [rules.dnsLabel, 'fraud-', false],
    [rules.iamPath, '/', true],
    [rules.iamPath, '/flyte/prod/', true],
    [rules.iamPath, '/flyte', false],
    [rules.policyArn, 'arn:aws:iam::aws:policy/service-role/AmazonEKSClusterPolicy', true],
    [rules.policyArn, 'arn:aws-us-gov:iam::123456789012:policy/p', true],
    [rules.policyArn, 'arn:aws:iam::12345:policy/p', false],
    [rules.clusterName, 'acme_ml-1', true],
    [rules.clusterName, 'acme.ml', false],
  ])('%o accepts %s: %s', (rule, value, ok) => {
    expect(rule(value) === undefined).toBe(ok);
  });

  it('did-you-mean finds typos and case slips, not strangers', () => {
    expect(rules.didYouMean('allNamespace', ['allNamespaces', 'namespaces'])).toBe('allNamespaces');
    expect(rules.didYouMean('ROLENAME', ['roleName'])).toBe('roleName');
    expect(rules.didYouMean('permission_boundary', ['permissionsBoundary'])).toBe('permissionsBoundary');
    expect(rules.didYouMean('zzz', ['region', 'profile'])).toBeUndefined();
  });
});

describe('a very large config file', () => {
  it('finds a key given twice among tens of thousands, in one pass', () => {
    const tags = Array.from({ length: 20_000 }, (_, i) => `  k${i}: v${i}`).join('\n');
    expect(messages(`${MIN}tags:\n${tags}\n  k5: again\n`).join()).toMatch(
      /not valid YAML: the key "k5" appears twice in the same mapping/,
    );
  });
});
