/**
 * The wizard's question of the target (src/wizard/target.ts), and the draft and saved config around it: the
 * sections that come and go with the target, the backend's service accounts written the target's way, a saved
 * config that keeps its target. Driven by a scripted prompter; no AWS.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { draftConfig, draftForTarget, draftFromConfig, type Draft } from '../../src/wizard/draft.js';
import { configText } from '../../src/wizard/save.js';
import { askTarget, TARGET_INTRO } from '../../src/wizard/target.js';
import { wrap } from '../../src/wizard/text.js';
import { ENTER, scriptedPrompter } from '../helpers/script-prompter.js';

const MIN = 'cluster: acme\nbucket: acme-flyte-data\n';

function start(extra = ''): Draft {
  return draftFromConfig(parseConfigText(`${MIN}${extra}`));
}

async function ask(draft: Draft, answer: unknown) {
  const said: string[] = [];
  const prompter = scriptedPrompter([{ select: /Which will install Flyte\?/, answer }]);
  const target = await askTarget({ prompter, say: (l = '') => said.push(l), draft });
  prompter.expectDone();
  return { target, said, asked: prompter.asked[0]! };
}

describe('the question', () => {
  it('explains the difference in a paragraph fitted to 80 columns, offers the four targets, defaults to flyte-binary', async () => {
    const draft = start();
    const { target, said, asked } = await ask(draft, ENTER);
    expect(target).toBe('flyte-binary');
    expect(said.filter((l) => l !== '')).toEqual(wrap(TARGET_INTRO, 80));
    expect(said.every((l) => l.length <= 80)).toBe(true);
    expect(said.join(' ').replace(/\s+/g, ' ').trim()).toBe(TARGET_INTRO);
    expect(asked.choices).toEqual([
      'flyte-binary v1.16.8 (Flyte 1, the documents)',
      'flyte-core v1.16.8 (Flyte 1, a pod per component)',
      'flyte-binary v2.0.42 (Flyte 2)',
      'Union data plane',
    ]);
    expect(asked.default).toBe('flyte-binary');
    // Nothing changes for the default: the draft is the documents' setup still.
    expect(draft).toEqual(start());
  });

  it('a config the wizard starts from keeps its target: it is the default answer', async () => {
    const draft = start('target: flyte-core\n');
    const { target, asked } = await ask(draft, ENTER);
    expect(asked.default).toBe('flyte-core');
    expect(target).toBe('flyte-core');
    expect(draftConfig(draft).target).toBe('flyte-core');
  });

  it('flyte2: the workers role and the projects leave the draft; it stays valid', async () => {
    const draft = start('projectRoles: [{ project: fraud }]\n');
    await ask(draft, 'flyte2');
    expect(draft.target).toBe('flyte2');
    expect(draft.workersRole).toBeUndefined();
    expect(draft.projectRoles).toEqual([]);
    const config = draftConfig(draft);
    expect(config.target).toBe('flyte2');
    expect(config.systemRole).toMatchObject({ serviceAccount: 'flyte-backend-flyte-binary' });
  });

  it('flyte-core: the backend role trusts its components (the default list), not one service account', async () => {
    const draft = start();
    await ask(draft, 'flyte-core');
    expect(draft.systemRole).toEqual({ name: 'flyte-system-role' });
    expect(draftConfig(draft).target).toBe('flyte-core');
  });

  it('union: no backend and no workers role; back to flyte-binary, they return with their defaults', async () => {
    const draft = start();
    await ask(draft, 'union');
    expect(draft.systemRole).toBeUndefined();
    expect(draft.workersRole).toBeUndefined();
    expect(draftConfig(draft).target).toBe('union');
    await ask(draft, 'flyte-binary');
    expect(draft.target).toBeUndefined();
    expect(draftConfig(draft)).toEqual(draftConfig(start()));
  });
});

describe('draft and saved config', () => {
  it('a section turned off stays off across targets', () => {
    const off = draftForTarget(start('workersRole: false\n'), 'flyte-core');
    expect(off.workersRole).toBe(false);
  });

  it.each(['flyte-binary', 'flyte-core', 'flyte2', 'union'] as const)(
    '%s: the saved file reads back as the same config, and names the target with a comment',
    (target) => {
      const config = draftConfig(draftForTarget(start(), target));
      const text = configText(draftFromConfig(config), 'flyte-aws-setup.yaml');
      expect(parseConfigText(text)).toEqual(config);
      if (target === 'flyte-binary') {
        expect(text).not.toContain('target:');
      } else {
        expect(text).toContain(
          `# The chart that installs Flyte (or union): which roles, whom they trust, the hand-off files.\ntarget: ${target}\n`,
        );
      }
    },
  );

  it('flyte-core with a list of its own: saved as the list', () => {
    const config = parseConfigText(
      `${MIN}target: flyte-core\nsystemRole: { serviceAccounts: [flyteadmin, flytepropeller, datacatalog, flytescheduler] }\n`,
    );
    const text = configText(draftFromConfig(config), 'flyte-aws-setup.yaml');
    expect(text).toContain(
      'systemRole: { name: flyte-system-role, serviceAccounts: [flyteadmin, flytepropeller, datacatalog, flytescheduler] }',
    );
    expect(parseConfigText(text)).toEqual(config);
  });
});
