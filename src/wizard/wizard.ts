/**
 * The wizard: the documents' sections, one at a time, for an operator at a terminal. It asks who and where, which
 * cluster, the bucket and the names; then, for each section, explains it, plans it, asks, applies it under a
 * spinner and shows the checked result; it ends with a saved config that repeats the setup without questions.
 *
 * The wizard only fills in a config and answers the engine's questions. Facts, plans, changes and checks are the
 * engine's (`makePlan`, `applyPlan`, `waitForCluster`); AWS calls are the gateway's.
 */
import { isCode } from '../aws/errors.js';
import type { AwsGateway, CallerIdentity } from '../aws/gateway.js';
import { USER_FLYTE_ROLE_SUFFIX, type Config, type SectionId } from '../config/schema.js';
import { CancelledError, ExitCode, UserError } from '../errors.js';
import { applyPlan, type ApplyHost, type ApplyOptions, type SectionResult } from '../engine/apply.js';
import { waitForCluster, type WaitForClusterOptions } from '../engine/cluster-wait.js';
import { makePlan } from '../engine/engine.js';
import { gatherFacts } from '../engine/facts.js';
import type { Facts, SectionPlan } from '../model.js';
import { partitionOfArn, partitionOfRegion, roleArn } from '../policy/partition.js';
import { renderSectionBody, renderSectionResult, sectionStatusText } from '../render/plan-text.js';
import type { Progress } from '../render/progress.js';
import { stepText } from '../render/step-text.js';
import type { Style } from '../render/style.js';
import { SECTIONS, type SectionDefinition } from '../sections/index.js';
import { defaultDraft, defaultSection, draftConfig, draftFromConfig, problemAt, type Draft } from './draft.js';
import { InterruptedByUser, type Prompter } from './prompter.js';
import { askProjects, askSettings, askWorkersTrust } from './questions.js';
import { configText, saveConfigAs, writeFileAtomic, type SavedConfig } from './save.js';
import { rule, wrap } from './text.js';
import { handOff } from '../session/hand-off.js';
import { join, relative } from 'node:path';

export interface WizardFlags {
  region?: string;
  profile?: string;
  cluster?: string;
  bucket?: string;
  namespace?: string;
}

export interface AwsSession {
  gateway: AwsGateway;
  close(): void;
}

export interface WizardDeps {
  prompter: Prompter;
  /** A line of the conversation: explanations, plans, results (stderr, beside the prompts). */
  say(line: string): void;
  /** A line of the final summary: what was done, where the config is, what to run next (stdout). */
  out(line: string): void;
  style: Style;
  outStyle: Style;
  progress: Progress;
  /** SDK clients for a region and profile (the profile undefined: the default credential chain). */
  connect(region: string, profile: string | undefined): Promise<AwsSession>;
  /** The region the SDK would use for a profile, if any is set. */
  defaultRegion(profile: string | undefined): Promise<string | undefined>;
  /** Named profiles of the shared AWS config files. */
  profiles(): string[];
  /** Where relative config paths start. */
  cwd: string;
  /** Aborted on Ctrl-C (outside prompts) and SIGTERM: the engine stops after the call in flight. */
  signal: AbortSignal;
  flags: WizardFlags;
  /** `--config FILE --interactive`: the answers start from this config. */
  start?: { config: Config; file: string };
  /** Polling and IAM settling times (tests make them short). */
  timing?: { clusterWait?: WaitForClusterOptions; consistency?: ApplyOptions['consistency'] };
}

export interface WizardOutcome {
  exitCode: number;
  /** The config file written, if any. */
  configFile?: string;
  results: SectionResult[];
}

export async function runWizard(deps: WizardDeps): Promise<WizardOutcome> {
  const walk = new Walk(deps);
  try {
    return await walk.run();
  } catch (err) {
    deps.progress.clear();
    if (err instanceof InterruptedByUser) return walk.interrupted();
    // Stopped on purpose before any change ("No, stop here") needs no report; an error after changes does.
    if (!(err instanceof CancelledError)) walk.reportApplied('Before this error');
    throw err;
  } finally {
    walk.close();
  }
}

