/**
 * The config file, the public contract: its schema (types, field rules, descriptions for the JSON Schema that
 * editors use) and the resolved shape the engine works from, with every default filled in.
 */
import * as z from 'zod/mini';
import * as rules from './rules.js';

/**
 * The schema is built with zod's functional API (`zod/mini`): the same checks, issues and messages as its chained
 * API, but a bundle keeps only the parts used, so reading a config loads less code at start-up. A description is
 * registered on the schema it describes, for the JSON Schema and the config template.
 */
function described<T extends z.ZodMiniType>(schema: T, description: string, more: Record<string, unknown> = {}): T {
  z.globalRegistry.add(schema, { description, ...more });
  return schema;
}

/** A schema's description (`described`): where it is optional, the one of the schema it wraps. */
export function descriptionOf(schema: z.ZodMiniType): string | undefined {
  const own = z.globalRegistry.get(schema)?.description;
  if (own !== undefined) return own;
  return schema instanceof z.ZodMiniOptional ? descriptionOf(schema.def.innerType as z.ZodMiniType) : undefined;
}

function ruled(rule: rules.Rule, description: string) {
  return described(
    checkedString((value, ctx) => {
      const message = rule(value);
      if (message !== undefined) ctx.addIssue({ code: 'custom', message: `${message} (got ${JSON.stringify(value)})` });
    }),
    description,
  );
}

/**
 * A string with a check: what `z.string().check(z.superRefine(check))` makes, made at once (without the string
 * schema that `.check` copies), as the config's schema has dozens.
 */
function checkedString(check: (value: string, ctx: z.core.$RefinementCtx<string>) => void): z.ZodMiniString<string> {
  return new z.ZodMiniString({ type: 'string', checks: [z.superRefine(check)] }) as z.ZodMiniString<string>;
}

const roleNameField = (description: string) => ruled(rules.roleName, description);
const policyArnList = described(
  z.array(ruled(rules.policyArn, 'A managed policy ARN.')),
  'More managed policies to attach, by ARN.',
);

/** A section: `false` skips it, `true` or a mapping enables it. */
function section<T extends z.core.$ZodLooseShape>(shape: T, description: string) {
  return described(z.union([z.boolean(), z.strictObject(shape)]), description);
}

export const DEFAULT_DOMAINS = ['development', 'staging', 'production'] as const;

export const SECTION_IDS = [
  'clusterRole',
  'nodeRole',
  'oidcProvider',
  'customPolicy',
  'systemRole',
  'workersRole',
  'projectRoles',
  // Added after the seven of the documents' main path, so their numbers stay 1-7.
  'globalAccess',
  'clusterVpc',
  // The associations of EKS Pod Identity (identity: pod-identity or both), after the roles they name.
  'podIdentity',
  'grants',
] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export const projectRoleSchema = z.strictObject({
  project: ruled(rules.dnsLabel, 'Flyte project name; its namespaces are <project>-<domain>.'),
  domains: described(
    z.optional(z.array(ruled(rules.dnsLabel, 'A Flyte domain.')).check(z.minLength(1))),
    'Domains of the project (default: development, staging, production).',
  ),
  roleName: z.optional(roleNameField('IAM role name (default flyte-<project>-role).')),
  serviceAccount: z.optional(ruled(rules.serviceAccountName, 'Service account the tasks run as (default: default).')),
  extraPolicies: z.optional(policyArnList),
  userFlyteRolePolicy: described(
    z.optional(z.boolean()),
    "Union: also attach the account's customer-managed policy named userflyterole (the default task permissions of a Union data plane).",
  ),
});

export const GRANT_ACCESS = ['read', 'read-write'] as const;
export type GrantAccess = (typeof GRANT_ACCESS)[number];

/** Who a grant is for, beside the names of `projectRoles` projects. */
export const GRANTEE_GROUPS = ['workers', 'projects', 'system', 'node'] as const;

const grantee = described(
  z.string().check(z.minLength(1)),
  'workers, projects (every project role), system, node, or a project of projectRoles.',
);

