/**
 * `grants:`: what task code commonly needs beyond the Flyte bucket (other buckets or prefixes, Secrets Manager
 * secrets, images in another account's ECR), attached to the roles that need it. Each role with grants gets one
 * customer-managed policy, `<role>-grants`, made, kept in line and deleted like the custom policy, and attached by
 * this section once the role exists; the policy of a role the config no longer gives grants is detached and deleted
 * when it is this setup's (see planGonePolicy). Another account's ECR repository must allow the roles itself: the
 * plan says what to add to its repository policy.
 */
import { didYouMean } from '../config/rules.js';
import { GRANTEE_GROUPS, type Config, type Grant } from '../config/schema.js';
import type { Problem } from '../errors.js';
import type { DesiredPolicy, Note } from '../model.js';
import { MANAGED_POLICY_MAX, policySize } from '../policy/document.js';
import { ecrRepositoryParts, ecrRepositoryPolicy, grantsPolicyDocument } from '../policy/grants.js';
import { partitionOfRegion, policyArn, roleArn } from '../policy/partition.js';
import { grantsByRole, grantsPolicyName, granteeRoleNames } from './grantees.js';
import { nodeRole } from './node-role.js';
import { projectRoles } from './project-roles.js';
import { ruleInputOf, resourceTags, type SectionDefinition, type SectionContext } from './section.js';
import { systemRole } from './system-role.js';
import { workersRole } from './workers-role.js';

/** The role sections a grantee group stands for. */
const GROUP_SECTIONS = {
  workers: workersRole,
  projects: projectRoles,
  system: systemRole,
  node: nodeRole,
} as const satisfies Record<(typeof GRANTEE_GROUPS)[number], SectionDefinition>;

function sectionOn(def: SectionDefinition, config: Config): boolean {
  return (def.targets === undefined || def.targets.includes(config.target)) && def.enabled(config, () => true);
}

/** The roles this config makes that may carry grants (their sections on, for the config's target). */
function madeRoles(config: Config): Set<string> {
  const input = ruleInputOf(config);
  return new Set(
    Object.values(GROUP_SECTIONS).flatMap((def) =>
      sectionOn(def, config) ? (def.roles?.(input) ?? []).map((r) => r.name) : [],
    ),
  );
}

/** The names of the grants policies this config makes (destroy deletes them). */
export function grantsPolicyNames(config: Config): string[] {
  return grantedRoles(config).map(([role]) => grantsPolicyName(role));
}

/** Each role this config makes that has grants, with them. */
function grantedRoles(config: Config): [string, Grant[]][] {
  const made = madeRoles(config);
  return [...grantsByRole(config)].filter(([role]) => made.has(role));
}

const KINDS = ['bucket', 'secret', 'ecrRepository'] as const;
const BUCKET_ONLY = ['prefix', 'access', 'kmsKey'] as const;

/** What is wrong with one grantee of a grant's `to`; undefined when it names roles this config makes. */
function granteeProblem(config: Config, grantee: string): string | undefined {
  const group = GROUP_SECTIONS[grantee as keyof typeof GROUP_SECTIONS];
  if (group !== undefined) {
    if (!sectionOn(group, config)) {
      return `${grantee} stands for the roles of ${group.id}, which this config does not make (${group.off}, or target ${config.target})`;
    }
    return granteeRoleNames(config, grantee).length === 0 ? `${grantee}: there are no project roles` : undefined;
  }
  if (config.projectRoles.some((p) => p.project === grantee)) {
    return sectionOn(projectRoles, config) ? undefined : `project roles are not made with target ${config.target}`;
  }
  const known = [...GRANTEE_GROUPS, ...config.projectRoles.map((p) => p.project)];
  const guess = didYouMean(grantee, known);
  return (
    `"${grantee}" is none of ${GRANTEE_GROUPS.join(', ')}, nor a project of projectRoles` +
    (config.projectRoles.length > 0 ? ` (${config.projectRoles.map((p) => p.project).join(', ')})` : '') +
    (guess !== undefined ? `: did you mean ${guess}?` : '')
  );
}

