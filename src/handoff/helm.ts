/**
 * Helm values that hand the roles to Flyte, one file for the target's chart at the version in `./charts.ts`: Flyte
 * 1's flyte-binary (DESIGN.md, "Hand-off to Flyte") and flyte-core, and Flyte 2's flyte-binary. Only what IAM and
 * S3 need; the operator keeps the rest (database, ingress, auth) in their own values file and passes both, ours
 * last. Pure: input in, YAML text out.
 */
import { CHARTS, helmInstallCommand, helmRepoCommand, type ChartSpec, type FlyteTarget } from './charts.js';
import { DEFAULT_SERVICE_ACCOUNT, projectsWithOwnAccount, taskServiceAccount, type HandoffInput } from './input.js';
import { yamlScalar, yamlText } from './yaml.js';

/** The annotation IRSA reads on a Kubernetes service account. */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/**
 * The role annotation of a service account. With Pod Identity there must be none: an IRSA annotation left on a
 * service account silently takes precedence over its pod identity association. Helm's `null` deletes the key where
 * another values file (values-eks.yaml, the operator's own) sets it.
 */
export function roleAnnotations(input: Pick<HandoffInput, 'identity'>, arn: string): Record<string, string | null> {
  return { [ROLE_ARN_ANNOTATION]: input.identity === 'pod-identity' ? null : arn };
}

/** Whether the service accounts carry the role annotation (IRSA, or both while migrating). */
export function annotated(input: Pick<HandoffInput, 'identity'>): boolean {
  return input.identity !== 'pod-identity';
}

/** What the values file says about identity: Pod Identity's associations, or the move to them. */
export function identityNote(input: Pick<HandoffInput, 'identity'>): string[] {
  if (input.identity === 'pod-identity') {
    return [
      'EKS Pod Identity (identity: pod-identity): the pods take their roles from the pod identity associations',
      'flyte-aws-setup makes; no service account carries the eks.amazonaws.com/role-arn annotation (null removes',
      'one another values file sets), since an IRSA annotation would take precedence over the association.',
    ];
  }
  if (input.identity === 'both') {
    return [
      'identity: both: the service accounts keep the eks.amazonaws.com/role-arn annotation, so their pods use IRSA,',
      'which takes precedence over the pod identity associations. To move them to Pod Identity: set each',
      "annotation to null (serviceAccount.annotations, and the templates' ServiceAccount), upgrade the release and",
      'restart the pods; once none uses IRSA, set identity: pod-identity in the config and run flyte-aws-setup',
      'again (it removes the IRSA trust, and writes these files without the annotations).',
    ];
  }
  return [];
}

/** The cluster resource template variable of the task pods' service account, when projects have their own. */
export const TASK_SERVICE_ACCOUNT_VARIABLE = 'taskServiceAccount';

/** The cluster resource template that creates each project-domain namespace. */
export function namespaceTemplate(): string {
  return ['apiVersion: v1', 'kind: Namespace', 'metadata:', "  name: '{{ namespace }}'", ''].join('\n');
}

/**
 * Whether the task service account's name comes from a template variable: when some project's pods run as another
 * service account than the workers', each project-domain namespace gets the one its pods run as (customData gives
 * the workers', a project's cluster resource attributes its own).
 */
export function accountFromVariable(input: HandoffInput): boolean {
  return input.workers !== undefined && projectsWithOwnAccount(input).length > 0;
}

/**
 * The cluster resource template that annotates each namespace's task service account with `{{ defaultIamRole }}`
 * (its domain's value from customData, or a project-domain's cluster-resource-attribute).
 */
export function serviceAccountTemplate(input: HandoffInput): string {
  const name = accountFromVariable(input)
    ? `'{{ ${TASK_SERVICE_ACCOUNT_VARIABLE} }}'`
    : yamlScalar(taskServiceAccount(input));
  return [
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata:',
    `  name: ${name}`,
    "  namespace: '{{ namespace }}'",
    // With Pod Identity the namespace's association gives the role: no annotation.
    ...(annotated(input) ? ['  annotations:', `    ${ROLE_ARN_ANNOTATION}: '{{ defaultIamRole }}'`] : []),
    '',
  ].join('\n');
}

