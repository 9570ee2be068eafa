/** Union's global access: the custom policy attached to the existing <prefix>-userflyterole, and nothing else. */
import { describe, expect, it } from 'vitest';
import type { DesiredAttachment } from '../../../src/model.js';
import { sectionEnabled } from '../../../src/sections/derived.js';
import { globalAccess } from '../../../src/sections/global-access.js';
import { ruleInputOf } from '../../../src/sections/section.js';
import {
  ACCOUNT,
  PARTITION_CASES,
  context,
  loadConfig,
  loaderProblems,
  pathAndMessage,
  ruleInput,
  ruleOf,
} from './fixtures.js';

const UNION = 'globalAccess: { role: acme-userflyterole }\n';
const CUSTOM = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const ADOPTED =
  'globalAccess names a role that exists already (the <prefix>-userflyterole of a Union data plane), which the tool never creates';

describe('globalAccess: what it is', () => {
  it('comes with the cluster sections, makes no identity of its own, and waits for the custom policy', () => {
    expect(globalAccess.id).toBe('globalAccess');
    expect(globalAccess.needsCluster).toBe(true);
    expect(globalAccess.identity).toBe('none');
    expect(globalAccess.dependsOn).toEqual(['customPolicy']);
    expect(globalAccess.rules!.map((r) => r.name)).toEqual(['globalAccess needs customPolicy']);
  });
});

describe('globalAccess: what it wants', () => {
  it('only an attachment of the custom policy to the named role: no role, trust, tags or boundary', () => {
    const resources = globalAccess.desired(
      context(loadConfig(`${UNION}tags: { team: ml }\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\n`)),
    );
    expect(resources).toEqual([
      {
        kind: 'attachment',
        name: 'acme-userflyterole',
        arn: `arn:aws:iam::${ACCOUNT}:role/acme-userflyterole`,
        policyArns: [CUSTOM],
      },
    ]);
  });

  it("the policy is the config's (name and path); the role's ARN is guessed at /, not the config's path", () => {
    const config = loadConfig(`${UNION}path: /flyte/\ncustomPolicy: { name: acme-s3 }\n`);
    const [attachment] = globalAccess.desired(context(config)) as DesiredAttachment[];
    expect(attachment!.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/acme-userflyterole`);
    expect(attachment!.policyArns).toEqual([`arn:aws:iam::${ACCOUNT}:policy/flyte/acme-s3`]);
  });

  it("does not read the cluster's issuer", () => {
    const ctx = context(loadConfig(UNION), { cluster: { state: 'missing', name: 'acme' } });
    expect(globalAccess.desired(ctx).map((r) => r.kind)).toEqual(['attachment']);
  });

  it.each(PARTITION_CASES)('in $partition: the role and policy ARNs in the partition', (p) => {
    const [attachment] = globalAccess.desired(
      context(loadConfig(`region: ${p.region}\n${UNION}`), { partition: p }),
    ) as DesiredAttachment[];
    expect(attachment!.arn).toBe(`arn:${p.partition}:iam::${ACCOUNT}:role/acme-userflyterole`);
    expect(attachment!.policyArns).toEqual([`arn:${p.partition}:iam::${ACCOUNT}:policy/flyte-custom-policy`]);
  });

  it('without globalAccess, or without the custom policy to attach, wants nothing', () => {
    expect(globalAccess.desired(context(loadConfig()))).toEqual([]);
    // The loader refuses this config (the rule below); the section still wants nothing for it.
    expect(globalAccess.desired(context(ruleInput(`${UNION}customPolicy: false\n`).config))).toEqual([]);
  });
});

describe('globalAccess: on and off', () => {
  it('is on when the config names the role', () => {
    const never = () => {
      throw new Error('global access does not ask whether the cluster is needed');
    };
    expect(globalAccess.enabled(loadConfig(UNION), never)).toBe(true);
    expect(globalAccess.enabled(loadConfig(), never)).toBe(false);
  });

  it('its off text is "no globalAccess": without the key it is off', () => {
    expect(globalAccess.off).toBe('no globalAccess');
    expect(sectionEnabled(loadConfig(UNION), globalAccess)).toBe(true);
    expect(sectionEnabled(loadConfig(), globalAccess)).toBe(false);
  });

  it('says why it is skipped', () => {
    expect(globalAccess.skipReason!(loadConfig())).toBe('no globalAccess in the config');
  });
});

describe('globalAccess: its roles', () => {
  it('names the role as adopted (one the tool never creates), at globalAccess.role', () => {
    expect(globalAccess.roles!(ruleInput(UNION))).toEqual([
      { name: 'acme-userflyterole', path: ['globalAccess', 'role'], adopted: ADOPTED },
    ]);
    expect(globalAccess.roles!(ruleInputOf(loadConfig()))).toEqual([]);
  });
});

describe('globalAccess: rule "needs customPolicy"', () => {
  const rule = ruleOf(globalAccess, 'globalAccess needs customPolicy');

  it('globalAccess with customPolicy: false is a problem at globalAccess', () => {
    const yaml = `${UNION}customPolicy: false\n`;
    const expected = [
      {
        path: ['globalAccess'],
        message:
          'attaches the custom policy to the existing role, but customPolicy is false; enable customPolicy or remove globalAccess',
      },
    ];
    expect(rule.check(ruleInput(yaml))).toEqual(expected);
    expect(loaderProblems(yaml).map(pathAndMessage)).toEqual(expected);
  });

  it('with the custom policy, or without globalAccess: none', () => {
    expect(rule.check(ruleInput(UNION))).toEqual([]);
    expect(rule.check(ruleInput(`${UNION}customPolicy: { name: acme-s3 }\n`))).toEqual([]);
    expect(rule.check(ruleInput('customPolicy: false\n'))).toEqual([]);
  });
});

describe('globalAccess: notes', () => {
  it('none for a <prefix>-userflyterole with credentials', () => {
    expect(globalAccess.notes!(context(loadConfig(UNION)))).toEqual([]);
  });

  it('a role not named <prefix>-userflyterole is a warning', () => {
    expect(globalAccess.notes!(context(loadConfig('globalAccess: { role: task-role }\n')))).toEqual([
      {
        level: 'warn',
        message:
          'the role task-role does not end in -userflyterole: Union names the role of all task pods <prefix>-userflyterole; make sure this is the one (the policy is attached to it as named)',
      },
    ]);
  });

  it('offline, no note of its own (the offline plan says once that it looks nothing up); the name warning stays', () => {
    expect(globalAccess.notes!(context(loadConfig(UNION), { offline: true }))).toEqual([]);
    const both = globalAccess.notes!(context(loadConfig('globalAccess: { role: task-role }\n'), { offline: true }));
    expect(both.map((n) => n.level)).toEqual(['warn']);
  });

  it('none without globalAccess', () => {
    expect(globalAccess.notes!(context(loadConfig(), { offline: true }))).toEqual([]);
  });
});
