/**
 * The whole hand-off: every file (relative path, content, what it is for), the caveats to print beside them, and
 * the next commands. Pure; `write.ts` puts the files on disk.
 */
import { join } from 'node:path';
import { ATTRIBUTES_SCRIPT, attributeFiles, attributesScript, replaceWarning } from './attributes.js';
import {
  FLYTE_BINARY_VALUES,
  FLYTE_CORE_VALUES,
  flyteBinaryValues,
  flyteCoreValues,
  helmInstallCommand,
} from './helm.js';
import type { HandoffInput } from './input.js';
import { serviceAccountFiles, SERVICE_ACCOUNTS_FILE } from './service-accounts.js';

export interface HandoffFile {
  /** Relative to the output directory, `/`-separated. */
  path: string;
  content: string;
  what: string;
}

export function handoffFiles(input: HandoffInput): HandoffFile[] {
  const files: HandoffFile[] = [];
  // Union installs its data plane itself: the Flyte charts' values are for open-source Flyte only.
  if (input.flavor === 'flyte') {
    files.push(
      { path: FLYTE_BINARY_VALUES, content: flyteBinaryValues(input), what: 'Helm values for flyte-binary' },
      { path: FLYTE_CORE_VALUES, content: flyteCoreValues(input), what: 'Helm values for flyte-core' },
    );
  }
  const attributes = attributeFiles(input);
  for (const f of attributes) {
    files.push({ path: f.path, content: f.content, what: `attributes of ${f.project}/${f.domain}` });
  }
  if (attributes.length > 0) {
    files.push({
      path: ATTRIBUTES_SCRIPT,
      content: attributesScript(input),
      what: `the ${input.flavor === 'union' ? 'uctl' : 'flytectl'} commands that send them`,
    });
  }
  for (const f of serviceAccountFiles(input)) {
    files.push({
      path: f.path,
      content: f.content,
      what:
        f.path === SERVICE_ACCOUNTS_FILE
          ? 'ServiceAccounts with their role ARNs (clusters without these Helm values)'
          : "the task pods' ServiceAccount, for each project-domain namespace",
    });
  }
  return files;
}

/** What the operator should know about these files for this config. */
export function handoffCaveats(input: HandoffInput): string[] {
  const out: string[] = [];
  const { system, workers } = input;
  if (input.flavor === 'flyte' && system) {
    out.push(
      `flyte-core runs flyteadmin, flytepropeller and datacatalog as their own service accounts, but ${system.roleName} ` +
        `trusts only system:serviceaccount:${input.namespace}:${system.serviceAccount} (flyte-binary's); with ` +
        'flyte-core those pods cannot assume it until its trust names them',
    );
  }
  if (input.flavor === 'flyte' && workers === undefined) {
    out.push(
      'workersRole is off: the Helm values set no defaultIamRole and no service account template, so task pods ' +
        'get no role (outside the project-domains of projectRoles, whose attributes need such a template too)',
    );
  }
  if (workers && workers.namespaces !== '*') {
    out.push(
      `${workers.roleName} trusts only the namespaces ${workers.namespaces.join(', ')}; task pods in other ` +
        'project-domain namespaces cannot assume it (workersRole.allNamespaces: true lets in every namespace)',
    );
  }
  for (const p of input.projects) {
    if (workers && p.serviceAccount !== workers.serviceAccount) {
      out.push(
        `${p.roleName} trusts the service account ${p.serviceAccount}, but the cluster resource template annotates ` +
          `${workers.serviceAccount}; project ${p.project}'s pods must run as ${p.serviceAccount} to assume it`,
      );
    }
  }
  return out;
}

/** The next commands, with paths under `outDir` (as the operator gave it). */
export function nextSteps(input: HandoffInput, outDir: string, files: HandoffFile[]): string[] {
  const has = (p: string) => files.some((f) => f.path === p);
  const steps: string[] = [];
  if (has(FLYTE_BINARY_VALUES)) {
    steps.push(`${helmInstallCommand(input, join(outDir, FLYTE_BINARY_VALUES))}`);
  }
  if (has(ATTRIBUTES_SCRIPT)) {
    steps.push(`sh ${join(outDir, ATTRIBUTES_SCRIPT)}`);
    steps.push(...replaceWarning(input.flavor).map((l) => `  ${l}`));
  }
  if (input.flavor === 'union' && !has(ATTRIBUTES_SCRIPT)) {
    steps.push('No projectRoles: every project-domain uses the role Union set up; nothing to send with uctl.');
  }
  return steps;
}
