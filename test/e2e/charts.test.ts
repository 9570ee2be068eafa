/**
 * The hand-off's values with the real charts and a real Helm: for each target and a representative set of the
 * configs the tool accepts, `helm template` renders the chart Flyte publishes (at the version the values are for)
 * with the chart's own EKS example values first and ours last, and the rendered manifests are checked against the
 * roles the sections would make (their desired trust and policies):
 * - every ServiceAccount with an `eks.amazonaws.com/role-arn` annotation is trusted by that role (its namespace and
 *   name, the cluster's own issuer, `aud` sts.amazonaws.com);
 * - the Deployments that need AWS run as those service accounts;
 * - the task pods' service account carries a role that reaches the bucket: Flyte 1's per project-domain namespace,
 *   from the cluster resource templates filled in as flyteadmin's controller does (customData of the domain, then
 *   the project-domain's cluster resource attributes; `{{ namespace }}` and the rest replaced as text), running as
 *   flyteadmin's k8sServiceAccount or the project-domain's workflow execution config; Flyte 2's in its one namespace;
 * - the storage settings name the bucket and the region.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { desiredSections } from '../../src/engine/engine.js';
import { CHARTS, type FlyteTarget } from '../../src/handoff/charts.js';
import { handoffFiles, type HandoffFile } from '../../src/handoff/files.js';
import { handoffInput } from '../../src/handoff/input.js';
import { parseConfigText } from '../../src/load/config.js';
import type { DesiredPodIdentityAssociation, DesiredPolicy, DesiredRole, Facts } from '../../src/model.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { chartFile, helmSkipReason, helmTemplate } from '../helpers/helm.js';

const CHART_PACKAGES: Record<FlyteTarget, string> = {
  'flyte-binary': 'flyte-binary-v1.16.8.tgz',
  'flyte-core': 'flyte-core-v1.16.8.tgz',
  flyte2: 'flyte-binary-v2.0.42.tgz',
};

const skip = helmSkipReason(Object.values(CHART_PACKAGES));

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
const ISSUER_HOST = ISSUER.slice('https://'.length);
const FACTS: Facts = {
  partition: 'aws',
  accountId: '111122223333',
  region: 'eu-west-1',
  offline: false,
  cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: ISSUER },
};
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${ISSUER_HOST}`;
const ROLE_ARN = 'eks.amazonaws.com/role-arn';

type Doc = Record<string, any>;

interface Case {
  name: string;
  config: string;
  /** Flyte 1: the project-domains whose task pods are checked (a seed project, and the config's projects). */
  tasks?: [project: string, domain: string][];
  /** The Deployments (by name) that need AWS. */
  pods: string[];
}

const BASE = 'cluster: acme\nbucket: acme-flyte-data\nregion: eu-west-1\n';
const SEED: [string, string][] = [
  ['flytesnacks', 'development'],
  ['flytesnacks', 'staging'],
  ['flytesnacks', 'production'],
];