type SectionsEnd = 'done' | 'waiting' | 'failed';

/** A title inside a sentence: "Project-domain roles" -> "project-domain roles"; "EKS node role", names stay. */
function inSentence(title: string): string {
  return /^[A-Z][a-z]/.test(title) && !/^(Flyte|Union)\b/.test(title)
    ? title[0]!.toLowerCase() + title.slice(1)
    : title;
}

class Walk {
  private draft: Draft;
  private session?: AwsSession;
  private region = '';
  private profile?: string;
  private facts?: Facts;
  private readonly results: SectionResult[] = [];
  private saved?: SavedConfig;

  constructor(private readonly deps: WizardDeps) {
    this.draft = deps.start ? draftFromConfig(deps.start.config) : defaultDraft();
    for (const key of ['region', 'profile', 'cluster', 'bucket', 'namespace'] as const) {
      const value = deps.flags[key];
      if (value !== undefined) this.draft[key] = value;
    }
  }

  private get gateway(): AwsGateway {
    if (this.session === undefined) throw new Error('the wizard has no AWS session yet');
    return this.session.gateway;
  }

  private say(line = ''): void {
    this.deps.say(line);
  }

  /** Stop here if Ctrl-C (or SIGTERM) came while AWS was being read. */
  private checkpoint(): void {
    if (this.deps.signal.aborted) throw new InterruptedByUser();
  }

  close(): void {
    this.session?.close();
  }

  async run(): Promise<WizardOutcome> {
    const s = this.deps.style;
    this.say(s.bold('flyte-aws-setup: the AWS IAM pieces Flyte needs on Amazon EKS, one section at a time.'));
    this.say('Each section is explained and planned; nothing changes until you say yes, and every result is read');
    this.say("back and checked. Enter takes the default answer (the documents' setup); Ctrl-C stops at any point.");
    await this.account();
    await this.cluster();
    await askSettings(this.questionContext());
    this.facts = await this.withSpinner('Reading the account and the cluster', () =>
      gatherFacts(this.gateway, draftConfig(this.draft)),
    );
    const end = await this.sections();
    return this.finish(end);
  }

  private questionContext() {
    return {
      prompter: this.deps.prompter,
      say: (line?: string) => this.say(line),
      style: this.deps.style,
      draft: this.draft,
      flags: this.deps.flags,
    };
  }

  private async withSpinner<T>(text: string, work: () => Promise<T>): Promise<T> {
    this.deps.progress.start(text);
    try {
      return await work();
    } finally {
      this.deps.progress.clear();
      this.checkpoint();
    }
  }

  // 1. Who and where.
  private async account(): Promise<void> {
    const { flags, start, prompter } = this.deps;
    const s = this.deps.style;
    this.profile = flags.profile ?? start?.config.profile;
    let profileChosen = this.profile !== undefined;
    let region = flags.region ?? start?.config.region;
    let regionChosen = region !== undefined;
    let identity: CallerIdentity | undefined;
    for (;;) {
      region ??= await this.deps.defaultRegion(this.profile);
      if (region === undefined) {
        this.say('');
        this.say(`No AWS region is set (no AWS_REGION${this.profile ? `, none in profile ${this.profile}` : ''}).`);
        region = await this.askRegion(undefined);
        regionChosen = true;
      }
      this.region = region;
      identity = await this.whoAmI();
      const choices = [
        { name: 'Yes, continue', value: 'go' },
        ...(flags.region === undefined ? [{ name: 'Use another region', value: 'region' }] : []),
        ...(flags.profile === undefined ? [{ name: 'Use another AWS profile', value: 'profile' }] : []),
        { name: 'No, stop here', value: 'quit' },
      ];
      if (identity === undefined) {
        choices.shift();
        choices.unshift({ name: 'Try again', value: 'again' });
      } else {
        const partition = partitionOfArn(identity.arn) ?? partitionOfRegion(region);
        this.say('');
        this.say(`  Account    ${s.bold(identity.account)}`);
        this.say(`  Caller     ${identity.arn}`);
        this.say(`  Partition  ${partition}`);
        this.say(`  Region     ${s.bold(region)}`);
        this.say(`  Profile    ${this.profile ?? '(none: the default credential chain)'}`);
        const expected = start?.config.accountId;
        if (expected !== undefined && expected !== identity.account) {
          this.say(s.warn(`  The config says accountId: ${expected}; these credentials are for another account.`));
        }
      }
      const next = await prompter.select({
        message: identity ? 'Set up Flyte in this account and region?' : 'What now?',
        choices,
        default: choices[0]!.value,
      });
      if (next === 'go') break;
      if (next === 'quit') throw new CancelledError('Stopped; nothing was changed.', ExitCode.Failure);
      if (next === 'region') {
        region = await this.askRegion(region);
        regionChosen = true;
      } else if (next === 'profile') {
        this.profile = await this.askProfile();
        profileChosen = true;
        if (!regionChosen) region = undefined;
      }
    }
    this.draft.region = this.region;
    if (profileChosen && this.profile !== undefined) this.draft.profile = this.profile;
    else delete this.draft.profile;
    this.draft.accountId = identity!.account;
  }

