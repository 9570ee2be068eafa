/**
 * What a section is: one step of the documents, turned into the AWS resources it wants. Each section module is
 * pure: the config and the facts in, desired resources out.
 */
import type { Config, ProjectRole, RawConfig, SectionId, Target } from '../config/schema.js';
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, SETUP_KEY } from '../config/rules.js';
import type { Problem } from '../errors.js';
import {
  clusterRegion,
  type DesiredResource,
  type DesiredRole,
  type Facts,
  type Note,
  type SectionPlan,
  type Tags,
} from '../model.js';
import {
  clustersThatFit,
  policySize,
  serviceAccountTrustPolicy,
  TRUST_POLICY_MAX,
  type PolicyDocument,
} from '../policy/document.js';
import {
  eksClusterArn,
  eksIssuerUrl,
  oidcProviderArn,
  partitionOfRegion,
  policyArn,
  roleArn,
} from '../policy/partition.js';
import { grantsPolicyArnOf } from './grantees.js';

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

/**
 * Something the config names that must exist already for a run to use it (an extra policy, Union's role): looked up
 * while planning, before anything is written. `missing` says what to do when it is not there.
 */
export type Reference =
  | { kind: 'policy'; arn: string; path: ConfigPath; missing?: string }
  | { kind: 'role'; name: string; path: ConfigPath; missing?: string };

export interface SectionDefinition {
  id: SectionId;
  title: string;
  /** A short paragraph on what the section is and why, for the wizard: one line, wrapped where it is shown. */
  explain: string;
  /** Needs the EKS cluster (its OIDC issuer, its ARN). */
  needsCluster: boolean;
  /**
   * What kind of identity its roles are: assumed by pods' service accounts (`irsa`: through the cluster's OIDC
   * provider, or EKS Pod Identity, or both, as the config's `identity` says), or none.
   */
  identity: 'none' | 'irsa';
  /**
   * The targets (the config's `target`: the chart that installs Flyte, or Union) the section serves; absent: every
   * target. For any other target it is off, and a config that sets it up is refused (`notFor` says why).
   */
  targets?: readonly Target[];
  /** Why the section is of no use with a target it does not serve, in a few words. */
  notFor?(target: Target): string;
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
  /** What the config names for it that must exist already (looked up before a run writes anything). */
  references?(ctx: Pick<SectionContext, 'config' | 'facts'>): Reference[];
  /** The resources the config wants; [] when the section is disabled. */
  desired(ctx: SectionContext): DesiredResource[];
  /**
   * What the section made that the config no longer asks for at all, found in what the plan read of the other
   * sections' roles (`attached`: the policies attached to a role the config makes; undefined when it was not read
   * or does not exist). Asked only while the section is off: the plan then takes these away (read first, like any
   * resource), so a config that drops the section narrows AWS as one that narrows it does. Pure.
   */
  leftBehind?(ctx: SectionContext, attached: (role: string) => readonly string[] | undefined): DesiredResource[];
  /** What the plan should say about the section beside its resources (pure, from the config and the facts). */
  notes?(ctx: SectionContext): Note[];
  /** Why it is skipped, when that is not simply `<id>: false`. */
  skipReason?(config: Config): string | undefined;
  /** What the wizard needs to know of it beyond the above; absent: the defaults of `SectionWizard`. */
  wizard?: SectionWizard;
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
  scopedPolicy?: string;
}

export function desiredRole(ctx: SectionContext, spec: RoleSpec): DesiredRole {
  const { config, facts } = ctx;
  // Its grants policy (grants:), which the grants section attaches once the role exists.
  const grants = grantsPolicyArnOf(config, facts, spec.name);
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
    ...(spec.scopedPolicy !== undefined ? { scopedPolicy: spec.scopedPolicy } : {}),
    ...(grants !== undefined ? { alsoAttached: [grants] } : {}),
  };
}

/** How a role's description names the way pods assume it: `(IRSA)`, `(Pod Identity)` or `(IRSA, Pod Identity)`. */
export function identityWords(config: Pick<Config, 'identity'>): string {
  return config.identity === 'irsa'
    ? 'IRSA'
    : config.identity === 'pod-identity'
      ? 'Pod Identity'
      : 'IRSA, Pod Identity';
}

/** The ARN of the config's EKS cluster (Pod Identity's trust is bounded to it). */
export function clusterArnOf(ctx: Pick<SectionContext, 'config' | 'facts'>): string {
  const { config, facts } = ctx;
  const name = facts.cluster.name ?? config.cluster;
  if (name === undefined) throw new Error('section needs the cluster, but the config names none');
  return eksClusterArn(facts.partition, facts.region, facts.accountId, name);
}

/** Where a service account role's trust points: the OIDC provider (IRSA) and the cluster (Pod Identity). */
export interface TrustSides {
  irsa?: { providerArn: string; issuerUrl: string };
  pod?: { accountId: string; clusterArn: string };
}

/**
 * The trust of a role pods assume, for the config's `identity` and these service account subjects: one cluster's
 * sides, or several clusters' (a statement each).
 */
