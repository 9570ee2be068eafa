/**
 * Kubernetes ServiceAccount manifests annotated with the role ARNs, for clusters where Flyte is not installed
 * with the Helm values (which create and annotate these service accounts themselves). Pure.
 */
import { annotated, identityNote, ROLE_ARN_ANNOTATION } from './helm.js';
import { projectNamespaces, type HandoffInput } from './input.js';
import { yamlStream } from './yaml.js';

export const SERVICE_ACCOUNTS_FILE = 'service-accounts.yaml';
/** The workers' service account without a namespace, for `kubectl apply -n <namespace>` in each one. */
export const WORKERS_SERVICE_ACCOUNT_FILE = 'workers-service-account.yaml';

export interface ServiceAccountSpec {
  name: string;
  namespace?: string;
  roleArn: string;
}

/** A ServiceAccount; `annotate: false` (Pod Identity) leaves out the role annotation, which IRSA would put first. */
export function serviceAccountManifest(sa: ServiceAccountSpec, annotate = true): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: sa.name,
      ...(sa.namespace !== undefined ? { namespace: sa.namespace } : {}),
      ...(annotate ? { annotations: { [ROLE_ARN_ANNOTATION]: sa.roleArn } } : {}),
    },
  };
}

/** The service accounts whose namespace is known: the backend's, the listed workers namespaces', the projects'. */
export function namespacedServiceAccounts(input: HandoffInput): ServiceAccountSpec[] {
  const out: ServiceAccountSpec[] = [];
  for (const name of input.system?.serviceAccounts ?? []) {
    out.push({ name, namespace: input.namespace, roleArn: input.system!.arn });
  }
  const projectNs = new Set(input.projects.flatMap(projectNamespaces));
  if (input.workers && input.workers.namespaces !== '*') {
    for (const ns of input.workers.namespaces) {
      // A project-domain namespace gets its project's role below.
      if (!projectNs.has(ns))
        out.push({ name: input.workers.serviceAccount, namespace: ns, roleArn: input.workers.arn });
    }
  }
  for (const p of input.projects) {
    for (const ns of projectNamespaces(p)) out.push({ name: p.serviceAccount, namespace: ns, roleArn: p.arn });
  }
  return out;
}

export interface ManifestFile {
  path: string;
  content: string;
}

export function serviceAccountFiles(input: HandoffInput): ManifestFile[] {
  const files: ManifestFile[] = [];
  const namespaced = namespacedServiceAccounts(input);
  const annotate = annotated(input);
  if (namespaced.length > 0) {
    files.push({
      path: SERVICE_ACCOUNTS_FILE,
      content: yamlStream(
        namespaced.map((sa) => serviceAccountManifest(sa, annotate)),
        [
          annotate
            ? `Kubernetes service accounts annotated with their IAM roles (IRSA), written by flyte-aws-setup (account ${input.accountId}).`
            : `Kubernetes service accounts, without a role annotation: their pod identity associations give them their roles (written by flyte-aws-setup, account ${input.accountId}).`,
          'For clusters where Flyte is not installed with the Helm values (those create these themselves):',
          `  kubectl apply -f ${SERVICE_ACCOUNTS_FILE}`,
          'The namespaces must exist.',
          ...identityNote(input),
        ],
      ),
    });
  }
  if (input.workers && input.workers.namespaces === '*') {
    files.push({
      path: WORKERS_SERVICE_ACCOUNT_FILE,
      content: yamlStream(
        [serviceAccountManifest({ name: input.workers.serviceAccount, roleArn: input.workers.arn }, annotate)],
        [
          annotate
            ? `The task pods' service account, annotated with ${input.workers.roleName} (written by flyte-aws-setup).`
            : `The task pods' service account, without a role annotation (written by flyte-aws-setup).`,
          annotate
            ? 'Its trust lets in this service account in every namespace; apply it in each project-domain namespace'
            : 'Pod Identity gives it a role only where it has an association; apply it in each project-domain namespace',
          '(other than those of projectRoles, which service-accounts.yaml covers):',
          `  kubectl apply -n PROJECT-DOMAIN -f ${WORKERS_SERVICE_ACCOUNT_FILE}`,
        ],
      ),
    });
  }
  return files;
}
