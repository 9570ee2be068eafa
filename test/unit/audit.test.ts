/**
 * verify's audit: each mistake people make following the documents by hand, as a trust or role AWS holds, must
 * give a finding that names the role; a correct setup gives none. No AWS.
 */
import { currentAsWanted } from '../helpers/current-state.js';
import { describe, expect, it } from 'vitest';
import { auditPlan, driftFindings, referencedProviders } from '../../src/audit/audit.js';
import type { Finding } from '../../src/audit/finding.js';
import { verifyReport } from '../../src/audit/report.js';
import { renderVerify } from '../../src/render/verify-text.js';
import { plainStyle } from '../../src/render/style.js';
import { auditTrust, type TrustAuditInput } from '../../src/audit/trust.js';
import { parseConfigText } from '../../src/load/config.js';
import { buildPlan, desiredSections, type CurrentState } from '../../src/engine/engine.js';
import type { CurrentOidcProvider, CurrentResource, Facts } from '../../src/model.js';
import type { PolicyDocument } from '../../src/policy/document.js';

const ACCOUNT = '111122223333';
const HOST = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}`;
const OWN = { 'managed-by': 'flyte-aws-setup' };
const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';

function trust(condition: Record<string, Record<string, string | string[]>>, federated = PROVIDER): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: federated },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

const GOOD = trust({
  StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com' },
  StringLike: { [`${HOST}:sub`]: 'system:serviceaccount:*:default' },
});

const PROVIDERS = new Map<string, CurrentOidcProvider | undefined>([
  [
    PROVIDER,
    { kind: 'oidc-provider', arn: PROVIDER, url: `https://${HOST}`, clientIds: ['sts.amazonaws.com'], tags: OWN },
  ],
]);