  private async whoAmI(): Promise<CallerIdentity | undefined> {
    this.session?.close();
    this.session = undefined;
    try {
      return await this.withSpinner('Asking AWS who you are', async () => {
        this.session = await this.deps.connect(this.region, this.profile);
        return this.session.gateway.callerIdentity();
      });
    } catch (err) {
      if (!(err instanceof UserError) || err instanceof InterruptedByUser) throw err;
      this.say('');
      this.say(
        this.deps.style.error(
          `error: ${err.message} (${this.profile ? `profile ${this.profile}` : 'the default credential chain'}, region ${this.region})`,
        ),
      );
      if (err.hint) this.say(`  ${err.hint}`);
      return undefined;
    }
  }

  private async askRegion(current: string | undefined): Promise<string> {
    return this.deps.prompter.input({
      message: 'AWS region',
      ...(current !== undefined ? { default: current } : {}),
      validate: (v) => (v === '' ? 'region: is required' : problemAt({ region: v }, ['region'])),
    });
  }

  private async askProfile(): Promise<string | undefined> {
    const names = this.deps.profiles();
    if (names.length === 0) {
      const answer = await this.deps.prompter.input({
        message: 'AWS profile (from ~/.aws/config; empty for the default credential chain)',
        validate: (v) => (v === '' ? undefined : problemAt({ profile: v }, ['profile'])),
      });
      return answer === '' ? undefined : answer;
    }
    const none = '\0default-chain';
    const picked = await this.deps.prompter.select({
      message: 'AWS profile',
      choices: [
        ...names.map((n) => ({ name: n, value: n })),
        { name: '(none: the default credential chain, e.g. environment variables)', value: none },
      ],
      ...(this.profile !== undefined ? { default: this.profile } : {}),
    });
    return picked === none ? undefined : picked;
  }

  // 2. Which cluster.
  private async cluster(): Promise<void> {
    const { prompter, flags } = this.deps;
    if (flags.cluster !== undefined) {
      this.say('');
      this.say(`EKS cluster: ${flags.cluster} (--cluster)`);
      return;
    }
    const current = this.draft.cluster;
    const futureName = (def: string | undefined, message = 'Name of the EKS cluster you will create') =>
      prompter.input({
        message,
        default: def ?? 'flyte',
        validate: (v) => (v === '' ? 'cluster: is required' : problemAt({ cluster: v }, ['cluster'])),
      });
    let names: string[];
    try {
      names = await this.withSpinner(`Listing the EKS clusters in ${this.region}`, () => this.gateway.listClusters());
    } catch (err) {
      // Listing is a convenience (eks:ListClusters): without it, the name is asked.
      if (!isCode(err, 'AccessDenied', 'AccessDeniedException')) throw err;
      this.say('');
      this.say(this.deps.style.warn(`The EKS clusters cannot be listed (${(err as Error).message}).`));
      this.draft.cluster = await futureName(current, 'EKS cluster name (an existing one, or the one you will create)');
      return;
    }
    this.say('');
    if (names.length === 0) {
      this.say(`There is no EKS cluster in ${this.region} yet. The cluster and node roles can be made now; the`);
      this.say('wizard then shows how to create the cluster with them, and can wait for it.');
      this.draft.cluster = await futureName(current);
      return;
    }
    const notYet = '\0not-created-yet';
    const choices = names.map((n) => ({ name: n, value: n }));
    if (current !== undefined && !names.includes(current)) {
      choices.push({ name: `${current} (from the config; not created yet)`, value: current });
    }
    choices.push({ name: 'Not created yet (only the cluster and node roles can be done now)', value: notYet });
    const picked = await prompter.select({
      message: `EKS cluster for Flyte (in ${this.region})`,
      choices,
      default: current ?? names[0]!,
    });
    this.draft.cluster = picked === notYet ? await futureName(current) : picked;
  }

