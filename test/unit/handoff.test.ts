/** The hand-off files: Helm values, attribute files, ServiceAccount manifests, and writing them. No AWS. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { parseConfigText } from '../../src/load/config.js';
import type { Facts } from '../../src/model.js';
import { handoffCaveats, handoffFiles, nextSteps } from '../../src/handoff/files.js';
import { handoffInput, type Flavor } from '../../src/handoff/input.js';
import { checkOutDir, writeHandoff } from '../../src/handoff/write.js';
import { CancelledError, UsageError } from '../../src/errors.js';

const FACTS: Facts = {
  partition: 'aws',
  accountId: '111122223333',
  region: 'eu-west-1',
  offline: false,
  cluster: {
    state: 'ready',
    name: 'acme',
    status: 'ACTIVE',
    issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/X',
  },
};

const CONFIG = parseConfigText(`
cluster: acme
bucket: acme-flyte-data
projectRoles:
  - project: fraud
    domains: [development, qa]
  - project: ads
    roleName: ads-role
`);

// ARNs as AWS would report them: at a path, to show they are taken as given rather than rebuilt.
const ARNS = new Map([
  ['flyte-system-role', 'arn:aws:iam::111122223333:role/x/flyte-system-role'],
  ['flyte-workers-role', 'arn:aws:iam::111122223333:role/x/flyte-workers-role'],
  ['flyte-fraud-role', 'arn:aws:iam::111122223333:role/x/flyte-fraud-role'],
  ['ads-role', 'arn:aws:iam::111122223333:role/x/ads-role'],
]);

function files(flavor: Flavor = 'flyte', config = CONFIG) {
  const { input, missing } = handoffInput(config, FACTS, ARNS, flavor);
  expect(missing).toEqual([]);
  return { input, files: handoffFiles(input) };
}

function file(list: { path: string; content: string }[], path: string): string {
  const found = list.find((f) => f.path === path);
  if (found === undefined) throw new Error(`no ${path} among ${list.map((f) => f.path).join(', ')}`);
  return found.content;
}

type Values = Record<string, any>;

describe('Helm values for flyte-binary (DESIGN.md, "Hand-off to Flyte")', () => {
  const values = parse(file(files().files, 'flyte-binary-values.yaml')) as Values;

  it('annotates the backend service account with the system role, under the name its trust lets in', () => {
    expect(values.serviceAccount).toEqual({
      create: true,
      name: 'flyte-backend-flyte-binary',
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x/flyte-system-role' },
    });
  });

  it("gives every domain (the default three and the projects') the workers role as defaultIamRole", () => {
    const custom = values.configuration.inline.cluster_resources.customData as Record<string, unknown>[];
    expect(custom.map((d) => Object.keys(d)[0])).toEqual(['development', 'staging', 'production', 'qa']);
    for (const d of custom) {
      expect(Object.values(d)[0]).toEqual([
        { defaultIamRole: { value: 'arn:aws:iam::111122223333:role/x/flyte-workers-role' } },
      ]);
    }
  });

  it("templates each namespace's default service account with '{{ defaultIamRole }}'", () => {
    const inline = values.clusterResourceTemplates.inline as Record<string, string>;
    const sa = parse(inline['002_serviceaccount.yaml']!) as Values;
    expect(sa).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'default',
        namespace: '{{ namespace }}',
        annotations: { 'eks.amazonaws.com/role-arn': '{{ defaultIamRole }}' },
      },
    });
    // The inline templates replace the chart's defaults, so the namespace template is there too.
    expect((parse(inline['001_namespace.yaml']!) as Values).kind).toBe('Namespace');
  });

  it('stores in the bucket, in the region, with IAM (not keys)', () => {
    expect(values.configuration.storage).toEqual({
      metadataContainer: 'acme-flyte-data',
      userDataContainer: 'acme-flyte-data',
      provider: 's3',
      providerConfig: { s3: { region: 'eu-west-1', authType: 'iam' } },
    });
  });
});

describe('Helm values for flyte-core', () => {
  const text = file(files().files, 'flyte-core-values.yaml');
  const values = parse(text) as Values;

  it('annotates each component that reads the bucket, without YAML aliases', () => {
    for (const c of ['flyteadmin', 'flytepropeller', 'datacatalog']) {
      expect(values[c].serviceAccount.annotations['eks.amazonaws.com/role-arn']).toBe(
        'arn:aws:iam::111122223333:role/x/flyte-system-role',
      );
    }
    expect(text).not.toMatch(/[&*]a\d/);
    // And says that the system role's trust does not name these service accounts.
    expect(text).toContain('WARNING: flyte-core runs flyteadmin, flytepropeller, datacatalog');
  });

  it('sets storage, the cluster resource manager and its templates', () => {
    expect(values.storage).toEqual({
      type: 's3',
      bucketName: 'acme-flyte-data',
      s3: { region: 'eu-west-1', authType: 'iam' },
    });
    const crm = values.cluster_resource_manager;
    expect(crm.enabled).toBe(true);
    expect(crm.config.cluster_resources.customData[0].development[0].defaultIamRole.value).toBe(
      'arn:aws:iam::111122223333:role/x/flyte-workers-role',
    );
    const sa = parse(crm.templates.find((t: Values) => t.key === 'ab_default_service_account').value) as Values;
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe('{{ defaultIamRole }}');
  });
});

describe('cluster resource attribute files, one per project-domain', () => {
  it.each([
    ['flyte', 'defaultIamRole', 'flytectl'],
    ['union', 'defaultUserRoleValue', 'uctl'],
  ] as const)('%s: attributes.%s, sent with %s', (flavor, key, cli) => {
    const out = files(flavor).files;
    const paths = out.filter((f) => f.path.startsWith('cluster-resource-attributes/')).map((f) => f.path);
    expect(paths).toEqual([
      'cluster-resource-attributes/fraud-development.yaml',
      'cluster-resource-attributes/fraud-qa.yaml',
      'cluster-resource-attributes/ads-development.yaml',
      'cluster-resource-attributes/ads-staging.yaml',
      'cluster-resource-attributes/ads-production.yaml',
    ]);
    const qa = parse(file(out, 'cluster-resource-attributes/fraud-qa.yaml')) as Values;
    // Seed 003 puts defaultUserRoleValue beside attributes:; the file format nests it under attributes:.
    expect(qa).toEqual({
      domain: 'qa',
      project: 'fraud',
      attributes: { [key]: 'arn:aws:iam::111122223333:role/x/flyte-fraud-role' },
    });
    const script = file(out, 'cluster-resource-attributes.sh');
    expect(script).toContain(
      `${cli} update cluster-resource-attribute --attrFile cluster-resource-attributes/ads-staging.yaml`,
    );
    expect(script.match(/update cluster-resource-attribute --attrFile/g)).toHaveLength(5);
    expect(script).toContain('REPLACES ALL cluster resource attributes');
    expect(file(out, 'cluster-resource-attributes/ads-staging.yaml')).toContain('REPLACES ALL');
  });

  it('Union gets no Flyte Helm values (Union installs its data plane itself)', () => {
    expect(files('union').files.map((f) => f.path)).not.toContain('flyte-binary-values.yaml');
    expect(files('flyte').files.map((f) => f.path)).toContain('flyte-binary-values.yaml');
  });

  it('no projectRoles: no attribute files and no script', () => {
    const config = parseConfigText('cluster: acme\nbucket: acme-flyte-data\n');
    expect(files('flyte', config).files.map((f) => f.path)).toEqual([
      'flyte-binary-values.yaml',
      'flyte-core-values.yaml',
      'service-accounts.yaml',
      'workers-service-account.yaml',
    ]);
  });
});

describe('ServiceAccount manifests', () => {
  it('the backend and every project-domain namespace, annotated with their roles; the workers one without a namespace', () => {
    const out = files().files;
    const docs = parseAllDocuments(file(out, 'service-accounts.yaml')).map((d) => d.toJS() as Values);
    expect(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'flyte/flyte-backend-flyte-binary',
      'fraud-development/default',
      'fraud-qa/default',
      'ads-development/default',
      'ads-staging/default',
      'ads-production/default',
    ]);
    expect(docs[2]!.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(
      'arn:aws:iam::111122223333:role/x/flyte-fraud-role',
    );
    const workers = parse(file(out, 'workers-service-account.yaml')) as Values;
    expect(workers.metadata).toEqual({
      name: 'default',
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x/flyte-workers-role' },
    });
  });

  it('workers trusted in listed namespaces only: one manifest per namespace, and a caveat', () => {
    const config = parseConfigText(
      'cluster: acme\nbucket: acme-flyte-data\nworkersRole: { allNamespaces: false, namespaces: [team-a] }\n',
    );
    const { input, files: out } = files('flyte', config);
    const docs = parseAllDocuments(file(out, 'service-accounts.yaml')).map((d) => d.toJS() as Values);
    expect(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'flyte/flyte-backend-flyte-binary',
      'flyte/default',
      'team-a/default',
    ]);
    expect(out.map((f) => f.path)).not.toContain('workers-service-account.yaml');
    expect(handoffCaveats(input).join('\n')).toContain('trusts only the namespaces flyte, team-a');
  });
});

describe('the input: ARNs from AWS, what is missing, caveats, next steps', () => {
  it('names each role AWS does not hold, with the reason given', () => {
    const { missing } = handoffInput(CONFIG, FACTS, new Map([['flyte-system-role', 'arn']]), 'flyte', (s) =>
      s === 'projectRoles' ? 'waits' : 'absent',
    );
    expect(missing).toEqual([
      { section: 'workersRole', roleName: 'flyte-workers-role', reason: 'absent' },
      { section: 'projectRoles', roleName: 'flyte-fraud-role', reason: 'waits' },
      { section: 'projectRoles', roleName: 'ads-role', reason: 'waits' },
    ]);
  });

  it('workers role off: no defaultIamRole and no template, and a caveat', () => {
    const config = parseConfigText('cluster: acme\nbucket: acme-flyte-data\nworkersRole: false\n');
    const { input, files: out } = files('flyte', config);
    const values = parse(file(out, 'flyte-binary-values.yaml')) as Values;
    expect(values.configuration.inline).toBeUndefined();
    expect(values.clusterResourceTemplates).toBeUndefined();
    expect(handoffCaveats(input).join('\n')).toContain('workersRole is off');
  });

  it('a project whose service account is not the templated one gets a caveat', () => {
    const config = parseConfigText(
      'cluster: acme\nbucket: acme-flyte-data\nprojectRoles: [{ project: fraud, serviceAccount: spark }]\n',
    );
    const { input } = files('flyte', config);
    expect(handoffCaveats(input).join('\n')).toContain('flyte-fraud-role trusts the service account spark');
  });

  it('next steps: the helm install with the values under the output directory, then the attributes script', () => {
    const { input, files: out } = files();
    const next = nextSteps(input, 'out', out);
    expect(next[0]).toBe(
      'helm install flyte-backend flyteorg/flyte-binary --namespace flyte --create-namespace --values YOUR-VALUES.yaml --values out/flyte-binary-values.yaml',
    );
    expect(next[1]).toBe('sh out/cluster-resource-attributes.sh');
    expect(next.join('\n')).toContain('REPLACES ALL');
  });
});

describe('writing the files', () => {
  const { files: out } = files();

  it('writes each file, leaves identical ones, keeps a changed one unless forced, and leaves no temporary file', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fas-out-')), 'nested', 'out');
    const first = await writeHandoff(dir, out);
    expect(first.files.every((f) => f.outcome === 'written')).toBe(true);
    expect(readFileSync(join(dir, 'flyte-binary-values.yaml'), 'utf8')).toBe(file(out, 'flyte-binary-values.yaml'));

    const second = await writeHandoff(dir, out);
    expect(second.files.every((f) => f.outcome === 'unchanged')).toBe(true);

    writeFileSync(join(dir, 'flyte-binary-values.yaml'), '# edited by hand\n');
    const third = await writeHandoff(dir, out);
    expect(third.files.find((f) => f.path === 'flyte-binary-values.yaml')!.outcome).toBe('kept');
    expect(readFileSync(join(dir, 'flyte-binary-values.yaml'), 'utf8')).toBe('# edited by hand\n');

    const asked: string[] = [];
    const declined = await writeHandoff(dir, out, {
      confirmReplace: async (f) => {
        asked.push(f.path);
        return false;
      },
    });
    expect(asked).toEqual(['flyte-binary-values.yaml']);
    expect(declined.files.find((f) => f.path === 'flyte-binary-values.yaml')!.outcome).toBe('kept');

    const forced = await writeHandoff(dir, out, { force: true });
    expect(forced.files.find((f) => f.path === 'flyte-binary-values.yaml')!.outcome).toBe('replaced');
    expect(readFileSync(join(dir, 'flyte-binary-values.yaml'), 'utf8')).toBe(file(out, 'flyte-binary-values.yaml'));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('reports files of an earlier hand-off that this one does not write, and leaves them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    await writeHandoff(dir, out);
    const fewer = files('flyte', parseConfigText('cluster: acme\nbucket: acme-flyte-data\n')).files;
    const result = await writeHandoff(dir, fewer);
    expect(result.stale).toEqual([
      'cluster-resource-attributes.sh',
      'cluster-resource-attributes/ads-development.yaml',
      'cluster-resource-attributes/ads-production.yaml',
      'cluster-resource-attributes/ads-staging.yaml',
      'cluster-resource-attributes/fraud-development.yaml',
      'cluster-resource-attributes/fraud-qa.yaml',
    ]);
  });

  it('--out-dir that is a file is bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    writeFileSync(join(dir, 'f'), '');
    await expect(checkOutDir(join(dir, 'f'))).rejects.toThrow(UsageError);
    await expect(checkOutDir(join(dir, 'f'))).rejects.toThrow(/--out-dir .* is a file/);
    await expect(checkOutDir(join(dir, 'new'))).resolves.toBeUndefined();
  });

  it('a FIFO where a hand-off file goes is refused before any AWS call, not waited on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    execFileSync('mkfifo', [join(dir, 'flyte-binary-values.yaml')]);
    await expect(checkOutDir(dir)).rejects.toThrow(UsageError);
    await expect(checkOutDir(dir)).rejects.toThrow(/flyte-binary-values\.yaml is a FIFO, where a hand-off file goes/);
    await expect(writeHandoff(dir, out)).rejects.toThrow(/is a FIFO: it is not read or written over/);
  });

  it('Ctrl-C while writing: no file is begun after it, each written one is whole, and the stop says 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    const interrupt = new AbortController();
    let asked = 0;
    // The first file differs and is confirmed; Ctrl-C comes during that question.
    writeFileSync(join(dir, out[0]!.path), '# edited\n');
    const run = writeHandoff(dir, out, {
      signal: interrupt.signal,
      confirmReplace: async () => {
        asked++;
        interrupt.abort();
        return true;
      },
    });
    await expect(run).rejects.toThrow(CancelledError);
    await expect(run).rejects.toMatchObject({ exitCode: 130 });
    await expect(run).rejects.toThrow(/1 of \d+ written \(each whole\)/);
    expect(asked).toBe(1);
    expect(readFileSync(join(dir, out[0]!.path), 'utf8')).toBe(out[0]!.content);
    expect(readdirSync(dir).filter((n) => n !== out[0]!.path)).toEqual([]);
  });
});
