/**
 * What the parts of the wizard share: its dependencies (`WizardDeps`), and the state of one walk through it (the
 * answers, the AWS session, the facts, the results so far, the saved file), with the few helpers every part uses.
 */
import type { AccessReads, AppliedRun } from '../access/after-apply.js';
import type { AwsGateway } from '../aws/gateway.js';
import type { Config } from '../config/schema.js';
import type { ApplyOptions, SectionResult } from '../engine/apply.js';
import type { WaitForClusterOptions } from '../engine/cluster-wait.js';
import type { Facts } from '../model.js';
import type { Progress } from '../render/progress.js';
import type { Style } from '../render/style.js';
import { DEFAULT_COLUMNS } from '../render/wrap.js';
import { defaultDraft, draftFromConfig, type Draft } from './draft.js';
import { InterruptedByUser, type Prompter } from './prompter.js';
import type { QuestionContext } from './questions.js';
import type { SavedConfig } from './save.js';
import { rule, wrap } from './text.js';

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
  /** False (`--no-preflight`): no permission check before each section. */
  preflight?: boolean;
  /** `--config FILE --interactive`: the answers start from this config. */
  start?: { config: Config; file: string };
  /** Show each section's plan, and the hand-off files and next steps, even when nothing changes (`--verbose`). */
  verbose?: boolean;
  /** The terminal's width now (it may change while the wizard runs); 80 when not given. */
  columns?(): number;
  /** Polling and IAM settling times (tests make them short). */
  timing?: { clusterWait?: WaitForClusterOptions; consistency?: ApplyOptions['consistency'] };
}

export interface WizardOutcome {
  exitCode: number;
  /** The config file written, if any. */
  configFile?: string;
  results: SectionResult[];
}

/** How the walk through the sections ended: all done, stopped to wait for the cluster, or at a failure. */
export type SectionsEnd = 'done' | 'waiting' | 'failed';

/** One walk through the wizard. */
export class Walk {
  /** The answers: changed in place by every part. */
  readonly draft: Draft;
  session?: AwsSession;
  region = '';
  profile?: string;
  facts?: Facts;
  readonly results: SectionResult[] = [];
  /** Each section's plan and run, for the access check at the end (what they read back is not read again). */
  readonly runs: AppliedRun[] = [];
  /** The reads the access check needs that no write changes, started with each section's changes. */
  readonly accessReads: AccessReads = { policies: new Map(), inline: new Map() };
  saved?: SavedConfig;
  /** How many section results there were when the answers were last saved. */
  savedWith = 0;
  /** Check each section's permissions before it is applied (until IAM cannot answer). */
  checkPermissions: boolean;

  constructor(readonly deps: WizardDeps) {
    this.draft = deps.start ? draftFromConfig(deps.start.config) : defaultDraft();
    this.checkPermissions = deps.preflight !== false;
    for (const key of ['region', 'profile', 'cluster', 'bucket', 'namespace'] as const) {
      const value = deps.flags[key];
      if (value !== undefined) this.draft[key] = value;
    }
  }

  get gateway(): AwsGateway {
    if (this.session === undefined) throw new Error('the wizard has no AWS session yet');
    return this.session.gateway;
  }

  /** The facts, once read (after the account, cluster and settings questions). */
  get knownFacts(): Facts {
    if (this.facts === undefined) throw new Error('the wizard has not read the account yet');
    return this.facts;
  }

  say(line = ''): void {
    this.deps.say(line);
  }

  /** The terminal's width. */
  get columns(): number {
    return this.deps.columns?.() ?? DEFAULT_COLUMNS;
  }

  /** A heading's rule, `── title ───`, at the terminal's width. */
  rule(title: string): string {
    return rule(title, this.columns);
  }

  /** Stop here if Ctrl-C (or SIGTERM) came while AWS was being read. */
  checkpoint(): void {
    if (this.deps.signal.aborted) throw new InterruptedByUser();
  }

  /** AWS work under a spinner that says what it is. */
  async withSpinner<T>(text: string, work: () => Promise<T>): Promise<T> {
    this.deps.progress.start(text);
    try {
      return await work();
    } finally {
      this.deps.progress.clear();
      this.checkpoint();
    }
  }

  questionContext(): QuestionContext {
    return {
      prompter: this.deps.prompter,
      say: (line?: string) => this.say(line),
      style: this.deps.style,
      draft: this.draft,
      flags: this.deps.flags,
      rule: (title) => this.rule(title),
      wrap: (text) => wrap(text, this.columns),
    };
  }

  close(): void {
    this.session?.close();
  }
}