  // 4. The sections, in the documents' order.
  private async sections(): Promise<SectionsEnd> {
    for (const [index, def] of SECTIONS.entries()) {
      if (def.id === 'workersRole') await askProjects(this.questionContext());
      if (def.needsCluster && this.facts!.cluster.state !== 'ready' && this.sectionOn(def.id)) {
        if (!(await this.clusterNotReady())) return 'waiting';
      }
      this.heading(index, def);
      if (def.id === 'globalAccess' && !this.sectionOn(def.id)) {
        if (!(await this.offerGlobalAccess())) continue;
      } else if (!this.sectionOn(def.id)) {
        if (!(await this.turnOn(def))) continue;
      }
      if (def.id === 'workersRole') await askWorkersTrust(this.questionContext());
      if (def.id === 'clusterVpc') await this.offerVpcDnsFix();
      const result = await this.applySection(def);
      this.results.push(result);
      if (result.outcome === 'declined') this.skip(def);
      if (result.outcome === 'interrupted' || this.deps.signal.aborted) throw new InterruptedByUser();
      if (result.outcome === 'failed' || result.outcome === 'not-run') return 'failed';
    }
    return 'done';
  }

  private sectionOn(id: SectionId): boolean {
    switch (id) {
      case 'projectRoles':
        return (this.draft.projectRoles ?? []).length > 0;
      case 'globalAccess':
        return this.draft.globalAccess !== undefined;
      case 'clusterVpc':
        return (this.draft.vpcDns ?? 'check') !== 'off';
      default:
        return this.draft[id] !== false;
    }
  }

  /**
   * Union's global access, offered only where it applies: an existing `<prefix>-userflyterole` role (seed 003).
   * The default is no: it gives the bucket policy to every task of every project.
   */
  private async offerGlobalAccess(): Promise<boolean> {
    if (this.draft.customPolicy === false) {
      this.say('The bucket policy is off (customPolicy: false): there is nothing to attach.');
      return false;
    }
    const roles = await this.withSpinner(`Looking for a role named <prefix>${USER_FLYTE_ROLE_SUFFIX}`, () =>
      this.gateway.rolesEndingWith(USER_FLYTE_ROLE_SUFFIX),
    );
    if (roles.length === 0) {
      this.say(`No role named <prefix>${USER_FLYTE_ROLE_SUFFIX} in this account (it is Union's): nothing to do.`);
      return false;
    }
    const no = '\0no-global-access';
    const picked = await this.deps.prompter.select({
      message: 'Attach the bucket policy to every Union task (global access)?',
      choices: [
        { name: 'No (project-domain roles, or later)', value: no },
        ...roles.map((r) => ({ name: `Yes, to ${r.name}  (!) every task of every project gets it`, value: r.name })),
      ],
      default: no,
    });
    if (picked === no) return false;
    this.draft.globalAccess = { role: picked };
    return true;
  }

