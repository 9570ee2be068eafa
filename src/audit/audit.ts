/**
 * `verify`'s findings, from a plan (which holds what AWS has for each resource) and the OIDC providers its roles'
 * trusts name. Two kinds: where AWS differs from the config (each step the next run would make), and the audit of
 * what AWS holds for the mistakes people make by hand. Pure.
 */
import { SETUP_KEY, TOOL_TAG_PREFIX } from '../config/rules.js';
import { isIrsaSection } from '../sections/derived.js';
import {
  clusterRegion,
  factsClusters,
  type CurrentOidcProvider,
  type Leftover,
  type Plan,
  type ResourcePlan,
  type Step,
} from '../model.js';
import { conditionEntries, federatedPrincipals, isOidcProviderArn, splitIssuerKey } from '../policy/irsa.js';
import type { PolicyDocument } from '../policy/document.js';
import { severityOf } from '../policy/findings.js';
import { eksClusterArn, issuerHostPath, nameOfArn, oidcProviderArn } from '../policy/partition.js';
import type { Finding, FindingCode, LeftoverFinding } from './finding.js';
import { auditTrust } from './trust.js';

const KIND: Record<ResourcePlan['kind'], string> = {
  role: 'role',
  policy: 'policy',
  'oidc-provider': 'OIDC provider',
  attachment: 'role',
  'vpc-dns': 'VPC',
  bucket: 'bucket',
  'pod-identity-association': 'pod identity association',
  addon: 'EKS add-on',
};

function resourceName(r: ResourcePlan): string {
  return `${KIND[r.kind]} ${r.name}`;
}

function tagText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** The service accounts (`sub` values) a trust policy lets in. */
function trustSubjects(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) =>
    conditionEntries(s).flatMap((e) => (splitIssuerKey(e.key)?.claim.toLowerCase() === 'sub' ? e.values : [])),
  );
}

