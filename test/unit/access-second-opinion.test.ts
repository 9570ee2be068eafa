/**
 * The second opinion: IAM's simulator (iam:SimulatePrincipalPolicy, answered here by a stand-in that takes its
 * decisions from a table the test sets) asked what each Flyte role's own policies allow, compared with the
 * evaluator. Agreement, a difference (a warning naming the identity, the action and both answers), and a
 * simulation that cannot be made (never agreement).
 */
import { describe, expect, it } from 'vitest';
import { checkAccess } from '../../src/access/check.js';
import { flyteIdentities } from '../../src/access/identities.js';
import { secondOpinion, secondOpinionFindings, SECOND_OPINION_OFF } from '../../src/access/second-opinion.js';
import type { AwsGateway, SimulationRequest, SimulationResult } from '../../src/aws/gateway.js';
import { renderAccess } from '../../src/render/access-text.js';
import { plainStyle } from '../../src/render/style.js';
import { awsError } from '../helpers/mock-aws.js';
import { ACCOUNT, config as c, facts, roleReads } from '../helpers/access-fixtures.js';

/**
 * A stand-in for IAM's simulator: each action on each resource of a call, decided by `decide` (the test's table),
 * in the shape the gateway gives.
 */
function simulator(decide: (principal: string, action: string, resource: string) => string | Error) {
  const calls: SimulationRequest[] = [];
  const gateway = {
    async simulatePrincipalPolicy(request: SimulationRequest): Promise<SimulationResult[]> {
      calls.push(request);
      const out: SimulationResult[] = [];
      for (const action of request.actions) {
        for (const resource of request.resourceArns) {
          const d = decide(request.principalArn, action, resource);
          if (d instanceof Error) throw d;
          out.push({ action, resource, decision: d, missingContext: [] });
        }
      }
      return out;
    },
  } as unknown as AwsGateway;
  return { gateway, calls };
}

