/**
 * Every list of sections that other layers switch on, derived from `SECTIONS`: none is written by hand, so a new
 * section is in all of them.
 */
import type { Config, SectionId, Target } from '../config/schema.js';
import { SECTIONS } from './index.js';
import { ruleInputOf, type ConfigRule, type RoleClaim, type SectionDefinition } from './section.js';

export function sectionById(id: SectionId): SectionDefinition {
  const found = SECTIONS.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown section ${id}`);
  return found;
}

/** Whether the section serves the target (the chart that installs Flyte, or Union). */
export function servesTarget(section: SectionId | SectionDefinition, target: Target): boolean {
  const def = typeof section === 'string' ? sectionById(section) : section;
  return def.targets === undefined || def.targets.includes(target);
}

/** Whether the config turns the section on: it serves the config's target, and the config enables it. */
export function sectionEnabled(config: Config, section: SectionId | SectionDefinition): boolean {
  const def = typeof section === 'string' ? sectionById(section) : section;
  if (!servesTarget(def, config.target)) return false;
  // Another section that needs the cluster, asked plainly (a section that comes along with those does not count).
  const clusterNeeded = () =>
    SECTIONS.some(
      (s) => s !== def && s.needsCluster && servesTarget(s, config.target) && s.enabled(config, () => false),
    );
  return def.enabled(config, clusterNeeded);
}

/** Why a section the config leaves off is skipped (undefined: simply `<id>: false`). */
export function sectionSkipReason(config: Config, section: SectionId | SectionDefinition): string | undefined {
  const def = typeof section === 'string' ? sectionById(section) : section;
  if (!servesTarget(def, config.target)) {
    const why = def.notFor?.(config.target);
    return `not used with target ${config.target}${why !== undefined ? `: ${why}` : ''}`;
  }
  return def.skipReason?.(config);
}

/** The sections the config turns on that need the EKS cluster (its OIDC issuer). */
export function clusterSectionsOn(config: Config): SectionDefinition[] {
  return SECTIONS.filter((s) => s.needsCluster && sectionEnabled(config, s));
}

/** Whether the section's roles are assumed by pods through the cluster's OIDC provider (IRSA). */
export function isIrsaSection(id: SectionId): boolean {
  return SECTIONS.some((s) => s.id === id && s.identity === 'irsa');
}

/** The roles the config names, in section order: the ones the tool makes, and adopted ones (attachments only). */
export function configRoles(config: Config): (RoleClaim & { section: SectionId })[] {
  const input = ruleInputOf(config);
  return SECTIONS.flatMap((s) =>
    sectionEnabled(config, s) ? (s.roles?.(input) ?? []).map((r) => ({ ...r, section: s.id })) : [],
  );
}

/** Every section's own config rules. */
export function sectionRules(): ConfigRule[] {
  return SECTIONS.flatMap((s) => s.rules ?? []);
}
