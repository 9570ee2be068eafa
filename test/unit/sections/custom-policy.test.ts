/** Section 4, the customer-managed policy that scopes Flyte to its one bucket. */
import { describe, expect, it } from 'vitest';
import type { CurrentBucket, DesiredBucket, DesiredPolicy } from '../../../src/model.js';
import { customPolicy, kmsKeyFindings } from '../../../src/sections/custom-policy.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { customPolicyArn } from '../../../src/sections/section.js';
import { ACCOUNT, PARTITION_CASES, TOOL_TAG, context, loadConfig, loaderProblems } from './fixtures.js';

const bucketDocument = (partition: string, bucket: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:DeleteObject*', 's3:GetObject*', 's3:ListBucket', 's3:PutObject*'],
      Resource: [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`],
    },
  ],
});

describe('customPolicy: what it is', () => {
  it('comes with the cluster sections, has no IRSA identity and depends on nothing', () => {
    expect(customPolicy.id).toBe('customPolicy');
    expect(customPolicy.needsCluster).toBe(true);
    expect(customPolicy.identity).toBe('none');
    expect(customPolicy.dependsOn).toEqual([]);
    expect(customPolicy.rules?.map((r) => r.name)).toEqual([
      'bucketKmsKey: with the custom policy, in the partition and region of the config',
    ]);
    expect(customPolicy.roles).toBeUndefined();
    expect(customPolicy.skipReason).toBeUndefined();
  });
});

describe('customPolicy: what it wants', () => {
  it('by default, flyte-custom-policy at / allowing the four S3 actions on the bucket and its objects only', () => {
    const resources = customPolicy.desired(context(loadConfig()));
    // The policy, and the bucket it names, looked up (never changed) so that a missing one is said.
    expect(resources).toHaveLength(2);
    expect(resources[1]).toEqual({
      kind: 'bucket',
      name: 'acme-flyte-data',
      arn: 'arn:aws:s3:::acme-flyte-data',
      region: 'eu-west-1',
    });
    const policy = resources[0] as DesiredPolicy;
    expect(policy.kind).toBe('policy');
    expect(policy.name).toBe('flyte-custom-policy');
    expect(policy.path).toBe('/');
    expect(policy.arn).toBe(`arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`);
    expect(policy.description).toBe('Flyte access to s3://acme-flyte-data, managed by flyte-aws-setup');
    expect(policy.document).toEqual(bucketDocument('aws', 'acme-flyte-data'));
    expect(policy.tags).toEqual(TOOL_TAG);
  });

  it('never grants every bucket: no wildcard resource, no s3:*', () => {
    const [policy] = customPolicy.desired(context(loadConfig())) as DesiredPolicy[];
    const text = JSON.stringify(policy!.document);
    expect(text).not.toContain('"*"');
    expect(text).not.toContain('s3:*');
    expect(text).not.toContain('arn:aws:s3:::*');
  });

  it('takes its name, the bucket, the path and the tags from the config; a boundary is for roles only', () => {
    const config = loadConfig(
      'customPolicy: { name: acme-s3 }\npath: /flyte/\ntags: { team: ml }\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\n',
      'cluster: acme\nbucket: other-bucket\n',
    );
    const [policy] = customPolicy.desired(context(config)) as DesiredPolicy[];
    expect(policy!.name).toBe('acme-s3');
    expect(policy!.path).toBe('/flyte/');
    expect(policy!.arn).toBe(`arn:aws:iam::${ACCOUNT}:policy/flyte/acme-s3`);
    expect(policy!.description).toBe('Flyte access to s3://other-bucket, managed by flyte-aws-setup');
    expect(policy!.document).toEqual(bucketDocument('aws', 'other-bucket'));
    expect(policy!.tags).toEqual({ team: 'ml', ...TOOL_TAG });
    expect(policy).not.toHaveProperty('boundary');
  });

  it('its ARN is the one the roles after it attach', () => {
    const config = loadConfig('customPolicy: { name: acme-s3 }\npath: /flyte/\n');
    const ctx = context(config);
    const [policy] = customPolicy.desired(ctx) as DesiredPolicy[];
    expect(customPolicyArn(ctx)).toBe(policy!.arn);
    expect(customPolicyArn(context(loadConfig('customPolicy: false\n')))).toBeUndefined();
  });

  it("does not read the cluster's issuer", () => {
    const ctx = context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } });
    expect(customPolicy.desired(ctx).map((r) => r.kind)).toEqual(['policy', 'bucket']);
  });

  it.each(PARTITION_CASES)('in $partition: the policy and the bucket ARNs in the partition', (p) => {
    const [policy] = customPolicy.desired(
      context(loadConfig(`region: ${p.region}\n`), { partition: p }),
    ) as DesiredPolicy[];
    expect(policy!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:policy/flyte-custom-policy`);
    expect(policy!.document).toEqual(bucketDocument(p.partition, 'acme-flyte-data'));
  });

  it('turned off, wants nothing', () => {
    expect(customPolicy.desired(context(loadConfig('customPolicy: false\n')))).toEqual([]);
  });
});

