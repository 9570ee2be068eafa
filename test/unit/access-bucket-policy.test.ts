/**
 * The bucket's own policy in the access check, against hand-checked answers of IAM's same-account evaluation: an
 * explicit Deny in the bucket policy refuses whatever the role's policies allow; an Allow in it that names the role
 * allows on its own; what it does not name changes nothing. And what is listed as not checked when it was not read.
 */
import { describe, expect, it } from 'vitest';
import { accessFindings, checkAccess } from '../../src/access/check.js';
import {
  BUCKET_POLICY,
  bucketPolicyNotChecked,
  readBucketPolicy,
  withBucketPolicy,
  type BucketPolicyRead,
} from '../../src/access/bucket-policy.js';
import { neededCapabilities, overGrantProbes } from '../../src/access/capabilities.js';
import { flyteIdentities } from '../../src/access/identities.js';
import { isWrong } from '../../src/access/matrix.js';
import type { RoleRead } from '../../src/access/read.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { evaluateAction, loadEvaluator, sessionArn } from '../../src/policy/simulate.js';
import { renderAccess } from '../../src/render/access-text.js';
import { GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { awsError, mockAws } from '../helpers/mock-aws.js';
import { startAccessReads } from '../../src/access/after-apply.js';
import type { AwsGateway } from '../../src/aws/gateway.js';
import type { Plan } from '../../src/model.js';
import { plainStyle } from '../../src/render/style.js';
import { ACCOUNT, config as c, facts, doc, roleReads } from '../helpers/access-fixtures.js';

const BUCKET = 'arn:aws:s3:::acme-flyte-data';

const arnOf = (rs: Map<string, RoleRead>, name: string) => {
  const r = rs.get(name)!;
  if (r.kind !== 'found') throw new Error(name);
  return r.documents.arn;
};

async function check(rs: Map<string, RoleRead>, bucketPolicy?: BucketPolicyRead) {
  const identities = flyteIdentities(c);
  const report = await checkAccess({
    config: c,
    facts,
    identities,
    roles: rs,
    ...(bucketPolicy ? { bucketPolicy } : {}),
  });
  return {
    report,
    findings: accessFindings(report, { rerun: 'flyte-aws-setup --config c.yaml --yes', roles: rs, identities }),
  };
}

const found = (statement: PolicyDocument['Statement']): BucketPolicyRead => ({
  kind: 'found',
  bucket: 'acme-flyte-data',
  document: doc(statement),
});

describe("the bucket's policy as the resource policy of the bucket's requests", () => {
  it('is given to the requests on the bucket and its objects only; a KMS key keeps its own policy', () => {
    const read = found([]);
    const all = withBucketPolicy([...neededCapabilities(c, facts), ...overGrantProbes(c, facts)], read, 'aws');
    const on = all.filter((x) => x.resourcePolicy?.name === BUCKET_POLICY).map((x) => x.id);
    expect(on).toEqual([
      'list',
      'get metadata/',
      'put metadata/',
      'delete metadata/',
      'get /',
      'put /',
      'delete /',
      'bucket settings',
    ]);
    // Another bucket's requests are not the bucket policy's.
    expect(all.find((x) => x.id === 'read another bucket')!.resourcePolicy).toBeUndefined();
    // None read, or none at all: nothing to give.
    expect(
      withBucketPolicy(all, { kind: 'none', bucket: 'acme-flyte-data' }, 'aws').some(
        (x) => x.resourcePolicy?.name === BUCKET_POLICY,
      ),
    ).toBe(true);
    const plain = [...neededCapabilities(c, facts)];
    expect(withBucketPolicy(plain, { kind: 'none', bucket: 'acme-flyte-data' }, 'aws')).toEqual(plain);
    expect(withBucketPolicy(plain, undefined, 'aws')).toEqual(plain);
  });

  it('a Deny of s3:PutObject to the workers role: its puts are refused by that statement, access-denied naming the identity and the action; the other roles are not touched', async () => {
    const rs = roleReads();
    const workers = arnOf(rs, 'flyte-workers-role');
    const { report, findings } = await check(
      rs,
      found([
        {
          Sid: 'AllowAdmins',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 's3:GetObject',
          Resource: `${BUCKET}/*`,
        },
        {
          Sid: 'DenyWorkersPut',
          Effect: 'Deny',
          Principal: { AWS: workers },
          Action: 's3:PutObject',
          Resource: `${BUCKET}/*`,
        },
      ]),
    );
    const errors = findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => [f.code, f.resource])).toEqual([['access-denied', 'role flyte-workers-role']]);
    expect(errors[0]!.problem).toContain(
      '*/default cannot s3:PutObject under s3://acme-flyte-data/metadata/ and s3://acme-flyte-data/',
    );
    expect(errors[0]!.problem).toContain('refused by the Deny statement bucket policy DenyWorkersPut');
    expect(errors[0]!.fix).toContain('aws s3api get-bucket-policy --bucket acme-flyte-data');
    const cells = report.identities.find((i) => i.roleName === 'flyte-workers-role')!.cells;
    const put = cells.filter((x) => x.action === 's3:PutObject' && x.want === 'allowed');
    expect(put.map((x) => [x.state, x.reason, x.statements])).toEqual(
      Array(2).fill([
        'denied',
        'explicit-deny',
        [{ policy: BUCKET_POLICY, statement: 'DenyWorkersPut', effect: 'Deny' }],
      ]),
    );
    // Its gets stay allowed by its own policy (the account-wide Allow does not decide for it).
    expect(cells.find((x) => x.capability === 'get metadata/')!.statements.map((s) => s.policy)).toEqual([
      'flyte-custom-policy',
    ]);
    const backend = report.identities.find((i) => i.roleName === 'flyte-system-role')!;
    expect(backend.cells.filter(isWrong)).toEqual([]);
    // Read: not listed as not checked.
    expect(report.notChecked.join(' ')).not.toContain("bucket's own policy");
  });

  it('a Deny to everyone with no exception: every role is refused, each named', async () => {
    const { findings } = await check(
      roleReads(),
      found([{ Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `${BUCKET}/*` }]),
    );
    expect(findings.map((f) => f.resource).sort()).toEqual(['role flyte-system-role', 'role flyte-workers-role']);
    for (const f of findings) expect(f.problem).toMatch(/cannot s3:DeleteObject .*bucket policy NoDeletes/);
  });

  it('a same-account Allow in the bucket policy alone allows (the role has no policy of its own); what it does not allow is refused', async () => {
    const rs = roleReads({ 'flyte-workers-role': [] });
    const workers = arnOf(rs, 'flyte-workers-role');
    const { report, findings } = await check(
      rs,
      found([
        {
          Sid: 'WorkersRead',
          Effect: 'Allow',
          Principal: { AWS: workers },
          Action: ['s3:GetObject', 's3:ListBucket'],
          Resource: [BUCKET, `${BUCKET}/*`],
        },
      ]),
    );
    const cells = report.identities.find((i) => i.roleName === 'flyte-workers-role')!.cells;
    const get = cells.find((x) => x.capability === 'get /')!;
    expect([get.state, get.statements]).toEqual([
      'allowed',
      [{ policy: BUCKET_POLICY, statement: 'WorkersRead', effect: 'Allow' }],
    ]);
    expect(cells.find((x) => x.capability === 'list')!.state).toBe('allowed');
    expect(cells.find((x) => x.capability === 'put /')!.state).toBe('denied');
    const denied = findings.filter((f) => f.resource === 'role flyte-workers-role').map((f) => f.problem);
    expect(denied.some((p) => p.includes('cannot s3:GetObject'))).toBe(false);
    expect(denied.some((p) => p.includes('cannot s3:ListBucket'))).toBe(false);
    expect(denied.some((p) => p.includes('cannot s3:PutObject'))).toBe(true);
  });

  it("a permissions boundary limits a bucket policy's Allow that names the role, not one that names the session (as IAM documents)", async () => {
    await loadEvaluator();
    const arn = `arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`;
    const boundary = { name: 'sqs-only', document: doc([{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }]) };
    const role = { accountId: ACCOUNT, roleArn: arn, policies: [], boundary };
    const allowTo = (principal: string) => ({
      name: BUCKET_POLICY,
      document: doc([
        { Sid: 'A', Effect: 'Allow', Principal: { AWS: principal }, Action: 's3:GetObject', Resource: `${BUCKET}/*` },
      ]),
    });
    const byRole = await evaluateAction(role, 's3:GetObject', `${BUCKET}/k`, {}, allowTo(arn));
    expect([byRole.allowed, byRole.reason, byRole.detail]).toEqual([false, 'boundary', 'sqs-only']);
    const bySession = await evaluateAction(role, 's3:GetObject', `${BUCKET}/k`, {}, allowTo(sessionArn(arn)));
    expect([bySession.allowed, bySession.statements]).toEqual([
      true,
      [{ policy: BUCKET_POLICY, statement: 'A', effect: 'Allow' }],
    ]);
  });

  it("an Allow of s3:PutBucketPolicy to a role in the bucket policy is an over-grant, by the bucket policy's statement", async () => {
    const rs = roleReads();
    const backend = arnOf(rs, 'flyte-system-role');
    const { findings } = await check(
      rs,
      found([{ Sid: 'Owners', Effect: 'Allow', Principal: { AWS: backend }, Action: 's3:*', Resource: BUCKET }]),
    );
    expect(findings.map((f) => [f.code, f.resource])).toEqual([['over-grant', 'role flyte-system-role']]);
    expect(findings[0]!.problem).toContain('allowed by bucket policy Owners');
  });

  it("not read (refused, or another account's bucket): listed as not checked, with why; none: nothing to list", async () => {
    const unread: BucketPolicyRead = {
      kind: 'unread',
      bucket: 'acme-flyte-data',
      reason: 's3:GetBucketPolicy is denied to the caller',
    };
    const { report } = await check(roleReads(), unread);
    expect(report.notChecked[1]).toContain(
      "the bucket's own policy (not read: s3:GetBucketPolicy is denied to the caller)",
    );
    expect(renderAccess(report, plainStyle, true).join('\n')).toContain('the bucket policy,');
    const none = await check(roleReads(), { kind: 'none', bucket: 'acme-flyte-data' });
    expect(none.report.notChecked.join(' ')).not.toContain('bucket');
    expect(renderAccess(none.report, plainStyle, true).join('\n')).not.toContain('the bucket policy');
    expect(bucketPolicyNotChecked(undefined)[0]).toContain("whether the bucket is another account's");
  });
});

