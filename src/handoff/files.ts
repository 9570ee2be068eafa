/**
 * The whole hand-off: every file (relative path, content, what it is for), the caveats to print beside them, and
 * the next commands. The target decides the files: its chart's values (none for Union, which installs its data
 * plane itself), the project-domain attributes in its CLI's format, the ServiceAccounts. Pure; `write.ts` puts
 * the files on disk.
 */
import { join } from 'node:path';
import { ATTRIBUTES_SCRIPT, attributeFiles, attributesCli, attributesScript, replaceWarning } from './attributes.js';
import { chartOf, helmInstallCommand, type FlyteTarget } from './charts.js';
import { helmValues } from './helm.js';
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
  const chart = chartOf(input.target);
  if (chart !== undefined) {
    files.push({
      path: chart.valuesFile,
      content: helmValues(input.target as FlyteTarget, input),
      what: `Helm values for ${chart.chart} ${chart.version} (${chart.flyte})`,
    });
  }
  const attributes = attributeFiles(input);
  for (const f of attributes) {
    files.push({
      path: f.path,
      content: f.content,
      what:
        f.kind === 'cluster-resource-attribute'
          ? `attributes of ${f.project}/${f.domain}`
          : `execution config of ${f.project}/${f.domain} (its service account)`,
    });
  }
  if (attributes.length > 0) {
    files.push({
      path: ATTRIBUTES_SCRIPT,
      content: attributesScript(input),
      what: `the ${attributesCli(input.target)} commands that send them`,
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
  const { workers } = input;
  const flyte1 = input.target === 'flyte-binary' || input.target === 'flyte-core';
  if (flyte1 && workers === undefined) {
    out.push(
      'workersRole is off: the Helm values set no defaultIamRole and no service account template, so task pods ' +
        'get no role (outside the project-domains of projectRoles, whose attributes need such a template too)',
    );
  }
  if (input.identity === 'pod-identity' && workers && workers.namespaces === '*') {
    out.push(
      `${workers.roleName}: Pod Identity has no wildcard, so only the namespaces the config lists have an ` +
        "association; other project-domains' task pods get no role until their namespaces are listed and the setup " +
        'runs again',
    );
  }
  if (input.identity === 'both') {
    out.push(
      'identity: both: the service accounts keep their IRSA annotation, which takes precedence over Pod Identity; ' +
        'the values file says how to move them (remove the annotation, then identity: pod-identity)',
    );
  }
  if (workers && workers.namespaces !== '*') {
    out.push(
      `${workers.roleName} trusts only the namespaces ${workers.namespaces.join(', ')}; task pods in other ` +
        'project-domain namespaces cannot assume it (workersRole.allNamespaces: true lets in every namespace)',
    );
  }
  return out;
}

/** The next commands, with paths under `outDir` (as the operator gave it). */
export function nextSteps(input: HandoffInput, outDir: string, files: HandoffFile[]): string[] {
  const has = (p: string) => files.some((f) => f.path === p);
  const steps: string[] = [];
  const chart = chartOf(input.target);
  if (chart !== undefined && has(chart.valuesFile)) {
    steps.push(helmInstallCommand(chart, input.namespace, join(outDir, chart.valuesFile)));
  }
  if (has(ATTRIBUTES_SCRIPT)) {
    steps.push(`sh ${join(outDir, ATTRIBUTES_SCRIPT)}`);
    const kinds = new Set(attributeFiles(input).map((f) => f.kind));
    for (const kind of kinds) steps.push(...replaceWarning(input.target, kind).map((l) => `  ${l}`));
  }
  if (input.target === 'union' && !has(ATTRIBUTES_SCRIPT)) {
    steps.push('No projectRoles: every project-domain uses the role Union set up; nothing to send with uctl.');
  }
  return steps;
}
