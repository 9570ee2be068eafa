/**
 * The test servers in front of the emulator (the fault proxy, the stand-ins): on a free loopback port, each request
 * handled once its body is read, and passed on as it came.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server that hands `handle` each request with its whole body. */
export function bodyServer(handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
}

/** Pass a request on to `target` as it came, and its answer back (a failure to reach it drops the connection). */
export function forward(target: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const upstream = http.request(
    { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => req.socket.destroy());
  upstream.end(body);
}

/** A test server on a free loopback port: its URL, and how to stop it (open connections closed, not waited for). */
export async function listenOnLoopback(server: Server): Promise<{ url: string; stop: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
