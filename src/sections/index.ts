/**
 * The sections, in the documents' order: the seven of the main path (seeds 000-003), then Union's global access
 * (seed 003), the cluster VPC's DNS settings (seed 004), EKS Pod Identity's associations, and the grants of other
 * data the tasks need. Every list of sections that other layers switch on
 * is derived from `SECTIONS` (in `./derived.ts`).
 */
import { clusterRole } from './cluster-role.js';
import { clusterVpc } from './cluster-vpc.js';
import { customPolicy } from './custom-policy.js';
import { globalAccess } from './global-access.js';
import { grants } from './grants.js';
import { nodeRole } from './node-role.js';
import { oidcProvider } from './oidc-provider.js';
import { podIdentity } from './pod-identity.js';
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
  podIdentity,
  grants,
];

export type { ConfigRule, RoleClaim, RuleInput, SectionDefinition, SectionContext } from './section.js';
