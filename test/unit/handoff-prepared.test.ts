/**
 * The hand-off files an apply prepares while its writes wait on AWS (`prepareHandoff`): the end of the run takes
 * them only for the input it would have made them from, and writes what it would have written without them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../src/engine/engine.js';
import { parseConfigText } from '../../src/load/config.js';
import type { Config } from '../../src/config/schema.js';
import { handOff, prepareHandoff, type PreparedHandoff } from '../../src/session/hand-off.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ONE = parseConfigText(readFileSync(join(__dirname, '../../examples/flyte-aws-setup.yaml'), 'utf8'));
const TWO = parseConfigText(
  'region: eu-west-1\nbucket: acme-flyte-data\ncluster:\n  - blue\n  - { name: green, region: us-east-2 }\n',
);

/** Every file under `dir`, by its path, with its content. */
function tree(dir: string, at = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, at), { withFileTypes: true })) {
    const rel = join(at, e.name);
    if (e.isDirectory()) Object.assign(out, tree(dir, rel));
    else out[rel] = readFileSync(join(dir, rel), 'utf8');
  }
  return out;
}

/** The hand-off of `config`'s offline plan, with the roles' ARNs `arnOf` gives; the files written. */
async function write(
  config: Config,
  arnOf: (name: string, arn: string) => string = (_, arn) => arn,
  prepared?: PreparedHandoff,
) {
  const plan = await makePlan(config, undefined, { offline: true });
  const arns = new Map(
    plan.sections
      .flatMap((s) => s.resources)
      .flatMap((r) => (r.kind === 'role' ? [[r.name, arnOf(r.name, r.arn)] as const] : [])),
  );
  const dir = mkdtempSync(join(tmpdir(), 'fas-prepared-'));
  dirs.push(dir);
  const outcome = await handOff(
    {
      config,
      facts: plan.facts,
      arns,
      sections: plan.sections,
      rerun: 'flyte-aws-setup',
      ...(prepared ? { prepared } : {}),
    },
    { outDir: dir },
    undefined,
  );
  expect(outcome.code).toBe(0);
  return tree(dir);
}

describe('prepared hand-off files', () => {
  it.each([
    ['one cluster', ONE, 1],
    ['two clusters', TWO, 2],
  ] as const)(
    '%s: taken by the run that reads back what the plan said, and the same files written',
    async (_, config, sets) => {
      const plain = await write(config);
      const prepared = prepareHandoff(config, await makePlan(config, undefined, { offline: true }), {});
      expect(prepared.size).toBe(sets);
      expect(await write(config, undefined, prepared)).toEqual(plain);
      // Taken: each set is used once.
      expect(prepared.size).toBe(0);
    },
  );

  it('not taken by a run that read back other ARNs: its files have those', async () => {
    const moved = (name: string, arn: string) =>
      name === 'flyte-system-role' ? arn.replace(':role/', ':role/moved/') : arn;
    const plain = await write(ONE, moved);
    const prepared = prepareHandoff(ONE, await makePlan(ONE, undefined, { offline: true }), {});
    const written = await write(ONE, moved, prepared);
    expect(written).toEqual(plain);
    expect(Object.values(written).join('\n')).toContain(':role/moved/flyte-system-role');
    expect(prepared.size).toBe(1);
  });
});
