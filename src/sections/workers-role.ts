/** Section 6 (seed 002): the role of the task pods, with the trust widened to every project-domain namespace. */
import { DEFAULT_NAMES, defaultProjectRoleName, type RawConfig, type WorkersRoleSection } from '../config/schema.js';
import { serviceAccountSubject, TRUST_POLICY_MAX } from '../policy/document.js';
import {
  desiredIrsaRole,
  extraPolicyArns,
  identityWords,
  extraPolicyReferences,
  parseList,
  partitionProblems,
  estimatedTrustSize,
  trustTooLong,
  type Draft,
  type SectionDefinition,
  type SectionWizardContext,
} from './section.js';
import { askProjects, draftProjectNamespaces } from './project-roles.js';

/** The `sub` values the workers role trusts. */
export function workersSubjects(namespace: string, workers: WorkersRoleSection): string[] {
  if (workers.allNamespaces) return [serviceAccountSubject('*', workers.serviceAccount)];
  return [...new Set([namespace, ...workers.namespaces])].map((ns) =>
    serviceAccountSubject(ns, workers.serviceAccount),
  );
}

export const workersRole: SectionDefinition = {
  id: 'workersRole',
  title: 'Flyte workers role',
  explain:
    'Task pods run as the `default` service account of their <project>-<domain> namespace, and this role gives ' +
    'them the bucket policy. Which namespaces it trusts is a trade-off: the Flyte guide widens it to every namespace ' +
    '(`*:default`); a fixed list is tighter but has to grow with every new Flyte project.',
  needsCluster: true,
  identity: 'irsa',
  targets: ['flyte-binary', 'flyte-core'],
  notFor: (target) =>
    target === 'flyte2'
      ? "Flyte 2 runs task pods as the backend's service account, which systemRole's role serves"
      : 'on a Union data plane task pods run as its <prefix>-userflyterole (globalAccess) or a project role',
  dependsOn: ['oidcProvider', 'customPolicy'],
  enabled: (config) => config.workersRole !== false,
  off: 'workersRole: false',
  roles: ({ config }) => (config.workersRole ? [{ name: config.workersRole.name, path: ['workersRole', 'name'] }] : []),
  rules: [
    {
      name: 'workersRole.extraPolicies in the partition of the region',
      check: ({ config }) =>
        config.workersRole
          ? partitionProblems(config, extraPolicyArns(config.workersRole.extraPolicies, ['workersRole']))
          : [],
    },
    {
      name: 'workersRole.namespaces only with allNamespaces: false',
      check({ config, input }) {
        // Read from what the file says: a section that failed validation holds its defaults here.
        const given = input.workersRole as Record<string, unknown> | undefined;
        if (!config.workersRole || given?.allNamespaces === false || !Array.isArray(given?.namespaces)) return [];
        return [
          {
            path: ['workersRole', 'namespaces'],
            message: 'only applies with allNamespaces: false (allNamespaces: true already trusts every namespace)',
          },
        ];
      },
    },
    {
      name: 'workersRole trust policy within the size limit',
      check({ config }) {
        if (!config.workersRole || config.workersRole.allNamespaces) return [];
        const subjects = workersSubjects(config.namespace, config.workersRole);
        if (config.clusters.length > 1) {
          const names = config.clusters.map((c) => c.name);
          const message = trustTooLong(config, subjects, names, 'Trust fewer namespaces or use allNamespaces: true');
          return message === undefined ? [] : [{ path: ['workersRole', 'namespaces'], message }];
        }
        const size = estimatedTrustSize(config, subjects);
        if (size <= TRUST_POLICY_MAX) return [];
        return [
          {
            path: ['workersRole', 'namespaces'],
            message: `the trust policy for these namespaces would be about ${size} characters; IAM allows ${TRUST_POLICY_MAX} by default. Trust fewer namespaces or use allNamespaces: true`,
          },
        ];
      },
    },
  ],
  wizard: {
    // The projects first: the trust can list their namespaces.
    before: askProjects,
    ask: askWorkersTrust,
    securityNote: 'Here it is the namespace choice made above.',
  },
  references: ({ config }) =>
    config.workersRole ? extraPolicyReferences(config.workersRole.extraPolicies, ['workersRole']) : [],
  desired(ctx) {
    const { config } = ctx;
    if (config.workersRole === false) return [];
    return [
      desiredIrsaRole(ctx, {
        name: config.workersRole.name,
        description: `Flyte task pods (${identityWords(config)}), managed by flyte-aws-setup`,
        subjects: workersSubjects(config.namespace, config.workersRole),
        extraPolicies: config.workersRole.extraPolicies,
      }),
    ];
  },
};

type TrustChoice = 'all' | 'listed' | 'flyte';
type SectionValue = Exclude<NonNullable<RawConfig['workersRole']>, boolean>;

/**
 * The wizard's question: which namespaces the role trusts. The trade-off, the choices, the broad one marked. The
 * namespaces of projects that have their own role are not the workers role's: their task pods take that role.
 */
