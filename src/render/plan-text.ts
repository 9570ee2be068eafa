/**
 * The plan and the run result as text for people: per section what will be created ([+]), changed ([~], with a
 * diff of trust and policy documents) or is already right, security-relevant changes marked (!).
 */
import type { PlanSummary } from './json-types.js';
import type { RunResult, SectionResult } from '../engine/apply.js';
import type { LeftoverResult } from '../engine/leftovers.js';
import {
  LEFTOVER_KIND,
  type Facts,
  type Leftover,
  type Plan,
  type ResourcePlan,
  type SectionPlan,
  type Step,
} from '../model.js';
import { policyDiff, type DiffLine } from '../policy/compare.js';
import type { PolicyDocument, PolicyStatement } from '../policy/document.js';
import { severityCounts } from '../policy/findings.js';
import { isAwsManagedPolicy, issuerHostPath, nameOfArn } from '../policy/partition.js';
import type { Style } from './style.js';
import { ATTACHED_KEY, DESCRIPTION_KEY, TRUST_KEY } from '../config/rules.js';

const MARK = '(!)';

/** A cluster as the facts have it: `NAME (STATUS)`, with its region when it is not the run's. */
function clusterText(c: Facts['cluster']): string {
  const where = 'region' in c && c.region !== undefined ? ` in ${c.region}` : '';
  return c.state === 'ready'
    ? `${c.name}${where}${c.placeholder ? '' : ` (${c.status})`}`
    : c.state === 'missing'
      ? `${c.name}${where} (not found)`
      : c.state === 'not-ready'
        ? `${c.name}${where} (${c.status})`
        : '';
}

export function renderFacts(facts: Facts): string {
  const c = facts.cluster;
  const cluster =
    facts.clusters !== undefined
      ? `clusters ${facts.clusters.map(clusterText).join(', ')}`
      : c.state === 'not-needed'
        ? 'no cluster needed'
        : `cluster ${clusterText(c)}`;
  const lines = [`Account ${facts.accountId} (${facts.partition}), region ${facts.region}, ${cluster}`];
  if (facts.callerArn) lines.push(`Caller ${facts.callerArn}`);
  if (facts.offline) {
    lines.push(
      "Offline plan: assumes an empty account; the account ID and the cluster's OIDC issuer are placeholders; what " +
        "the config names (extra policies, the permissions boundary, Union's role, the cluster, the bucket) is not " +
        'looked up.',
    );
  }
  return lines.join('\n');
}

export function sectionStatusText(s: SectionPlan, style: Style): string {
  switch (s.status) {
    case 'create':
      return style.add('create');
    case 'update':
      return style.change('change');
    case 'unchanged':
      if (s.resources.some((r) => (r.findings ?? []).length > 0)) return style.warn('needs attention');
      return s.resources.length === 0 ? style.dim('not checked') : style.dim('up to date');
    case 'waiting':
      return style.warn('waiting for the cluster');
    case 'skipped':
      return style.dim(`skipped (${s.skipReason ?? `${s.id}: false`})`);
    case 'blocked':
      return style.error('cannot be done');
  }
}

export function renderPlan(plan: Plan, style: Style): string {
  const out: string[] = [renderFacts(plan.facts), ''];
  // Every waiting section waits for the same cluster: why, and what to do, is said at the first.
  const firstWaiting = plan.sections.find((s) => s.waiting !== undefined);
  plan.sections.forEach((section, i) => {
    const security = section.resources.some((r) => r.security.length > 0);
    out.push(
      `${style.bold(`${i + 1}. ${section.title}`)}  ${sectionStatusText(section, style)}${security ? `  ${style.warn(`${MARK} security`)}` : ''}`,
    );
    out.push(...renderSectionBody(section, style, { waiting: section === firstWaiting }));
  });
  if ((plan.leftovers ?? []).length > 0) out.push(...renderLeftovers(plan.leftovers!, style));
  out.push('', renderPlanSummary(plan, style));
  return out.join('\n');
}

