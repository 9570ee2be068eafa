/**
 * The wizard's questions about the config: bucket, namespace, names, tags and boundary; the projects that get
 * their own role; the namespaces the workers role trusts. Each answer is checked against the draft config as it
 * is given (see draft.ts), and written into the draft.
 */
import { DEFAULT_DOMAINS, DEFAULT_NAMES, defaultProjectRoleName, type RawConfig } from '../config/schema.js';
import type { Style } from '../render/style.js';
import { projectNamespace } from '../sections/project-roles.js';
import { formatTags, isNone, parseList, parseTags, problemAt, type Draft } from './draft.js';
import type { Prompter } from './prompter.js';
import { rule, wrap } from './text.js';

export interface QuestionContext {
  prompter: Prompter;
  say(line?: string): void;
  style: Style;
  /** Changed in place. */
  draft: Draft;
  /** Answers given as flags: those questions are not asked. */
  flags: { bucket?: string; namespace?: string };
}

function subheading(ctx: QuestionContext, title: string): void {
  ctx.say('');
  ctx.say(ctx.style.bold(rule(title)));
}

/** 3. Bucket, namespace, names, tags, permissions boundary. */
export async function askSettings(ctx: QuestionContext): Promise<void> {
  const { prompter, draft, flags, say } = ctx;
  subheading(ctx, 'Bucket, namespace, names');
  if (flags.bucket === undefined) {
    say('Flyte keeps its data (task inputs and outputs, code) in one S3 bucket, and the roles get access to');
    say('that bucket only. The bucket itself is not created here.');
    draft.bucket = await prompter.input({
      message: 'S3 bucket for Flyte',
      ...(draft.bucket ? { default: draft.bucket } : {}),
      validate: (v) => (v === '' ? 'bucket: is required' : problemAt({ ...draft, bucket: v }, ['bucket'])),
    });
  } else {
    say(`S3 bucket: ${flags.bucket} (--bucket)`);
  }
  if (flags.namespace === undefined) {
    draft.namespace = await prompter.input({
      message: 'Kubernetes namespace of the Flyte backend',
      default: draft.namespace ?? DEFAULT_NAMES.namespace,
      validate: (v) => problemAt({ ...draft, namespace: v }, ['namespace']),
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
      return typeof tags === 'string' ? `tags: ${tags}` : problemAt({ ...draft, tags }, ['tags']);
    },
  });
  const tags = parseTags(tagsAnswer) as Record<string, string>;
  if (Object.keys(tags).length > 0) draft.tags = tags;
  else delete draft.tags;

  say('');
  say('A permissions boundary caps what each role can ever do; the documents advise one where your');
  say("organisation's security policies call for it.");
  const boundary = await prompter.input({
    message: draft.permissionsBoundary
      ? "Permissions boundary for every role (a managed policy ARN; 'none' for none)"
      : 'Permissions boundary for every role (a managed policy ARN; empty for none)',
    ...(draft.permissionsBoundary ? { default: draft.permissionsBoundary } : {}),
    validate: (v) => (isNone(v) ? undefined : problemAt({ ...draft, permissionsBoundary: v }, ['permissionsBoundary'])),
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
  const named = NAMED.filter(([id]) => ctx.draft[id] !== false);
  if (named.length === 0) return;
  const isDefault = named.every(([id, , fallback]) => nameOf(ctx.draft, id, fallback) === fallback);
  say('');
  say(isDefault ? "The documents' names:" : 'The names in the config:');
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
      validate: (v) => problemAt(withName(ctx.draft, id, v), [id, 'name']),
    });
    Object.assign(ctx.draft, withName(ctx.draft, id, name));
  }
}

type ProjectEntry = NonNullable<RawConfig['projectRoles']>[number];

function namespacesOf(p: ProjectEntry): string[] {
  return (p.domains ?? [...DEFAULT_DOMAINS]).map((d) => projectNamespace(p.project, d));
}