async function askWorkersTrust(ctx: SectionWizardContext): Promise<void> {
  const { prompter, say, style: s, draft } = ctx;
  const workers = draft.workersRole;
  if (workers === undefined || typeof workers !== 'object') return;
  const ns = draft.namespace ?? DEFAULT_NAMES.namespace;
  const ownRole = projectRoleNamespaces(draft);
  const listed = workers.allNamespaces === false ? (workers.namespaces ?? []) : [];
  // EKS Pod Identity has no wildcard: an association per namespace, so with it alone the namespaces are listed.
  const podOnly = draft.identity === 'pod-identity';

  say('');
  say('Which namespaces may use the workers role? Its trust names the `default` service account of:');
  if (podOnly) {
    say(
      '  - every namespace is not offered: EKS Pod Identity has no wildcard, each namespace needs an association ' +
        '(identity: both keeps an IRSA wildcard meanwhile);',
    );
  } else {
    say(
      '  - every namespace (`*:default`), as the Flyte guide does: a new Flyte project works at once, but the ' +
        "default service account of any namespace in the cluster, Flyte's or not, can take the role too;",
    );
  }
  say(
    '  - a list of namespaces: only those; each new project must then be added and this setup run again, or ' +
      "the project's tasks get no S3 access.",
  );
  if (ownRole.size > 0) {
    const projects = [...new Set([...ownRole.values()].map((r) => r.project))];
    say(
      `The projects with their own role (${projects.join(', ')}) do not use the workers role: their ` +
        'namespaces need not be listed.',
    );
  }

  const choices: { name: string; value: TrustChoice }[] = [
    ...(podOnly
      ? []
      : [
          {
            name: `Every namespace (*:default), as the Flyte guide does   ${s.warn('(!) broad')}`,
            value: 'all' as const,
          },
        ]),
    {
      name:
        listed.length > 0
          ? `The Flyte namespace and a list (now ${[ns, ...listed].join(', ')})`
          : 'The Flyte namespace and a list of namespaces you type',
      value: 'listed',
    },
    { name: `Only the Flyte namespace (${ns}:default)`, value: 'flyte' },
  ];
  const current: TrustChoice =
    workers.allNamespaces !== false && !podOnly
      ? 'all'
      : listed.length === 0
        ? podOnly
          ? 'listed'
          : 'flyte'
        : 'listed';

  if (podOnly) {
    say(s.dim("Suggested: the Flyte namespace and your projects' <project>-<domain> namespaces."));
  } else if (current === 'all') {
    const bounded =
      (workers.extraPolicies ?? []).length === 0 && draft.customPolicy !== false
        ? ' The role reaches only the Flyte bucket, which bounds the risk.'
        : '';
    const reason =
      'Suggested: every namespace. Flyte makes <project>-<domain> namespaces whenever a project is registered, ' +
      `and a fixed list leaves a new project's tasks without S3 access until this setup runs again.${bounded} ` +
      "Choose a list when other teams' workloads share the cluster.";
    for (const line of ctx.wrap(reason)) say(s.dim(line));
  } else {
    say(s.dim('Suggested: what the config says.'));
  }

  for (;;) {
    const choice = await prompter.select({ message: 'The workers role trusts', choices, default: current });
    const next: SectionValue = { ...workers };
    if (choice === 'all') {
      next.allNamespaces = true;
      delete next.namespaces;
    } else if (choice === 'flyte') {
      next.allNamespaces = false;
      delete next.namespaces;
    } else {
      const namespaces = await askNamespaceList(ctx, next, listed, ownRole);
      if (namespaces === undefined) continue;
      next.allNamespaces = false;
      next.namespaces = namespaces;
    }
    const problem = ctx.problemAt({ ...draft, workersRole: next }, ['workersRole']);
    if (problem === undefined) {
      draft.workersRole = next;
      return;
    }
    say(s.error(problem));
  }
}

/** Namespace -> the project (and its role) that has it, for the projects with their own role. */
function projectRoleNamespaces(draft: Draft): Map<string, { project: string; role: string }> {
  const found = new Map<string, { project: string; role: string }>();
  for (const p of draft.projectRoles ?? []) {
    const role = p.roleName ?? defaultProjectRoleName(p.project);
    for (const n of draftProjectNamespaces(p)) found.set(n, { project: p.project, role });
  }
  return found;
}

/**
 * The namespaces typed for the list; a namespace of a project with its own role is pointed out (its pods take that
 * role, so trusting it here too lets them take either), and kept only if the user says so. Undefined: the list came
 * out empty, ask the choice again.
 */
async function askNamespaceList(
  ctx: SectionWizardContext,
  next: SectionValue,
  listed: string[],
  ownRole: Map<string, { project: string; role: string }>,
): Promise<string[] | undefined> {
  const { prompter, say, style: s, draft } = ctx;
  const answer = await prompter.input({
    message: 'Namespaces whose task pods use the workers role (comma-separated, e.g. ml-development, ml-staging)',
    ...(listed.length > 0 ? { default: listed.join(', ') } : {}),
    validate: (v) => {
      const namespaces = parseList(v);
      if (namespaces.length === 0) return 'type at least one namespace, such as ml-development';
      return ctx.problemAt({ ...draft, workersRole: { ...next, allNamespaces: false, namespaces } }, [
        'workersRole',
        'namespaces',
      ]);
    },
  });
  let namespaces = [...new Set(parseList(answer))];
  const overlap = namespaces.filter((n) => ownRole.has(n));
  if (overlap.length > 0) {
    for (const n of overlap) {
      const { project, role } = ownRole.get(n)!;
      say(
        s.warn(
          `${n} is a namespace of the project ${project}, which has its own role (${role}): its task pods use ` +
            'that role, not the workers role. Trusting it here too lets them take either role.',
        ),
      );
    }
    const keep = await prompter.confirm({
      message: `Keep ${overlap.join(', ')} in the workers role's list anyway?`,
      default: false,
    });
    if (!keep) namespaces = namespaces.filter((n) => !ownRole.has(n));
  }
  if (namespaces.length === 0) {
    say('The list is empty now; choose again.');
    return undefined;
  }
  return namespaces;
}
