/** Section 7 (seed 003): roles scoped to the namespaces of one project's domains. */
import * as rules from '../config/rules.js';
import {
  DEFAULT_DOMAINS,
  defaultProjectRoleName,
  USER_FLYTE_ROLE_POLICY,
  type ProjectRole,
  type RawConfig,
} from '../config/schema.js';
import type { Problem } from '../errors.js';
import { serviceAccountSubject, TRUST_POLICY_MAX } from '../policy/document.js';
import { policyArn } from '../policy/partition.js';
import {
  desiredIrsaRole,
  extraPolicyArns,
  identityWords,
  parseList,
  partitionProblems,
  estimatedTrustSize,
  trustTooLong,
  type ConfigRule,
  type Draft,
  extraPolicyReferences,
  type Reference,
  type RoleClaim,
  type RuleInput,
  type SectionDefinition,
  type SectionWizardContext,
} from './section.js';

export function projectNamespace(project: string, domain: string): string {
  return `${project}-${domain}`;
}

export function projectSubjects(p: ProjectRole): string[] {
  return p.domains.map((d) => serviceAccountSubject(projectNamespace(p.project, d), p.serviceAccount));
}

/** The file's own entry of a project (to tell a key given from a default). */
function givenEntry(input: RuleInput['input'], i: number): Record<string, unknown> | undefined {
  return (input.projectRoles as Record<string, unknown>[] | undefined)?.[i];
}

/** Each project's entries by index, but only the first entry of a project listed twice. */
function firstEntries(projects: RuleInput['projects']): [ProjectRole, number][] {
  const seen = new Set<string>();
  return projects.flatMap((p, i): [ProjectRole, number][] => {
    if (p === undefined || seen.has(p.project)) return [];
    seen.add(p.project);
    return [[p, i]];
  });
}

const PROJECT_RULES: readonly ConfigRule[] = [
  {
    name: 'projectRoles: a project listed once',
    check: ({ projects }) =>
      projects.flatMap((p, i): Problem[] => {
        const first = p === undefined ? -1 : projects.findIndex((q) => q?.project === p.project);
        return p !== undefined && first !== i
          ? [
              {
                path: ['projectRoles', i, 'project'],
                message: `project "${p.project}" is listed twice (also projectRoles[${first}]); list all its domains in one entry`,
              },
            ]
          : [];
      }),
  },
  {
    name: 'projectRoles: the default role name is a valid role name',
    check: ({ projects, input }) =>
      firstEntries(projects).flatMap(([p, i]): Problem[] => {
        const problem = givenEntry(input, i)?.roleName === undefined ? rules.roleName(p.roleName) : undefined;
        return problem
          ? [
              {
                path: ['projectRoles', i, 'project'],
                message: `the role name made from it, "${p.roleName}", ${problem}; set a shorter roleName`,
              },
            ]
          : [];
      }),
  },
  {
    name: "projectRoles: each namespace valid, once, and not Flyte's own",
    check({ config, projects }) {
      const problems: Problem[] = [];
      /** Namespace → where it comes from: two roles must not trust the same namespace's pods. */
      const seenNamespaces = new Map<string, string>();
      const firsts = new Set(firstEntries(projects).map(([, i]) => i));
      projects.forEach((p, i) => {
        if (p === undefined) return;
        const seenDomains = new Set<string>();
        p.domains.forEach((d, j) => {
          const path = ['projectRoles', i, 'domains', j];
          if (seenDomains.has(d)) problems.push({ path, message: `domain "${d}" is listed twice` });
          seenDomains.add(d);
          const ns = projectNamespace(p.project, d);
          const nsProblem = rules.dnsLabel(ns);
          if (nsProblem) problems.push({ path, message: `the namespace "${ns}" ${nsProblem}` });
          if (!firsts.has(i)) return; // a project listed twice is reported once, by its own rule
          const other = seenNamespaces.get(ns);
          if (other !== undefined && !other.startsWith(`projectRoles[${i}]`)) {
            problems.push({
              path,
              message: `the namespace "${ns}" is also that of ${other}: two roles would trust the same pods; rename a project or domain`,
            });
          } else if (ns === config.namespace) {
            problems.push({
              path,
              message: `the namespace "${ns}" is Flyte's own (namespace: ${config.namespace}); a project's tasks need their own namespace`,
            });
          }
          seenNamespaces.set(ns, `projectRoles[${i}] (project ${p.project}, domain ${d})`);
        });
      });
      return problems;
    },
  },
  {
    name: 'projectRoles: trust policy within the size limit',
    check({ config, projects }) {
      return projects.flatMap((p, i): Problem[] => {
        if (p === undefined) return [];
        if (config.clusters.length > 1) {
          const names = config.clusters.map((c) => c.name);
          const message = trustTooLong(config, projectSubjects(p), names, 'Use fewer domains or shorter names');
          return message === undefined ? [] : [{ path: ['projectRoles', i, 'domains'], message }];
        }
        const size = estimatedTrustSize(config, projectSubjects(p));
        if (size <= TRUST_POLICY_MAX) return [];
        return [
          {
            path: ['projectRoles', i, 'domains'],
            message:
              `the trust policy for ${p.domains.length} namespaces would be about ${size} characters; IAM allows ` +
              `${TRUST_POLICY_MAX} by default. Use fewer domains or shorter names, or have the "Role trust policy length" ` +
              'quota raised and split the project into its own config',
          },
        ];
      });
    },
  },
  {
    name: 'projectRoles.extraPolicies in the partition of the region',
    check: ({ config, projects }) =>
      projects.flatMap((p, i) =>
        p === undefined ? [] : partitionProblems(config, extraPolicyArns(p.extraPolicies, ['projectRoles', i])),
      ),
  },
];