/** IAM's answers for the tool's own documents: the bucket's objects and the bucket listed, nothing beyond. */
function asIamWould(_principal: string, action: string, resource: string): string {
  const onBucket = resource === 'arn:aws:s3:::acme-flyte-data';
  const inBucket = resource.startsWith('arn:aws:s3:::acme-flyte-data/');
  if (action === 's3:ListBucket' && onBucket) return 'allowed';
  if (['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].includes(action) && inBucket) return 'allowed';
  return 'implicitDeny';
}

async function opinion(decide: Parameters<typeof simulator>[0]) {
  const rs = roleReads();
  const identities = flyteIdentities(c);
  const report = await checkAccess({ config: c, facts, identities, roles: rs });
  const sim = simulator(decide);
  const o = await secondOpinion(sim.gateway, { config: c, facts, identities: report.identities, roles: rs });
  report.secondOpinion = o;
  return { o, report, calls: sim.calls, identities };
}

describe("IAM's simulator as a second opinion", () => {
  it('agrees: made for each role, one call each, every request compared; no finding', async () => {
    const { o, report, calls } = await opinion(asIamWould);
    expect(o.state).toBe('made');
    expect(o.disagreements).toEqual([]);
    expect(o.roles.map((r) => [r.roleName, r.state])).toEqual([
      ['flyte-system-role', 'made'],
      ['flyte-workers-role', 'made'],
    ]);
    // 7 needs (list; get, put, delete under two prefixes) and 6 probes beyond the bucket.
    for (const r of o.roles) expect(r.compared).toBe(13);
    // One call per role: the role is the policy source; the session's context, aws:SecureTransport a boolean.
    expect(calls.map((x) => x.principalArn).sort()).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/flyte-system-role`,
      `arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`,
    ]);
    expect(calls[0]!.actions).toEqual(
      expect.arrayContaining(['s3:ListBucket', 's3:PutObject', 'iam:PassRole', 'sqs:DeleteQueue']),
    );
    expect(calls[0]!.context).toEqual(
      expect.arrayContaining([
        { key: 'aws:SecureTransport', values: ['true'], type: 'boolean' },
        { key: 'aws:RequestedRegion', values: ['eu-west-1'] },
      ]),
    );
    expect(secondOpinionFindings(o, () => 'workersRole')).toEqual([]);
    expect(renderAccess(report, plainStyle).join('\n')).toContain(
      "Second opinion (IAM's simulator, iam:SimulatePrincipalPolicy, on each role's own policies): agrees on all 26 requests of 2 roles.",
    );
  });

  it('differs: a warning per request, naming the identity, the action and both answers', async () => {
    const { o, report } = await opinion((p, action, resource) =>
      p.endsWith('/flyte-workers-role') && action === 's3:PutObject' ? 'explicitDeny' : asIamWould(p, action, resource),
    );
    expect(o.state).toBe('made');
    expect(o.disagreements.map((d) => [d.roleName, d.action, d.evaluator, d.iam])).toEqual([
      ['flyte-workers-role', 's3:PutObject', 'allowed', 'explicitDeny'],
      ['flyte-workers-role', 's3:PutObject', 'allowed', 'explicitDeny'],
    ]);
    const findings = secondOpinionFindings(o, () => 'workersRole');
    expect(findings.map((f) => [f.code, f.severity, f.resource])).toEqual([
      ['second-opinion-differs', 'warning', 'role flyte-workers-role'],
      ['second-opinion-differs', 'warning', 'role flyte-workers-role'],
    ]);
    expect(findings[0]!.problem).toBe(
      "for */default, s3:PutObject on arn:aws:s3:::acme-flyte-data/metadata/flyte-aws-setup-access-check: the evaluator says allowed, IAM's simulator (iam:SimulatePrincipalPolicy) says explicitDeny",
    );
    expect(findings[0]!.fix).toContain(
      `aws iam simulate-principal-policy --policy-source-arn arn:aws:iam::${ACCOUNT}:role/flyte-workers-role`,
    );
    expect(renderAccess(report, plainStyle).join('\n')).toContain('differs on 2 of 26 requests of 2 roles');
  });

  it('the caller may not call it, or the endpoint does not implement it: not made, and said so (never agreement)', async () => {
    const denied = await opinion(() =>
      awsError('AccessDenied', 'not authorized to perform iam:SimulatePrincipalPolicy'),
    );
    expect(denied.o).toMatchObject({
      state: 'not-made',
      reason: 'iam:SimulatePrincipalPolicy is not allowed to the caller',
      disagreements: [],
    });
    expect(denied.o.roles.every((r) => r.state === 'not-made' && r.compared === 0)).toBe(true);
    const text = renderAccess(denied.report, plainStyle).join('\n');
    expect(text).toContain("on each role's own policies): not made: iam:SimulatePrincipalPolicy is not allowed");
    expect(text).not.toContain('agrees');
    const moto = await opinion(() => awsError('InvalidAction', 'not implemented'));
    expect(moto.o.reason).toBe('this endpoint does not implement iam:SimulatePrincipalPolicy');
  });

  it('refused for one role only: partial, the other compared; turned off: said so', async () => {
    const { o, report } = await opinion((p, action, resource) =>
      p.endsWith('/flyte-system-role') ? awsError('AccessDenied') : asIamWould(p, action, resource),
    );
    expect(o.state).toBe('partial');
    expect(o.roles.find((r) => r.roleName === 'flyte-workers-role')!.compared).toBe(13);
    expect(renderAccess(report, plainStyle).join('\n')).toContain(
      'not made for flyte-system-role: iam:SimulatePrincipalPolicy is not allowed to the caller',
    );
    report.secondOpinion = SECOND_OPINION_OFF;
    expect(renderAccess(report, plainStyle).join('\n')).toContain('not made, turned off (--no-second-opinion)');
  });
});
