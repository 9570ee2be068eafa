/** What holds for every section in SECTIONS, and the lists derived from it. */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SECTION_IDS, configSchema } from '../../../src/config/schema.js';
import {
  clusterSectionsOn,
  configRoles,
  isIrsaSection,
  sectionEnabled,
  sectionRules,
} from '../../../src/sections/derived.js';
import { SECTIONS } from '../../../src/sections/index.js';
import { ruleInputOf, type SectionDefinition } from '../../../src/sections/section.js';
import { context, loadConfig } from './fixtures.js';

/** How to turn on a section that is off while its key is absent ('no <key>'). */
const TURN_ON: Record<string, string> = {
  projectRoles: 'projectRoles: [{ project: fraud }]\n',
  globalAccess: 'globalAccess: { role: acme-userflyterole }\n',
  grants: 'grants: [{ to: workers, bucket: acme-shared-data }]\n',
};
/** How to turn on a section whose off text is a key's default value (`identity: irsa`). */
const TURN_ON_VALUE: Record<string, string> = {
  podIdentity: 'identity: both\n',
};
/** Every section on: the minimal config plus the keys that turn the rest on. */
const ALL_ON = [...Object.values(TURN_ON), ...Object.values(TURN_ON_VALUE)].join('');
const CONFIG_KEYS = Object.keys(configSchema.shape);

/**
 * What a section's off text means, as two additions to the minimal config that differ only there: one with the
 * section on, one with it off. 'no <key>' means the key is absent; anything else is written as it reads.
 */
function onAndOff(s: SectionDefinition): { on: string; off: string } {
  const absent = /^no (\w+)$/.exec(s.off);
  if (absent !== null) {
    const key = absent[1]!;
    expect(CONFIG_KEYS, `${s.id}: off names a config key`).toContain(key);
    expect(TURN_ON[key], `${s.id}: the test knows how to turn ${key} on`).toBeDefined();
    return { on: TURN_ON[key]!, off: '' };
  }
  const written = parse(s.off) as unknown;
  expect(typeof written === 'object' && written !== null && !Array.isArray(written), `${s.id}: off is a key`).toBe(
    true,
  );
  const keys = Object.keys(written as object);
  expect(keys).toHaveLength(1);
  expect(CONFIG_KEYS, `${s.id}: off names a config key`).toContain(keys[0]);
  return { on: TURN_ON_VALUE[s.id] ?? '', off: `${s.off}\n` };
}

function enabledMap(yaml: string): Record<string, boolean> {
  const config = loadConfig(yaml);
  return Object.fromEntries(SECTIONS.map((s) => [s.id, sectionEnabled(config, s)]));
}

describe('SECTIONS', () => {
  it('ids are unique and are SECTION_IDS, in order', () => {
    const ids = SECTIONS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...SECTION_IDS]);
  });

  it('titles are unique, and every section explains itself', () => {
    expect(new Set(SECTIONS.map((s) => s.title)).size).toBe(SECTIONS.length);
    for (const s of SECTIONS) {
      expect(s.title, s.id).not.toBe('');
      expect(s.explain.length, s.id).toBeGreaterThan(40);
    }
  });

  it.each(SECTIONS.map((s) => [s.id, s] as const))('%s depends only on sections before it', (_id, s) => {
    const before = SECTIONS.slice(0, SECTIONS.indexOf(s)).map((d) => d.id);
    for (const dep of s.dependsOn) expect(before, `${s.id} depends on ${dep}`).toContain(dep);
    expect(new Set(s.dependsOn).size).toBe(s.dependsOn.length);
  });

  it('the Pod Identity associations come after every IRSA section, whose roles they name', () => {
    const irsa = SECTIONS.filter((s) => s.identity === 'irsa').map((s) => s.id);
    const pod = SECTIONS.find((s) => s.id === 'podIdentity')!;
    expect(pod.dependsOn).toEqual(irsa);
  });

  it('every IRSA section needs the cluster and comes after the OIDC provider its trust names', () => {
    const irsa = SECTIONS.filter((s) => s.identity === 'irsa');
    expect(irsa.map((s) => s.id)).toEqual(['systemRole', 'workersRole', 'projectRoles']);
    for (const s of irsa) {
      expect(s.needsCluster, s.id).toBe(true);
      expect(s.dependsOn, s.id).toContain('oidcProvider');
    }
  });

  it('a section that needs no cluster wants its resources before the cluster exists', () => {
    const early = SECTIONS.filter((s) => !s.needsCluster);
    expect(early.map((s) => s.id)).toEqual(['clusterRole', 'nodeRole']);
    for (const s of early) {
      const ctx = context(loadConfig(), { cluster: { state: 'missing', name: 'acme' } });
      expect(s.desired(ctx).length, s.id).toBeGreaterThan(0);
    }
  });

  it('rule names are unique across sections, and sectionRules lists them in section order', () => {
    const names = sectionRules().map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(SECTIONS.flatMap((s) => (s.rules ?? []).map((r) => r.name)));
  });
});