/** One grant: more data a Flyte role's pods need, beside the Flyte bucket. One of bucket, secret, ecrRepository. */
export const grantSchema = described(
  z.strictObject({
    to: described(
      z.union([grantee, z.array(grantee).check(z.minLength(1))]),
      'The roles that get it: workers, projects (every project role), system (the backend), node (the node role: it pulls the images pods run), or the name of a project of projectRoles; or a list of those.',
    ),
    bucket: z.optional(ruled(rules.bucketName, 'Another S3 bucket.')),
    prefix: z.optional(ruled(rules.s3Prefix, 'With bucket: only the objects whose keys start so (e.g. features/).')),
    access: described(
      z.optional(z.enum(GRANT_ACCESS)),
      'With bucket: read (get and list, default) or read-write (also put and delete).',
    ),
    kmsKey: z.optional(
      ruled(rules.kmsKeyArn, "With bucket: the ARN of the bucket's SSE-KMS key (a customer managed key)."),
    ),
    secret: z.optional(
      ruled(
        rules.secretName,
        "A Secrets Manager secret of the config's region and account, by name, or a name prefix ending in *.",
      ),
    ),
    ecrRepository: z.optional(
      ruled(
        rules.ecrRepositoryArn,
        "An ECR repository, by ARN (another account's: its repository policy must allow the roles; the plan prints it).",
      ),
    ),
  }),
  'A grant: one of bucket, secret or ecrRepository, to the roles named in to.',
);

export const VPC_DNS_MODES = ['check', 'fix', 'off'] as const;
export type VpcDnsMode = (typeof VPC_DNS_MODES)[number];

/**
 * What the roles are for (`target`): the Helm chart that installs Flyte, or a Union data plane. Each section says
 * which targets it serves (`SectionDefinition.targets`); the hand-off writes that target's files.
 */
export const TARGETS = ['flyte-binary', 'flyte-core', 'flyte2', 'union'] as const;
export type Target = (typeof TARGETS)[number];
export const DEFAULT_TARGET: Target = 'flyte-binary';

/**
 * How Flyte's pods assume their roles (`identity`): IRSA (the cluster's OIDC provider, the documents' way), EKS Pod
 * Identity (the roles trust pods.eks.amazonaws.com, and the tool makes one association per namespace and service
 * account), or both (the migration from one to the other).
 */
export const IDENTITY_MODES = ['irsa', 'pod-identity', 'both'] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];
export const DEFAULT_IDENTITY: IdentityMode = 'irsa';

/** The flyte-core components that can run with the backend role, each as a service account of its own name. */
export const FLYTE_CORE_COMPONENTS = ['flyteadmin', 'flytepropeller', 'datacatalog', 'flytescheduler'] as const;
export type FlyteCoreComponent = (typeof FLYTE_CORE_COMPONENTS)[number];
/** The ones that read the bucket (flyte-core's values-eks.yaml annotates these three). */
export const FLYTE_CORE_DEFAULT_ACCOUNTS: readonly FlyteCoreComponent[] = [
  'flyteadmin',
  'flytepropeller',
  'datacatalog',
];

/** A string checked by a rule, so that a wrong one is reported at its key; an enum for editors. */
const flyteCoreComponent = described(
  checkedString((value, ctx) => {
    if (!(FLYTE_CORE_COMPONENTS as readonly string[]).includes(value))
      ctx.addIssue({
        code: 'custom',
        message: `must be one of ${FLYTE_CORE_COMPONENTS.join(', ')} (got ${JSON.stringify(value)})`,
      });
  }),
  'A flyte-core component.',
  { enum: [...FLYTE_CORE_COMPONENTS] },
);

/** A cluster of several: its name (in the config's region), or its name and region. */
const clusterEntry = z.union([
  ruled(rules.clusterName, "An EKS cluster's name, in the config's region."),
  described(
    z.strictObject({
      name: ruled(rules.clusterName, 'EKS cluster name.'),
      region: z.optional(ruled(rules.region, "The cluster's region (default: the config's).")),
    }),
    'An EKS cluster in another region.',
  ),
]);

/** One cluster's name, or several clusters (a list of names, or `{ name, region }`); each once (a rule says so). */
const clusterField = described(
  z.union([
    ruled(rules.clusterName, 'EKS cluster name (needed by the OIDC provider and the roles after it).'),
    described(
      z.array(clusterEntry).check(z.minLength(1)),
      "Several EKS clusters whose pods assume the same roles (blue/green upgrades, multi-cluster Flyte): names in the config's region, or { name, region } for a cluster in another region.",
    ),
  ]),
  "The EKS cluster's name (needed by the OIDC provider and the roles after it), or a list of several clusters: names in the config's region, or { name, region } for one in another region.",
);