const CASES: Case[] = [
  {
    name: 'flyte-binary, the defaults, with a project role',
    config: `${BASE}projectRoles: [{ project: fraud, domains: [development, production] }]\n`,
    tasks: [...SEED, ['fraud', 'development'], ['fraud', 'production']],
    pods: ['flyte-backend-flyte-binary'],
  },
  {
    name: 'flyte-binary, a custom namespace and service accounts; a project on its own service account, with names YAML 1.1 misreads',
    config:
      `${BASE}namespace: flyte-prod\nsystemRole: { serviceAccount: flyte-backend }\nworkersRole: { serviceAccount: flyte-tasks }\n` +
      'projectRoles:\n  - { project: fraud, serviceAccount: spark }\n  - { project: "yes", domains: ["on", "1e3"] }\n',
    tasks: [SEED[0]!, ['fraud', 'development'], ['fraud', 'staging'], ['yes', 'on'], ['yes', '1e3']],
    pods: ['flyte-backend-flyte-binary'],
  },
  {
    name: 'flyte-binary, the workers role trusted in a list of namespaces',
    config: `${BASE}workersRole: { allNamespaces: false, namespaces: [flytesnacks-development, ml-staging] }\n`,
    tasks: [
      ['flytesnacks', 'development'],
      ['ml', 'staging'],
    ],
    pods: ['flyte-backend-flyte-binary'],
  },
  {
    name: 'flyte-core, the defaults, with a project role',
    config: `${BASE}target: flyte-core\nprojectRoles: [{ project: fraud, domains: [development] }]\n`,
    tasks: [...SEED, ['fraud', 'development']],
    pods: ['flyteadmin', 'flytepropeller', 'datacatalog'],
  },
  {
    name: 'flyte-core, its list of components, a custom workers service account and a project on its own',
    config:
      `${BASE}target: flyte-core\nnamespace: flyte-core\n` +
      'systemRole: { serviceAccounts: [flyteadmin, flytepropeller, datacatalog, flytescheduler] }\n' +
      'workersRole: { serviceAccount: tasks }\nprojectRoles: [{ project: ads, domains: [production], serviceAccount: ads-runner }]\n',
    tasks: [SEED[1]!, ['ads', 'production']],
    pods: ['flyteadmin', 'flytepropeller', 'datacatalog', 'flytescheduler'],
  },
  {
    name: 'flyte2, the defaults',
    config: `${BASE}target: flyte2\n`,
    pods: ['flyte-backend-flyte-binary'],
  },
  {
    name: 'flyte2, a custom namespace and service account',
    config: `${BASE}target: flyte2\nnamespace: flyte-v2\nsystemRole: { serviceAccount: flyte }\n`,
    pods: ['flyte-backend-flyte-binary'],
  },
];

/** `*` and `?` of StringLike. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

function list(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string];
}

/** Whether IAM would let the cluster's service account `ns:name` assume a role with this trust (a web identity). */
function trusts(trust: PolicyDocument, ns: string, name: string): boolean {
  const sub = `system:serviceaccount:${ns}:${name}`;
  return trust.Statement.some((s) => {
    if (s.Effect !== 'Allow' || !list(s.Action).includes('sts:AssumeRoleWithWebIdentity')) return false;
    const federated = (s.Principal as { Federated?: string | string[] } | undefined)?.Federated;
    if (!list(federated).includes(PROVIDER)) return false;
    let aud = false;
    let subOk = false;
    for (const [op, block] of Object.entries(s.Condition ?? {})) {
      for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
        const value =
          key === `${ISSUER_HOST}:aud` ? 'sts.amazonaws.com' : key === `${ISSUER_HOST}:sub` ? sub : undefined;
        if (value === undefined) return false;
        const ok =
          op === 'StringEquals'
            ? list(values).includes(value)
            : op === 'StringLike'
              ? list(values).some((p) => globMatch(p, value))
              : false;
        if (!ok) return false;
        if (key.endsWith(':aud')) aud = true;
        else subOk = true;
      }
    }
    return aud && subOk;
  });
}

interface Setup {
  roles: Map<string, DesiredRole>;
  /** `namespace/serviceAccount` -> the association the Pod Identity section wants. */
  associations: Map<string, DesiredPodIdentityAssociation>;
  bucketPolicies: Set<string>;
  files: HandoffFile[];
  namespace: string;
}

