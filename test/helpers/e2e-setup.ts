// Setup file of the end-to-end project (vitest.config.ts): before each file, wait for the run's build of the CLI
// and its check for moto_server (test/helpers/e2e-global-setup.ts).
import { prepareE2eFile } from './emulator.js';

await prepareE2eFile();
