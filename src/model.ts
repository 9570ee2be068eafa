/**
 * The engine's data: what is known about the account (facts), what the config wants (desired resources), what
 * AWS holds (current resources), and the plan between them. Plain data: rendered as text or JSON elsewhere.
 */
import type { SectionId } from './config/schema.js';
import { ExitCode } from './errors.js';
import type { Partition } from './policy/partition.js';
import type { PolicyDocument } from './policy/document.js';
import type { FindingCode, Severity } from './policy/findings.js';

export type ClusterFacts =
  /** The cluster exists and has its OIDC issuer. `placeholder`: an offline plan made the issuer up. */
  | {
      state: 'ready';
      name: string;
      status: string;
      issuerUrl: string;
      placeholder?: boolean;
      /** The cluster's VPC (from DescribeCluster, or from its subnets), when known. */
      vpcId?: string;
      /** A cluster of the config in another region than the run's. */
      region?: string;
    }
  | { state: 'missing'; name: string; region?: string }
  /** It exists but has no issuer yet (CREATING), or is going away. */
  | { state: 'not-ready'; name: string; status: string; region?: string }
  /** No enabled section needs it. */
  | { state: 'not-needed'; name?: string };

/**
 * The bucket's default encryption, read while planning (s3:GetBucketEncryption) when the config does not name its
 * key (`bucketKmsKey`): what the custom policy must grant beside the bucket.
 */
export type BucketEncryption =
  /** SSE-KMS under a customer managed key: the policy grants its use through S3. */
  | { kind: 'kms'; keyArn: string }
  /** SSE-S3, SSE-KMS under the AWS managed key aws/s3, or none: the S3 grant is enough. */
  | { kind: 's3' }
  /** It could not be read (or the key could not be told): why. */
  | { kind: 'unknown'; reason: string };

export interface Facts {
  partition: Partition;
  accountId: string;
  region: string;
  callerArn?: string;
  /** True for `--dry-run --offline`: the account is assumed empty, the IDs are placeholders. */
  offline: boolean;
  /** The config's (first) cluster. */
  cluster: ClusterFacts;
  /** Every cluster of the config, in its order, when it names more than one (the first is `cluster`). */
  clusters?: ClusterFacts[];
  /** The config's bucket's default encryption, when it was read (not offline, nor with `bucketKmsKey`). */
  bucketEncryption?: BucketEncryption;
}

/** Every cluster the facts describe: `clusters`, else the one `cluster`. */
export function factsClusters(facts: Pick<Facts, 'cluster' | 'clusters'>): ClusterFacts[] {
  return facts.clusters ?? [facts.cluster];
}

/** A cluster's region: its own, else the run's. */
export function clusterRegion(cluster: ClusterFacts, facts: Pick<Facts, 'region'>): string {
  return ('region' in cluster ? cluster.region : undefined) ?? facts.region;
}

export type Tags = Record<string, string>;

export interface DesiredRole {
  kind: 'role';
  name: string;
  path: string;
  arn: string;
  description: string;
  trust: PolicyDocument;
  managedPolicies: string[];
  boundary?: string;
  tags: Tags;
  /** The custom policy it carries, where AmazonS3FullAccess would be the broad alternative (IRSA roles). */
  scopedPolicy?: string;
  /** Policies of the config that another section attaches to it (its grants policy): wanted, but not attached here. */
  alsoAttached?: string[];
}

export interface DesiredOidcProvider {
  kind: 'oidc-provider';
  url: string;
  arn: string;
  clientIds: string[];
  tags: Tags;
}

export interface DesiredPolicy {
  kind: 'policy';
  name: string;
  path: string;
  arn: string;
  description: string;
  document: PolicyDocument;
  tags: Tags;
  /** Roles it is attached to by its section (a grants policy, once its role exists). */
  attachTo?: string[];
  /**
   * The config no longer wants it (the grants policy of a role the config gives no grants): when it exists and is
   * this setup's, it is detached from its roles and deleted, versions first; anyone else's is only reported.
   */
  gone?: true;
}

/**
 * Managed policies attached to a role that exists already and is not the tool's (Union's
 * `<prefix>-userflyterole`): only the attachments are planned; the role is never created, retagged or deleted.
 */
export interface DesiredAttachment {
  kind: 'attachment';
  /** The role's name. */
  name: string;
  /** The role's ARN at path `/`; the read gives the real one. */
  arn: string;
  policyArns: string[];
}

/**
 * The DNS attributes of a cluster's VPC: both must be on for nodes to register (seed 004). One per VPC of the
 * config's clusters (clusters that share a VPC share it).
 */
