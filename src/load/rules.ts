/**
 * The config's rules that span keys, as a list of named rules, each testable alone: the general ones here, then
 * each section's own (`SectionDefinition.rules`). They read the resolved config and name the keys of the file.
 */
import * as rules from '../config/rules.js';
import { TARGETS } from '../config/schema.js';
import type { Problem } from '../errors.js';
import { partitionOfRegion } from '../policy/partition.js';
import { SECTIONS } from '../sections/index.js';
import { clusterSectionsOn, sectionRules, servesTarget } from '../sections/derived.js';
import { partitionProblems, pathText, type ConfigRule } from '../sections/section.js';

export const GENERAL_RULES: readonly ConfigRule[] = [
  {
    name: 'each cluster once',
    check({ config }) {
      const seen = new Map<string, number>();
      return config.clusters.flatMap((c, i): Problem[] => {
        const key = `${c.name}\n${c.region ?? ''}`;
        const first = seen.get(key);
        if (first === undefined) {
          seen.set(key, i);
          return [];
        }
        const where = c.region ?? config.region;
        return [
          {
            path: ['cluster', i],
            message: `names the cluster ${c.name}${where !== undefined ? ` in ${where}` : ''} again (as cluster[${first}]): give each cluster once`,
          },
        ];
      });
    },
  },
  {
    name: "clusters in the config's partition",
    check({ config }) {
      if (config.region === undefined) return [];
      const partition = partitionOfRegion(config.region);
      return config.clusters.flatMap((c, i): Problem[] =>
        c.region !== undefined && partitionOfRegion(c.region) !== partition
          ? [
              {
                path: ['cluster', i, 'region'],
                message: `is in partition ${partitionOfRegion(c.region)}, but region ${config.region} is in ${partition}: one config's clusters share a partition`,
              },
            ]
          : [],
      );
    },
  },
  {
    name: 'cluster given when a section needs it',
    check({ config, input }) {
      const need = clusterSectionsOn(config);
      if (input.cluster !== undefined || need.length === 0) return [];
      return [
        {
          path: ['cluster'],
          message:
            `is required by ${need.map((s) => s.title).join(', ')} (give the EKS cluster name, or turn those off: ` +
            `${need.map((s) => s.off).join(', ')})`,
        },
      ];
    },
  },
  {
    name: 'no section the target does not use',
    check({ config, input }) {
      return SECTIONS.flatMap((s): Problem[] => {
        if (servesTarget(s, config.target)) return [];
        // The section's key, as the file gives it: off (false, or no projects) is fine.
        const given = input[s.id];
        if (given === undefined || given === false || (Array.isArray(given) && given.length === 0)) return [];
        const others = TARGETS.filter((t) => s.targets?.includes(t));
        const why = s.notFor?.(config.target);
        return [
          {
            path: [s.id],
            message:
              `is not used with target ${config.target}${why !== undefined ? ` (${why})` : ''}: remove it ` +
              `(or write ${s.off}), or set target to ${others.join(', ').replace(/, ([^,]+)$/, ' or $1')}`,
          },
        ];
      });
    },
  },
  {
    name: "tags: IAM's rules, and room for the tool's own",
    check({ input }) {
      const tags = input.tags;
      if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) return [];
      const problems: Problem[] = [];
      const entries = Object.entries(tags as Record<string, unknown>);
      const room = rules.MAX_TAGS - rules.TOOL_TAGS_RESERVED;
      if (entries.length > room) {
        problems.push({
          path: ['tags'],
          message:
            `at most ${room} tags (IAM allows ${rules.MAX_TAGS} per resource, and the tool keeps ` +
            `${rules.TOOL_TAGS_RESERVED} for its own: ${rules.MANAGED_BY_KEY}, ${rules.SETUP_KEY} and up to three ` +
            `${rules.ATTACHED_KEY}); got ${entries.length}`,
        });
      }
      for (const [key, value] of entries) {
        if (key === rules.MANAGED_BY_KEY) {
          problems.push({
            path: ['tags', key],
            message: `is the tool's own tag (${rules.MANAGED_BY_KEY}: ${rules.MANAGED_BY_VALUE}); remove it`,
          });
          continue;
        }
        if (key.startsWith(rules.TOOL_TAG_PREFIX)) {
          problems.push({
            path: ['tags', key],
            message: `tag keys that start with ${rules.TOOL_TAG_PREFIX} are the tool's own records; remove it`,
          });
          continue;
        }
        const keyProblem = rules.tagKey(key);
        if (keyProblem) problems.push({ path: ['tags', key], message: keyProblem });
        if (typeof value === 'string') {
          const valueProblem = rules.tagValue(value);
          if (valueProblem) problems.push({ path: ['tags', key], message: valueProblem });
        }
      }
      return problems;
    },
  },
  {
    name: 'permissionsBoundary in the partition of the region',
    check: ({ config }) =>
      config.permissionsBoundary
        ? partitionProblems(config, [[config.permissionsBoundary, ['permissionsBoundary']]])
        : [],
  },
  {
    name: "role names unique across sections; an adopted role is none of the tool's",
    check(r) {
      const problems: Problem[] = [];
      const claims = SECTIONS.flatMap((s) => s.roles?.(r) ?? []);
      /** Lower-cased name → where the config names it first. */
      const made = new Map<string, string>();
      for (const claim of claims.filter((c) => !c.adopted)) {
        const where = made.get(claim.name.toLowerCase());
        if (where !== undefined) {
          problems.push({ path: claim.path, message: `role name "${claim.name}" is already used by ${where}` });
        } else made.set(claim.name.toLowerCase(), pathText(claim.path));
      }
      for (const claim of claims) {
        const where = made.get(claim.name.toLowerCase());
        if (claim.adopted === undefined || where === undefined) continue;
        problems.push({
          path: claim.path,
          message: `"${claim.name}" is the role ${where} makes and manages; ${claim.adopted}`,
        });
      }
      return problems;
    },
  },
];

/** Every rule: the general ones, then each section's own, in section order. */
export function configRules(): ConfigRule[] {
  return [...GENERAL_RULES, ...sectionRules()];
}
