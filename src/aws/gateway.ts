/**
 * The thin AWS layer: reads AWS into the engine's data, and performs a plan's steps, one SDK call each.
 * No decisions are made here; errors come out as AwsCallError naming the operation and the resource.
 */
import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  PutRolePermissionsBoundaryCommand,
  TagOpenIDConnectProviderCommand,
  TagPolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Tag,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { CurrentOidcProvider, CurrentPolicy, CurrentRole, PolicyVersion, Step, Tags } from '../engine/model.js';
import { decodePolicyDocument } from '../policy/compare.js';
import type { PolicyDocument } from '../policy/document.js';
import type { AwsClients } from './clients.js';
import { isCode, toAwsError, type CallSite } from './errors.js';

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
}

function toTagList(tags: Tags): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromTagList(tags: Tag[] | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function json(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

export class AwsGateway {
  constructor(readonly clients: AwsClients) {}

  get region(): string {
    return this.clients.region;
  }

  /** Send one command; failures become AwsCallError for `site`. */
  private async call<T>(site: CallSite, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw toAwsError(err, site);
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

  async callerIdentity(): Promise<CallerIdentity> {
    const out = await this.call({ service: 'sts', operation: 'GetCallerIdentity' }, () =>
      this.clients.sts.send(new GetCallerIdentityCommand({})),
    );
    return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
  }

  async describeCluster(name: string): Promise<ClusterInfo | undefined> {
    const out = await this.read({ service: 'eks', operation: 'DescribeCluster', resource: `cluster ${name}` }, () =>
      this.clients.eks.send(new DescribeClusterCommand({ name })),
    );
    if (out?.cluster === undefined) return undefined;
    const c = out.cluster;
    return {
      name,
      status: c.status ?? 'UNKNOWN',
      ...(c.identity?.oidc?.issuer ? { issuerUrl: c.identity.oidc.issuer } : {}),
      ...(c.arn ? { arn: c.arn } : {}),
    };
  }

  /** The names of the EKS clusters in the region, every page. */
  async listClusters(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call(
        { service: 'eks', operation: 'ListClusters', resource: `region ${this.region}` },
        () => this.clients.eks.send(new ListClustersCommand({ nextToken })),
      );
      names.push(...(out.clusters ?? []));
      nextToken = out.nextToken;
    } while (nextToken !== undefined);
    return names;
  }

  async readRole(name: string): Promise<CurrentRole | undefined> {
    const site = { service: 'iam', operation: 'GetRole', resource: `role ${name}` } as const;
    const [got, attached] = await Promise.all([
      this.read(site, () => this.clients.iam.send(new GetRoleCommand({ RoleName: name }))),
      this.attachedPolicies(name).catch((err: unknown) => {
        if (isCode(err, 'NoSuchEntity')) return undefined;
        throw err;
      }),
    ]);
    const role = got?.Role;
    if (role === undefined) return undefined;
    return {
      kind: 'role',
      name: role.RoleName ?? name,
      arn: role.Arn ?? '',
      path: role.Path ?? '/',
      trust: decodePolicyDocument(role.AssumeRolePolicyDocument ?? '{}'),
      attached: attached ?? [],
      ...(role.PermissionsBoundary?.PermissionsBoundaryArn
        ? { boundary: role.PermissionsBoundary.PermissionsBoundaryArn }
        : {}),
      tags: fromTagList(role.Tags),
    };
  }

  async attachedPolicies(roleName: string): Promise<string[]> {
    const arns: string[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call(
        { service: 'iam', operation: 'ListAttachedRolePolicies', resource: `role ${roleName}` },
        () => this.clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker })),
      );
      for (const p of out.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker !== undefined);
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
  async readPolicy(arn: string, needVersions: (doc: PolicyDocument) => boolean): Promise<CurrentPolicy | undefined> {
    const got = await this.read({ service: 'iam', operation: 'GetPolicy', resource: arn }, () =>
      this.clients.iam.send(new GetPolicyCommand({ PolicyArn: arn })),
    );
    const policy = got?.Policy;
    if (policy === undefined) return undefined;
    const versionId = policy.DefaultVersionId ?? 'v1';
    const version = await this.call(
      { service: 'iam', operation: 'GetPolicyVersion', resource: `${arn} ${versionId}` },
      () => this.clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })),
    );
    const document = decodePolicyDocument(version.PolicyVersion?.Document ?? '{}');
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

  async policyVersions(arn: string): Promise<PolicyVersion[]> {
    const versions: PolicyVersion[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call({ service: 'iam', operation: 'ListPolicyVersions', resource: arn }, () =>
        this.clients.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn, Marker: marker })),
      );
      for (const v of out.Versions ?? []) {
        versions.push({
          id: v.VersionId ?? '',
          isDefault: v.IsDefaultVersion ?? false,
          ...(v.CreateDate ? { created: v.CreateDate.toISOString() } : {}),
        });
      }
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker !== undefined);
    return versions;
  }

  /** A customer-managed policy of this name at any path (names are unique per account, paths are not). */
  async findLocalPolicy(name: string): Promise<{ arn: string; path: string } | undefined> {
    let marker: string | undefined;
    do {
      const out = await this.call({ service: 'iam', operation: 'ListPolicies', resource: `policy ${name}` }, () =>
        this.clients.iam.send(new ListPoliciesCommand({ Scope: 'Local', Marker: marker })),
      );
      const found = out.Policies?.find((p) => p.PolicyName === name);
      if (found?.Arn) return { arn: found.Arn, path: found.Path ?? '/' };
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker !== undefined);
    return undefined;
  }

  /** Perform one step of a plan. */
  async execute(step: Step): Promise<void> {
    const iam = this.clients.iam;
    switch (step.op) {
      case 'CreateRole':
        await this.call({ service: 'iam', operation: step.op, resource: `role ${step.roleName}` }, () =>
          iam.send(
            new CreateRoleCommand({
              RoleName: step.roleName,
              Path: step.path,
              AssumeRolePolicyDocument: json(step.trust),
              Description: step.description,
              ...(step.boundary !== undefined ? { PermissionsBoundary: step.boundary } : {}),
              Tags: toTagList(step.tags),
            }),
          ),
        );
        return;
      case 'UpdateAssumeRolePolicy':
        await this.call({ service: 'iam', operation: step.op, resource: `role ${step.roleName}` }, () =>
          iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: step.roleName, PolicyDocument: json(step.trust) })),
        );
        return;
      case 'PutRolePermissionsBoundary':
        await this.call({ service: 'iam', operation: step.op, resource: `role ${step.roleName}` }, () =>
          iam.send(
            new PutRolePermissionsBoundaryCommand({ RoleName: step.roleName, PermissionsBoundary: step.boundary }),
          ),
        );
        return;
      case 'AttachRolePolicy':
        await this.call(
          { service: 'iam', operation: step.op, resource: `role ${step.roleName} (${step.policyArn})` },
          () => iam.send(new AttachRolePolicyCommand({ RoleName: step.roleName, PolicyArn: step.policyArn })),
        );
        return;
      case 'TagRole':
        await this.call({ service: 'iam', operation: step.op, resource: `role ${step.roleName}` }, () =>
          iam.send(new TagRoleCommand({ RoleName: step.roleName, Tags: toTagList(step.tags) })),
        );
        return;
      case 'CreateOpenIDConnectProvider':
        await this.call({ service: 'iam', operation: step.op, resource: step.url }, () =>
          iam.send(
            new CreateOpenIDConnectProviderCommand({
              Url: step.url,
              ClientIDList: step.clientIds,
              Tags: toTagList(step.tags),
            }),
          ),
        );
        return;
      case 'AddClientIDToOpenIDConnectProvider':
        await this.call({ service: 'iam', operation: step.op, resource: step.arn }, () =>
          iam.send(
            new AddClientIDToOpenIDConnectProviderCommand({
              OpenIDConnectProviderArn: step.arn,
              ClientID: step.clientId,
            }),
          ),
        );
        return;
      case 'TagOpenIDConnectProvider':
        await this.call({ service: 'iam', operation: step.op, resource: step.arn }, () =>
          iam.send(
            new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: step.arn, Tags: toTagList(step.tags) }),
          ),
        );
        return;
      case 'CreatePolicy':
        await this.call({ service: 'iam', operation: step.op, resource: `policy ${step.name}` }, () =>
          iam.send(
            new CreatePolicyCommand({
              PolicyName: step.name,
              Path: step.path,
              PolicyDocument: json(step.document),
              Description: step.description,
              Tags: toTagList(step.tags),
            }),
          ),
        );
        return;
      case 'DeletePolicyVersion':
        await this.call({ service: 'iam', operation: step.op, resource: `${step.policyArn} ${step.versionId}` }, () =>
          iam.send(new DeletePolicyVersionCommand({ PolicyArn: step.policyArn, VersionId: step.versionId })),
        );
        return;
      case 'CreatePolicyVersion':
        await this.call({ service: 'iam', operation: step.op, resource: step.policyArn }, () =>
          iam.send(
            new CreatePolicyVersionCommand({
              PolicyArn: step.policyArn,
              PolicyDocument: json(step.document),
              SetAsDefault: true,
            }),
          ),
        );
        return;
      case 'TagPolicy':
        await this.call({ service: 'iam', operation: step.op, resource: step.policyArn }, () =>
          iam.send(new TagPolicyCommand({ PolicyArn: step.policyArn, Tags: toTagList(step.tags) })),
        );
        return;
    }
  }
}