export interface DesiredVpcDns {
  kind: 'vpc-dns';
  /** The VPC ID. */
  name: string;
  arn: string;
  /** The VPC's region: its cluster's. */
  region: string;
  /** The clusters on it, in the config's order. */
  clusters: string[];
  /** `vpcDns: fix`: turn what is off on; else only report it. */
  fix: boolean;
}

/** The S3 bucket of the config: only looked up (it exists, and in which region); the tool never changes it. */
export interface DesiredBucket {
  kind: 'bucket';
  /** The bucket's name. */
  name: string;
  arn: string;
  /** The region the config runs in, where the bucket should be. */
  region: string;
  /** The SSE-KMS key the custom policy grants the use of: its key policy is read and checked. */
  kmsKey?: string;
  /** The account the run is in: a key of another account is not read (only its own account may). */
  accountId?: string;
  /** Why its default encryption could not be read while planning (then no key is granted, nor checked). */
  encryptionUnread?: string;
}

/**
 * An EKS pod identity association: pods of one service account in one namespace of the cluster get the role's
 * credentials from the Pod Identity Agent. There is no wildcard: one per namespace and service account.
 */
export interface DesiredPodIdentityAssociation {
  kind: 'pod-identity-association';
  /** `<namespace>/<serviceAccount>`: what names it in the cluster (at most one association each). */
  name: string;
  /** The association's ARN is EKS's to choose: until it exists, `<cluster ARN>/<namespace>/<serviceAccount>`. */
  arn: string;
  cluster: string;
  /** The cluster's region, when it is not the run's. */
  region?: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  tags: Tags;
  /**
   * The config no longer wants it (its namespace and service account are named by no role of the config, or
   * `identity: irsa`): found in the cluster's listing, not asked for. This setup's is deleted (a narrowing change);
   * anyone else's is only reported, where it hands a role of the config to pods the config does not name.
   * `arn`, `namespace`, `serviceAccount` and `roleArn` are the association's own.
   */
  gone?: true;
}

/** An EKS add-on the setup needs on the cluster (the Pod Identity Agent); made when missing, never removed. */
export interface DesiredAddon {
  kind: 'addon';
  /** The add-on's name, e.g. `eks-pod-identity-agent`. */
  name: string;
  /** Until it exists, `<cluster ARN>/addon/<name>`. */
  arn: string;
  cluster: string;
  /** The cluster's region, when it is not the run's. */
  region?: string;
  tags: Tags;
}

export type DesiredResource =
  | DesiredRole
  | DesiredOidcProvider
  | DesiredPolicy
  | DesiredAttachment
  | DesiredVpcDns
  | DesiredBucket
  | DesiredPodIdentityAssociation
  | DesiredAddon;

export interface CurrentRole {
  kind: 'role';
  name: string;
  arn: string;
  path: string;
  trust: PolicyDocument;
  attached: string[];
  boundary?: string;
  tags: Tags;
  /** Its description, as GetRole gives it (none: undefined). */
  description?: string;
  /** Names of its inline policies, when they were read (a role that is not the tool's, or for verify). */
  inline?: string[];
  /** The inline policies' documents, by name, when they were read with the names. */
  inlineDocuments?: Record<string, PolicyDocument>;
  /** Why its inline policies could not be read (iam:ListRolePolicies refused). */
  inlineUnreadable?: string;
}

export interface CurrentOidcProvider {
  kind: 'oidc-provider';
  arn: string;
  url: string;
  clientIds: string[];
  tags: Tags;
}

export interface PolicyVersion {
  id: string;
  isDefault: boolean;
  created?: string;
}

export interface CurrentPolicy {
  kind: 'policy';
  arn: string;
  name: string;
  path: string;
  defaultVersionId: string;
  document: PolicyDocument;
  tags: Tags;
  /** Read only when the document must change (to make room under the 5-version limit). */
  versions?: PolicyVersion[];
  /** The roles it is attached to, read only for a policy its section attaches or removes (`attachTo`, `gone`). */
  attachedRoles?: string[];
}

export type VpcDnsAttribute = 'enableDnsSupport' | 'enableDnsHostnames';

export interface CurrentVpcDns {
  kind: 'vpc-dns';
  vpcId: string;
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  /** Why the attributes could not be read (e.g. ec2:DescribeVpcAttribute denied): a check must not block the run. */
  unreadable?: string;
}

/** A bucket that exists (`undefined`: it does not). */
export interface CurrentBucket {
  kind: 'bucket';
  name: string;
  /** Its region; absent when it could not be read. */
  region?: string;
  /** Why it could not be looked at (s3:GetBucketLocation denied, or another account's bucket). */
  unreadable?: string;
  /** The key policy of its SSE-KMS key (`DesiredBucket.kmsKey`), when read. */
  keyPolicy?: PolicyDocument;
  /** Why the key policy was not read (kms:GetKeyPolicy denied, the key is another account's, or it is gone). */
  keyPolicyUnread?: { reason: string; missing?: boolean };
}

