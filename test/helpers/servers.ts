import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  /** Requests the server received. */
  received(): number;
  /** The server's own measure of each request it handled, in ms (read to end -> response end). */
  serviceTimesMs: number[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

/** A real HTTP server on 127.0.0.1, port 0. The handler gets each request's 0-based index. */
export async function startServer(handler: Handler): Promise<TestServer> {
  let count = 0;
  const serviceTimesMs: number[] = [];
  const server = http.createServer((req, res) => {
    const index = count++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const started = performance.now();
      res.on('finish', () => serviceTimesMs.push(performance.now() - started));
      handler(req, res, index);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received: () => count,
    serviceTimesMs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const TYPENAME = JSON.stringify({ data: { __typename: 'Query' } });

export function sendJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers every request with `{"data":{"__typename":"Query"}}` after a fixed delay, to within a
 * few microseconds: a plain setTimeout fires up to a millisecond late, so the last two
 * milliseconds are waited out with setImmediate (which still lets other sockets be served).
 */
export function fixedDelay(delayMs: number): Handler {
  return (_req, res) => {
    const due = performance.now() + delayMs;
    const fire = (): void => {
      if (performance.now() >= due) sendJson(res, 200, TYPENAME);
      else setImmediate(fire);
    };
    if (delayMs > 2) setTimeout(fire, delayMs - 2);
    else fire();
  };
}
