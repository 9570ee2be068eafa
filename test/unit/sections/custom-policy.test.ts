/** Section 4, the customer-managed policy that scopes Flyte to its one bucket. */
import { describe, expect, it } from 'vitest';
import type { DesiredPolicy } from '../../../src/model.js';
import { customPolicy } from '../../../src/sections/custom-policy.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { customPolicyArn } from '../../../src/sections/section.js';
import { ACCOUNT, PARTITION_CASES, TOOL_TAG, context, loadConfig } from './fixtures.js';

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
    expect(customPolicy.rules ?? []).toEqual([]);
    expect(customPolicy.roles).toBeUndefined();
    expect(customPolicy.notes).toBeUndefined();
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
