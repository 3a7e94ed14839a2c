/**
 * The self-contained demo target: embedded PostgreSQL + a GraphQL API in front of it, so the
 * checks can run end to end without the user's infrastructure.
 */
import pg from 'pg';
import { startGraphqlServer, type GraphqlServer } from './graphqlServer';
import { startPostgres, type PostgresHandle } from './postgres';
import { DEMO_SCHEMA_SQL, DEMO_SEED_SQL } from './schema.sql';

export interface DemoTarget {
  graphqlUrl: string;
  dbUrl: string;
  postgresPid: number;
  stop(): Promise<void>;
}

export interface StartDemoTargetOptions {
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Where else to look for the PostgreSQL binaries package (see StartPostgresOptions). */
  searchPaths?: string[];
}

const POOL_MAX = 20;

export async function startDemoTarget(opts: StartDemoTargetOptions = {}): Promise<DemoTarget> {
  const log = opts.log ?? (() => undefined);
  const started: { postgres?: PostgresHandle; pool?: pg.Pool; server?: GraphqlServer } = {};
  const stopAll = async () => {
    // Reverse order of start: the server uses the pool, the pool uses postgres.
    await started.server?.close().catch((err: unknown) => log(`Closing the demo GraphQL server failed: ${messageOf(err)}`));
    await started.pool?.end().catch((err: unknown) => log(`Closing the demo database pool failed: ${messageOf(err)}`));
    await started.postgres?.stop();
  };
  try {
    started.postgres = await startPostgres({ log, signal: opts.signal, searchPaths: opts.searchPaths });
    started.pool = createPool(started.postgres.url, log);
    await createSchema(started.pool);
    throwIfAborted(opts.signal);
    started.server = await startGraphqlServer({ pool: started.pool });
    throwIfAborted(opts.signal);
  } catch (err) {
    await stopAll();
    throw err;
  }
  log(`Demo target ready: GraphQL ${started.server.url}, PostgreSQL pid ${started.postgres.pid}`);
  let stopping: Promise<void> | undefined;
  return {
    graphqlUrl: started.server.url,
    dbUrl: started.postgres.url,
    postgresPid: started.postgres.pid,
    stop: () => (stopping ??= stopAll()),
  };
}

function createPool(url: string, log: (line: string) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: POOL_MAX });
  // Without a listener, an idle client's error (e.g. postgres stopped underneath) crashes Node.
  pool.on('error', (err) => log(`Demo database pool: ${err.message}`));
  return pool;
}

async function createSchema(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(DEMO_SCHEMA_SQL);
    await pool.query(DEMO_SEED_SQL);
  } catch (err) {
    throw new Error(`Creating the demo schema failed: ${messageOf(err)}`);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const err = new Error('Starting the demo target was aborted');
  err.name = 'AbortError';
  throw err;
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}