/** The setup's roles the config no longer names: what each still grants, and what `--prune` does with it. */
export function renderLeftovers(leftovers: Leftover[], style: Style): string[] {
  const others = leftovers.some((l) => l.kind !== 'role');
  const out = [
    style.bold(
      others
        ? 'What this setup made that the config no longer names'
        : 'Roles of this setup that the config no longer names',
    ),
  ];
  for (const l of leftovers) {
    const head = `${LEFTOVER_KIND[l.kind]} ${l.name}`;
    if (l.action === 'remove') out.push(`   ${style.remove('[-]')} ${head}`);
    else if (l.action === 'restore')
      out.push(`   ${style.change('[~]')} ${head}  ${style.change('put back as it was')}`);
    else if (l.action === 'blocked') out.push(`   ${style.warn('[!]')} ${head}  ${style.warn('kept for now')}`);
    else out.push(`   ${style.warn('[!]')} ${head}  ${style.warn('still grants access')}`);
    if (l.kind === 'pod-identity-association') {
      // It hands its role to the pods of a service account, in a cluster the config no longer names.
      out.push(...labelled('for', l.trustedBy).map((x) => `       ${x}`));
      out.push(...labelled('role', l.holds.map(nameOfArn)).map((x) => `       ${x}`));
    } else out.push(...labelled('trusts', l.trustedBy.length > 0 ? l.trustedBy : ['nobody']).map((x) => `       ${x}`));
    if (l.kind === 'role')
      out.push(
        ...labelled('holds', l.holds.length > 0 ? l.holds.map(policyLabel) : ['nothing']).map((x) => `       ${x}`),
      );
    for (const step of l.steps) out.push(`       ${style.remove('-')} ${removalText(step)}`);
    if (l.reason !== undefined) out.push(`       ${style.warn('why:')} ${l.reason}`);
    if (l.action === 'listed') {
      // A role this setup adopted is put back, not removed.
      const what = l.adopted ? 'to put it back:' : 'to remove it:';
      out.push(`       ${style.dim(what)} run again with --prune`);
    }
  }
  return out;
}

/**
 * What leftovers of these kinds are called together: roles; or, with a dropped cluster's provider or associations
 * among them, resources.
 */
function leftoverNoun(kinds: readonly Leftover['kind'][]): 'role' | 'resource' {
  return kinds.every((k) => k === 'role') ? 'role' : 'resource';
}

/** A leftover's kind, by its ARN. */
function leftoverKind(arn: string): Leftover['kind'] {
  if (arn.includes(':oidc-provider/')) return 'oidc-provider';
  if (arn.includes(':podidentityassociation/')) return 'pod-identity-association';
  return 'role';
}

/** What --prune did with each leftover, one line each. */
export function renderLeftoverResults(results: LeftoverResult[], style: Style): string {
  const lines: string[] = [];
  for (const r of results) {
    const head = `${LEFTOVER_KIND[leftoverKind(r.arn)]} ${r.name} (no longer in the config)`;
    if (r.outcome === 'removed') lines.push(`${style.ok('✓')} ${head}: removed`);
    else if (r.outcome === 'restored') lines.push(`${style.ok('✓')} ${head}: put back as it was before it was adopted`);
    else if (r.outcome === 'kept') lines.push(`${style.warn('!')} ${head}: kept for now (see why in the plan)`);
    else if (r.outcome === 'interrupted' && r.remaining.length === 0 && r.done.length > 0)
      lines.push(`${style.warn('!')} ${head}: ${r.done.map(removalText).join(', ')}; not read back (interrupted)`);
    else {
      const did = r.done.map(removalText);
      const state =
        r.outcome === 'not-run' ? 'not run' : r.outcome === 'interrupted' ? 'not done (interrupted)' : 'not done';
      lines.push(`${style.error('✗')} ${head}: ${state}` + (did.length > 0 ? ` (done: ${did.join(', ')})` : ''));
      if (r.error) lines.push(`    ${style.error(r.error.message)}${r.error.hint ? `\n    ${r.error.hint}` : ''}`);
      else if (r.reason !== undefined && r.reason !== 'interrupted') lines.push(`    ${style.dim(r.reason)}`);
    }
  }
  return lines.join('\n');
}

/**
 * What one section of a plan will do, without its heading: why it waits (unless `waiting: false`, when another
 * section has said it), notes, each resource (indented).
 */