describe('customPolicy: on and off', () => {
  it('is on unless the config says customPolicy: false', () => {
    const never = () => {
      throw new Error('the policy does not ask whether the cluster is needed');
    };
    expect(customPolicy.enabled(loadConfig(), never)).toBe(true);
    expect(customPolicy.enabled(loadConfig('customPolicy: { name: p }\n'), never)).toBe(true);
    expect(customPolicy.enabled(loadConfig('customPolicy: false\n'), never)).toBe(false);
  });

  it('its off text, written in the config, turns it off', () => {
    expect(customPolicy.off).toBe('customPolicy: false');
    expect(sectionEnabled(loadConfig(), customPolicy)).toBe(true);
    expect(sectionEnabled(loadConfig(`${customPolicy.off}\n`), customPolicy)).toBe(false);
  });
});

const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const KMS_STATEMENT = (key: string, region: string, suffix = 'amazonaws.com') => ({
  Effect: 'Allow',
  Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
  Resource: key,
  Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.${suffix}` } },
});

describe('customPolicy: a bucket encrypted with SSE-KMS', () => {
  it("read from the bucket: the policy also grants the key's use through S3 in the bucket's region, and says so", () => {
    const ctx = context(loadConfig());
    ctx.facts.bucketEncryption = { kind: 'kms', keyArn: KEY };
    const [policy, bucket] = customPolicy.desired(ctx) as [DesiredPolicy, DesiredBucket];
    expect(policy.document.Statement).toHaveLength(2);
    expect(policy.document.Statement[1]).toEqual(KMS_STATEMENT(KEY, 'eu-west-1'));
    // The bucket look-up carries the key, whose key policy is read and checked.
    expect(bucket).toMatchObject({ kind: 'bucket', kmsKey: KEY, accountId: ACCOUNT });
    expect(customPolicy.notes!(ctx)).toEqual([
      expect.objectContaining({ level: 'info', message: expect.stringContaining(`the KMS key ${KEY}`) }),
    ]);
  });

  it('SSE-S3 or the AWS managed key: nothing beside the S3 grant', () => {
    const ctx = context(loadConfig());
    ctx.facts.bucketEncryption = { kind: 's3' };
    const [policy, bucket] = customPolicy.desired(ctx) as [DesiredPolicy, DesiredBucket];
    expect(policy.document).toEqual(bucketDocument('aws', 'acme-flyte-data'));
    expect(bucket).not.toHaveProperty('kmsKey');
    expect(customPolicy.notes!(ctx)).toEqual([]);
  });

  it('unread: no key is granted, and the bucket is "not checked", with bucketKmsKey as the way out', () => {
    const ctx = context(loadConfig());
    ctx.facts.bucketEncryption = { kind: 'unknown', reason: 's3:GetBucketEncryption is denied to the caller' };
    const [policy, bucket] = customPolicy.desired(ctx) as [DesiredPolicy, DesiredBucket];
    expect(JSON.stringify(policy.document)).not.toContain('kms:');
    expect(bucket.encryptionUnread).toBe('s3:GetBucketEncryption is denied to the caller');
    const [finding, ...rest] = kmsKeyFindings(bucket, { kind: 'bucket', name: bucket.name, region: 'eu-west-1' });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'unchecked', severity: 'warning' });
    expect(finding!.message).toContain("the bucket's default encryption was not read");
    expect(finding!.fix).toContain('set bucketKmsKey');
    expect(customPolicy.notes!(ctx)).toEqual([]);
  });

  it('bucketKmsKey names the key (the bucket is not read for it), and wins over what was read', () => {
    const ctx = context(loadConfig(`bucketKmsKey: ${KEY}\n`));
    const [policy] = customPolicy.desired(ctx) as DesiredPolicy[];
    expect(policy!.document.Statement[1]).toEqual(KMS_STATEMENT(KEY, 'eu-west-1'));
    const other = KEY.replace('1234abcd', '9999abcd');
    ctx.facts.bucketEncryption = { kind: 'kms', keyArn: other };
    expect(JSON.stringify((customPolicy.desired(ctx)[0] as DesiredPolicy).document)).not.toContain(other);
  });

  it.each(PARTITION_CASES)('in $partition: kms:ViaService is S3 of the key region, with the partition suffix', (p) => {
    const key = `arn:${p.partition}:kms:${p.region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const ctx = context(loadConfig(`region: ${p.region}\nbucketKmsKey: ${key}\n`), { partition: p });
    const [policy] = customPolicy.desired(ctx) as DesiredPolicy[];
    const suffix = p.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    expect(policy!.document.Statement[1]).toEqual(KMS_STATEMENT(key, p.region, suffix));
  });

  it.each([
    ['an alias ARN', 'arn:aws:kms:eu-west-1:123456789012:alias/flyte', 'not an alias ARN'],
    ['a key ID', '1234abcd-12ab-34cd-56ef-1234567890ab', 'must be a KMS key ARN'],
    ['an S3 ARN', 'arn:aws:s3:::acme', 'must be a KMS key ARN'],
  ])('bucketKmsKey refuses %s, naming the key', (_what, value, words) => {
    const problems = loaderProblems(`bucketKmsKey: ${value}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toEqual(['bucketKmsKey']);
    expect(problems[0]!.message).toContain(words);
  });

  it("bucketKmsKey: a key of another region than the bucket's, or without the custom policy, is refused", () => {
    const elsewhere = KEY.replace('eu-west-1', 'us-east-1');
    expect(loaderProblems(`region: eu-west-1\nbucketKmsKey: ${elsewhere}\n`)).toMatchObject([
      {
        path: ['bucketKmsKey'],
        message: expect.stringContaining('is a key in us-east-1, but the bucket is in eu-west-1'),
      },
    ]);
    expect(loaderProblems(`bucketKmsKey: ${KEY}\ncustomPolicy: false\n`)).toMatchObject([
      { path: ['bucketKmsKey'], message: expect.stringContaining('only applies with the custom policy') },
    ]);
    expect(loaderProblems(`region: eu-west-1\nbucketKmsKey: ${KEY}\n`)).toEqual([]);
  });
});

describe("customPolicy: the check of the bucket's key policy", () => {
  const desired: DesiredBucket = {
    kind: 'bucket',
    name: 'acme-flyte-data',
    arn: 'arn:aws:s3:::acme-flyte-data',
    region: 'eu-west-1',
    kmsKey: KEY,
    accountId: ACCOUNT,
  };
  const bucket = (extra: Partial<CurrentBucket>): CurrentBucket => ({
    kind: 'bucket',
    name: 'acme-flyte-data',
    region: 'eu-west-1',
    ...extra,
  });
  const policyWith = (...statements: object[]) => ({ Version: '2012-10-17', Statement: statements as never[] });
  const ROOT = `arn:aws:iam::${ACCOUNT}:root`;

  it("the default key policy (the account's root may do kms:*) passes", () => {
    const keyPolicy = policyWith({ Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' });
    expect(kmsKeyFindings(desired, bucket({ keyPolicy }))).toEqual([]);
    // The account by its ID, and the needed actions one by one (a wildcard within a name too), pass as well.
    const byId = policyWith({
      Effect: 'Allow',
      Principal: { AWS: ACCOUNT },
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
    expect(kmsKeyFindings(desired, bucket({ keyPolicy: byId }))).toEqual([]);
  });

  it('a key policy that names only other principals is reported, with the statement to add', () => {
    const keyPolicy = policyWith(
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin` }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:Decrypt', Resource: '*' },
    );
    const [finding, ...rest] = kmsKeyFindings(desired, bucket({ keyPolicy }));
    expect(rest).toEqual([]);
    expect(finding!.code).toBe('kms-key-policy');
    expect(finding!.severity).toBe('warning');
    // Decrypt is delegated already; the other two are not.
    expect(finding!.message).toContain('kms:Encrypt, kms:GenerateDataKey:');
    expect(finding!.message).not.toContain('kms:Decrypt,');
    const added = JSON.parse(finding!.fix!.slice(finding!.fix!.indexOf('{')));
    expect(added).toEqual({
      Sid: 'AllowIamPoliciesOfTheAccount',
      Effect: 'Allow',
      Principal: { AWS: ROOT },
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: '*',
    });
    // The added statement makes it pass.
    const fixed = policyWith(...keyPolicy.Statement, added);
    expect(kmsKeyFindings(desired, bucket({ keyPolicy: fixed }))).toEqual([]);
  });

  it('a Deny naming the account does not count as delegating', () => {
    const keyPolicy = policyWith({ Effect: 'Deny', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' });
    expect(kmsKeyFindings(desired, bucket({ keyPolicy })).map((f) => f.code)).toEqual(['kms-key-policy']);
  });

  it('a key policy that could not be read is "not checked", never passed', () => {
    const [finding] = kmsKeyFindings(
      desired,
      bucket({ keyPolicyUnread: { reason: 'kms:GetKeyPolicy is denied to the caller' } }),
    );
    expect(finding).toMatchObject({ code: 'unchecked', severity: 'warning' });
    expect(finding!.message).toContain('kms:GetKeyPolicy is denied to the caller');
    expect(kmsKeyFindings(desired, bucket({})).map((f) => f.code)).toEqual(['unchecked']);
  });

  it("another account's key is not read: not checked, with what that account must add", () => {
    const foreign = KEY.replace(ACCOUNT, '444455556666');
    const [finding] = kmsKeyFindings({ ...desired, kmsKey: foreign }, bucket({}));
    expect(finding!.code).toBe('unchecked');
    expect(finding!.message).toContain("the key is account 444455556666's");
    expect(finding!.fix).toContain(`"AWS":"${ROOT}"`);
  });

  it('a key that is gone is reported', () => {
    const [finding] = kmsKeyFindings(
      desired,
      bucket({ keyPolicyUnread: { reason: 'the key does not exist', missing: true } }),
    );
    expect(finding).toMatchObject({ code: 'kms-key-missing', severity: 'warning' });
  });

  it('a bucket without a key has nothing to check', () => {
    const { kmsKey: _, ...plain } = desired;
    expect(kmsKeyFindings(plain, bucket({}))).toEqual([]);
  });
});
