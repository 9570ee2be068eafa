/**
 * A machine-wide NODE_EXTRA_CA_CERTS makes every Node process read and parse that bundle as it starts: on a machine
 * that sets it for all, about 37 ms of a 60 ms `node -e 0`. Users seldom have one, and the emulator is plain HTTP, so
 * the benchmarks' timed runs leave it out (`npm run bench` measures start-up with it too, for comparison).
 */
export const MACHINE_CA: string | undefined = process.env.NODE_EXTRA_CA_CERTS;

/** The environment without the machine's NODE_EXTRA_CA_CERTS. */
export function withoutMachineCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.NODE_EXTRA_CA_CERTS;
  return copy;
}
