/**
 * The access check: for each Flyte identity, what IAM decides when it assumes its role (and when its neighbours try
 * to), and what its role can do on the Flyte bucket and beyond, from the documents AWS holds. The result is the
 * access matrix (identity x capability, with the statement that decided) and its findings. Pure: documents in
 * (src/access/read.ts reads them), decisions out; heavy (the evaluator): imported lazily, only by `verify` and the
 * end of an apply.
 */
import type { Config, SectionId } from '../config/schema.js';
import { factsClusters, type CurrentOidcProvider, type Facts } from '../model.js';
import { serviceAccountSubject } from '../policy/document.js';
import { broadGrant, severityOf, tooBroad, type FindingCode } from '../policy/findings.js';
import { eksClusterArn, issuerHostPath, oidcProviderArn, STS_AUDIENCE } from '../policy/partition.js';
import {
  EVALUATOR_MISSING,
  EVALUATOR_PACKAGE,
  evaluateAction,
  evaluatePodIdentityAssume,
  evaluateWebIdentityAssume,
  loadEvaluator,
  sessionContext,
  type Decision,
} from '../policy/simulate.js';
import type { Finding } from '../audit/finding.js';
import { grantsPolicyName } from '../sections/grantees.js';
import { grantCapabilities, neededCapabilities, overGrantProbes, type Capability } from './capabilities.js';
import { neighboursOf, type FlyteIdentity, type Neighbour } from './identities.js';
import {
  assumeText,
  decisionText,
  isWrong,
  NOT_VISIBLE,
  statementText,
  type AccessCell,
  type AccessDecision,
  type AccessReport,
  type AssumeDecision,
  type IdentityAccess,
} from './matrix.js';
import { rolePolicies, type RoleDocuments, type RoleRead } from './read.js';
import { BUCKET_POLICY, bucketPolicyNotChecked, withBucketPolicy, type BucketPolicyRead } from './bucket-policy.js';

/** What the access check works from. */
export interface AccessInput {
  config: Config;
  facts: Facts;
  identities: FlyteIdentity[];
  roles: ReadonlyMap<string, RoleRead>;
  /** The OIDC providers IAM holds, by ARN (undefined: it does not exist); absent: not known. */
  providers?: ReadonlyMap<string, CurrentOidcProvider | undefined>;
  /** The Flyte bucket's own policy, as read (absent: not read, listed as not checked). */
  bucketPolicy?: BucketPolicyRead;
  /** `verify --as`: the identity whose token is also tried on the other Flyte roles' trusts. */
  focus?: string;
  /**
   * Awaited before each evaluation (a capability of a role) and each identity's trusts: the check worked out while a
   * run's writes wait on AWS gives the event loop a turn there, so that an answer that came in is handled (and the
   * run's next request sent) without waiting for the whole check. Absent: evaluated without a pause.
   */
  pause?: () => Promise<void>;
}

/** What was not checked: what the account never shows, and the bucket policy when it was not read. */
function notVisible(input: AccessInput): string[] {
  return [NOT_VISIBLE[0]!, ...bucketPolicyNotChecked(input.bucketPolicy), ...NOT_VISIBLE.slice(1)];
}

function cellFrom(d: Decision, want: 'allowed' | 'denied'): AccessDecision {
  if (d.reason === 'invalid')
    return { state: 'not-checked', want, statements: [], ...(d.detail ? { detail: d.detail } : {}) };
  return {
    state: d.allowed ? 'allowed' : 'denied',
    want,
    reason: d.reason,
    statements: d.statements,
    ...(d.detail !== undefined ? { detail: d.detail } : {}),
  };
}

/** Another cluster's issuer in the same region: the cluster's with another ID. */
function otherIssuer(host: string): string {
  const i = host.lastIndexOf('/');
  const id = host.slice(i + 1);
  const other = /^0+$/.test(id) ? 'F'.repeat(Math.max(id.length, 32)) : '0'.repeat(Math.max(id.length, 32));
  return `${host.slice(0, i + 1)}${other}`;
}

interface TokenSpec {
  who: string;
  namespace: string;
  serviceAccount: string;
  aud: string;
  host: string;
}

