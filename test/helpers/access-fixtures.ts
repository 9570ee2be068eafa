/**
 * What the access check's unit tests share: one account, the cluster acme-ml ready with its issuer, the custom
 * policy as the section writes it, a policy document from its statements, and the config's roles as read.
 */
import type { RolePolicy, RoleRead } from '../../src/access/read.js';
import { resolveConfig } from '../../src/config/schema.js';
import { desiredSections } from '../../src/engine/engine.js';
import type { Facts } from '../../src/model.js';
import { bucketPolicyDocument, type PolicyDocument } from '../../src/policy/document.js';

export const ACCOUNT = '123456789012';
export const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';

/** The facts of a run in eu-west-1 whose cluster acme-ml is ready. */
export const facts: Facts = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  offline: false,
  cluster: { state: 'ready', name: 'acme-ml', status: 'ACTIVE', issuerUrl: ISSUER },
};

/** The custom policy for the bucket acme-flyte-data, as the section writes it. */
export const custom: RolePolicy = {
  name: 'flyte-custom-policy',
  arn: `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`,
  document: bucketPolicyDocument('aws', 'acme-flyte-data'),
};

/** A policy document of these statements. */
export const doc = (statement: PolicyDocument['Statement']): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statement,
});

/** The config of the documents' setup: the cluster acme-ml, the bucket acme-flyte-data, in eu-west-1. */
export const config = resolveConfig({ region: 'eu-west-1', cluster: 'acme-ml', bucket: 'acme-flyte-data' });

/** Each role of `config` as read: found, as its section writes it, with `policies` instead of the custom policy. */
export function roleReads(policies: Record<string, RolePolicy[]> = {}): Map<string, RoleRead> {
  const out = new Map<string, RoleRead>();
  for (const s of desiredSections(config, facts)) {
    for (const r of s.resources) {
      if (r.kind !== 'role') continue;
      out.set(r.name, {
        kind: 'found',
        documents: { name: r.name, arn: r.arn, trust: r.trust, policies: policies[r.name] ?? [custom], unreadable: [] },
      });
    }
  }
  return out;
}