export function serviceAccountTrust(
  config: Config,
  sides: TrustSides | TrustSides[],
  subjects: string[],
): PolicyDocument {
  return serviceAccountTrustPolicy({
    mode: config.identity,
    clusters: Array.isArray(sides) ? sides : [sides],
    subjects,
  });
}

/** A cluster of the config that is ready: its name, region (the run's when not given) and OIDC issuer. */
export interface ReadyCluster {
  name: string;
  region: string;
  issuerUrl: string;
}

/**
 * The clusters the facts describe, each ready with its issuer: the one the context names (`issuerUrl`) when the
 * facts hold only one, else every one of them (sections that need the cluster run only when all are ready).
 */
export function readyClusters(ctx: SectionContext): ReadyCluster[] {
  const { facts } = ctx;
  if (facts.clusters === undefined) {
    const name = facts.cluster.name ?? ctx.config.cluster;
    if (name === undefined) throw new Error('section needs the cluster, but the config names none');
    return [{ name, region: clusterRegion(facts.cluster, facts), issuerUrl: requireIssuer(ctx) }];
  }
  return facts.clusters.map((c) => {
    if (c.state !== 'ready') throw new Error(`section needs the cluster ${c.name ?? ''}, but it is not ready`);
    return { name: c.name, region: clusterRegion(c, facts), issuerUrl: c.issuerUrl };
  });
}

/** The trust sides of each cluster the facts describe: only those the config's `identity` uses. */
function trustSidesOf(ctx: SectionContext): TrustSides[] {
  const { config, facts } = ctx;
  const mode = config.identity;
  return readyClusters(ctx).map((c) => ({
    ...(mode !== 'pod-identity'
      ? {
          irsa: {
            providerArn: oidcProviderArn(facts.partition, facts.accountId, c.issuerUrl),
            issuerUrl: c.issuerUrl,
          },
        }
      : {}),
    ...(mode !== 'irsa'
      ? {
          pod: {
            accountId: facts.accountId,
            clusterArn: eksClusterArn(facts.partition, c.region, facts.accountId, c.name),
          },
        }
      : {}),
  }));
}

/**
 * A role Flyte's pods assume (IRSA, Pod Identity or both, as the config's `identity` says): trust for the service
 * account subjects, the custom policy plus extras.
 */
export function desiredIrsaRole(
  ctx: SectionContext,
  spec: { name: string; description: string; subjects: string[]; extraPolicies: string[] },
): DesiredRole {
  const custom = customPolicyArn(ctx);
  return desiredRole(ctx, {
    name: spec.name,
    description: spec.description,
    trust: serviceAccountTrust(ctx.config, trustSidesOf(ctx), spec.subjects),
    managedPolicies: [...(custom !== undefined ? [custom] : []), ...spec.extraPolicies],
    ...(custom !== undefined ? { scopedPolicy: custom } : {}),
  });
}

