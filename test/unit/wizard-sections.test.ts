/**
 * What the sections tell the wizard (their `wizard` hooks, and the defaults of a section without them): on, off and
 * back on agree with the config's own `sectionEnabled`; the sections' own questions, with a stand-in context.
 */
import { describe, expect, it } from 'vitest';
import type { SectionPlan } from '../../src/model.js';
import { plainStyle } from '../../src/render/style.js';
import { sectionEnabled } from '../../src/sections/derived.js';
import { SECTIONS } from '../../src/sections/index.js';
import type { Draft, SectionWizardContext } from '../../src/sections/section.js';
import { defaultDraft, draftConfig, problemAt } from '../../src/wizard/draft.js';
import { sectionIsOn, turnSectionOff, turnSectionOn } from '../../src/wizard/hooks.js';
import { wrap } from '../../src/wizard/text.js';
import { ENTER, scriptedPrompter, type ScriptStep } from '../helpers/script-prompter.js';

const documents = (): Draft => ({ ...defaultDraft(), region: 'eu-west-1', cluster: 'acme', bucket: 'acme-data' });
const byId = (id: string) => SECTIONS.find((s) => s.id === id)!;

function context(draft: Draft, script: ScriptStep[], aws: Partial<SectionWizardContext> = {}) {
  const said: string[] = [];
  const prompter = scriptedPrompter(script);
  const ctx: SectionWizardContext = {
    draft,
    prompter,
    say: (line = '') => void said.push(line),
    style: plainStyle,
    subheading: (title) => void said.push(`── ${title}`),
    wrap: (text) => wrap(text),
    problemAt,
    reading: (_text, work) => work(),
    rolesEndingWith: async () => [],
    plan: async () => {
      throw new Error('no plan in this test');
    },
    ...aws,
  };
  return { ctx, said, prompter };
}

describe('on, off and back on', () => {
  it("the documents' answers: every section on but the optional ones (projects, Union's global access)", () => {
    const on = SECTIONS.filter((s) => sectionIsOn(s, documents())).map((s) => s.id);
    expect(on).toEqual([
      'clusterRole',
      'nodeRole',
      'oidcProvider',
      'customPolicy',
      'systemRole',
      'workersRole',
      'clusterVpc',
    ]);
  });

  it.each(SECTIONS.map((s) => [s.id, s] as const))('%s: turned off, the config has it off too', (_id, def) => {
    const draft = documents();
    turnSectionOff(def, draft);
    expect(sectionIsOn(def, draft)).toBe(false);
    expect(sectionEnabled(draftConfig(draft), def)).toBe(false);
  });

  it.each(SECTIONS.filter((s) => s.wizard?.offer === undefined).map((s) => [s.id, s] as const))(
    '%s: turned back on, with the config on',
    (_id, def) => {
      const draft = documents();
      turnSectionOff(def, draft);
      turnSectionOn(def, draft);
      expect(sectionIsOn(def, draft)).toBe(true);
      expect(sectionEnabled(draftConfig(draft), def)).toBe(true);
      expect(draftConfig(draft)).toEqual(draftConfig(documents()));
    },
  );
});

describe("the sections' own words", () => {
  it('the workers role: the projects first, then its trust; its note for the (!) question', async () => {
    const workers = byId('workersRole');
    const draft = documents();
    const { ctx, said, prompter } = context(draft, [
      { confirm: /Add a project with its own role/, answer: true },
      { input: /Project name/, answer: 'fraud' },
      { checkbox: /Domains of fraud/, answer: ['development'] },
      { input: /Extra managed policy ARNs/, answer: ENTER },
      { confirm: /Add another project/, answer: ENTER },
      { select: /The workers role trusts/, pick: /projects'/ },
    ]);
    await workers.wizard!.before!(ctx);
    await workers.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(said[0]).toBe('── Flyte projects');
    expect(said).toContain('  + role flyte-fraud-role for fraud-development');
    expect(draft.projectRoles).toEqual([{ project: 'fraud', domains: ['development'] }]);
    expect(draft.workersRole).toMatchObject({ allNamespaces: false, namespaces: ['fraud-development'] });
    expect(workers.wizard!.securityNote).toBe('Here it is the namespace choice made above.');
  });

  it('project roles off: nothing to offer', async () => {
    const { ctx, said } = context(documents(), []);
    expect(await byId('projectRoles').wizard!.offer!(ctx)).toBe(false);
    expect(said).toEqual(['No project entered: nothing to do here.']);
  });

  it("Union's global access: offered only for a *-userflyterole role, No by default", async () => {
    const globalAccess = byId('globalAccess');
    const none = context(documents(), []);
    expect(await globalAccess.wizard!.offer!(none.ctx)).toBe(false);
    expect(none.said).toEqual(["No role named <prefix>-userflyterole in this account (it is Union's): nothing to do."]);

    const draft = documents();
    const some = context(draft, [{ select: /every Union task/, pick: /^Yes, to acme-userflyterole/ }], {
      rolesEndingWith: async () => [{ name: 'acme-userflyterole' }],
    });
    expect(await globalAccess.wizard!.offer!(some.ctx)).toBe(true);
    expect(some.prompter.asked[0]!.default).toBe('\0no-global-access');
    expect(draft.globalAccess).toEqual({ role: 'acme-userflyterole' });
  });

  it('the cluster VPC: DNS settings that are off are offered to be turned on (vpcDns: fix)', async () => {
    const vpc = byId('clusterVpc');
    const plan = {
      resources: [
        {
          name: 'vpc-1',
          current: { kind: 'vpc-dns', vpcId: 'vpc-1', enableDnsSupport: true, enableDnsHostnames: false },
        },
      ],
    } as unknown as SectionPlan;
    const draft = documents();
    const { ctx, said, prompter } = context(draft, [{ confirm: /^Turn enableDnsHostnames on now\?$/, answer: ENTER }], {
      plan: async () => plan,
    });
    await vpc.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(said).toEqual(['The VPC vpc-1 has enableDnsHostnames off: nodes cannot register with the cluster.']);
    expect(draft.vpcDns).toBe('fix');
  });
});
