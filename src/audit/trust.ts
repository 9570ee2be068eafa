/**
 * The audit of an IRSA trust policy as AWS holds it, for the mistakes people make following the documents by
 * hand: condition keys of another issuer or region (seeds 001, 002), `aud` missing or moved to StringLike
 * (seed 002 step 8), a wildcard under StringEquals (never matches), a provider that does not exist or lacks the
 * `sts.amazonaws.com` audience, a document near IAM's size limit. Pure.
 */
import type { SectionId } from '../config/schema.js';
import { patternCovers } from '../policy/broadening.js';
import type { CurrentOidcProvider } from '../model.js';
import {
  hasWildcard,
  isPodIdentityStatement,
  policySize,
  TRUST_POLICY_MAX,
  type PolicyDocument,
  type PolicyStatement,
} from '../policy/document.js';
import {
  conditionEntries,
  isOidcProviderArn,
  issuerRegion,
  providerHost,
  splitIssuerKey,
  statementFederated,
} from '../policy/irsa.js';
import { severityOf } from '../policy/findings.js';
import { STS_AUDIENCE } from '../policy/partition.js';
import type { Finding } from './finding.js';

/** A trust above this share of IAM's limit gets a warning. */
export const TRUST_SIZE_WARN_RATIO = 0.9;

export interface TrustAuditInput {
  section: SectionId;
  roleName: string;
  trust: PolicyDocument;
  /** The cluster's issuer, without `https://`. */
  issuerHost: string;
  /** The ARN of the cluster's OIDC provider. */
  providerArn: string;
  /** What IAM holds for each OIDC provider the trust names (undefined: it does not exist). */
  providers: ReadonlyMap<string, CurrentOidcProvider | undefined>;
  /** The ARN of the cluster (what a Pod Identity statement's aws:SourceArn should name). */
  clusterArn: string;
  /** Every cluster of the config, when it names several (the above are the first's): a statement each. */
  clusters?: { issuerHost: string; providerArn: string; clusterArn: string }[];
  /** The config creates the cluster's provider (`oidcProvider: true`). */
  createsProvider: boolean;
  /** The command that applies the config, for "the next run fixes it". */
  rerun: string;
}

function regionNote(host: string, expected: string): string {
  const r = issuerRegion(host);
  const e = issuerRegion(expected);
  return r !== undefined && e !== undefined && r !== e ? ` (region ${r}; the cluster is in ${e})` : '';
}

