/**
 * `npm run bench:access`: the CPU time of the access check's evaluation (src/access/check.ts) for a setup with many
 * project roles, in-process and without AWS: the documents are the ones the sections would write, each role with
 * the custom policy, an extra policy and a permissions boundary, as read from AWS. The first run includes loading
 * the evaluator's IAM data; the others are the evaluation alone. Not part of `npm test`: timings vary from machine
 * to machine. The budget (issue: under a second of CPU for 50 project roles) is checked and printed.
 *
 *   npm run bench:access -- [--projects N] [--runs N]
 *
 * Four setups: the project roles as the tool makes them (each the custom policy and the same extra policy: roles
 * that hold the same documents are evaluated once), the worst case, where each role also has an inline policy of
 * its own (a grant to its own bucket), so that no two roles share an answer, a bucket encrypted with a customer
 * managed KMS key with a secret granted to every project role (the key's use is asked of each role), and a bucket
 * policy that names every role (its requests on the bucket are then evaluated role by role).
 */
import { parseArgs } from 'node:util';
import { accessFindings, checkAccess } from '../src/access/check.js';
import { flyteIdentities } from '../src/access/identities.js';
import type { BucketPolicyRead } from '../src/access/bucket-policy.js';
import type { RoleRead } from '../src/access/read.js';
import { resolveConfig } from '../src/config/schema.js';
import { desiredSections } from '../src/engine/engine.js';
import type { Facts } from '../src/model.js';
import { bucketPolicyDocument, type PolicyDocument } from '../src/policy/document.js';
import { grantsPolicyDocument } from '../src/policy/grants.js';
import { grantsByRole } from '../src/sections/grantees.js';
import { forgetSharedDecisions } from '../src/policy/simulate.js';

const { values: args } = parseArgs({
  options: { projects: { type: 'string', default: '50' }, runs: { type: 'string', default: '5' } },
});
const PROJECTS = Number(args.projects);
const RUNS = Number(args.runs);
const BUDGET_MS = 1000;

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const base = {
  region: 'eu-west-1',
  cluster: 'acme-ml',
  bucket: 'acme-flyte-data',
  permissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/flyte-boundary`,
  projectRoles: Array.from({ length: PROJECTS }, (_, i) => ({
    project: `project${i}`,
    extraPolicies: ['arn:aws:iam::aws:policy/AmazonAthenaFullAccess'],
  })),
};
const config = resolveConfig(base);
/** The bucket encrypted with a customer managed key, and a secret granted to every project role. */
const keyedConfig = resolveConfig({ ...base, bucketKmsKey: KEY, grants: [{ to: 'projects', secret: 'prod/db' }] });
const facts: Facts = {
  partition: 'aws',
  accountId: ACCOUNT,
  region: 'eu-west-1',
  offline: false,
  cluster: {
    state: 'ready',
    name: 'acme-ml',
    status: 'ACTIVE',
    issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF',
  },
};

// What a role holds, as the access check would read it: its trust, the custom policy, an extra policy that grants
// other services (a Glue/Athena-like one), and a boundary that allows S3 and Athena.
const custom = { name: 'flyte-custom-policy', document: bucketPolicyDocument('aws', config.bucket) };
const keyedCustom = { name: 'flyte-custom-policy', document: bucketPolicyDocument('aws', config.bucket, KEY) };
const scope = { partition: 'aws' as const, region: 'eu-west-1', accountId: ACCOUNT };
const extra = {
  name: 'AmazonAthenaFullAccess',
  arn: 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess',
  document: {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'BaseAthenaPermissions', Effect: 'Allow' as const, Action: ['athena:*'], Resource: ['*'] },
      {
        Sid: 'BaseS3BucketPermissions',
        Effect: 'Allow' as const,
        Action: ['s3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:PutObject'],
        Resource: ['arn:aws:s3:::aws-athena-query-results-*'],
      },
    ],
  },
};
const boundary = {
  name: 'flyte-boundary',
  arn: config.permissionsBoundary!,
  document: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow' as const,
        Action: ['s3:*', 'athena:*', 'sts:*', 'kms:*', 'secretsmanager:*'],
        Resource: '*',
      },
    ],
  },
};
/**
 * Each role's documents; `distinct`: each project role with an inline policy of its own too; `c` with a KMS key and
 * grants: the custom policy with the key, and each role's grants policy.
 */
function roleDocuments(distinct: boolean, c = config): Map<string, RoleRead> {
  const roles = new Map<string, RoleRead>();
  const grants = grantsByRole(c);
  for (const s of desiredSections(c, facts)) {
    for (const r of s.resources) {
      if (r.kind !== 'role') continue;
      const own: PolicyDocument = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OwnData',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: `arn:aws:s3:::${r.name}-data/*`,
          },
        ],
      };
      const project = r.name.startsWith('flyte-project');
      roles.set(r.name, {
        kind: 'found',
        documents: {
          name: r.name,
          arn: r.arn,
          trust: r.trust,
          policies: [
            c.bucketKmsKey !== undefined ? keyedCustom : custom,
            ...(grants.has(r.name)
              ? [{ name: `${r.name}-grants`, document: grantsPolicyDocument(scope, grants.get(r.name)!) }]
              : []),
            ...(project ? [extra] : []),
            ...(project && distinct ? [{ name: 'inline own-data', document: own, inline: 'own-data' }] : []),
          ],
          boundary,
          unreadable: [],
        },
      });
    }
  }
  return roles;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * A bucket policy as people write one: TLS only, for everyone, and the Flyte roles (each named) allowed the bucket
 * and its objects.
 */
function namingBucketPolicy(roles: Map<string, RoleRead>): BucketPolicyRead {
  const arns = [...roles.values()].flatMap((r) => (r.kind === 'found' ? [r.documents.arn] : []));
  return {
    kind: 'found',
    bucket: config.bucket,
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TlsOnly',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::acme-flyte-data', 'arn:aws:s3:::acme-flyte-data/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        {
          Sid: 'FlyteRoles',
          Effect: 'Allow',
          Principal: { AWS: arns },
          Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket'],
          Resource: ['arn:aws:s3:::acme-flyte-data', 'arn:aws:s3:::acme-flyte-data/*'],
        },
      ],
    },
  };
}

