/**
 * The wizard's questions about the config as a whole: bucket, namespace, names, tags and boundary. (A section's own
 * questions are its wizard hooks.) Each answer is checked against the draft config as it is given (see draft.ts),
 * and written into the draft.
 */
import { servesTarget } from '../sections/derived.js';
import { DEFAULT_TARGET, DEFAULT_NAMES } from '../config/schema.js';
import type { Style } from '../render/style.js';
import { answerProblem, formatTags, isNone, parseTags, type Draft } from './draft.js';
import type { Prompter } from './prompter.js';

export interface QuestionContext {
  prompter: Prompter;
  say(line?: string): void;
  style: Style;
  /** Changed in place. */
  draft: Draft;
  /** Answers given as flags: those questions are not asked. */
  flags: { bucket?: string; namespace?: string };
  /** A heading's rule at the terminal's width. */
  rule(title: string): string;
  /** A paragraph as lines of the terminal's width. */
  wrap?(text: string): string[];
}

function subheading(ctx: QuestionContext, title: string): void {
  ctx.say('');
  ctx.say(ctx.style.bold(ctx.rule(title)));
}

/** 3. Bucket, namespace, names, tags, permissions boundary. */
export async function askSettings(ctx: QuestionContext): Promise<void> {
  const { prompter, draft, flags, say } = ctx;
  subheading(ctx, 'Bucket, namespace, names');
  if (flags.bucket === undefined) {
    say(
      'Flyte keeps its data (task inputs and outputs, code) in one S3 bucket, and the roles get access to that ' +
        'bucket only. The bucket itself is not created here.',
    );
    draft.bucket = await prompter.input({
      message: 'S3 bucket for Flyte',
      ...(draft.bucket ? { default: draft.bucket } : {}),
      validate: (v) => (v === '' ? 'a bucket name is required' : answerProblem({ ...draft, bucket: v }, ['bucket'])),
    });
  } else {
    say(`S3 bucket: ${flags.bucket} (--bucket)`);
  }
  if (flags.namespace === undefined) {
    draft.namespace = await prompter.input({
      message: 'Kubernetes namespace of the Flyte backend',
      default: draft.namespace ?? DEFAULT_NAMES.namespace,
      validate: (v) => answerProblem({ ...draft, namespace: v }, ['namespace']),
    });
  } else {
    say(`Namespace: ${flags.namespace} (--namespace)`);
  }
  await askNames(ctx);

  say('');
  say('Tags go on everything this creates, beside managed-by=flyte-aws-setup (how it knows what it made).');
  const tagsAnswer = await prompter.input({
    message: draft.tags
      ? "Tags (key=value, comma-separated; 'none' for none)"
      : 'Tags (key=value, comma-separated; empty for none)',
    ...(draft.tags ? { default: formatTags(draft.tags) } : {}),
    validate: (v) => {
      const tags = parseTags(v);
      return typeof tags === 'string' ? tags : answerProblem({ ...draft, tags }, ['tags']);
    },
  });
  const tags = parseTags(tagsAnswer) as Record<string, string>;
  if (Object.keys(tags).length > 0) draft.tags = tags;
  else delete draft.tags;

  say('');
  say(
    "A permissions boundary caps what each role can ever do; the Flyte guide advises one where your organisation's " +
      'security policies call for it.',
  );
  const boundary = await prompter.input({
    message: draft.permissionsBoundary
      ? "Permissions boundary for every role (a managed policy ARN; 'none' for none)"
      : 'Permissions boundary for every role (a managed policy ARN; empty for none)',
    ...(draft.permissionsBoundary ? { default: draft.permissionsBoundary } : {}),
    validate: (v) =>
      isNone(v) ? undefined : answerProblem({ ...draft, permissionsBoundary: v }, ['permissionsBoundary']),
  });
  if (isNone(boundary)) delete draft.permissionsBoundary;
  else draft.permissionsBoundary = boundary;
}

type NamedSection = 'clusterRole' | 'nodeRole' | 'customPolicy' | 'systemRole' | 'workersRole';

const NAMED: [NamedSection, string, string][] = [
  ['clusterRole', 'EKS cluster role', DEFAULT_NAMES.clusterRole],
  ['nodeRole', 'EKS node role', DEFAULT_NAMES.nodeRole],
  ['customPolicy', 'S3 policy', DEFAULT_NAMES.customPolicy],
  ['systemRole', 'Flyte backend role', DEFAULT_NAMES.systemRole],
  ['workersRole', 'Flyte workers role', DEFAULT_NAMES.workersRole],
];

function nameOf(draft: Draft, id: NamedSection, fallback: string): string {
  const section = draft[id];
  return typeof section === 'object' && section.name !== undefined ? section.name : fallback;
}

function withName(draft: Draft, id: NamedSection, name: string): Draft {
  const section = draft[id];
  return { ...draft, [id]: { ...(typeof section === 'object' ? section : {}), name } };
}

async function askNames(ctx: QuestionContext): Promise<void> {
  const { prompter, say } = ctx;
  const target = ctx.draft.target ?? DEFAULT_TARGET;
  const named = NAMED.filter(([id]) => ctx.draft[id] !== false && servesTarget(id, target));
  if (named.length === 0) return;
  const isDefault = named.every(([id, , fallback]) => nameOf(ctx.draft, id, fallback) === fallback);
  say('');
  say(isDefault ? 'The names the Flyte guide uses:' : 'The names in the config:');
  for (const [id, label, fallback] of named) say(`  ${label.padEnd(20)} ${nameOf(ctx.draft, id, fallback)}`);
  const keep = await prompter.confirm({
    message: isDefault ? 'Use these names for the roles and the policy?' : 'Keep these names?',
    default: true,
  });
  if (keep) return;
  for (const [id, label, fallback] of named) {
    const name = await prompter.input({
      message: `${label} name`,
      default: nameOf(ctx.draft, id, fallback),
      validate: (v) => answerProblem(withName(ctx.draft, id, v), [id, 'name']),
    });
    Object.assign(ctx.draft, withName(ctx.draft, id, name));
  }
}