function assume(
  documents: RoleDocuments,
  facts: Facts,
  spec: TokenSpec,
  want: 'allowed' | 'denied',
  providers: AccessInput['providers'],
): AssumeDecision {
  const sub = serviceAccountSubject(spec.namespace, spec.serviceAccount);
  const providerArn = oidcProviderArn(facts.partition, facts.accountId, `https://${spec.host}`);
  const base = { via: 'irsa' as const, who: spec.who, sub, aud: spec.aud, issuer: spec.host };
  const d = evaluateWebIdentityAssume(
    documents.trust,
    { arn: documents.arn, accountId: facts.accountId },
    { providerArn, issuerHost: spec.host, sub, aud: spec.aud },
  );
  const cell = cellFrom(d, want);
  // STS also needs the issuer's provider in IAM, with the token's audience among its client IDs.
  if (cell.state === 'allowed' && want === 'allowed' && providers !== undefined && providers.has(providerArn)) {
    const p = providers.get(providerArn);
    if (p === undefined) {
      return { ...base, ...cell, state: 'denied', detail: `the OIDC provider ${spec.host} does not exist in IAM` };
    }
    if (!p.clientIds.includes(spec.aud)) {
      return {
        ...base,
        ...cell,
        state: 'denied',
        detail: `the OIDC provider ${spec.host} lacks the audience ${spec.aud}`,
      };
    }
  }
  return { ...base, ...cell };
}

/** The cluster name a Pod Identity neighbour asks from. */
export const OTHER_CLUSTER = 'flyte-aws-setup-other-cluster';

/** EKS Pod Identity assumes the role for the pod, from the cluster (`aws:SourceArn`) and its account. */
function podIdentity(
  documents: RoleDocuments,
  facts: Facts,
  who: string,
  clusterArn: string,
  pod: { namespace: string; serviceAccount: string },
  want: 'allowed' | 'denied',
): AssumeDecision {
  const d = evaluatePodIdentityAssume(
    documents.trust,
    { arn: documents.arn, accountId: facts.accountId },
    { accountId: facts.accountId, clusterArn, namespace: pod.namespace, serviceAccount: pod.serviceAccount },
  );
  return { via: 'pod-identity', who, cluster: clusterArn, account: facts.accountId, ...cellFrom(d, want) };
}

function neighbourToken(n: Neighbour, host: string): TokenSpec {
  return {
    who: n.what,
    namespace: n.namespace,
    serviceAccount: n.serviceAccount,
    aud: n.aud ?? STS_AUDIENCE,
    host: n.otherCluster ? otherIssuer(host) : host,
  };
}

async function roleCells(
  documents: RoleDocuments,
  capabilities: { needed: Capability[]; beyond: Capability[] },
  facts: Facts,
  pause?: () => Promise<void>,
): Promise<AccessCell[]> {
  const role = rolePolicies(documents, facts.accountId);
  const context = sessionContext(role, facts.region);
  const cells: AccessCell[] = [];
  const one = async (c: Capability, want: 'allowed' | 'denied') => {
    const base = {
      capability: c.id,
      column: c.column,
      label: c.label,
      action: c.action,
      resource: c.resource,
      where: c.where,
    };
    if (documents.unreadable.length > 0) {
      cells.push({
        ...base,
        state: 'not-checked',
        want,
        statements: [],
        detail: `not read: ${documents.unreadable.join('; ')}`,
      });
      return;
    }
    await pause?.();
    const d = await evaluateAction(role, c.action, c.resource, { ...context, ...c.context }, c.resourcePolicy);
    cells.push({ ...base, ...cellFrom(d, want) });
  };
  for (const c of capabilities.needed) await one(c, 'allowed');
  for (const c of capabilities.beyond) await one(c, 'denied');
  return cells;
}