/** `cluster_resources.customData`: every domain's `defaultIamRole` is the workers role (and its service account). */
export function customData(input: HandoffInput): Record<string, unknown>[] {
  const workers = input.workers;
  if (workers === undefined) return [];
  const values: Record<string, unknown>[] = annotated(input) ? [{ defaultIamRole: { value: workers.arn } }] : [];
  if (accountFromVariable(input)) values.push({ [TASK_SERVICE_ACCOUNT_VARIABLE]: { value: workers.serviceAccount } });
  return values.length === 0 ? [] : input.domains.map((d) => ({ [d]: values }));
}

/** flyteadmin's settings: the service account executions run as when nothing else names one. */
function flyteadminSettings(input: HandoffInput): Record<string, unknown> | undefined {
  const account = taskServiceAccount(input);
  return account === DEFAULT_SERVICE_ACCOUNT ? undefined : { k8sServiceAccount: account };
}

function where(input: HandoffInput): string {
  return `account ${input.accountId}, region ${input.region}${input.cluster ? `, cluster ${input.cluster}` : ''}`;
}

/** The header every values file starts with: which chart and version, how to install it, the merge order. */
function header(input: HandoffInput, spec: ChartSpec, lines: string[]): string[] {
  const other =
    spec.chart === 'flyte-core'
      ? 'Made and tested for this version: keep --version.'
      : spec.flyte === 'Flyte 1'
        ? "Not for Flyte 2's flyte-binary chart (v2.x), where these values do nothing: keep --version."
        : "Not for Flyte 1's flyte-binary chart (v1.x), where these values do nothing: keep --version.";
  return [
    `Helm values for the ${spec.chart} chart ${spec.version} (${spec.flyte}), written by flyte-aws-setup (${where(input)}).`,
    other,
    'Only what IAM and S3 need: keep your own settings (database, ingress, auth) in another values file and pass',
    `both, this one last (Helm merges mappings key by key; a list here replaces yours):`,
    `  ${helmRepoCommand()}`,
    `  ${helmInstallCommand(spec, input.namespace, spec.valuesFile)}`,
    ...lines,
    ...identityNote(input),
    'Written again by `flyte-aws-setup outputs --config FILE`: change the config, not this file.',
  ];
}

function templatesNote(input: HandoffInput): string[] {
  const w = input.workers;
  if (w === undefined) return [];
  if (!annotated(input)) {
    return [
      'The cluster resource templates create each project-domain namespace and the service account its task pods',
      `run as (${w.serviceAccount}), without a role annotation: its pod identity association gives it the role.`,
    ];
  }
  const account = accountFromVariable(input) ? `${w.serviceAccount}, or a project's own` : w.serviceAccount;
  return [
    'The cluster resource templates create each project-domain namespace and annotate the service account its',
    `task pods run as (${account}) with the domain's defaultIamRole (${w.roleName}), or with the role`,
    'a cluster-resource-attribute sets for that project-domain.',
  ];
}

function s3(input: HandoffInput): Record<string, unknown> {
  return { region: input.region, authType: 'iam' };
}

function backendAccount(input: HandoffInput) {
  const system = input.system;
  return system === undefined
    ? {}
    : {
        serviceAccount: {
          create: true,
          name: system.serviceAccounts[0]!,
          annotations: roleAnnotations(input, system.arn),
        },
      };
}