export function renderSectionBody(section: SectionPlan, style: Style, show: { waiting?: boolean } = {}): string[] {
  const out: string[] = [];
  if (section.waiting && show.waiting !== false) {
    out.push(`   ${section.waiting.reason}`);
    out.push(`   ${style.dim('to do:')} ${section.waiting.todo}`);
  }
  for (const note of section.notes)
    out.push(`   ${note.level === 'warn' ? style.warn('warning:') : style.dim('note:')} ${note.message}`);
  // Several VPCs (several clusters): each says whose it is, and where.
  const vpcs = section.resources.filter((r) => r.kind === 'vpc-dns').length;
  for (const r of section.resources) out.push(...renderResource(r, style, vpcs > 1).map((l) => `   ${l}`));
  return out;
}

export function planCounts(plan: Plan): PlanSummary {
  const resources = plan.sections.flatMap((s) => s.resources);
  const leftovers = plan.leftovers ?? [];
  return {
    leftovers: leftovers.length,
    remove: leftovers.filter((l) => l.action === 'remove').length,
    restore: leftovers.filter((l) => l.action === 'restore').length,
    create: resources.filter((r) => r.action === 'create').length,
    update: resources.filter((r) => r.action === 'update').length,
    unchanged: resources.filter(
      (r) => r.action === 'none' && r.blocked === undefined && (r.findings ?? []).length === 0,
    ).length,
    waiting: plan.sections.filter((s) => s.status === 'waiting').length,
    security: resources.filter((r) => r.security.length > 0).length,
    blocked: plan.sections.filter((s) => s.status === 'blocked').length,
    findings: resources.reduce((n, r) => n + (r.findings?.length ?? 0), 0),
  };
}

/** Lines under the summary for what the run will not do: blocked sections, findings left as they are, leftovers. */
function attentionLines(
  plan: Plan,
  n: { blocked: number; leftovers: number; remove: number; restore: number },
  style: Style,
): string {
  const lines: string[] = [];
  const kept = n.leftovers - n.remove - n.restore;
  if (kept > 0) {
    const adopted = (plan.leftovers ?? []).some((l) => l.adopted && l.action === 'listed');
    const prune = adopted ? '--prune removes them (puts back those it adopted)' : '--prune removes them';
    const what = `${leftoverNoun((plan.leftovers ?? []).map((l) => l.kind))}(s)`;
    lines.push(
      style.warn(
        `${kept} ${what} of this setup that the config no longer names still grant access (listed above)` +
          (n.remove + n.restore === 0 ? `; ${prune}.` : '; --prune cannot remove them yet (see why).'),
      ),
    );
  }
  if (n.blocked > 0)
    lines.push(style.error(`${n.blocked} section(s) cannot be done as configured (marked "cannot be done" above).`));
  const findings = plan.sections.flatMap((s) => s.resources.flatMap((r) => r.findings ?? []));
  if (findings.length > 0) {
    const line =
      findings.length === 1
        ? `This run leaves ${severityCounts(findings)} as it is; its fix is above.`
        : `This run leaves ${severityCounts(findings)} as they are; each has its fix above.`;
    lines.push(findings.some((f) => f.severity === 'error') ? style.error(line) : style.warn(line));
  }
  return lines.map((l) => `\n${l}`).join('');
}

/**
 * A plan with nothing to do and nothing to say: every section up to date (or off), no finding, no warning, none
 * blocked or waiting for the cluster, and no role of the setup that the config no longer names (each still grants
 * access: it is shown). A run of it can say so in a few lines.
 */
export function planIsQuiet(plan: Plan): boolean {
  if ((plan.leftovers ?? []).length > 0) return false;
  return plan.sections.every(
    (s) =>
      (s.status === 'unchanged' || s.status === 'skipped') &&
      s.notes.every((n) => n.level !== 'warn') &&
      s.resources.every((r) => (r.findings ?? []).length === 0 && r.notes.every((n) => n.level !== 'warn')),
  );
}

/** A plan with nothing to do, in a few lines: where, and that everything is up to date. */
export function renderQuietPlan(plan: Plan, style: Style): string {
  return [
    renderFacts(plan.facts).split('\n')[0]!,
    `${style.ok(`${renderPlanSummary(plan, style)} Nothing was changed.`)} ${style.dim('(--verbose shows the whole plan)')}`,
  ].join('\n');
}

