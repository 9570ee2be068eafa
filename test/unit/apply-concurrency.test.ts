/**
 * How the engine spreads a run over the bound on what is in flight: the resources of a section at once, a role's
 * attachments at once, and a section waiting for IAM to show its change gives its place to others. Against a
 * stand-in gateway, with no timing in the assertions.
 */
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import type { AwsGateway } from '../../src/aws/gateway.js';
import { applyPlan, startOrder } from '../../src/engine/apply.js';
import { makePlan } from '../../src/engine/engine.js';
import { parseConfigText } from '../../src/load/config.js';
import type { CurrentResource, Plan, Step } from '../../src/model.js';
import { SECTIONS } from '../../src/sections/index.js';
import { currentAsWanted } from '../helpers/current-state.js';
import { awsError, mockAws } from '../helpers/mock-aws.js';

const FAST = { consistency: { timeoutMs: 2_000, initialDelayMs: 1 } };
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** A plan for `yaml` on an empty account. */
async function planFor(yaml: string): Promise<Plan> {
  const m = mockAws();
  m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetOpenIDConnectProviderCommand).rejects(awsError('NoSuchEntity'));
  m.iam.on(GetPolicyCommand).rejects(awsError('NoSuchEntity'));
  return makePlan(parseConfigText(yaml), m.gateway);
}

interface Stand {
  gateway: AwsGateway;
  /** Steps in flight at the most, by operation. */
  peak: Map<string, number>;
  /** Every step, in the order they started. */
  started: Step[];
}

/**
 * A gateway whose every step takes a moment and whose read-backs show what the config wants, except for a role
 * that `visible` hides (IAM not caught up yet).
 */
function standIn(plan: Plan, visible: (role: string) => boolean = () => true): Stand {
  const wanted = [...currentAsWanted(plan.sections.flatMap((s) => s.resources.map((r) => r.desired))).values()];
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const started: Step[] = [];
  const find = (f: (c: CurrentResource) => boolean) => wanted.find(f);
  const gateway = {
    region: 'eu-west-1',
    async execute(step: Step) {
      started.push(step);
      inFlight.set(step.op, (inFlight.get(step.op) ?? 0) + 1);
      peak.set(step.op, Math.max(peak.get(step.op) ?? 0, inFlight.get(step.op)!));
      await tick();
      inFlight.set(step.op, inFlight.get(step.op)! - 1);
    },
    async readRole(name: string) {
      await tick();
      return visible(name) ? find((c) => c.kind === 'role' && c.name === name) : undefined;
    },
    async readPolicy(arn: string) {
      await tick();
      return find((c) => c.kind === 'policy' && c.arn === arn);
    },
    async readOidcProvider(arn: string) {
      await tick();
      return find((c) => c.kind === 'oidc-provider' && c.arn === arn);
    },
    // It keeps no answer of a create to forget.
    forgetMade() {},
  };
  return { gateway: gateway as unknown as AwsGateway, peak, started };
}

const PROJECTS = `
bucket: acme-flyte-data
cluster: acme
projectRoles:
  - { project: fraud, domains: [development] }
  - { project: churn, domains: [development] }
  - { project: ads, domains: [development] }
`;

