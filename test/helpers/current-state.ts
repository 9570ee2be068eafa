/** What AWS holds when it matches the config: the current state of each desired resource, for planner tests. */
import { resourceKey } from '../../src/engine/plan.js';
import type { CurrentResource, DesiredResource } from '../../src/model.js';

export interface AsWantedOptions {
  /** Policies attached to a role beyond the config's, by role name. */
  extraAttached?: (roleName: string) => string[];
  /** Whether the bucket exists (default: yes). */
  bucket?: boolean;
}

/** Each desired role, policy, provider (and bucket) as AWS would hold it after a run. */
export function currentAsWanted(
  resources: DesiredResource[],
  options: AsWantedOptions = {},
): Map<string, CurrentResource> {
  const current = new Map<string, CurrentResource>();
  for (const r of resources) {
    const found = asWanted(r, options);
    if (found !== undefined) current.set(resourceKey(r), found);
  }
  return current;
}

/**
 * One desired resource as AWS holds it after a run: a role with its boundary and the policies attached to it (its
 * own, the ones another section attaches, `extraAttached`), a policy with its roles; undefined for the other kinds.
 */
export function asWanted(r: DesiredResource, options: AsWantedOptions = {}): CurrentResource | undefined {
  switch (r.kind) {
    case 'role':
      return {
        kind: 'role',
        name: r.name,
        arn: r.arn,
        path: r.path,
        trust: r.trust,
        attached: [...r.managedPolicies, ...(r.alsoAttached ?? []), ...(options.extraAttached?.(r.name) ?? [])],
        ...(r.boundary !== undefined ? { boundary: r.boundary } : {}),
        tags: r.tags,
      };
    case 'policy':
      return {
        kind: 'policy',
        arn: r.arn,
        name: r.name,
        path: r.path,
        defaultVersionId: 'v1',
        document: r.document,
        tags: r.tags,
        ...(r.attachTo !== undefined ? { attachedRoles: r.attachTo } : {}),
      };
    case 'oidc-provider':
      return { kind: 'oidc-provider', arn: r.arn, url: r.url, clientIds: r.clientIds, tags: r.tags };
    case 'bucket':
      return options.bucket !== false ? { kind: 'bucket', name: r.name, region: r.region } : undefined;
    default:
      return undefined;
  }
}