/** Which service accounts the config's trust lets in that AWS's does not, and the other way round. */
function trustDifference(step: Extract<Step, { op: 'UpdateAssumeRolePolicy' }>): string {
  const want = trustSubjects(step.trust);
  const have = trustSubjects(step.before);
  const missing = want.filter((s) => !have.includes(s));
  const extra = have.filter((s) => !want.includes(s));
  const parts = [
    ...(missing.length > 0 ? [`it does not let in ${missing.join(', ')}`] : []),
    ...(extra.length > 0 ? [`it lets in ${extra.join(', ')}, which the config does not`] : []),
  ];
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
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
function stepProblem(
  step: Step,
  owned: boolean,
  kind: ResourcePlan['kind'],
): { code: FindingCode; problem: string } | undefined {
  switch (step.op) {
    case 'CreateRole':
    case 'CreatePolicy':
    case 'CreateOpenIDConnectProvider':
    case 'CreatePodIdentityAssociation':
      return { code: 'missing', problem: 'does not exist' };
    case 'CreateAddon':
      return { code: 'missing', problem: 'is not installed: no pod gets credentials from a pod identity association' };
    case 'UpdatePodIdentityAssociation':
      return {
        code: 'association-role-differs',
        problem: `hands its pods the role ${step.before}, the config says ${step.roleArn}`,
      };
    case 'UpdateAssumeRolePolicy':
      return { code: 'trust-differs', problem: `its trust policy differs from the config${trustDifference(step)}` };
    case 'AttachRolePolicy':
      return {
        code: 'policy-not-attached',
        // A policy its section attaches (a grants policy), or a role's policy.
        problem:
          kind === 'policy'
            ? `is not attached to the role ${step.roleName}`
            : `lacks the policy ${nameOfArn(step.policyArn)} (${step.policyArn})`,
      };
    case 'PutRolePermissionsBoundary':
      return {
        code: 'boundary-differs',
        problem: `has the permissions boundary ${step.before ?? '(none)'}, the config says ${step.boundary}`,
      };
    case 'TagRole':
    case 'TagPolicy':
    case 'TagOpenIDConnectProvider':
    case 'TagResource': {
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
        // A grants policy the config no longer gives, or a role's policy.
        problem:
          kind === 'policy'
            ? `is still attached to the role ${step.roleName}, though the config gives that role no grants`
            : `has ${nameOfArn(step.policyArn)} attached, which flyte-aws-setup attached and the config no longer names`,
      };
    // The tool's mark on a role it adopted (bookkeeping: the next apply adds it).
    case 'UpdateRole':
    case 'DeletePolicyVersion':
    case 'UntagRole':
    case 'UntagPolicy':
    case 'SetDefaultPolicyVersion':
    case 'DeleteRole':
    case 'DeletePolicy':
    case 'DeleteOpenIDConnectProvider':
      return undefined;
    // An association of this setup's that the config no longer wants (the plan deletes it).
    case 'DeletePodIdentityAssociation':
      return {
        code: 'association-not-wanted',
        problem:
          "is this setup's (made by flyte-aws-setup), but the config no longer names its namespace and service " +
          'account: its pods still get the role it names',
      };
  }
}

/**
 * Where AWS differs from the config: the waiting sections (the reason and what to do said once), each change the
 * next run would make, and what the plan found and leaves as it is (its findings, with their severity).
 */
export function driftFindings(plan: Plan, rerun: string): Finding[] {
  const out: Finding[] = [];
  let waitingSaid = false;
  for (const s of plan.sections) {
    if (s.waiting) {
      out.push({
        code: 'waiting',
        severity: severityOf('waiting'),
        section: s.id,
        resource: `cluster ${plan.facts.cluster.name ?? '(none)'}`,
        problem: waitingSaid ? 'not set up: waits for the cluster (see above)' : `not set up: ${s.waiting.reason}`,
        fix: waitingSaid ? 'see above' : s.waiting.todo,
      });
      waitingSaid = true;
    }
    for (const r of s.resources) {
      if (r.blocked !== undefined) {
        out.push({
          code: 'blocked',
          severity: severityOf('blocked'),
          section: s.id,
          resource: resourceName(r),
          problem: r.blocked,
          fix: 'see the problem',
        });
      }
      // What the plan found and leaves alone: what a role holds beyond the config, the VPC, the bucket.
      for (const f of r.findings ?? []) {
        out.push({
          code: f.code,
          severity: f.severity,
          section: s.id,
          resource: resourceName(r),
          problem: f.message,
          fix: f.fix ?? 'see the problem',
        });
      }
      // A resource that does not exist is one finding, not one per call that would make it.
      for (const step of r.action === 'create' ? r.steps.slice(0, 1) : r.steps) {
        const p = stepProblem(step, r.owned, r.kind);
        if (p === undefined) continue;
        out.push({
          ...p,
          severity: severityOf(p.code),
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
  for (const c of factsClusters(plan.facts))
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

/**
 * The audit of the IRSA roles' trust. (What every role holds beyond the config is the plan's findings, reported
 * by `driftFindings`, so a plan and verify say the same of it.)
 */
export function auditPlan(
  plan: Plan,
  providers: ReadonlyMap<string, CurrentOidcProvider | undefined>,
  options: { rerun: string; createsProvider: boolean },
): Finding[] {
  const out: Finding[] = [];
  const { facts } = plan;
  const c = facts.cluster;
  const all = factsClusters(facts);
  const several =
    all.every((k) => k.state === 'ready') && all.length > 1
      ? all.flatMap((k) =>
          k.state === 'ready'
            ? [
                {
                  issuerHost: issuerHostPath(k.issuerUrl),
                  providerArn: oidcProviderArn(facts.partition, facts.accountId, k.issuerUrl),
                  clusterArn: eksClusterArn(facts.partition, clusterRegion(k, facts), facts.accountId, k.name),
                },
              ]
            : [],
        )
      : undefined;
  for (const s of plan.sections) {
    for (const r of s.resources) {
      if (r.current?.kind !== 'role') continue;
      if (!isIrsaSection(s.id) || c.state !== 'ready') continue;
      out.push(
        ...auditTrust({
          section: s.id,
          roleName: r.name,
          trust: r.current.trust,
          issuerHost: issuerHostPath(c.issuerUrl),
          providerArn: oidcProviderArn(plan.facts.partition, plan.facts.accountId, c.issuerUrl),
          clusterArn: eksClusterArn(plan.facts.partition, plan.facts.region, plan.facts.accountId, c.name),
          ...(several !== undefined ? { clusters: several } : {}),
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
  return (plan.leftovers ?? []).map((l) =>
    l.kind === 'pod-identity-association'
      ? {
          code: 'leftover' as const,
          severity: 'error' as const,
          resource: `pod identity association ${l.name}`,
          problem:
            "is this setup's (made by flyte-aws-setup), in a cluster the config no longer names; it still hands " +
            `${l.holds.map(nameOfArn).join(', ')} to the ${l.trustedBy.join(', ')}`,
          fix:
            `\`${rerun} --prune\` removes it (see it first with --dry-run --prune); or name the cluster in the ` +
            'config again',
        }
      : roleLeftoverFinding(l, rerun),
  );
}

function roleLeftoverFinding(l: Leftover, rerun: string): LeftoverFinding {
  return {
    code: 'leftover' as const,
    severity: 'error' as const,
    resource: `role ${l.name}`,
    problem:
      `is this setup's (${l.adopted ? 'it existed before flyte-aws-setup, which adopted it' : 'made by flyte-aws-setup'}), ` +
      'but the config no longer names it; it still lets in ' +
      `${l.trustedBy.length > 0 ? l.trustedBy.join(', ') : 'nobody'}, and holds ` +
      `${l.holds.length > 0 ? l.holds.map(nameOfArn).join(', ') : 'nothing'}`,
    fix:
      `\`${rerun} --prune\` ${l.adopted ? 'puts it back as it was (it is not deleted)' : 'removes it'} ` +
      '(see it first with --dry-run --prune); or name it in the config again',
  };
}