describe('resources of a section are applied at once, within the bound', () => {
  it('creates the project roles at the same time, and attaches a role’s policies at the same time', async () => {
    const plan = await planFor(PROJECTS);
    const s = standIn(plan);
    const result = await applyPlan(plan, s.gateway, {}, { ...FAST, concurrency: 4 });
    expect(result.outcome).toBe('complete');
    const projectCreates = s.started.filter((x) => x.op === 'CreateRole' && /fraud|churn|ads/.test(x.roleName));
    expect(projectCreates).toHaveLength(3);
    // The three project roles' CreateRole calls were in flight together (with the other roles of the run).
    expect(s.peak.get('CreateRole')).toBeGreaterThanOrEqual(3);
    // The node role's three attachments go at once.
    expect(s.peak.get('AttachRolePolicy')).toBeGreaterThanOrEqual(3);
    const projects = result.sections.find((x) => x.id === 'projectRoles')!;
    expect(projects.outcome).toBe('created');
    // Reported in the config's order, with every step done in the plan's order.
    expect(projects.resources.map((r) => r.name)).toEqual(['flyte-fraud-role', 'flyte-churn-role', 'flyte-ads-role']);
    for (const [i, r] of projects.resources.entries()) {
      expect(r.done).toEqual(plan.sections.find((x) => x.id === 'projectRoles')!.resources[i]!.steps);
    }
  });

  it('makes one call at a time with --concurrency 1', async () => {
    const plan = await planFor(PROJECTS);
    const s = standIn(plan);
    const result = await applyPlan(plan, s.gateway, {}, { ...FAST, concurrency: 1 });
    expect(result.outcome).toBe('complete');
    expect(s.peak.get('CreateRole')).toBe(1);
    expect(Math.max(...s.peak.values())).toBe(1);
  });

  it('starts no further resource of a section once one failed, and reports those as not done', async () => {
    const plan = await planFor(PROJECTS);
    const s = standIn(plan);
    const execute = s.gateway.execute.bind(s.gateway);
    (s.gateway as { execute(step: Step): Promise<void> }).execute = async (step) => {
      if (step.op === 'CreateRole' && step.roleName === 'flyte-fraud-role') throw awsError('AccessDenied');
      return execute(step);
    };
    const result = await applyPlan(plan, s.gateway, {}, { ...FAST, concurrency: 1 });
    const projects = result.sections.find((x) => x.id === 'projectRoles')!;
    expect(projects.outcome).toBe('failed');
    expect(projects.resources.map((r) => r.done.length)).toEqual([0, 0, 0]);
    expect(s.started.filter((x) => x.op === 'CreateRole' && /churn|ads/.test(x.roleName))).toHaveLength(0);
  });
});

describe('what the other sections wait for starts first', () => {
  it('the policy and the OIDC provider before the cluster and node roles; a section after all it needs', async () => {
    // A section that only a section without changes waits for (the node role, for grants) keeps its place.
    const bare = await planFor('bucket: acme-flyte-data\ncluster: acme\nsystemRole: false\nworkersRole: false\n');
    expect(startOrder(bare.sections).map((x) => x.id)).toEqual(bare.sections.map((x) => x.id));

    const plan = await planFor(PROJECTS);
    const order = startOrder(plan.sections).map((x) => x.id);
    expect(order.slice(0, 2).sort()).toEqual(['customPolicy', 'oidcProvider']);
    // The plan's order otherwise (nothing with changes waits for them): the cluster role before the node role.
    expect(order.slice(2, 4)).toEqual(['clusterRole', 'nodeRole']);
    for (const [i, id] of order.entries()) {
      for (const d of SECTIONS.find((x) => x.id === id)!.dependsOn) {
        if (order.includes(d)) expect(order.indexOf(d), `${d} before ${id}`).toBeLessThan(i);
      }
    }
    // With one place, the first writes are the policy's and the provider's.
    const s = standIn(plan);
    expect((await applyPlan(plan, s.gateway, {}, { ...FAST, concurrency: 1 })).outcome).toBe('complete');
    expect(
      s.started
        .slice(0, 2)
        .map((x) => x.op)
        .sort(),
    ).toEqual(['CreateOpenIDConnectProvider', 'CreatePolicy']);
  });
});

describe('a section waiting for IAM to show its change holds no place', () => {
  it('lets the other sections run while the cluster and node roles wait for their read-back', async () => {
    // With two places, the cluster and node roles take both; their roles only show once the OIDC provider (a third
    // section) is made. If waiting held the places, the provider would never run and both would time out.
    const plan = await planFor('bucket: acme-flyte-data\ncluster: acme\n');
    let providerMade = false;
    const s = standIn(plan, (role) => !/eks-(cluster|node)-role/.test(role) || providerMade);
    const execute = s.gateway.execute.bind(s.gateway);
    (s.gateway as { execute(step: Step): Promise<void> }).execute = async (step) => {
      await execute(step);
      if (step.op === 'CreateOpenIDConnectProvider') providerMade = true;
    };
    const result = await applyPlan(plan, s.gateway, {}, { ...FAST, concurrency: 2 });
    expect(result.outcome).toBe('complete');
    expect(result.sections.filter((x) => x.outcome === 'created').map((x) => x.id)).toEqual(
      expect.arrayContaining(['clusterRole', 'nodeRole', 'oidcProvider', 'customPolicy']),
    );
  });
});