/** flyte-binary v1 (Flyte 1): one backend service account, task roles through the cluster resource templates. */
export function flyteBinaryValues(input: HandoffInput): string {
  const spec = CHARTS['flyte-binary'];
  const admin = flyteadminSettings(input);
  const data = customData(input);
  const inline = {
    ...(admin ? { flyteadmin: admin } : {}),
    ...(data.length > 0 ? { cluster_resources: { customData: data } } : {}),
  };
  const values = {
    configuration: {
      storage: {
        metadataContainer: input.bucket,
        userDataContainer: input.bucket,
        provider: 's3',
        providerConfig: { s3: s3(input) },
      },
      ...(Object.keys(inline).length > 0 ? { inline } : {}),
    },
    ...backendAccount(input),
    ...(input.workers
      ? {
          clusterResourceTemplates: {
            inline: {
              '001_namespace.yaml': namespaceTemplate(),
              '002_serviceaccount.yaml': serviceAccountTemplate(input),
            },
          },
        }
      : {}),
  };
  const system = input.system;
  return yamlText(
    values,
    header(input, spec, [
      ...(system ? [`The backend's service account ${system.serviceAccounts[0]} assumes ${system.roleName}.`] : []),
      ...(admin
        ? [
            `Task pods run as ${admin.k8sServiceAccount} (flyteadmin.k8sServiceAccount) unless a project says otherwise.`,
          ]
        : []),
      ...templatesNote(input),
    ]),
  );
}

/** flyte-core v1 (Flyte 1): the backend role on each component's service account; task roles as above. */
export function flyteCoreValues(input: HandoffInput): string {
  const spec = CHARTS['flyte-core'];
  const { system, workers } = input;
  const admin = flyteadminSettings(input);
  const account = system
    ? { serviceAccount: { create: true, annotations: roleAnnotations(input, system.arn) } }
    : undefined;
  const values = {
    ...(account ? Object.fromEntries(system!.serviceAccounts.map((name) => [name, account])) : {}),
    storage: { type: 's3', bucketName: input.bucket, s3: s3(input) },
    configmap: {
      core: { propeller: { 'rawoutput-prefix': `s3://${input.bucket}/` } },
      ...(admin ? { adminServer: { flyteadmin: admin } } : {}),
    },
    ...(workers
      ? {
          cluster_resource_manager: {
            enabled: true,
            config: { cluster_resources: { customData: customData(input) } },
            templates: [
              { key: 'aa_namespace', value: namespaceTemplate() },
              { key: 'ab_default_service_account', value: serviceAccountTemplate(input) },
            ],
          },
        }
      : {}),
  };
  return yamlText(
    values,
    header(input, spec, [
      ...(system
        ? [`${system.serviceAccounts.join(', ')} run as service accounts of those names and assume ${system.roleName}.`]
        : []),
      ...(admin
        ? [
            `Task pods run as ${admin.k8sServiceAccount} (flyteadmin.k8sServiceAccount) unless a project says otherwise.`,
          ]
        : []),
      ...templatesNote(input),
      ...(workers
        ? ['Its lists (customData, templates) replace those of values-eks.yaml, resource quotas included.']
        : []),
    ]),
  );
}

/** flyte-binary v2 (Flyte 2): one service account for the backend and, in one namespace, the task pods. */
export function flyte2Values(input: HandoffInput): string {
  const spec = CHARTS.flyte2;
  const system = input.system;
  const values = {
    'flyte-core-components': {
      runs: { storagePrefix: `s3://${input.bucket}` },
      actions: { kubernetes: { namespace: input.namespace } },
    },
    configuration: {
      storage: { metadataContainer: input.bucket, provider: 's3', providerConfig: { s3: s3(input) } },
      ...(system ? { inline: { executor: { defaultK8sServiceAccount: system.serviceAccounts[0]! } } } : {}),
    },
    ...backendAccount(input),
  };
  return yamlText(
    values,
    header(input, spec, [
      ...(system
        ? [
            `The backend's service account ${system.serviceAccounts[0]} assumes ${system.roleName}; task pods run in`,
            `${input.namespace} as the same service account (executor.defaultK8sServiceAccount), with the same role.`,
          ]
        : []),
    ]),
  );
}

const VALUES: Record<FlyteTarget, (input: HandoffInput) => string> = {
  'flyte-binary': flyteBinaryValues,
  'flyte-core': flyteCoreValues,
  flyte2: flyte2Values,
};

/** The values file of a Flyte target. */
export function helmValues(target: FlyteTarget, input: HandoffInput): string {
  return VALUES[target](input);
}
