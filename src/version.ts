import { readFileSync } from 'node:fs';

/** Set by the bundler (scripts/build.mjs) to the package version; absent when the sources run as they are. */
declare const FLYTE_AWS_SETUP_VERSION: string | undefined;

/** The package version: fixed at build time, else read from package.json beside the sources. */
export const VERSION: string =
  typeof FLYTE_AWS_SETUP_VERSION === 'string'
    ? FLYTE_AWS_SETUP_VERSION
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
