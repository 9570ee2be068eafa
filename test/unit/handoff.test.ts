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
import { handoffInput, handoffTarget } from '../../src/handoff/input.js';
import { CHARTS } from '../../src/handoff/charts.js';
import type { Target } from '../../src/config/schema.js';
import { checkOutDir, MANIFEST_FILE, writeHandoff } from '../../src/handoff/write.js';
import { misread, misreadWhenParsed } from '../../src/handoff/yaml.js';
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

const CONFIG_TEXT = `
cluster: acme
bucket: acme-flyte-data
projectRoles:
  - project: fraud
    domains: [development, qa]
  - project: ads
    roleName: ads-role
`;
const CONFIG = parseConfigText(CONFIG_TEXT);

// ARNs as AWS would report them: at a path, to show they are taken as given rather than rebuilt. Every role exists.
const ARN = (name: string) => `arn:aws:iam::111122223333:role/x/${name}`;
const ARNS = { get: (name: string) => ARN(name) } as unknown as ReadonlyMap<string, string>;

function files(target: Target = 'flyte-binary', config = CONFIG) {
  const { input, missing } = handoffInput(config, FACTS, ARNS, target);
  expect(missing).toEqual([]);
  return { input, files: handoffFiles(input) };
}

function file(list: { path: string; content: string }[], path: string): string {
  const found = list.find((f) => f.path === path);
  if (found === undefined) throw new Error(`no ${path} among ${list.map((f) => f.path).join(', ')}`);
  return found.content;
}

/** As Helm, kubectl and flytectl read it: YAML 1.1, where yes, on and 1e3 are no strings. */
function read11(text: string): Values {
  return parse(text, { version: '1.1' }) as Values;
}

type Values = Record<string, any>;

