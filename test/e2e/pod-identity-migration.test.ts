/**
 * The move from IRSA to EKS Pod Identity end to end, as docs/config.md tells it: `identity: irsa` (the default),
 * then `both` (a broadening change: the roles also trust Pod Identity of the cluster, and the associations are
 * made), then `pod-identity` (a narrowing one: the IRSA statement goes, nothing needs --approve-broadening). The
 * roles against moto, the associations against the stand-in for the EKS endpoints moto lacks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../../src/policy/document.js';
import { ACCOUNT, createBucket, createCluster, readRole } from '../helpers/aws.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { startPodIdentityStandIn, type PodIdentityStandIn } from '../helpers/pod-identity-stand-in.js';

const skip = motoSkipReason();

const BASE = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
workersRole: { allNamespaces: false }
`;

const principals = (statements: PolicyStatement[]) =>
  statements.map((s) => (s.Principal === '*' ? '*' : Object.keys(s.Principal ?? {}).join(',')));

describe.skipIf(skip !== undefined)('from IRSA to Pod Identity through identity: both', () => {
  let moto: Moto;
  let stand: PodIdentityStandIn;
  const run = (identity: string, args: string[]) =>
    runCli(['--config', writeConfig(`${BASE}identity: ${identity}\n`), ...args], { endpoint: stand.url });

  beforeAll(async () => {
    moto = await acquireMoto();
    stand = await startPodIdentityStandIn(moto.url);
    await createCluster(moto.url, 'acme-ml');
    await createBucket(moto.url, 'acme-flyte-data');
  });
  afterAll(async () => {
    await stand?.stop();
    await moto?.stop();
  });

  it('irsa: the roles trust the OIDC provider only; no association', async () => {
    const apply = await run('irsa', ['--yes', '--approve-broadening']);
    expect(apply.code).toBe(0);
    expect(principals((await readRole(moto.url, 'flyte-system-role'))!.trust.Statement)).toEqual(['Federated']);
    expect(stand.associationsOf('acme-ml')).toEqual([]);
    expect(stand.log).toEqual([]);
  });

  it('both: a broadening change, refused under --yes alone; applied, each role trusts both and the pods are associated', async () => {
    const plan = await run('both', ['--dry-run']);
    expect(plan.stdout).toContain(`lets in more: EKS Pod Identity of arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-ml`);
    const refused = await run('both', ['--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.mutating.map((c) => c.operation)).not.toContain('UpdateAssumeRolePolicy');

    const apply = await run('both', ['--yes', '--approve-broadening']);
    expect(apply.code).toBe(0);
    for (const name of ['flyte-system-role', 'flyte-workers-role']) {
      expect(principals((await readRole(moto.url, name))!.trust.Statement), name).toEqual(['Federated', 'Service']);
    }
    expect(
      stand
        .associationsOf('acme-ml')
        .map((a) => `${a.namespace}/${a.serviceAccount} ${a.roleArn.split('/').pop()}`)
        .sort(),
    ).toEqual(['flyte/default flyte-workers-role', 'flyte/flyte-backend-flyte-binary flyte-system-role']);
    // The hand-off keeps the annotations meanwhile and says how to move.
    expect(apply.stdout + apply.stderr).toContain('identity: both: the service accounts keep their IRSA annotation');
  });

  it('pod-identity: the IRSA statement goes, a narrowing change that --yes alone applies; the associations stay', async () => {
    const before = stand.associationsOf('acme-ml').map((a) => a.associationId);
    const apply = await run('pod-identity', ['--yes']);
    expect(apply.code).toBe(0);
    expect(apply.mutating.map((c) => c.operation)).toEqual(['UpdateAssumeRolePolicy', 'UpdateAssumeRolePolicy']);
    for (const name of ['flyte-system-role', 'flyte-workers-role']) {
      expect(principals((await readRole(moto.url, name))!.trust.Statement), name).toEqual(['Service']);
    }
    expect(stand.associationsOf('acme-ml').map((a) => a.associationId)).toEqual(before);
    const verify = await runCli(['verify', '--config', writeConfig(`${BASE}identity: pod-identity\n`)], {
      endpoint: stand.url,
    });
    expect(verify.code).toBe(0);
  });
});
