/**
 * A local AWS outside the test runner (the bench): one `moto_server` per caller on a free loopback port, with AWS
 * managed policies loaded. End-to-end test files use test/helpers/emulator.ts instead, which shares one server per
 * test worker and checks for moto_server once per run.
 */
import { hasMotoServer, skipReasonFor } from './moto-server.js';

export { startMoto, type Moto } from './moto-server.js';

export const motoAvailable: boolean = hasMotoServer();

/** Why end-to-end tests are skipped here, or undefined when they run. Throws under CI without the emulator. */
export function motoSkipReason(): string | undefined {
  return skipReasonFor(motoAvailable);
}
