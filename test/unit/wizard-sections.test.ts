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
    cluster: async () => undefined,
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
      { select: /The workers role trusts/, pick: /^The Flyte namespace and a list/ },
      {
        input: /^Namespaces whose task pods use the workers role/,
        answer: 'ml-development, fraud-development ml-staging',
        rejected: [
          { answer: '', error: /^type at least one namespace/ },
          { answer: 'ML-dev', error: /must be a DNS label/ },
        ],
      },
      { confirm: /^Keep fraud-development in the workers role's list anyway\?$/, answer: ENTER },
    ]);
    await workers.wizard!.before!(ctx);
    await workers.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(said[0]).toBe('── Flyte projects');
    expect(said).toContain('  + role flyte-fraud-role for fraud-development');
    expect(draft.projectRoles).toEqual([{ project: 'fraud', domains: ['development'] }]);
    // The project with its own role is not offered as the workers role's: its pods take flyte-fraud-role.
    const trust = prompter.asked.find((a) => a.message === 'The workers role trusts')!;
    expect(trust.choices!.join('\n')).not.toContain('fraud-development');
    expect(said).toContain(
      'The projects with their own role (fraud) do not use the workers role: their namespaces need not be listed.',
    );
    expect(said).toContain(
      'fraud-development is a namespace of the project fraud, which has its own role (flyte-fraud-role): its task ' +
        'pods use that role, not the workers role. Trusting it here too lets them take either role.',
    );
    expect(prompter.asked.at(-1)!.default).toBe(false);
    expect(draft.workersRole).toMatchObject({ allNamespaces: false, namespaces: ['ml-development', 'ml-staging'] });
    expect(workers.wizard!.securityNote).toBe('Here it is the namespace choice made above.');
  });

  it("the workers role's list from a config is offered again; kept on purpose, an overlap stays", async () => {
    const workers = byId('workersRole');
    const draft: Draft = {
      ...documents(),
      workersRole: { name: 'flyte-workers-role', allNamespaces: false, namespaces: ['team-a', 'fraud-staging'] },
      projectRoles: [{ project: 'fraud' }],
    };
    const { ctx, said, prompter } = context(draft, [
      { select: /The workers role trusts/, answer: ENTER },
      { input: /^Namespaces whose task pods use the workers role/, answer: ENTER },
      { confirm: /^Keep fraud-staging in the workers role's list anyway\?$/, answer: true },
    ]);
    await workers.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(prompter.asked[0]!.choices).toContain('The Flyte namespace and a list (now flyte, team-a, fraud-staging)');
    expect(prompter.asked[1]!.default).toBe('team-a, fraud-staging');
    expect(said).toContain('Suggested: what the config says.');
    expect(draft.workersRole).toMatchObject({ allNamespaces: false, namespaces: ['team-a', 'fraud-staging'] });
  });

  it('with Pod Identity alone, every namespace is not offered (no wildcard): the list is the default', async () => {
    const workers = byId('workersRole');
    const draft: Draft = { ...documents(), identity: 'pod-identity' };
    const { ctx, said, prompter } = context(draft, [
      { select: /The workers role trusts/, answer: ENTER },
      { input: /^Namespaces whose task pods use the workers role/, answer: 'ml-team' },
    ]);
    await workers.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(prompter.asked[0]!.choices!.some((c) => /Every namespace/.test(c))).toBe(false);
    expect(said.join('\n')).toMatch(/EKS Pod Identity has no wildcard/);
    expect(draft.workersRole).toMatchObject({ allNamespaces: false, namespaces: ['ml-team'] });
  });

  it("the workers role's list, emptied by leaving out the project roles' namespaces, asks the choice again", async () => {
    const workers = byId('workersRole');
    const draft: Draft = { ...documents(), projectRoles: [{ project: 'fraud', domains: ['development'] }] };
    const { ctx, said, prompter } = context(draft, [
      { select: /The workers role trusts/, pick: /^The Flyte namespace and a list/ },
      { input: /^Namespaces whose task pods use the workers role/, answer: 'fraud-development' },
      { confirm: /^Keep fraud-development/, answer: ENTER },
      { select: /The workers role trusts/, pick: /^Only the Flyte namespace/ },
    ]);
    await workers.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(said).toContain('The list is empty now; choose again.');
    expect(draft.workersRole).toMatchObject({ allNamespaces: false });
    expect(draft.workersRole).not.toHaveProperty('namespaces');
  });

  it('the cluster role: a cluster that runs with another role says so, and the question defaults to no', async () => {
    const clusterRole = byId('clusterRole');
    const other = context(documents(), [], {
      cluster: async () => ({ name: 'acme', status: 'ACTIVE', roleArn: 'arn:aws:iam::1:role/eks-prod' }),
    });
    expect(await clusterRole.wizard!.ask!(other.ctx)).toEqual({ approveByDefault: false });
    expect(other.said).toEqual([
      'The EKS cluster acme exists and runs with another role: arn:aws:iam::1:role/eks-prod. A cluster keeps the ' +
        'role it was created with, so a new flyte-eks-cluster-role would not be used by it; make it only for ' +
        'another cluster you will create.',
    ]);

    const same = context(documents(), [], {
      cluster: async () => ({
        name: 'acme',
        status: 'ACTIVE',
        roleArn: 'arn:aws:iam::1:role/x/flyte-eks-cluster-role',
      }),
    });
    expect(await clusterRole.wizard!.ask!(same.ctx)).toBeUndefined();
    expect(same.said).toEqual([
      'The EKS cluster acme runs with this role (arn:aws:iam::1:role/x/flyte-eks-cluster-role).',
    ]);

    const none = context(documents(), []);
    expect(await clusterRole.wizard!.ask!(none.ctx)).toBeUndefined();
    expect(none.said).toEqual([]);
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

  it('the cluster VPC: every VPC is looked at, each that is off said with its clusters and region, one question for all', async () => {
    const vpc = byId('clusterVpc');
    const resource = (vpcId: string, clusters: string[], region: string, support: boolean, hostnames: boolean) => ({
      name: vpcId,
      desired: { kind: 'vpc-dns', name: vpcId, region, clusters },
      current: { kind: 'vpc-dns', vpcId, enableDnsSupport: support, enableDnsHostnames: hostnames },
    });
    const plan = {
      resources: [
        resource('vpc-1', ['blue'], 'eu-west-1', true, true),
        resource('vpc-2', ['green', 'green-next'], 'eu-west-1', true, false),
        resource('vpc-3', ['east'], 'us-east-2', false, false),
      ],
    } as unknown as SectionPlan;
    const draft = documents();
    const { ctx, said, prompter } = context(
      draft,
      [{ confirm: /^Turn enableDnsSupport and enableDnsHostnames on in these 2 VPCs now\?$/, answer: false }],
      { plan: async () => plan },
    );
    await vpc.wizard!.ask!(ctx);
    prompter.expectDone();
    expect(said).toEqual([
      'The VPC vpc-2 of green and green-next (eu-west-1) has enableDnsHostnames off: nodes cannot register with the cluster.',
      'The VPC vpc-3 of east (us-east-2) has enableDnsSupport and enableDnsHostnames off: nodes cannot register with the cluster.',
    ]);
    expect(draft.vpcDns).toBeUndefined();
  });
});
