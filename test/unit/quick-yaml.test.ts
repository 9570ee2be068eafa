/**
 * The quick reader of plain YAML (src/load/quick-yaml.ts) must give exactly what the YAML library gives, value and
 * places, or give up: checked on the example configs, the YAML in the documents, hand-written edge cases, and
 * generated documents.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { quickYaml } from '../../src/load/quick-yaml.js';

const ROOT = join(import.meta.dirname, '../..');

/** What the library reads, and where it places a key path (as src/load/config.ts does). */
function library(text: string) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  type Ranged = { range?: [number, number, number] | null };
  const locate = (path: readonly (string | number)[]) => {
    let node: unknown = doc.contents;
    let range = (node as Ranged | null)?.range ?? undefined;
    for (const part of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === part);
        if (pair === undefined) return {};
        range = (pair.key as Ranged).range ?? undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part] as Ranged | undefined;
        if (item === undefined) return {};
        range = item.range ?? undefined;
        node = item;
      } else {
        return {};
      }
    }
    if (range === undefined) return {};
    const pos = lineCounter.linePos(range[0]);
    return { line: pos.line, col: pos.col };
  };
  return { errors: doc.errors.length, value: doc.errors.length === 0 ? doc.toJS() : undefined, locate };
}

/** Every key path of a value, and paths that are not in it. */
function pathsOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [path, [...path, 'missing'], [...path, 7]];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...path, i])));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...path, k]));
  return out;
}

/** Reads `text` both ways; true when the quick reader read it (and then agreed with the library). */
function agrees(text: string): boolean {
  const quick = quickYaml(text);
  if (quick === undefined) return false;
  const lib = library(text);
  expect(lib.errors, text).toBe(0);
  expect(quick.value, text).toEqual(lib.value);
  // The same prototype, so that a key like `constructor` means the same.
  expect(Object.getPrototypeOf(quick.value)).toBe(Object.getPrototypeOf(lib.value));
  for (const path of pathsOf(lib.value))
    expect(quick.locate(path), `${text}\n${JSON.stringify(path)}`).toEqual(lib.locate(path));
  return true;
}