export const grants: SectionDefinition = {
  id: 'grants',
  title: 'Other data the tasks need (grants)',
  explain:
    'Task code often needs more than the Flyte bucket: another bucket or prefix, a Secrets Manager secret, images ' +
    "in another account's ECR. The config's grants give each the roles that need it, least privilege, in one " +
    'policy per role (<role>-grants) that the tool makes and attaches.',
  needsCluster: true,
  identity: 'none',
  // The roles must exist before their grants policy is attached.
  dependsOn: ['nodeRole', 'systemRole', 'workersRole', 'projectRoles'],
  enabled: (config) => config.grants.length > 0,
  off: 'no grants',
  skipReason: () => 'no grants in the config',
  rules: [
    {
      name: 'grants: each gives one thing, with the keys of that kind',
      check: ({ input }) => {
        const given = Array.isArray(input.grants) ? (input.grants as unknown[]) : [];
        return given.flatMap((raw, i): Problem[] => {
          if (raw === null || typeof raw !== 'object') return [];
          const g = raw as Record<string, unknown>;
          const kinds = KINDS.filter((k) => g[k] !== undefined);
          const problems: Problem[] = [];
          if (kinds.length === 0) {
            problems.push({ path: ['grants', i], message: 'needs one of bucket, secret or ecrRepository' });
          } else if (kinds.length > 1) {
            problems.push({
              path: ['grants', i, kinds[1]!],
              message: `a grant gives one thing, and this one has ${kinds.join(' and ')}: make one grant of each`,
            });
          }
          if (g.bucket === undefined) {
            for (const k of BUCKET_ONLY) {
              if (g[k] !== undefined) {
                problems.push({ path: ['grants', i, k], message: 'only applies to a bucket grant (with bucket:)' });
              }
            }
          }
          return problems;
        });
      },
    },
    {
      name: 'grants: to names roles this config makes',
      check: ({ config, input }) => {
        const given = Array.isArray(input.grants) ? (input.grants as Record<string, unknown>[]) : [];
        return config.grants.flatMap((g, i): Problem[] => {
          const listed = Array.isArray(given[i]?.to);
          return g.to.flatMap((t): Problem[] => {
            const message = granteeProblem(config, t);
            return message !== undefined
              ? [
                  {
                    path: listed ? ['grants', i, 'to', (given[i]!.to as string[]).indexOf(t)] : ['grants', i, 'to'],
                    message,
                  },
                ]
              : [];
          });
        });
      },
    },
    {
      name: 'grants: ARNs in the partition of the region',
      check: ({ config }) => {
        if (config.region === undefined) return [];
        const partition = partitionOfRegion(config.region);
        return config.grants.flatMap((g, i): Problem[] =>
          (['kmsKey', 'ecrRepository'] as const).flatMap((k): Problem[] => {
            const arn = g[k];
            const p = arn?.split(':')[1];
            return p !== undefined && p !== partition
              ? [
                  {
                    path: ['grants', i, k],
                    message: `is in partition ${p}, but region ${config.region} is in ${partition}`,
                  },
                ]
              : [];
          }),
        );
      },
    },
    {
      name: "grants: each role's policy within IAM's size limit",
      check: ({ config }) => {
        const scope = {
          partition: partitionOfRegion(config.region),
          region: config.region ?? 'ap-southeast-5',
          accountId: '000000000000',
        };
        return grantedRoles(config).flatMap(([role, list]): Problem[] => {
          const size = policySize(grantsPolicyDocument(scope, list));
          return size > MANAGED_POLICY_MAX
            ? [
                {
                  path: ['grants'],
                  message: `the grants of the role ${role} make a policy of about ${size} characters; IAM allows ${MANAGED_POLICY_MAX}: give fewer grants to it, or grant a prefix or name prefix in place of several`,
                },
              ]
            : [];
        });
      },
    },
  ],
  desired(ctx) {
    const { config, facts } = ctx;
    const scope = { partition: facts.partition, region: facts.region, accountId: facts.accountId };
    const granted = grantedRoles(config);
    const made = granted.map(([role, list]): DesiredPolicy => ({
      kind: 'policy',
      name: grantsPolicyName(role),
      path: config.path,
      arn: policyArn(facts.partition, facts.accountId, config.path, grantsPolicyName(role)),
      description: `The grants of the role ${role} (grants: in the config), managed by flyte-aws-setup`,
      document: grantsPolicyDocument(scope, list),
      tags: resourceTags(config),
      attachTo: [role],
    }));
    // Narrowing the config narrows AWS: the grants policy of a role the config now gives none goes (when it is this
    // setup's; planPolicy leaves anyone else's alone). (Without grants the section is off: see leftBehind.)
    if (config.grants.length === 0) return [];
    const given = new Set(granted.map(([role]) => role));
    const gone = [...madeRoles(config)].filter((role) => !given.has(role)).map((role) => gonePolicy(ctx, role));
    return [...made, ...gone];
  },
  // With the last grant removed the section is off, yet the grants policies it made are still attached: those the
  // reads found on the config's roles go, as they would with grants left for other roles.
  leftBehind: grantsPoliciesLeftBehind,
  notes: (ctx) => ecrNotes(ctx),
  wizard: {
    offer: async (ctx) => {
      ctx.say(
        'Grants are written in the config file (grants:), not asked here: other buckets or prefixes, Secrets ' +
          "Manager secrets, images in another account's ECR (see the config reference).",
      );
      return false;
    },
    // No grants is no key: the saved config of a walk without grants does not name them.
    turnOff: (draft) => {
      delete draft.grants;
    },
  },
};

