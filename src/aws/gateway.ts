/**
 * The thin AWS layer: reads AWS into the engine's data, and performs a plan's steps, one SDK call each (STEP_CALLS).
 * No decisions are made here beyond what an answer means for the call itself (a removal of what is gone is done);
 * errors come out as AwsCallError naming the operation and the resource.
 */
import {
  CreateAddonCommand,
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribePodIdentityAssociationCommand,
  ListClustersCommand,
  ListNodegroupsCommand,
  ListPodIdentityAssociationsCommand,
  TagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListInstanceProfilesForRoleCommand,
  ListOpenIDConnectProvidersCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePermissionsBoundaryCommand,
  SetDefaultPolicyVersionCommand,
  SimulatePrincipalPolicyCommand,
  TagOpenIDConnectProviderCommand,
  TagPolicyCommand,
  TagRoleCommand,
  UntagPolicyCommand,
  UntagRoleCommand,
  UpdateRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Policy,
  type Role,
  type Tag,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  bucketWithKeyPolicy,
  type BucketEncryption,
  type CurrentAddon,
  type CurrentBucket,
  type CurrentOidcProvider,
  type CurrentPodIdentityAssociation,
  type CurrentPolicy,
  type CurrentRole,
  type CurrentVpcDns,
  type KeyPolicyAnswer,
  type PolicyVersion,
  type Step,
  type StepOp,
  type Tags,
  type VpcDnsAttribute,
} from '../model.js';
import { decodePolicyDocument } from '../policy/compare.js';
import { federatedPrincipals } from '../policy/irsa.js';
import type { PolicyDocument } from '../policy/document.js';
import type { AwsClients } from './clients.js';
import { isCode, originalMessage, toAwsError, type CallSite } from './errors.js';

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export interface ClusterInfo {
  name: string;
  status: string;
  issuerUrl?: string;
  arn?: string;
  vpcId?: string;
  subnetIds?: string[];
  /** The cluster role the cluster runs with. */
  roleArn?: string;
}

/** Where a managed policy is attached (ListEntitiesForPolicy). */
export interface PolicyAttachments {
  roles: string[];
  users: string[];
  groups: string[];
}

/** An AWS managed policy: its name and ARN (with its path). */
export interface ManagedPolicySummary {
  name: string;
  arn: string;
}

/** The region GetBucketLocation names: none for us-east-1, `EU` for the oldest buckets of eu-west-1. */
export function bucketRegion(locationConstraint: string | undefined | null): string {
  if (!locationConstraint) return 'us-east-1';
  return locationConstraint === 'EU' ? 'eu-west-1' : locationConstraint;
}

/** A role found by name, without its policies. */
export interface RoleSummary {
  name: string;
  arn: string;
  path: string;
}

/** A role as ListRoles gives it: its description, but not its tags. */
export interface RoleListing extends RoleSummary {
  description?: string;
}

/**
 * Condition key values the simulation should assume (e.g. `iam:PolicyARN` for AttachRolePolicy). The simulator
 * has no ARN type: ARN keys are given as strings.
 */
export interface SimulationContext {
  key: string;
  values: string[];
  /** The key's type (default `string`): `boolean` for keys such as `aws:SecureTransport`. */
  type?: 'string' | 'boolean';
}

export interface SimulationRequest {
  /** The user or role whose policies are evaluated (not an STS session ARN). */
  principalArn: string;
  actions: string[];
  resourceArns: string[];
  context?: SimulationContext[];
}