/** The access matrix: each identity's assume, its neighbours', and its role's capabilities (evaluated once a role). */
export async function checkAccess(input: AccessInput): Promise<AccessReport> {
  const { config, facts, identities, roles, providers } = input;
  if (!(await loadEvaluator())) {
    // Not made: each identity says so (and its role gets an `unchecked` finding), never a pass.
    return {
      identities: identities.map((i) => ({
        id: i.id,
        section: i.section,
        who: i.who,
        roleName: i.roleName,
        assume: [],
        neighbours: [],
        cells: [],
        notChecked: EVALUATOR_MISSING,
      })),
      notChecked: notVisible(input),
    };
  }
  // The requests on the bucket and its objects are evaluated with its policy, when it was read.
  const needed = withBucketPolicy(neededCapabilities(config, facts), input.bucketPolicy, facts.partition);
  const beyond = withBucketPolicy(overGrantProbes(config, facts), input.bucketPolicy, facts.partition);
  // What the config's grants give is per role: each role is asked for its own.
  const capabilitiesOf = (roleName: string) => ({
    needed: [
      ...needed,
      ...withBucketPolicy(grantCapabilities(config, facts, roleName), input.bucketPolicy, facts.partition),
    ],
    beyond,
  });
  // Every cluster of the config: its pods assume the roles through its own issuer (IRSA) or its own ARN (Pod
  // Identity), so each identity is checked from each cluster.
  const clusters = factsClusters(facts).map((c) => ({
    name: c.name ?? '',
    host: c.state === 'ready' && !c.placeholder ? issuerHostPath(c.issuerUrl) : undefined,
    arn:
      c.state === 'ready'
        ? eksClusterArn(facts.partition, c.region ?? facts.region, facts.accountId, c.name)
        : undefined,
  }));
  const byRole = new Map<string, AccessCell[]>();
  const out: IdentityAccess[] = [];
  for (const identity of identities) {
    const base = { id: identity.id, section: identity.section, who: identity.who, roleName: identity.roleName };
    const read = roles.get(identity.roleName);
    if (read === undefined || read.kind === 'missing') {
      out.push({
        ...base,
        assume: [],
        neighbours: [],
        cells: [],
        notChecked: `the role ${identity.roleName} does not exist`,
      });
      continue;
    }
    const documents = read.documents;
    let cells = byRole.get(identity.roleName);
    if (cells === undefined) {
      cells = await roleCells(documents, capabilitiesOf(identity.roleName), facts, input.pause);
      byRole.set(identity.roleName, cells);
    }
    await input.pause?.();
    const pod = identity.pod;
    const own: AssumeDecision[] = [];
    const neighbours: AssumeDecision[] = [];
    for (const cluster of clusters) {
      if (pod !== undefined && identity.paths.includes('irsa')) {
        const spec = {
          who: identity.id,
          namespace: pod.namespace,
          serviceAccount: pod.serviceAccount,
          aud: STS_AUDIENCE,
        };
        if (cluster.host === undefined) {
          own.push({
            via: 'irsa',
            who: identity.id,
            sub: serviceAccountSubject(pod.namespace, pod.serviceAccount),
            aud: STS_AUDIENCE,
            issuer: '',
            state: 'not-checked',
            want: 'allowed',
            statements: [],
            detail: `the cluster ${cluster.name} has no OIDC issuer yet`.replace('  ', ' '),
          });
        } else {
          own.push(assume(documents, facts, { ...spec, host: cluster.host }, 'allowed', providers));
          for (const n of neighboursOf(identity)) {
            neighbours.push(assume(documents, facts, neighbourToken(n, cluster.host), 'denied', undefined));
          }
        }
      }
      if (pod !== undefined && identity.paths.includes('pod-identity') && cluster.arn !== undefined) {
        own.push(podIdentity(documents, facts, identity.id, cluster.arn, pod, 'allowed'));
        // The trust sees the cluster and the account, not the pod: its neighbours are another cluster's pods.
        const other = `${cluster.arn.slice(0, cluster.arn.lastIndexOf('/') + 1)}${OTHER_CLUSTER}`;
        neighbours.push(
          podIdentity(documents, facts, `a pod of another cluster: ${OTHER_CLUSTER}`, other, pod, 'denied'),
        );
      }
    }
    out.push({
      ...base,
      roleArn: documents.arn,
      assume: own,
      neighbours,
      cells,
      ...(identity.id === input.focus ? { alsoAssumes: otherRolesLettingIn(identity, roles, clusters, facts) } : {}),
    });
  }
  return { identities: out, notChecked: notVisible(input) };
}

/**
 * The other Flyte roles whose trust lets `identity`'s pods in through IRSA (a `*:default` workers role lets in a
 * project's pods too): its token, from each cluster, against each of their trusts.
 */
function otherRolesLettingIn(
  identity: FlyteIdentity,
  roles: AccessInput['roles'],
  clusters: { host?: string | undefined }[],
  facts: Facts,
): (AssumeDecision & { roleName: string })[] {
  const pod = identity.pod;
  if (pod === undefined || !identity.paths.includes('irsa')) return [];
  const out: (AssumeDecision & { roleName: string })[] = [];
  for (const [roleName, read] of roles) {
    if (roleName === identity.roleName || read.kind === 'missing') continue;
    for (const cluster of clusters) {
      if (cluster.host === undefined) continue;
      const spec = {
        who: identity.id,
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccount,
        aud: STS_AUDIENCE,
        host: cluster.host,
      };
      const d = assume(read.documents, facts, spec, 'denied', undefined);
      if (d.state === 'allowed') out.push({ ...d, roleName });
    }
  }
  return out;
}