export function renderPlanSummary(plan: Plan, style: Style): string {
  const n = planCounts(plan);
  if (n.create === 0 && n.update === 0 && n.remove === 0 && n.restore === 0) {
    const waiting = n.waiting > 0 ? `; ${n.waiting} section(s) wait for the cluster` : '';
    return `Everything is up to date (${n.unchanged} resource(s) checked)${waiting}.${attentionLines(plan, n, style)}`;
  }
  const parts = [`${n.create} to create`, `${n.update} to change`, `${n.unchanged} up to date`];
  if (n.remove > 0) {
    const removed = (plan.leftovers ?? []).filter((l) => l.action === 'remove').map((l) => l.kind);
    parts.push(`${n.remove} ${leftoverNoun(removed)}(s) to remove (--prune)`);
  }
  if (n.restore > 0) parts.push(`${n.restore} adopted role(s) to put back (--prune)`);
  if (n.waiting > 0) parts.push(`${n.waiting} section(s) waiting for the cluster`);
  let line = `Plan: ${parts.join(', ')}.`;
  if (n.security > 0)
    line += `\n${style.warn(`${MARK} ${n.security} security-relevant change(s): they let more principals in or grant more.`)}`;
  return line + attentionLines(plan, n, style);
}

const KIND_NAMES: Record<ResourcePlan['kind'], string> = {
  role: 'role',
  policy: 'policy',
  'oidc-provider': 'OIDC provider',
  attachment: 'existing role',
  'vpc-dns': 'VPC',
  bucket: 'bucket',
  'pod-identity-association': 'pod identity association',
  addon: 'EKS add-on',
};

function renderResource(r: ResourcePlan, style: Style, whose = false): string[] {
  const out: string[] = [];
  const of = whose && r.desired.kind === 'vpc-dns' ? ` (${r.desired.clusters.join(', ')}, in ${r.desired.region})` : '';
  const head = `${KIND_NAMES[r.kind]} ${r.name}${of}`;
  if (r.blocked !== undefined) out.push(`${style.error('[!]')} ${head}`, `    ${style.error(r.blocked)}`);
  else if (r.findings !== undefined && r.findings.length > 0) {
    const error = r.findings.some((f) => f.severity === 'error');
    out.push(`${error ? style.error('[!]') : style.warn('[!]')} ${head}`);
  } else if (r.current?.kind === 'bucket') {
    out.push(`${style.dim('[=]')} ${head} ${style.dim(`exists, in ${r.current.region ?? 'its region'}`)}`);
  } else if (r.action === 'none') out.push(`${style.dim('[=]')} ${head} ${style.dim('up to date')}`);
  else if (r.action === 'create') out.push(`${style.add('[+]')} ${head}`);
  else out.push(`${style.change('[~]')} ${head}`);
  for (const f of r.findings ?? []) {
    out.push(`    ${f.severity === 'error' ? style.error('error:') : style.warn('warning:')} ${f.message}`);
    if (f.fix !== undefined) out.push(`    ${style.dim('fix:')} ${f.fix}`);
  }
  for (const step of r.steps) out.push(...renderStep(step, r, style).map((l) => `    ${l}`));
  for (const reason of r.security) out.push(`    ${style.warn(`${MARK} ${reason}`)}`);
  for (const note of r.notes)
    out.push(`    ${note.level === 'warn' ? style.warn('warning:') : style.dim('note:')} ${note.message}`);
  return out;
}

