/**
 * The commented config file `init` writes: the values given, then every other key commented out with its default
 * and what it does (from the schema's own descriptions), so that the file documents itself.
 */
import { stringify } from 'yaml';
import { configSchema, DEFAULT_NAMES, descriptionOf } from './schema.js';

export interface TemplateValues {
  cluster: string;
  bucket: string;
  region?: string;
  profile?: string;
  namespace?: string;
}

/** A scalar as YAML writes it (quoted where YAML would read it as something else). */
function scalar(value: string): string {
  // Quoted as YAML 1.1 needs (`on`, `yes`, `1e3`), so that older readers too see a string.
  return stringify(value, { version: '1.1' }).trimEnd();
}

/** The schema's description of a key (an optional key's is on the schema it wraps). */
function describe(key: keyof typeof configSchema.shape): string {
  return descriptionOf(configSchema.shape[key]) ?? '';
}

/** The sections, commented out, each with its default (the documents' setup). */
const DEFAULTS: [key: keyof typeof configSchema.shape, line: string][] = [
  ['tags', 'tags: { team: mlplatform }'],
  ['permissionsBoundary', 'permissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess'],
  ['path', 'path: /'],
  ['clusterRole', `clusterRole: { name: ${DEFAULT_NAMES.clusterRole} }`],
  ['nodeRole', `nodeRole: { name: ${DEFAULT_NAMES.nodeRole} }`],
  ['oidcProvider', 'oidcProvider: true'],
  ['customPolicy', `customPolicy: { name: ${DEFAULT_NAMES.customPolicy} }`],
  [
    'systemRole',
    `systemRole: { name: ${DEFAULT_NAMES.systemRole}, serviceAccount: ${DEFAULT_NAMES.systemServiceAccount} }`,
  ],
  [
    'workersRole',
    `workersRole: { name: ${DEFAULT_NAMES.workersRole}, serviceAccount: ${DEFAULT_NAMES.workersServiceAccount}, allNamespaces: true }`,
  ],
  [
    'projectRoles',
    'projectRoles:\n#   - project: fraud\n#     extraPolicies: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]',
  ],
  ['vpcDns', 'vpcDns: check'],
];

export function configTemplate(values: TemplateValues, shown: string): string {
  const given: [string, string | undefined][] = [
    ['region', values.region],
    ['profile', values.profile],
    ['cluster', values.cluster],
    ['bucket', values.bucket],
    ['namespace', values.namespace],
  ];
  const lines = [
    '# flyte-aws-setup config: the AWS IAM pieces Flyte needs on Amazon EKS.',
    `# Plan it:   npx flyte-aws-setup plan --config ${shown}`,
    `# Apply it:  npx flyte-aws-setup apply --config ${shown} --yes`,
    '# Every other key below is commented out with its default: uncomment a line to change it.',
    '',
  ];
  for (const [key, value] of given) {
    if (value === undefined) continue;
    lines.push(`# ${describe(key as keyof typeof configSchema.shape)}`, `${key}: ${scalar(value)}`);
  }
  lines.push('');
  for (const [key, line] of DEFAULTS) {
    lines.push(`# ${describe(key)}`, `# ${line}`);
  }
  return `${lines.join('\n')}\n`;
}
