/**
 * A section is described in one place. This test adds a throwaway section, defined here and nowhere else, to
 * `SECTIONS`, and sees it planned, applied against the emulator, verified (its trust audited, as an IRSA role's)
 * and destroyed: no other file of the tool names it, so every list the other layers use must come from `SECTIONS`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SectionId } from '../../src/config/schema.js';
import type { SectionDefinition } from '../../src/sections/section.js';
import { clients, createCluster, readRole } from '../helpers/aws.js';
import { FAKE_KEYS, writeConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/in-process.js';
import { motoSkipReason, startMoto, type Moto } from '../helpers/moto.js';

const EXTRA_ROLE = 'flyte-extra-test-role';
const EXTRA_SUBJECT = 'system:serviceaccount:extra:runner';

vi.mock('../../src/sections/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/sections/index.js')>();
  const { desiredIrsaRole } = await import('../../src/sections/section.js');
  const extra: SectionDefinition = {
    id: 'extraTest' as SectionId,
    title: 'Throwaway extra role',
    explain: 'A role defined only in a test, trusted by one service account, with the bucket policy.',
    needsCluster: true,
    identity: 'irsa',
    dependsOn: ['oidcProvider', 'customPolicy'],
    enabled: (config) => config.systemRole !== false,
    off: 'systemRole: false',
    roles: () => [{ name: EXTRA_ROLE, path: ['systemRole'] }],
    desired: (ctx) => [
      desiredIrsaRole(ctx, {
        name: EXTRA_ROLE,
        description: 'a throwaway section of a test, managed by flyte-aws-setup',
        subjects: [EXTRA_SUBJECT],
        extraPolicies: [],
      }),
    ],
  };
  return { ...real, SECTIONS: [...real.SECTIONS, extra] };
});

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
vpcDns: off
`;

describe.skipIf(skip !== undefined)('a section added in one place only', () => {
  let moto: Moto;
  let config: string;
  let outDir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.url,
      ...FAKE_KEYS,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(tmpdir(), 'flyte-aws-setup-no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'flyte-aws-setup-no-aws-credentials'),
    });
    delete process.env.AWS_PROFILE;
    config = writeConfig(CONFIG);
    outDir = mkdtempSync(join(tmpdir(), 'flyte-extra-out-'));
    await createCluster(moto.url, 'acme-ml', 'eu-west-1');
  });

  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });

  it('is planned, in the plan and its JSON', async () => {
    const plan = await runMain(['--config', config, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Throwaway extra role');
    expect(plan.stdout).toContain(EXTRA_ROLE);
    const json = JSON.parse((await runMain(['--config', config, '--dry-run', '--json'])).stdout);
    const section = json.sections.find((s: { id: string }) => s.id === 'extraTest');
    expect(section).toMatchObject({ status: 'create', resources: [{ kind: 'role', name: EXTRA_ROLE }] });
  });

  it('is applied after the sections it depends on, and read back as the config wants', async () => {
    const run = await runMain(['--config', config, '--yes', '--approve-broadening', '--json', '--out-dir', outDir]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.sections.find((s: { id: string }) => s.id === 'extraTest').outcome).toBe('created');
    const role = await readRole(moto.url, EXTRA_ROLE);
    expect(role?.tags['managed-by']).toBe('flyte-aws-setup');
    expect(JSON.stringify(role?.trust)).toContain(EXTRA_SUBJECT);
    expect(role?.attached).toEqual(['arn:aws:iam::123456789012:policy/flyte-custom-policy']);
    // A second run changes nothing.
    const again = await runMain(['--config', config, '--yes', '--approve-broadening', '--json', '--out-dir', outDir]);
    expect(JSON.parse(again.stdout).calls.mutating).toBe(0);
  });

  it('is verified, and its trust audited as an IRSA role', async () => {
    const ok = await runMain(['verify', '--config', config, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).sections.find((s: { id: string }) => s.id === 'extraTest').verdict).toBe('ok');

    // Someone puts a wildcard under StringEquals by hand (a mistake the trust audit names, for IRSA roles only).
    const role = (await readRole(moto.url, EXTRA_ROLE))!;
    const wild = JSON.stringify(role.trust).replace(EXTRA_SUBJECT, 'system:serviceaccount:extra:*');
    await clients(moto.url).iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: EXTRA_ROLE, PolicyDocument: wild }));
    const bad = await runMain(['verify', '--config', config, '--json']);
    expect(bad.code).toBe(1);
    const extra = JSON.parse(bad.stdout).sections.find((s: { id: string }) => s.id === 'extraTest');
    expect(extra.verdict).not.toBe('ok');
    const findings = extra.findings as { code: string; resource: string }[];
    expect(findings).toContainEqual(
      expect.objectContaining({ code: 'wildcard-string-equals', resource: expect.stringContaining(EXTRA_ROLE) }),
    );
  });

  it('is destroyed with the rest', async () => {
    const destroy = await runMain(['destroy', '--config', config, '--yes']);
    expect(destroy.code).toBe(0);
    expect(destroy.stdout + destroy.stderr).toContain(EXTRA_ROLE);
    expect(await readRole(moto.url, EXTRA_ROLE)).toBeUndefined();
  });
});