  /**
   * The cluster VPC's DNS settings: reported by default (vpcDns: check); turned on only when the user agrees here,
   * which the saved config records as vpcDns: fix.
   */
  private async offerVpcDnsFix(): Promise<void> {
    if ((this.draft.vpcDns ?? 'check') !== 'check') return;
    const plan = await this.withSpinner("Reading the cluster VPC's DNS settings", () =>
      makePlan(draftConfig(this.draft), this.gateway, { only: ['clusterVpc'], facts: this.facts!, concurrency: 1 }),
    );
    const r = plan.sections[0]?.resources[0];
    const off =
      r?.current?.kind === 'vpc-dns' && r.current.unreadable === undefined
        ? (['enableDnsSupport', 'enableDnsHostnames'] as const).filter(
            (a) => r.current?.kind === 'vpc-dns' && !r.current[a],
          )
        : [];
    if (off.length === 0) return;
    this.say(
      this.deps.style.warn(`The VPC ${r!.name} has ${off.join(' and ')} off: nodes cannot register with the cluster.`),
    );
    const fix = await this.deps.prompter.confirm({ message: `Turn ${off.join(' and ')} on now?`, default: true });
    if (fix) this.draft.vpcDns = 'fix';
  }

  private heading(index: number, def: SectionDefinition): void {
    const s = this.deps.style;
    this.say('');
    this.say(s.bold(rule(`${index + 1}/${SECTIONS.length}  ${def.title}`)));
    for (const line of def.explain.split('\n')) this.say(s.dim(line));
  }

  /** A section the config had off (`--config FILE --interactive`): offer to turn it on. */
  private async turnOn(def: SectionDefinition): Promise<boolean> {
    if (def.id === 'projectRoles') {
      this.say('No project entered: nothing to do here.');
      return false;
    }
    this.say(`Off in the config (${def.off}).`);
    const on = await this.deps.prompter.confirm({
      message: `Set up the ${inSentence(def.title)} now?`,
      default: false,
    });
    if (!on) return false;
    if (def.id === 'oidcProvider') this.draft.oidcProvider = true;
    else if (def.id === 'clusterVpc') this.draft.vpcDns = 'check';
    else if (def.id !== 'globalAccess') Object.assign(this.draft, defaultSection(def.id));
    return true;
  }

  /** Declined: the saved config leaves the section out, so that it repeats what was done. */
  private skip(def: SectionDefinition): void {
    if (def.id === 'projectRoles') this.draft.projectRoles = [];
    else if (def.id === 'globalAccess') delete this.draft.globalAccess;
    else if (def.id === 'clusterVpc') this.draft.vpcDns = 'off';
    else this.draft[def.id] = false;
    this.say(this.deps.style.dim(`Skipped; the saved config says ${def.off} (change it there to do it later).`));
  }

  private async applySection(def: SectionDefinition): Promise<SectionResult> {
    const { prompter, style: s, progress } = this.deps;
    const config = draftConfig(this.draft);
    const plan = await this.withSpinner(`Reading what AWS has for the ${def.title}`, () =>
      makePlan(config, this.gateway, { only: [def.id], facts: this.facts!, concurrency: 1 }),
    );
    const section = plan.sections[0]!;
    this.say('');
    this.say(`Plan: ${sectionStatusText(section, s)}`);
    for (const line of renderSectionBody(section, s)) this.say(line);

    let failure: { err: unknown } | undefined;
    const host: ApplyHost = {
      confirmSection: async (p: SectionPlan) => {
        if (p.resources.some((r) => r.security.length > 0)) {
          const note =
            '(!) marks a security-relevant change: it lets more principals in, or grants more.' +
            (p.id === 'workersRole' ? ' Here it is the namespace choice made above.' : '');
          for (const line of wrap(note)) this.say(s.warn(line));
        }
        try {
          return await prompter.confirm({
            message:
              p.status === 'create'
                ? `Create the ${inSentence(p.title)}?`
                : `Apply these changes to the ${inSentence(p.title)}?`,
            default: true,
          });
        } catch (err) {
          // The engine asks from inside its run: it is told "no", and the error (Ctrl-C) is raised once it returns.
          failure = { err };
          return false;
        }
      },
      onEvent: (event) => {
        if (event.type === 'section-start') progress.start(`${event.section.title}: starting`);
        else if (event.type === 'step') progress.update(`${event.resource}: ${stepText(event.step)}`);
        else if (event.type === 'verify') progress.update(`${event.resource}: checking the result`);
        else if (event.type === 'section-done') progress.clear();
      },
    };
    const result = await applyPlan(plan, this.gateway, host, {
      concurrency: 1,
      signal: this.deps.signal,
      ...(this.deps.timing?.consistency ? { consistency: this.deps.timing.consistency } : {}),
    });
    progress.clear();
    if (failure !== undefined) throw failure.err;
    const sectionResult = result.sections[0]!;
    if (sectionResult.outcome !== 'declined') this.say(renderSectionResult(sectionResult, s));
    return sectionResult;
  }

