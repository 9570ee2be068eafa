/**
 * What the access check's unit tests share: one account, the cluster acme-ml ready with its issuer, the custom
 * policy as the section writes it, and a policy document from its statements.
 */
import type { RolePolicy } from '../../src/access/read.js';
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
