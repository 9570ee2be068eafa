/** The seven sections, in the documents' order. */
import type { SectionId } from '../config/schema.js';
import { clusterRole } from './cluster-role.js';
import { customPolicy } from './custom-policy.js';
import { nodeRole } from './node-role.js';
import { oidcProvider } from './oidc-provider.js';
import { projectRoles } from './project-roles.js';
import type { SectionDefinition } from './section.js';
import { systemRole } from './system-role.js';
import { workersRole } from './workers-role.js';

export const SECTIONS: readonly SectionDefinition[] = [
  clusterRole,
  nodeRole,
  oidcProvider,
  customPolicy,
  systemRole,
  workersRole,
  projectRoles,
];

export function sectionById(id: SectionId): SectionDefinition {
  const found = SECTIONS.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown section ${id}`);
  return found;
}

export type { SectionDefinition, SectionContext } from './section.js';
