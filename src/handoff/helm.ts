/**
 * Helm values that hand the roles to Flyte: the flyte-binary chart (DESIGN.md, "Hand-off to Flyte") and the
 * flyte-core chart. Only what IAM and S3 need; the operator keeps the rest (database, ingress, auth) in their
 * own values file and passes both. Pure: input in, YAML text out.
 */
import type { HandoffInput } from './input.js';
import { yamlText } from './yaml.js';

/** The annotation IRSA reads on a Kubernetes service account. */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** flyte-core runs these components, each as a service account of its own name, and each reads the bucket. */
export const FLYTE_CORE_SERVICE_ACCOUNTS = ['flyteadmin', 'flytepropeller', 'datacatalog'] as const;

export const FLYTE_BINARY_VALUES = 'flyte-binary-values.yaml';
export const FLYTE_CORE_VALUES = 'flyte-core-values.yaml';

/** The cluster resource template that creates each project-domain namespace. */
export function namespaceTemplate(): string {
  return ['apiVersion: v1', 'kind: Namespace', 'metadata:', "  name: '{{ namespace }}'", ''].join('\n');
}

/**
 * The cluster resource template that annotates each namespace's task service account with `{{ defaultIamRole }}`
 * (its domain's value from customData, or a project-domain's cluster-resource-attribute).
 */
export function serviceAccountTemplate(serviceAccount: string): string {
  return [
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata:',
    `  name: ${serviceAccount}`,
    "  namespace: '{{ namespace }}'",
    '  annotations:',
    `    ${ROLE_ARN_ANNOTATION}: '{{ defaultIamRole }}'`,
    '',
  ].join('\n');
}

/** `cluster_resources.customData`: every domain's `defaultIamRole` is the workers role. */
export function customData(domains: string[], workersArn: string): Record<string, unknown>[] {
  return domains.map((d) => ({ [d]: [{ defaultIamRole: { value: workersArn } }] }));
}

function where(input: HandoffInput): string {
  return `account ${input.accountId}, region ${input.region}${input.cluster ? `, cluster ${input.cluster}` : ''}`;
}

export function helmInstallCommand(input: HandoffInput, valuesFile: string): string {
  return (
    `helm install flyte-backend flyteorg/flyte-binary --namespace ${input.namespace} --create-namespace ` +
    `--values YOUR-VALUES.yaml --values ${valuesFile}`
  );
}

export function flyteBinaryValues(input: HandoffInput): string {
  const { system, workers } = input;
  const values = {
    configuration: {
      storage: {
        metadataContainer: input.bucket,
        userDataContainer: input.bucket,
        provider: 's3',
        providerConfig: { s3: { region: input.region, authType: 'iam' } },
      },
      ...(workers ? { inline: { cluster_resources: { customData: customData(input.domains, workers.arn) } } } : {}),
    },
    ...(system
      ? {
          serviceAccount: {
            create: true,
            name: system.serviceAccount,
            annotations: { [ROLE_ARN_ANNOTATION]: system.arn },
          },
        }
      : {}),
    ...(workers
      ? {
          clusterResourceTemplates: {
            inline: {
              '001_namespace.yaml': namespaceTemplate(),
              '002_serviceaccount.yaml': serviceAccountTemplate(workers.serviceAccount),
            },
          },
        }
      : {}),
  };
  const header = [
    `Helm values for the flyte-binary chart, written by flyte-aws-setup (${where(input)}).`,
    'Only what IAM and S3 need: keep your own settings (database, ingress, auth) in another values file and',
    'pass both, this one last:',
    `  ${helmInstallCommand(input, FLYTE_BINARY_VALUES)}`,
    ...(system ? [`The backend's service account ${system.serviceAccount} assumes ${system.roleName}.`] : []),
    ...(workers
      ? [
          "The cluster resource templates replace the chart's defaults: they create each project-domain namespace",
          `and annotate its ${workers.serviceAccount} service account with the domain's defaultIamRole (${workers.roleName}),`,
          'or with the role a cluster-resource-attribute sets for that project-domain.',
        ]
      : []),
    'Written again by `flyte-aws-setup outputs --config FILE`: change the config, not this file.',
  ];
  return yamlText(values, header);
}

export function flyteCoreValues(input: HandoffInput): string {
  const { system, workers } = input;
  const account = system
    ? { serviceAccount: { create: true, annotations: { [ROLE_ARN_ANNOTATION]: system.arn } } }
    : undefined;
  const values = {
    ...(account ? Object.fromEntries(FLYTE_CORE_SERVICE_ACCOUNTS.map((name) => [name, account])) : {}),
    storage: { type: 's3', bucketName: input.bucket, s3: { region: input.region, authType: 'iam' } },
    configmap: { core: { propeller: { 'rawoutput-prefix': `s3://${input.bucket}/` } } },
    ...(workers
      ? {
          cluster_resource_manager: {
            enabled: true,
            config: { cluster_resources: { customData: customData(input.domains, workers.arn) } },
            templates: [
              { key: 'aa_namespace', value: namespaceTemplate() },
              { key: 'ab_default_service_account', value: serviceAccountTemplate(workers.serviceAccount) },
            ],
          },
        }
      : {}),
  };
  const header = [
    `Helm values for the flyte-core chart, written by flyte-aws-setup (${where(input)}).`,
    'Only what IAM and S3 need: keep your own settings in another values file and pass both, this one last:',
    `  helm install flyte flyteorg/flyte-core --namespace ${input.namespace} --create-namespace --values YOUR-VALUES.yaml --values ${FLYTE_CORE_VALUES}`,
    ...(system
      ? [
          `WARNING: flyte-core runs ${FLYTE_CORE_SERVICE_ACCOUNTS.join(', ')} as service accounts of those names, but`,
          `${system.roleName} trusts only system:serviceaccount:${input.namespace}:${system.serviceAccount}; until its trust`,
          'names them, these pods cannot assume it (flyte-binary runs as the one service account it trusts).',
        ]
      : []),
    'Written again by `flyte-aws-setup outputs --config FILE`: change the config, not this file.',
  ];
  return yamlText(values, header);
}
