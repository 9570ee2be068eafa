/**
 * `readConfigFile` (what the commands use: plain YAML read without the YAML library) gives what `loadConfigFile`
 * (the library's reader) gives: the same config, the same problems at the same places, the same later placing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/load/config-file.js';
import { loadConfigFile, type ConfigOverrides } from '../../src/load/config.js';
import { quickYaml } from '../../src/load/quick-yaml.js';
import { ConfigError, type Problem } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fas-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE = readFileSync(join(import.meta.dirname, '../../examples/flyte-aws-setup.yaml'), 'utf8');

async function outcome(read: typeof readConfigFile, file: string, overrides: ConfigOverrides) {
  try {
    const loaded = await read(file, overrides);
    const later: Problem[] = [
      { path: ['projectRoles', 0, 'extraPolicies', 0], message: 'no such policy' },
      { path: ['permissionsBoundary'], message: 'no such policy' },
      { path: ['cluster'], message: 'no such cluster' },
      { path: ['bucket'], message: 'no such bucket' },
    ];
    return { config: loaded.config, file: loaded.file, placed: loaded.place(later) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { error: err.message, file: err.file, problems: err.problems };
  }
}

const CASES: [name: string, text: string, overrides?: ConfigOverrides][] = [
  ['the example', EXAMPLE],
  ['the example with flags', EXAMPLE, { cluster: 'other', bucket: 'other-bucket' }],
  ['a bad flag', EXAMPLE, { cluster: 'Not A Name!' }],
  ['the least', 'bucket: acme-flyte-data\n'],
  ['a boundary', 'bucket: b-flyte\ncluster: c\npermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess\n'],
  ['an unknown key', EXAMPLE.replace('namespace: flyte', 'namespce: flyte')],
  ['a bad value', EXAMPLE.replace('bucket: acme-flyte-data', 'bucket: Acme_Flyte')],
  ['a wrong type', EXAMPLE.replace('oidcProvider: true', 'oidcProvider: { a: b }')],
  ['an account ID as a number', `${EXAMPLE}accountId: 012345678901\n`],
  ['a duplicate key', `${EXAMPLE}bucket: again\n`],
  ['a syntax error', `${EXAMPLE}projectRoles: [a\n`],
  ['an anchor', EXAMPLE.replace('namespace: flyte', 'namespace: &ns flyte').concat('setup: *ns\n')],
  ['no mapping', '- a\n- b\n'],
  ['empty', ''],
  ['a rule between keys', EXAMPLE.replace('target: flyte-binary', 'target: union')],
];

describe('readConfigFile', () => {
  it.each(CASES)('reads %s as loadConfigFile does', async (name, text, overrides = {}) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, text);
    expect(await outcome(readConfigFile, file, overrides)).toEqual(await outcome(loadConfigFile, file, overrides));
  });

  it('reads the example without the YAML library, and the cases above both ways', () => {
    expect(quickYaml(EXAMPLE)).toBeDefined();
    expect(CASES.filter(([, text]) => quickYaml(text) === undefined).length).toBeGreaterThan(2);
  });

  it.each([
    ['a missing file', join(dir, 'missing.yaml')],
    ['a directory', dir],
  ])('says why it cannot read %s as loadConfigFile does', async (_name, file) => {
    const read = await outcome(readConfigFile, file, {});
    expect(read).toHaveProperty('error');
    expect(read).toEqual(await outcome(loadConfigFile, file, {}));
  });
});