/** A cluster of the config: its name, and its region when that is not the config's. */
export interface ClusterRef {
  name: string;
  /** Absent: the config's region. */
  region?: string;
}

export function clusterRefs(raw: RawConfig['cluster'], configRegion?: string): ClusterRef[] {
  if (raw === undefined) return [];
  const entries = typeof raw === 'string' ? [raw] : raw;
  return entries.map((e) =>
    typeof e === 'string' || e.region === undefined || e.region === configRegion
      ? { name: typeof e === 'string' ? e : e.name }
      : { name: e.name, region: e.region },
  );
}

export const configSchema = described(
  z.strictObject({
    $schema: described(z.optional(z.string()), 'JSON Schema of this file, for editors.'),
    region: z.optional(ruled(rules.region, "AWS region; else AWS_REGION or the profile's region.")),
    profile: z.optional(
      ruled(rules.profileName, 'Named profile from ~/.aws/config; else the default credential chain.'),
    ),
    accountId: z.optional(
      ruled(rules.accountId, 'Expected AWS account ID: nothing is done when the credentials are for another account.'),
    ),
    cluster: z.optional(clusterField),
    bucket: ruled(rules.bucketName, 'S3 bucket the Flyte roles may use.'),
    bucketKmsKey: z.optional(
      ruled(
        rules.kmsKeyArn,
        "ARN of the bucket's SSE-KMS key (a customer managed key), for a bucket whose default encryption the operator cannot read; else it is read from the bucket.",
      ),
    ),
    setup: z.optional(
      ruled(
        rules.setupName,
        "This setup's name, written as the tag flyte-aws-setup:setup on what the tool makes: what another setup made is never changed or deleted from here (default: the cluster's name, else the bucket's).",
      ),
    ),
    namespace: z.optional(ruled(rules.dnsLabel, 'Flyte control-plane namespace (default flyte).')),
    target: described(
      z.optional(z.enum(TARGETS)),
      'What the roles are for: the chart that installs Flyte (flyte-binary: Flyte 1, default; flyte-core: Flyte 1 in components; flyte2: the flyte-binary chart of Flyte 2), or a Union data plane (union). It decides which roles are made, whom they trust, and the hand-off files.',
    ),
    identity: described(
      z.optional(z.enum(IDENTITY_MODES)),
      "How Flyte's pods assume their roles: irsa (the cluster's OIDC provider, default), pod-identity (EKS Pod Identity: the roles trust pods.eks.amazonaws.com and the tool makes the pod identity associations), or both (each role trusts both; the migration from IRSA).",
    ),
    tags: described(
      z.optional(z.record(z.string(), z.string())),
      'Tags added to everything the tool creates, beside managed-by: flyte-aws-setup.',
    ),
    permissionsBoundary: z.optional(
      ruled(rules.policyArn, 'Managed policy ARN set as the permissions boundary of every role.'),
    ),
    path: z.optional(ruled(rules.iamPath, 'IAM path for the roles and the policy (default /).')),
    clusterRole: z.optional(
      section({ name: z.optional(roleNameField('Role name (default flyte-eks-cluster-role).')) }, 'EKS cluster role.'),
    ),
    nodeRole: z.optional(
      section({ name: z.optional(roleNameField('Role name (default flyte-eks-node-role).')) }, 'EKS node role.'),
    ),
    oidcProvider: described(
      z.optional(z.boolean()),
      "IAM OIDC identity provider for the cluster's issuer (default true).",
    ),
    customPolicy: z.optional(
      section(
        { name: z.optional(ruled(rules.policyName, 'Policy name (default flyte-custom-policy).')) },
        'Customer-managed S3 policy for the bucket.',
      ),
    ),
    systemRole: z.optional(
      section(
        {
          name: z.optional(roleNameField('Role name (default flyte-system-role).')),
          serviceAccount: z.optional(
            ruled(
              rules.serviceAccountName,
              'Backend service account (default flyte-backend-flyte-binary); not with target flyte-core.',
            ),
          ),
          serviceAccounts: described(
            z.optional(z.array(flyteCoreComponent).check(z.minLength(1))),
            'target flyte-core: the components whose service accounts (of the same names) assume the role (default flyteadmin, flytepropeller, datacatalog).',
          ),
          extraPolicies: z.optional(policyArnList),
        },
        'Flyte backend role (IRSA).',
      ),
    ),
    workersRole: z.optional(
      section(
        {
          name: z.optional(roleNameField('Role name (default flyte-workers-role).')),
          serviceAccount: z.optional(
            ruled(rules.serviceAccountName, 'Service account of the task pods (default default).'),
          ),
          allNamespaces: described(
            z.optional(z.boolean()),
            'Trust the service account in every namespace (StringLike *), as the documents do (default true).',
          ),
          namespaces: described(
            z.optional(z.array(ruled(rules.dnsLabel, 'A namespace.'))),
            'With allNamespaces: false, namespaces trusted beside the Flyte namespace.',
          ),
          extraPolicies: z.optional(policyArnList),
        },
        'Role of the task pods (IRSA).',
      ),
    ),
    projectRoles: described(z.optional(z.array(projectRoleSchema)), 'Roles scoped to project-domain namespaces.'),
    globalAccess: described(
      z.optional(
        z.strictObject({
          role: roleNameField('Name of the existing <prefix>-userflyterole role of the Union data plane.'),
        }),
      ),
      'Union global access: attach the custom policy to the existing <prefix>-userflyterole role (never created, retagged or deleted).',
    ),
    grants: described(
      z.optional(z.array(grantSchema)),
      "More data the Flyte roles' pods need: other buckets or prefixes, Secrets Manager secrets, ECR repositories; each role group gets a managed policy <role>-grants.",
    ),
    vpcDns: described(
      z.optional(z.enum(VPC_DNS_MODES)),
      "The enableDnsHostnames and enableDnsSupport of every cluster's VPC (in its region), without which nodes cannot register: check (report, default), fix (turn them on), off.",
    ),
  }),
  'flyte-aws-setup config: the AWS IAM pieces Flyte needs on Amazon EKS.',
);