function audit(doc: PolicyDocument, over: Partial<TrustAuditInput> = {}): Finding[] {
  return auditTrust({
    section: 'workersRole',
    roleName: 'flyte-workers-role',
    trust: doc,
    issuerHost: HOST,
    providerArn: PROVIDER,
    clusterArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme`,
    providers: PROVIDERS,
    createsProvider: true,
    rerun: 'flyte-aws-setup --config c.yaml --yes',
    ...over,
  });
}

const subjects = (n: number) => Array.from({ length: n }, (_, i) => `system:serviceaccount:project-${i}-dev:default`);

describe('the trust audit: each hand-made mistake, and only it', () => {
  it('a trust as the tool writes it has no finding', () => {
    expect(audit(GOOD)).toEqual([]);
  });

  const US_EAST = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';
  const OTHER_PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER`;

  it.each<[string, PolicyDocument, Partial<TrustAuditInput>, string[], RegExp]>([
    [
      'keys of another region (seeds 001, 002 mix us-east-1 with the real region)',
      trust({
        StringEquals: {
          [`${US_EAST}:aud`]: 'sts.amazonaws.com',
          [`${HOST}:sub`]: 'system:serviceaccount:flyte:default',
        },
      }),
      {},
      ['error foreign-issuer'],
      /of another issuer \(region us-east-1; the cluster is in eu-west-1\)/,
    ],
    [
      'aud missing',
      trust({ StringEquals: { [`${HOST}:sub`]: 'system:serviceaccount:flyte:default' } }),
      {},
      ['error aud-missing'],
      /does not check the token's audience/,
    ],
    [
      'aud moved to StringLike with sub (seed 002 step 8)',
      trust({
        StringLike: { [`${HOST}:aud`]: 'sts.amazonaws.com', [`${HOST}:sub`]: 'system:serviceaccount:*:default' },
      }),
      {},
      ['warning aud-not-string-equals'],
      /checks aud under StringLike/,
    ],
    [
      'a wildcard under StringEquals never matches',
      trust({
        StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com', [`${HOST}:sub`]: 'system:serviceaccount:*:default' },
      }),
      {},
      ['error wildcard-string-equals'],
      /system:serviceaccount:\*:default is under StringEquals, which compares literally/,
    ],
    [
      'no sub: any service account of the cluster',
      trust({ StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com' } }),
      {},
      ['error sub-missing'],
      /does not limit which service accounts/,
    ],
    [
      'a provider that does not exist',
      GOOD,
      { providers: new Map([[PROVIDER, undefined]]) },
      ['error provider-missing'],
      /names the OIDC provider .* which does not exist in IAM/,
    ],
    [
      'a provider without the sts.amazonaws.com audience',
      GOOD,
      {
        providers: new Map([
          [PROVIDER, { kind: 'oidc-provider', arn: PROVIDER, url: '', clientIds: ['other'], tags: {} }],
        ]),
        createsProvider: false,
      },
      ['error provider-audience-missing'],
      /lacks the audience sts\.amazonaws\.com/,
    ],
    [
      "another cluster's provider (and it is gone)",
      trust(
        {
          StringEquals: { [`oidc.eks.eu-west-1.amazonaws.com/id/OTHER:aud`]: 'sts.amazonaws.com' },
          StringLike: { [`oidc.eks.eu-west-1.amazonaws.com/id/OTHER:sub`]: 'system:serviceaccount:*:default' },
        },
        OTHER_PROVIDER,
      ),
      {},
      ['error other-provider', 'error provider-missing', 'error foreign-issuer', 'error foreign-issuer'],
      /not the cluster's oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/ABC/,
    ],
    [
      'a trust near its size limit',
      trust({ StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com', [`${HOST}:sub`]: subjects(40) } }),
      {},
      ['warning trust-size'],
      /\d+% of IAM's default limit of 2,048/,
    ],
  ])('%s', (_name, doc, over, expected, problem) => {
    const found = audit(doc, over);
    expect(found.map((f) => `${f.severity} ${f.code}`)).toEqual(expected);
    for (const f of found) expect(f.resource).toBe('role flyte-workers-role');
    expect(found.map((f) => f.problem).join('\n')).toMatch(problem);
    for (const f of found) expect(f.fix.length).toBeGreaterThan(10);
  });

  it('a trust just under 90% of the limit gets no size warning', () => {
    // 30 namespaces of this length stay under 1,843 characters.
    const doc = trust({ StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com', [`${HOST}:sub`]: subjects(30) } });
    expect(JSON.stringify(doc).length).toBeLessThan(2048 * 0.9);
    expect(audit(doc)).toEqual([]);
  });

  it('the fix for a missing provider the config does not create is the aws command', () => {
    const [f] = audit(GOOD, { providers: new Map([[PROVIDER, undefined]]), createsProvider: false });
    expect(f!.fix).toContain(`aws iam create-open-id-connect-provider --url https://${HOST}`);
  });
});

describe('the plan audit: drift, broad policies, every role of the config', () => {
  const config = parseConfigText(`
region: eu-west-1
cluster: acme
bucket: acme-flyte-data
projectRoles: [{ project: fraud }]
`);
  const facts: Facts = {
    partition: 'aws',
    accountId: ACCOUNT,
    region: 'eu-west-1',
    offline: false,
    cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: `https://${HOST}` },
  };
  const sections = desiredSections(config, facts);

  /** AWS holding exactly what the config wants, then `change` applied to it. */
  function plan(change: (current: Map<string, CurrentResource>) => void = () => {}) {
    const current = currentAsWanted(sections.flatMap((s) => s.resources));
    change(current);
    return buildPlan(facts, sections, current as CurrentState);
  }
  const options = { rerun: 'flyte-aws-setup --config c.yaml --yes', createsProvider: true };
  const findings = (p: ReturnType<typeof plan>) => {
    const providers = new Map<string, CurrentOidcProvider | undefined>();
    for (const arn of referencedProviders(p)) {
      const r = p.sections.flatMap((s) => s.resources).find((x) => x.arn === arn);
      providers.set(arn, r?.current?.kind === 'oidc-provider' ? r.current : undefined);
    }
    return [...driftFindings(p, options.rerun), ...auditPlan(p, providers, options)];
  };

  it('AWS as the config wants it: no finding, verify passes', () => {
    const p = plan();
    expect(findings(p)).toEqual([]);
    const report = verifyReport(p, []);
    expect(report.ok).toBe(true);
    // The seven sections, global access (not in this config), the cluster VPC (its VPC is not known here),
    // Pod Identity (identity: irsa) and the grants (none in this config).
    expect(report.sections.map((s) => s.verdict)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'skipped',
      'not-checked',
      'skipped',
      'skipped',
    ]);
  });

  it('AmazonS3FullAccess where the scoped policy belongs: an error, with the detach command', () => {
    const p = plan((c) => {
      const r = c.get('role:flyte-system-role') as { attached: string[] };
      r.attached.push(S3_FULL);
    });
    const [f, ...rest] = findings(p);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      code: 'broad-policy',
      severity: 'error',
      section: 'systemRole',
      resource: 'role flyte-system-role',
    });
    expect(f!.problem).toContain('AmazonS3FullAccess attached where the scoped policy flyte-custom-policy belongs');
    expect(f!.fix).toContain(`aws iam detach-role-policy --role-name flyte-system-role --policy-arn ${S3_FULL}`);
    expect(verifyReport(p, [f!]).ok).toBe(false);
  });

  it('on the node role a broad policy is a warning: verify still passes', () => {
    const p = plan((c) => (c.get('role:flyte-eks-node-role') as { attached: string[] }).attached.push(S3_FULL));
    const found = findings(p);
    expect(found.map((f) => `${f.severity} ${f.code} ${f.resource}`)).toEqual([
      'warning broad-policy-non-irsa role flyte-eks-node-role',
    ]);
    expect(verifyReport(p, found)).toMatchObject({ ok: true, warnings: 1 });
  });

  it('what pods get beyond the config: policies attached by hand and inline policies, as warnings', () => {
    const p = plan((c) => {
      const system = c.get('role:flyte-system-role') as { attached: string[]; inline?: string[] };
      system.attached.push('arn:aws:iam::aws:policy/AmazonEC2FullAccess');
      system.inline = ['everything'];
      // On the node role, another policy is common (SSM, for one) and not reported; an inline one is.
      const node = c.get('role:flyte-eks-node-role') as { attached: string[]; inline?: string[] };
      node.attached.push('arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore');
      node.inline = ['node-extra'];
    });
    const found = findings(p);
    expect(found.map((f) => `${f.severity} ${f.code} ${f.resource}`)).toEqual([
      'warning inline-policy role flyte-eks-node-role',
      'warning extra-policy role flyte-system-role',
      'warning inline-policy role flyte-system-role',
    ]);
    expect(found[1]!.problem).toContain('every pod that assumes the role gets it');
    expect(found[2]!.fix).toContain('aws iam get-role-policy --role-name flyte-system-role --policy-name everything');
    expect(verifyReport(p, found)).toMatchObject({ ok: true, warnings: 3 });
  });

  it('a role without the policies the config attaches, a missing role, a changed document: drift, each named', () => {
    const p = plan((c) => {
      (c.get('role:flyte-workers-role') as { attached: string[] }).attached = [];
      c.delete('role:flyte-fraud-role');
      const policy = [...c.values()].find((x) => x.kind === 'policy') as { document: PolicyDocument };
      policy.document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
    });
    const found = findings(p).map((f) => `${f.code} ${f.resource}`);
    expect(found).toEqual([
      'document-differs policy flyte-custom-policy',
      'policy-not-attached role flyte-workers-role',
      'missing role flyte-fraud-role',
    ]);
    const report = verifyReport(p, findings(p));
    expect(report.sections.find((s) => s.id === 'workersRole')!.verdict).toBe('problems');
  });

  it('a hand-made trust of a role that existed before is audited too', () => {
    const p = plan((c) => {
      const r = c.get('role:flyte-fraud-role') as { trust: PolicyDocument; tags: Record<string, string> };
      r.tags = {};
      r.trust = trust({ StringEquals: { [`${HOST}:sub`]: 'system:serviceaccount:*:default' } });
    });
    const found = findings(p).map((f) => `${f.severity} ${f.code} ${f.resource}`);
    expect(found).toEqual([
      'error trust-differs role flyte-fraud-role',
      'error aud-missing role flyte-fraud-role',
      'error wildcard-string-equals role flyte-fraud-role',
    ]);
  });

  it('sections waiting for the cluster are an error that says what to do', () => {
    const waiting = buildPlan(
      { ...facts, cluster: { state: 'missing', name: 'acme' } },
      desiredSections(config, { ...facts, cluster: { state: 'missing', name: 'acme' } }),
      new Map(),
    );
    const found = driftFindings(waiting, options.rerun).filter((f) => f.code === 'waiting');
    expect(found.map((f) => f.section)).toEqual([
      'oidcProvider',
      'customPolicy',
      'systemRole',
      'workersRole',
      'projectRoles',
      'clusterVpc',
    ]);
    expect(found[0]!.fix).toContain('aws eks create-cluster --name acme');
  });
});

describe('a section with nothing to read', () => {
  it('says every note of it: with several clusters, each whose VPC is not known', () => {
    const notes = ['blue', 'green'].map((name) => ({
      level: 'info' as const,
      message: `the VPC of the cluster ${name} is not known; its DNS settings are not checked`,
    }));
    const plan = {
      facts: {} as Facts,
      sections: [{ id: 'clusterVpc', title: 'Cluster VPC DNS', status: 'unchanged', resources: [], notes }],
    } as unknown as Parameters<typeof verifyReport>[0];
    expect(verifyReport(plan, []).sections[0]).toMatchObject({
      verdict: 'not-checked',
      note:
        'the VPC of the cluster blue is not known; its DNS settings are not checked; ' +
        'the VPC of the cluster green is not known; its DNS settings are not checked',
    });
  });

  it('a section checked in part: the part not checked is said beside it, and only that note', () => {
    const notes = [
      { level: 'info' as const, message: 'the VPC of the cluster blue is not known', unchecked: true },
      { level: 'info' as const, message: 'something else worth saying in the plan' },
    ];
    const facts = {
      accountId: '111122223333',
      partition: 'aws',
      region: 'eu-west-1',
      cluster: { state: 'not-needed' },
    };
    const plan = {
      facts: facts as Facts,
      sections: [
        {
          id: 'clusterVpc',
          title: 'Cluster VPC DNS',
          status: 'unchanged',
          resources: [{ kind: 'vpc-dns', name: 'vpc-9', action: 'none', steps: [], security: [], notes: [] }],
          notes,
        },
      ],
    } as unknown as Parameters<typeof verifyReport>[0];
    const report = verifyReport(plan, []);
    expect(report.sections[0]).toMatchObject({ verdict: 'ok', note: 'the VPC of the cluster blue is not known' });
    const text = renderVerify(report, plainStyle);
    expect(text).toContain(
      '✓ Cluster VPC DNS: matches the config\n    not checked: the VPC of the cluster blue is not known',
    );
    expect(text).not.toContain('something else');
  });
});