describe('Helm values for flyte-binary v1 (the default target; DESIGN.md, "Hand-off to Flyte")', () => {
  const text = file(files().files, 'flyte-binary-values.yaml');
  const values = parse(text) as Values;

  it('annotates the backend service account with the system role, under the name its trust lets in', () => {
    expect(values.serviceAccount).toEqual({
      create: true,
      name: 'flyte-backend-flyte-binary',
      annotations: { 'eks.amazonaws.com/role-arn': ARN('flyte-system-role') },
    });
  });

  it("gives every domain (the default three and the projects') the workers role as defaultIamRole", () => {
    const custom = values.configuration.inline.cluster_resources.customData as Record<string, unknown>[];
    expect(custom.map((d) => Object.keys(d)[0])).toEqual(['development', 'staging', 'production', 'qa']);
    for (const d of custom)
      expect(Object.values(d)[0]).toEqual([{ defaultIamRole: { value: ARN('flyte-workers-role') } }]);
    // Task pods run as `default` already: flyteadmin is not told.
    expect(values.configuration.inline.flyteadmin).toBeUndefined();
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

  it('names the chart version it is for, and its helm command pins it', () => {
    expect(text).toContain('Helm values for the flyte-binary chart v1.16.8 (Flyte 1)');
    expect(text).toContain(
      'helm install flyte-backend flyteorg/flyte-binary --version v1.16.8 --namespace flyte --create-namespace --values YOUR-VALUES.yaml --values flyte-binary-values.yaml',
    );
    expect(text).toContain('helm repo add flyteorg https://flyteorg.github.io/flyte');
  });

  it('is the only Helm values file of the target', () => {
    const paths = files().files.map((f) => f.path);
    expect(paths.filter((p) => p.endsWith('values.yaml'))).toEqual(['flyte-binary-values.yaml']);
  });
});

describe("the task pods' service account is wired through (Flyte 1)", () => {
  it('a custom workers service account: flyteadmin runs executions as it, and the template creates it', () => {
    const config = parseConfigText(
      'cluster: acme\nbucket: acme-flyte-data\nworkersRole: { serviceAccount: flyte-tasks }\n',
    );
    for (const target of ['flyte-binary', 'flyte-core'] as const) {
      const { files: out } = files(
        target,
        parseConfigText(
          `target: ${target}\ncluster: acme\nbucket: acme-flyte-data\nworkersRole: { serviceAccount: flyte-tasks }\n`,
        ),
      );
      const values = parse(file(out, CHARTS[target].valuesFile)) as Values;
      const admin =
        target === 'flyte-binary' ? values.configuration.inline.flyteadmin : values.configmap.adminServer.flyteadmin;
      expect(admin).toEqual({ k8sServiceAccount: 'flyte-tasks' });
      const template =
        target === 'flyte-binary'
          ? values.clusterResourceTemplates.inline['002_serviceaccount.yaml']
          : values.cluster_resource_manager.templates[1].value;
      expect((parse(template) as Values).metadata.name).toBe('flyte-tasks');
    }
    expect(config.workersRole && config.workersRole.serviceAccount).toBe('flyte-tasks');
  });

  it("a project's own service account: its namespaces get that one (a template variable), its pods run as it", () => {
    const config = parseConfigText(
      'cluster: acme\nbucket: acme-flyte-data\nprojectRoles: [{ project: fraud, domains: [development], serviceAccount: spark }]\n',
    );
    const out = files('flyte-binary', config).files;
    const values = parse(file(out, 'flyte-binary-values.yaml')) as Values;
    const sa = parse(values.clusterResourceTemplates.inline['002_serviceaccount.yaml']) as Values;
    expect(sa.metadata.name).toBe('{{ taskServiceAccount }}');
    // Every domain names the workers' account; the project's attributes its own.
    for (const d of values.configuration.inline.cluster_resources.customData as Values[]) {
      expect(Object.values(d)[0]).toEqual([
        { defaultIamRole: { value: ARN('flyte-workers-role') } },
        { taskServiceAccount: { value: 'default' } },
      ]);
    }
    expect(parse(file(out, 'cluster-resource-attributes/fraud-development.yaml'))).toEqual({
      domain: 'development',
      project: 'fraud',
      attributes: { defaultIamRole: ARN('flyte-fraud-role'), taskServiceAccount: 'spark' },
    });
    expect(parse(file(out, 'workflow-execution-config/fraud-development.yaml'))).toEqual({
      domain: 'development',
      project: 'fraud',
      security_context: { run_as: { k8s_service_account: 'spark' } },
    });
    const script = file(out, 'cluster-resource-attributes.sh');
    expect(script).toContain(
      'flytectl update workflow-execution-config --attrFile workflow-execution-config/fraud-development.yaml --force',
    );
    expect(script).toContain('REPLACES ALL the workflow execution config');
  });

  it('projects on the same service account as the workers: a plain template, no execution config', () => {
    const out = files().files;
    expect(out.map((f) => f.path).filter((p) => p.startsWith('workflow-execution-config/'))).toEqual([]);
    expect(file(out, 'cluster-resource-attributes/fraud-qa.yaml')).not.toContain('taskServiceAccount');
  });
});

describe('names YAML 1.1 reads as something else are quoted', () => {
  const config = parseConfigText(
    'cluster: acme\nbucket: acme-flyte-data\nworkersRole: { serviceAccount: "on" }\n' +
      'projectRoles: [{ project: "yes", domains: ["on", "1e3"], serviceAccount: "n" }]\n',
  );
  const out = files('flyte-binary', config).files;

  it('in the Helm values: the domains of customData, the service accounts, the template', () => {
    const values = read11(file(out, 'flyte-binary-values.yaml'));
    const custom = values.configuration.inline.cluster_resources.customData as Values[];
    expect(custom.map((d) => Object.keys(d)[0])).toEqual(['development', 'staging', 'production', 'on', '1e3']);
    expect(values.configuration.inline.flyteadmin).toEqual({ k8sServiceAccount: 'on' });
    expect(custom[3]!.on[1]).toEqual({ taskServiceAccount: { value: 'on' } });
  });

  it('in the attribute files and the ServiceAccount manifests', () => {
    expect(read11(file(out, 'cluster-resource-attributes/yes-on.yaml'))).toMatchObject({
      project: 'yes',
      domain: 'on',
      attributes: { taskServiceAccount: 'n' },
    });
    expect(read11(file(out, 'workflow-execution-config/yes-1e3.yaml'))).toMatchObject({
      project: 'yes',
      domain: '1e3',
      security_context: { run_as: { k8s_service_account: 'n' } },
    });
    const docs = parseAllDocuments(file(out, 'service-accounts.yaml'), { version: '1.1' }).map(
      (d) => d.toJS() as Values,
    );
    expect(docs.map((d) => d.metadata.name)).toEqual(['flyte-backend-flyte-binary', 'n', 'n']);
    expect(read11(file(out, 'workers-service-account.yaml')).metadata.name).toBe('on');
  });

  it('a string is taken for a plain one without parsing only where parsing says the same', () => {
    // Strings of the characters the shortcut knows, and of those that send a string to the parser, of every length
    // up to 5, drawn with a fixed seed; with the words of YAML 1.1 and 1.2 and names and ARNs of the hand-off.
    const alphabet = 'aAeEnNoOyYsSfFtTlLuUx019_./@+=:- #~.\'"[]{},&*!|>%`?';
    let seed = 17;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const drawn = Array.from({ length: 4000 }, () =>
      Array.from({ length: 1 + Math.floor(next() * 5) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
    );
    const words = ['y', 'Y', 'yes', 'Yes', 'YES', 'yEs', 'n', 'NO', 'on', 'On', 'OFF', 'true', 'False', 'null', 'Null'];
    const names = [
      'flyte-system-role',
      'arn:aws:iam::123456789012:role/flyte-workers',
      'a:',
      'e10',
      'E+3',
      'x:1',
      'a::b',
    ];
    for (const value of [...drawn, ...words, ...names, '.inf', '.NaN', '0x1f', '1:20', '2001-12-14', '<<', '=', '~']) {
      expect(misread(value), JSON.stringify(value)).toBe(misreadWhenParsed(value));
    }
  });

  it('inside the cluster resource template text', () => {
    const plain = parseConfigText('cluster: acme\nbucket: acme-flyte-data\nworkersRole: { serviceAccount: "yes" }\n');
    const values = read11(file(files('flyte-binary', plain).files, 'flyte-binary-values.yaml'));
    expect(read11(values.clusterResourceTemplates.inline['002_serviceaccount.yaml']).metadata.name).toBe('yes');
  });
});

describe('Helm values for flyte-core v1', () => {
  const core = parseConfigText(`target: flyte-core\n${CONFIG_TEXT}`);
  const text = file(files('flyte-core', core).files, 'flyte-core-values.yaml');
  const values = parse(text) as Values;

  it('annotates each component the backend role trusts, without YAML aliases', () => {
    for (const c of ['flyteadmin', 'flytepropeller', 'datacatalog']) {
      expect(values[c].serviceAccount).toEqual({
        create: true,
        annotations: { 'eks.amazonaws.com/role-arn': ARN('flyte-system-role') },
      });
    }
    expect(values.flytescheduler).toBeUndefined();
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text).toContain('flyteadmin, flytepropeller, datacatalog run as service accounts of those names');
  });

  it('a custom list: those components', () => {
    const list = parseConfigText(
      'target: flyte-core\ncluster: acme\nbucket: acme-flyte-data\nsystemRole: { serviceAccounts: [flyteadmin, flytepropeller, datacatalog, flytescheduler] }\n',
    );
    const v = parse(file(files('flyte-core', list).files, 'flyte-core-values.yaml')) as Values;
    expect(v.flytescheduler.serviceAccount.annotations['eks.amazonaws.com/role-arn']).toBe(ARN('flyte-system-role'));
  });

  it('sets storage, the cluster resource manager and its templates', () => {
    expect(values.storage).toEqual({
      type: 's3',
      bucketName: 'acme-flyte-data',
      s3: { region: 'eu-west-1', authType: 'iam' },
    });
    expect(values.configmap.core.propeller['rawoutput-prefix']).toBe('s3://acme-flyte-data/');
    const crm = values.cluster_resource_manager;
    expect(crm.enabled).toBe(true);
    expect(crm.config.cluster_resources.customData[0].development[0].defaultIamRole.value).toBe(
      ARN('flyte-workers-role'),
    );
    const sa = parse(crm.templates.find((t: Values) => t.key === 'ab_default_service_account').value) as Values;
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe('{{ defaultIamRole }}');
  });

  it('is the only values file, pinned to its chart version', () => {
    const { input, files: out } = files('flyte-core', core);
    expect(out.map((f) => f.path).filter((p) => p.endsWith('values.yaml'))).toEqual(['flyte-core-values.yaml']);
    expect(nextSteps(input, 'out', out)[0]).toBe(
      'helm install flyte flyteorg/flyte-core --version v1.16.8 --namespace flyte --create-namespace --values YOUR-VALUES.yaml --values out/flyte-core-values.yaml',
    );
    const accounts = parseAllDocuments(file(out, 'service-accounts.yaml')).map((d) => d.toJS() as Values);
    expect(accounts.slice(0, 3).map((a) => `${a.metadata.namespace}/${a.metadata.name}`)).toEqual([
      'flyte/flyteadmin',
      'flyte/flytepropeller',
      'flyte/datacatalog',
    ]);
  });
});

describe('Helm values for Flyte 2 (flyte-binary v2)', () => {
  const config = parseConfigText('target: flyte2\ncluster: acme\nbucket: acme-flyte-data\nnamespace: flyte-prod\n');
  const { input, files: out } = files('flyte2', config);
  const values = parse(file(out, 'flyte-binary-v2-values.yaml')) as Values;

  it('one role: the backend service account, which task pods in the Flyte namespace run as', () => {
    expect(values.serviceAccount).toEqual({
      create: true,
      name: 'flyte-backend-flyte-binary',
      annotations: { 'eks.amazonaws.com/role-arn': ARN('flyte-system-role') },
    });
    expect(values.configuration.inline).toEqual({
      executor: { defaultK8sServiceAccount: 'flyte-backend-flyte-binary' },
    });
    expect(values['flyte-core-components'].actions).toEqual({ kubernetes: { namespace: 'flyte-prod' } });
    expect(input.workers).toBeUndefined();
  });

  it('storage: the bucket as the runs prefix and the metadata container, in the region, with IAM', () => {
    expect(values['flyte-core-components'].runs).toEqual({ storagePrefix: 's3://acme-flyte-data' });
    expect(values.configuration.storage).toEqual({
      metadataContainer: 'acme-flyte-data',
      provider: 's3',
      providerConfig: { s3: { region: 'eu-west-1', authType: 'iam' } },
    });
  });

  it('no attribute files (one namespace, no project roles), and the helm command pins v2.0.42', () => {
    expect(out.map((f) => f.path)).toEqual(['flyte-binary-v2-values.yaml', 'service-accounts.yaml']);
    expect(nextSteps(input, 'out', out)).toEqual([
      'helm install flyte-backend flyteorg/flyte-binary --version v2.0.42 --namespace flyte-prod --create-namespace --values YOUR-VALUES.yaml --values out/flyte-binary-v2-values.yaml',
    ]);
  });
});

describe('cluster resource attribute files, one per project-domain', () => {
  it.each([
    ['flyte-binary', 'defaultIamRole', 'flytectl'],
    ['union', 'defaultUserRoleValue', 'uctl'],
  ] as const)('%s: attributes.%s, sent with %s --force', (target, key, cli) => {
    const out = files(target).files;
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
    expect(qa).toEqual({ domain: 'qa', project: 'fraud', attributes: { [key]: ARN('flyte-fraud-role') } });
    const script = file(out, 'cluster-resource-attributes.sh');
    // Unattended: --force answers the "Continue?" of each update.
    expect(script).toContain(
      `${cli} update cluster-resource-attribute --attrFile cluster-resource-attributes/ads-staging.yaml --force`,
    );
    expect(script.match(/update cluster-resource-attribute --attrFile \S+ --force/g)).toHaveLength(5);
    expect(script).toContain('REPLACES ALL the cluster resource attributes');
    expect(file(out, 'cluster-resource-attributes/ads-staging.yaml')).toContain('REPLACES ALL');
  });

  it('Union gets no Flyte Helm values (Union installs its data plane itself)', () => {
    expect(
      files('union')
        .files.map((f) => f.path)
        .filter((p) => p.endsWith('values.yaml')),
    ).toEqual([]);
  });

  it('no projectRoles: no attribute files and no script', () => {
    const config = parseConfigText('cluster: acme\nbucket: acme-flyte-data\n');
    expect(files('flyte-binary', config).files.map((f) => f.path)).toEqual([
      'flyte-binary-values.yaml',
      'service-accounts.yaml',
      'workers-service-account.yaml',
    ]);
  });
});

describe('--flavor, an alias of the target', () => {
  const config = (target: string) => parseConfigText(`target: ${target}\ncluster: acme\nbucket: acme-flyte-data\n`);

  it('without it the target decides; union writes Union files for the default target, as before', () => {
    expect(handoffTarget(config('flyte-core'), undefined)).toBe('flyte-core');
    expect(handoffTarget(config('flyte-binary'), 'union')).toBe('union');
    expect(handoffTarget(config('flyte-binary'), 'flyte')).toBe('flyte-binary');
    expect(handoffTarget(config('union'), 'union')).toBe('union');
  });

  it('a flavor that contradicts the target is bad input, naming both', () => {
    expect(() => handoffTarget(config('flyte-core'), 'union')).toThrow(UsageError);
    expect(() => handoffTarget(config('flyte2'), 'union')).toThrow(/--flavor union .* target is flyte2/);
    expect(() => handoffTarget(config('union'), 'flyte')).toThrow(/--flavor flyte .* target is union/);
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
    expect(docs[2]!.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(ARN('flyte-fraud-role'));
    const workers = parse(file(out, 'workers-service-account.yaml')) as Values;
    expect(workers.metadata).toEqual({
      name: 'default',
      annotations: { 'eks.amazonaws.com/role-arn': ARN('flyte-workers-role') },
    });
  });

  it('workers trusted in listed namespaces only: one manifest per namespace, and a caveat', () => {
    const config = parseConfigText(
      'cluster: acme\nbucket: acme-flyte-data\nworkersRole: { allNamespaces: false, namespaces: [team-a] }\n',
    );
    const { input, files: out } = files('flyte-binary', config);
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
    const { missing } = handoffInput(CONFIG, FACTS, new Map([['flyte-system-role', 'arn']]), 'flyte-binary', (s) =>
      s === 'projectRoles' ? 'waits' : 'absent',
    );
    expect(missing).toEqual([
      { section: 'workersRole', roleName: 'flyte-workers-role', reason: 'absent' },
      { section: 'projectRoles', roleName: 'flyte-fraud-role', reason: 'waits' },
      { section: 'projectRoles', roleName: 'ads-role', reason: 'waits' },
    ]);
  });

  it('only the roles the target uses: Union needs neither the backend nor the workers role', () => {
    const union = parseConfigText(`target: union\n${CONFIG_TEXT}`);
    const { input, missing } = handoffInput(union, FACTS, new Map(), 'union');
    expect(missing.map((m) => m.roleName)).toEqual(['flyte-fraud-role', 'ads-role']);
    expect(input.system).toBeUndefined();
    expect(input.workers).toBeUndefined();
  });

  it('workers role off: no defaultIamRole and no template, and a caveat', () => {
    const config = parseConfigText('cluster: acme\nbucket: acme-flyte-data\nworkersRole: false\n');
    const { input, files: out } = files('flyte-binary', config);
    const values = parse(file(out, 'flyte-binary-values.yaml')) as Values;
    expect(values.configuration.inline).toBeUndefined();
    expect(values.clusterResourceTemplates).toBeUndefined();
    expect(handoffCaveats(input).join('\n')).toContain('workersRole is off');
  });

  it('next steps: the pinned helm install with the values under the output directory, then the attributes script', () => {
    const { input, files: out } = files();
    const next = nextSteps(input, 'out', out);
    expect(next[0]).toBe(
      'helm install flyte-backend flyteorg/flyte-binary --version v1.16.8 --namespace flyte --create-namespace --values YOUR-VALUES.yaml --values out/flyte-binary-values.yaml',
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

  it('after a config change, replaces what it wrote and nobody changed, and keeps only what was edited by hand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    await writeHandoff(dir, out);
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { files: Record<string, string> };
    expect(Object.keys(manifest.files)).toEqual(out.map((f) => f.path).sort());
    // Someone edits one file; then the config changes (another bucket): every file differs from the new one.
    writeFileSync(join(dir, 'service-accounts.yaml'), '# mine\n');
    const changed = files('flyte-binary', parseConfigText(CONFIG_TEXT.replace('acme-flyte-data', 'acme-other-data')));
    const result = await writeHandoff(dir, changed.files);
    const outcome = (p: string) => result.files.find((f) => f.path === p)!.outcome;
    expect(outcome('flyte-binary-values.yaml')).toBe('replaced');
    expect(outcome('cluster-resource-attributes.sh')).toBe('unchanged');
    expect(outcome('service-accounts.yaml')).toBe('kept');
    expect(readFileSync(join(dir, 'flyte-binary-values.yaml'), 'utf8')).toContain('acme-other-data');
    expect(readFileSync(join(dir, 'service-accounts.yaml'), 'utf8')).toBe('# mine\n');
    // And the next run still knows the kept file is not its own.
    expect(
      (await writeHandoff(dir, changed.files)).files.filter((f) => f.outcome === 'kept').map((f) => f.path),
    ).toEqual(['service-accounts.yaml']);
  });

  it('without a record (or with a broken one) a file that differs counts as edited, and is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    await writeHandoff(dir, out);
    writeFileSync(join(dir, MANIFEST_FILE), 'not json');
    const other = files('flyte-binary', parseConfigText(CONFIG_TEXT.replace('acme-flyte-data', 'acme-other-data')));
    const result = await writeHandoff(dir, other.files);
    expect(result.files.find((f) => f.path === 'flyte-binary-values.yaml')!.outcome).toBe('kept');
  });

  it('reports files of an earlier hand-off that this one does not write, and leaves them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-out-'));
    await writeHandoff(dir, out);
    const fewer = files('flyte-binary', parseConfigText('cluster: acme\nbucket: acme-flyte-data\n')).files;
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
    expect(readdirSync(dir).filter((n) => n !== out[0]!.path && n !== MANIFEST_FILE)).toEqual([]);
    // What was written is recorded as the tool's own.
    expect(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).toContain(out[0]!.path);
  });
});

describe('the hand-off with EKS Pod Identity', () => {
  const withIdentity = (identity: string, target: Target = 'flyte-binary') =>
    files(target, parseConfigText(`${CONFIG_TEXT}identity: ${identity}\n`));
  const ANNOTATION = 'eks.amazonaws.com/role-arn';

  it('pod-identity (flyte-binary): the backend service account has no role annotation: null removes one set elsewhere', () => {
    const { input, files: list } = withIdentity('pod-identity');
    const text = file(list, 'flyte-binary-values.yaml');
    const values = read11(text);
    expect(values.serviceAccount.annotations).toEqual({ [ANNOTATION]: null });
    expect(text).toContain('EKS Pod Identity (identity: pod-identity)');
    // The template makes the task pods' service account without an annotation, and no defaultIamRole is set.
    const template = values.clusterResourceTemplates.inline['002_serviceaccount.yaml'] as string;
    expect(template).not.toContain(ANNOTATION);
    expect(values.configuration.inline?.cluster_resources).toBeUndefined();
    expect(handoffCaveats(input).join('\n')).toContain('Pod Identity has no wildcard');
  });

  it('pod-identity: no service account manifest carries the annotation', () => {
    const { files: list } = withIdentity('pod-identity');
    const docs = parseAllDocuments(file(list, 'service-accounts.yaml')).map((d) => d.toJS() as Values);
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(d.metadata.annotations).toBeUndefined();
  });

  it("pod-identity (flyte-core, flyte2): each component's account likewise", () => {
    const only = (target: Target) =>
      files(
        target,
        parseConfigText(`cluster: acme\nbucket: acme-flyte-data\ntarget: ${target}\nidentity: pod-identity\n`),
      );
    const core = read11(file(only('flyte-core').files, 'flyte-core-values.yaml'));
    for (const c of ['flyteadmin', 'flytepropeller', 'datacatalog'])
      expect(core[c].serviceAccount.annotations).toEqual({ [ANNOTATION]: null });
    const two = read11(file(only('flyte2').files, 'flyte-binary-v2-values.yaml'));
    expect(two.serviceAccount.annotations).toEqual({ [ANNOTATION]: null });
  });

  it('both: the annotations stay (IRSA wins meanwhile), and the file and the caveats say how to move', () => {
    const { input, files: list } = withIdentity('both');
    const text = file(list, 'flyte-binary-values.yaml');
    expect(read11(text).serviceAccount.annotations).toEqual({ [ANNOTATION]: ARN('flyte-system-role') });
    expect(text).toContain('identity: both: the service accounts keep the eks.amazonaws.com/role-arn annotation');
    expect(text).toContain('set identity: pod-identity in the config');
    expect(handoffCaveats(input).join('\n')).toContain('IRSA annotation, which takes precedence over Pod Identity');
  });

  it('irsa (the default): as before, no word of Pod Identity', () => {
    const text = file(files().files, 'flyte-binary-values.yaml');
    expect(text).not.toContain('Pod Identity');
    expect(read11(text).serviceAccount.annotations).toEqual({ [ANNOTATION]: ARN('flyte-system-role') });
  });
});