/** A key policy as read, or why not. */
export type KeyPolicyAnswer = { policy: PolicyDocument } | { reason: string; missing?: boolean };

/** The bucket with its key's policy, or why that was not read. */
export function bucketWithKeyPolicy(bucket: CurrentBucket, key: KeyPolicyAnswer): CurrentBucket {
  return 'policy' in key ? { ...bucket, keyPolicy: key.policy } : { ...bucket, keyPolicyUnread: key };
}

export interface CurrentPodIdentityAssociation {
  kind: 'pod-identity-association';
  arn: string;
  associationId: string;
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  tags: Tags;
}

export interface CurrentAddon {
  kind: 'addon';
  name: string;
  arn: string;
  /** ACTIVE, CREATING, DEGRADED, CREATE_FAILED, ... */
  status: string;
}

/** An attachment's current state is its role's (`undefined`: the role does not exist). */
export type CurrentResource =
  | CurrentRole
  | CurrentOidcProvider
  | CurrentPolicy
  | CurrentVpcDns
  | CurrentBucket
  | CurrentPodIdentityAssociation
  | CurrentAddon;

/** One mutating AWS call. A plan is the list of these, so what it shows is exactly what a run does. */
export type Step =
  | {
      op: 'CreateRole';
      roleName: string;
      path: string;
      trust: PolicyDocument;
      description: string;
      boundary?: string;
      tags: Tags;
    }
  | { op: 'UpdateAssumeRolePolicy'; roleName: string; trust: PolicyDocument; before: PolicyDocument }
  | { op: 'PutRolePermissionsBoundary'; roleName: string; boundary: string; before?: string }
  /** The description of a role that existed before the tool: the tool's mark on adopting it, the old one back after. */
  | { op: 'UpdateRole'; roleName: string; description: string; before: string }
  | { op: 'AttachRolePolicy'; roleName: string; policyArn: string }
  | { op: 'TagRole'; roleName: string; tags: Tags }
  /** Removes tags of the tool's own records (one grown shorter, or all of them when destroy puts a role back). */
  | { op: 'UntagRole'; roleName: string; keys: string[] }
  | { op: 'CreateOpenIDConnectProvider'; url: string; clientIds: string[]; tags: Tags }
  | { op: 'AddClientIDToOpenIDConnectProvider'; arn: string; clientId: string }
  | { op: 'TagOpenIDConnectProvider'; arn: string; tags: Tags }
  | { op: 'CreatePolicy'; name: string; path: string; document: PolicyDocument; description: string; tags: Tags }
  | { op: 'DeletePolicyVersion'; policyArn: string; versionId: string }
  | { op: 'CreatePolicyVersion'; policyArn: string; document: PolicyDocument; before: PolicyDocument }
  | { op: 'TagPolicy'; policyArn: string; tags: Tags }
  | { op: 'UntagPolicy'; policyArn: string; keys: string[] }
  /** destroy: the default version a policy that existed before the tool had again. */
  | { op: 'SetDefaultPolicyVersion'; policyArn: string; versionId: string; before: string }
  /** One attribute per call, as the EC2 API requires; always turns it on. `region`: the VPC's (its cluster's). */
  | { op: 'ModifyVpcAttribute'; vpcId: string; region: string; attribute: VpcDnsAttribute }
  | {
      op: 'CreatePodIdentityAssociation';
      clusterName: string;
      /** The cluster's region, when it is not the run's. */
      region?: string;
      namespace: string;
      serviceAccount: string;
      roleArn: string;
      tags: Tags;
    }
  /** The association's role differs from the config's: point it at the config's. */
  | {
      op: 'UpdatePodIdentityAssociation';
      clusterName: string;
      region?: string;
      associationId: string;
      roleArn: string;
      before: string;
    }
  /** EKS TagResource on a pod identity association: this setup's tag on one it takes over or adopts, the config's tags. */
  | { op: 'TagResource'; clusterName: string; region?: string; arn: string; name: string; tags: Tags }
  | { op: 'CreateAddon'; clusterName: string; region?: string; addonName: string; tags: Tags }
  // Removal: what the tool made (destroy, --prune), and what it attached that the config no longer names.
  | { op: 'DetachRolePolicy'; roleName: string; policyArn: string }
  | { op: 'DeleteRole'; roleName: string }
  | { op: 'DeletePolicy'; policyArn: string }
  | { op: 'DeleteOpenIDConnectProvider'; arn: string }
  | { op: 'DeletePodIdentityAssociation'; clusterName: string; region?: string; associationId: string; name: string };

export type StepOp = Step['op'];

