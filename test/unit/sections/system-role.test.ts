/** Section 5, the Flyte backend role: IRSA for one service account in the Flyte namespace, with the bucket policy. */
import { describe, expect, it } from 'vitest';
import type { DesiredRole } from '../../../src/model.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { ruleInputOf } from '../../../src/sections/section.js';
import { systemRole } from '../../../src/sections/system-role.js';
import {
  ACCOUNT,
  AWS,
  PARTITION_CASES,
  TOOL_TAG,
  context,
  irsaTrust,
  loadConfig,
  loaderProblems,
  pathAndMessage,
  ruleInput,
  ruleOf,
} from './fixtures.js';

const CUSTOM = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;

describe('systemRole: what it is', () => {
  it('an IRSA role: needs the cluster, after the OIDC provider and the custom policy', () => {
    expect(systemRole.id).toBe('systemRole');
    expect(systemRole.needsCluster).toBe(true);
    expect(systemRole.identity).toBe('irsa');
    expect(systemRole.dependsOn).toEqual(['oidcProvider', 'customPolicy']);
    expect(systemRole.rules!.map((r) => r.name)).toEqual([
      'systemRole.extraPolicies in the partition of the region',
      'systemRole: serviceAccounts with target flyte-core, serviceAccount with the others',
    ]);
    expect(systemRole.notes).toBeTypeOf('function'); // what the target means for the backend's service accounts
    expect(systemRole.skipReason).toBeUndefined();
  });
});

