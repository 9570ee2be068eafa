/** Section 3 (seeds 001, 002): the IAM OIDC identity provider for the cluster's issuer, which IRSA needs. */
import { oidcProviderArn, STS_AUDIENCE } from '../policy/partition.js';
import { readyClusters, resourceTags, type SectionDefinition } from './section.js';

export const oidcProvider: SectionDefinition = {
  id: 'oidcProvider',
  title: 'OIDC identity provider',
  explain:
    "With IRSA a Kubernetes service account can assume an IAM role, once IAM trusts the cluster's own OIDC " +
    'issuer. This registers that issuer as an IAM identity provider with the audience sts.amazonaws.com, which ' +
    'is what `eksctl utils associate-iam-oidc-provider` does in the Flyte guide.',
  needsCluster: true,
  identity: 'none',
  dependsOn: [],
  // Pod Identity needs no OIDC provider: with `identity: pod-identity` the roles trust pods.eks.amazonaws.com only.
  enabled: (config) => config.oidcProvider && config.identity !== 'pod-identity',
  off: 'oidcProvider: false',
  skipReason: (config) =>
    config.oidcProvider && config.identity === 'pod-identity'
      ? 'identity: pod-identity: the roles trust EKS Pod Identity (pods.eks.amazonaws.com), not an OIDC provider'
      : undefined,
  wizard: {
    // With Pod Identity alone there is nothing to offer.
    shown: (draft) => draft.identity !== 'pod-identity',
    declined:
      'Without the OIDC provider, pods cannot assume the IRSA roles that come next (the Flyte backend role, the ' +
      "workers role, the project-domain roles): their trust names this provider, and IAM refuses a role's trust " +
      'in a provider that does not exist, so those sections would fail. Say no to them too, or run the wizard ' +
      'again and say yes here.',
  },
  // One provider for each cluster's issuer (several clusters: several providers, the roles trusting each).
  desired(ctx) {
    if (!ctx.config.oidcProvider) return [];
    const { facts } = ctx;
    return readyClusters(ctx).map((c) => ({
      kind: 'oidc-provider',
      url: c.issuerUrl,
      arn: oidcProviderArn(facts.partition, facts.accountId, c.issuerUrl),
      clientIds: [STS_AUDIENCE],
      tags: resourceTags(ctx.config),
    }));
  },
};
