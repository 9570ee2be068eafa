/**
 * `verify`'s findings, from a plan (which holds what AWS has for each resource) and the OIDC providers its roles'
 * trusts name. Two kinds: where AWS differs from the config (each step the next run would make), and the audit of
 * what AWS holds for the mistakes people make by hand. Pure.
 */
import { SETUP_KEY, TOOL_TAG_PREFIX } from '../config/rules.js';
import type { SectionId } from '../config/schema.js';
import { isIrsaSection } from '../sections/derived.js';
import type { CurrentOidcProvider, CurrentRole, Plan, ResourcePlan, Step } from '../model.js';
import { tooBroad } from '../engine/plan.js';
import { federatedPrincipals, isOidcProviderArn } from '../policy/irsa.js';
import { issuerHostPath, nameOfArn, oidcProviderArn } from '../policy/partition.js';
import type { Finding, FindingCode, LeftoverFinding } from './finding.js';
import { auditTrust } from './trust.js';

const KIND: Record<ResourcePlan['kind'], string> = {
  role: 'role',
  policy: 'policy',
  'oidc-provider': 'OIDC provider',
  attachment: 'role',
  'vpc-dns': 'VPC',
};

function resourceName(r: ResourcePlan): string {
  return `${KIND[r.kind]} ${r.name}`;
}

function tagText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/**
 * The tags a tag step adds that say how AWS differs from the config: not the tool's records (they only serve the
 * changes beside them), nor the setup's tag on a resource that existed before the tool (it comes with the records).
 */
function differingTags(tags: Record<string, string>, owned: boolean): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).filter(([k]) => !k.startsWith(TOOL_TAG_PREFIX) || (owned && k === SETUP_KEY)),
  );
}

/** What a step says about how AWS differs from the config; undefined for steps that only serve another. */
function stepProblem(step: Step, owned: boolean): { code: FindingCode; problem: string } | undefined {
  switch (step.op) {
    case 'CreateRole':
    case 'CreatePolicy':
    case 'CreateOpenIDConnectProvider':
      return { code: 'missing', problem: 'does not exist' };
    case 'UpdateAssumeRolePolicy':
      return { code: 'trust-differs', problem: 'its trust policy differs from the config' };
    case 'AttachRolePolicy':
      return {
        code: 'policy-not-attached',
        problem: `lacks the policy ${nameOfArn(step.policyArn)} (${step.policyArn})`,
      };
    case 'PutRolePermissionsBoundary':
      return {
        code: 'boundary-differs',
        problem: `has the permissions boundary ${step.before ?? '(none)'}, the config says ${step.boundary}`,
      };
    case 'TagRole':
    case 'TagPolicy':
    case 'TagOpenIDConnectProvider': {
      const tags = differingTags(step.tags, owned);
      if (Object.keys(tags).length === 0) return undefined;
      return { code: 'tags-missing', problem: `lacks the tags ${tagText(tags)}` };
    }
    case 'CreatePolicyVersion':
      return { code: 'document-differs', problem: 'its policy document differs from the config' };
    case 'AddClientIDToOpenIDConnectProvider':
      return { code: 'audience-missing', problem: `lacks the audience ${step.clientId}` };
    case 'ModifyVpcAttribute':
      return { code: 'vpc-dns-off', problem: `has ${step.attribute} off: nodes cannot register with the cluster` };
    case 'DetachRolePolicy':
      return {
        code: 'policy-not-wanted',
        problem: `has ${nameOfArn(step.policyArn)} attached, which flyte-aws-setup attached and the config no longer names`,
      };
    case 'DeletePolicyVersion':
    case 'UntagRole':
    case 'UntagPolicy':
    case 'SetDefaultPolicyVersion':
    case 'DeleteRole':
    case 'DeletePolicy':
    case 'DeleteOpenIDConnectProvider':
      return undefined;
  }
}