describe("each section's off text", () => {
  it.each(SECTIONS.map((s) => [s.id, s.off, s] as const))(
    '%s: "%s" in a minimal config turns that section off, and only it',
    (_id, _off, s) => {
      const { on, off } = onAndOff(s);
      const before = enabledMap(on);
      const after = enabledMap(off);
      expect(before[s.id]).toBe(true);
      expect(after[s.id]).toBe(false);
      expect({ ...after, [s.id]: true }).toEqual(before);
    },
  );

  it.each(SECTIONS.map((s) => [s.id, s] as const))('%s: turned off, wants nothing', (_id, s) => {
    const config = loadConfig(onAndOff(s).off);
    expect(s.desired(context(config, { vpcId: 'vpc-0abc' }))).toEqual([]);
  });
});

describe('the lists derived from SECTIONS', () => {
  it('isIrsaSection follows identity', () => {
    for (const s of SECTIONS) expect(isIrsaSection(s.id), s.id).toBe(s.identity === 'irsa');
  });

  it('clusterSectionsOn: the sections on that need the cluster; none for the cluster and node roles alone', () => {
    expect(clusterSectionsOn(loadConfig()).map((s) => s.id)).toEqual([
      'oidcProvider',
      'customPolicy',
      'systemRole',
      'workersRole',
      'clusterVpc',
    ]);
    expect(clusterSectionsOn(loadConfig(ALL_ON)).map((s) => s.id)).toEqual(
      SECTIONS.filter((s) => s.needsCluster).map((s) => s.id),
    );
    const rolesOnly = loadConfig('oidcProvider: false\ncustomPolicy: false\nsystemRole: false\nworkersRole: false\n');
    expect(clusterSectionsOn(rolesOnly)).toEqual([]);
  });

  it('configRoles: the roles of the sections on, in section order, the adopted one marked', () => {
    const roles = configRoles(loadConfig(`${ALL_ON}nodeRole: false\n`));
    expect(roles.map((r) => [r.section, r.name, r.adopted !== undefined])).toEqual([
      ['clusterRole', 'flyte-eks-cluster-role', false],
      ['systemRole', 'flyte-system-role', false],
      ['workersRole', 'flyte-workers-role', false],
      ['projectRoles', 'flyte-fraud-role', false],
      ['globalAccess', 'acme-userflyterole', true],
    ]);
  });

  it.each(SECTIONS.map((s) => [s.id, s] as const))('%s: the roles it names are the roles it wants', (_id, s) => {
    const config = loadConfig(ALL_ON);
    const claims = s.roles?.(ruleInputOf(config)) ?? [];
    const resources = s.desired(context(config, { vpcId: 'vpc-0abc' }));
    expect(claims.filter((c) => c.adopted === undefined).map((c) => c.name)).toEqual(
      resources.filter((r) => r.kind === 'role').map((r) => r.name),
    );
    expect(claims.filter((c) => c.adopted !== undefined).map((c) => c.name)).toEqual(
      resources.filter((r) => r.kind === 'attachment').map((r) => r.name),
    );
  });
});
