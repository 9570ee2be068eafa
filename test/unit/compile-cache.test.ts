/** Where the built CLI keeps its code cache (src/util/compile-cache.ts); what it writes is tested end to end. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheHome, compileCacheDir } from '../../src/util/compile-cache.js';

const home = () => '/home/ada';

describe('the code cache directory', () => {
  it("is the user's cache directory of each platform, or XDG_CACHE_HOME where it is set", () => {
    expect(cacheHome({}, 'linux', home)).toBe(join('/home/ada', '.cache', 'flyte-aws-setup'));
    expect(cacheHome({ XDG_CACHE_HOME: '/var/cache/ada' }, 'linux', home)).toBe(
      join('/var/cache/ada', 'flyte-aws-setup'),
    );
    // An empty XDG_CACHE_HOME is as if unset (the XDG base directory specification).
    expect(cacheHome({ XDG_CACHE_HOME: '' }, 'linux', home)).toBe(join('/home/ada', '.cache', 'flyte-aws-setup'));
    expect(cacheHome({}, 'darwin', home)).toBe(join('/home/ada', 'Library', 'Caches', 'flyte-aws-setup'));
    // Set, it is the place on every platform.
    expect(cacheHome({ XDG_CACHE_HOME: '/var/cache/ada' }, 'darwin', home)).toBe(
      join('/var/cache/ada', 'flyte-aws-setup'),
    );
    expect(cacheHome({ XDG_CACHE_HOME: 'D:\\cache', LOCALAPPDATA: 'C:\\x' }, 'win32', home)).toBe(
      join('D:\\cache', 'flyte-aws-setup'),
    );
    expect(cacheHome({ LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, 'win32', home)).toBe(
      join('C:\\Users\\ada\\AppData\\Local', 'flyte-aws-setup'),
    );
  });

  it('is none without a home, with NODE_DISABLE_COMPILE_CACHE set, with source maps on, or under sudo', () => {
    const homeless = () => {
      throw new Error('no home');
    };
    expect(cacheHome({}, 'linux', homeless)).toBeUndefined();
    expect(compileCacheDir('abc', { XDG_CACHE_HOME: '/c', NODE_DISABLE_COMPILE_CACHE: '1' }, false)).toBeUndefined();
    // node --enable-source-maps: Node compiles the files itself, to map their stack traces.
    expect(compileCacheDir('abc', { XDG_CACHE_HOME: '/c' }, true)).toBeUndefined();
    // Root under sudo: neither the user's data to trust nor root's to leave in the user's directory.
    expect(compileCacheDir('abc', { XDG_CACHE_HOME: '/c', SUDO_UID: '1000' }, false, 0)).toBeUndefined();
    expect(compileCacheDir('abc', { XDG_CACHE_HOME: '/c' }, false, 0)).toBeDefined();
    expect(compileCacheDir('abc', { XDG_CACHE_HOME: '/c', SUDO_UID: '1000' }, false, 1000)).toBeDefined();
  });

  it('is named for the build, the Node version and the architecture', () => {
    expect(compileCacheDir('0123456789abcdef', { XDG_CACHE_HOME: '/c' }, false, undefined, [])).toBe(
      join('/c', 'flyte-aws-setup', 'code', `0123456789abcdef-${process.version}-${process.arch}`),
    );
  });

  it('keeps the data of runs with Node options apart, by the options (V8 refuses data written under other flags)', () => {
    const dir = (env: NodeJS.ProcessEnv, argv: string[]) =>
      compileCacheDir('0123456789abcdef', { XDG_CACHE_HOME: '/c', ...env }, false, undefined, argv);
    const plain = dir({}, []);
    const ci = dir({ NODE_OPTIONS: '--max-old-space-size=4096' }, []);
    const argv = dir({}, ['--max-old-space-size=4096']);
    const other = dir({ NODE_OPTIONS: '--max-old-space-size=8192' }, []);
    expect(ci).toMatch(
      new RegExp(`0123456789abcdef-${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]{8}$`),
    );
    expect(new Set([plain, ci, other]).size).toBe(3);
    // The same flags, on the command line or in NODE_OPTIONS.
    expect(argv).toBe(ci);
    // A file loaded first (a debugger's, a tracer's preload, often at a temporary path) changes no flag of V8's.
    expect(dir({ NODE_OPTIONS: '--require /tmp/a1/preload.cjs' }, ['--import=/tmp/b2/hook.mjs', '-r', 'x.cjs'])).toBe(
      plain,
    );
    expect(dir({ NODE_OPTIONS: ' --require /tmp/a1/p.cjs  --max-old-space-size=4096 ' }, [])).toBe(ci);
    // The same options, the same directory; blank NODE_OPTIONS is none.
    expect(dir({ NODE_OPTIONS: '--max-old-space-size=4096' }, [])).toBe(ci);
    expect(dir({ NODE_OPTIONS: '  ' }, [])).toBe(plain);
  });
});
