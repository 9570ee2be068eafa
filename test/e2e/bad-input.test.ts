/**
 * Bad input found before any AWS call, in the built CLI with a clean environment (no emulator needed): each is
 * exit 2 with a message that names what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { FAKE_KEYS, runCli, writeConfig } from '../helpers/cli.js';

describe('bad input, before any AWS call', () => {
  it('no region anywhere (config, flag, environment, profile) is bad input, like a bad region', async () => {
    const config = writeConfig('cluster: acme\nbucket: acme-flyte-data\n');
    const r = await runCli(['--config', config, '--dry-run'], {
      env: { ...FAKE_KEYS, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no AWS region is set/);
    expect(r.calls).toEqual([]);
  });

  it('AWS_DEFAULT_REGION counts as the AWS CLI counts it: after AWS_REGION, checked like it', async () => {
    const config = writeConfig('cluster: acme\nbucket: acme-flyte-data\n');
    const unreachable = { ...FAKE_KEYS, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    const bad = await runCli(['--config', config, '--dry-run'], {
      env: { ...unreachable, AWS_DEFAULT_REGION: 'eu-west-9x' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the region "eu-west-9x" \(from AWS_DEFAULT_REGION\)/);
    // Honoured: the run goes to that region (here, to an endpoint that does not answer).
    const used = await runCli(['--config', config, '--dry-run'], {
      env: { ...unreachable, AWS_DEFAULT_REGION: 'eu-west-3' },
    });
    expect(used.code).toBe(1);
    expect(used.stderr).toMatch(/in region eu-west-3/);
    // AWS_REGION comes first.
    const both = await runCli(['--config', config, '--dry-run'], {
      env: { ...unreachable, AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'eu-west-9x' },
    });
    expect(both.stderr).toMatch(/in region eu-central-1/);
  });
});
