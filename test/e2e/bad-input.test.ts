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
});
