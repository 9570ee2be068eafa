/**
 * The gateway's cheaper reads (against mocked SDK clients): a policy this run made is read back with its version
 * asked beside GetPolicy.
 */
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { mockAws } from '../helpers/mock-aws.js';

const ACCOUNT = '111122223333';
const ARN = `arn:aws:iam::${ACCOUNT}:policy/flyte-custom-policy`;
const DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] };

function versionAnswer(id: string) {
  return {
    PolicyVersion: { VersionId: id, IsDefaultVersion: true, Document: encodeURIComponent(JSON.stringify(DOC)) },
  };
}

/** GetPolicy answers only when `release` is called; what GetPolicyVersion was asked before that is recorded. */
function slowGetPolicy(m: ReturnType<typeof mockAws>, defaultVersionId: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const askedBefore: string[] = [];
  let answered = false;
  m.iam.on(GetPolicyCommand).callsFake(async () => {
    await gate;
    answered = true;
    return { Policy: { Arn: ARN, PolicyName: 'flyte-custom-policy', Path: '/', DefaultVersionId: defaultVersionId } };
  });
  m.iam.on(GetPolicyVersionCommand).callsFake(async (input: { VersionId: string }) => {
    if (!answered) askedBefore.push(input.VersionId);
    return versionAnswer(input.VersionId);
  });
  return { release, askedBefore };
}

describe('reading back a policy this run made', () => {
  it('asks for the version CreatePolicy made beside GetPolicy, not after it', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam.on(CreatePolicyCommand).resolves({ Policy: { Arn: ARN, DefaultVersionId: 'v1' } });
    await m.gateway.execute({
      op: 'CreatePolicy',
      name: 'flyte-custom-policy',
      path: '/',
      document: DOC,
      description: 'd',
      tags: {},
    } as never);
    const slow = slowGetPolicy(m, 'v1');
    const read = m.gateway.readPolicy(ARN, () => false);
    await new Promise((r) => setTimeout(r, 20));
    slow.release();
    const policy = await read;
    expect(slow.askedBefore).toEqual(['v1']);
    expect(policy?.defaultVersionId).toBe('v1');
    expect(policy?.document).toEqual(DOC);
    expect(m.iam.commandCalls(GetPolicyVersionCommand)).toHaveLength(1);
  });

  it('reads the version GetPolicy names when another has become the default meanwhile', async () => {
    const m = mockAws({ account: ACCOUNT });
    m.iam.on(CreatePolicyVersionCommand).resolves({ PolicyVersion: { VersionId: 'v3' } });
    await m.gateway.execute({ op: 'CreatePolicyVersion', policyArn: ARN, document: DOC } as never);
    const slow = slowGetPolicy(m, 'v4');
    const read = m.gateway.readPolicy(ARN, () => false);
    await new Promise((r) => setTimeout(r, 20));
    slow.release();
    const policy = await read;
    expect(slow.askedBefore).toEqual(['v3']);
    expect(policy?.defaultVersionId).toBe('v4');
    expect(m.iam.commandCalls(GetPolicyVersionCommand).map((c) => c.args[0].input.VersionId)).toEqual(['v3', 'v4']);
  });

  it('a policy the run did not make: GetPolicy, then its default version', async () => {
    const m = mockAws({ account: ACCOUNT });
    const slow = slowGetPolicy(m, 'v2');
    const read = m.gateway.readPolicy(ARN, () => false);
    await new Promise((r) => setTimeout(r, 20));
    slow.release();
    expect((await read)?.defaultVersionId).toBe('v2');
    expect(slow.askedBefore).toEqual([]);
  });
});
