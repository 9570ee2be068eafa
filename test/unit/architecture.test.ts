/**
 * The dependency rule (CONTRIBUTING.md, "Architecture"): imports in src/ point down the list of layers below, or
 * sideways within a layer, and no files or folders import each other in a circle. Type-only imports count: they
 * tie the design together as much as the others.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** Top to bottom. A room is a folder of src/, or a file at its root. */
export const LAYERS: readonly (readonly string[])[] = [
  ['front.ts'],
  ['cli.ts'],
  ['commands'],
  ['wizard'],
  ['session'],
  ['render'],
  ['access'],
  ['audit', 'permissions'],
  ['engine', 'handoff', 'load'],
  ['aws', 'sections'],
  ['model.ts'],
  ['config'],
  ['policy', 'util', 'errors.ts', 'version.ts'],
];

const SRC = join(ROOT, 'src');
const IMPORT =
  /(?:^|\s)(?:import|export)\s[^'";]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** src-relative file -> the src-relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) =>
      relative(SRC, normalize(join(dirname(file), (m[1] ?? m[2])!.replace(/\.js$/, '.ts')))),
    );
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

const roomOf = (file: string): string => file.split('/')[0]!;
const layerOf = (room: string): number => LAYERS.findIndex((l) => l.includes(room));

/** Strongly connected components with more than one member (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the dependency rule', () => {
  const graph = importGraph();

  it('reads the imports of every source file', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('cli.ts')).toContain('errors.ts');
  });

  it('places every room of src/ in a layer', () => {
    const rooms = new Set([...graph.keys()].map(roomOf));
    expect([...rooms].filter((r) => layerOf(r) < 0)).toEqual([]);
  });

  it('imports only down the layers, or sideways within one', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const [from, to] = [roomOf(file), roomOf(target)];
        if (from !== to && layerOf(from) > layerOf(to)) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    const rooms = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = roomOf(file);
      const list = rooms.get(from) ?? [];
      for (const t of targets) if (roomOf(t) !== from) list.push(roomOf(t));
      rooms.set(from, list);
    }
    expect(cycles(rooms)).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one (the checks can fail)', () => {
    const bad = new Map([
      ['engine/a.ts', ['model.ts']],
      ['model.ts', ['engine/a.ts']],
    ]);
    expect(cycles(bad)).toEqual([['engine/a.ts', 'model.ts']]);
    expect(layerOf('model.ts')).toBeGreaterThan(layerOf('engine'));
  });
});