/**
 * The grants policies still attached to the roles a config makes (`attached`: a role's policies, as read), each
 * wanted gone: a config without grants removes them on its next run, and destroy deletes them.
 */
export function grantsPoliciesLeftBehind(
  ctx: Pick<SectionContext, 'config' | 'facts'>,
  attached: (role: string) => readonly string[] | undefined,
): DesiredPolicy[] {
  const { config, facts } = ctx;
  return [...madeRoles(config)]
    .filter((role) =>
      attached(role)?.includes(policyArn(facts.partition, facts.accountId, config.path, grantsPolicyName(role))),
    )
    .map((role) => gonePolicy(ctx, role));
}

/** The grants policy of a role the config gives no grants: wanted gone (planGonePolicy removes only the setup's). */
function gonePolicy({ config, facts }: Pick<SectionContext, 'config' | 'facts'>, role: string): DesiredPolicy {
  const name = grantsPolicyName(role);
  return {
    kind: 'policy',
    name,
    path: config.path,
    arn: policyArn(facts.partition, facts.accountId, config.path, name),
    description: `A grants policy the config no longer gives (grants: in the config), managed by flyte-aws-setup`,
    document: { Version: '2012-10-17', Statement: [] },
    tags: resourceTags(config),
    gone: true,
  };
}

/**
 * For each ECR repository of another account: the repository policy statement that account must add, since this
 * tool cannot change another account. And where task roles get a repository: the images pods run are pulled by
 * the node (its role), not by the pods.
 */
function ecrNotes(ctx: SectionContext): Note[] {
  const { config, facts } = ctx;
  const roles = new Map(grantedRoles(config));
  const notes: Note[] = [];
  const repositories = [...new Set(config.grants.flatMap((g) => (g.ecrRepository ? [g.ecrRepository] : [])))];
  for (const repo of repositories) {
    const holders = [...roles].filter(([, list]) => list.some((g) => g.ecrRepository === repo)).map(([r]) => r);
    if (holders.length === 0) continue;
    const { region, account, name } = ecrRepositoryParts(repo);
    if (account !== facts.accountId) {
      const arns = holders.map((r) => roleArn(facts.partition, facts.accountId, config.path, r));
      notes.push({
        level: 'warn',
        message:
          `${repo} is account ${account}'s: the roles may pull from it only once its repository policy allows them, ` +
          `which this tool cannot change. In account ${account}, add this statement to the repository's policy ` +
          `(aws ecr get-repository-policy --repository-name ${name} --region ${region}; then set-repository-policy ` +
          `with the statement merged in): ${JSON.stringify(ecrRepositoryPolicy(arns).Statement[0])}`,
      });
    }
  }
  const nodeRoleName = config.nodeRole ? config.nodeRole.name : undefined;
  const podRoles = [...roles]
    .filter(([role, list]) => role !== nodeRoleName && list.some((g) => g.ecrRepository !== undefined))
    .map(([role]) => role);
  if (podRoles.length > 0) {
    notes.push({
      level: 'info',
      message:
        `the images pods run are pulled by the node (the node role), not with ${podRoles.join(', ')}: give ` +
        'ecrRepository grants to node for that; a pod role needs them only for task code that pulls images itself',
    });
  }
  return notes;
}
