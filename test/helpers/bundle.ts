/** What the build left in build/metafile.json (esbuild's view of the bundle), for the package test and bench. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/** The metafile of the last `npm run build`. */
export function readMetafile(): Metafile {
  return JSON.parse(readFileSync(join(ROOT, 'build/metafile.json'), 'utf8')) as Metafile;
}

/** The packages the sources import, as the bundler saw them. */
export function importedPackages(meta: Metafile = readMetafile()): string[] {
  const names = new Set<string>();
  for (const [file, input] of Object.entries(meta.inputs)) {
    if (!file.startsWith('src/')) continue;
    for (const i of input.imports) {
      const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i.path);
      if (m) names.add(m[1]!);
    }
  }
  return [...names].sort();
}