describe('systemRole: what it wants', () => {
  it('by default, flyte-system-role trusting only flyte:flyte-backend-flyte-binary, with the custom policy', () => {
    const resources = systemRole.desired(context(loadConfig()));
    expect(resources).toHaveLength(1);
    const role = resources[0] as DesiredRole;
    expect(role.kind).toBe('role');
    expect(role.name).toBe('flyte-system-role');
    expect(role.path).toBe('/');
    expect(role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte-system-role`);
    expect(role.description).toBe('Flyte backend (IRSA), managed by flyte-aws-setup');
    expect(role.trust).toEqual(
      irsaTrust(AWS, 'system:serviceaccount:flyte:flyte-backend-flyte-binary', 'StringEquals'),
    );
    expect(role.managedPolicies).toEqual([CUSTOM]);
    expect(role).not.toHaveProperty('boundary');
    expect(role.tags).toEqual(TOOL_TAG);
  });

  it("the trust's condition keys are the cluster's own issuer, not a fixed us-east-1", () => {
    const [role] = systemRole.desired(context(loadConfig())) as DesiredRole[];
    const keys = Object.values(role!.trust.Statement[0]!.Condition!).flatMap((c) => Object.keys(c));
    expect(keys.sort()).toEqual([`${AWS.host}:aud`, `${AWS.host}:sub`]);
    expect(JSON.stringify(role!.trust)).not.toContain('us-east-1');
  });

  it('trusts the service account and namespace the config names', () => {
    const config = loadConfig('namespace: flyte-prod\nsystemRole: { name: acme-backend, serviceAccount: backend }\n');
    const [role] = systemRole.desired(context(config)) as DesiredRole[];
    expect(role!.name).toBe('acme-backend');
    expect(role!.trust).toEqual(irsaTrust(AWS, 'system:serviceaccount:flyte-prod:backend', 'StringEquals'));
  });

  it('carries its extra policies after the custom policy, each once', () => {
    const config = loadConfig(
      `systemRole:\n  extraPolicies:\n    - arn:aws:iam::aws:policy/AmazonAthenaFullAccess\n    - ${CUSTOM}\n    - arn:aws:iam::aws:policy/AmazonAthenaFullAccess\n`,
    );
    const [role] = systemRole.desired(context(config)) as DesiredRole[];
    expect(role!.managedPolicies).toEqual([CUSTOM, 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess']);
  });

  it('without the custom policy, carries only its extras', () => {
    expect(
      (systemRole.desired(context(loadConfig('customPolicy: false\n'))) as DesiredRole[])[0]!.managedPolicies,
    ).toEqual([]);
    const config = loadConfig(
      'customPolicy: false\nsystemRole: { extraPolicies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess] }\n',
    );
    expect((systemRole.desired(context(config)) as DesiredRole[])[0]!.managedPolicies).toEqual([
      'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
    ]);
  });

  it('the path puts the role and the custom policy it carries under it; boundary and tags from the config', () => {
    const config = loadConfig(
      'path: /flyte/\npermissionsBoundary: arn:aws:iam::111122223333:policy/boundary\ntags: { team: ml }\n',
    );
    const [role] = systemRole.desired(context(config)) as DesiredRole[];
    expect(role!.path).toBe('/flyte/');
    expect(role!.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/flyte/flyte-system-role`);
    expect(role!.managedPolicies).toEqual([`arn:aws:iam::${ACCOUNT}:policy/flyte/flyte-custom-policy`]);
    expect(role!.boundary).toBe('arn:aws:iam::111122223333:policy/boundary');
    expect(role!.tags).toEqual({ team: 'ml', ...TOOL_TAG });
  });

  it.each(PARTITION_CASES)("in $partition: ARNs in the partition, the trust from the region's issuer", (p) => {
    const [role] = systemRole.desired(context(loadConfig(`region: ${p.region}\n`), { partition: p })) as DesiredRole[];
    expect(role!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:role/flyte-system-role`);
    expect(role!.managedPolicies).toEqual([`arn:${p.partition}:iam::${ACCOUNT}:policy/flyte-custom-policy`]);
    expect(role!.trust).toEqual(irsaTrust(p, 'system:serviceaccount:flyte:flyte-backend-flyte-binary', 'StringEquals'));
  });

  it('cannot be described without the issuer', () => {
    const ctx = context(loadConfig(), { cluster: { state: 'not-ready', name: 'acme', status: 'CREATING' } });
    expect(() => systemRole.desired(ctx)).toThrow('section needs the cluster issuer, but it is not known');
  });

  it('turned off, wants nothing', () => {
    expect(systemRole.desired(context(loadConfig('systemRole: false\n')))).toEqual([]);
  });
});

describe('systemRole: on and off', () => {
  it('is on unless the config says systemRole: false', () => {
    const never = () => {
      throw new Error('the backend role does not ask whether the cluster is needed');
    };
    expect(systemRole.enabled(loadConfig(), never)).toBe(true);
    expect(systemRole.enabled(loadConfig('systemRole: true\n'), never)).toBe(true);
    expect(systemRole.enabled(loadConfig('systemRole: false\n'), never)).toBe(false);
  });

  it('its off text, written in the config, turns it off', () => {
    expect(systemRole.off).toBe('systemRole: false');
    expect(sectionEnabled(loadConfig(), systemRole)).toBe(true);
    expect(sectionEnabled(loadConfig(`${systemRole.off}\n`), systemRole)).toBe(false);
  });
});

describe('systemRole: its roles', () => {
  it('names its role at systemRole.name, and none when off', () => {
    expect(systemRole.roles!(ruleInput('systemRole: { name: acme-backend }\n'))).toEqual([
      { name: 'acme-backend', path: ['systemRole', 'name'] },
    ]);
    expect(systemRole.roles!(ruleInputOf(loadConfig()))).toEqual([
      { name: 'flyte-system-role', path: ['systemRole', 'name'] },
    ]);
    expect(systemRole.roles!(ruleInputOf(loadConfig('systemRole: false\n')))).toEqual([]);
  });
});

describe('systemRole: rule "extraPolicies in the partition of the region"', () => {
  const rule = ruleOf(systemRole, 'systemRole.extraPolicies in the partition of the region');

  it('an extra policy of another partition than the region is a problem at its index', () => {
    const yaml =
      'region: cn-north-1\nsystemRole:\n  extraPolicies:\n    - arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess\n    - arn:aws:iam::aws:policy/AmazonAthenaFullAccess\n';
    const expected = [
      { path: ['systemRole', 'extraPolicies', 1], message: 'is in partition aws, but region cn-north-1 is in aws-cn' },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    // The loader reports it the same way (and nothing else).
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('extra policies in the partition of the region, or no region, or the section off: none', () => {
    expect(
      rule.check(
        ruleInput('region: us-gov-west-1\nsystemRole: { extraPolicies: [arn:aws-us-gov:iam::aws:policy/X] }\n'),
      ),
    ).toEqual([]);
    expect(rule.check(ruleInput('systemRole: { extraPolicies: [arn:aws-cn:iam::aws:policy/X] }\n'))).toEqual([]);
    expect(rule.check(ruleInput('region: eu-west-1\nsystemRole: false\n'))).toEqual([]);
    expect(rule.check(ruleInput())).toEqual([]);
  });
});
