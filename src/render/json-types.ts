/**
 * The contract of every JSON document the CLI writes (`--json` on stdout): one type per `kind`, all with the same
 * `formatVersion`. schema/output.schema.json is generated from `OutputDocument` (`npm run schema`); a change of
 * shape there needs a new JSON_FORMAT_VERSION (docs/json-output.md). Types only: nothing here is loaded at run time.
 */
import type { AccessReport } from '../access/matrix.js';
import type { Finding as AuditFinding, LeftoverFinding } from '../audit/finding.js';
import type { Target } from '../config/schema.js';
import type { SectionReport } from '../audit/report.js';
import type { RunOutcome, SectionResult } from '../engine/apply.js';
import type { DestroyAction, DestroyItem } from '../engine/destroy.js';
import type { DestroyOutcome } from '../engine/destroy-run.js';
import type { LeftoverResult } from '../engine/leftovers.js';
import type { Problem } from '../errors.js';
import type { MissingRole } from '../handoff/input.js';
import type { FileOutcome } from '../handoff/write.js';
import type { Facts, Leftover, ResourcePlan, SectionPlan, Step } from '../model.js';
import type { JSON_FORMAT_VERSION } from './format-version.js';

/** Raised when the shape of any document changes. */
export type FormatVersion = typeof JSON_FORMAT_VERSION;

/** The AWS calls a run made: all of them, and those that change something. */
export interface CallCounts {
  total: number;
  mutating: number;
}

/** The plan's resources by what the run does with them, as the plan's summary line counts them. */
export interface PlanSummary {
  create: number;
  update: number;
  /** Up to date: nothing to do, nothing blocked, nothing found. */
  unchanged: number;
  /** Sections that wait for the cluster. */
  waiting: number;
  /** Resources whose change lets more principals in or grants more. */
  security: number;
  /** Sections the config cannot be carried out for. */
  blocked: number;
  /** Problems found and left as they are. */
  findings: number;
  /** The setup's roles the config no longer names (and a dropped cluster's OIDC provider and associations). */
  leftovers: number;
  /** Of those, the ones `--prune` removes. */
  remove: number;
  /** Of those, the ones this setup adopted that `--prune` puts back as they were (they stay). */
  restore: number;
}

/** A resource of the plan: what it is, what the run does (its AWS calls), and why. */
export type PlanResource = Omit<ResourcePlan, 'desired' | 'current'>;

export interface PlanSection extends Pick<SectionPlan, 'id' | 'title' | 'status' | 'waiting' | 'notes'> {
  resources: PlanResource[];
}

/** The plan (`--dry-run --json`): what a run would do, and why. */
export interface PlanDocument {
  formatVersion: FormatVersion;
  kind: 'plan';
  facts: Facts;
  summary: PlanSummary;
  sections: PlanSection[];
  /**
   * The setup's roles the config no longer names (and, with several clusters, a dropped cluster's pod identity
   * associations, and with `--prune` its OIDC provider), and what `--prune` does with each.
   */
  leftovers: Leftover[];
}

/** A run's outcome (`--json` without `--dry-run`): per section what was done, what is left and why. */
export interface ResultDocument {
  formatVersion: FormatVersion;
  kind: 'result';
  outcome: RunOutcome;
  exitCode: number;
  facts: Facts;
  sections: SectionResult[];
  /** With `--prune`: what became of each of the setup's roles (and resources) the config no longer names. */
  leftovers?: LeftoverResult[];
  calls?: CallCounts;
  /**
   * After a run that changed something and completed: the access matrix of the roles as the run left them, and
   * its findings (a needed access refused makes the run exit 1).
   */
  access?: AccessReport;
  accessFindings?: VerifyFinding[];
}

/** A problem `verify` found: the resource, what is wrong, how to fix it. */
// The audit's `Finding` under another name: in the schema, `Finding` is the plan's (src/model.ts).
export type VerifyFinding = Pick<AuditFinding, keyof AuditFinding>;

export interface VerifySection extends Omit<SectionReport, 'findings'> {
  findings: VerifyFinding[];
}

