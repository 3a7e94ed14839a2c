/**
 * A benchmark target, run in its own process (`node --import tsx bench/targets/graphql-target.ts
 * --mode graphql|trivial|delay [--delay-ms 10]`) so the load generator never shares its CPU
 * accounting with the server. Listens on 127.0.0.1, port 0, and prints `{"port":N}` on stdout.
 *
 *   graphql  POST /graphql is really executed with graphql-js (parse + validate + execute).
 *   trivial  POST /graphql reads the body and answers a fixed JSON, no GraphQL at all.
 *   delay    like trivial, but answers after a precise fixed delay and measures its own service
 *            time (request end -> response 'finish') in microseconds into an HdrHistogram.
 *
 * Every mode: GET /stats returns the service-time summary (delay mode records; others count
 * only), POST /reset clears it.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as hdr from 'hdr-histogram-js';
import { buildSchema, graphql } from 'graphql';

type Mode = 'graphql' | 'trivial' | 'delay';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const modeArg = arg('--mode') ?? 'graphql';
if (modeArg !== 'graphql' && modeArg !== 'trivial' && modeArg !== 'delay') {
  process.stderr.write(`graphql-target: unknown --mode ${modeArg}\n`);
  process.exit(2);
}
const mode: Mode = modeArg;
const delayMs = Number(arg('--delay-ms') ?? '10');

const schema = buildSchema('type Query { hello: String }');
const TYPENAME = JSON.stringify({ data: { __typename: 'Query' } });

// Same settings as the engine's histograms (src/engine/histogram.ts): µs, 3 significant digits.
const histogram = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 3,
  autoResize: true,
  useWebAssembly: false,
});
let handled = 0;

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function stats(): string {
  const count = histogram.totalCount;
  const ms = (us: number): number => Math.round(us) / 1000;
  // As the engine does: a percentile never reads above the recorded max.
  const pct = (p: number): number | null => (count ? ms(Math.min(histogram.getValueAtPercentile(p), histogram.maxValue)) : null);
  return JSON.stringify({ handled, count, p50: pct(50), p99: pct(99), mean: count ? ms(histogram.mean) : null, max: count ? ms(histogram.maxValue) : null });
}

async function answerGraphql(body: string, res: http.ServerResponse): Promise<void> {
  let query: unknown;
  let variables: unknown;
  try {
    const parsed = JSON.parse(body) as { query?: unknown; variables?: unknown };
    query = parsed.query;
    variables = parsed.variables;
  } catch {
    send(res, 400, JSON.stringify({ errors: [{ message: 'body is not JSON' }] }));
    return;
  }
  if (typeof query !== 'string') {
    send(res, 400, JSON.stringify({ errors: [{ message: 'no query' }] }));
    return;
  }
  const result = await graphql({
    schema,
    source: query,
    variableValues: variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : undefined,
  });
  send(res, 200, JSON.stringify(result));
}

/** Answers after exactly `delayMs`: setTimeout to 2 ms before, then setImmediate until due. */
function answerAfterDelay(res: http.ServerResponse): void {
  const due = performance.now() + delayMs;
  const fire = (): void => {
    if (performance.now() >= due) send(res, 200, TYPENAME);
    else setImmediate(fire);
  };
  if (delayMs > 2) setTimeout(fire, delayMs - 2);
  else fire();
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/stats') {
      send(res, 200, stats());
      return;
    }
    if (req.method === 'POST' && req.url === '/reset') {
      histogram.reset();
      handled = 0;
      send(res, 200, '{"ok":true}');
      return;
    }
    handled++;
    switch (mode) {
      case 'graphql':
        void answerGraphql(Buffer.concat(chunks).toString('utf8'), res).catch((err: unknown) => {
          send(res, 500, JSON.stringify({ errors: [{ message: String(err) }] }));
        });
        return;
      case 'trivial':
        send(res, 200, TYPENAME);
        return;
      case 'delay': {
        const started = performance.now();
        res.on('finish', () => histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000))));
        answerAfterDelay(res);
        return;
      }
    }
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});

const shutdown = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// If the bench dies without stopping us, stdin closes: leave too.
process.stdin.on('end', shutdown);
process.stdin.resume();