function renderStep(step: Step, r: ResourcePlan, style: Style): string[] {
  switch (step.op) {
    case 'CreateRole':
      return [
        ...labelled('trust', trustSummary(step.trust)),
        ...(step.boundary ? labelled('boundary', [step.boundary]) : []),
        ...labelled('path', [step.path]).filter(() => step.path !== '/'),
        ...labelled('tags', [tagText(step.tags, true)]),
      ];
    case 'AttachRolePolicy':
      // On a policy that its section attaches (a grants policy): the role it goes to.
      return r.kind === 'policy'
        ? [`${style.add('+ attach to role')} ${step.roleName}`]
        : [`${style.add('+ attach')} ${policyLabel(step.policyArn)}`];
    case 'UpdateAssumeRolePolicy':
      return [
        `${style.change('~ trust policy')}`,
        ...renderDiff(policyDiff(step.before, step.trust), style).map((l) => `  ${l}`),
      ];
    case 'PutRolePermissionsBoundary':
      return [`${style.change('~ permissions boundary')} ${step.before ?? '(none)'} -> ${step.boundary}`];
    case 'UpdateRole':
      return [`${style.change('~ description')} ${JSON.stringify(step.before)} -> ${JSON.stringify(step.description)}`];
    case 'TagRole':
    case 'TagPolicy':
    case 'TagOpenIDConnectProvider':
    case 'TagResource':
      return [`${style.change('~ tags')} ${tagText(step.tags)}`];
    case 'UntagRole':
    case 'UntagPolicy':
      return [`${style.remove('- tags')} ${step.keys.join(', ')}`];
    case 'SetDefaultPolicyVersion':
      return [`${style.change('~ default version')} ${step.before} -> ${step.versionId}`];
    case 'CreateOpenIDConnectProvider':
      return [
        ...labelled('issuer', [step.url]),
        ...labelled('audience', step.clientIds),
        ...labelled('tags', [tagText(step.tags)]),
      ];
    case 'AddClientIDToOpenIDConnectProvider':
      return [`${style.add('+ audience')} ${step.clientId}`];
    case 'CreatePolicy':
      return [...labelled('document', permissionSummary(step.document)), ...labelled('tags', [tagText(step.tags)])];
    case 'DeletePolicyVersion':
      // A policy that goes: its versions are deleted before it.
      if (r.desired.kind === 'policy' && r.desired.gone) return [`${style.remove('-')} ${removalText(step)}`];
      return [
        `${style.remove('- delete version')} ${step.versionId} (IAM keeps at most 5 versions; it is the oldest and not the default)`,
      ];
    case 'CreatePolicyVersion':
      return [
        `${style.change('~ document')} (a new default version of ${r.name})`,
        ...renderDiff(policyDiff(step.before, step.document), style).map((l) => `  ${l}`),
      ];
    case 'ModifyVpcAttribute':
      return [`${style.change(`~ ${step.attribute}`)} off -> on`];
    case 'CreatePodIdentityAssociation':
      return [
        ...labelled('cluster', [step.clusterName]),
        ...labelled('role', [step.roleArn]),
        ...labelled('tags', [tagText(step.tags)]),
      ];
    case 'UpdatePodIdentityAssociation':
      return [`${style.change('~ role')} ${step.before} -> ${step.roleArn}`];
    case 'CreateAddon':
      return [...labelled('cluster', [step.clusterName]), ...labelled('tags', [tagText(step.tags)])];
    case 'DetachRolePolicy':
      // On a policy that goes (a grants policy): the role it leaves.
      if (r.kind === 'policy') return [`${style.remove('- detach from role')} ${step.roleName}`];
      return [`${style.remove('-')} ${removalText(step)}`];
    case 'DeleteRole':
    case 'DeletePolicy':
    case 'DeleteOpenIDConnectProvider':
    case 'DeletePodIdentityAssociation':
      return [`${style.remove('-')} ${removalText(step)}`];
  }
}

/** A removal step as a plan line (destroy plans), without its mark; another step by its operation's name. */
export function removalText(step: Step): string {
  switch (step.op) {
    case 'DetachRolePolicy':
      return `detach ${policyLabel(step.policyArn)}`;
    case 'DeleteRole':
      return 'delete the role';
    case 'DeletePolicyVersion':
      return `delete version ${step.versionId} (not the default; a policy is deleted only without them)`;
    case 'DeletePolicy':
      return 'delete the policy';
    case 'DeleteOpenIDConnectProvider':
      return 'delete the OIDC provider';
    case 'DeletePodIdentityAssociation':
      return `delete the pod identity association ${step.name} (${step.associationId})`;
    case 'UpdateAssumeRolePolicy':
      return 'put back the trust it had before flyte-aws-setup changed it';
    case 'UpdateRole':
      return `put back the description it had before flyte-aws-setup adopted it (${JSON.stringify(step.description)})`;
    case 'SetDefaultPolicyVersion':
      return `make ${step.versionId} the default version again (now ${step.before})`;
    case 'UntagRole':
    case 'UntagPolicy':
      return `remove the tags ${step.keys.join(', ')}`;
    default:
      return step.op;
  }
}