  // 7. The cluster does not exist (or is not ACTIVE) yet.
  private async clusterNotReady(): Promise<boolean> {
    const { prompter, style: s } = this.deps;
    const facts = this.facts!;
    const c = facts.cluster;
    const name = this.draft.cluster!;
    this.say('');
    this.say(s.bold(rule(`The EKS cluster ${name}`)));
    if (c.state === 'not-ready') {
      this.say(`The cluster is ${c.status} and has no OIDC issuer yet; the next sections need it.`);
    } else {
      const config = draftConfig(this.draft);
      const clusterRole = config.clusterRole
        ? roleArn(facts.partition, facts.accountId, config.path, config.clusterRole.name)
        : 'CLUSTER_ROLE_ARN';
      const nodeRole = config.nodeRole
        ? roleArn(facts.partition, facts.accountId, config.path, config.nodeRole.name)
        : 'NODE_ROLE_ARN';
      this.say(`It does not exist yet in ${this.region}, and the next sections need its OIDC issuer. Create it`);
      this.say('with the cluster role (put your VPC subnets in), for example:');
      this.say('');
      this.say(
        `  aws eks create-cluster --name ${name} --region ${this.region} --role-arn ${clusterRole} ` +
          '--resources-vpc-config subnetIds=SUBNET_ID_1,SUBNET_ID_2',
      );
      this.say('');
      this.say(`Its node groups take the node role: ${nodeRole}`);
    }
    const choice = await prompter.select({
      message: 'Wait for the cluster?',
      choices: [
        {
          name: 'Wait here until it is ACTIVE (the answers are saved first; Ctrl-C stops waiting)',
          value: 'wait',
        },
        { name: 'Stop now, and continue later from the saved config', value: 'stop' },
      ],
      default: 'wait',
    });
    await this.save();
    if (choice === 'stop') return false;

    const started = Date.now();
    this.deps.progress.start(`Waiting for the EKS cluster ${name} to become ACTIVE (Ctrl-C to stop)`);
    let wait;
    try {
      wait = await waitForCluster(this.gateway, name, {
        ...this.deps.timing?.clusterWait,
        signal: this.deps.signal,
        onStatus: (status) =>
          this.deps.progress.update(
            `Waiting for the EKS cluster ${name} to become ACTIVE: ${status ?? 'not created yet'}, ` +
              `${Math.floor((Date.now() - started) / 60_000)} min so far (Ctrl-C to stop)`,
          ),
      });
    } finally {
      this.deps.progress.clear();
    }
    if (wait.state === 'aborted') throw new InterruptedByUser();
    this.say(s.ok(`✓ The EKS cluster ${name} is ready; its OIDC issuer is ${wait.cluster.issuerUrl}`));
    this.facts = { ...facts, cluster: wait.cluster };
    return true;
  }

  // 8. The end.
  private async finish(end: SectionsEnd): Promise<WizardOutcome> {
    const { out, outStyle: s } = this.deps;
    const file = await this.save();
    out('');
    out(s.bold('Summary'));
    const shown = this.results.filter((r) => r.outcome !== 'skipped' || this.sectionOn(r.id));
    for (const r of shown) out(renderSectionResult(r, s));
    const made = this.results.flatMap((r) => r.resources.flatMap((x) => x.done)).length;
    out('');
    out(`${made} change(s) made in account ${this.draft.accountId}, region ${this.region}.`);
    out(`Config saved: ${file.shown}`);
    if (end === 'waiting') {
      out(s.warn(`The sections after the node role wait for the EKS cluster ${this.draft.cluster}.`));
      out(`When it is ACTIVE, continue with:  npx flyte-aws-setup --config ${file.shown} --interactive`);
      out(`or without questions:               npx flyte-aws-setup --config ${file.shown} --yes`);
      return { exitCode: ExitCode.Incomplete, configFile: file.path, results: this.results };
    }
    if (end === 'failed') {
      out(s.error('The setup stopped at the failure above. Fix its cause, then run the same setup again'));
      out(`(it picks up where this run stopped):  npx flyte-aws-setup --config ${file.shown} --yes`);
      return { exitCode: ExitCode.Failure, configFile: file.path, results: this.results };
    }
    out(`Run it again without questions (it changes nothing when AWS still matches):`);
    out(`  npx flyte-aws-setup --config ${file.shown} --yes`);
    const handoff = await this.handOff(file.shown);
    return { exitCode: handoff, configFile: file.path, results: this.results };
  }