export interface Note {
  level: 'info' | 'warn';
  message: string;
  /** It says that part of the section could not be checked (verify says it beside a section that otherwise matches). */
  unchecked?: boolean;
}

export type ResourceAction = 'create' | 'update' | 'none';

/**
 * Something wrong that this run does not change, and how to fix it. Its severity is its code's in the findings
 * standard (src/policy/findings.ts), as in `verify`.
 */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  fix?: string;
}

export interface ResourcePlan {
  kind: DesiredResource['kind'];
  name: string;
  arn: string;
  action: ResourceAction;
  /** Carries the tool's managed-by tag (or will, once created). */
  owned: boolean;
  steps: Step[];
  notes: Note[];
  /** Why this change lets more in (trust broadened, wildcard, policy attached); empty when it does not. */
  security: string[];
  /** What is wrong and left as it is (a broad policy, `vpcDns: check`, the bucket); absent when nothing is. */
  findings?: Finding[];
  /** Why the config cannot be carried out for this resource (e.g. an existing role that is not there). */
  blocked?: string;
  desired: DesiredResource;
  /** What AWS held when the plan was made (absent: the resource did not exist, or the plan is offline). */
  current?: CurrentResource;
}

export type SectionStatus = 'create' | 'update' | 'unchanged' | 'waiting' | 'skipped' | 'blocked';

export interface SectionPlan {
  id: SectionId;
  title: string;
  status: SectionStatus;
  resources: ResourcePlan[];
  notes: Note[];
  /** Why the section cannot run yet, and what to do (status `waiting`). */
  waiting?: { reason: string; todo: string };
  /** Why the section is skipped, when it is not simply `<id>: false`. */
  skipReason?: string;
}

/**
 * A role of this setup that the config no longer names (a project, a section or an IRSA role removed): it still
 * grants what it holds to whoever its trust lets in. Listed by every plan and by verify; `--prune` removes it.
 * With `--prune`, an OIDC provider of this setup whose cluster the config no longer names (one dropped from a
 * list of clusters) is one too: its name is its issuer's host and path, `trustedBy` the roles that trust it.
 */
export interface Leftover {
  /**
   * role: a role of the setup's; oidc-provider: the setup's provider of a cluster the config no longer names;
   * pod-identity-association: the setup's association in a cluster the config no longer names (`name` is
   * `CLUSTER: NAMESPACE/SERVICE-ACCOUNT`).
   */
  kind: 'role' | 'oidc-provider' | 'pod-identity-association';
  name: string;
  arn: string;
  /**
   * Whom its trust lets in, as `Type principal` (a provider: the roles that trust it, as `role NAME`; an
   * association: its service account and cluster).
   */
  trustedBy: string[];
  /**
   * Its managed policies (ARNs) and inline policies (`inline NAME`, when they were read); an association: the ARN
   * of the role it hands out.
   */
  holds: string[];
  /**
   * listed: only shown (no --prune); remove: --prune removes it (`steps`); restore: --prune puts back a role this
   * setup adopted (`steps`), which stays; blocked: it must stay for now (`reason`).
   */
  action: 'listed' | 'remove' | 'restore' | 'blocked';
  /** It existed before the tool, and this setup adopted it: it is put back as it was, never deleted. */
  adopted?: true;
  steps: Step[];
  reason?: string;
}

/** How a leftover of each kind is named to the reader. */
export const LEFTOVER_KIND: Readonly<Record<Leftover['kind'], string>> = {
  role: 'role',
  'oidc-provider': 'OIDC provider',
  'pod-identity-association': 'pod identity association',
};

export interface Plan {
  facts: Facts;
  sections: SectionPlan[];
  /** The setup's roles the config no longer names (none offline, or when only some sections are planned). */
  leftovers?: Leftover[];
}

export function planSteps(plan: Plan): Step[] {
  return [
    ...plan.sections.flatMap((s) => s.resources.flatMap((r) => r.steps)),
    ...(plan.leftovers ?? []).flatMap((l) => l.steps),
  ];
}

/**
 * A printed plan's exit code: with --detailed-exitcode, whether AWS does not match the config yet (the plan has
 * changes, a section waits for the cluster, or something of the setup's that the config no longer names is left,
 * which `--prune` would take away and verify fails on).
 */
export function planExitCode(plan: Plan, detailedExitcode: boolean | undefined): number {
  const pending =
    planSteps(plan).length > 0 ||
    plan.sections.some((s) => s.status === 'waiting') ||
    (plan.leftovers ?? []).length > 0;
  return detailedExitcode && pending ? ExitCode.ChangesPending : ExitCode.Success;
}

export function planSecurity(plan: Plan): string[] {
  return plan.sections.flatMap((s) => s.resources.flatMap((r) => r.security.map((m) => `${r.name}: ${m}`)));
}
