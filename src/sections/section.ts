/**
 * What a section is: one step of the documents, turned into the AWS resources it wants. Each section module is
 * pure: the config and the facts in, desired resources out.
 */
import type { Config, ProjectRole, SectionId } from '../config/schema.js';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, SETUP_KEY } from '../config/rules.js';
import type { Problem } from '../errors.js';
import type { DesiredResource, DesiredRole, Facts, Note, Tags } from '../model.js';
import { irsaTrustPolicy } from '../policy/document.js';
import { oidcProviderArn, partitionOfRegion, policyArn, roleArn } from '../policy/partition.js';

/** Facts every section may use; the issuer only exists when the cluster is ready. */
export interface SectionContext {
  config: Config;
  facts: Facts;
  /** The cluster's OIDC issuer URL (sections that need the cluster only run when it is known). */
  issuerUrl?: string;
}

/** A config key path, e.g. ['projectRoles', 0, 'roleName']. */
export type ConfigPath = (string | number)[];

/**
 * What a config rule reads: the resolved config (of the keys that passed the schema), the project entries by their
 * index in the file (undefined where an entry failed the schema), and the file's own mapping, to name the keys it
 * holds.
 */
export interface RuleInput {
  config: Config;
  projects: (ProjectRole | undefined)[];
  input: Record<string, unknown>;
}

/** A rule that spans keys, checked after the schema; each problem names the key it is about. */
export interface ConfigRule {
  name: string;
  check(r: RuleInput): Problem[];
}

/** The rule input of a config that is valid already (destroy and verify ask sections for their roles with it). */
export function ruleInputOf(config: Config): RuleInput {
  return { config, projects: config.projectRoles, input: {} };
}

/** A role the config names: one the section makes, or (adopted) one that exists already and only gets attachments. */
export interface RoleClaim {
  name: string;
  /** Where the config names it. */
  path: ConfigPath;
  /**
   * The role exists before the tool and is never its own (Union's `<prefix>-userflyterole`): what the config says
   * of it, for a config that names one of the tool's own roles there.
   */
  adopted?: string;
}

export interface SectionDefinition {
  id: SectionId;
  title: string;
  /** Two or three lines on what the section is and why, for the plan and the wizard. */
  explain: string;
  /** Needs the EKS cluster's OIDC issuer. */
  needsCluster: boolean;
  /** What kind of identity its roles are: assumed by pods through the cluster's OIDC provider (IRSA), or none. */
  identity: 'none' | 'irsa';
  /** Sections whose resources must exist before this one's are created. */
  dependsOn: SectionId[];
  /**
   * Whether the config turns it on. `clusterNeeded` says whether another section that needs the cluster is on (for
   * a section that comes along with those).
   */
  enabled(config: Config, clusterNeeded: () => boolean): boolean;
  /** How a user turns it off in the config, as written there ('nodeRole: false', 'vpcDns: off'). */
  off: string;
  /** Its rules that span config keys. */
  rules?: readonly ConfigRule[];
  /** The roles the config names for it (destroy's roles, and the check that role names are unique). */
  roles?(r: RuleInput): RoleClaim[];
  /** The resources the config wants; [] when the section is disabled. */
  desired(ctx: SectionContext): DesiredResource[];
  /** What the plan should say about the section beside its resources (pure, from the config and the facts). */
  notes?(ctx: SectionContext): Note[];
  /** Why it is skipped, when that is not simply `<id>: false`. */
  skipReason?(config: Config): string;
}

/** The config's tags plus the tool's own: managed-by, and the setup it belongs to. */
export function resourceTags(config: Config): Tags {
  return { ...config.tags, [MANAGED_BY_KEY]: MANAGED_BY_VALUE, [SETUP_KEY]: config.setup };
}

export function customPolicyArn(ctx: SectionContext): string | undefined {
  const { config, facts } = ctx;
  return config.customPolicy === false
    ? undefined
    : policyArn(facts.partition, facts.accountId, config.path, config.customPolicy.name);
}

export function requireIssuer(ctx: SectionContext): string {
  if (ctx.issuerUrl === undefined) throw new Error('section needs the cluster issuer, but it is not known');
  return ctx.issuerUrl;
}

export function providerArnOf(ctx: SectionContext): string {
  return oidcProviderArn(ctx.facts.partition, ctx.facts.accountId, requireIssuer(ctx));
}

export interface RoleSpec {
  name: string;
  description: string;
  trust: DesiredRole['trust'];
  managedPolicies: string[];
}

export function desiredRole(ctx: SectionContext, spec: RoleSpec): DesiredRole {
  const { config, facts } = ctx;
  return {
    kind: 'role',
    name: spec.name,
    path: config.path,
    arn: roleArn(facts.partition, facts.accountId, config.path, spec.name),
    description: spec.description,
    trust: spec.trust,
    managedPolicies: [...new Set(spec.managedPolicies)],
    ...(config.permissionsBoundary !== undefined ? { boundary: config.permissionsBoundary } : {}),
    tags: resourceTags(config),
  };
}

/** An IRSA role: trust for service account subjects of the cluster's issuer, the custom policy plus extras. */
export function desiredIrsaRole(
  ctx: SectionContext,
  spec: { name: string; description: string; subjects: string[]; extraPolicies: string[] },
): DesiredRole {
  const custom = customPolicyArn(ctx);
  return desiredRole(ctx, {
    name: spec.name,
    description: spec.description,
    trust: irsaTrustPolicy({ providerArn: providerArnOf(ctx), issuerUrl: requireIssuer(ctx), subjects: spec.subjects }),
    managedPolicies: [...(custom !== undefined ? [custom] : []), ...spec.extraPolicies],
  });
}

/** Policy ARNs must be in the partition of the config's region. */
export function partitionProblems(config: Config, arns: [arn: string, path: ConfigPath][]): Problem[] {
  if (config.region === undefined) return [];
  const partition = partitionOfRegion(config.region);
  return arns.flatMap(([arn, path]) => {
    const p = arn.split(':')[1];
    return p !== undefined && p !== partition
      ? [{ path, message: `is in partition ${p}, but region ${config.region} is in ${partition}` }]
      : [];
  });
}

/** The extra policy ARNs of a section's config, with their key paths. */
export function extraPolicyArns(extraPolicies: string[], path: ConfigPath): [string, ConfigPath][] {
  return extraPolicies.map((arn, i): [string, ConfigPath] => [arn, [...path, 'extraPolicies', i]]);
}

/**
 * An issuer and provider ARN as long as real ones, to size trust policies before the cluster is known (without a
 * region: a long commercial one). A run measures the real document again before sending it.
 */
export function trustSizeContext(config: Config): { providerArn: string; issuerUrl: string } {
  const region = config.region ?? 'ap-southeast-5';
  const partition = partitionOfRegion(config.region);
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  const issuerUrl = `https://oidc.eks.${region}.${suffix}/id/${'0'.repeat(32)}`;
  return { issuerUrl, providerArn: `arn:${partition}:iam::000000000000:oidc-provider/${issuerUrl.slice(8)}` };
}

export function pathText(path: ConfigPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