export type RawConfig = z.infer<typeof configSchema>;

export interface RoleSection {
  name: string;
}
export interface IrsaRoleSection {
  name: string;
  serviceAccount: string;
  extraPolicies: string[];
}
export interface SystemRoleSection extends IrsaRoleSection {
  /** target flyte-core: the components that assume the role, as given (absent: the default three). */
  serviceAccounts?: FlyteCoreComponent[];
}
export interface WorkersRoleSection extends IrsaRoleSection {
  allNamespaces: boolean;
  namespaces: string[];
}
/** A grant with its defaults: `to` as a list, `access` set (it only matters with `bucket`). */
export interface Grant {
  to: string[];
  bucket?: string;
  prefix?: string;
  access: GrantAccess;
  kmsKey?: string;
  secret?: string;
  ecrRepository?: string;
}

export interface ProjectRole {
  project: string;
  domains: string[];
  roleName: string;
  serviceAccount: string;
  extraPolicies: string[];
  /** Attach the account's `userflyterole` policy too (Union). */
  userFlyteRolePolicy: boolean;
}

/** A validated config with every default filled in: what the engine reads. */
export interface Config {
  region?: string;
  profile?: string;
  accountId?: string;
  /** The (first) cluster's name: the one cluster of most configs. */
  cluster?: string;
  /**
   * Every cluster of the config, in its order (the first is `cluster`); empty without one. A region is given only
   * for a cluster outside the config's region.
   */
  clusters: ClusterRef[];
  bucket: string;
  /** The bucket's SSE-KMS key, as the config names it (else read from the bucket while planning). */
  bucketKmsKey?: string;
  /** The setup's name: the `setup` key, else the cluster's name, else the bucket's. */
  setup: string;
  namespace: string;
  target: Target;
  identity: IdentityMode;
  tags: Record<string, string>;
  permissionsBoundary?: string;
  path: string;
  clusterRole: RoleSection | false;
  nodeRole: RoleSection | false;
  oidcProvider: boolean;
  customPolicy: { name: string } | false;
  systemRole: SystemRoleSection | false;
  workersRole: WorkersRoleSection | false;
  projectRoles: ProjectRole[];
  globalAccess: { role: string } | false;
  grants: Grant[];
  vpcDns: VpcDnsMode;
}

export const DEFAULT_NAMES = {
  clusterRole: 'flyte-eks-cluster-role',
  nodeRole: 'flyte-eks-node-role',
  customPolicy: 'flyte-custom-policy',
  systemRole: 'flyte-system-role',
  systemServiceAccount: 'flyte-backend-flyte-binary',
  workersRole: 'flyte-workers-role',
  workersServiceAccount: 'default',
  namespace: 'flyte',
} as const;

