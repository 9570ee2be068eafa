/** Section 3 (seeds 001, 002): the IAM OIDC identity provider for the cluster's issuer, which IRSA needs. */
import { STS_AUDIENCE } from '../policy/partition.js';
import { providerArnOf, requireIssuer, resourceTags, type SectionDefinition } from './section.js';

export const oidcProvider: SectionDefinition = {
  id: 'oidcProvider',
  title: 'OIDC identity provider',
  explain:
    "IAM must trust the cluster's OIDC issuer before a Kubernetes service account can assume a role (IRSA).\n" +
    'This registers the issuer as an identity provider with the audience sts.amazonaws.com.',
  needsCluster: true,
  dependsOn: [],
  desired(ctx) {
    if (!ctx.config.oidcProvider) return [];
    return [
      {
        kind: 'oidc-provider',
        url: requireIssuer(ctx),
        arn: providerArnOf(ctx),
        clientIds: [STS_AUDIENCE],
        tags: resourceTags(ctx.config),
      },
    ];
  },
};
