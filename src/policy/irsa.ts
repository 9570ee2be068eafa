/**
 * Reading IRSA trust policies: which OIDC providers a trust names, its condition entries, and what an issuer host
 * says about its region. Pure; used by the audit (verify) and by destroy to find the cluster's provider.
 */
import type { PolicyDocument, PolicyStatement, StringOrList } from './document.js';

export function asList(value: StringOrList | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** The `Federated` principals of a statement. */
export function statementFederated(s: PolicyStatement): string[] {
  if (s.Principal === undefined || s.Principal === '*') return [];
  return asList(s.Principal.Federated);
}

/** The `Federated` principals of every statement of a document, without repeats. */
export function federatedPrincipals(doc: PolicyDocument): string[] {
  return [...new Set(doc.Statement.flatMap(statementFederated))];
}

/** Is this ARN an IAM OIDC identity provider's? */
export function isOidcProviderArn(arn: string): boolean {
  return /^arn:[a-z-]+:iam::\d{12}:oidc-provider\/.+/.test(arn);
}

/** The issuer host and path an OIDC provider ARN names (`oidc.eks.<region>.amazonaws.com/id/<ID>`). */
export function providerHost(arn: string): string {
  const i = arn.indexOf(':oidc-provider/');
  return i < 0 ? arn : arn.slice(i + ':oidc-provider/'.length);
}

/** The region of an EKS issuer host, when it has the EKS form. */
export function issuerRegion(host: string): string | undefined {
  return /^oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(host)?.[1];
}

export interface ConditionEntry {
  /** The operator as written (`StringEquals`, `StringLike`, `ForAnyValue:StringLike`, ...). */
  op: string;
  key: string;
  values: string[];
}

/** Every condition entry of a statement. */
export function conditionEntries(s: PolicyStatement): ConditionEntry[] {
  return Object.entries(s.Condition ?? {}).flatMap(([op, block]) =>
    Object.entries(block).map(([key, values]) => ({ op, key, values: asList(values) })),
  );
}

/** A condition key split into its issuer host and claim (`<host>:sub` -> host, `sub`); undefined for others. */
export function splitIssuerKey(key: string): { host: string; claim: string } | undefined {
  const i = key.lastIndexOf(':');
  if (i < 0) return undefined;
  const host = key.slice(0, i);
  // Global keys (aws:SourceIp, sts:ExternalId) have no host part with a dot and a slash.
  if (!host.includes('.') || !host.includes('/')) return undefined;
  return { host, claim: key.slice(i + 1) };
}
