/**
 * Per project-domain cluster resource attributes (seed 003): one file per `<project>-<domain>` of `projectRoles`
 * that binds it to its project's role, and the commands that send them. Flyte's flytectl reads
 * `attributes.defaultIamRole`; Union's uctl reads `attributes.defaultUserRoleValue`, nested under `attributes:`
 * (seed 003 shows it beside `attributes:`, which the attribute file format does not read). Pure.
 */
import type { Flavor, HandoffInput } from './input.js';
import { projectNamespace } from '../sections/project-roles.js';
import { yamlText } from './yaml.js';

export const ATTRIBUTES_DIR = 'cluster-resource-attributes';
export const ATTRIBUTES_SCRIPT = 'cluster-resource-attributes.sh';

const CLI: Record<Flavor, string> = { flyte: 'flytectl', union: 'uctl' };
const ATTRIBUTE: Record<Flavor, string> = { flyte: 'defaultIamRole', union: 'defaultUserRoleValue' };

export interface AttributeFile {
  project: string;
  domain: string;
  /** Relative to the output directory. */
  path: string;
  content: string;
}

export function attributeFilePath(project: string, domain: string): string {
  return `${ATTRIBUTES_DIR}/${projectNamespace(project, domain)}.yaml`;
}

/** The replace-everything warning that goes wherever the command is written. */
export function replaceWarning(flavor: Flavor): string[] {
  return [
    `WARNING: \`${CLI[flavor]} update cluster-resource-attribute\` REPLACES ALL cluster resource attributes of the`,
    `project-domain, not only ${ATTRIBUTE[flavor]}. If a project-domain has others, see them first with`,
    `\`${CLI[flavor]} get cluster-resource-attribute -p PROJECT -d DOMAIN\` and add them to its file.`,
  ];
}

export function attributeFiles(input: HandoffInput): AttributeFile[] {
  return input.projects.flatMap((p) =>
    p.domains.map((domain): AttributeFile => {
      const path = attributeFilePath(p.project, domain);
      const header = [
        `Cluster resource attributes of project ${p.project}, domain ${domain}: its pods run as ${p.roleName}.`,
        `Written by flyte-aws-setup (account ${input.accountId}). Send it with:`,
        `  ${updateCommand(input.flavor, path)}`,
        ...replaceWarning(input.flavor),
      ];
      return {
        project: p.project,
        domain,
        path,
        content: yamlText({ domain, project: p.project, attributes: { [ATTRIBUTE[input.flavor]]: p.arn } }, header),
      };
    }),
  );
}

export function updateCommand(flavor: Flavor, path: string): string {
  return `${CLI[flavor]} update cluster-resource-attribute --attrFile ${path}`;
}

/** A shell script with one update command per project-domain, run from anywhere. */
export function attributesScript(input: HandoffInput): string {
  const files = attributeFiles(input);
  return [
    '#!/bin/sh',
    `# Binds each project-domain of projectRoles to its IAM role (written by flyte-aws-setup, account ${input.accountId}).`,
    ...replaceWarning(input.flavor).map((l) => `# ${l}`),
    `# Check one afterwards with: ${CLI[input.flavor]} get cluster-resource-attribute -p PROJECT -d DOMAIN`,
    'set -e',
    'cd "$(dirname "$0")"',
    ...files.map((f) => updateCommand(input.flavor, f.path)),
    '',
  ].join('\n');
}
