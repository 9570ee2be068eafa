/** Section 6 (seed 002): the role of the task pods, with the trust widened to every project-domain namespace. */
import { DEFAULT_NAMES, type RawConfig, type WorkersRoleSection } from '../config/schema.js';
import { irsaTrustPolicy, policySize, serviceAccountSubject, TRUST_POLICY_MAX } from '../policy/document.js';
import {
  desiredIrsaRole,
  extraPolicyArns,
  extraPolicyReferences,
  partitionProblems,
  trustSizeContext,
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
    'Task pods run as the `default` service account of their <project>-<domain> namespace, and this role gives\n' +
    'them the bucket policy. Which namespaces it trusts is a trade-off: the documents widen it to every namespace\n' +
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
        const size = policySize(irsaTrustPolicy({ ...trustSizeContext(config), subjects }));
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
        description: 'Flyte task pods (IRSA), managed by flyte-aws-setup',
        subjects: workersSubjects(config.namespace, config.workersRole),
        extraPolicies: config.workersRole.extraPolicies,
      }),
    ];
  },
};

type TrustChoice = 'all' | 'projects' | 'listed' | 'flyte';
type SectionValue = Exclude<NonNullable<RawConfig['workersRole']>, boolean>;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The wizard's question: which namespaces the role trusts. The trade-off, the choices, the broad one marked. */
async function askWorkersTrust(ctx: SectionWizardContext): Promise<void> {
  const { prompter, say, style: s, draft } = ctx;
  const workers = draft.workersRole;
  if (workers === undefined || typeof workers !== 'object') return;
  const ns = draft.namespace ?? DEFAULT_NAMES.namespace;
  const projectNs = (draft.projectRoles ?? []).flatMap(draftProjectNamespaces);
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
    } else if (choice === 'projects') {
      next.allNamespaces = false;
      next.namespaces = projectNs;
    } else if (choice === 'flyte') {
      next.allNamespaces = false;
      delete next.namespaces;
    }
    const problem = ctx.problemAt({ ...draft, workersRole: next }, ['workersRole']);
    if (problem === undefined) {
      draft.workersRole = next;
      return;
    }
    say(s.error(problem));
  }
}