describe('quick YAML reader', () => {
  it('reads the example configs as the library does', () => {
    const dir = join(ROOT, 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(agrees(readFileSync(join(dir, f), 'utf8')), f).toBe(true);
  });

  it('reads the configs in the documents as the library does, or leaves them to it', () => {
    let read = 0;
    let blocks = 0;
    for (const dir of ['docs', '.']) {
      for (const f of readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.md'))) {
        const md = readFileSync(join(ROOT, dir, f), 'utf8');
        for (const m of md.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
          blocks++;
          if (agrees(m[1]!)) read++;
        }
      }
    }
    expect(blocks).toBeGreaterThan(5);
    // Most of them are the plain YAML the reader is for.
    expect(read).toBeGreaterThan(blocks / 2);
  });

  it.each([
    'bucket: b\n',
    'bucket: b\ncluster: c # the cluster\n# a comment\n\nregion: eu-west-1\n',
    "bucket: 'it''s'\nname: \"quoted # not a comment\"\n",
    'a: { name: x, b: y }\nc: [x, y, arn:aws:iam::aws:policy/A]\nd: {}\ne: []\n',
    'a:\n  - x\n  - y\nb:\n- p\n- q\n',
    'projectRoles:\n  - project: a\n    domains: [d]\n  - project: b\n    roleName: r\n',
    'a:\n  b:\n    c: 1\n  d: true\ne: null\nf: ~\ng:\nh: False\n',
    'a: x y  z\nb: http://example.com/x?y=1\nc: a,b\n',
    'a: { k : v }\n',
    'list:\n  - { name: c1, region: eu-west-1 }\n  - c2\n',
    'a: ../schema/x.json\nb: .hidden\n',
  ])('reads %j as the library does', (text) => {
    expect(agrees(text)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['# only a comment\n', 'no content'],
    ['- a\n- b\n', 'a list at the top'],
    ['just a string\n', 'a scalar at the top'],
    ['a: b\na: c\n', 'a duplicate key'],
    ['a: { x: 1, x: 2 }\n', 'a duplicate key in braces'],
    ['a: &x b\nc: *x\n', 'anchors'],
    ['a: !!str 1\n', 'tags'],
    ['a: |\n  text\n', 'a block scalar'],
    ['a: first\n  second\n', 'a plain value over two lines'],
    ['a: "x\\ty"\n', 'escapes'],
    ["a: 'unclosed\n", 'an unclosed quote'],
    ['a: 012\n', 'a number with a leading zero'],
    ['a: 1.5\n', 'a float'],
    ['a: 0x1f\n', 'hex'],
    ['a: -3\n', 'a negative number'],
    ['a: 1e3\n', 'an exponent'],
    ['a: .inf\n', 'infinity'],
    ['a: .5\n', 'a float without a leading digit'],
    ['a: -\n', 'a dash'],
    ['a:\tb\n', 'a tab'],
    ['a: b\r\n', 'a carriage return'],
    ['---\na: b\n', 'a document marker'],
    ['a: [x, [y]]\n', 'nested brackets'],
    ['a: [x, ]\n', 'a trailing comma'],
    ['a: [x: y]\n', 'a mapping in brackets'],
    ['a: { b }\n', 'a key without a value in braces'],
    ['a: [x\n', 'an unclosed bracket'],
    ['a: b: c\n', 'a nested mapping on one line'],
    ["a: 'x'#c\n", 'a comment without a space'],
    ['a:\n  - \n', 'an empty list item'],
    ['a:\n  - - x\n', 'a list in a list on one line'],
    ['a:\n    b: 1\n  c: 2\n', 'a key less indented than its siblings'],
    ['__proto__: x\n', 'a key that would set the prototype'],
    ['? a\n: b\n', 'an explicit key'],
    ['a: é\n', 'text other than ASCII'],
    ['1: x\n', 'a key that is a number'],
    ['a: @x\n', 'a reserved indicator'],
  ])('leaves %j to the library (%s)', (text) => {
    expect(quickYaml(text)).toBeUndefined();
  });

  it('reads generated documents as the library does, or leaves them to it', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const SCALARS = [
      'x',
      'eu-west-1',
      'arn:aws:iam::aws:policy/A',
      'a b',
      'yes',
      'no',
      'on',
      'y',
      'true',
      'False',
      'null',
      '~',
      '',
      '0',
      '7',
      '012',
      '1.0',
      '-1',
      '+1',
      '0x1',
      '0o7',
      '.5',
      '1e3',
      '.nan',
      "'q'",
      "'it''s'",
      '"d"',
      '"a # b"',
      'a#b',
      'a #b',
      'a:b',
      'a: b',
      'a:',
      '-',
      '- x',
      '*',
      '&a',
      '!t',
      '|',
      '>',
      '%',
      '@',
      '`',
      '[x]',
      '{x: y}',
      '[]',
      '{}',
      '[a, b]',
      '{ a: 1, b: c }',
      '[a,b]',
      '{a: b,c: d}',
      '?',
      ',',
      'x,y',
      'x]',
      'x}',
      '#',
      'a # comment',
    ] as const;
    const KEYS = ['a', 'bucket', 'b c', 'x-y', "'q'", '"d"', 'true', '1', 'null', 'a:b', '-a'] as const;
    const block = (depth: number, indent: string): string => {
      const lines: string[] = [];
      const n = 1 + rand(3);
      for (let i = 0; i < n; i++) {
        const key = pick(KEYS);
        const r = rand(depth > 1 ? 3 : 5);
        if (r < 3) lines.push(`${indent}${key}: ${pick(SCALARS)}${rand(4) === 0 ? ' # c' : ''}`);
        else if (r === 3) lines.push(`${indent}${key}:`, block(depth + 1, `${indent}  `));
        else {
          lines.push(`${indent}${key}:`);
          const inner = rand(2) === 0 ? indent : `${indent}  `;
          for (let j = 0; j < 1 + rand(3); j++) {
            if (rand(3) === 0) {
              const sub = block(depth + 2, `${inner}  `).trimStart();
              lines.push(`${inner}- ${sub}`);
            } else lines.push(`${inner}- ${pick(SCALARS)}`);
          }
        }
      }
      return lines.join('\n');
    };
    let read = 0;
    for (let i = 0; i < 3000; i++) if (agrees(`${block(0, '')}\n`)) read++;
    // Enough of them are read quickly for the comparison to mean something.
    expect(read).toBeGreaterThan(200);
  });
});