/** `verify --json`: per section the findings (what is wrong, and the fix), and the verdict. */
export interface VerifyDocument {
  formatVersion: FormatVersion;
  kind: 'verify';
  /** No error: AWS matches the config and the audit found nothing wrong (warnings allowed). */
  ok: boolean;
  exitCode: number;
  summary: { errors: number; warnings: number };
  facts: Facts;
  /** The config's target: the roles and trusts checked are the ones it needs. */
  target?: Target;
  sections: VerifySection[];
  /**
   * The setup's roles the config no longer names, and a dropped cluster's pod identity associations (errors: they
   * still grant access).
   */
  leftovers: VerifyLeftover[];
  /**
   * The access matrix: for each Flyte identity, what IAM decides (evaluating the policies AWS holds) when it
   * assumes its role, when its neighbours try to, and for what its role can do on the bucket and beyond, each with
   * the statements that decided; and what was not checked (not visible from the account).
   */
  access?: AccessReport;
}

/** A role of the setup the config no longer names, as verify reports it. */
export type VerifyLeftover = Pick<LeftoverFinding, keyof LeftoverFinding>;

/** The destroy plan's items by action. */
export type DestroySummary = Record<DestroyAction, number>;

/** `destroy --dry-run --json`: what goes, what stays and why. */
export interface DestroyPlanDocument {
  formatVersion: FormatVersion;
  kind: 'destroy-plan';
  facts: Facts;
  summary: DestroySummary;
  items: DestroyItem[];
  /** Every step of the items, in the order destroy runs them. */
  order: Step[];
}

/** An item of the destroy plan, with the steps of it that were done. */
export interface DestroyResultItem extends DestroyItem {
  done: Step[];
}

/** What stopped destroy. */
export interface DestroyError {
  message: string;
  hint?: string;
  code?: string;
  /** Only for an internal error (a bug). */
  stack?: string;
}

/** `destroy --json` without `--dry-run`: what was removed, what is left, and why. */
export interface DestroyResultDocument {
  formatVersion: FormatVersion;
  kind: 'destroy-result';
  outcome: DestroyOutcome;
  exitCode: number;
  facts: Facts;
  items: DestroyResultItem[];
  error?: DestroyError;
  calls?: CallCounts;
}

/** A hand-off file, and what happened to it. */
export interface HandoffFile {
  /** The output directory joined with the file's path, as the operator would type it. */
  path: string;
  outcome: FileOutcome;
  what: string;
}

/**
 * `outputs --json`: the hand-off files written from the roles in AWS. `dir`, `files` and `stale` are there when
 * the files were written; when a role is missing (`missing` is not empty) nothing is written and they are absent.
 */
export interface HandoffDocument {
  formatVersion: FormatVersion;
  kind: 'handoff';
  exitCode: number;
  /** Whose files: the config's `target` (`union` also with `--flavor union`). */
  target: Target;
  /** The Helm chart and version the values file was made and tested for (none for Union). */
  chart?: { name: string; version: string };
  dir?: string;
  files?: HandoffFile[];
  /** Files of an earlier hand-off in the directory that this one does not write (left alone). */
  stale?: string[];
  missing: MissingRole[];
  awsDiffersFromConfig: boolean;
  caveats: string[];
  next: string[];
}

/** A problem of the config or the command line, with its text as the CLI prints it. */
export interface ErrorProblem extends Problem {
  text: string;
}

/** Any command's error with `--json`: on stdout when the command wrote nothing there (the message is on stderr). */
export interface ErrorDocument {
  formatVersion: FormatVersion;
  kind: 'error';
  exitCode: number;
  message: string;
  /** What to do about it. */
  hint?: string;
  /** For an invalid config or command line: every problem. */
  problems?: ErrorProblem[];
  /**
   * For a run with --yes that was not applied because the plan broadens access (exit 5): each change that does,
   * `<resource>: <reason>`, as the plan marks it (!). Applied with --approve-broadening as well.
   */
  broadening?: string[];
}

/** Every JSON document the CLI writes, told apart by `kind`. */
export type OutputDocument =
  | PlanDocument
  | ResultDocument
  | VerifyDocument
  | DestroyPlanDocument
  | DestroyResultDocument
  | HandoffDocument
  | ErrorDocument;
