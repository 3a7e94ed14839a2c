/**
 * A small GraphQL API shaped like the user's (usage buffer + users), so the load checks have a
 * real HTTP + GraphQL + PostgreSQL path to measure when no target is configured.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildSchema,
  execute,
  parse,
  specifiedRules,
  validate,
  GraphQLError,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import type pg from 'pg';

export interface GraphqlServer {
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  close(): Promise<void>;
}

const SDL = /* GraphQL */ `
  type Query {
    usage(userId: String!): Usage
    users(limit: Int = 10): [User!]!
  }
  type Mutation {
    recordUsage(userId: String!, requests: Int = 1, bandwidth: Int = 0, compute: Int = 0): Usage!
  }
  type Usage {
    userId: String!
    requests: Float!
    bandwidth: Float!
    compute: Float!
    updatedAt: String
  }
  type User {
    id: ID!
    name: String!
  }
`;

/** The user's production upsert, verbatim: atomic increments under concurrency. */
const RECORD_USAGE_SQL =
  'INSERT INTO "UsageBuffer" ("userId","bandwidth","compute","requests","updatedAt") VALUES ($1,$2,$3,$4,NOW()) ' +
  'ON CONFLICT ("userId") DO UPDATE SET "bandwidth" = "UsageBuffer"."bandwidth" + EXCLUDED."bandwidth", ' +
  '"compute" = "UsageBuffer"."compute" + EXCLUDED."compute", "requests" = "UsageBuffer"."requests" + EXCLUDED."requests", ' +
  '"updatedAt" = NOW() RETURNING *';
const USAGE_SQL = 'SELECT * FROM "UsageBuffer" WHERE "userId" = $1';
const USERS_SQL = 'SELECT id, name FROM "User" ORDER BY id LIMIT $1';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_USERS = 1000;
const DOCUMENT_CACHE_SIZE = 500;
const KEEP_ALIVE_MS = 65_000;

interface UsageRow {
  userId: string;
  requests: number;
  bandwidth: number;
  compute: number;
  updatedAt: Date | string | null;
}

interface Usage {
  userId: string;
  requests: number;
  bandwidth: number;
  compute: number;
  updatedAt: string | null;
}

export async function startGraphqlServer(opts: { pool: pg.Pool }): Promise<GraphqlServer> {
  const schema = buildSchema(SDL);
  const documents = new DocumentCache(schema, DOCUMENT_CACHE_SIZE);
  const rootValue = makeRoot(opts.pool);
  const server = http.createServer((req, res) => {
    handle(req, res, { schema, documents, rootValue }).catch((err: unknown) => {
      sendJson(res, 500, { errors: [{ message: `Internal server error: ${errorMessage(err)}` }] });
    });
  });
  // Load generators reuse connections; a short idle timeout would make them measure reconnects.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  const port = await listen(server);
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would otherwise hold close() open for up to 65 s.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`GraphQL demo server cannot listen on 127.0.0.1: ${err.message}`)));
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

// ---------------------------------------------------------------------------------------------
// Resolvers

function makeRoot(pool: pg.Pool): Record<string, unknown> {
  return {
    usage: async (args: { userId: string }): Promise<Usage | null> => {
      const { rows } = await pool.query<UsageRow>(USAGE_SQL, [args.userId]);
      return rows[0] ? toUsage(rows[0]) : null;
    },
    users: async (args: { limit?: number | null }) => {
      const limit = Math.max(0, Math.min(args.limit ?? 10, MAX_USERS));
      const { rows } = await pool.query<{ id: number; name: string }>(USERS_SQL, [limit]);
      return rows;
    },
    recordUsage: async (args: { userId: string; requests?: number | null; bandwidth?: number | null; compute?: number | null }): Promise<Usage> => {
      const params = [args.userId, args.bandwidth ?? 0, args.compute ?? 0, args.requests ?? 1];
      const { rows } = await pool.query<UsageRow>(RECORD_USAGE_SQL, params);
      if (!rows[0]) throw new Error('recordUsage upsert returned no row');
      return toUsage(rows[0]);
    },
  };
}

function toUsage(row: UsageRow): Usage {
  // GraphQL's String would serialize a Date via valueOf() as epoch millis; ISO is what clients expect.
  const updatedAt = row.updatedAt instanceof Date ? row.updatedAt.toISOString() : row.updatedAt;
  return { userId: row.userId, requests: row.requests, bandwidth: row.bandwidth, compute: row.compute, updatedAt };
}

// ---------------------------------------------------------------------------------------------
// HTTP handling

interface Context {
  schema: GraphQLSchema;
  documents: DocumentCache;
  rootValue: Record<string, unknown>;
}

interface GraphqlRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, ctx: Context): Promise<void> {
  const pathname = (req.url ?? '/').split('?')[0];
  if (pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
    return sendText(res, 200, 'ok');
  }
  if (pathname !== '/graphql') return sendText(res, 404, 'not found');
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return sendJson(res, 405, { errors: [{ message: 'Use POST for /graphql' }] });
  }
  const body = await readBody(req);
  if (body === undefined) return sendJson(res, 413, { errors: [{ message: `Request body exceeds ${MAX_BODY_BYTES} bytes` }] });
  const parsed = parseRequest(body);
  if (typeof parsed === 'string') return sendJson(res, 400, { errors: [{ message: parsed }] });
  const document = ctx.documents.get(parsed.query);
  if (!isDocument(document)) return sendJson(res, 400, { errors: document.map((e) => e.toJSON()) });
  const result = await execute({
    schema: ctx.schema,
    document,
    rootValue: ctx.rootValue,
    variableValues: parsed.variables,
    operationName: parsed.operationName,
  });
  // No `data` at all means the request failed before execution (bad variables, unknown
  // operation): a client error, as in the GraphQL-over-HTTP convention.
  sendJson(res, 'data' in result ? 200 : 400, result);
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Returns the request or a one-line reason it is malformed. */
function parseRequest(body: string): GraphqlRequest | string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'Request body is not valid JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'Request body must be a JSON object';
  const { query, variables, operationName } = json as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') return 'Request needs a non-empty "query" string';
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return '"variables" must be an object';
  if (operationName != null && typeof operationName !== 'string') return '"operationName" must be a string';
  return {
    query,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: (operationName ?? undefined) as string | undefined,
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------
// Parse + validate once per distinct query string: a load test sends the same few queries
// thousands of times and should measure the server, not the parser.

type CachedDocument = DocumentNode | readonly GraphQLError[];

function isDocument(value: CachedDocument): value is DocumentNode {
  return !Array.isArray(value);
}

class DocumentCache {
  private readonly entries = new Map<string, CachedDocument>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly maxEntries: number,
  ) {}

  get(query: string): CachedDocument {
    const hit = this.entries.get(query);
    if (hit) return hit;
    const value = this.compile(query);
    // Map keeps insertion order, so the first key is the oldest entry.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(query, value);
    return value;
  }

  private compile(query: string): CachedDocument {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (err) {
      return [err instanceof GraphQLError ? err : new GraphQLError(errorMessage(err))];
    }
    const errors = validate(this.schema, document, specifiedRules);
    return errors.length > 0 ? errors : document;
  }
}
