/**
 * The floor: the fewest sequential round trips the work of a plan allows, derived from the dependencies of its
 * writes. The rules (BENCHMARKS.md explains them):
 *
 * - Reading the account takes 2 rounds: who the caller is and the clusters (each in its region, all at once: their
 *   issuers, their VPCs) first; then every read that needs the account ID, an issuer or a VPC ID, all at once. A
 *   customer-managed policy that exists adds a third: its default version is only known from GetPolicy. EKS Pod
 *   Identity adds none: the add-on and the associations are read by the cluster's name, which the config gives
 *   (the list of associations in the first round, each one's description in the second).
 * - A plan with writes asks IAM once whether the caller may make them (the permission preflight): 1 round, after
 *   the reads; none of its own when the plan makes a role and changes nothing that exists: the account's roles,
 *   listed in the first round (ListRoles needs neither the caller nor a cluster), then lack it, and the preflight of
 *   the plan a first setup makes is asked beside the second round's reads and covers it. (Asked beside the reads
 *   always, it would cost every run that changes nothing its calls.)
 * - A resource's writes: the one that creates it (1 round), then its other writes, which are independent of each
 *   other (1 round: the attachments of a role go at once), then one read-back of it (1 round: its reads at once).
 *   The VPC's DNS settings are the exception: one attribute per call, the second needs the first. An add-on and
 *   a pod identity association are resources like the others: created (1), read back (1; an association by the ID
 *   its creation answered).
 * - A section starts when the sections it depends on (`dependsOn`) are written and read back; resources of one
 *   section are independent of each other: a second cluster's OIDC provider beside the first's, each cluster's
 *   add-on and associations beside the others'. So the Pod Identity associations come after the roles they name,
 *   and a second cluster adds calls but no round.
 *
 * The floor ignores the bound on requests in flight (`--concurrency`, per service): with many resources, the busiest
 * service's calls / concurrency round trips is a second lower bound, reported next to it.
 */
import { SECTIONS } from '../src/sections/index.js';

interface PlanJson {
  sections: {
    id: string;
    resources: { kind: string; action: string; steps: { op: string }[] }[];
  }[];
}

export interface Floor {
  rounds: number;
  reads: number;
  preflight: number;
  writes: number;
  /** The writes of the plan (one per step). */
  writeCalls: number;
}

function resourceRounds(r: PlanJson['sections'][number]['resources'][number]): number {
  if (r.steps.length === 0) return 0;
  if (r.kind === 'vpc-dns') return r.steps.length;
  const creates = r.steps.some((s) => s.op.startsWith('Create')) ? 1 : 0;
  const others = r.steps.some((s) => !s.op.startsWith('Create')) ? 1 : 0;
  return creates + others + 1;
}

export function floorOf(plan: PlanJson): Floor {
  const byId = new Map(plan.sections.map((s) => [s.id, s]));
  const done = new Map<string, number>();
  const finish = (id: string): number => {
    const known = done.get(id);
    if (known !== undefined) return known;
    const section = byId.get(id);
    const deps = SECTIONS.find((s) => s.id === id)?.dependsOn ?? [];
    const start = Math.max(0, ...deps.map(finish));
    const own = Math.max(0, ...(section?.resources ?? []).map(resourceRounds));
    const end = own === 0 ? start : start + own;
    done.set(id, end);
    return end;
  };
  const writes = Math.max(0, ...plan.sections.map((s) => finish(s.id)));
  const policyExists = plan.sections.some(
    (s) => s.id === 'customPolicy' && s.resources.some((r) => r.kind === 'policy' && r.action !== 'create'),
  );
  const reads = policyExists ? 3 : 2;
  const writeCalls = plan.sections.reduce((n, s) => n + s.resources.reduce((m, r) => m + r.steps.length, 0), 0);
  // Beside the reads only when the plan is a first setup's: it makes a role, and changes nothing that exists.
  const resources = plan.sections.flatMap((s) => s.resources).filter((r) => r.steps.length > 0);
  const firstSetup =
    resources.some((r) => r.steps.some((st) => st.op === 'CreateRole')) &&
    resources.every((r) => r.action === 'create');
  const preflight = writeCalls > 0 && !firstSetup ? 1 : 0;
  return { rounds: reads + preflight + writes, reads, preflight, writes, writeCalls };
}
