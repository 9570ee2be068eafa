import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files run with modules of their own (the others share their worker's): one sets the environment before a
 * library reads it once, one mocks a module of the source.
 */
const OWN_MODULES = { unit: ['test/unit/progress.test.ts'], e2e: ['test/e2e/extra-section.test.ts'] };

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // End-to-end files spend much of their time waiting (on SDK retry back-off, the CLI's waits, child processes),
    // so one file more than there are cores keeps the CPU busy: 3 on a 2-core machine (Vitest's default would run
    // one file at a time there). Each worker that runs e2e files has its own moto_server.
    maxWorkers: availableParallelism() + 1,
    reporters: ['default'],
    // The SDK's notice about its future Node 22 requirement is not for this package's tests.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // `vitest run --project 'unit*'` (npm run test:unit) or `--project 'e2e*'` (npm run test:e2e); all by default.
    projects: [
      {
        extends: true,
        // Every test file outside test/e2e: no emulator, no build.
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', '**/node_modules/**', ...OWN_MODULES.unit],
          // The files share their worker's modules instead of importing the source and the SDK again each (most of
          // their time); test/helpers/unit-setup.ts gives back what a file stubs.
          isolate: false,
          setupFiles: ['test/helpers/unit-setup.ts'],
        },
      },
      {
        extends: true,
        // The unit files that need modules of their own: ora reads the environment (CI, colours) once, when it is
        // loaded, and these tests set it first.
        test: { name: 'unit-own-modules', include: OWN_MODULES.unit },
      },
      {
        extends: true,
        // It replaces the list of sections (vi.mock) and runs the CLI in-process against an emulator of its own.
        test: { name: 'e2e-own-modules', include: OWN_MODULES.e2e },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...OWN_MODULES.e2e],
          // Shared modules here too (the helpers and the SDK, loaded once per worker); each file has its emulator
          // emptied when it acquires it, and puts back what it changes in the environment.
          isolate: false,
          // The built CLI, which runs in the test's process (test/helpers/cli.ts), is loaded by Node as it is.
          server: { deps: { external: [/\/dist\//] } },
          // Builds the CLI and keeps one moto_server per worker for the whole run (test/helpers/emulator.ts).
          globalSetup: ['test/helpers/e2e-global-setup.ts'],
          setupFiles: ['test/helpers/e2e-setup.ts'],
        },
      },
    ],
  },
});
