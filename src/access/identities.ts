/**
 * The Flyte identities of a config, derived from its sections and target (never listed by hand): who runs as which
 * role, how its pods get the role's credentials, and whom the config's trust lets in on purpose. Pure.
 *
 * - the backend: flyte-binary's and Flyte 2's one service account (Flyte 2's task pods run as it too), flyte-core's
 *   components, in the Flyte namespace (systemRole);
 * - the task pods: the workers role's service account in each namespace its trust lists, or in every namespace
 *   (checked as one of them), Flyte 1 only (workersRole);
 * - the task pods of each project-domain namespace of a project with its own role (projectRoles);
 * - Union's `<prefix>-userflyterole`, which task pods run as on a Union data plane (globalAccess): its trust is
 *   Union's, so only its permissions are checked.
 */
import type { Config, IdentityMode, SectionId } from '../config/schema.js';
import { serviceAccountSubject } from '../policy/document.js';
import { sectionEnabled } from '../sections/derived.js';
import { projectNamespace, projectSubjects } from '../sections/project-roles.js';
import { backendServiceAccounts, backendSubjects } from '../sections/system-role.js';
import { workersSubjects } from '../sections/workers-role.js';

/**
 * How a pod gets its role's credentials: IRSA (a web identity token of the cluster's issuer) or EKS Pod Identity
 * (`pods.eks.amazonaws.com` assumes the role for it). `none`: the role is not assumed by the tool's trust (Union's).
 */
export type CredentialPath = 'irsa' | 'pod-identity';

export interface FlyteIdentity {
  /** `NAMESPACE/SERVICEACCOUNT` (`*` for every namespace), or `role NAME` for Union's role. */
  id: string;
  section: SectionId;
  roleName: string;
  /** Who it is, in a few words ("the flyte-binary backend", "task pods of project ml, domain development"). */
  who: string;
  /** The pod's namespace and service account; absent for Union's role. */
  pod?: {
    namespace: string;
    serviceAccount: string;
    /** The namespace stands for every namespace (`*`): the token is that of one of them. */
    anyNamespace?: boolean;
  };
  /** How its pods get the credentials; empty: not through the tool's trust (its assume is not checked). */
  paths: CredentialPath[];
  /** The `sub` values (with wildcards) the config's trust of the role lets in: a neighbour among them is no leak. */
  admitted: string[];
  /** Policies the config attaches on purpose beyond the custom policy (extraPolicies, Union's userflyterole). */
  listedPolicies: string[];
}

const PATHS: Readonly<Record<IdentityMode, CredentialPath[]>> = {
  irsa: ['irsa'],
  'pod-identity': ['pod-identity'],
  both: ['irsa', 'pod-identity'],
};

/** The namespace a `*` trust is checked with: Flyte's default project's development namespace. */
export const SAMPLE_NAMESPACE = 'flytesnacks-development';

function podIdentity(
  section: SectionId,
  roleName: string,
  namespace: string,
  serviceAccount: string,
  who: string,
  admitted: string[],
  listedPolicies: string[],
  paths: CredentialPath[],
): FlyteIdentity {
  const any = namespace === '*';
  return {
    id: `${namespace}/${serviceAccount}`,
    section,
    roleName,
    who,
    pod: { namespace: any ? SAMPLE_NAMESPACE : namespace, serviceAccount, ...(any ? { anyNamespace: true } : {}) },
    paths,
    admitted,
    listedPolicies,
  };
}

