/**
 * Credentials never appear in any output. The tool never prints them on purpose; as a second line of defence,
 * every line it writes passes through `redact`, which hides the values it knows are secret: the keys and session
 * token from the environment and, once resolved, those of the credential provider (a profile, SSO, a role).
 */
const secrets = new Set<string>();

/** Remember values that must never be printed (short values are ignored: they would mask ordinary text). */
export function addSecrets(...values: (string | undefined)[]): void {
  for (const v of values) if (v !== undefined && v.length >= 8) secrets.add(v);
}

export function secretsFromEnv(env: NodeJS.ProcessEnv): void {
  addSecrets(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN);
}

export const REDACTED = '[redacted]';

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/**
 * A stream whose `write` redacts text; everything else (isTTY, columns, events) is the stream's own. The proxy owns
 * its `write`: a library that hooks it (ora does, to keep its spinner clear of other output) hooks the proxy's,
 * and its hook ends, through the redacting write, in the stream's own.
 */
export function redactingStream<T extends NodeJS.WritableStream>(stream: T): T {
  const base = stream.write;
  const redacting = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    return (base as (...args: unknown[]) => boolean).call(stream, text === undefined ? chunk : redact(text), ...rest);
  };
  let write: unknown = redacting;
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write') return write;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set(target, prop, value) {
      if (prop === 'write') {
        write = value;
        return true;
      }
      return Reflect.set(target, prop, value, target);
    },
  });
}
