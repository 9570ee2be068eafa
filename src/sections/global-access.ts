/**
 * Union's "global access" (seed 003): attach the custom policy to the existing `<prefix>-userflyterole`, the role
 * every project-domain's task pods run as on a Union data plane. Only the attachment is the tool's: the role is
 * never created, retagged or deleted, and its trust is left alone.
 */
import { USER_FLYTE_ROLE_SUFFIX } from '../config/schema.js';
import type { Note } from '../model.js';
import { roleArn } from '../policy/partition.js';
import { customPolicyArn, type SectionDefinition, type SectionWizardContext } from './section.js';

export const globalAccess: SectionDefinition = {
  id: 'globalAccess',
  title: 'Union global access',
  explain:
    "On a Union data plane every project-domain's task pods run as the existing <prefix>-userflyterole. " +
    'Attaching the bucket policy to it gives all task code that access; the role itself is left as it is.',
  needsCluster: true,
  identity: 'none',
  dependsOn: ['customPolicy'],
  enabled: (config) => config.globalAccess !== false,
  off: 'no globalAccess',
  roles: ({ config }) =>
    config.globalAccess
      ? [
          {
            name: config.globalAccess.role,
            path: ['globalAccess', 'role'],
            adopted:
              'globalAccess names a role that exists already (the <prefix>-userflyterole of a Union data plane), which the tool never creates',
          },
        ]
      : [],
  rules: [
    {
      name: 'globalAccess needs customPolicy',
      // Global access attaches the custom policy to a role that exists already; the config must make that policy.
      check: ({ config }) =>
        config.globalAccess && config.customPolicy === false
          ? [
              {
                path: ['globalAccess'],
                message:
                  'attaches the custom policy to the existing role, but customPolicy is false; enable customPolicy or remove globalAccess',
              },
            ]
          : [],
    },
  ],
  wizard: {
    offer: offerGlobalAccess,
    turnOff: (draft) => {
      delete draft.globalAccess;
    },
  },
  references: ({ config }) =>
    config.globalAccess
      ? [
          {
            kind: 'role',
            name: config.globalAccess.role,
            path: ['globalAccess', 'role'],
            missing:
              'this section only attaches the policy to a role that exists (it never creates it): check the name ' +
              `(aws iam list-roles --query "Roles[?ends_with(RoleName, '${USER_FLYTE_ROLE_SUFFIX}')].RoleName")`,
          },
        ]
      : [],
  desired(ctx) {
    const { config, facts } = ctx;
    const policy = customPolicyArn(ctx);
    if (config.globalAccess === false || policy === undefined) return [];
    return [
      {
        kind: 'attachment',
        name: config.globalAccess.role,
        arn: roleArn(facts.partition, facts.accountId, '/', config.globalAccess.role),
        policyArns: [policy],
      },
    ];
  },
  notes({ config }) {
    if (config.globalAccess === false) return [];
    const notes: Note[] = [];
    if (!config.globalAccess.role.endsWith(USER_FLYTE_ROLE_SUFFIX)) {
      notes.push({
        level: 'warn',
        message:
          `the role ${config.globalAccess.role} does not end in ${USER_FLYTE_ROLE_SUFFIX}: Union names the role of ` +
          `all task pods <prefix>${USER_FLYTE_ROLE_SUFFIX}; make sure this is the one (the policy is attached to it as named)`,
      });
    }
    return notes;
  },
  skipReason: () => 'no globalAccess in the config',
};

/**
 * The wizard offers global access only where it applies: an existing `<prefix>-userflyterole` role (seed 003).
 * The default is no: it gives the bucket policy to every task of every project.
 */
async function offerGlobalAccess(ctx: SectionWizardContext): Promise<boolean> {
  if (ctx.draft.customPolicy === false) {
    ctx.say('The bucket policy is off (customPolicy: false): there is nothing to attach.');
    return false;
  }
  const roles = await ctx.reading(`Looking for a role named <prefix>${USER_FLYTE_ROLE_SUFFIX}`, () =>
    ctx.rolesEndingWith(USER_FLYTE_ROLE_SUFFIX),
  );
  if (roles.length === 0) {
    ctx.say(`No role named <prefix>${USER_FLYTE_ROLE_SUFFIX} in this account (it is Union's): nothing to do.`);
    return false;
  }
  const no = '\0no-global-access';
  const picked = await ctx.prompter.select({
    message: 'Attach the bucket policy to every Union task (global access)?',
    choices: [
      { name: 'No (project-domain roles, or later)', value: no },
      ...roles.map((r) => ({ name: `Yes, to ${r.name}  (!) every task of every project gets it`, value: r.name })),
    ],
    default: no,
  });
  if (picked === no) return false;
  ctx.draft.globalAccess = { role: picked };
  return true;
}