  /**
   * The hand-off files for Flyte (Helm values with the role ARNs, cluster resource attributes, ServiceAccounts),
   * as `outputs` writes them; a file that differs from what would be written is replaced only if the user says so.
   */
  private async handOff(configShown: string): Promise<number> {
    const { out, outStyle } = this.deps;
    const config = draftConfig(this.draft);
    const arns = new Map<string, string>();
    for (const r of this.results) {
      if (!['created', 'updated', 'unchanged'].includes(r.outcome)) continue;
      for (const x of r.resources) if (x.kind === 'role') arns.set(x.name, x.arn);
    }
    const union = config.globalAccess !== false || config.projectRoles.some((p) => p.userFlyteRolePolicy);
    const outDir = relative(process.cwd(), join(this.deps.cwd, 'flyte-aws-setup-out')) || '.';
    out('');
    const outcome = await handOff(
      {
        config,
        facts: this.facts!,
        arns,
        sections: this.results,
        rerun: `flyte-aws-setup --config ${configShown} --yes`,
      },
      {
        outDir: outDir.startsWith('.') || outDir.startsWith('/') ? outDir : `./${outDir}`,
        // The target decides the files; a default-target config with Union's pieces gets Union's (--flavor union).
        ...(union && config.target === 'flyte-binary' ? { flavor: 'union' as const } : {}),
      },
      { write: out, style: outStyle },
      {
        confirmReplace: (f) =>
          this.deps.prompter.confirm({
            message: `${f.shown} differs from what would be written now. Replace it?`,
            default: false,
          }),
      },
    );
    return outcome.code;
  }

  /** Save the answers (asking where the first time); later saves in the same run replace that file. */
  private async save(): Promise<SavedConfig> {
    const draft = { ...this.draft };
    draftConfig(draft);
    if (this.saved) {
      await writeFileAtomic(this.saved.path, configText(draft, this.saved.shown), { overwrite: true });
      return this.saved;
    }
    this.saved = await saveConfigAs(draft, {
      prompter: this.deps.prompter,
      cwd: this.deps.cwd,
      ...(this.deps.start ? { startFile: this.deps.start.file } : {}),
    });
    this.say(this.deps.style.ok(`✓ Saved ${this.saved.shown}`));
    return this.saved;
  }

  /** Ctrl-C: what was applied, what was saved, exit 130. */
  interrupted(): WizardOutcome {
    this.say('');
    this.say(this.deps.style.warn('Interrupted.'));
    this.reportApplied('Before the interrupt');
    if (this.saved) {
      this.say(`The config saved earlier is complete: ${this.saved.shown}`);
      this.say(`Continue with:  npx flyte-aws-setup --config ${this.saved.shown} --interactive`);
    } else {
      this.say('No config file was written. Run the wizard again: it finds what exists and continues from there.');
    }
    return {
      exitCode: ExitCode.Interrupted,
      ...(this.saved ? { configFile: this.saved.path } : {}),
      results: this.results,
    };
  }

  reportApplied(when: string): void {
    const changed = this.results.filter((r) => r.resources.some((x) => x.done.length > 0));
    if (changed.length === 0) {
      this.say(`${when}, nothing was changed in AWS.`);
      return;
    }
    this.say(`${when}, these changes were made in AWS:`);
    for (const r of changed) this.say(renderSectionResult(r, this.deps.style));
  }
}
