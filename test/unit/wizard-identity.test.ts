/**
 * The wizard's question of identity (src/wizard/identity.ts): the trade-off said, the three answers, the draft and
 * the saved config around it, and the sections the walk shows for each answer. Driven by a scripted prompter; no AWS.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { podIdentity } from '../../src/sections/pod-identity.js';
import { oidcProvider } from '../../src/sections/oidc-provider.js';
import { draftConfig, draftFromConfig, type Draft } from '../../src/wizard/draft.js';
import { askIdentity, IDENTITY_INTRO } from '../../src/wizard/identity.js';
import { configText } from '../../src/wizard/save.js';
import { wrap } from '../../src/wizard/text.js';
import { ENTER, scriptedPrompter } from '../helpers/script-prompter.js';

const MIN = 'cluster: acme\nbucket: acme-flyte-data\n';

function start(extra = ''): Draft {
  return draftFromConfig(parseConfigText(`${MIN}${extra}`));
}

async function ask(draft: Draft, answer: unknown) {
  const said: string[] = [];
  const prompter = scriptedPrompter([{ select: /How do Flyte's pods get their AWS roles\?/, answer }]);
  const identity = await askIdentity({ prompter, say: (l = '') => said.push(l), draft });
  prompter.expectDone();
  return { identity, said, asked: prompter.asked[0]! };
}

describe("the wizard's identity question", () => {
  it('says the trade-off (no wildcard, a re-run per new project), offers three answers, IRSA by default', async () => {
    const draft = start();
    const { identity, said, asked } = await ask(draft, ENTER);
    expect(identity).toBe('irsa');
    expect(said.filter((l) => l !== '')).toEqual(wrap(IDENTITY_INTRO, 80));
    expect(said.every((l) => l.length <= 80)).toBe(true);
    expect(said.join(' ')).toContain('Pod Identity has no wildcard');
    expect(said.join(' ')).toContain('this setup run again');
    expect(asked.choices).toEqual([
      "IRSA, the cluster's OIDC provider (the Flyte guides)",
      'EKS Pod Identity',
      'Both, to move from IRSA to Pod Identity',
    ]);
    expect(asked.default).toBe('irsa');
    expect(draft.identity).toBeUndefined();
  });

  it('pod-identity: the draft says so, the saved config keeps it, and it is the default the next time', async () => {
    const draft = start();
    await ask(draft, 'pod-identity');
    expect(draft.identity).toBe('pod-identity');
    expect(draftConfig(draft).identity).toBe('pod-identity');
    expect(configText(draft, 'c.yaml')).toMatch(/^identity: pod-identity$/m);
    const again = start('identity: pod-identity\n');
    expect((await ask(again, ENTER)).asked.default).toBe('pod-identity');
    // Back to IRSA: the key leaves the draft (the default).
    await ask(again, 'irsa');
    expect(again.identity).toBeUndefined();
  });

  it('the walk shows the associations only with Pod Identity, and the OIDC provider only with IRSA', () => {
    const irsa = start();
    expect(podIdentity.wizard!.shown!(irsa)).toBe(false);
    expect(oidcProvider.wizard!.shown!(irsa)).toBe(true);
    const pod = start('identity: pod-identity\n');
    expect(podIdentity.wizard!.shown!(pod)).toBe(true);
    expect(oidcProvider.wizard!.shown!(pod)).toBe(false);
    const both = start('identity: both\n');
    expect(podIdentity.wizard!.shown!(both)).toBe(true);
    expect(oidcProvider.wizard!.shown!(both)).toBe(true);
  });
});
