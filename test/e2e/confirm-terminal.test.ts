/**
 * `--config FILE` without `--yes`, in a real terminal (tmux) against a local AWS (moto): the plan, then a question
 * before any change. A plan with security-relevant changes defaults to no, so Enter alone changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCluster, readRole } from '../helpers/aws.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';
import { Terminal, tmuxSkipReason } from '../helpers/terminal.js';

const skip = motoSkipReason() ?? tmuxSkipReason();

const CONFIG = 'region: eu-west-1\ncluster: acme-ml\nbucket: acme-flyte-data\n';

describe.skipIf(skip !== undefined)('applying a config in a terminal, without --yes', () => {
  let moto: Moto;
  let cwd: string;
  let terminal: Terminal | undefined;

  beforeAll(async () => {
    moto = await acquireMoto();
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    await createCluster(moto.url, 'acme-ml');
    cwd = mkdtempSync(join(tmpdir(), 'fas-confirm-'));
    writeFileSync(join(cwd, 'flyte-aws-setup.yaml'), CONFIG);
  });
  afterEach(() => {
    terminal?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const start = () => {
    terminal = Terminal.start(['--config', 'flyte-aws-setup.yaml'], { endpoint: moto.url, cwd });
    return terminal;
  };

  it('shows the plan, then asks; Enter takes the default, which is no when the plan broadens access', async () => {
    const t = start();
    const screen = await t.waitFor(
      /^\? Apply these changes, including the security-relevant ones marked \(!\)\? \(y\/N\)/,
    );
    expect(screen).toContain('Plan: 6 to create');
    expect(screen).toContain('(!) trust: wildcard in sub: system:serviceaccount:*:default');
    t.keys('Enter');
    await t.waitFor(/Not applied; nothing was changed\./);
    expect(await t.exitCode()).toBe(1);
    expect(t.calls().filter((c) => c.mutating)).toEqual([]);
    expect(await readRole(moto.url, 'flyte-eks-cluster-role')).toBeUndefined();
  });

  it('y applies the plan, section by section', async () => {
    const t = start();
    await t.answer(/^\? Apply these changes/, 'y');
    await t.waitFor(/^Setup complete/);
    expect(await t.exitCode()).toBe(0);
    expect(await readRole(moto.url, 'flyte-workers-role')).toBeDefined();
  });
});
