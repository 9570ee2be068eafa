/** Section 3, the IAM OIDC identity provider for the cluster's own issuer, with the audience IRSA needs. */
import { describe, expect, it } from 'vitest';
import type { DesiredOidcProvider } from '../../../src/model.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { oidcProvider } from '../../../src/sections/oidc-provider.js';
import { ACCOUNT, AWS, PARTITION_CASES, TOOL_TAG, context, loadConfig, providerArn } from './fixtures.js';

describe('oidcProvider: what it is', () => {
  it("needs the cluster (its issuer), is not itself an IRSA role's section, and depends on nothing", () => {
    expect(oidcProvider.id).toBe('oidcProvider');
    expect(oidcProvider.needsCluster).toBe(true);
    expect(oidcProvider.identity).toBe('none');
    expect(oidcProvider.dependsOn).toEqual([]);
    expect(oidcProvider.rules ?? []).toEqual([]);
    expect(oidcProvider.roles).toBeUndefined();
    expect(oidcProvider.notes).toBeUndefined();
    // Off with identity: pod-identity, which says why (test/unit/identity.test.ts).
    expect(oidcProvider.skipReason).toBeTypeOf('function');
  });
});

describe('oidcProvider: what it wants', () => {
  it("by default, a provider for the cluster's issuer with the audience sts.amazonaws.com, tagged", () => {
    const resources = oidcProvider.desired(context(loadConfig()));
    expect(resources).toHaveLength(1);
    const provider = resources[0] as DesiredOidcProvider;
    expect(provider.kind).toBe('oidc-provider');
    expect(provider.url).toBe(AWS.issuer);
    expect(provider.arn).toBe(`arn:aws:iam::${ACCOUNT}:oidc-provider/${AWS.host}`);
    expect(provider.clientIds).toEqual(['sts.amazonaws.com']);
    expect(provider.tags).toEqual(TOOL_TAG);
  });

  it("the config's tags are added; the config's path is not part of a provider's ARN", () => {
    const config = loadConfig('tags: { team: ml }\npath: /flyte/\n');
    const [provider] = oidcProvider.desired(context(config)) as DesiredOidcProvider[];
    expect(provider!.tags).toEqual({ team: 'ml', ...TOOL_TAG });
    expect(provider!.arn).toBe(providerArn());
    expect(provider).not.toHaveProperty('path');
  });

  it.each(PARTITION_CASES)("in $partition: the provider ARN in the partition, from the region's issuer", (p) => {
    const [provider] = oidcProvider.desired(
      context(loadConfig(`region: ${p.region}\n`), { partition: p }),
    ) as DesiredOidcProvider[];
    expect(provider!.url).toBe(p.issuer);
    expect(provider!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:oidc-provider/${p.host}`);
    // The audience is sts.amazonaws.com in every partition, China included.
    expect(provider!.clientIds).toEqual(['sts.amazonaws.com']);
  });

  it('cannot be described without the issuer', () => {
    const ctx = context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } });
    expect(() => oidcProvider.desired(ctx)).toThrow('section needs the cluster issuer, but it is not known');
  });

  it('turned off, wants nothing (and does not ask for the issuer)', () => {
    const config = loadConfig('oidcProvider: false\n');
    expect(oidcProvider.desired(context(config))).toEqual([]);
    expect(oidcProvider.desired(context(config, { cluster: { state: 'missing', name: 'acme' } }))).toEqual([]);
  });
});

describe('oidcProvider: on and off', () => {
  it('is on unless the config says oidcProvider: false', () => {
    const never = () => {
      throw new Error('the provider does not ask whether the cluster is needed');
    };
    expect(oidcProvider.enabled(loadConfig(), never)).toBe(true);
    expect(oidcProvider.enabled(loadConfig('oidcProvider: true\n'), never)).toBe(true);
    expect(oidcProvider.enabled(loadConfig('oidcProvider: false\n'), never)).toBe(false);
  });

  it('its off text, written in the config, turns it off', () => {
    expect(oidcProvider.off).toBe('oidcProvider: false');
    expect(sectionEnabled(loadConfig(), oidcProvider)).toBe(true);
    expect(sectionEnabled(loadConfig(`${oidcProvider.off}\n`), oidcProvider)).toBe(false);
  });
});