/** What the tool would make (the sections' desired resources) and the hand-off files it would write. */
function setup(text: string): Setup {
  const config = parseConfigText(text);
  const desired = desiredSections(config, FACTS).flatMap((s) => s.resources);
  const roles = new Map(
    desired.filter((r): r is DesiredRole => r.kind === 'role').map((r) => [r.arn, r] as [string, DesiredRole]),
  );
  const bucketPolicies = new Set(
    desired
      .filter((r): r is DesiredPolicy => r.kind === 'policy')
      .filter((p) =>
        p.document.Statement.some(
          (s) =>
            s.Effect === 'Allow' &&
            list(s.Resource).includes(`arn:aws:s3:::${config.bucket}/*`) &&
            ['s3:GetObject', 's3:PutObject', 's3:ListBucket'].every((a) => list(s.Action).some((p) => globMatch(p, a))),
        ),
      )
      .map((p) => p.arn),
  );
  const associations = new Map(
    desired
      .filter((r): r is DesiredPodIdentityAssociation => r.kind === 'pod-identity-association')
      .map((a) => [a.name, a] as [string, DesiredPodIdentityAssociation]),
  );
  const arns = new Map([...roles.values()].map((r) => [r.name, r.arn]));
  const { input, missing } = handoffInput(config, FACTS, arns);
  expect(missing).toEqual([]);
  return { roles, associations, bucketPolicies, files: handoffFiles(input), namespace: config.namespace };
}

function render(target: FlyteTarget, s: Setup): Doc[] {
  const dir = mkdtempSync(join(tmpdir(), 'fas-chart-'));
  const spec = CHARTS[target];
  const values: string[] = [];
  if (spec.eksExample !== undefined) {
    const example = join(dir, spec.eksExample);
    writeFileSync(example, chartFile(CHART_PACKAGES[target], `${spec.chart}/${spec.eksExample}`));
    values.push(example);
  }
  const ours = join(dir, spec.valuesFile);
  writeFileSync(ours, s.files.find((f) => f.path === spec.valuesFile)!.content);
  values.push(ours);
  const text = helmTemplate(spec.release, CHART_PACKAGES[target], values, s.namespace);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

function find(docs: Doc[], kind: string, name: string): Doc {
  const found = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} rendered`);
  return found;
}

/** The role an annotated service account names must trust it, and reach the bucket. */
function expectRoleFor(s: Setup, sa: Doc, where: string): DesiredRole {
  const arn = sa.metadata.annotations?.[ROLE_ARN] as string | undefined;
  expect(arn, `${where}: ServiceAccount ${sa.metadata.name} has no role`).toBeDefined();
  const role = s.roles.get(arn!);
  expect(role, `${where}: ${arn} is none of the tool's roles`).toBeDefined();
  expect(
    trusts(role!.trust, sa.metadata.namespace, sa.metadata.name),
    `${where}: ${role!.name} trusts ${sa.metadata.namespace}:${sa.metadata.name}`,
  ).toBe(true);
  expect(
    role!.managedPolicies.some((p) => s.bucketPolicies.has(p)),
    `${where}: ${role!.name} reaches the bucket`,
  ).toBe(true);
  return role!;
}

function checkServiceAccountsAndPods(c: Case, s: Setup, docs: Doc[]): void {
  const annotated = docs.filter((d) => d.kind === 'ServiceAccount' && d.metadata.annotations?.[ROLE_ARN] !== undefined);
  expect(annotated.length).toBeGreaterThan(0);
  for (const sa of annotated) expectRoleFor(s, sa, c.name);
  for (const pod of c.pods) {
    const deployment = find(docs, 'Deployment', pod);
    const account = deployment.spec.template.spec.serviceAccountName as string;
    const sa = annotated.find((a) => a.metadata.name === account && a.metadata.namespace === s.namespace);
    expect(sa, `${c.name}: Deployment ${pod} runs as ${account}, which carries a role`).toBeDefined();
  }
}