/** One action on one resource: `allowed`, `explicitDeny` or `implicitDeny`. */
export interface SimulationResult {
  action: string;
  resource: string;
  decision: string;
  /** Condition keys the policies use that the simulation was not given: the decision may then be wrong. */
  missingContext: string[];
}
function toTagList(tags: Tags): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromTagList(tags: Tag[] | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** A role as IAM describes it (GetRole's or CreateRole's answer), without its policies. */
function currentRole(role: Role, name: string): CurrentRole {
  return {
    kind: 'role',
    name: role.RoleName ?? name,
    arn: role.Arn ?? '',
    path: role.Path ?? '/',
    trust: decodePolicyDocument(role.AssumeRolePolicyDocument ?? '{}'),
    attached: [],
    ...(role.PermissionsBoundary?.PermissionsBoundaryArn
      ? { boundary: role.PermissionsBoundary.PermissionsBoundaryArn }
      : {}),
    tags: fromTagList(role.Tags),
    ...(role.Description !== undefined ? { description: role.Description } : {}),
  };
}

/** Whether CreateRole's answer describes all that its request set (else the role is read back with GetRole). */
function answerHolds(step: Extract<Step, { op: 'CreateRole' }>, role: Role): boolean {
  return (
    role.Arn !== undefined &&
    role.AssumeRolePolicyDocument !== undefined &&
    (Object.keys(step.tags).length === 0 || (role.Tags?.length ?? 0) > 0) &&
    (step.boundary === undefined || role.PermissionsBoundary?.PermissionsBoundaryArn !== undefined) &&
    (!step.description || role.Description !== undefined)
  );
}

function json(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

type StepOf<K extends StepOp> = Extract<Step, { op: K }>;

/** How one kind of step is performed: one SDK call. */
interface StepCall<S extends Step> {
  /** The service called: IAM unless said. */
  service?: 'ec2' | 'eks';
  /** What the call is about, for its errors. */
  resource(step: S): string;
  send(clients: AwsClients, step: S): Promise<unknown>;
  /**
   * The step removes something, so NoSuchEntity (it is gone already: a retry whose first answer was lost, another
   * run at the same time) is the outcome it was for, not an error. A create's EntityAlreadyExists is not: what
   * exists may differ from the step, so it is thrown for the engine to read again.
   */
  goneIsDone?: true;
}

/** Every kind of step and how it is performed: a new kind without an entry does not compile. */
/** The most a page of ListRoles may hold (IAM's default is 100): an account's unrelated roles cost few pages. */
const LIST_PAGE = 1000;

const STEP_CALLS: { [K in StepOp]: StepCall<StepOf<K>> } = {
  CreateRole: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) =>
      iam.send(
        new CreateRoleCommand({
          RoleName: s.roleName,
          Path: s.path,
          AssumeRolePolicyDocument: json(s.trust),
          Description: s.description,
          ...(s.boundary !== undefined ? { PermissionsBoundary: s.boundary } : {}),
          Tags: toTagList(s.tags),
        }),
      ),
  },
  UpdateAssumeRolePolicy: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) =>
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: s.roleName, PolicyDocument: json(s.trust) })),
  },
  PutRolePermissionsBoundary: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) =>
      iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: s.roleName, PermissionsBoundary: s.boundary })),
  },
  UpdateRole: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) => iam.send(new UpdateRoleCommand({ RoleName: s.roleName, Description: s.description })),
  },
  AttachRolePolicy: {
    resource: (s) => `role ${s.roleName} (${s.policyArn})`,
    send: ({ iam }, s) => iam.send(new AttachRolePolicyCommand({ RoleName: s.roleName, PolicyArn: s.policyArn })),
  },
  TagRole: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) => iam.send(new TagRoleCommand({ RoleName: s.roleName, Tags: toTagList(s.tags) })),
  },
  UntagRole: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) => iam.send(new UntagRoleCommand({ RoleName: s.roleName, TagKeys: s.keys })),
    goneIsDone: true,
  },
  CreateOpenIDConnectProvider: {
    resource: (s) => s.url,
    send: ({ iam }, s) =>
      iam.send(
        new CreateOpenIDConnectProviderCommand({ Url: s.url, ClientIDList: s.clientIds, Tags: toTagList(s.tags) }),
      ),
  },
  AddClientIDToOpenIDConnectProvider: {
    resource: (s) => s.arn,
    send: ({ iam }, s) =>
      iam.send(
        new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: s.arn, ClientID: s.clientId }),
      ),
  },
  TagOpenIDConnectProvider: {
    resource: (s) => s.arn,
    send: ({ iam }, s) =>
      iam.send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: s.arn, Tags: toTagList(s.tags) })),
  },
  CreatePolicy: {
    resource: (s) => `policy ${s.name}`,
    send: ({ iam }, s) =>
      iam.send(
        new CreatePolicyCommand({
          PolicyName: s.name,
          Path: s.path,
          PolicyDocument: json(s.document),
          Description: s.description,
          Tags: toTagList(s.tags),
        }),
      ),
  },
  DeletePolicyVersion: {
    resource: (s) => `${s.policyArn} ${s.versionId}`,
    send: ({ iam }, s) => iam.send(new DeletePolicyVersionCommand({ PolicyArn: s.policyArn, VersionId: s.versionId })),
    goneIsDone: true,
  },
  CreatePolicyVersion: {
    resource: (s) => s.policyArn,
    // Not idempotent: sent once; the engine decides about a retry after reading what happened.
    send: ({ iamOnce }, s) =>
      iamOnce.send(
        new CreatePolicyVersionCommand({
          PolicyArn: s.policyArn,
          PolicyDocument: json(s.document),
          SetAsDefault: true,
        }),
      ),
  },
  TagPolicy: {
    resource: (s) => s.policyArn,
    send: ({ iam }, s) => iam.send(new TagPolicyCommand({ PolicyArn: s.policyArn, Tags: toTagList(s.tags) })),
  },
  UntagPolicy: {
    resource: (s) => s.policyArn,
    send: ({ iam }, s) => iam.send(new UntagPolicyCommand({ PolicyArn: s.policyArn, TagKeys: s.keys })),
    goneIsDone: true,
  },
  SetDefaultPolicyVersion: {
    resource: (s) => `${s.policyArn} ${s.versionId}`,
    send: ({ iam }, s) =>
      iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: s.policyArn, VersionId: s.versionId })),
  },
  ModifyVpcAttribute: {
    service: 'ec2',
    resource: (s) => `${s.vpcId} ${s.attribute}`,
    send: async (clients, s) => {
      const [ec2, { ModifyVpcAttributeCommand }] = await Promise.all([clients.ec2(s.region), import('./ec2.js')]);
      return ec2.send(
        new ModifyVpcAttributeCommand({
          VpcId: s.vpcId,
          ...(s.attribute === 'enableDnsSupport'
            ? { EnableDnsSupport: { Value: true } }
            : { EnableDnsHostnames: { Value: true } }),
        }),
      );
    },
  },
  CreatePodIdentityAssociation: {
    service: 'eks',
    resource: (s) => `pod identity association ${s.namespace}/${s.serviceAccount} of cluster ${s.clusterName}`,
    send: (clients, s) =>
      clients.eksIn(s.region).send(
        new CreatePodIdentityAssociationCommand({
          clusterName: s.clusterName,
          namespace: s.namespace,
          serviceAccount: s.serviceAccount,
          roleArn: s.roleArn,
          tags: s.tags,
        }),
      ),
  },
  UpdatePodIdentityAssociation: {
    service: 'eks',
    resource: (s) => `pod identity association ${s.associationId} of cluster ${s.clusterName}`,
    send: (clients, s) =>
      clients.eksIn(s.region).send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: s.clusterName,
          associationId: s.associationId,
          roleArn: s.roleArn,
        }),
      ),
  },
  TagResource: {
    service: 'eks',
    resource: (s) => `pod identity association ${s.name} of cluster ${s.clusterName}`,
    send: (clients, s) => clients.eksIn(s.region).send(new TagResourceCommand({ resourceArn: s.arn, tags: s.tags })),
  },
  CreateAddon: {
    service: 'eks',
    resource: (s) => `add-on ${s.addonName} of cluster ${s.clusterName}`,
    send: (clients, s) =>
      clients
        .eksIn(s.region)
        .send(new CreateAddonCommand({ clusterName: s.clusterName, addonName: s.addonName, tags: s.tags })),
  },
  DeletePodIdentityAssociation: {
    service: 'eks',
    resource: (s) => `pod identity association ${s.name} (${s.associationId}) of cluster ${s.clusterName}`,
    send: (clients, s) =>
      clients
        .eksIn(s.region)
        .send(new DeletePodIdentityAssociationCommand({ clusterName: s.clusterName, associationId: s.associationId })),
    goneIsDone: true,
  },
  DetachRolePolicy: {
    resource: (s) => `role ${s.roleName} (${s.policyArn})`,
    send: ({ iam }, s) => iam.send(new DetachRolePolicyCommand({ RoleName: s.roleName, PolicyArn: s.policyArn })),
    goneIsDone: true,
  },
  DeleteRole: {
    resource: (s) => `role ${s.roleName}`,
    send: ({ iam }, s) => iam.send(new DeleteRoleCommand({ RoleName: s.roleName })),
    goneIsDone: true,
  },
  DeletePolicy: {
    resource: (s) => s.policyArn,
    send: ({ iam }, s) => iam.send(new DeletePolicyCommand({ PolicyArn: s.policyArn })),
    goneIsDone: true,
  },
  DeleteOpenIDConnectProvider: {
    resource: (s) => s.arn,
    send: ({ iam }, s) => iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: s.arn })),
    goneIsDone: true,
  },
};

/** The account and partition of the caller, for a bucket key named by its bare ID. */
export interface BucketOwner {
  accountId: string;
  partition: string;
}

/** The policy ARN and default version a CreatePolicy or CreatePolicyVersion answered with. */
function newDefaultVersion(step: Step, out: unknown): { arn: string; versionId: string } | undefined {
  if (step.op === 'CreatePolicy') {
    const p = (out as { Policy?: { Arn?: string; DefaultVersionId?: string } } | undefined)?.Policy;
    return p?.Arn !== undefined ? { arn: p.Arn, versionId: p.DefaultVersionId ?? 'v1' } : undefined;
  }
  if (step.op === 'CreatePolicyVersion') {
    const v = (out as { PolicyVersion?: { VersionId?: string } } | undefined)?.PolicyVersion;
    return v?.VersionId !== undefined ? { arn: step.policyArn, versionId: v.VersionId } : undefined;
  }
  return undefined;
}

