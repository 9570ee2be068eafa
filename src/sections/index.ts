/**
 * The sections, in the documents' order: the seven of the main path (seeds 000-003), then Union's global access
 * (seed 003) and the cluster VPC's DNS settings (seed 004).
 */
import type { SectionId } from '../config/schema.js';
import { clusterRole } from './cluster-role.js';
import { clusterVpc } from './cluster-vpc.js';
import { customPolicy } from './custom-policy.js';
import { globalAccess } from './global-access.js';
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
  globalAccess,
  clusterVpc,
];

export function sectionById(id: SectionId): SectionDefinition {
  const found = SECTIONS.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown section ${id}`);
  return found;
}

export type { SectionDefinition, SectionContext } from './section.js';