describe("reading the bucket's policy (s3:GetBucketPolicy)", () => {
  it("asked as the run's account's bucket; none, refused (or another account's), and a policy, each as such", async () => {
    const m = mockAws({ account: ACCOUNT });
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'D', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: BUCKET }],
    };
    m.s3.on(GetBucketPolicyCommand).resolves({ Policy: JSON.stringify(policy) });
    expect(await readBucketPolicy(m.gateway, 'acme-flyte-data', ACCOUNT)).toEqual({
      kind: 'found',
      bucket: 'acme-flyte-data',
      document: policy,
    });
    expect(m.s3.commandCalls(GetBucketPolicyCommand)[0]!.args[0].input).toEqual({
      Bucket: 'acme-flyte-data',
      ExpectedBucketOwner: ACCOUNT,
    });
    m.s3.on(GetBucketPolicyCommand).rejects(awsError('NoSuchBucketPolicy'));
    expect(await readBucketPolicy(m.gateway, 'acme-flyte-data', ACCOUNT)).toEqual({
      kind: 'none',
      bucket: 'acme-flyte-data',
    });
    m.s3.on(GetBucketPolicyCommand).rejects(awsError('AccessDenied', 'Access Denied'));
    const refused = await readBucketPolicy(m.gateway, 'acme-flyte-data', ACCOUNT);
    expect(refused).toMatchObject({ kind: 'unread' });
    expect((refused as { reason: string }).reason).toBe(
      `s3:GetBucketPolicy is denied to the caller, or the bucket is not the account ${ACCOUNT}'s`,
    );
    // Anything else is AWS failing: not a verdict to hide.
    m.s3.on(GetBucketPolicyCommand).rejects(awsError('InternalError', 'We encountered an internal error'));
    await expect(readBucketPolicy(m.gateway, 'acme-flyte-data', ACCOUNT)).rejects.toThrow();
  });
});

describe("the bucket's policy at the end of an apply", () => {
  it("is read once, beside the writes (with the run's other reads), however many sections start them", async () => {
    let asked = 0;
    const gateway = {
      async bucketPolicy(bucket: string, account: string) {
        asked++;
        expect([bucket, account]).toEqual(['acme-flyte-data', ACCOUNT]);
        return { none: true as const };
      },
    } as unknown as AwsGateway;
    const plan = { facts, sections: [] } as unknown as Plan;
    const reads = startAccessReads(gateway, c, plan, 2);
    startAccessReads(gateway, c, plan, 2, reads);
    expect(await reads.bucketPolicy).toEqual({ kind: 'none', bucket: 'acme-flyte-data' });
    expect(asked).toBe(1);
  });
});