/** Every Flyte identity of the config's target, in section order. */
export function flyteIdentities(config: Config, userFlyteRolePolicyArn?: string): FlyteIdentity[] {
  const out: FlyteIdentity[] = [];
  // How the roles pods assume are trusted (`identity:`): each way in is checked.
  const paths = PATHS[config.identity];
  const s = config.systemRole;
  if (s !== false && sectionEnabled(config, 'systemRole')) {
    const admitted = backendSubjects(config, s);
    const accounts = backendServiceAccounts(config, s);
    for (const sa of accounts) {
      const who =
        config.target === 'flyte2'
          ? 'the Flyte 2 backend and its task pods'
          : config.target === 'flyte-core'
            ? `flyte-core's ${sa}`
            : 'the flyte-binary backend';
      out.push(podIdentity('systemRole', s.name, config.namespace, sa, who, admitted, s.extraPolicies, paths));
    }
  }
  const w = config.workersRole;
  if (w !== false && sectionEnabled(config, 'workersRole')) {
    const admitted = workersSubjects(config.namespace, w);
    const namespaces = w.allNamespaces ? ['*'] : [...new Set([config.namespace, ...w.namespaces])];
    for (const ns of namespaces) {
      const who = ns === '*' ? `task pods of every namespace (checked in ${SAMPLE_NAMESPACE})` : `task pods of ${ns}`;
      out.push(podIdentity('workersRole', w.name, ns, w.serviceAccount, who, admitted, w.extraPolicies, paths));
    }
  }
  if (sectionEnabled(config, 'projectRoles')) {
    for (const p of config.projectRoles) {
      const admitted = projectSubjects(p);
      const listed = [...(p.userFlyteRolePolicy && userFlyteRolePolicyArn ? [userFlyteRolePolicyArn] : [])];
      for (const d of p.domains) {
        out.push(
          podIdentity(
            'projectRoles',
            p.roleName,
            projectNamespace(p.project, d),
            p.serviceAccount,
            `task pods of project ${p.project}, domain ${d}`,
            admitted,
            [...listed, ...p.extraPolicies],
            paths,
          ),
        );
      }
    }
  }
  const g = config.globalAccess;
  if (g !== false && sectionEnabled(config, 'globalAccess')) {
    out.push({
      id: `role ${g.role}`,
      section: 'globalAccess',
      roleName: g.role,
      who: "Union's task pods (its trust is Union's)",
      paths: [],
      admitted: [],
      listedPolicies: [],
    });
  }
  return out;
}

/** Does a `sub` pattern of a trust (StringLike: `*` any run, `?` one character) let in this subject? */
export function subjectMatches(pattern: string, subject: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(subject);
}

/** A neighbour of an identity: a token that must not get its role. */
export interface Neighbour {
  /** What differs, in a few words ("another service account of flyte: default"). */
  what: string;
  namespace: string;
  serviceAccount: string;
  /** Another audience than sts.amazonaws.com. */
  aud?: string;
  /** Another cluster's issuer (the same account and region). */
  otherCluster?: boolean;
}

/** The audience of a pod's default service account token: the API server's, not STS's. */
export const OTHER_AUDIENCE = 'https://kubernetes.default.svc';
/** The namespace and service account names used for the neighbours that must be refused. */
export const OTHER_NAMESPACE = 'flyte-aws-setup-other';
export const OTHER_SERVICE_ACCOUNT = 'flyte-aws-setup-other';

/**
 * Whom the identity's role must refuse: another service account of its namespace, its service account in another
 * namespace, its own token with another audience, and a token of another cluster. A neighbour the config's trust
 * lets in on purpose (another namespace, with `allNamespaces: true`) is left out.
 */
export function neighboursOf(identity: FlyteIdentity): Neighbour[] {
  const pod = identity.pod;
  if (pod === undefined) return [];
  const admits = (ns: string, sa: string) =>
    identity.admitted.some((p) => subjectMatches(p, serviceAccountSubject(ns, sa)));
  const out: Neighbour[] = [];
  const otherSa = ['default', OTHER_SERVICE_ACCOUNT].find((sa) => !admits(pod.namespace, sa));
  if (otherSa !== undefined) {
    out.push({
      what: `another service account of ${pod.namespace}: ${otherSa}`,
      namespace: pod.namespace,
      serviceAccount: otherSa,
    });
  }
  if (!admits(OTHER_NAMESPACE, pod.serviceAccount)) {
    out.push({
      what: `${pod.serviceAccount} of another namespace: ${OTHER_NAMESPACE}`,
      namespace: OTHER_NAMESPACE,
      serviceAccount: pod.serviceAccount,
    });
  }
  out.push({
    what: `another audience: ${OTHER_AUDIENCE}`,
    namespace: pod.namespace,
    serviceAccount: pod.serviceAccount,
    aud: OTHER_AUDIENCE,
  });
  out.push({
    what: "another cluster's issuer",
    namespace: pod.namespace,
    serviceAccount: pod.serviceAccount,
    otherCluster: true,
  });
  return out;
}

/**
 * The identity `--as` names: `NAMESPACE/SERVICEACCOUNT` (a namespace that a `*` trust covers finds that identity,
 * in that namespace), or Union's role by its name.
 */
export function findIdentity(identities: FlyteIdentity[], as: string): FlyteIdentity | undefined {
  const exact = identities.find(
    (i) => i.id === as || (i.pod === undefined && (i.id === `role ${as}` || i.roleName === as)),
  );
  if (exact !== undefined) return exact;
  const [ns, sa] = as.split('/');
  if (ns === undefined || sa === undefined) return undefined;
  const any = identities.find((i) => i.pod?.anyNamespace && i.pod.serviceAccount === sa);
  return any !== undefined
    ? { ...any, id: as, who: `task pods of ${ns}`, pod: { namespace: ns, serviceAccount: sa } }
    : undefined;
}