export function defaultProjectRoleName(project: string): string {
  return `flyte-${project}-role`;
}

function enabled<T extends object>(value: boolean | T | undefined): Partial<T> | false {
  if (value === false) return false;
  if (value === undefined || value === true) return {};
  return value;
}

/** Fill in the defaults of a config that passed the schema. */
export function resolveConfig(raw: RawConfig): Config {
  const clusterRole = enabled(raw.clusterRole);
  const nodeRole = enabled(raw.nodeRole);
  const customPolicy = enabled(raw.customPolicy);
  const systemRole = enabled(raw.systemRole);
  const workersRole = enabled(raw.workersRole);
  const clusters = clusterRefs(raw.cluster, raw.region);
  const cluster = clusters[0]?.name;
  return {
    ...(raw.region !== undefined ? { region: raw.region } : {}),
    ...(raw.profile !== undefined ? { profile: raw.profile } : {}),
    ...(raw.accountId !== undefined ? { accountId: raw.accountId } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    clusters,
    bucket: raw.bucket,
    ...(raw.bucketKmsKey !== undefined ? { bucketKmsKey: raw.bucketKmsKey } : {}),
    setup: raw.setup ?? cluster ?? raw.bucket,
    namespace: raw.namespace ?? DEFAULT_NAMES.namespace,
    target: raw.target ?? DEFAULT_TARGET,
    identity: raw.identity ?? DEFAULT_IDENTITY,
    tags: { ...(raw.tags ?? {}) },
    ...(raw.permissionsBoundary !== undefined ? { permissionsBoundary: raw.permissionsBoundary } : {}),
    path: raw.path ?? '/',
    clusterRole: clusterRole && { name: clusterRole.name ?? DEFAULT_NAMES.clusterRole },
    nodeRole: nodeRole && { name: nodeRole.name ?? DEFAULT_NAMES.nodeRole },
    oidcProvider: raw.oidcProvider ?? true,
    customPolicy: customPolicy && { name: customPolicy.name ?? DEFAULT_NAMES.customPolicy },
    systemRole: systemRole && {
      name: systemRole.name ?? DEFAULT_NAMES.systemRole,
      serviceAccount: systemRole.serviceAccount ?? DEFAULT_NAMES.systemServiceAccount,
      ...(systemRole.serviceAccounts !== undefined
        ? { serviceAccounts: systemRole.serviceAccounts as FlyteCoreComponent[] }
        : {}),
      extraPolicies: systemRole.extraPolicies ?? [],
    },
    workersRole: workersRole && {
      name: workersRole.name ?? DEFAULT_NAMES.workersRole,
      serviceAccount: workersRole.serviceAccount ?? DEFAULT_NAMES.workersServiceAccount,
      allNamespaces: workersRole.allNamespaces ?? true,
      namespaces: workersRole.namespaces ?? [],
      extraPolicies: workersRole.extraPolicies ?? [],
    },
    projectRoles: (raw.projectRoles ?? []).map(resolveProjectRole),
    globalAccess: raw.globalAccess !== undefined ? { role: raw.globalAccess.role } : false,
    grants: (raw.grants ?? []).map(resolveGrant),
    vpcDns: raw.vpcDns ?? 'check',
  };
}

export function resolveGrant(g: z.infer<typeof grantSchema>): Grant {
  const { to, access, ...rest } = g;
  return { to: typeof to === 'string' ? [to] : [...new Set(to)], access: access ?? 'read', ...rest };
}

export function resolveProjectRole(p: z.infer<typeof projectRoleSchema>): ProjectRole {
  return {
    project: p.project,
    domains: p.domains ?? [...DEFAULT_DOMAINS],
    roleName: p.roleName ?? defaultProjectRoleName(p.project),
    serviceAccount: p.serviceAccount ?? 'default',
    extraPolicies: p.extraPolicies ?? [],
    userFlyteRolePolicy: p.userFlyteRolePolicy ?? false,
  };
}

/** The name Union gives the default task role, `<prefix>-userflyterole`, and the policy it carries. */
export const USER_FLYTE_ROLE_SUFFIX = '-userflyterole';
export const USER_FLYTE_ROLE_POLICY = 'userflyterole';

/** The JSON Schema of the config file, for editors (`$schema`). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { target: 'draft-2020-12', unrepresentable: 'any' });
}