/** Where AWS differs from the config: the waiting sections, and each change the next run would make. */
export function driftFindings(plan: Plan, rerun: string): Finding[] {
  const out: Finding[] = [];
  for (const s of plan.sections) {
    if (s.waiting) {
      out.push({
        code: 'waiting',
        severity: 'error',
        section: s.id,
        resource: `cluster ${plan.facts.cluster.name ?? '(none)'}`,
        problem: `not set up: ${s.waiting.reason}`,
        fix: s.waiting.todo,
      });
    }
    for (const r of s.resources) {
      if (r.blocked !== undefined) {
        out.push({
          code: 'blocked',
          severity: 'error',
          section: s.id,
          resource: resourceName(r),
          problem: r.blocked,
          fix: 'see the problem',
        });
      }
      // What a check of the plan found and leaves alone (the VPC's DNS settings with vpcDns: check).
      for (const f of r.findings ?? []) {
        const unreadable = r.current?.kind === 'vpc-dns' && r.current.unreadable !== undefined;
        out.push({
          code: unreadable ? 'unchecked' : 'vpc-dns-off',
          severity: unreadable ? 'warning' : 'error',
          section: s.id,
          resource: resourceName(r),
          problem: f.message,
          fix: f.fix ?? 'see the problem',
        });
      }
      // A resource that does not exist is one finding, not one per call that would make it.
      for (const step of r.action === 'create' ? r.steps.slice(0, 1) : r.steps) {
        const p = stepProblem(step, r.owned);
        if (p === undefined) continue;
        out.push({
          ...p,
          severity: 'error',
          section: s.id,
          resource: resourceName(r),
          fix:
            p.code === 'missing'
              ? `the next \`${rerun}\` run creates it`
              : `the next \`${rerun}\` run fixes it${r.security.length > 0 ? ' (a security-relevant change: see it first with --dry-run)' : ''}`,
        });
      }
    }
  }
  return out;
}

/** The OIDC provider ARNs the audit needs: the cluster's, and every one an IRSA role's trust names. */
export function referencedProviders(plan: Plan): string[] {
  const arns = new Set<string>();
  const c = plan.facts.cluster;
  if (c.state === 'ready') arns.add(oidcProviderArn(plan.facts.partition, plan.facts.accountId, c.issuerUrl));
  for (const s of plan.sections) {
    if (!isIrsaSection(s.id)) continue;
    for (const r of s.resources) {
      if (r.current?.kind !== 'role') continue;
      for (const f of federatedPrincipals(r.current.trust)) if (isOidcProviderArn(f)) arns.add(f);
    }
  }
  return [...arns];
}

/** The providers the plan itself read (the oidcProvider section), by ARN. */
export function providersInPlan(plan: Plan): Map<string, CurrentOidcProvider | undefined> {
  const found = new Map<string, CurrentOidcProvider | undefined>();
  for (const s of plan.sections) {
    for (const r of s.resources) {
      if (r.kind !== 'oidc-provider') continue;
      found.set(r.arn, r.current?.kind === 'oidc-provider' ? r.current : undefined);
    }
  }
  return found;
}

