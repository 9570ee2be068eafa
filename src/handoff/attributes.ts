/**
 * Per project-domain attributes (seed 003): one file per `<project>-<domain>` of `projectRoles` that binds it to
 * its project's role, and the commands that send them. Flyte's flytectl reads `attributes.defaultIamRole`; Union's
 * uctl reads `attributes.defaultUserRoleValue`, nested under `attributes:` (seed 003 shows it beside `attributes:`,
 * which the attribute file format does not read). A Flyte 1 project whose pods run as a service account of its own
 * also gets a workflow execution config that makes them run as it. Pure.
 */
import type { Target } from '../config/schema.js';
import { projectNamespace } from '../sections/project-roles.js';
import { accountFromVariable, TASK_SERVICE_ACCOUNT_VARIABLE } from './helm.js';
import { projectsWithOwnAccount, type HandoffInput } from './input.js';
import { yamlText } from './yaml.js';

export const ATTRIBUTES_DIR = 'cluster-resource-attributes';
export const EXECUTION_CONFIG_DIR = 'workflow-execution-config';
export const ATTRIBUTES_SCRIPT = 'cluster-resource-attributes.sh';

type Kind = 'cluster-resource-attribute' | 'workflow-execution-config';

function cli(target: Target): string {
  return target === 'union' ? 'uctl' : 'flytectl';
}

function roleAttribute(target: Target): string {
  return target === 'union' ? 'defaultUserRoleValue' : 'defaultIamRole';
}

export interface AttributeFile {
  kind: Kind;
  project: string;
  domain: string;
  /** Relative to the output directory. */
  path: string;
  content: string;
}

export function attributeFilePath(project: string, domain: string, kind: Kind = 'cluster-resource-attribute'): string {
  const dir = kind === 'cluster-resource-attribute' ? ATTRIBUTES_DIR : EXECUTION_CONFIG_DIR;
  return `${dir}/${projectNamespace(project, domain)}.yaml`;
}

/** The replace-everything warning that goes wherever the command is written. */
export function replaceWarning(target: Target, kind: Kind = 'cluster-resource-attribute'): string[] {
  const c = cli(target);
  if (kind === 'cluster-resource-attribute') {
    return [
      `WARNING: \`${c} update ${kind}\` REPLACES ALL the cluster resource attributes of the`,
      `project-domain, not only ${roleAttribute(target)}. If a project-domain has others, see them first with`,
      `\`${c} get ${kind} -p PROJECT -d DOMAIN\` and add them to its file.`,
    ];
  }
  return [
    `WARNING: \`${c} update ${kind}\` REPLACES ALL the workflow execution config of the`,
    'project-domain (max parallelism, labels...), not only its service account. If it has other settings,',
    `see them first with \`${c} get ${kind} -p PROJECT -d DOMAIN\` and add them to its file.`,
  ];
}

export function attributeFiles(input: HandoffInput): AttributeFile[] {
  const { target } = input;
  const withAccount = accountFromVariable(input);
  const ownAccount = new Set(target === 'union' ? [] : projectsWithOwnAccount(input).map((p) => p.project));
  return input.projects.flatMap((p) =>
    p.domains.flatMap((domain): AttributeFile[] => {
      const path = attributeFilePath(p.project, domain);
      const attributes = {
        [roleAttribute(target)]: p.arn,
        ...(withAccount ? { [TASK_SERVICE_ACCOUNT_VARIABLE]: p.serviceAccount } : {}),
      };
      const files: AttributeFile[] = [
        {
          kind: 'cluster-resource-attribute',
          project: p.project,
          domain,
          path,
          content: yamlText({ domain, project: p.project, attributes }, [
            `Cluster resource attributes of project ${p.project}, domain ${domain}: its pods run as ${p.roleName}.`,
            `Written by flyte-aws-setup (account ${input.accountId}). Send it with:`,
            `  ${updateCommand(target, path)}`,
            ...replaceWarning(target),
          ]),
        },
      ];
      if (ownAccount.has(p.project)) {
        const wec = attributeFilePath(p.project, domain, 'workflow-execution-config');
        files.push({
          kind: 'workflow-execution-config',
          project: p.project,
          domain,
          path: wec,
          content: yamlText(
            { domain, project: p.project, security_context: { run_as: { k8s_service_account: p.serviceAccount } } },
            [
              `Workflow execution config of project ${p.project}, domain ${domain}: its pods run as the service account`,
              `${p.serviceAccount}, which ${p.roleName} trusts. Written by flyte-aws-setup. Send it with:`,
              `  ${updateCommand(target, wec, 'workflow-execution-config')}`,
              ...replaceWarning(target, 'workflow-execution-config'),
            ],
          ),
        });
      }
      return files;
    }),
  );
}

/** The command that sends one file; `--force` so that it asks nothing (the script runs without a terminal). */
export function updateCommand(target: Target, path: string, kind: Kind = 'cluster-resource-attribute'): string {
  return `${cli(target)} update ${kind} --attrFile ${path} --force`;
}

/** A shell script with one update command per file, run from anywhere, without questions. */
export function attributesScript(input: HandoffInput): string {
  const files = attributeFiles(input);
  const kinds = [...new Set(files.map((f) => f.kind))];
  return [
    '#!/bin/sh',
    `# Binds each project-domain of projectRoles to its IAM role (written by flyte-aws-setup, account ${input.accountId}).`,
    ...kinds.flatMap((k) => replaceWarning(input.target, k).map((l) => `# ${l}`)),
    `# Check one afterwards with: ${cli(input.target)} get cluster-resource-attribute -p PROJECT -d DOMAIN`,
    '# --force: each update is made without asking (the script runs without a terminal).',
    'set -e',
    'cd "$(dirname "$0")"',
    ...files.map((f) => updateCommand(input.target, f.path, f.kind)),
    '',
  ].join('\n');
}

export function attributesCli(target: Target): string {
  return cli(target);
}
