/**
 * EKS Pod Identity (`identity: pod-identity` or `both`): one pod identity association per namespace and service
 * account the config knows of, each with the role those pods take (the backend's service accounts in the Flyte
 * namespace, the task pods' in each known project-domain namespace), and the Pod Identity Agent add-on they need.
 * Pod Identity has no wildcard: a namespace the config does not name gets no association.
 */
import { MANAGED_BY_KEY, MANAGED_BY_VALUE, SETUP_KEY } from '../config/rules.js';
import type { Config } from '../config/schema.js';
import type {
  CurrentPodIdentityAssociation,
  DesiredAddon,
  DesiredPodIdentityAssociation,
  DesiredResource,
  Note,
} from '../model.js';
import { eksClusterArn, roleArn } from '../policy/partition.js';
import { projectNamespace, projectRoles } from './project-roles.js';
import { readyClusters, resourceTags, type SectionDefinition } from './section.js';
import { backendServiceAccounts, systemRole } from './system-role.js';
import { workersRole } from './workers-role.js';

const ROLE_SECTIONS = { systemRole, workersRole, projectRoles };

/** Whether the role section serves the config's target (its pods exist under that chart). */
function servesTarget(id: keyof typeof ROLE_SECTIONS, target: Config['target']): boolean {
  const targets = ROLE_SECTIONS[id].targets;
  return targets === undefined || targets.includes(target);
}

/** The add-on that hands pods the credentials of their association. */
export const POD_IDENTITY_AGENT = 'eks-pod-identity-agent';

/** One association the config wants: pods of `serviceAccount` in `namespace` take the role `role`. */
export interface AssociationSpec {
  namespace: string;
  serviceAccount: string;
  /** The role's name. */
  role: string;
  /** The config key whose role it is. */
  from: 'systemRole' | 'workersRole' | 'projectRoles';
}

/**
 * Every namespace and service account the config knows of, with its role: the backend's, each project's
 * namespaces with its own role, then the workers role's namespaces (a namespace and service account with a
 * project's role keeps it: there is one association each).
 */
export function associationSpecs(config: Config): AssociationSpec[] {
  const specs = new Map<string, AssociationSpec>();
  const add = (spec: AssociationSpec) => {
    const key = `${spec.namespace}/${spec.serviceAccount}`;
    if (!specs.has(key)) specs.set(key, spec);
  };
  if (config.systemRole && servesTarget('systemRole', config.target)) {
    for (const sa of backendServiceAccounts(config, config.systemRole))
      add({ namespace: config.namespace, serviceAccount: sa, role: config.systemRole.name, from: 'systemRole' });
  }
  if (servesTarget('projectRoles', config.target)) {
    for (const p of config.projectRoles) {
      for (const d of p.domains)
        add({
          namespace: projectNamespace(p.project, d),
          serviceAccount: p.serviceAccount,
          role: p.roleName,
          from: 'projectRoles',
        });
    }
  }
  if (config.workersRole && servesTarget('workersRole', config.target)) {
    const w = config.workersRole;
    for (const ns of [...new Set([config.namespace, ...(w.allNamespaces ? [] : w.namespaces)])])
      add({ namespace: ns, serviceAccount: w.serviceAccount, role: w.name, from: 'workersRole' });
  }
  return [...specs.values()];
}