export function auditTrust(a: TrustAuditInput): Finding[] {
  const out: Finding[] = [];
  const resource = `role ${a.roleName}`;
  const nextRun = `the next \`${a.rerun}\` run fixes it`;
  const add = (f: Omit<Finding, 'section' | 'resource'>) => out.push({ section: a.section, resource, ...f });
  // Several clusters: each statement is audited against the cluster it names (else the first).
  const clusters = a.clusters ?? [{ issuerHost: a.issuerHost, providerArn: a.providerArn, clusterArn: a.clusterArn }];
  for (const s of a.trust.Statement) {
    if (s.Effect !== 'Allow') continue;
    if (isPodIdentityStatement(s)) {
      const bound = conditionEntries(s)
        .filter((e) => e.key.toLowerCase() === 'aws:sourcearn')
        .flatMap((e) => e.values);
      const named = clusters.find((c) => bound.includes(c.clusterArn))?.clusterArn ?? a.clusterArn;
      for (const f of auditPodIdentityStatement(s, named, nextRun)) add(f);
      continue;
    }
    const federated = statementFederated(s).filter(isOidcProviderArn);
    if (federated.length === 0) continue;
    const cluster = clusters.find((c) => federated.includes(c.providerArn)) ?? clusters[0]!;
    const issuerHost = cluster.issuerHost;
    const issuer = issuerHost.toLowerCase();

    for (const arn of federated) {
      const host = providerHost(arn);
      const ours = clusters.some((c) => c.providerArn === arn);
      if (!ours) {
        add({
          code: 'other-provider',
          severity: severityOf('other-provider'),
          problem: `its trust names the OIDC provider ${host}, not the cluster's ${issuerHost}${regionNote(host, issuerHost)}: the cluster's pods cannot assume it`,
          fix: nextRun,
        });
      }
      const provider = a.providers.get(arn);
      if (provider === undefined) {
        add({
          code: 'provider-missing',
          severity: severityOf('provider-missing'),
          problem: `its trust names the OIDC provider ${host}, which does not exist in IAM: no pod can assume the role`,
          fix: !ours
            ? nextRun
            : a.createsProvider
              ? `the next \`${a.rerun}\` run creates it`
              : `create it (set oidcProvider: true and run \`${a.rerun}\`, or aws iam create-open-id-connect-provider --url https://${host} --client-id-list ${STS_AUDIENCE})`,
        });
      } else if (!provider.clientIds.includes(STS_AUDIENCE)) {
        add({
          code: 'provider-audience-missing',
          severity: severityOf('provider-audience-missing'),
          problem: `the OIDC provider ${host} it trusts lacks the audience ${STS_AUDIENCE}: STS refuses the pods' tokens`,
          fix:
            ours && a.createsProvider
              ? nextRun
              : `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${arn} --client-id ${STS_AUDIENCE}`,
        });
      }
    }

    const entries = conditionEntries(s);
    const own: { op: string; claim: string; values: string[] }[] = [];
    /** Claims checked only under another issuer's key: the foreign-issuer finding already covers them. */
    const foreignClaims = new Set<string>();
    for (const e of entries) {
      const split = splitIssuerKey(e.key);
      if (split === undefined) continue;
      if (split.host.toLowerCase() !== issuer) {
        add({
          code: 'foreign-issuer',
          severity: severityOf('foreign-issuer'),
          problem:
            `its condition key ${e.key} is of another issuer${regionNote(split.host, issuerHost)}; the cluster's ` +
            `tokens never carry it, so the condition never holds and no pod can assume the role`,
          fix: `${nextRun} (both keys from ${issuerHost})`,
        });
        foreignClaims.add(split.claim.toLowerCase());
        continue;
      }
      own.push({ op: e.op, claim: split.claim.toLowerCase(), values: e.values });
    }

    const aud = own.filter((e) => e.claim === 'aud');
    if (aud.length === 0 && !foreignClaims.has('aud')) {
      add({
        code: 'aud-missing',
        severity: severityOf('aud-missing'),
        problem: `its trust does not check the token's audience (${issuerHost}:aud = ${STS_AUDIENCE} under StringEquals)`,
        fix: nextRun,
      });
    }
    for (const e of aud) {
      if (e.op !== 'StringEquals') {
        add({
          code: 'aud-not-string-equals',
          severity: severityOf('aud-not-string-equals'),
          problem:
            `it checks aud under ${e.op} (the guide's step that widens the trust moves aud there with sub); only ` +
            'sub needs StringLike, for its wildcard',
          fix: `${nextRun} (aud under StringEquals)`,
        });
      }
    }
    if (!own.some((e) => e.claim === 'sub') && !foreignClaims.has('sub')) {
      add({
        code: 'sub-missing',
        severity: severityOf('sub-missing'),
        problem: `its trust has no ${issuerHost}:sub condition, so it does not limit which service accounts may assume it`,
        fix: nextRun,
      });
    }
    for (const e of entries) {
      if (!/(^|:)StringEquals$/.test(e.op)) continue;
      const wild = e.values.filter(hasWildcard);
      if (wild.length === 0) continue;
      add({
        code: 'wildcard-string-equals',
        severity: severityOf('wildcard-string-equals'),
        problem:
          `${e.key} = ${wild.join(', ')} is under ${e.op}, which compares literally: it never matches a real ` +
          'service account, so those pods cannot assume the role',
        fix: `${nextRun} (a wildcard goes under StringLike)`,
      });
    }
  }

  const size = policySize(a.trust);
  // (The size finding below is the same for both kinds of statement.)
  if (size > TRUST_POLICY_MAX * TRUST_SIZE_WARN_RATIO) {
    add({
      code: 'trust-size',
      severity: severityOf('trust-size'),
      problem:
        `its trust policy is ${size} characters, ${Math.round((size / TRUST_POLICY_MAX) * 100)}% of IAM's default ` +
        `limit of ${TRUST_POLICY_MAX.toLocaleString('en-US')} (white space not counted): a few more namespaces will not fit`,
      fix:
        'give some projects a role of their own (projectRoles[].roleName), or ask AWS to raise the ' +
        '"Role trust policy length" quota (up to 4,096)',
    });
  }
  return out;
}

/**
 * A Pod Identity statement: bounded to the cluster by aws:SourceArn (and to the account by aws:SourceAccount), as
 * the EKS guide writes it; without the cluster bound any cluster's association may hand the role out.
 */
function auditPodIdentityStatement(
  s: PolicyStatement,
  clusterArn: string,
  nextRun: string,
): Omit<Finding, 'section' | 'resource'>[] {
  const entries = conditionEntries(s);
  const arns = entries.filter((e) => e.key.toLowerCase() === 'aws:sourcearn').flatMap((e) => e.values);
  const account = entries.some((e) => e.key.toLowerCase() === 'aws:sourceaccount');
  if (arns.length === 0) {
    return [
      {
        code: 'pod-trust-unbounded',
        severity: severityOf('pod-trust-unbounded'),
        problem:
          `its trust lets EKS Pod Identity assume it without an aws:SourceArn condition${account ? '' : ' (nor aws:SourceAccount)'}: ` +
          `an association of any cluster${account ? ' of the account' : ''} may hand the role out`,
        fix: `${nextRun} (aws:SourceArn = ${clusterArn})`,
      },
    ];
  }
  if (!arns.some((v) => v === clusterArn || (hasWildcard(v) && patternCovers(v, clusterArn)))) {
    return [
      {
        code: 'pod-trust-other-cluster',
        severity: severityOf('pod-trust-other-cluster'),
        problem: `its Pod Identity trust is bounded to ${arns.join(', ')}, not the cluster ${clusterArn}: the cluster's pods cannot assume it`,
        fix: nextRun,
      },
    ];
  }
  return [];
}