/** The extra policies of a section's config, as references. */
export function extraPolicyReferences(extraPolicies: string[], path: ConfigPath): Reference[] {
  return extraPolicyArns(extraPolicies, path).map(([arn, at]) => ({ kind: 'policy', arn, path: at }));
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
 * An issuer, provider ARN and cluster ARN as long as real ones, to size trust policies before the cluster is known
 * (without a region: a long commercial one; without a cluster name: one of 32 characters). A run measures the real
 * document again before sending it.
 */
export function trustSizeContext(config: Config): Required<TrustSides> {
  const region = config.region ?? 'ap-southeast-5';
  const partition = partitionOfRegion(config.region);
  const issuerUrl = eksIssuerUrl(partition, region, '0'.repeat(32));
  const accountId = '000000000000';
  return {
    irsa: { issuerUrl, providerArn: `arn:${partition}:iam::${accountId}:oidc-provider/${issuerUrl.slice(8)}` },
    pod: { accountId, clusterArn: eksClusterArn(partition, region, accountId, config.cluster ?? 'c'.repeat(32)) },
  };
}

/**
 * The size of the trust the config's `identity` gives these subjects, measured before the cluster is known, for
 * `clusters` clusters (each adds its statements).
 */
export function estimatedTrustSize(config: Config, subjects: string[], clusters = 1): number {
  const side = trustSizeContext(config);
  return policySize(
    serviceAccountTrust(
      config,
      Array.from({ length: clusters }, () => side),
      subjects,
    ),
  );
}

/**
 * What to say when a trust for these subjects and clusters would not fit IAM's default limit (undefined: it fits):
 * which clusters to drop (the ones after those that fit), fewer namespaces, or the quota raised.
 */
export function trustTooLong(
  config: Config,
  subjects: string[],
  clusters: readonly string[],
  fewer: string,
): string | undefined {
  const { size, fit } = clustersThatFit(clusters.length, (n) => estimatedTrustSize(config, subjects, n));
  if (size <= TRUST_POLICY_MAX) return undefined;
  const drop =
    clusters.length > 1 && fit > 0
      ? `; it fits with ${clusters.slice(0, fit).join(', ')}: drop ${clusters.slice(fit).join(', ')} from this config (a config of its own for them)`
      : '';
  return (
    `the trust policy would be about ${size} characters${clusters.length > 1 ? ` with ${clusters.length} clusters` : ''}; ` +
    `IAM allows ${TRUST_POLICY_MAX} by default${drop}. ${fewer}, or have the "Role trust policy length" quota raised ` +
    '(up to 4,096)'
  );
}

export function pathText(path: ConfigPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

// The wizard's view of a section. The wizard implements the context; a section only says what is its own.

/** The wizard's answers so far: a config file's mapping, filled in answer by answer. */
export type Draft = Partial<RawConfig>;

export interface InputQuestion {
  message: string;
  /** Taken when the answer is empty. */
  default?: string;
  /** What is wrong with an answer (shown under the prompt, which stays), or undefined when it is fine. */
  validate?: (value: string) => string | undefined;
}

export interface ConfirmQuestion {
  message: string;
  default: boolean;
}

export interface Choice<T> {
  name: string;
  value: T;
  /** Shown under the list while this choice is highlighted. */
  description?: string;
  /** Shown as the answer once chosen (else the name). */
  short?: string;
}

export interface SelectQuestion<T> {
  message: string;
  choices: Choice<T>[];
  default?: T;
}

export interface CheckboxQuestion<T> {
  message: string;
  choices: (Choice<T> & { checked?: boolean })[];
  validate?: (values: T[]) => string | undefined;
}

/** The wizard's questions. Ctrl-C at one throws (the wizard stops there). */
export interface SectionPrompter {
  /** The answer, trimmed. */
  input(q: InputQuestion): Promise<string>;
  confirm(q: ConfirmQuestion): Promise<boolean>;
  select<T>(q: SelectQuestion<T>): Promise<T>;
  checkbox<T>(q: CheckboxQuestion<T>): Promise<T[]>;
}

/** How the conversation marks text. */
export interface TextStyle {
  bold(s: string): string;
  dim(s: string): string;
  warn(s: string): string;
  error(s: string): string;
}

/** What a section's wizard hooks are handed. */
export interface SectionWizardContext {
  /** The answers; hooks change them in place. */
  draft: Draft;
  prompter: SectionPrompter;
  /** A line of the conversation. */
  say(line?: string): void;
  style: TextStyle;
  /** A heading within the walk, `── title ───`. */
  subheading(title: string): void;
  /** A paragraph as lines of the conversation's width. */
  wrap(text: string): string[];
  /**
   * What is wrong at `path` in a draft, in the words of the config checks (without the config's key paths: the
   * question says what is asked); undefined when it is fine.
   */
  problemAt(draft: Draft, path: readonly (string | number)[]): string | undefined;
  /** Read AWS under a spinner that says what is read. */
  reading<T>(text: string, work: () => Promise<T>): Promise<T>;
  /** The account's roles whose name ends in `suffix`. */
  rolesEndingWith(suffix: string): Promise<{ name: string }[]>;
  /** This section's plan for the answers as they are now. */
  plan(): Promise<SectionPlan>;
  /** The answers' EKS cluster as DescribeCluster shows it; undefined when it does not exist (yet). */
  cluster(): Promise<{ name: string; status: string; roleArn?: string } | undefined>;
}

/** What a section's own questions may say about the yes/no that follows them. */
export interface SectionAsked {
  /** The default answer of "Create the ...?" (else yes). */
  approveByDefault?: boolean;
}

/**
 * What the wizard needs to know of a section. The defaults suit a section whose config key is its id, off when
 * `false`: on as `sectionEnabled` says, turned on with the documents' settings, turned off with `false`.
 */
export interface SectionWizard {
  /** Whether the wizard shows it at all with these answers (absent: always, where its target is served). */
  shown?(draft: Draft): boolean;
  /** Whether the answers have it on. */
  isOn?(draft: Draft): boolean;
  /** Turn it on after the user said yes to "Set up ... now?". */
  turnOn?(draft: Draft): void;
  /** Turn it off (declined), so that the saved config repeats what was done. */
  turnOff?(draft: Draft): void;
  /** Asked before its heading, whether it is on or not. */
  before?(ctx: SectionWizardContext): Promise<void>;
  /** When the answers have it off: asked in place of "Set up ... now?"; true when it is on now. */
  offer?(ctx: SectionWizardContext): Promise<boolean>;
  /** Its own questions, once it is on, before its plan is read. */
  ask?(ctx: SectionWizardContext): Promise<SectionAsked | void>;
  /** Said after the (!) explanation before its question: what the security-relevant change is here. */
  securityNote?: string;
  /** Said at once when the user says no to it: what that means for the sections after it. */
  declined?: string;
}

/** Words for "nothing" in an optional answer whose prompt shows a default (Enter alone keeps the default). */
export function isNone(answer: string): boolean {
  return answer === '' || /^(none|-)$/i.test(answer);
}

/** "a, b c" -> ["a", "b", "c"]. */
export function parseList(answer: string): string[] {
  return isNone(answer) ? [] : answer.split(/[\s,]+/).filter((s) => s !== '');
}