/** A pod identity association in a cluster: its ID, namespace and service account (the list does not say its role). */
export interface AssociationSummary {
  associationId: string;
  namespace: string;
  serviceAccount: string;
}

/** Where an association is remembered: its cluster (and region), namespace and service account. */
function associationKey(cluster: string, namespace: string, serviceAccount: string, region?: string): string {
  return `${region ?? ''}/${cluster}/${namespace}/${serviceAccount}`;
}

/** A step's entry (the mapped type ties each kind to its entry; indexing by a union loses that tie). */
function stepCall<S extends Step>(step: S): StepCall<S> {
  return STEP_CALLS[step.op] as unknown as StepCall<S>;
}

export class AwsGateway {
  constructor(readonly clients: AwsClients) {}

  /**
   * The default version each policy got from this run's CreatePolicy or CreatePolicyVersion: its read-back asks for
   * that version's document beside GetPolicy instead of after it (one round trip, not two). GetPolicy still decides.
   */
  private readonly newVersions = new Map<string, string>();

  /**
   * The default version of each managed policy this run looked up (`policyExists`: the policies the config names,
   * but for those a role's attachments proved), so that its document is read in one call (`policyDocument`).
   */
  private readonly seenDefaults = new Map<string, string>();

  /**
   * The ID of each association this run's CreatePodIdentityAssociation made (by cluster, namespace and service
   * account): its read-back is one DescribePodIdentityAssociation by that ID, not a list then a describe.
   */
  private readonly newAssociations = new Map<string, string>();

  get region(): string {
    return this.clients.region;
  }

  /**
   * Each role this run's CreateRole made, as IAM's answer to it describes the role (its trust, tags, boundary and
   * description, as the request set them): the role's read-back is then its attachments alone
   * (ListAttachedRolePolicies, whose answer also shows that IAM serves the role), not GetRole beside them. Taken by
   * the first read that finds the role; kept while IAM does not serve it yet; forgotten before any other change to
   * the role, and once the role's apply ends (`forgetMade`). An answer that lacks what the request set is not kept:
   * that role is read back with GetRole.
   */
  private readonly newRoles = new Map<string, CurrentRole>();

  /**
   * Each policy this run's CreatePolicy made, as IAM's answer to it describes the policy (its name, path, tags and
   * default version): the read-back is then GetPolicyVersion of that version alone, whose answer says whether it is
   * still the default. Kept, and forgotten, as `newRoles` are.
   */
  private readonly newPolicies = new Map<string, { policy: Policy; versionId: string }>();

  /** What this run remembers of a role or a policy is forgotten before a step changes it (attachments aside). */
  private forget(step: Step): void {
    if (step.op === 'AttachRolePolicy' || step.op === 'DetachRolePolicy') return;
    if ('roleName' in step) this.newRoles.delete(step.roleName);
    if ('policyArn' in step) this.newPolicies.delete(step.policyArn);
    if (step.op === 'CreatePolicy') {
      for (const [arn, made] of this.newPolicies)
        if (made.policy.PolicyName === step.name) this.newPolicies.delete(arn);
    }
  }

  /**
   * Forget what CreateRole or CreatePolicy answered for a resource whose apply has ended (read back or not): a role
   * by its name, a policy by its ARN; nothing for any other kind.
   */
  forgetMade(resource: { kind: string; name: string; arn: string }): void {
    if (resource.kind === 'role') this.newRoles.delete(resource.name);
    else if (resource.kind === 'policy') this.newPolicies.delete(resource.arn);
  }

  private remember(step: Step, out: unknown): void {
    if (step.op === 'CreateRole') {
      const role = (out as { Role?: Role } | undefined)?.Role;
      try {
        if (role !== undefined && answerHolds(step, role)) {
          this.newRoles.set(step.roleName, currentRole(role, step.roleName));
        }
      } catch {
        // A trust in the answer that does not parse: the role is read back with GetRole, which says so.
      }
    }
    if (step.op === 'CreatePolicy') {
      const policy = (out as { Policy?: Policy } | undefined)?.Policy;
      // Tags asked for and not in the answer: read back with GetPolicy.
      const tagged = Object.keys(step.tags).length === 0 || (policy?.Tags?.length ?? 0) > 0;
      if (
        policy?.Arn !== undefined &&
        policy.PolicyName !== undefined &&
        policy.DefaultVersionId !== undefined &&
        tagged
      ) {
        this.newPolicies.set(policy.Arn, { policy, versionId: policy.DefaultVersionId });
      }
    }
    const made = newDefaultVersion(step, out);
    if (made !== undefined) this.newVersions.set(made.arn, made.versionId);
    if (step.op === 'CreatePodIdentityAssociation') {
      const id = (out as { association?: { associationId?: string } } | undefined)?.association?.associationId;
      const key = associationKey(step.clusterName, step.namespace, step.serviceAccount, step.region);
      if (id !== undefined) this.newAssociations.set(key, id);
    }
  }