const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
let worst = 0;
console.log(
  '| setup | roles / identities / decisions | first run (loads the IAM data) | later runs, median | findings |',
);
console.log(
  '| ----- | ------------------------------ | ----------------------------- | ------------------ | -------- |',
);
for (const [what, distinct, c, named] of [
  [`${PROJECTS} project roles as the tool makes them`, false, config, false],
  [`${PROJECTS} project roles, each with an inline policy of its own`, true, config, false],
  [`${PROJECTS} project roles, an SSE-KMS bucket and a secret granted to each`, false, keyedConfig, false],
  [`${PROJECTS} project roles, a bucket policy that names each role`, false, config, true],
] as const) {
  const roles = roleDocuments(distinct, c);
  const bucketPolicy = named ? namingBucketPolicy(roles) : undefined;
  const identities = flyteIdentities(c);
  const times: number[] = [];
  let cells = 0;
  let findings = 0;
  for (let run = 0; run < RUNS; run++) {
    forgetSharedDecisions();
    const start = process.cpuUsage();
    const report = await checkAccess({
      config: c,
      facts,
      identities,
      roles,
      ...(bucketPolicy ? { bucketPolicy } : {}),
    });
    findings = accessFindings(report, { rerun: 'flyte-aws-setup --config FILE --yes', roles, identities }).length;
    times.push(cpuMs(start));
    cells = report.identities.reduce((n, i) => n + i.cells.length + i.neighbours.length + (i.assume ? 1 : 0), 0);
  }
  const later = times.slice(1).sort((a, b) => a - b);
  const median = later.length > 0 ? later[Math.floor(later.length / 2)]! : times[0]!;
  worst = Math.max(worst, ...times);
  console.log(
    `| ${what} | ${roles.size} / ${identities.length} / ${cells} | ${fmt(times[0]!)} | ${fmt(median)} | ${findings} |`,
  );
}
console.log(
  `\nThe evaluation of ${PROJECTS} project roles: ${worst <= BUDGET_MS ? 'within' : 'OVER'} the budget of ${BUDGET_MS} ms of CPU (worst run ${fmt(worst)}).`,
);
if (worst > BUDGET_MS) process.exitCode = 1;
