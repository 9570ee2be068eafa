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
  /** The config's customer-managed bucket policy. */
  | 'customPolicy'
  /** The managed policies the config names (extra policies, the boundary, Union's userflyterole): looked up. */
  | 'referencedPolicies'
  /** The config's S3 bucket: looked up (it exists, and in which region). */
  | 'bucket'
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
  /** The EKS cluster. */
  | 'cluster'
  /** Any EKS cluster of the region: destroy, once the config's cluster is gone, looks for one its roles serve. */
  | 'anyCluster'
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
 * `ownedOnly` = only what carries the tool's `managed-by` tag (`aws:ResourceTag`, which roles, policies and OIDC providers all support), for deletes.
 */
export type ConditionKind = 'attachedPolicies' | 'boundary' | 'ownedOnly';

export interface ScopeUse {
  scope: Scope;
  condition?: ConditionKind;
  /** Only for these modes (default: all of the operation's). */
  modes?: PermissionMode[];
}

export interface AwsOperation {
  service: 'iam' | 'eks' | 'ec2' | 'sts' | 's3';
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
    service: 'iam',
    operation: 'GetRole',
    actions: ['iam:GetRole'],
    on: [{ scope: 'managedRoles' }, { scope: 'existingRoles' }, { scope: 'self', modes: ['apply'] }],
    modes: ALL,
    why: "reads a role's trust, boundary and tags (and the caller's own role ARN for the preflight)",
  },
  {
    service: 'iam',
    operation: 'ListAttachedRolePolicies',
    actions: ['iam:ListAttachedRolePolicies'],
    on: [{ scope: 'managedRoles' }, { scope: 'existingRoles' }],
    modes: ALL,
    why: "reads a role's attached policies",
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
    on: [{ scope: 'managedRoles' }],
    modes: ['apply'],
    why: "brings a role's trust back in line",
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
    why: "adds the config's tags to a role the tool made",
  },
  {
    service: 'iam',
    operation: 'GetOpenIDConnectProvider',
    actions: ['iam:GetOpenIDConnectProvider'],
    on: [
      { scope: 'providerRead', modes: ['apply'] },
      { scope: 'anyProvider', modes: ['verify', 'destroy'] },
    ],
    modes: ALL,
    why:
      "reads the cluster's OIDC provider (verify: also every provider a role's trust names; destroy, once the " +
      "cluster is gone: the tool's providers)",
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
    on: [{ scope: 'customPolicy' }, { scope: 'anyPolicy', modes: ['apply', 'verify'] }],
    modes: ALL,
    why: "reads the custom policy's document, and for the access check the documents of the Flyte roles' policies",
  },
  {
    service: 'iam',
    operation: 'ListPolicyVersions',
    actions: ['iam:ListPolicyVersions'],
    on: [{ scope: 'customPolicy' }],
    modes: ALL,
    why:
      'lists the versions when the document differs, to stay under the limit of five (and destroy, to delete ' +
      'them before the policy)',
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
    why: 'adds the tags to the policy the tool made',
  },
  {
    service: 'iam',
    operation: 'SimulatePrincipalPolicy',
    actions: ['iam:SimulatePrincipalPolicy'],
    on: [{ scope: 'self' }],
    modes: ['apply'],
    why: "the preflight: evaluates the caller's own policies for the plan's changes",
  },
  {
    service: 'iam',
    operation: 'ListRoles',
    actions: ['iam:ListRoles'],
    on: [{ scope: 'account' }],
    modes: ['destroy'],
    why:
      'destroy: finds every role whose trust names the OIDC provider before deleting it (and the wizard looks ' +
      'for <prefix>-userflyterole roles)',
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
  // The destroy command: what it reads to know what may go, and what it removes.
  {
    service: 'eks',
    operation: 'ListNodegroups',
    actions: ['eks:ListNodegroups'],
    on: [{ scope: 'cluster' }],
    modes: ['destroy'],
    when: (c) => c.nodeRole !== false,
    why: 'finds the node groups, to keep a node role one of them runs with',
  },
  {
    service: 'eks',
    operation: 'DescribeNodegroup',
    actions: ['eks:DescribeNodegroup'],
    on: [{ scope: 'nodegroups' }],
    modes: ['destroy'],
    when: (c) => c.nodeRole !== false,
    why: 'reads the node role of each node group',
  },
  {
    service: 'iam',
    operation: 'ListRolePolicies',
    actions: ['iam:ListRolePolicies'],
    on: [{ scope: 'managedRoles' }, { scope: 'existingRoles', modes: ['apply', 'verify'] }],
    modes: ALL,
    why:
      'finds inline policies the tool did not write: a plan shows them on a role that existed before, verify on ' +
      'every role, and IAM deletes a role only without them',
  },
  {
    service: 'iam',
    operation: 'ListInstanceProfilesForRole',
    actions: ['iam:ListInstanceProfilesForRole'],
    on: [{ scope: 'managedRoles' }],
    modes: ['destroy'],
    why: 'finds instance profiles that hold a role (IAM deletes a role only outside them)',
  },
  {
    service: 'iam',
    operation: 'ListOpenIDConnectProviders',
    actions: ['iam:ListOpenIDConnectProviders'],
    on: [{ scope: 'account' }],
    modes: ['destroy'],
    why: "when the cluster is gone: lists the account's providers, to name the tool's ones",
  },
  {
    service: 'iam',
    operation: 'DetachRolePolicy',
    actions: ['iam:DetachRolePolicy'],
    on: [{ scope: 'managedRoles' }, { scope: 'existingRoles', condition: 'attachedPolicies' }],
    modes: ['destroy'],
    why: "detaches policies from the tool's roles before deleting them, and the custom policy from an existing role",
  },
  {
    service: 'iam',
    operation: 'DeleteRole',
    actions: ['iam:DeleteRole'],
    on: [{ scope: 'managedRoles', condition: 'ownedOnly' }],
    modes: ['destroy'],
    why: 'deletes a role the tool made',
  },
  {
    service: 'iam',
    operation: 'DeletePolicy',
    actions: ['iam:DeletePolicy'],
    on: [{ scope: 'customPolicy', condition: 'ownedOnly' }],
    modes: ['destroy'],
    why: 'deletes the custom policy',
  },
  {
    service: 'iam',
    operation: 'ListEntitiesForPolicy',
    actions: ['iam:ListEntitiesForPolicy'],
    on: [{ scope: 'customPolicy' }],
    modes: ['destroy'],
    why: 'finds what the custom policy is still attached to',
  },
  {
    service: 'iam',
    operation: 'DeleteOpenIDConnectProvider',
    actions: ['iam:DeleteOpenIDConnectProvider'],
    on: [{ scope: 'oidcProvider', condition: 'ownedOnly' }],
    modes: ['destroy'],
    why: 'deletes the OIDC provider the tool made',
  },
];