  /** Send one command; failures become AwsCallError for `site`. */
  private async call<T>(site: CallSite, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw toAwsError(err, site, { region: this.clients.region, profile: this.clients.profile });
    }
  }

  /** Like call, but a NoSuchEntity / ResourceNotFound answer is `undefined`. */
  private async read<T>(site: CallSite, send: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(site, send);
    } catch (err) {
      if (isCode(err, 'NoSuchEntity', 'ResourceNotFoundException')) return undefined;
      throw err;
    }
  }

  /** Every page of an IAM list call, one call each (IAM pages with Marker and IsTruncated). */
  private async *iamPages<O extends { IsTruncated?: boolean; Marker?: string }>(
    site: CallSite,
    send: (marker: string | undefined) => Promise<O>,
  ): AsyncGenerator<O> {
    let marker: string | undefined;
    do {
      const out = await this.call(site, () => send(marker));
      yield out;
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker !== undefined);
  }

  /** Every page of an EKS list call, one call each (EKS pages with nextToken). */
  private async *eksPages<O extends { nextToken?: string }>(
    site: CallSite,
    send: (nextToken: string | undefined) => Promise<O>,
  ): AsyncGenerator<O> {
    let nextToken: string | undefined;
    do {
      const out = await this.call(site, () => send(nextToken));
      yield out;
      nextToken = out.nextToken;
    } while (nextToken !== undefined);
  }

  async callerIdentity(): Promise<CallerIdentity> {
    const out = await this.call({ service: 'sts', operation: 'GetCallerIdentity' }, () =>
      this.clients.sts.send(new GetCallerIdentityCommand({})),
    );
    return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
  }

  /** ` in <region>` for a region that is not the run's, for what a call is about. */
  private inOther(region: string | undefined): string {
    return region !== undefined && region !== this.region ? ` in ${region}` : '';
  }

  /** A cluster of the run's region, or of `region` (a cluster of the config in another region). */
  async describeCluster(name: string, region?: string): Promise<ClusterInfo | undefined> {
    const resource = `cluster ${name}${this.inOther(region)}`;
    const out = await this.read({ service: 'eks', operation: 'DescribeCluster', resource }, () =>
      this.clients.eksIn(region).send(new DescribeClusterCommand({ name })),
    );
    if (out?.cluster === undefined) return undefined;
    const c = out.cluster;
    return {
      name,
      status: c.status ?? 'UNKNOWN',
      ...(c.identity?.oidc?.issuer ? { issuerUrl: c.identity.oidc.issuer } : {}),
      ...(c.arn ? { arn: c.arn } : {}),
      ...(c.resourcesVpcConfig?.vpcId ? { vpcId: c.resourcesVpcConfig.vpcId } : {}),
      ...(c.resourcesVpcConfig?.subnetIds ? { subnetIds: c.resourcesVpcConfig.subnetIds } : {}),
      ...(c.roleArn ? { roleArn: c.roleArn } : {}),
    };
  }

  /**
   * The VPC of subnets (a cluster's, when DescribeCluster gives no VPC ID), in the run's region or in `region` (a
   * cluster of the config in another region).
   */
  async vpcOfSubnets(subnetIds: string[], region?: string): Promise<string | undefined> {
    if (subnetIds.length === 0) return undefined;
    const out = await this.call(
      {
        service: 'ec2',
        operation: 'DescribeSubnets',
        resource: `subnets ${subnetIds.join(', ')}${this.inOther(region)}`,
      },
      async () => {
        const [ec2, { DescribeSubnetsCommand }] = await Promise.all([this.clients.ec2(region), import('./ec2.js')]);
        return ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }));
      },
    );
    return out.Subnets?.find((s) => s.VpcId !== undefined)?.VpcId;
  }

  /**
   * The VPC's DNS attributes (two calls: the API reads one attribute at a time), in the run's region or in `region`;
   * undefined when it does not exist.
   */
  async readVpcDns(vpcId: string, region?: string): Promise<CurrentVpcDns | undefined> {
    const read = async (attribute: VpcDnsAttribute): Promise<boolean | undefined> => {
      try {
        const out = await this.call(
          {
            service: 'ec2',
            operation: 'DescribeVpcAttribute',
            resource: `${vpcId} ${attribute}${this.inOther(region)}`,
          },
          async () => {
            const [ec2, { DescribeVpcAttributeCommand }] = await Promise.all([
              this.clients.ec2(region),
              import('./ec2.js'),
            ]);
            return ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attribute }));
          },
        );
        const value = attribute === 'enableDnsSupport' ? out.EnableDnsSupport : out.EnableDnsHostnames;
        return value?.Value ?? false;
      } catch (err) {
        if (isCode(err, 'InvalidVpcID.NotFound')) return undefined;
        throw err;
      }
    };
    try {
      const [enableDnsSupport, enableDnsHostnames] = await Promise.all([
        read('enableDnsSupport'),
        read('enableDnsHostnames'),
      ]);
      if (enableDnsSupport === undefined || enableDnsHostnames === undefined) return undefined;
      return { kind: 'vpc-dns', vpcId, enableDnsSupport, enableDnsHostnames };
    } catch (err) {
      // Reading the VPC is a check: a refusal is reported with the plan instead of stopping it.
      if (!isCode(err, 'UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException')) throw err;
      return {
        kind: 'vpc-dns',
        vpcId,
        enableDnsSupport: false,
        enableDnsHostnames: false,
        unreadable: 'ec2:DescribeVpcAttribute is denied to the caller',
      };
    }
  }

  /**
   * Roles whose names end in `suffix` (the wizard looks for Union's `<prefix>-userflyterole`), every page of
   * ListRoles.
   */
  async rolesEndingWith(suffix: string): Promise<RoleSummary[]> {
    const found: RoleSummary[] = [];
    const site = { service: 'iam', operation: 'ListRoles', resource: `roles *${suffix}` } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListRolesCommand({ Marker, MaxItems: LIST_PAGE })),
    )) {
      for (const r of out.Roles ?? []) {
        if (r.RoleName?.endsWith(suffix) && r.Arn) found.push({ name: r.RoleName, arn: r.Arn, path: r.Path ?? '/' });
      }
    }
    return found;
  }

  /** Every role of the account, every page of ListRoles (it gives descriptions, not tags). */
  async listRoles(): Promise<RoleListing[]> {
    const found: RoleListing[] = [];
    const site = { service: 'iam', operation: 'ListRoles', resource: 'roles' } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListRolesCommand({ Marker, MaxItems: LIST_PAGE })),
    )) {
      for (const r of out.Roles ?? []) {
        if (!r.RoleName || !r.Arn) continue;
        found.push({
          name: r.RoleName,
          arn: r.Arn,
          path: r.Path ?? '/',
          ...(r.Description !== undefined ? { description: r.Description } : {}),
        });
      }
    }
    return found;
  }

  /** A role's ARN (with its path), or undefined when there is no such role. */
  async roleArn(name: string): Promise<string | undefined> {
    const out = await this.read({ service: 'iam', operation: 'GetRole', resource: `role ${name}` }, () =>
      this.clients.iam.send(new GetRoleCommand({ RoleName: name })),
    );
    return out?.Role?.Arn;
  }

  /**
   * Start loading the clients loaded on demand that the run will need, so that their code is loaded while other
   * calls are in flight instead of before their first call.
   */
  preload(services: readonly ('ec2' | 's3')[]): void {
    for (const service of services) void this.clients[service]().catch(() => undefined);
  }

  /** Evaluate `actions` on `resourceArns` against the principal's policies (iam:SimulatePrincipalPolicy), every page. */
  async simulatePrincipalPolicy(request: SimulationRequest): Promise<SimulationResult[]> {
    const results: SimulationResult[] = [];
    const site = { service: 'iam', operation: 'SimulatePrincipalPolicy', resource: request.principalArn } as const;
    const pages = this.iamPages(site, (marker) =>
      // Advisory: a check that cannot be made is said and skipped, so it is not worth retries before a run.
      this.clients.iamOnce.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: request.principalArn,
          ActionNames: request.actions,
          ResourceArns: request.resourceArns,
          ...(request.context && request.context.length > 0
            ? {
                ContextEntries: request.context.map((c) => ({
                  ContextKeyName: c.key,
                  ContextKeyType: c.type ?? ('string' as const),
                  ContextKeyValues: c.values,
                })),
              }
            : {}),
          Marker: marker,
        }),
      ),
    );
    for await (const out of pages) {
      for (const r of out.EvaluationResults ?? []) {
        const action = r.EvalActionName ?? '';
        const specific = r.ResourceSpecificResults ?? [];
        if (specific.length > 0) {
          for (const s of specific) {
            results.push({
              action,
              resource: s.EvalResourceName ?? '*',
              decision: s.EvalResourceDecision ?? 'implicitDeny',
              missingContext: s.MissingContextValues ?? r.MissingContextValues ?? [],
            });
          }
        } else {
          results.push({
            action,
            resource: r.EvalResourceName ?? '*',
            decision: r.EvalDecision ?? 'implicitDeny',
            missingContext: r.MissingContextValues ?? [],
          });
        }
      }
    }
    return results;
  }

  /** The node groups of a cluster and the node role each runs with. */
  async nodegroupRoles(cluster: string, region?: string): Promise<{ nodegroup: string; roleArn: string }[]> {
    const names: string[] = [];
    const site = { service: 'eks', operation: 'ListNodegroups', resource: `cluster ${cluster}` } as const;
    const pages = this.eksPages(site, (nextToken) =>
      this.clients.eksIn(region).send(new ListNodegroupsCommand({ clusterName: cluster, nextToken })),
    );
    for await (const out of pages) names.push(...(out.nodegroups ?? []));
    const found: { nodegroup: string; roleArn: string }[] = [];
    for (const nodegroup of names) {
      const out = await this.read(
        { service: 'eks', operation: 'DescribeNodegroup', resource: `node group ${nodegroup} of ${cluster}` },
        () =>
          this.clients
            .eksIn(region)
            .send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup })),
      );
      if (out?.nodegroup?.nodeRole) found.push({ nodegroup, roleArn: out.nodegroup.nodeRole });
    }
    return found;
  }

  /**
   * The pod identity associations of a cluster (ListPodIdentityAssociations, every page of up to 100), optionally of
   * one namespace and service account: their summaries (the list does not say the role). A cluster that does not
   * exist has none.
   */
  async podIdentityAssociations(
    cluster: string,
    filter: { namespace?: string; serviceAccount?: string } = {},
    region?: string,
  ): Promise<AssociationSummary[]> {
    const found: AssociationSummary[] = [];
    const where = filter.namespace !== undefined ? ` ${filter.namespace}/${filter.serviceAccount ?? '*'}` : '';
    const site = {
      service: 'eks',
      operation: 'ListPodIdentityAssociations',
      resource: `cluster ${cluster}${where}`,
    } as const;
    try {
      for await (const out of this.eksPages(site, (nextToken) =>
        this.clients
          .eksIn(region)
          .send(
            new ListPodIdentityAssociationsCommand({ clusterName: cluster, ...filter, maxResults: 100, nextToken }),
          ),
      )) {
        for (const a of out.associations ?? []) {
          if (a.associationId && a.namespace && a.serviceAccount)
            found.push({ associationId: a.associationId, namespace: a.namespace, serviceAccount: a.serviceAccount });
        }
      }
    } catch (err) {
      if (isCode(err, 'ResourceNotFoundException')) return [];
      throw err;
    }
    return found;
  }

  /** One pod identity association by ID (DescribePodIdentityAssociation); undefined when it is gone. */
  async describePodIdentityAssociation(
    cluster: string,
    associationId: string,
    region?: string,
  ): Promise<CurrentPodIdentityAssociation | undefined> {
    const out = await this.read(
      {
        service: 'eks',
        operation: 'DescribePodIdentityAssociation',
        resource: `pod identity association ${associationId} of cluster ${cluster}`,
      },
      () =>
        this.clients
          .eksIn(region)
          .send(new DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId })),
    );
    const a = out?.association;
    if (a === undefined) return undefined;
    return {
      kind: 'pod-identity-association',
      arn: a.associationArn ?? '',
      associationId: a.associationId ?? associationId,
      cluster: a.clusterName ?? cluster,
      namespace: a.namespace ?? '',
      serviceAccount: a.serviceAccount ?? '',
      roleArn: a.roleArn ?? '',
      tags: { ...(a.tags ?? {}) },
    };
  }

  /**
   * The association of a namespace and service account (there is at most one); undefined when there is none. One
   * this run made is described by the ID its creation answered with (one call); otherwise it is looked up in
   * `listing` (the cluster's associations, listed once for all the reads of the cluster) or by a list filtered to
   * it, then described (only the description says its role and tags).
   */
  async readPodIdentityAssociation(
    cluster: string,
    namespace: string,
    serviceAccount: string,
    region?: string,
    listing?: Promise<AssociationSummary[]>,
  ): Promise<CurrentPodIdentityAssociation | undefined> {
    const key = associationKey(cluster, namespace, serviceAccount, region);
    const made = this.newAssociations.get(key);
    if (made !== undefined) {
      const found = await this.describePodIdentityAssociation(cluster, made, region);
      if (found !== undefined && found.namespace === namespace && found.serviceAccount === serviceAccount) return found;
      // Gone since (deleted, perhaps made again by someone else): found by the list as any other.
      this.newAssociations.delete(key);
    }
    const summaries = await (made === undefined && listing !== undefined
      ? listing
      : this.podIdentityAssociations(cluster, { namespace, serviceAccount }, region));
    const summary = summaries.find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);
    return summary === undefined
      ? undefined
      : this.describePodIdentityAssociation(cluster, summary.associationId, region);
  }

  /** An add-on of the cluster (DescribeAddon); undefined when it is not installed. */
  async readAddon(cluster: string, name: string, region?: string): Promise<CurrentAddon | undefined> {
    const out = await this.read(
      { service: 'eks', operation: 'DescribeAddon', resource: `add-on ${name} of cluster ${cluster}` },
      () => this.clients.eksIn(region).send(new DescribeAddonCommand({ clusterName: cluster, addonName: name })),
    );
    const a = out?.addon;
    if (a === undefined) return undefined;
    return { kind: 'addon', name, arn: a.addonArn ?? '', status: a.status ?? 'UNKNOWN' };
  }

  /** The names of the EKS clusters in the region, every page. */
  async listClusters(): Promise<string[]> {
    const names: string[] = [];
    const site = { service: 'eks', operation: 'ListClusters', resource: `region ${this.region}` } as const;
    for await (const out of this.eksPages(site, (nextToken) =>
      this.clients.eks.send(new ListClustersCommand({ nextToken })),
    )) {
      names.push(...(out.clusters ?? []));
    }
    return names;
  }

  /**
   * A role and its attached policies (its inline policies are another read: `inlinePolicyNames`): GetRole and
   * ListAttachedRolePolicies at once, or with `attachedOnceFound` the list only once GetRole found the role. The
   * plan reads so: a role not made yet costs one call instead of two, and one that exists waits a round trip for
   * its list, which a plan's reads wait for anyway when the custom policy exists (its document is read after it).
   * A read-back, of a role just written, asks both at once.
   */
  async readRole(name: string, options: { attachedOnceFound?: boolean } = {}): Promise<CurrentRole | undefined> {
    const attachedOrNone = () =>
      this.attachedPolicies(name).catch((err: unknown) => {
        if (isCode(err, 'NoSuchEntity')) return undefined;
        throw err;
      });
    const made = this.newRoles.get(name);
    if (made !== undefined) {
      const attached = await attachedOrNone();
      // Not served yet (IAM is eventually consistent): missing for now, and the answer kept for the next read.
      if (attached === undefined) return undefined;
      this.newRoles.delete(name);
      return { ...made, attached };
    }
    if (options.attachedOnceFound) {
      const role = await this.getRole(name);
      return role === undefined ? undefined : { ...role, attached: (await attachedOrNone()) ?? [] };
    }
    const [role, attached] = await Promise.all([this.getRole(name), attachedOrNone()]);
    return role === undefined ? undefined : { ...role, attached: attached ?? [] };
  }

  /** A role (trust, tags, boundary) without its policies: one GetRole. `attached` is empty. */
  async getRole(name: string): Promise<CurrentRole | undefined> {
    const site = { service: 'iam', operation: 'GetRole', resource: `role ${name}` } as const;
    const got = await this.read(site, () => this.clients.iam.send(new GetRoleCommand({ RoleName: name })));
    return got?.Role === undefined ? undefined : currentRole(got.Role, name);
  }

  async attachedPolicies(roleName: string): Promise<string[]> {
    const arns: string[] = [];
    const site = { service: 'iam', operation: 'ListAttachedRolePolicies', resource: `role ${roleName}` } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker })),
    )) {
      for (const p of out.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
    }
    return arns;
  }

  async readOidcProvider(arn: string): Promise<CurrentOidcProvider | undefined> {
    const out = await this.read({ service: 'iam', operation: 'GetOpenIDConnectProvider', resource: arn }, () =>
      this.clients.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
    );
    if (out === undefined) return undefined;
    return {
      kind: 'oidc-provider',
      arn,
      url: out.Url ?? '',
      clientIds: out.ClientIDList ?? [],
      tags: fromTagList(out.Tags),
    };
  }

  /**
   * The policy and its default version's document. When `needVersions(document)` says so (the document is to
   * change), the version list is read too: the planner needs it to stay under the 5-version limit.
   */
  async readPolicy(
    arn: string,
    needVersions: (doc: PolicyDocument) => boolean,
    again = false,
  ): Promise<CurrentPolicy | undefined> {
    const versionOf = (versionId: string) =>
      this.call({ service: 'iam', operation: 'GetPolicyVersion', resource: `${arn} ${versionId}` }, () =>
        this.clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })),
      );
    const made = this.newPolicies.get(arn);
    if (made !== undefined) {
      let answer;
      try {
        answer = await versionOf(made.versionId);
      } catch (err) {
        // Not served yet (IAM is eventually consistent): missing for now, and the answer kept for the next read.
        if (isCode(err, 'NoSuchEntity')) return undefined;
      }
      this.newPolicies.delete(arn);
      // Its version still the default: the policy is as made. Else (changed, or the read failed): read it whole.
      const version = answer?.PolicyVersion;
      if (version?.IsDefaultVersion === true && version.Document !== undefined) {
        return this.currentPolicy(arn, made.policy, made.versionId, version.Document, needVersions);
      }
    }
    // A version this run made is asked for beside GetPolicy; GetPolicy says whether it is still the default.
    const expected = this.newVersions.get(arn);
    const early = expected !== undefined ? versionOf(expected) : undefined;
    early?.catch(() => undefined);
    const got = await this.read({ service: 'iam', operation: 'GetPolicy', resource: arn }, () =>
      this.clients.iam.send(new GetPolicyCommand({ PolicyArn: arn })),
    );
    const policy = got?.Policy;
    if (policy === undefined) return undefined;
    const versionId = policy.DefaultVersionId ?? 'v1';
    let version;
    try {
      version =
        early !== undefined && versionId === expected
          ? await early.catch(() => versionOf(versionId))
          : await versionOf(versionId);
    } catch (err) {
      // Deleted between the two reads (another run's destroy), or its default changed: read it again, once.
      if (again || !isCode(err, 'NoSuchEntity')) throw err;
      return this.readPolicy(arn, needVersions, true);
    }
    return this.currentPolicy(arn, policy, versionId, version.PolicyVersion?.Document ?? '{}', needVersions);
  }

  /** A policy as IAM describes it (GetPolicy's or CreatePolicy's answer), with its default version's document. */
  private async currentPolicy(
    arn: string,
    policy: Policy,
    versionId: string,
    rawDocument: string,
    needVersions: (doc: PolicyDocument) => boolean,
  ): Promise<CurrentPolicy> {
    const document = decodePolicyDocument(rawDocument);
    return {
      kind: 'policy',
      arn,
      name: policy.PolicyName ?? '',
      path: policy.Path ?? '/',
      defaultVersionId: versionId,
      document,
      tags: fromTagList(policy.Tags),
      ...(needVersions(document) ? { versions: await this.policyVersions(arn) } : {}),
    };
  }

  /**
   * A managed policy's document as it is now (undefined: no such policy). Where this run looked the policy up
   * (`policyExists`), one GetPolicyVersion of the default version it saw, whose answer says whether that is still
   * the default; else, or when it is no longer, GetPolicy then its default version (`readPolicy`).
   */
  async policyDocument(arn: string): Promise<PolicyDocument | undefined> {
    const seen = this.seenDefaults.get(arn);
    if (seen !== undefined) {
      const out = await this.read({ service: 'iam', operation: 'GetPolicyVersion', resource: `${arn} ${seen}` }, () =>
        this.clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: seen })),
      );
      const version = out?.PolicyVersion;
      if (version?.IsDefaultVersion === true && version.Document !== undefined) {
        return decodePolicyDocument(version.Document);
      }
    }
    return (await this.readPolicy(arn, () => false))?.document;
  }

  async policyVersions(arn: string): Promise<PolicyVersion[]> {
    const versions: PolicyVersion[] = [];
    const site = { service: 'iam', operation: 'ListPolicyVersions', resource: arn } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn, Marker })),
    )) {
      for (const v of out.Versions ?? []) {
        versions.push({
          id: v.VersionId ?? '',
          isDefault: v.IsDefaultVersion ?? false,
          ...(v.CreateDate ? { created: v.CreateDate.toISOString() } : {}),
        });
      }
    }
    return versions;
  }

  /** A customer-managed policy of this name at any path (names are unique per account, paths are not). */
  async findLocalPolicy(name: string): Promise<{ arn: string; path: string } | undefined> {
    const site = { service: 'iam', operation: 'ListPolicies', resource: `policy ${name}` } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListPoliciesCommand({ Scope: 'Local', Marker })),
    )) {
      const found = out.Policies?.find((p) => p.PolicyName === name);
      if (found?.Arn) return { arn: found.Arn, path: found.Path ?? '/' };
    }
    return undefined;
  }

  /** The roles, users and groups a managed policy is attached to. */
  async policyAttachments(arn: string): Promise<PolicyAttachments> {
    const found: PolicyAttachments = { roles: [], users: [], groups: [] };
    const site = { service: 'iam', operation: 'ListEntitiesForPolicy', resource: arn } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn, Marker })),
    )) {
      for (const r of out.PolicyRoles ?? []) if (r.RoleName) found.roles.push(r.RoleName);
      for (const u of out.PolicyUsers ?? []) if (u.UserName) found.users.push(u.UserName);
      for (const g of out.PolicyGroups ?? []) if (g.GroupName) found.groups.push(g.GroupName);
    }
    return found;
  }

  /** Whether a managed policy exists (iam:GetPolicy); undefined when the caller may not read it. */
  async policyExists(arn: string): Promise<boolean | undefined> {
    try {
      const out = await this.read({ service: 'iam', operation: 'GetPolicy', resource: arn }, () =>
        this.clients.iam.send(new GetPolicyCommand({ PolicyArn: arn })),
      );
      if (out?.Policy?.DefaultVersionId !== undefined) this.seenDefaults.set(arn, out.Policy.DefaultVersionId);
      return out?.Policy !== undefined;
    } catch (err) {
      if (isCode(err, 'AccessDenied', 'AccessDeniedException')) return undefined;
      throw err;
    }
  }

  /** Whether a role exists (iam:GetRole); undefined when the caller may not read it. */
  async roleExists(name: string): Promise<boolean | undefined> {
    try {
      return (await this.roleArn(name)) !== undefined;
    } catch (err) {
      if (isCode(err, 'AccessDenied', 'AccessDeniedException')) return undefined;
      throw err;
    }
  }

  /** Every AWS managed policy of the partition (ListPolicies, Scope AWS, a thousand a page). */
  async awsManagedPolicies(): Promise<ManagedPolicySummary[]> {
    const found: ManagedPolicySummary[] = [];
    const site = { service: 'iam', operation: 'ListPolicies', resource: 'AWS managed policies' } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListPoliciesCommand({ Scope: 'AWS', MaxItems: 1000, Marker })),
    )) {
      for (const p of out.Policies ?? []) if (p.PolicyName && p.Arn) found.push({ name: p.PolicyName, arn: p.Arn });
    }
    return found;
  }

  /**
   * The bucket and its region (s3:GetBucketLocation); undefined when it does not exist. A refusal (the caller may
   * not read it, or it is another account's) is kept on it as `unreadable`: the look-up is a check, not a step.
   * With `kmsKey` (its SSE-KMS key, of this account), the key's policy is read beside it (kms:GetKeyPolicy).
   */
  async readBucket(name: string, kmsKey?: string): Promise<CurrentBucket | undefined> {
    const [bucket, key] = await Promise.all([
      this.bucketLocation(name),
      kmsKey !== undefined ? this.keyPolicy(kmsKey) : undefined,
    ]);
    if (bucket === undefined || key === undefined) return bucket;
    return bucketWithKeyPolicy(bucket, key);
  }

  private async bucketLocation(name: string): Promise<CurrentBucket | undefined> {
    const site = { service: 's3', operation: 'GetBucketLocation', resource: `bucket ${name}` } as const;
    try {
      const out = await this.call(site, async () => {
        const [s3, { GetBucketLocationCommand }] = await Promise.all([this.clients.s3(), import('./s3.js')]);
        return s3.send(new GetBucketLocationCommand({ Bucket: name }));
      });
      return { kind: 'bucket', name, region: bucketRegion(out.LocationConstraint) };
    } catch (err) {
      if (isCode(err, 'NoSuchBucket')) return undefined;
      // Asked of another region's endpoint, S3 may redirect, naming the bucket's region in a header.
      const cause = (err as { cause?: unknown }).cause as { $response?: { headers?: Record<string, string> } };
      const redirected = cause?.$response?.headers?.['x-amz-bucket-region'];
      if (redirected) return { kind: 'bucket', name, region: redirected };
      if (isCode(err, 'AccessDenied', 'AllAccessDisabled', '403', 'Forbidden')) {
        return { kind: 'bucket', name, unreadable: 's3:GetBucketLocation is denied to the caller' };
      }
      throw err;
    }
  }

  /**
   * The bucket's default encryption (s3:GetBucketEncryption): SSE-KMS under a customer managed key gives the key's
   * ARN (an alias is resolved with kms:DescribeKey, a bare key ID made an ARN in the run's region and account).
   * Whatever cannot be read or told is `unknown`, with why: the read is a check, not a step.
   */
  async bucketEncryption(name: string, owner: BucketOwner | PromiseLike<BucketOwner>): Promise<BucketEncryption> {
    const site = { service: 's3', operation: 'GetBucketEncryption', resource: `bucket ${name}` } as const;
    let rule;
    try {
      const out = await this.call(site, async () => {
        const [s3, { GetBucketEncryptionCommand }] = await Promise.all([this.clients.s3(), import('./s3.js')]);
        return s3.send(new GetBucketEncryptionCommand({ Bucket: name }));
      });
      rule = out?.ServerSideEncryptionConfiguration?.Rules?.find(
        (r) => r.ApplyServerSideEncryptionByDefault !== undefined,
      )?.ApplyServerSideEncryptionByDefault;
    } catch (err) {
      if (isCode(err, 'ServerSideEncryptionConfigurationNotFoundError', 'NoSuchBucket')) return { kind: 's3' };
      const reason = this.bucketUnreadable(err, 's3:GetBucketEncryption is denied to the caller');
      if (reason !== undefined) return { kind: 'unknown', reason };
      throw err;
    }
    const algorithm = rule?.SSEAlgorithm;
    if (algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') return { kind: 's3' };
    const key = rule?.KMSMasterKeyID;
    // No key named: the AWS managed key aws/s3, whose key policy lets the account use it through S3.
    if (key === undefined || key === '' || /(^|:)alias\/aws\/s3$/.test(key)) return { kind: 's3' };
    if (/^arn:[a-z-]+:kms:[^:]+:\d{12}:key\//.test(key)) return { kind: 'kms', keyArn: key };
    if (!key.startsWith('arn:') && !key.startsWith('alias/')) {
      const { accountId, partition } = await owner;
      return { kind: 'kms', keyArn: `arn:${partition}:kms:${this.clients.region}:${accountId}:key/${key}` };
    }
    // An alias: the key behind it.
    const keySite = { service: 'kms', operation: 'DescribeKey', resource: `key ${key}` } as const;
    try {
      const out = await this.call(keySite, async () => {
        const [kms, { DescribeKeyCommand }] = await Promise.all([this.clients.kms(), import('./kms.js')]);
        return kms.send(new DescribeKeyCommand({ KeyId: key }));
      });
      const meta = out.KeyMetadata;
      if (meta?.KeyManager === 'AWS') return { kind: 's3' };
      if (meta?.Arn !== undefined) return { kind: 'kms', keyArn: meta.Arn };
      return { kind: 'unknown', reason: `the bucket's key ${key} could not be resolved` };
    } catch (err) {
      if (isCode(err, 'AccessDeniedException', 'AccessDenied', 'NotFoundException')) {
        return {
          kind: 'unknown',
          reason: `the bucket's key is the alias ${key}, which could not be resolved (${originalMessage(err)})`,
        };
      }
      throw err;
    }
  }

  /**
   * The bucket's own policy (s3:GetBucketPolicy), asked with the run's account as the expected owner: S3 refuses
   * the call for another account's bucket. `none`: it has no policy. Not read: why (refused, another account's
   * bucket, another region's endpoint, gone).
   */
  async bucketPolicy(
    name: string,
    accountId: string,
  ): Promise<{ policy: PolicyDocument } | { none: true } | { reason: string }> {
    const site = { service: 's3', operation: 'GetBucketPolicy', resource: `bucket ${name}` } as const;
    try {
      const out = await this.call(site, async () => {
        const [s3, { GetBucketPolicyCommand }] = await Promise.all([this.clients.s3(), import('./s3.js')]);
        return s3.send(new GetBucketPolicyCommand({ Bucket: name, ExpectedBucketOwner: accountId }));
      });
      if (out?.Policy === undefined || out.Policy === '') return { none: true };
      return { policy: decodePolicyDocument(out.Policy) };
    } catch (err) {
      if (isCode(err, 'NoSuchBucketPolicy')) return { none: true };
      if (isCode(err, 'NoSuchBucket')) return { reason: 'the bucket does not exist' };
      const reason = this.bucketUnreadable(
        err,
        `s3:GetBucketPolicy is denied to the caller, or the bucket is not the account ${accountId}'s`,
      );
      if (reason !== undefined) return { reason };
      throw err;
    }
  }

  /**
   * Why a read of the bucket's settings could not be made, for a check to report instead of failing: refused
   * (`denied` says by what), or asked of the run's region for another region's bucket (S3 redirects); undefined for
   * any other error.
   */
  private bucketUnreadable(err: unknown, denied: string): string | undefined {
    if (isCode(err, 'AccessDenied', 'AllAccessDisabled', '403', 'Forbidden')) return denied;
    if (isCode(err, 'PermanentRedirect', '301', 'AuthorizationHeaderMalformed')) {
      return `the bucket is not in ${this.clients.region}`;
    }
    return undefined;
  }

  /** A KMS key's policy (kms:GetKeyPolicy, in the key's region). Not read: why (denied, or gone). */
  async keyPolicy(keyArn: string): Promise<KeyPolicyAnswer> {
    const region = keyArn.split(':')[3];
    const site = { service: 'kms', operation: 'GetKeyPolicy', resource: `key ${keyArn}` } as const;
    try {
      const out = await this.call(site, async () => {
        const [kms, { GetKeyPolicyCommand }] = await Promise.all([this.clients.kms(region), import('./kms.js')]);
        return kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }));
      });
      if (out.Policy === undefined) return { reason: 'KMS returned no key policy' };
      return { policy: decodePolicyDocument(out.Policy) };
    } catch (err) {
      if (isCode(err, 'NotFoundException')) return { reason: 'the key does not exist', missing: true };
      if (isCode(err, 'AccessDeniedException', 'AccessDenied')) {
        return { reason: 'kms:GetKeyPolicy is denied to the caller' };
      }
      throw err;
    }
  }

  /** An inline policy's document (iam:GetRolePolicy); undefined when it is gone. */
  async inlinePolicyDocument(roleName: string, policyName: string): Promise<PolicyDocument | undefined> {
    const out = await this.read(
      { service: 'iam', operation: 'GetRolePolicy', resource: `role ${roleName} (inline ${policyName})` },
      () => this.clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    );
    return out?.PolicyDocument !== undefined ? decodePolicyDocument(out.PolicyDocument) : undefined;
  }

  /** Names of a role's inline policies. */
  async inlinePolicyNames(roleName: string): Promise<string[]> {
    const names: string[] = [];
    const site = { service: 'iam', operation: 'ListRolePolicies', resource: `role ${roleName}` } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker })),
    )) {
      names.push(...(out.PolicyNames ?? []));
    }
    return names;
  }

  /** Names of the instance profiles a role is in (self-managed nodes use them). */
  async instanceProfileNames(roleName: string): Promise<string[]> {
    const names: string[] = [];
    const site = { service: 'iam', operation: 'ListInstanceProfilesForRole', resource: `role ${roleName}` } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker })),
    )) {
      for (const p of out.InstanceProfiles ?? []) if (p.InstanceProfileName) names.push(p.InstanceProfileName);
    }
    return names;
  }

  /** The ARNs of every IAM OIDC provider of the account. */
  async oidcProviderArns(): Promise<string[]> {
    const out = await this.call({ service: 'iam', operation: 'ListOpenIDConnectProviders' }, () =>
      this.clients.iam.send(new ListOpenIDConnectProvidersCommand({})),
    );
    return (out.OpenIDConnectProviderList ?? []).flatMap((p) => (p.Arn ? [p.Arn] : []));
  }

  /** Every role of the account whose trust policy names `federated` (an OIDC provider ARN) as a principal. */
  async rolesTrusting(federated: string): Promise<string[]> {
    const names: string[] = [];
    const site = { service: 'iam', operation: 'ListRoles' } as const;
    for await (const out of this.iamPages(site, (Marker) =>
      this.clients.iam.send(new ListRolesCommand({ Marker, MaxItems: LIST_PAGE })),
    )) {
      for (const role of out.Roles ?? []) {
        if (!role.RoleName || !role.AssumeRolePolicyDocument) continue;
        if (federatedPrincipals(decodePolicyDocument(role.AssumeRolePolicyDocument)).includes(federated)) {
          names.push(role.RoleName);
        }
      }
    }
    return names;
  }

  /**
   * Perform one step of a plan: its entry in STEP_CALLS. A removal of what is gone already is done (NoSuchEntity is
   * its intended outcome); every other failure is thrown as AwsCallError.
   */
  async execute(step: Step): Promise<void> {
    const call = stepCall(step);
    const site: CallSite = { service: call.service ?? 'iam', operation: step.op, resource: call.resource(step) };
    this.forget(step);
    try {
      const out = await this.call(site, () => call.send(this.clients, step));
      this.remember(step, out);
    } catch (err) {
      if (call.goneIsDone && isCode(err, 'NoSuchEntity', 'ResourceNotFoundException')) return;
      throw err;
    }
  }
}
