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
    if (r.kind === 'role') {
      const extra = options.extraAttached?.(r.name) ?? [];
      current.set(resourceKey(r), {
        kind: 'role',
        name: r.name,
        arn: r.arn,
        path: r.path,
        trust: r.trust,
        attached: [...r.managedPolicies, ...extra],
        tags: r.tags,
      });
    } else if (r.kind === 'policy') {
      current.set(resourceKey(r), {
        kind: 'policy',
        arn: r.arn,
        name: r.name,
        path: r.path,
        defaultVersionId: 'v1',
        document: r.document,
        tags: r.tags,
      });
    } else if (r.kind === 'oidc-provider') {
      current.set(resourceKey(r), {
        kind: 'oidc-provider',
        arn: r.arn,
        url: r.url,
        clientIds: r.clientIds,
        tags: r.tags,
      });
    } else if (r.kind === 'bucket' && options.bucket !== false) {
      current.set(resourceKey(r), { kind: 'bucket', name: r.name, region: r.region });
    }
  }
  return current;
}
