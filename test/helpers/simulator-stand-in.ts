/**
 * A stand-in for what the emulator lacks: moto_server has no IAM policy simulator. This HTTP server sits in front of
 * it (the CLI talks to it through AWS_ENDPOINT_URL): while a test has set a table (`decide`), it answers
 * iam:SimulatePrincipalPolicy itself, each action on each resource decided by the table, and forwards every other
 * call (and SimulatePrincipalPolicy when no table is set) to moto. It is not an evaluator: the decisions are the
 * test's. Written from the IAM API reference (Query API, 2010-05-08), SimulatePrincipalPolicy:
 *
 * - request: PolicySourceArn, ActionNames.member.N, ResourceArns.member.N, ContextEntries.member.N.ContextKeyName /
 *   ContextKeyType / ContextKeyValues.member.N, MaxItems, Marker;
 * - response: SimulatePrincipalPolicyResult with EvaluationResults (one member per action and resource:
 *   EvalActionName, EvalResourceName, EvalDecision `allowed` | `explicitDeny` | `implicitDeny`, MatchedStatements,
 *   MissingContextValues), IsTruncated, Marker;
 * - errors: NoSuchEntity (404) for a policy source that does not exist.
 */
import { bodyServer, forward, listenOnLoopback } from './loopback.js';

export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface SimulatorCall {
  policySourceArn: string;
  actions: string[];
  resources: string[];
  context: { key: string; type: string; values: string[] }[];
}

export interface SimulatorStandIn {
  url: string;
  /** The table: IAM's decision for the principal's action on the resource. Unset: the call goes to moto. */
  decide: ((principal: string, action: string, resource: string) => SimulatedDecision) | undefined;
  /** The SimulatePrincipalPolicy calls it answered. */
  calls: SimulatorCall[];
  /** Every operation it saw (answered or forwarded), in order. */
  operations: string[];
  stop(): Promise<void>;
}

function members(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let n = 1; params.has(`${prefix}.member.${n}`); n++) out.push(params.get(`${prefix}.member.${n}`)!);
  return out;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startSimulatorStandIn(target: string): Promise<SimulatorStandIn> {
  const targetUrl = new URL(target);
  const standIn: SimulatorStandIn = {
    url: '',
    decide: undefined,
    calls: [],
    operations: [],
    stop: async () => {},
  };
  const server = bodyServer((req, res, body) => {
    const params = new URLSearchParams(body.toString());
    const action = params.get('Action');
    standIn.operations.push(action ?? `${req.method} ${(req.url ?? '/').split('?')[0]}`);
    const decide = standIn.decide;
    if (action === 'SimulatePrincipalPolicy' && decide !== undefined) {
      const call: SimulatorCall = {
        policySourceArn: params.get('PolicySourceArn') ?? '',
        actions: members(params, 'ActionNames'),
        resources: members(params, 'ResourceArns'),
        context: [],
      };
      for (let n = 1; params.has(`ContextEntries.member.${n}.ContextKeyName`); n++) {
        const p = `ContextEntries.member.${n}`;
        call.context.push({
          key: params.get(`${p}.ContextKeyName`)!,
          type: params.get(`${p}.ContextKeyType`) ?? '',
          values: members(params, `${p}.ContextKeyValues`),
        });
      }
      standIn.calls.push(call);
      const results = call.actions.flatMap((a) =>
        (call.resources.length > 0 ? call.resources : ['*']).map(
          (r) =>
            `<member><EvalActionName>${escape(a)}</EvalActionName><EvalResourceName>${escape(r)}</EvalResourceName>` +
            `<EvalDecision>${decide(call.policySourceArn, a, r)}</EvalDecision><MatchedStatements/>` +
            '<MissingContextValues/></member>',
        ),
      );
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">' +
          `<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>${results.join('')}` +
          '</EvaluationResults></SimulatePrincipalPolicyResult>' +
          '<ResponseMetadata><RequestId>simulator-stand-in</RequestId></ResponseMetadata>' +
          '</SimulatePrincipalPolicyResponse>',
      );
      return;
    }
    forward(targetUrl, req, body, res);
  });
  const listening = await listenOnLoopback(server);
  standIn.url = listening.url;
  standIn.stop = listening.stop;
  return standIn;
}