function labelled(label: string, lines: string[]): string[] {
  return lines.map((l, i) => `${(i === 0 ? label : '').padEnd(9)} ${l}`);
}

/** The keys of a record in `tags` (`key`, `key-2`...). */
function recordKeysIn(tags: Record<string, string>, key: string): string[] {
  return Object.keys(tags).filter((k) => k === key || (/^-\d+$/.test(k.slice(key.length)) && k.startsWith(key)));
}

/**
 * Tags as `k=v` pairs. The compressed trust record says nothing to a reader: it is shown by what it holds. On a new
 * role, the record of what it attaches is the `+ attach` lines below it.
 */
function tagText(tags: Record<string, string>, created = false): string {
  const trust = recordKeysIn(tags, TRUST_KEY);
  const described = recordKeysIn(tags, DESCRIPTION_KEY);
  const attached = created ? recordKeysIn(tags, ATTACHED_KEY) : [];
  return [
    ...Object.entries(tags)
      .filter(([k]) => !trust.includes(k) && !attached.includes(k) && !described.includes(k))
      .map(([k, v]) => `${k}=${v}`),
    ...(attached.length > 0 ? [`${attached.join(', ')}=(the policies it attaches, below)`] : []),
    ...(described.length > 0 ? [`${described.join(', ')}=(its description now)`] : []),
    ...(trust.length > 0 ? [`${trust.join(', ')}=(its trust now, compressed)`] : []),
  ].join(', ');
}

