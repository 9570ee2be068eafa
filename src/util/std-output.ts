/**
 * The process's stdout and stderr, as the CLI writes to them.
 *
 * - `guardStdStreams()`: Node's own streams (process.stdout and process.stderr) stop writing, instead of crashing
 *   the run, once their reader has gone (`| head` closes the pipe: not an error of this command, and a change in AWS
 *   must not stop half-way for it).
 * - `stdOutput(fd)`: what the CLI writes its output through. Making Node's stream for a pipe or a socket loads
 *   Node's stream and socket modules: about 4 ms of an offline dry run, for a few lines. So output is written with
 *   `fs.writeSync` where that cannot keep the run waiting: to a file (on Linux and macOS); and on Linux, to a pipe or
 *   a socket (CI, scripts, `| jq`) for its first 8 KiB, well under what either holds, so that a reader that does not
 *   read cannot stop the run (Node's stream queues what the reader has not taken; a write to a full pipe would wait
 *   for it). Beyond that, to a terminal, and on other platforms, Node's stream writes (colours, columns, the spinner
 *   and the prompts need a terminal's).
 */
import { fstatSync, writeSync as fsWriteSync } from 'node:fs';

export type StdName = 'stdout' | 'stderr';
export type StdOutput = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

function guard(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!GONE.has(err.code ?? '')) throw err;
  });
  return stream;
}

/**
 * Make process.stdout and process.stderr stop writing quietly once their reader has gone, whoever makes them (this
 * CLI, or Node for a warning): each is guarded as Node makes it, on first use, rather than made here to be guarded.
 * Run once, first thing.
 */
export function guardStdStreams(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name);
    const get = descriptor?.get;
    if (get === undefined || descriptor?.configurable !== true) {
      guard(process[name]);
      continue;
    }
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      ...descriptor,
      get: () => (stream ??= guard(get.call(process) as NodeJS.WriteStream)),
    });
  }
}

/**
 * What is written straight to a pipe or a Unix socket, in all: well under what either holds with Linux's defaults,
 * so that a reader that does not read cannot keep a write waiting (a pipe holds 64 KiB; a socket about 208 KiB, less
 * some 800 bytes for each write, which `SOCKET_WRITE_BYTES` stands for).
 */
export const PIPE_BYTES = 8 * 1024;
/** What each write to a socket is counted as, on top of its bytes. */
export const SOCKET_WRITE_BYTES = 1024;

/**
 * What may be written straight to `fd`: in bytes, and what each write counts for on top. A file's writes never wait
 * (as many as come); a pipe's or a socket's, on Linux, as many as it surely holds; anything else none (Node's stream
 * for it).
 */
function directBytes(fd: number): { limit: number; perWrite: number } {
  const none = { limit: 0, perWrite: 0 };
  if (process.platform !== 'linux' && process.platform !== 'darwin') return none;
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) return { limit: Infinity, perWrite: 0 };
    if (process.platform !== 'linux') return none;
    if (stat.isFIFO()) return { limit: PIPE_BYTES, perWrite: 0 };
    return stat.isSocket() ? { limit: PIPE_BYTES, perWrite: SOCKET_WRITE_BYTES } : none;
  } catch {
    // Closed, or not to be looked at: Node's stream knows what to do with it.
    return none;
  }
}

/**
 * What the CLI writes fd 1 (`stdout`) or 2 (`stderr`) through: `fdOutput` for it where writes may go straight to
 * it, else Node's stream (process.stdout, process.stderr).
 */
export function stdOutput(name: StdName): StdOutput {
  const fd = name === 'stdout' ? 1 : 2;
  const { limit, perWrite } = directBytes(fd);
  // Node's stream for the descriptor, made on first use (process.stdout and process.stderr are made once, and kept).
  return limit > 0 ? fdOutput(fd, () => process[name], limit, fsWriteSync, perWrite) : process[name];
}

/**
 * A stream whose `write` goes straight to the file descriptor `fd`, with `fs.writeSync`, for its first `limit` bytes
 * in all (each write counted as `perWrite` more). Any other member, a write that would go past the limit, and every
 * write after it or after the descriptor refused one (a non-blocking pipe that is full), go to `nodeStream()`, in
 * order. A reader that has gone (EPIPE) ends the writing, quietly, as Node's guarded stream does. `writeSync` is
 * there for the tests.
 */
export function fdOutput(
  fd: number,
  nodeStream: () => NodeJS.WritableStream,
  limit = Infinity,
  writeSync: typeof fsWriteSync = fsWriteSync,
  perWrite = 0,
): StdOutput {
  const toNode = (...args: unknown[]): boolean => {
    const stream = nodeStream();
    return (stream.write as (...a: unknown[]) => boolean).apply(stream, args);
  };
  let handedOver = false;
  let gone = false;
  let written = 0;
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const cb = typeof encoding === 'function' ? encoding : callback;
    if (handedOver) return toNode(chunk, ...[encoding, callback].filter((a) => a !== undefined));
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : (chunk as Uint8Array);
    if (!gone && written + bytes.length + perWrite > limit) {
      handedOver = true;
      return toNode(bytes, cb);
    }
    written += bytes.length + perWrite;
    let done = 0;
    try {
      while (!gone && done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EPIPE') {
        gone = true;
      } else {
        // EAGAIN (a non-blocking pipe that is full), or anything else: Node's stream takes it from here, in order.
        handedOver = true;
        return toNode(bytes.subarray(done), cb);
      }
    }
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    return true;
  };
  return new Proxy({} as StdOutput, {
    get(_, prop) {
      if (prop === 'write') return write;
      // A file, a pipe or a socket: no terminal, no width (Node's stream for one has neither).
      if (prop === 'isTTY' || prop === 'columns') return undefined;
      const target = nodeStream();
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    has: (_, prop) => prop === 'write' || prop === 'isTTY' || prop === 'columns' || prop in nodeStream(),
  });
}
