/**
 * A section's wizard hooks with their defaults: a section without its own (`SectionDefinition.wizard`) has its
 * config key as its id, is on as the config says, is turned on with the documents' settings and off with `false`.
 */
import { sectionEnabled } from '../sections/derived.js';
import type { SectionDefinition } from '../sections/index.js';
import { defaultSection, draftConfig, type Draft } from './draft.js';

/** Whether the answers have the section on. */
export function sectionIsOn(def: SectionDefinition, draft: Draft): boolean {
  return def.wizard?.isOn ? def.wizard.isOn(draft) : sectionEnabled(draftConfig(draft), def);
}

/** The user said yes to setting up a section the answers had off. */
export function turnSectionOn(def: SectionDefinition, draft: Draft): void {
  if (def.wizard?.turnOn) def.wizard.turnOn(draft);
  else Object.assign(draft, defaultSection(def.id));
}

/** Declined: the saved config leaves the section out, so that it repeats what was done. */
export function turnSectionOff(def: SectionDefinition, draft: Draft): void {
  if (def.wizard?.turnOff) def.wizard.turnOff(draft);
  else Object.assign(draft, { [def.id]: false });
}