/** A short name for a policy ARN in plan lines: AWS managed ones by name, the rest in full. */
export function policyLabel(arn: string): string {
  return isAwsManagedPolicy(arn) ? nameOfArn(arn) : arn;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** A trust policy in a few lines: who, which action, and the conditions (keys shortened to their issuer's). */
export function trustSummary(doc: PolicyDocument): string[] {
  const lines: string[] = [];
  for (const s of doc.Statement) {
    const who =
      s.Principal === '*' || s.Principal === undefined
        ? '*'
        : Object.entries(s.Principal)
            .map(([t, v]) => `${t} ${list(v).join(', ')}`)
            .join('; ');
    lines.push(`${s.Effect === 'Deny' ? 'Deny ' : ''}${who} -> ${list(s.Action).join(', ')}`);
    const federated = s.Principal !== '*' && s.Principal !== undefined ? list(s.Principal.Federated)[0] : undefined;
    const issuer = federated?.includes(':oidc-provider/')
      ? issuerHostPath(federated.split(':oidc-provider/')[1]!)
      : undefined;
    for (const [op, block] of Object.entries(s.Condition ?? {})) {
      for (const [key, values] of Object.entries(block)) {
        // A key of the provider's own issuer is shortened; any other issuer stays in full, so a mismatch shows.
        const shown = issuer !== undefined && key.startsWith(`${issuer}:`) ? key.slice(issuer.length + 1) : key;
        lines.push(`  ${op} ${shown} = ${list(values).join(', ')}`);
      }
    }
  }
  return lines;
}

function permissionSummary(doc: PolicyDocument): string[] {
  return doc.Statement.map(
    (s) => `${s.Effect} ${list(s.Action).join(', ')} on ${list(s.Resource).join(', ')}${conditionText(s.Condition)}`,
  );
}

const OPERATORS: Record<string, string> = { StringEquals: '=', StringLike: 'like' };

/** A statement's conditions in words (`if kms:ViaService = s3.eu-west-1.amazonaws.com`); none: empty. */
function conditionText(condition: PolicyStatement['Condition']): string {
  if (condition === undefined) return '';
  const parts = Object.entries(condition).flatMap(([op, values]) =>
    Object.entries(values).map(([key, v]) => `${key} ${OPERATORS[op] ?? op} ${list(v).join(' or ')}`),
  );
  return parts.length > 0 ? ` if ${parts.join(' and ')}` : '';
}

/** Changed lines with two lines of context around them. */
function renderDiff(diff: DiffLine[], style: Style, context = 2): string[] {
  const keep = diff.map(() => false);
  diff.forEach((d, i) => {
    if (d.kind === ' ') return;
    for (let j = Math.max(0, i - context); j <= Math.min(diff.length - 1, i + context); j++) keep[j] = true;
  });
  const out: string[] = [];
  let skipped = false;
  diff.forEach((d, i) => {
    if (!keep[i]) {
      skipped = true;
      return;
    }
    if (skipped && out.length > 0) out.push(style.dim('  ...'));
    skipped = false;
    const line = `${d.kind} ${d.text}`;
    out.push(d.kind === '+' ? style.add(line) : d.kind === '-' ? style.remove(line) : style.dim(line));
  });
  return out;
}

const OUTCOME_MARK: Record<SectionResult['outcome'], string> = {
  created: 'created',
  updated: 'updated',
  unchanged: 'up to date',
  waiting: 'waiting for the cluster',
  skipped: 'skipped',
  declined: 'not applied (declined)',
  failed: 'FAILED',
  interrupted: 'interrupted',
  'not-run': 'not run',
};

/**
 * One line per section saying what happened, with the ARNs of what it made; the findings it leaves under it, and
 * why it waits (unless `waiting: false`, when the plan above has said it).
 */
export function renderSectionResult(r: SectionResult, style: Style, show: { waiting?: boolean } = {}): string {
  const findings = r.resources.flatMap((x) => x.findings ?? []);
  const symbol =
    r.outcome === 'failed' || r.outcome === 'interrupted'
      ? style.error('✗')
      : r.outcome === 'waiting' || r.outcome === 'declined' || r.outcome === 'not-run'
        ? style.warn('…')
        : r.outcome === 'skipped' || (r.outcome === 'unchanged' && r.resources.length === 0)
          ? style.dim('-')
          : findings.length > 0
            ? style.warn('!')
            : style.ok('✓');
  // The bucket is only looked up: the line names what the section made.
  const arns = r.resources
    .filter((x) => x.kind !== 'bucket')
    .filter((x) => x.blocked === undefined && (x.done.length > 0 || x.remaining.length === 0))
    .map((x) => x.arn);
  const notChecked = r.outcome === 'unchanged' && r.resources.length === 0;
  const mark =
    findings.length > 0 && r.outcome === 'unchanged'
      ? 'needs attention'
      : notChecked
        ? 'not checked'
        : OUTCOME_MARK[r.outcome];
  const lines = [
    `${symbol} ${r.title}: ${mark}${arns.length > 0 && r.outcome !== 'not-run' ? `  ${arns.join(', ')}` : ''}`,
  ];
  for (const f of findings) {
    const what = f.severity === 'error' ? style.error(`error: ${f.message}`) : style.warn(`warning: ${f.message}`);
    lines.push(`    ${what}${f.fix !== undefined ? `; fix: ${f.fix}` : ''}`);
  }
  if (r.waiting && show.waiting !== false) lines.push(`    ${r.waiting.reason}; ${r.waiting.todo}`);
  if (r.reason) lines.push(`    ${r.reason}`);
  if (r.error) {
    lines.push(`    ${style.error(r.error.message)}`);
    if (r.error.hint) lines.push(`    ${r.error.hint}`);
  }
  if (r.outcome === 'failed' || r.outcome === 'interrupted') {
    for (const res of r.resources) {
      if (res.done.length === 0 && res.remaining.length === 0) continue;
      const done = res.done.map((s) => s.op).join(', ') || 'nothing';
      const left = res.remaining.map((s) => s.op).join(', ') || 'nothing';
      lines.push(`    ${KIND_NAMES[res.kind]} ${res.name}: done ${done}; still to do ${left}`);
    }
  }
  return lines.join('\n');
}

const CREATES = new Set<Step['op']>(['CreateRole', 'CreatePolicy', 'CreateOpenIDConnectProvider']);

/** How many resources a run created, and how many it changed (a resource counts once, however many calls it took). */
export function resourceCounts(sections: Pick<SectionResult, 'resources'>[]): { created: number; changed: number } {
  const touched = sections.flatMap((s) => s.resources).filter((r) => r.done.length > 0);
  const created = touched.filter((r) => r.done.some((step) => CREATES.has(step.op))).length;
  return { created, changed: touched.length - created };
}

/** "7 resources created and 1 changed", "1 resource changed", "nothing changed". */
export function resourceCountText(n: { created: number; changed: number }): string {
  const resources = (k: number) => `${k} resource${k === 1 ? '' : 's'}`;
  if (n.created > 0 && n.changed > 0) return `${resources(n.created)} created and ${n.changed} changed`;
  if (n.created > 0) return `${resources(n.created)} created`;
  if (n.changed > 0) return `${resources(n.changed)} changed`;
  return 'nothing changed';
}

/** What --prune was doing with a leftover: removing it, or putting back a role that existed before (no deletion). */
function leftoverWork(l: LeftoverResult): string {
  const kind = leftoverKind(l.arn);
  if (kind !== 'role') return `the removal of ${LEFTOVER_KIND[kind]}`;
  const deletes = [...l.done, ...l.remaining].some((s) => s.op === 'DeleteRole');
  return deletes || l.done.length + l.remaining.length === 0 ? 'the removal of role' : 'the put-back of role';
}

export function renderRunSummary(result: RunResult, style: Style, rerun: string): string {
  const count = (outcome: LeftoverResult['outcome']) =>
    (result.leftovers ?? []).filter((l) => l.outcome === outcome).length;
  const [removed, restored] = [count('removed'), count('restored')];
  const resources = resourceCountText(resourceCounts(result.sections));
  // Steps done on what the config no longer names, short of removing or putting it back (a run stopped part-way).
  const partly = (result.leftovers ?? [])
    .filter((l) => l.outcome !== 'removed' && l.outcome !== 'restored')
    .reduce((n, l) => n + l.done.length, 0);
  const what = leftoverNoun(
    (result.leftovers ?? []).filter((l) => l.outcome === 'removed').map((l) => leftoverKind(l.arn)),
  );
  const roles = [
    ...(removed > 0 ? [`${removed} ${what}${removed === 1 ? '' : 's'} the config no longer names removed`] : []),
    ...(restored > 0
      ? [`${restored} adopted role${restored === 1 ? '' : 's'} the config no longer names put back`]
      : []),
    ...(partly > 0 ? [`${partly} change${partly === 1 ? '' : 's'} to what the config no longer names`] : []),
  ].join(', ');
  const changed = roles === '' ? resources : resources === 'nothing changed' ? roles : `${resources}, ${roles}`;
  // What is left as it is, counted by the findings standard's severities (as verify will count it).
  const findings = result.sections.flatMap((s) => s.resources.flatMap((r) => r.findings ?? []));
  const left = severityCounts(findings);
  const errorCount = findings.filter((f) => f.severity === 'error').length;
  const errors = errorCount > 0;
  switch (result.outcome) {
    case 'complete': {
      if (findings.length === 0) return style.ok(`Setup complete: ${changed}; AWS matches the config.`);
      const what =
        findings.length === 1
          ? `the ${findings[0]!.severity} above is left as it is`
          : 'what is listed above is left as it is';
      const line =
        `Setup complete, with ${left}: ${changed}; AWS matches the config; ${what}` +
        (errors ? ` (verify fails until ${errorCount === 1 ? 'the error is' : 'the errors are'} fixed).` : '.');
      return errors ? style.error(line) : style.warn(line);
    }
    case 'incomplete': {
      const waiting = result.sections.filter((s) => s.outcome === 'waiting' || s.outcome === 'declined');
      return style.warn(
        `Setup incomplete${left ? `, with ${left}` : ''}: ${changed}; ${waiting.map((s) => s.title).join(', ')} ` +
          `still to do. When the cluster is ACTIVE, run again: ${rerun}`,
      );
    }
    case 'failed':
    case 'interrupted': {
      const left = [
        ...result.sections.filter((s) => ['failed', 'interrupted', 'not-run'].includes(s.outcome)).map((s) => s.title),
        ...(result.leftovers ?? [])
          .filter((l) => l.outcome !== 'removed' && l.outcome !== 'restored')
          .map((l) => `${leftoverWork(l)} ${l.name}`),
      ];
      return style.error(
        `${result.outcome === 'failed' ? 'Setup stopped' : 'Interrupted'}: ${changed} (listed above); ` +
          `not done: ${left.join(', ')}. Nothing is lost: fix the cause and run the same command ` +
          `again; it picks up where this run stopped: ${rerun}`,
      );
    }
  }
}