export const podIdentity: SectionDefinition = {
  id: 'podIdentity',
  title: 'EKS Pod Identity associations',
  explain:
    'With EKS Pod Identity a pod gets its role from an association of its namespace and service account, made ' +
    "in the cluster, and from the Pod Identity Agent add-on. This makes one association for each of Flyte's " +
    'service accounts the config knows of. There is no wildcard: a Flyte project added later needs its ' +
    'namespaces in the config and a run of this setup again.',
  needsCluster: true,
  identity: 'none',
  dependsOn: ['systemRole', 'workersRole', 'projectRoles'],
  enabled: (config) => config.identity !== 'irsa' && associationSpecs(config).length > 0,
  off: 'identity: irsa',
  skipReason: (config) =>
    config.identity !== 'irsa' ? 'no role of the config is assumed by pods' : 'identity: irsa, the default',
  wizard: {
    // The identity question (after the target) turns it on or off: with IRSA it is not shown.
    shown: (draft) => draft.identity !== undefined && draft.identity !== 'irsa',
    offer: async (ctx) => {
      ctx.say('No role of these answers is assumed by pods: nothing to associate.');
      return false;
    },
    // Declined: the roles keep their Pod Identity trust; the saved config keeps identity, so a run does it later.
    turnOff: () => {},
    declined:
      'Without the associations no pod gets a role through Pod Identity. The saved config keeps the identity ' +
      'answer: run this setup again to make them.',
  },
  desired(ctx) {
    const { config, facts } = ctx;
    if (config.identity === 'irsa') return [];
    const specs = associationSpecs(config);
    if (specs.length === 0) return [];
    const tags = resourceTags(config);
    const clusters = readyClusters(ctx);
    // Each cluster gets the add-on and the associations; with several, a name says its cluster.
    return clusters.flatMap((c): DesiredResource[] => {
      const clusterArn = eksClusterArn(facts.partition, c.region, facts.accountId, c.name);
      const region = c.region !== facts.region ? { region: c.region } : {};
      const prefix = clusters.length > 1 ? `${c.name}: ` : '';
      const addon: DesiredAddon = {
        kind: 'addon',
        name: POD_IDENTITY_AGENT,
        arn: `${clusterArn}/addon/${POD_IDENTITY_AGENT}`,
        cluster: c.name,
        ...region,
        tags,
      };
      return [
        addon,
        ...specs.map((s): DesiredPodIdentityAssociation => ({
          kind: 'pod-identity-association',
          name: `${prefix}${s.namespace}/${s.serviceAccount}`,
          arn: `${clusterArn}/${s.namespace}/${s.serviceAccount}`,
          cluster: c.name,
          ...region,
          namespace: s.namespace,
          serviceAccount: s.serviceAccount,
          roleArn: roleArn(facts.partition, facts.accountId, config.path, s.role),
          tags,
        })),
      ];
    });
  },
  notes: ({ config }) => podIdentityNotes(config),
};

/** An association found in one of the config's clusters (its region, when it is not the run's). */
export interface FoundAssociation {
  cluster: string;
  region?: string;
  current: CurrentPodIdentityAssociation;
}

/**
 * Of the associations found in the config's clusters that the config does not want (their namespace and service
 * account are named by no role of the config, or `identity: irsa`), those to plan as gone: this setup's own
 * (managed-by and its setup tag), which the plan deletes; and anyone else's that hands a role of the config
 * (`configRoleArns`) to those pods, which the plan only reports. Others are not the config's business. Pure.
 */
export function associationsLeftBehind(
  config: Config,
  found: readonly FoundAssociation[],
  configRoleArns: ReadonlySet<string>,
  several: boolean,
): DesiredPodIdentityAssociation[] {
  const tags = resourceTags(config);
  const mine = (t: Record<string, string>) => t[MANAGED_BY_KEY] === MANAGED_BY_VALUE && t[SETUP_KEY] === config.setup;
  return found
    .filter((f) => mine(f.current.tags) || configRoleArns.has(f.current.roleArn))
    .map((f) => ({
      kind: 'pod-identity-association',
      name: `${several ? `${f.cluster}: ` : ''}${f.current.namespace}/${f.current.serviceAccount}`,
      arn: f.current.arn,
      cluster: f.cluster,
      ...(f.region !== undefined ? { region: f.region } : {}),
      namespace: f.current.namespace,
      serviceAccount: f.current.serviceAccount,
      roleArn: f.current.roleArn,
      tags,
      gone: true,
    }));
}

/** What the plan says plainly: Pod Identity reaches only the namespaces listed. */
export function podIdentityNotes(config: Config): Note[] {
  if (config.identity === 'irsa') return [];
  const notes: Note[] = [];
  const w = config.workersRole;
  if (w && servesTarget('workersRole', config.target)) {
    const listed = [...new Set([config.namespace, ...(w.allNamespaces ? [] : w.namespaces)])];
    const widened = w.allNamespaces
      ? config.identity === 'both'
        ? ' Its IRSA trust still lets in every namespace (allNamespaces: true) until identity is pod-identity.'
        : ' allNamespaces: true has no Pod Identity equivalent: list the project-domain namespaces in workersRole.namespaces (allNamespaces: false), or keep identity: both so that IRSA serves them meanwhile.'
      : '';
    notes.push({
      level: w.allNamespaces && config.identity === 'pod-identity' ? 'warn' : 'info',
      message:
        `Pod Identity has no wildcard: the workers role is associated only in ${listed.join(', ')}. A Flyte ` +
        'project added later needs its <project>-<domain> namespaces in the config and a run of this setup ' +
        `again, or its tasks get no AWS credentials.${widened}`,
    });
  }
  if (config.projectRoles.length > 0 && servesTarget('projectRoles', config.target)) {
    notes.push({
      level: 'info',
      message: 'a domain added to a project later needs it in projectRoles[].domains and a run of this setup again',
    });
  }
  return notes;
}
