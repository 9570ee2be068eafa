/**
 * What a section is: one step of the documents, turned into the AWS resources it wants. Each section module is
 * pure: the config and the facts in, desired resources out.
 */
import type { Config, SectionId } from '../config/schema.js';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE } from '../config/rules.js';
import type { DesiredResource, DesiredRole, Facts, Note, Tags } from '../model.js';
import { irsaTrustPolicy } from '../policy/document.js';
import { oidcProviderArn, policyArn, roleArn } from '../policy/partition.js';

/** Facts every section may use; the issuer only exists when the cluster is ready. */
export interface SectionContext {
  config: Config;
  facts: Facts;
  /** The cluster's OIDC issuer URL (sections that need the cluster only run when it is known). */
  issuerUrl?: string;
}

export interface SectionDefinition {
  id: SectionId;
  title: string;
  /** Two or three lines on what the section is and why, for the plan and the wizard. */
  explain: string;
  /** Needs the EKS cluster's OIDC issuer. */
  needsCluster: boolean;
  /** Sections whose resources must exist before this one's are created. */
  dependsOn: SectionId[];
  /** The resources the config wants; [] when the section is disabled. */
  desired(ctx: SectionContext): DesiredResource[];
  /** What the plan should say about the section beside its resources (pure, from the config and the facts). */
  notes?(ctx: SectionContext): Note[];
  /** Why it is skipped, when that is not simply `<id>: false`. */
  skipReason?(config: Config): string;
}

/** The config's tags plus the tool's own. */
export function resourceTags(config: Config): Tags {
  return { ...config.tags, [MANAGED_BY_KEY]: MANAGED_BY_VALUE };
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
