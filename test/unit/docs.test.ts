/**
 * The Markdown documentation: every relative link in the files at the root and in docs/ leads to a file that exists,
 * and its `#anchor` to a heading of the target (as GitHub makes heading anchors); the README stays a front page.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

const MARKDOWN = [
  ...readdirSync(ROOT).filter((f) => f.endsWith('.md')),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
].sort();

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** The text outside fenced code blocks, line by line (a fence may be indented, as in a list item). */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) fence = marker;
    else if (fence !== undefined && marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length)
      fence = undefined;
    else if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor for a heading: its text lower-cased, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .replace(/<[^>]+>/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a file has: one per heading (repeats get -1, -2, ...), and any `<a id>` or `<a name>`. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(m[1]!);
  }
  return found;
}

/** The link targets of a file, outside code: inline links and images, and reference definitions. */
function links(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of prose(markdown)) {
    const text = line.replace(/(`+)[\s\S]*?\1/g, '');
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(text);
    if (definition) {
      targets.push(definition[1]!);
      continue;
    }
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  }
  return targets;
}

/** What is wrong with each relative link of a file: a target that does not exist, or an anchor it does not have. */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const target of links(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const hash = target.indexOf('#');
    const path = decodeURI(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved =
      path === ''
        ? join(ROOT, file)
        : resolve(path.startsWith('/') ? ROOT : dirname(join(ROOT, file)), path.replace(/^\//, ''));
    const inRepo = relative(ROOT, resolved);
    if (inRepo.startsWith(`..${sep}`) || inRepo === '..') {
      broken.push(`${target}: outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (extname(resolved) !== '.md') {
      if (!/^L\d+(-L\d+)?$/.test(anchor)) broken.push(`${target}: an anchor in a file that is not Markdown`);
      continue;
    }
    if (!anchors(readFileSync(resolved, 'utf8')).has(anchor)) {
      broken.push(`${target}: ${relative(ROOT, resolved)} has no heading with the anchor #${anchor}`);
    }
  }
  return broken;
}

describe('the link checker', () => {
  it("makes GitHub's heading anchors", () => {
    expect(slug('Hand-off to Flyte: `outputs`')).toBe('hand-off-to-flyte-outputs');
    expect(slug("The cluster VPC's DNS settings (`vpcDns`)")).toBe('the-cluster-vpcs-dns-settings-vpcdns');
    expect(slug('Speed, install size and throttling')).toBe('speed-install-size-and-throttling');
    expect(slug('`flyte-aws-setup permissions`')).toBe('flyte-aws-setup-permissions');
    expect([...anchors('# A\n## B\n## B\n```\n# not a heading\n```\n')]).toEqual(['a', 'b', 'b-1']);
  });

  it('finds links in prose and tables, not in code', () => {
    const text = [
      'See [one](a.md#x) and ![two](b.png "title").',
      '| [three](c.md) | `[not](d.md)` |',
      '[ref]: e.md',
      '```',
      '[not](f.md)',
      '```',
    ].join('\n');
    expect(links(text)).toEqual(['a.md#x', 'b.png', 'c.md', 'e.md']);
  });
});

describe('the Markdown files', () => {
  it('are the README, CONTRIBUTING.md and the pages in docs/', () => {
    expect(MARKDOWN).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/config.md']));
  });

  it.each(MARKDOWN)('%s: every relative link leads to a file and a heading that exist', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe('the README', () => {
  const readme = read('README.md');

  it('stays a front page: short, naming the test command', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
    expect(readme).toContain('npm test');
  });

  it('links every page in docs/', () => {
    const pages = MARKDOWN.filter((f) => f.startsWith('docs/'));
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.filter((page) => !links(readme).some((l) => l.split('#')[0] === page))).toEqual([]);
  });
});
