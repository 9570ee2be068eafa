/** `init`: a commented config from flags, without questions and without AWS, that the tool itself accepts. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTemplate } from '../../src/config/template.js';
import { parseConfigText } from '../../src/load/config.js';
import { runMain } from '../helpers/in-process.js';

const VALUES = { cluster: 'acme-ml', bucket: 'acme-flyte-data', region: 'eu-west-1' };

describe('init', () => {
  it('writes a config the tool accepts, with the values given', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fas-init-')), 'flyte-aws-setup.yaml');
    const r = await runMain([
      'init',
      '--cluster',
      'acme-ml',
      '--bucket',
      'acme-flyte-data',
      '--region',
      'eu-west-1',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote ${out}`);
    const config = parseConfigText(readFileSync(out, 'utf8'));
    expect(config).toMatchObject({ cluster: 'acme-ml', bucket: 'acme-flyte-data', region: 'eu-west-1' });
    expect(config).toEqual(parseConfigText('cluster: acme-ml\nbucket: acme-flyte-data\nregion: eu-west-1\n'));
  });

  it("a bad value is the flag's problem, with no line of a file that was not written", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fas-init-')), 'flyte-aws-setup.yaml');
    const r = await runMain(['init', '--cluster', 'bad name', '--bucket', 'acme-flyte-data', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: the command line is not valid \(1 problem\):\n {2}- --cluster: must start with/);
    expect(r.stderr).not.toMatch(/line \d/);
  });

  it('documents every key it leaves out, and each commented default is the real default', () => {
    const text = configTemplate(VALUES, 'f.yaml');
    const base = parseConfigText(text);
    for (const line of text.split('\n').filter((l) => /^# [a-zA-Z]+: /.test(l))) {
      const key = line.slice(2).split(':')[0]!;
      if (['tags', 'permissionsBoundary', 'projectRoles'].includes(key)) continue; // examples, not defaults
      const uncommented = `${text}${line.slice(2)}\n`;
      expect(parseConfigText(uncommented), key).toEqual(base);
    }
    // Every commented key has its description above it.
    const lines = text.split('\n');
    lines.forEach((l, i) => {
      if (/^# [a-zA-Z]+: /.test(l)) expect(lines[i - 1], l).toMatch(/^# [A-Z]/);
    });
  });

  it('quotes a value that YAML would read as something else', () => {
    const text = configTemplate({ ...VALUES, namespace: 'on' }, 'f.yaml');
    expect(text).toContain('namespace: "on"');
    expect(parseConfigText(text).namespace).toBe('on');
  });

  it('needs --cluster and --bucket, checks the values as a config, and never replaces a file without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-init-'));
    const out = join(dir, 'c.yaml');
    const missing = await runMain(['init', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/init needs --cluster and --bucket/);
    const bad = await runMain(['init', '--cluster', 'acme', '--bucket', 'B', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bucket: must be 3 to 63 characters/);
    writeFileSync(out, '# mine\n');
    const kept = await runMain(['init', '--cluster', 'acme', '--bucket', 'acme-flyte-data', '--out', out]);
    expect(kept.code).toBe(2);
    expect(kept.stderr).toMatch(/exists; it is not replaced/);
    expect(readFileSync(out, 'utf8')).toBe('# mine\n');
    const forced = await runMain(['init', '--cluster', 'acme', '--bucket', 'acme-flyte-data', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(parseConfigText(readFileSync(out, 'utf8')).cluster).toBe('acme');
  });
});