interface FindingContext {
  /** The command that applies the config, for "the next run fixes it". */
  rerun: string;
  /** The roles' documents, for the names of what to change. */
  roles: ReadonlyMap<string, RoleRead>;
  identities: FlyteIdentity[];
}

/** How a refused request reads: list on the bucket, under a prefix, with a key, on a secret or repository. */
function preposition(c: AccessCell): string {
  if (c.column === 'list') return 'on';
  if (c.action.startsWith('kms:')) return 'with the key';
  return c.where.startsWith('s3://') ? 'under' : 'on';
}

function fixFor(
  d: AccessDecision,
  roleName: string,
  ctx: FindingContext,
  action: string,
  column?: AccessCell['column'],
): string {
  const read = ctx.roles.get(roleName);
  const policies =
    read?.kind === 'found'
      ? [...read.documents.policies, ...(read.documents.boundary ? [read.documents.boundary] : [])]
      : [];
  const policy = (name: string) => policies.find((p) => p.name === name);
  if (d.reason === 'boundary') {
    return `allow ${action} in the permissions boundary ${d.detail ?? ''} (or set permissionsBoundary: in the config to one that does, and run \`${ctx.rerun}\`)`;
  }
  const steps = d.statements.map((s) => {
    if (s.policy === BUCKET_POLICY && 'resource' in d) {
      const bucket = (d as AccessCell).resource.replace(/^arn:[\w-]+:s3:::/, '').split('/')[0]!;
      return `the bucket policy of s3://${bucket} (${s.statement}): review it with aws s3api get-bucket-policy --bucket ${bucket}`;
    }
    const p = policy(s.policy);
    if (p?.inline !== undefined) {
      return `the inline policy ${p.inline} (${s.statement}): review it with aws iam get-role-policy --role-name ${roleName} --policy-name ${p.inline}; to remove it: aws iam delete-role-policy --role-name ${roleName} --policy-name ${p.inline}`;
    }
    if (p?.arn !== undefined) {
      return `${p.name} (${s.statement}): if the role does not need it, aws iam detach-role-policy --role-name ${roleName} --policy-arn ${p.arn}`;
    }
    return `${s.policy} (${s.statement})`;
  });
  if (d.reason === 'explicit-deny') return `remove or narrow the Deny statement: ${steps.join('; ')}`;
  if (d.want === 'denied') return `narrow or remove what grants it: ${steps.join('; ')}`;
  if (column === 'grant') {
    return `the next \`${ctx.rerun}\` run attaches the policy of the role's grants (${grantsPolicyName(roleName)}); if it still fails, see the other findings of the role`;
  }
  return `the next \`${ctx.rerun}\` run attaches the custom policy and fixes the trust; if it still fails, see the other findings of the role`;
}

/** Every statement that grants the reach is in a policy the findings standard calls broad already. */
function reportedAsBroad(d: AccessDecision, roleName: string, ctx: FindingContext): boolean {
  const read = ctx.roles.get(roleName);
  if (read?.kind !== 'found' || d.statements.length === 0) return false;
  return d.statements.every((s) => {
    const p = read.documents.policies.find((q) => q.name === s.policy);
    if (p === undefined) return false;
    return p.arn !== undefined ? tooBroad(p.arn) !== undefined : broadGrant(p.document) !== undefined;
  });
}

function overGrantCode(identity: FlyteIdentity, d: AccessDecision, ctx: FindingContext): FindingCode {
  if (identity.paths.length === 0) return 'over-grant-non-irsa';
  const read = ctx.roles.get(identity.roleName);
  const arns = read?.kind === 'found' ? read.documents.policies : [];
  const listed = d.statements.every((s) => {
    const arn = arns.find((p) => p.name === s.policy)?.arn;
    return arn !== undefined && identity.listedPolicies.includes(arn);
  });
  return listed && d.statements.length > 0 ? 'over-grant-listed' : 'over-grant';
}

/**
 * The findings of the matrix, one per role and problem: a need refused (`access-denied`, naming the identities and
 * the action), a neighbour let in (`access-admits`), an over-grant (`over-grant`; a warning when it comes from a
 * policy the config attaches on purpose, or on Union's role), and what was not checked (`unchecked`).
 */