/** The cluster resource templates, filled in for one project-domain as flyteadmin's controller does. */
function clusterResources(
  templates: Record<string, string>,
  customData: Record<string, { value: string }>[] | undefined,
  attributes: Record<string, string>,
  project: string,
  domain: string,
): Doc[] {
  const values = new Map<string, string>([
    ['namespace', `${project}-${domain}`],
    ['project', project],
    ['domain', domain],
  ]);
  const custom = new Map<string, string>();
  const forDomain = (customData ?? []).find((d) => Object.keys(d)[0] === domain) as
    Record<string, Record<string, { value: string }>[]> | undefined;
  for (const entry of forDomain?.[domain] ?? []) {
    for (const [k, v] of Object.entries(entry)) custom.set(k, v.value);
  }
  for (const [k, v] of Object.entries(attributes)) custom.set(k, v);
  const docs: Doc[] = [];
  for (const name of Object.keys(templates).sort()) {
    let text = templates[name]!;
    for (const [k, v] of values) text = text.replaceAll(`{{ ${k} }}`, v);
    for (const [k, v] of custom) text = text.replaceAll(`{{ ${k} }}`, v);
    docs.push(...parseAllDocuments(text).map((d) => d.toJS() as Doc));
  }
  return docs;
}

function checkTaskPodsFlyte1(c: Case, target: FlyteTarget, s: Setup, docs: Doc[]): void {
  let templates: Record<string, string>;
  let customData: Record<string, { value: string }>[] | undefined;
  let admin: Doc | undefined;
  if (target === 'flyte-binary') {
    templates = find(docs, 'ConfigMap', 'flyte-backend-flyte-binary-cluster-resource-templates').data;
    const config = find(docs, 'ConfigMap', 'flyte-backend-flyte-binary-config').data as Record<string, string>;
    const inline = parse(config['100-inline-config.yaml']!) as Doc;
    customData = inline.cluster_resources?.customData;
    admin = inline.flyteadmin;
  } else {
    templates = find(docs, 'ConfigMap', 'clusterresource-template').data;
    const sync = parse(
      find(docs, 'ConfigMap', 'flyte-clusterresourcesync-config').data['cluster_resources.yaml'],
    ) as Doc;
    customData = sync.cluster_resources.customData;
    admin = (parse(find(docs, 'ConfigMap', 'flyte-admin-base-config').data['server.yaml']) as Doc).flyteadmin;
  }
  for (const [project, domain] of c.tasks ?? []) {
    const ns = `${project}-${domain}`;
    const file = (dir: string) => s.files.find((f) => f.path === `${dir}/${ns}.yaml`);
    const attributes = file('cluster-resource-attributes');
    const execution = file('workflow-execution-config');
    // Read as flytectl reads them (YAML 1.1).
    const attrs = attributes ? (parse(attributes.content, { version: '1.1' }) as Doc) : undefined;
    const wec = execution ? (parse(execution.content, { version: '1.1' }) as Doc) : undefined;
    if (attrs) expect([attrs.project, attrs.domain]).toEqual([project, domain]);
    const account: string = wec?.security_context?.run_as?.k8s_service_account ?? admin?.k8sServiceAccount ?? 'default';
    const made = clusterResources(templates, customData, attrs?.attributes ?? {}, project, domain);
    expect(made.find((d) => d.kind === 'Namespace')?.metadata.name, `${c.name}: namespace ${ns}`).toBe(ns);
    const sa = made.find((d) => d.kind === 'ServiceAccount' && d.metadata.name === account);
    expect(sa, `${c.name}: task pods of ${ns} run as ${account}, which the templates create there`).toBeDefined();
    expect(sa!.metadata.namespace).toBe(ns);
    const role = expectRoleFor(s, sa!, `${c.name} (${ns})`);
    // A project's own role where it has one.
    const own = attrs?.attributes?.defaultIamRole as string | undefined;
    if (own !== undefined) expect(role.arn).toBe(own);
  }
}

