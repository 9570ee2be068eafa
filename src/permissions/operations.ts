/**
 * Every AWS operation flyte-aws-setup calls, with the IAM actions AWS authorizes it as and what they touch. One
 * table for two uses: `flyte-aws-setup permissions` builds the operator's least-privilege policy from it, and the
 * preflight check asks IAM about the actions of a plan's steps. A unit test reads src/ and fails when the code
 * sends a command this table does not list.
 */
import type { Config } from '../config/schema.js';

/** What the policy is for: `apply` (the default run), `verify` (reads only), `destroy` (reads, detach, delete). */
export const PERMISSION_MODES = ['apply', 'verify', 'destroy'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** What an action is scoped to; the generator turns each into ARNs for the config. */
export type Scope =
  /** The roles the config creates and keeps in line. */
  | 'managedRoles'
  /** Roles that exist already and only get policies attached (Union's <prefix>-userflyterole). */
  | 'existingRoles'
  /**
   * Any role of the account: the roles of the setup the config no longer names are found among them (read), and
   * removed with `--prune` (only what carries the setup's tag).
   */
  | 'setupRoles'
  /** The config's customer-managed bucket policy (and the grants policies, which are made the same way). */
  | 'customPolicy'
  /** The grants policies (`grants:`), whose attachments a plan reads: the grants section attaches them. */
  | 'grantsPolicies'
  /**
   * The grants policies of the roles the config gives no grants: read, and removed by apply when they carry the
   * tool's managed-by tag.
   */
  | 'goneGrantsPolicies'
  /** The managed policies the config names (extra policies, the boundary, Union's userflyterole): looked up. */
  | 'referencedPolicies'
  /** The config's S3 bucket: looked up (it exists, and in which region). */
  | 'bucket'
  /** The bucket's SSE-KMS key: `bucketKmsKey`, else any key of the region (the plan reads which from the bucket). */
  | 'bucketKey'
  /**
   * Any managed policy, AWS's or the account's: the access check evaluates the documents of every policy attached
   * to the Flyte roles and of their boundary, which may have been attached by hand.
   */
  | 'anyPolicy'
  /** The OIDC provider the oidcProvider section makes. */
  | 'oidcProvider'
  /** The cluster's OIDC provider, read also when only the IRSA roles name it. */
  | 'providerRead'
  /** Any OIDC provider of the account: verify reads the ones the roles' trust names, destroy the tool's ones. */
  | 'anyProvider'
  /** The account's providers listed, for `--prune` of a dropped cluster's: only when the config makes providers. */
  | 'providerList'
  /** The EKS cluster. */
  | 'cluster'
  /** Any EKS cluster of the region: destroy, once the config's cluster is gone, looks for one its roles serve. */
  | 'anyCluster'
  /** The roles pods assume (backend, workers, project roles): handed to EKS Pod Identity. */
  | 'podRoles'
  /** The cluster's pod identity associations (identity: pod-identity or both). */
  | 'podIdentityAssociations'
  /**
   * Any EKS cluster of the account: one the config no longer names that the setup's roles still let Pod Identity in
   * from (their trust names it), whose associations are listed.
   */
  | 'droppedClusters'
  /**
   * Any pod identity association of the account: the setup's in a cluster the config no longer names, read, and
   * removed by `--prune` and destroy (only what carries the setup's tag).
   */
  | 'setupAssociations'
  /** The cluster's Pod Identity Agent add-on. */
  | 'podIdentityAddon'
  /** The cluster's node groups (destroy keeps a node role a node group runs with). */
  | 'nodegroups'
  /** The cluster's VPC, which `vpcDns: fix` changes. */
  | 'vpc'
  /** EC2 Describe* calls on the VPC, which take no resource-level permissions: `*`. */
  | 'vpcDescribe'
  /** eks:ListClusters, which takes no resource-level permissions (`*`): when the config needs a cluster. */
  | 'clusterLookup'
  /** iam:ListPolicies, which takes no resource-level permissions (`*`): when the config names policies. */
  | 'policyLookup'
  /** The caller itself (`${aws:PrincipalArn}`): the preflight simulates its own policies. */
  | 'self'
  /** Calls that take no resource-level permissions and no command here uses with a config. */
  | 'account'
  /** Needs no permission at all. */
  | 'none';

/**
 * Conditions that narrow an action further: `attachedPolicies` = only the policies the config attaches to those
 * roles (`iam:PolicyARN`); `boundary` = only with the config's permissions boundary (`iam:PermissionsBoundary`);
 * `ownedOnly` = only what carries the tool's `managed-by` tag (`aws:ResourceTag`, which roles, policies and OIDC providers all support), for deletes;
 * `setupOnly` = only what carries the config's setup in `flyte-aws-setup:setup` (`--prune`);
 * `passedToPodIdentity` = iam:PassRole only to EKS Pod Identity (`iam:PassedToService`).
 */
export type ConditionKind = 'attachedPolicies' | 'boundary' | 'ownedOnly' | 'setupOnly' | 'passedToPodIdentity';

export interface ScopeUse {
  scope: Scope;
  /** Only these of the operation's actions on this scope (default: all), e.g. iam:PassRole on the roles only. */
  actions?: string[];
  condition?: ConditionKind;
  /** Only for these modes (default: all of the operation's). */
  modes?: PermissionMode[];
}

export interface AwsOperation {
  service: 'iam' | 'eks' | 'ec2' | 'sts' | 's3' | 'kms';
  /** The SDK command's name without `Command`, e.g. `CreateRole`. */
  operation: string;
  /** The IAM actions AWS authorizes the call as: its own, and e.g. the tag action when it creates with tags. */
  actions: string[];
  on: ScopeUse[];
  modes: PermissionMode[];
  /** Only when the config asks for what the call does. */
  when?: (config: Config) => boolean;
  why: string;
}

const ALL: PermissionMode[] = ['apply', 'verify', 'destroy'];

/** The config has pod identity associations made (`identity: pod-identity` or `both`). */
const podIdentity = (config: Config): boolean => config.identity !== 'irsa';

export const AWS_OPERATIONS: readonly AwsOperation[] = [
  {
    service: 'sts',
    operation: 'GetCallerIdentity',
    actions: ['sts:GetCallerIdentity'],
    on: [{ scope: 'none' }],
    modes: ALL,
    why: 'who and which account and partition (needs no permission)',
  },
  {
    service: 'eks',
    operation: 'DescribeCluster',
    actions: ['eks:DescribeCluster'],
    on: [{ scope: 'cluster' }, { scope: 'anyCluster', modes: ['destroy'] }],
    modes: ALL,
    why: "the cluster's OIDC issuer and VPC (destroy, once it is gone: the issuers of the region's other clusters)",
  },
  {
    service: 'ec2',
    operation: 'DescribeSubnets',
    actions: ['ec2:DescribeSubnets'],
    on: [{ scope: 'vpcDescribe' }],
    modes: ['apply', 'verify'],
    why: "the cluster's VPC from its subnets, when DescribeCluster names none",
  },
  {
    service: 'ec2',
    operation: 'DescribeVpcAttribute',
    actions: ['ec2:DescribeVpcAttribute'],
    on: [{ scope: 'vpcDescribe' }],
    modes: ['apply', 'verify'],
    why: "reads the VPC's enableDnsSupport and enableDnsHostnames",
  },
  {
    service: 'ec2',
    operation: 'ModifyVpcAttribute',
    actions: ['ec2:ModifyVpcAttribute'],
    on: [{ scope: 'vpc' }],
    modes: ['apply'],
    why: 'vpcDns: fix turns DNS support and hostnames on',
  },
  {
    service: 'eks',
    operation: 'ListPodIdentityAssociations',
    actions: ['eks:ListPodIdentityAssociations'],
    on: [{ scope: 'cluster' }, { scope: 'droppedClusters' }],
    modes: ALL,
    // Also with identity: irsa: the associations a setup left from pod-identity or both are looked for (verify,
    // --prune, destroy, and the run that switches to IRSA).
    why:
      'finds the pod identity association of each namespace and service account, and those the config no longer ' +
      "wants (also in a cluster the config no longer names that the setup's roles still trust)",
  },
  {
    service: 'eks',
    operation: 'DescribePodIdentityAssociation',
    actions: ['eks:DescribePodIdentityAssociation'],
    on: [{ scope: 'podIdentityAssociations' }, { scope: 'setupAssociations' }],
    modes: ALL,
    why: "reads an association's role and tags (also in a cluster the config no longer names)",
  },
  {
    service: 'eks',
    operation: 'CreatePodIdentityAssociation',
    actions: ['eks:CreatePodIdentityAssociation', 'eks:TagResource', 'iam:PassRole'],
    on: [
      { scope: 'cluster', actions: ['eks:CreatePodIdentityAssociation', 'eks:TagResource'] },
      { scope: 'podRoles', actions: ['iam:PassRole'], condition: 'passedToPodIdentity' },
    ],
    modes: ['apply'],
    when: podIdentity,
    why: 'associates a namespace and service account with its role (passing the role to EKS), tagged',
  },
  {
    service: 'eks',
    operation: 'UpdatePodIdentityAssociation',
    actions: ['eks:UpdatePodIdentityAssociation', 'iam:PassRole'],
    on: [
      { scope: 'podIdentityAssociations', actions: ['eks:UpdatePodIdentityAssociation'] },
      { scope: 'podRoles', actions: ['iam:PassRole'], condition: 'passedToPodIdentity' },
    ],
    modes: ['apply'],
    when: podIdentity,
    why: "points an association that names another role at the config's",
  },
  {
    service: 'eks',
    operation: 'TagResource',
    actions: ['eks:TagResource'],
    on: [{ scope: 'podIdentityAssociations' }],
    modes: ['apply'],
    when: podIdentity,
    why: "tags an association with this setup's name when it takes one over (made before setups) or adopts one",
  },
  {
    service: 'eks',
    operation: 'DeletePodIdentityAssociation',
    actions: ['eks:DeletePodIdentityAssociation'],
    on: [
      { scope: 'podIdentityAssociations', condition: 'setupOnly' },
      { scope: 'setupAssociations', condition: 'setupOnly' },
    ],
    modes: ['apply', 'destroy'],
    why:
      "deletes the tool's own associations (apply: those the config no longer wants; --prune and destroy: the " +
      "setup's in a cluster the config no longer names)",
  },
  {
    service: 'eks',
    operation: 'DescribeAddon',
    actions: ['eks:DescribeAddon'],
    on: [{ scope: 'podIdentityAddon' }],
    modes: ['apply', 'verify'],
    when: podIdentity,
    why: 'is the Pod Identity Agent add-on installed?',
  },
  {
    service: 'eks',
    operation: 'CreateAddon',
    actions: ['eks:CreateAddon', 'eks:TagResource'],
    on: [{ scope: 'cluster' }],
    modes: ['apply'],
    when: podIdentity,
    why: 'installs the Pod Identity Agent add-on when it is missing',
  },
  {
    service: 'iam',
    operation: 'GetRole',
    actions: ['iam:GetRole'],
    on: [
      { scope: 'managedRoles' },
      { scope: 'existingRoles' },
      { scope: 'self', modes: ['apply'] },
      { scope: 'setupRoles' },
    ],
    modes: ALL,
    why:
      "reads a role's trust, boundary and tags (and the caller's own role ARN for the preflight; and the tags of a " +
      'role whose description says the tool made it but that the config does not name)',
  },
  {
    service: 'iam',
    operation: 'ListAttachedRolePolicies',
    actions: ['iam:ListAttachedRolePolicies'],
    on: [{ scope: 'managedRoles' }, { scope: 'existingRoles' }, { scope: 'setupRoles' }],
    modes: ALL,
    why: "reads a role's attached policies (also of the setup's roles the config no longer names)",
  },
  {
    service: 'iam',
    operation: 'CreateRole',
    // A role created with tags is also authorized as iam:TagRole.
    actions: ['iam:CreateRole', 'iam:TagRole'],
    on: [{ scope: 'managedRoles', condition: 'boundary' }],
    modes: ['apply'],
    why: 'creates a role, with its trust, tags and boundary',
  },
  {
    service: 'iam',
    operation: 'UpdateAssumeRolePolicy',
    actions: ['iam:UpdateAssumeRolePolicy'],
    on: [{ scope: 'managedRoles' }, { scope: 'setupRoles', condition: 'setupOnly', modes: ['apply', 'destroy'] }],
    modes: ['apply', 'destroy'],
    why:
      "brings a role's trust back in line (destroy and --prune: puts back the trust a role that existed before the " +
      'tool had)',
  },
  {
    service: 'iam',
    operation: 'UpdateRole',
    actions: ['iam:UpdateRole'],
    on: [{ scope: 'managedRoles' }, { scope: 'setupRoles', condition: 'setupOnly', modes: ['apply', 'destroy'] }],
    modes: ['apply', 'destroy'],
    why:
      "adds the tool's mark to the description of a role it adopts (one that existed before it), so that it is found " +
      'once the config no longer names it; destroy and --prune put the old description back',
  },
  {
    service: 'iam',
    operation: 'PutRolePermissionsBoundary',
    actions: ['iam:PutRolePermissionsBoundary'],
    on: [{ scope: 'managedRoles', condition: 'boundary' }],
    modes: ['apply'],
    when: (config) => config.permissionsBoundary !== undefined,
    why: "sets the config's permissions boundary on a role",
  },
  {
    service: 'iam',
    operation: 'AttachRolePolicy',
    actions: ['iam:AttachRolePolicy'],
    on: [
      { scope: 'managedRoles', condition: 'attachedPolicies' },
      { scope: 'existingRoles', condition: 'attachedPolicies' },
    ],
    modes: ['apply'],
    why: 'attaches the policies the config names, and only those',
  },
  {
    service: 'iam',
    operation: 'TagRole',
    actions: ['iam:TagRole'],
    on: [{ scope: 'managedRoles' }],
    modes: ['apply'],
    why: "adds the config's tags and the setup's to a role, and the tool's records (what it attached, the trust it replaced)",
  },
  {
    service: 'iam',
    operation: 'UntagRole',
    actions: ['iam:UntagRole'],
    on: [{ scope: 'managedRoles' }, { scope: 'setupRoles', condition: 'setupOnly', modes: ['apply', 'destroy'] }],
    modes: ['apply', 'destroy'],
    why:
      "removes a record's tags it no longer needs (destroy and --prune: all of them, from a role that existed before " +
      'the tool)',
  },
  {
    service: 'iam',
    operation: 'GetOpenIDConnectProvider',
    actions: ['iam:GetOpenIDConnectProvider'],
    on: [
      { scope: 'providerRead', modes: ['apply'] },
      // --prune (apply) reads the account's other providers, for the setup's of a cluster the config no longer names.
      { scope: 'anyProvider', modes: ['verify', 'destroy', 'apply'] },
    ],
    modes: ALL,
    why:
      "reads the cluster's OIDC provider (verify: also every provider a role's trust names; destroy, once the " +
      "cluster is gone: the tool's providers; --prune: the account's others, to find the setup's of a cluster the " +
      'config no longer names)',
  },
  {
    service: 'iam',
    operation: 'CreateOpenIDConnectProvider',
    actions: ['iam:CreateOpenIDConnectProvider', 'iam:TagOpenIDConnectProvider'],
    on: [{ scope: 'oidcProvider' }],
    modes: ['apply'],
    why: "registers the cluster's issuer, with tags",
  },
  {
    service: 'iam',
    operation: 'AddClientIDToOpenIDConnectProvider',
    actions: ['iam:AddClientIDToOpenIDConnectProvider'],
    on: [{ scope: 'oidcProvider' }],
    modes: ['apply'],
    why: 'adds the sts.amazonaws.com audience to a provider that lacks it',
  },
  {
    service: 'iam',
    operation: 'TagOpenIDConnectProvider',
    actions: ['iam:TagOpenIDConnectProvider'],
    on: [{ scope: 'oidcProvider' }],
    modes: ['apply'],
    why: 'adds the tags to a provider the tool made',
  },
  {
    service: 'iam',
    operation: 'GetPolicy',
    actions: ['iam:GetPolicy'],
    on: [
      { scope: 'customPolicy' },
      { scope: 'goneGrantsPolicies', modes: ['apply', 'verify'] },
      { scope: 'referencedPolicies', modes: ['apply', 'verify'] },
      { scope: 'anyPolicy', modes: ['apply', 'verify'] },
    ],
    modes: ALL,
    why:
      'reads the custom policy, looks up the policies the config names (extra policies, the boundary), and reads ' +
      'every policy attached to the Flyte roles and their boundary for the access check',
  },
  {
    service: 'iam',
    operation: 'GetPolicyVersion',
    actions: ['iam:GetPolicyVersion'],
    on: [
      { scope: 'customPolicy' },
      { scope: 'goneGrantsPolicies', modes: ['apply', 'verify'] },
      { scope: 'anyPolicy', modes: ['apply', 'verify'] },
    ],
    modes: ALL,
    why: "reads the custom policy's document, and for the access check the documents of the Flyte roles' policies",
  },
  {
    service: 'iam',
    operation: 'ListPolicyVersions',
    actions: ['iam:ListPolicyVersions'],
    on: [{ scope: 'customPolicy' }, { scope: 'goneGrantsPolicies', modes: ['apply', 'verify'] }],
    modes: ALL,
    why:
      'lists the versions when the document differs, to stay under the limit of five (and destroy, to delete ' +
      'them before the policy; apply, before a grants policy the config no longer gives)',
  },
  {
    service: 'iam',
    operation: 'CreatePolicy',
    actions: ['iam:CreatePolicy', 'iam:TagPolicy'],
    on: [{ scope: 'customPolicy' }],
    modes: ['apply'],
    why: 'creates the custom policy, with tags',
  },
  {
    service: 'iam',
    operation: 'CreatePolicyVersion',
    actions: ['iam:CreatePolicyVersion'],
    on: [{ scope: 'customPolicy' }],
    modes: ['apply'],
    why: "brings the custom policy's document back in line",
  },
  {
    service: 'iam',
    operation: 'DeletePolicyVersion',
    actions: ['iam:DeletePolicyVersion'],
    on: [
      { scope: 'customPolicy', modes: ['apply'] },
      { scope: 'customPolicy', condition: 'ownedOnly', modes: ['destroy'] },
      { scope: 'goneGrantsPolicies', condition: 'ownedOnly', modes: ['apply'] },
    ],
    modes: ['apply', 'destroy'],
    why: 'deletes the oldest non-default version when five exist (and all of them before the policy)',
  },
  {
    service: 'iam',
    operation: 'TagPolicy',
    actions: ['iam:TagPolicy'],
    on: [{ scope: 'customPolicy' }],
    modes: ['apply'],
    why: 'adds the tags to the policy the tool made (to one that existed before: the default version it had)',
  },
  {
    service: 'iam',
    operation: 'UntagPolicy',
    actions: ['iam:UntagPolicy'],
    on: [{ scope: 'customPolicy' }],
    modes: ['destroy'],
    why: "removes the tool's records from a policy that existed before it",
  },
  {
    service: 'iam',
    operation: 'SetDefaultPolicyVersion',
    actions: ['iam:SetDefaultPolicyVersion'],
    on: [{ scope: 'customPolicy' }],
    modes: ['destroy'],
    why: 'makes the default version a policy that existed before the tool had the default again',
  },
  {
    service: 'iam',
    operation: 'SimulatePrincipalPolicy',
    actions: ['iam:SimulatePrincipalPolicy'],
    on: [
      { scope: 'self', modes: ['apply'] },
      { scope: 'podRoles', modes: ['verify'] },
      { scope: 'existingRoles', modes: ['verify'] },
    ],
    modes: ['apply', 'verify'],
    why:
      "the preflight: evaluates the caller's own policies for the plan's changes; verify: IAM's second opinion on " +
      "what the Flyte roles' own policies allow (refused: the second opinion is listed as not made)",
  },
  {
    service: 'iam',
    operation: 'ListRoles',
    actions: ['iam:ListRoles'],
    on: [{ scope: 'account' }],
    modes: ['apply', 'verify', 'destroy'],
    why:
      "every plan, verify, destroy and the end of a wizard walk: find the setup's roles the config no longer names, " +
      "by the tool's description (one paged call); destroy: every role whose trust names the OIDC provider before " +
      'deleting it (and the wizard looks for <prefix>-userflyterole roles)',
  },
  {
    service: 'eks',
    operation: 'ListClusters',
    actions: ['eks:ListClusters'],
    on: [
      { scope: 'clusterLookup', modes: ['apply', 'verify'] },
      { scope: 'account', modes: ['destroy'] },
    ],
    modes: ALL,
    why:
      'a cluster the config names that is not found: is the name a typo of one the region has? destroy, once the ' +
      "config's cluster is gone: is a running cluster using what is left? (when refused, the OIDC provider is kept); " +
      "the wizard lists the region's clusters to pick from",
  },
  {
    service: 'iam',
    operation: 'ListPolicies',
    actions: ['iam:ListPolicies'],
    on: [{ scope: 'policyLookup' }],
    modes: ['apply', 'verify'],
    why: 'only when a policy the config names does not exist: the AWS managed policies, for a did-you-mean',
  },
  {
    service: 'iam',
    operation: 'GetRolePolicy',
    actions: ['iam:GetRolePolicy'],
    on: [{ scope: 'managedRoles' }, { scope: 'existingRoles' }],
    modes: ['apply', 'verify'],
    why:
      "reads an inline policy the tool did not write, to report one that grants '*' or 's3:*' on '*', and to " +
      "evaluate it in the access check (Union's role's too)",
  },
  {
    service: 's3',
    operation: 'GetBucketLocation',
    actions: ['s3:GetBucketLocation'],
    on: [{ scope: 'bucket' }],
    modes: ['apply', 'verify'],
    when: (config) => config.customPolicy !== false,
    why: 'looks the bucket up: that it exists, and in which region',
  },
  {
    service: 's3',
    operation: 'GetBucketEncryption',
    actions: ['s3:GetEncryptionConfiguration'],
    on: [{ scope: 'bucket' }],
    modes: ['apply', 'verify'],
    when: (config) => config.customPolicy !== false && config.bucketKmsKey === undefined,
    why: "reads the bucket's default encryption: with SSE-KMS under a customer managed key, the policy grants its use",
  },
  {
    service: 's3',
    operation: 'GetBucketPolicy',
    actions: ['s3:GetBucketPolicy'],
    on: [{ scope: 'bucket' }],
    modes: ['apply', 'verify'],
    why: "the access check (verify, and the end of an apply) evaluates the bucket's own policy with the roles' (refused: listed as not checked)",
  },
  {
    service: 'kms',
    operation: 'DescribeKey',
    actions: ['kms:DescribeKey'],
    on: [{ scope: 'bucketKey' }],
    modes: ['apply', 'verify'],
    when: (config) => config.customPolicy !== false && config.bucketKmsKey === undefined,
    why: "only when the bucket's default encryption names its key by an alias: the key behind it",
  },
  {
    service: 'kms',
    operation: 'GetKeyPolicy',
    actions: ['kms:GetKeyPolicy'],
    on: [{ scope: 'bucketKey' }],
    modes: ['apply', 'verify'],
    when: (config) => config.customPolicy !== false,
    why: 'only for a bucket encrypted with a customer managed key: checks that the key policy lets IAM policies grant its use',
  },
  // The destroy command: what it reads to know what may go, and what it removes.
  {
    service: 'eks',
    operation: 'ListNodegroups',
    actions: ['eks:ListNodegroups'],
    on: [{ scope: 'cluster' }],
    modes: ['apply', 'destroy'],
    why: 'finds the node groups, to keep a node role one of them runs with (destroy, and --prune)',
  },
  {
    service: 'eks',
    operation: 'DescribeNodegroup',
    actions: ['eks:DescribeNodegroup'],
    on: [{ scope: 'nodegroups' }],
    modes: ['apply', 'destroy'],
    why: 'reads the node role of each node group',
  },
  {
    service: 'iam',
    operation: 'ListRolePolicies',
    actions: ['iam:ListRolePolicies'],
    on: [
      { scope: 'managedRoles' },
      { scope: 'setupRoles', modes: ['apply', 'destroy'] },
      { scope: 'existingRoles', modes: ['apply', 'verify'] },
    ],
    modes: ALL,
    why:
      'finds inline policies the tool did not write: a plan shows them on a role that existed before, verify on ' +
      'every role, and IAM deletes a role only without them (destroy, --prune)',
  },
  {
    service: 'iam',
    operation: 'ListInstanceProfilesForRole',
    actions: ['iam:ListInstanceProfilesForRole'],
    on: [
      { scope: 'managedRoles', modes: ['destroy'] },
      { scope: 'setupRoles', modes: ['apply', 'destroy'] },
    ],
    modes: ['apply', 'destroy'],
    why: 'finds instance profiles that hold a role (IAM deletes a role only outside them; destroy, --prune)',
  },
  {
    service: 'iam',
    operation: 'ListOpenIDConnectProviders',
    actions: ['iam:ListOpenIDConnectProviders'],
    on: [
      { scope: 'providerList', modes: ['apply'] },
      { scope: 'account', modes: ['destroy'] },
    ],
    modes: ['apply', 'destroy'],
    why:
      "lists the account's providers, to name the tool's ones: destroy when the cluster is gone, --prune for the " +
      'provider of a cluster the config no longer names',
  },
  {
    service: 'iam',
    operation: 'DetachRolePolicy',
    actions: ['iam:DetachRolePolicy'],
    on: [
      { scope: 'managedRoles' },
      { scope: 'existingRoles', condition: 'attachedPolicies', modes: ['destroy'] },
      { scope: 'setupRoles', condition: 'setupOnly', modes: ['apply', 'destroy'] },
    ],
    modes: ['apply', 'destroy'],
    why:
      'detaches a policy the tool attached that the config no longer names (--prune and destroy: every policy of a role of ' +
      "the setup the config no longer names); destroy: policies from the tool's roles before deleting them, and " +
      'the custom policy from an existing role',
  },
  {
    service: 'iam',
    operation: 'DeleteRole',
    actions: ['iam:DeleteRole'],
    on: [
      { scope: 'managedRoles', condition: 'ownedOnly', modes: ['destroy'] },
      { scope: 'setupRoles', condition: 'setupOnly', modes: ['apply', 'destroy'] },
    ],
    modes: ['apply', 'destroy'],
    why: "deletes a role the tool made (--prune and destroy: also a role of the setup's that the config no longer names)",
  },
  {
    service: 'iam',
    operation: 'DeletePolicy',
    actions: ['iam:DeletePolicy'],
    on: [
      { scope: 'customPolicy', condition: 'ownedOnly', modes: ['destroy'] },
      { scope: 'goneGrantsPolicies', condition: 'ownedOnly', modes: ['apply'] },
    ],
    modes: ['apply', 'destroy'],
    why: "deletes the custom policy (destroy), and a grants policy of the tool's whose role the config gives no grants (apply)",
  },
  {
    service: 'iam',
    operation: 'ListEntitiesForPolicy',
    actions: ['iam:ListEntitiesForPolicy'],
    on: [
      { scope: 'customPolicy', modes: ['destroy'] },
      { scope: 'grantsPolicies', modes: ['apply', 'verify'] },
      { scope: 'goneGrantsPolicies', modes: ['apply', 'verify'] },
    ],
    modes: ALL,
    why: 'finds what the custom policy is still attached to (destroy); a plan, the roles a grants policy is attached to',
  },
  {
    service: 'iam',
    operation: 'DeleteOpenIDConnectProvider',
    actions: ['iam:DeleteOpenIDConnectProvider'],
    on: [
      { scope: 'oidcProvider', condition: 'ownedOnly', modes: ['destroy'] },
      { scope: 'anyProvider', condition: 'setupOnly', modes: ['apply'] },
    ],
    modes: ['apply', 'destroy'],
    why: "deletes the OIDC provider the tool made (--prune: also the setup's provider of a cluster the config no longer names)",
  },
];
