/**
 * IAM is eventually consistent: a role just made may answer NoSuchEntity for a while. Against the emulator, through
 * the benchmark's proxy, which makes every new role answer so for a moment after its CreateRole, the whole setup
 * still ends complete, and each role it made is read back by its attachments alone (what CreateRole answered is kept
 * while IAM does not serve the role yet): the read-back asks ListAttachedRolePolicies again, never GetRole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startProxy, type Proxy } from '../../bench/proxy.js';
import { createCluster } from '../helpers/aws.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

/** How long a new role answers NoSuchEntity: longer than the first read-back's wait, short for a test. */
const LAG_MS = 600;
// The example config's roles: cluster, node, system, workers and the fraud project's.
const ROLES = 5;

describe.skipIf(skip !== undefined)('a setup while IAM does not yet serve the roles it made', () => {
  let moto: Moto;
  let proxy: Proxy;
  const args = ['--config', join(ROOT, 'examples/flyte-aws-setup.yaml')];

  beforeAll(async () => {
    moto = await acquireMoto();
    await createCluster(moto.url, 'acme-ml');
    proxy = await startProxy(moto.url, { latencyMs: 0, lagMs: LAG_MS, clusterVpcIds: new Map() });
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });

  it('ends complete, each role read back by its attachments alone until IAM shows it', async () => {
    proxy.take();
    const run = await runCli([...args, '--yes', '--approve-broadening'], { endpoint: proxy.url });
    expect(run.code, run.stderr).toBe(0);
    const records = proxy.take();
    const lagged = records.filter((r) => r.standIn && r.operation === 'ListAttachedRolePolicies');
    // The lag was met: some read-backs found a role not served yet, and asked again.
    expect(lagged.length).toBeGreaterThan(0);
    const count = (operation: string) => records.filter((r) => r.operation === operation).length;
    expect(count('ListAttachedRolePolicies')).toBe(ROLES + lagged.length);
    // No GetRole after a CreateRole: only the plan's, for a role read before ListRoles answered (at most one each).
    const firstCreate = records.findIndex((r) => r.operation === 'CreateRole');
    expect(records.slice(firstCreate).filter((r) => r.operation === 'GetRole')).toEqual([]);
    expect(count('GetRole')).toBeLessThanOrEqual(ROLES);

    // Once IAM serves them, the roles are as the config wants: a re-run changes nothing.
    await new Promise((r) => setTimeout(r, LAG_MS));
    const again = await runCli([...args, '--yes', '--approve-broadening'], { endpoint: proxy.url });
    expect(again.code, again.stderr).toBe(0);
    expect(again.mutating).toEqual([]);
  });
});