function checkStorageFlyte1(target: FlyteTarget, docs: Doc[]): void {
  if (target === 'flyte-binary') {
    const data = find(docs, 'ConfigMap', 'flyte-backend-flyte-binary-config').data as Record<string, string>;
    const storage = parse(data['003-storage.yaml']!) as Doc;
    expect(storage.storage.stow).toMatchObject({ kind: 's3', config: { region: 'eu-west-1', auth_type: 'iam' } });
    expect(storage.storage.container).toBe('acme-flyte-data');
    expect(storage.propeller['rawoutput-prefix']).toMatch(/^s3:\/\/acme-flyte-data\//);
    return;
  }
  // flyte-core: each component's storage.yaml (flyteadmin, datacatalog, flytepropeller).
  const configs = docs.filter((d) => d.kind === 'ConfigMap' && d.data?.['storage.yaml'] !== undefined);
  expect(configs.map((d) => d.metadata.name).sort()).toEqual(
    ['datacatalog-config', 'flyte-admin-base-config', 'flyte-propeller-config'].sort(),
  );
  for (const config of configs) {
    const storage = (parse(config.data['storage.yaml']) as Doc).storage;
    expect(storage).toMatchObject({
      type: 's3',
      container: 'acme-flyte-data',
      connection: { 'auth-type': 'iam', region: 'eu-west-1' },
    });
  }
  const core = parse(find(docs, 'ConfigMap', 'flyte-propeller-config').data['core.yaml']) as Doc;
  expect(core.propeller['rawoutput-prefix']).toMatch(/^s3:\/\/acme-flyte-data\//);
}

function checkFlyte2(c: Case, s: Setup, docs: Doc[]): void {
  const data = find(docs, 'ConfigMap', 'flyte-backend-flyte-binary-config').data as Record<string, string>;
  const core = parse(data['000-core.yaml']!) as Doc;
  const inline = parse(data['100-inline-config.yaml']!) as Doc;
  const storage = parse(data['003-storage.yaml']!) as Doc;
  // Task pods: one namespace, one service account, which carries the backend role.
  const ns = core.actions.kubernetes.namespace as string;
  const account = inline.executor.defaultK8sServiceAccount as string;
  expect(ns).toBe(s.namespace);
  const sa = find(docs, 'ServiceAccount', account);
  expect(sa.metadata.namespace).toBe(ns);
  expectRoleFor(s, sa, `${c.name} (task pods)`);
  expect(core.runs.storagePrefix).toBe('s3://acme-flyte-data');
  expect(storage.storage.container).toBe('acme-flyte-data');
  expect(storage.storage.stow.config).toMatchObject({ region: 'eu-west-1', auth_type: 'iam' });
}

/** Whether a trust lets EKS Pod Identity of the cluster assume the role. */
function trustsPodIdentity(trust: PolicyDocument): boolean {
  const cluster = 'arn:aws:eks:eu-west-1:111122223333:cluster/acme';
  return trust.Statement.some((s) => {
    const service = (s.Principal as { Service?: string | string[] } | undefined)?.Service;
    if (s.Effect !== 'Allow' || !list(service).includes('pods.eks.amazonaws.com')) return false;
    const conditions = Object.values(s.Condition ?? {}).flatMap((b) => Object.entries(b as Record<string, unknown>));
    return (
      ['sts:AssumeRole', 'sts:TagSession'].every((a) => list(s.Action).includes(a)) &&
      conditions.some(([k, v]) => k === 'aws:SourceArn' && list(v).includes(cluster))
    );
  });
}

/**
 * With Pod Identity: no rendered ServiceAccount (nor one the templates make) carries the IRSA annotation, which
 * would take precedence; each one Flyte's pods run as has an association with a role that trusts Pod Identity and
 * reaches the bucket.
 */
function expectAssociated(s: Setup, ns: string, name: string, where: string): void {
  const a = s.associations.get(`${ns}/${name}`);
  expect(a, `${where}: an association for ${ns}/${name}`).toBeDefined();
  const role = s.roles.get(a!.roleArn);
  expect(role, `${where}: ${a!.roleArn} is one of the tool's roles`).toBeDefined();
  expect(trustsPodIdentity(role!.trust), `${where}: ${role!.name} trusts Pod Identity of the cluster`).toBe(true);
  expect(role!.managedPolicies.some((p) => s.bucketPolicies.has(p))).toBe(true);
}

const POD_IDENTITY_CASES: (Case & { target: FlyteTarget })[] = [
  {
    name: 'flyte-binary, pod-identity, the workers role in a list of namespaces, a project role',
    target: 'flyte-binary',
    config:
      `${BASE}identity: pod-identity\nworkersRole: { allNamespaces: false, namespaces: [flytesnacks-development] }\n` +
      'projectRoles: [{ project: fraud, domains: [development] }]\n',
    tasks: [
      ['flytesnacks', 'development'],
      ['fraud', 'development'],
    ],
    pods: ['flyte-backend-flyte-binary'],
  },
  {
    name: "flyte-core, pod-identity: values-eks.yaml's annotations are removed",
    target: 'flyte-core',
    config: `${BASE}target: flyte-core\nidentity: pod-identity\nworkersRole: { allNamespaces: false, namespaces: [flytesnacks-staging] }\n`,
    tasks: [['flytesnacks', 'staging']],
    pods: ['flyteadmin', 'flytepropeller', 'datacatalog'],
  },
  {
    name: 'flyte2, pod-identity',
    target: 'flyte2',
    config: `${BASE}target: flyte2\nidentity: pod-identity\n`,
    pods: ['flyte-backend-flyte-binary'],
  },
];

describe.skipIf(skip !== undefined)('the hand-off values with EKS Pod Identity, rendered with the real charts', () => {
  it.each(POD_IDENTITY_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const s = setup(c.config);
    const docs = render(c.target, s);
    const accounts = docs.filter((d) => d.kind === 'ServiceAccount');
    expect(accounts.length).toBeGreaterThan(0);
    // Our values set the annotation to null, which removes it where an earlier values file (values-eks.yaml) sets
    // it; Helm renders the null, which the API server stores as an empty value: no role ARN, so IRSA does not
    // take precedence.
    for (const sa of accounts) {
      const arn = sa.metadata.annotations?.[ROLE_ARN] as string | null | undefined;
      expect(arn ?? '', `${c.name}: ${sa.metadata.name} carries no IRSA role ARN`).toBe('');
    }
    for (const pod of c.pods) {
      const account = find(docs, 'Deployment', pod).spec.template.spec.serviceAccountName as string;
      expectAssociated(s, s.namespace, account, `${c.name} (${pod})`);
    }
    if (c.target === 'flyte2') {
      const data = find(docs, 'ConfigMap', 'flyte-backend-flyte-binary-config').data as Record<string, string>;
      const account = (parse(data['100-inline-config.yaml']!) as Doc).executor.defaultK8sServiceAccount as string;
      expectAssociated(s, s.namespace, account, `${c.name} (task pods)`);
      return;
    }
    const templates =
      c.target === 'flyte-binary'
        ? find(docs, 'ConfigMap', 'flyte-backend-flyte-binary-cluster-resource-templates').data
        : find(docs, 'ConfigMap', 'clusterresource-template').data;
    for (const [project, domain] of c.tasks ?? []) {
      const ns = `${project}-${domain}`;
      const made = clusterResources(templates, undefined, {}, project, domain);
      const sa = made.find((d) => d.kind === 'ServiceAccount');
      expect(sa, `${c.name}: the templates make the task service account in ${ns}`).toBeDefined();
      expect(sa!.metadata.annotations?.[ROLE_ARN]).toBeUndefined();
      expectAssociated(s, ns, sa!.metadata.name, `${c.name} (${ns})`);
    }
  });
});

describe.skipIf(skip !== undefined)('the hand-off values rendered with the real charts and Helm', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const s = setup(c.config);
    const target = (parseConfigText(c.config).target as FlyteTarget) ?? 'flyte-binary';
    const docs = render(target, s);
    checkServiceAccountsAndPods(c, s, docs);
    if (target === 'flyte2') {
      checkFlyte2(c, s, docs);
    } else {
      checkTaskPodsFlyte1(c, target, s, docs);
      checkStorageFlyte1(target, docs);
    }
  });
});
