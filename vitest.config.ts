import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end files each start their own emulator and run the built CLI as a child process.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most end-to-end time is spent waiting on the emulator and child processes: two files at once halve the wall
    // time on a 2-core machine (the default would run them one by one there); more gain little and add contention.
    maxWorkers: 2,
    reporters: ['default'],
    // The SDK's notice about its future Node 22 requirement is not for this package's tests.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
