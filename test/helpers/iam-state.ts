/**
 * The IAM state of an account as comparable data: every role, customer-managed policy (with its number of
 * versions) and OIDC provider, without IDs and dates. Two runs that end in the same state give equal snapshots,
 * so a run through faults can be compared with a clean run, and duplicates show up.
 */
import {
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyVersionCommand,
  ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { canonicalPolicy, decodePolicyDocument } from '../../src/policy/compare.js';
import { clients } from './aws.js';

export async function iamSnapshot(endpoint: string): Promise<unknown> {
  const { iam } = clients(endpoint);
  const roles = (await iam.send(new ListRolesCommand({}))).Roles ?? [];
  const roleState = await Promise.all(
    roles
      .filter((r) => !r.RoleName!.startsWith('some-'))
      .map(async (r) => {
        const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.RoleName }));
        const tags = await iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName }));
        return {
          name: r.RoleName,
          path: r.Path,
          trust: canonicalPolicy(decodePolicyDocument(r.AssumeRolePolicyDocument!)),
          attached: (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn).sort(),
          tags: Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value])),
        };
      }),
  );
  const policies = (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies ?? [];
  const policyState = await Promise.all(
    policies.map(async (p) => {
      const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: p.Arn }))).Versions ?? [];
      const doc = await iam.send(new GetPolicyVersionCommand({ PolicyArn: p.Arn, VersionId: p.DefaultVersionId }));
      return {
        arn: p.Arn,
        versions: versions.length,
        document: canonicalPolicy(decodePolicyDocument(doc.PolicyVersion!.Document!)),
      };
    }),
  );
  const providers = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
  const providerState = await Promise.all(
    providers.map(async (p) => {
      const out = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: p.Arn }));
      return { arn: p.Arn, clientIds: out.ClientIDList, tags: out.Tags?.map((t) => `${t.Key}=${t.Value}`).sort() };
    }),
  );
  const byName = <T extends { name?: string; arn?: string }>(a: T, b: T) =>
    String(a.name ?? a.arn) < String(b.name ?? b.arn) ? -1 : 1;
  return { roles: roleState.sort(byName), policies: policyState.sort(byName), providers: providerState.sort(byName) };
}

/**
 * Remove every role, customer-managed policy and OIDC provider: the account as before a setup, much faster than
 * resetting the emulator (which loads the AWS managed policies again).
 */
export async function clearIam(endpoint: string): Promise<void> {
  const { iam } = clients(endpoint);
  const roles = (await iam.send(new ListRolesCommand({}))).Roles ?? [];
  await Promise.all(
    roles.map(async ({ RoleName }) => {
      const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }))).AttachedPolicies ?? [];
      for (const { PolicyArn } of attached) await iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn }));
      for (const PolicyName of (await iam.send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames ?? []) {
        await iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }));
      }
      await iam.send(new DeleteRoleCommand({ RoleName }));
    }),
  );
  const policies = (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies ?? [];
  await Promise.all(
    policies.map(async ({ Arn: PolicyArn }) => {
      for (const v of (await iam.send(new ListPolicyVersionsCommand({ PolicyArn }))).Versions ?? []) {
        if (!v.IsDefaultVersion) await iam.send(new DeletePolicyVersionCommand({ PolicyArn, VersionId: v.VersionId }));
      }
      await iam.send(new DeletePolicyCommand({ PolicyArn }));
    }),
  );
  const providers = (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
  await Promise.all(
    providers.map(({ Arn }) => iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: Arn }))),
  );
}