export const projectRoles: SectionDefinition = {
  id: 'projectRoles',
  title: 'Project-domain roles',
  explain:
    'A project that needs other access than the rest (another bucket, Athena...) gets its own role, trusted only ' +
    'by the `default` service account of its <project>-<domain> namespaces, with the bucket policy and extra ' +
    'policies. Flyte uses it there once the project-domain points to it (a cluster resource attribute).',
  needsCluster: true,
  identity: 'irsa',
  targets: ['flyte-binary', 'flyte-core', 'union'],
  notFor: () =>
    "Flyte 2 runs every task in one namespace as the backend's service account: there are no project-domain " +
    'namespaces for a project role to trust',
  dependsOn: ['oidcProvider', 'customPolicy'],
  enabled: (config) => config.projectRoles.length > 0,
  off: 'no projectRoles',
  skipReason: () => 'no projectRoles in the config',
  roles: ({ projects, input }) =>
    firstEntries(projects).map(([p, i]): RoleClaim => ({
      name: p.roleName,
      path: ['projectRoles', i, givenEntry(input, i)?.roleName !== undefined ? 'roleName' : 'project'],
    })),
  rules: PROJECT_RULES,
  wizard: {
    // The projects are asked before the workers role (see there), whose trust can list their namespaces.
    offer: async (ctx) => {
      ctx.say('No project entered: nothing to do here.');
      return false;
    },
    turnOff: (draft) => {
      draft.projectRoles = [];
    },
  },
  references: ({ config, facts }) =>
    config.projectRoles.flatMap((p, i): Reference[] => [
      ...(p.userFlyteRolePolicy
        ? [
            {
              kind: 'policy' as const,
              arn: policyArn(facts.partition, facts.accountId, '/', USER_FLYTE_ROLE_POLICY),
              path: ['projectRoles', i, 'userFlyteRolePolicy'],
              missing:
                `Union's setup makes the policy ${USER_FLYTE_ROLE_POLICY} in the account; run it first, or set ` +
                'userFlyteRolePolicy: false',
            },
          ]
        : []),
      ...extraPolicyReferences(p.extraPolicies, ['projectRoles', i]),
    ]),
  desired(ctx) {
    const { partition, accountId } = ctx.facts;
    // Union (seed 003): the project-domain role also carries the data plane's default task permissions.
    const userFlyteRole = policyArn(partition, accountId, '/', USER_FLYTE_ROLE_POLICY);
    return ctx.config.projectRoles.map((p) =>
      desiredIrsaRole(ctx, {
        name: p.roleName,
        description: `Flyte project ${p.project} (${identityWords(ctx.config)}), managed by flyte-aws-setup`,
        subjects: projectSubjects(p),
        extraPolicies: [...(p.userFlyteRolePolicy ? [userFlyteRole] : []), ...p.extraPolicies],
      }),
    );
  },
};

type ProjectEntry = NonNullable<RawConfig['projectRoles']>[number];

/** The namespaces of a project entry of the wizard's answers. */
export function draftProjectNamespaces(p: ProjectEntry): string[] {
  return (p.domains ?? [...DEFAULT_DOMAINS]).map((d) => projectNamespace(p.project, d));
}

/** The wizard's question: projects with their own role. */
export async function askProjects(ctx: SectionWizardContext): Promise<void> {
  const { prompter, say, draft } = ctx;
  ctx.subheading('Flyte projects');
  say(
    'Flyte runs the tasks of each project and domain in a namespace of its own, <project>-<domain>. A project ' +
      'that needs other AWS access than the rest can get its own role (section 7), trusted only by its ' +
      'namespaces, with extra policies. Its tasks then use that role; the other projects use the workers role ' +
      '(next).',
  );
  let projects: ProjectEntry[] = [...(draft.projectRoles ?? [])];
  if (projects.length > 0) {
    say('In the config:');
    for (const p of projects) say(`  ${p.project}: ${draftProjectNamespaces(p).join(', ')}`);
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
          ? 'a project name is required'
          : projects.some((p) => p.project === v)
            ? `${v} has its own role already (entered above)`
            : ctx.problemAt(withEntry({ project: v }), ['projectRoles', i]),
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
          : ctx.problemAt(withEntry({ project, domains: values }), ['projectRoles', i, 'domains']),
    });
    const extraAnswer = await prompter.input({
      message: `Extra managed policy ARNs for ${defaultProjectRoleName(project)} (comma-separated; empty for none)`,
      validate: (v) =>
        ctx.problemAt(withEntry({ project, domains, extraPolicies: parseList(v) }), [
          'projectRoles',
          i,
          'extraPolicies',
        ]),
    });
    const extraPolicies = parseList(extraAnswer);
    const entry: ProjectEntry = { project, domains, ...(extraPolicies.length > 0 ? { extraPolicies } : {}) };
    projects.push(entry);
    draft.projectRoles = projects;
    say(`  + role ${defaultProjectRoleName(project)} for ${draftProjectNamespaces(entry).join(', ')}`);
  }
}