/** 6. Projects with their own role (asked before the workers role, whose trust can list their namespaces). */
export async function askProjects(ctx: QuestionContext): Promise<void> {
  const { prompter, say, draft } = ctx;
  subheading(ctx, 'Flyte projects');
  say('Flyte runs the tasks of each project and domain in a namespace of its own, <project>-<domain>. A project');
  say('that needs other AWS access than the rest can get its own role (section 7), trusted only by its');
  say('namespaces, with extra policies. Its namespaces can also be the ones the workers role trusts (next).');
  let projects: ProjectEntry[] = [...(draft.projectRoles ?? [])];
  if (projects.length > 0) {
    say('In the config:');
    for (const p of projects) say(`  ${p.project}: ${namespacesOf(p).join(', ')}`);
    if (!(await prompter.confirm({ message: 'Keep these project roles?', default: true }))) projects = [];
  }
  draft.projectRoles = projects;
  for (;;) {
    const add = await prompter.confirm({
      message: projects.length === 0 ? 'Add a project with its own role?' : 'Add another project?',
      default: false,
    });
    if (!add) return;
    const i = projects.length;
    const withEntry = (entry: ProjectEntry): Draft => ({ ...draft, projectRoles: [...projects, entry] });
    const project = await prompter.input({
      message: 'Project name (as registered in Flyte)',
      validate: (v) =>
        v === ''
          ? `projectRoles[${i}].project: is required`
          : problemAt(withEntry({ project: v }), ['projectRoles', i]),
    });
    const domains = await prompter.checkbox({
      message: `Domains of ${project}`,
      choices: DEFAULT_DOMAINS.map((d) => ({
        name: `${d.padEnd(12)} namespace ${projectNamespace(project, d)}`,
        short: d,
        value: d as string,
        checked: true,
      })),
      validate: (values) =>
        values.length === 0
          ? 'pick at least one domain'
          : problemAt(withEntry({ project, domains: values }), ['projectRoles', i, 'domains']),
    });
    const extraAnswer = await prompter.input({
      message: `Extra managed policy ARNs for ${defaultProjectRoleName(project)} (comma-separated; empty for none)`,
      validate: (v) =>
        problemAt(withEntry({ project, domains, extraPolicies: parseList(v) }), ['projectRoles', i, 'extraPolicies']),
    });
    const extraPolicies = parseList(extraAnswer);
    const entry: ProjectEntry = { project, domains, ...(extraPolicies.length > 0 ? { extraPolicies } : {}) };
    projects.push(entry);
    draft.projectRoles = projects;
    say(`  + role ${defaultProjectRoleName(project)} for ${namespacesOf(entry).join(', ')}`);
  }
}

type TrustChoice = 'all' | 'projects' | 'listed' | 'flyte';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** 5. Which namespaces the workers role trusts: the trade-off, three choices, the broad one marked. */
export async function askWorkersTrust(ctx: QuestionContext): Promise<void> {
  const { prompter, say, style: s, draft } = ctx;
  const workers = draft.workersRole;
  if (workers === undefined || typeof workers !== 'object') return;
  const ns = draft.namespace ?? DEFAULT_NAMES.namespace;
  const projectNs = (draft.projectRoles ?? []).flatMap(namespacesOf);
  const listed = workers.allNamespaces === false ? (workers.namespaces ?? []) : [];

  say('');
  say('Which namespaces may use the workers role? Its trust names the `default` service account of:');
  say('  - every namespace (`*:default`), as the documents do: a new Flyte project works at once, but the');
  say("    default service account of any namespace in the cluster, Flyte's or not, can take the role too;");
  say('  - a fixed list: only those namespaces; each new project must then be added and this setup run again,');
  say("    or the project's tasks get no S3 access.");

  const choices: { name: string; value: TrustChoice }[] = [
    { name: `Every namespace (*:default), as the documents do   ${s.warn('(!) broad')}`, value: 'all' },
  ];
  if (projectNs.length > 0) {
    choices.push({
      name: `The Flyte namespace and the projects' (${[ns, ...projectNs].join(', ')})`,
      value: 'projects',
    });
  }
  if (listed.length > 0 && !sameSet(listed, projectNs)) {
    choices.push({
      name: `The Flyte namespace and the config's list (${[ns, ...listed].join(', ')})`,
      value: 'listed',
    });
  }
  choices.push({ name: `Only the Flyte namespace (${ns}:default)`, value: 'flyte' });

  let current: TrustChoice;
  if (workers.allNamespaces !== false) current = 'all';
  else if (listed.length === 0) current = 'flyte';
  else current = projectNs.length > 0 && sameSet(listed, projectNs) ? 'projects' : 'listed';

  if (current === 'all') {
    const bounded =
      (workers.extraPolicies ?? []).length === 0 && draft.customPolicy !== false
        ? ' The role reaches only the Flyte bucket, which bounds the risk.'
        : '';
    const reason =
      'Suggested: every namespace. Flyte makes <project>-<domain> namespaces whenever a project is registered, ' +
      `and a fixed list leaves a new project's tasks without S3 access until this setup runs again.${bounded} ` +
      "Choose a list when other teams' workloads share the cluster.";
    for (const line of wrap(reason)) say(s.dim(line));
  } else {
    say(s.dim('Suggested: what the config says.'));
  }

  for (;;) {
    const choice = await prompter.select({ message: 'The workers role trusts', choices, default: current });
    const next: SectionValue = { ...workers };
    if (choice === 'all') {
      next.allNamespaces = true;
      delete next.namespaces;
    } else if (choice === 'projects') {
      next.allNamespaces = false;
      next.namespaces = projectNs;
    } else if (choice === 'flyte') {
      next.allNamespaces = false;
      delete next.namespaces;
    }
    const problem = problemAt({ ...draft, workersRole: next }, ['workersRole']);
    if (problem === undefined) {
      draft.workersRole = next;
      return;
    }
    say(s.error(problem));
  }
}

type SectionValue = Exclude<NonNullable<RawConfig['workersRole']>, boolean>;