export function accessFindings(report: AccessReport, ctx: FindingContext): Finding[] {
  const out: Finding[] = [];
  const add = (code: FindingCode, section: SectionId, roleName: string, problem: string, fix: string) =>
    out.push({ code, severity: severityOf(code), section, resource: `role ${roleName}`, problem, fix });
  const byRole = new Map<string, IdentityAccess[]>();
  for (const i of report.identities) byRole.set(i.roleName, [...(byRole.get(i.roleName) ?? []), i]);

  for (const [roleName, list] of byRole) {
    const first = list[0]!;
    if (first.notChecked === EVALUATOR_MISSING) {
      add(
        'unchecked',
        first.section,
        roleName,
        `what ${list.map((i) => i.id).join(', ')} can do through it was not evaluated: the IAM policy evaluator ` +
          `${EVALUATOR_PACKAGE} is not installed (AGPL-3.0-licensed, so flyte-aws-setup does not bundle it)`,
        `install it beside flyte-aws-setup: npm install --global ${EVALUATOR_PACKAGE} (or npx --package ` +
          `flyte-aws-setup --package ${EVALUATOR_PACKAGE} flyte-aws-setup verify ...)`,
      );
      continue;
    }
    const ids = list.map((i) => i.id).join(', ');
    const identity =
      ctx.identities.find((i) => i.id === first.id) ?? ctx.identities.find((i) => i.roleName === roleName);
    // Assume: per identity (each has its own token).
    for (const i of list) {
      for (const a of i.assume.filter(isWrong)) {
        add(
          'access-denied',
          i.section,
          roleName,
          `${i.id} (${i.who}) cannot assume the role (${assumeText(a)}): ${decisionText(a)}`,
          `the next \`${ctx.rerun}\` run writes the trust the config describes (see the role's trust findings)`,
        );
      }
      for (const n of i.neighbours.filter(isWrong)) {
        add(
          'access-admits',
          i.section,
          roleName,
          `its trust lets in ${n.who} (${assumeText(n)}), not only ${i.id}: ${decisionText(n)}`,
          `the next \`${ctx.rerun}\` run writes the trust the config describes, which lets in only its service accounts`,
        );
      }
    }
    // Capabilities: per role (every identity of the role has them), one finding per action or per grant.
    const cells = first.cells;
    const refused = cells.filter((c) => c.want === 'allowed' && isWrong(c));
    // One finding per action on the Flyte bucket (its key), and per action of each grant: a grant is its own.
    const groupOf = (c: AccessCell) => (c.column === 'grant' ? `${c.action} ${c.where}` : `${c.column} ${c.action}`);
    for (const group of [...new Set(refused.map(groupOf))]) {
      const these = refused.filter((c) => groupOf(c) === group);
      const { action, column } = these[0]!;
      const where = these.map((c) => c.where).join(' and ');
      add(
        'access-denied',
        first.section,
        roleName,
        `${ids} cannot ${action} ${preposition(these[0]!)} ${where}${column === 'grant' ? ' (a grant of the config)' : ''}: ${decisionText(these[0]!)}`,
        fixFor(these[0]!, roleName, ctx, action, column),
      );
    }
    const beyond = cells.filter((c) => c.want === 'denied' && isWrong(c));
    const groups = new Map<string, AccessCell[]>();
    for (const c of beyond) {
      const key = statementText(c.statements);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    for (const [by, these] of groups) {
      // A broad grant the plan reports already (broad-policy: AmazonS3FullAccess, an inline "s3:*" on "*") is one
      // finding, the same in the plan, the run and verify: the matrix shows its reach.
      if (reportedAsBroad(these[0]!, roleName, ctx)) continue;
      const code = identity !== undefined ? overGrantCode(identity, these[0]!, ctx) : 'over-grant';
      add(
        code,
        first.section,
        roleName,
        `${ids} can ${these.map((c) => c.label).join(', ')}, beyond the Flyte bucket: allowed by ${by}`,
        fixFor(these[0]!, roleName, ctx, these[0]!.action),
      );
    }
    const unread = cells.find((c) => c.state === 'not-checked');
    if (unread !== undefined) {
      add(
        'unchecked',
        first.section,
        roleName,
        `its access was not evaluated: ${unread.detail ?? 'a document could not be evaluated'}`,
        'allow iam:GetPolicy, iam:GetPolicyVersion, iam:ListRolePolicies and iam:GetRolePolicy on it (flyte-aws-setup permissions --for verify prints the policy)',
      );
    }
  }
  return out;
}