function roleFindings(section: SectionId, r: ResourcePlan, role: CurrentRole, customPolicyName?: string): Finding[] {
  const out: Finding[] = [];
  const resource = `role ${r.name}`;
  const irsa = isIrsaSection(section);
  const wanted = r.desired.kind === 'role' ? r.desired.managedPolicies : [];
  for (const arn of role.attached) {
    const name = nameOfArn(arn);
    const why = tooBroad(arn);
    if (why === undefined) continue;
    const inConfig = wanted.includes(arn);
    const scoped =
      irsa && name === 'AmazonS3FullAccess' && customPolicyName !== undefined
        ? ` where the scoped policy ${customPolicyName} belongs`
        : '';
    out.push({
      code: 'broad-policy',
      severity: irsa && !inConfig ? 'error' : 'warning',
      section,
      resource,
      // With the scoped policy named, the reason need not say again that it is enough.
      problem: `has ${name} attached${inConfig ? ' (the config lists it)' : ''}${scoped}: it ${scoped ? why.split(';')[0] : why}`,
      fix: inConfig
        ? `remove it from the config's extraPolicies, then detach it: aws iam detach-role-policy --role-name ${r.name} --policy-arn ${arn}`
        : `aws iam detach-role-policy --role-name ${r.name} --policy-arn ${arn} (flyte-aws-setup leaves policies it did not attach alone)`,
    });
  }
  // What pods get beyond the config: policies attached by hand to a role they assume.
  if (irsa) {
    for (const arn of role.attached) {
      if (wanted.includes(arn) || tooBroad(arn) !== undefined) continue;
      out.push({
        code: 'extra-policy',
        severity: 'warning',
        section,
        resource,
        problem: `also has ${arn} attached, which the config does not list: every pod that assumes the role gets it`,
        fix:
          (section === 'projectRoles' ? "if its pods need it, add it to the project's extraPolicies; if not: " : '') +
          `aws iam detach-role-policy --role-name ${r.name} --policy-arn ${arn}`,
      });
    }
  }
  if (role.inlineUnreadable !== undefined) {
    out.push({
      code: 'unchecked',
      severity: 'warning',
      section,
      resource,
      problem: `its inline policies could not be read (${role.inlineUnreadable})`,
      fix: `allow iam:ListRolePolicies on the role (see flyte-aws-setup permissions --for verify)`,
    });
  }
  for (const name of role.inline ?? []) {
    out.push({
      code: 'inline-policy',
      severity: 'warning',
      section,
      resource,
      problem:
        `has the inline policy ${name}, which flyte-aws-setup did not write` +
        (irsa ? ': every pod that assumes the role gets it' : ''),
      fix:
        `review it (aws iam get-role-policy --role-name ${r.name} --policy-name ${name}); if it is not needed: ` +
        `aws iam delete-role-policy --role-name ${r.name} --policy-name ${name}`,
    });
  }
  if (r.desired.kind === 'role' && role.path !== r.desired.path) {
    out.push({
      code: 'path-differs',
      severity: 'warning',
      section,
      resource,
      problem: `is at path ${role.path}, the config says ${r.desired.path}; IAM cannot move a role`,
      fix: `set path: ${role.path} in the config, or delete the role to have it made again at ${r.desired.path}`,
    });
  }
  return out;
}

/** The audit of what AWS holds: every role of the config, and the IRSA roles' trust. */
export function auditPlan(
  plan: Plan,
  providers: ReadonlyMap<string, CurrentOidcProvider | undefined>,
  options: { rerun: string; createsProvider: boolean; customPolicyName?: string },
): Finding[] {
  const out: Finding[] = [];
  const c = plan.facts.cluster;
  for (const s of plan.sections) {
    for (const r of s.resources) {
      if (r.current?.kind !== 'role') continue;
      out.push(...roleFindings(s.id, r, r.current, options.customPolicyName));
      if (!isIrsaSection(s.id) || c.state !== 'ready') continue;
      out.push(
        ...auditTrust({
          section: s.id,
          roleName: r.name,
          trust: r.current.trust,
          issuerHost: issuerHostPath(c.issuerUrl),
          providerArn: oidcProviderArn(plan.facts.partition, plan.facts.accountId, c.issuerUrl),
          providers,
          createsProvider: options.createsProvider,
          rerun: options.rerun,
        }),
      );
    }
  }
  return out;
}

/** The setup's roles the config no longer names: errors, because they still grant what they hold. */
export function leftoverFindings(plan: Plan, rerun: string): LeftoverFinding[] {
  return (plan.leftovers ?? []).map((l) => ({
    code: 'leftover' as const,
    severity: 'error' as const,
    resource: `role ${l.name}`,
    problem:
      `is this setup's (made by flyte-aws-setup), but the config no longer names it; it still lets in ` +
      `${l.trustedBy.length > 0 ? l.trustedBy.join(', ') : 'nobody'}, and holds ` +
      `${l.holds.length > 0 ? l.holds.map(nameOfArn).join(', ') : 'nothing'}`,
    fix: `\`${rerun} --prune\` removes it (see it first with --dry-run --prune); or name it in the config again`,
  }));
}
