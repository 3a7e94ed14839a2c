/**
 * Everything that can be checked before the first increment: the options, the connection, the
 * table, its columns and the statements. Each problem is an InputError with one line naming it
 * (exit 2); nothing is written to the table here (statements are prepared and explained, never
 * executed).
 */
import pg from 'pg';
import { InputError } from '../../errors';
import { redactText, redactUrl, secretsOf } from '../../redact';
import { sqlstateOf } from './classify';
import {
  buildCountRowsSql,
  buildFlushStatements,
  buildUpsertSql,
  flushStatementProblem,
  normalizeStatement,
  quoteIdent,
  tableLabel,
} from './sql';
import type { UsageBufferOptions, UsageBufferTable } from './types';

export const APP_LOAD = 'phase3-usage-buffer';
export const APP_CONTROL = 'phase3-usage-buffer-control';
export const APP_FLUSH = 'phase3-usage-buffer-flush';

const RUN_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CONNECT_TIMEOUT_MS = 10_000;
const CONTROL_STATEMENT_TIMEOUT_MS = 60_000;

/** Checks the options alone (no connection). */
export function validateOptions(o: UsageBufferOptions): void {
  const problems: string[] = [];
  const positiveInt = (name: string, v: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(v) || v < 1 || v > max) problems.push(`usage-buffer: ${name} must be a whole number from 1 to ${max}, got ${v}`);
  };
  if (o.dbUrl === undefined && !o.script) problems.push('usage-buffer: needs a database URL (--db-url or PHASE3_DB_URL) or a test script to run');
  if (o.dbUrl !== undefined) {
    positiveInt('operations', o.operations, 10_000_000);
    positiveInt('concurrency', o.concurrency, 1000);
    positiveInt('keys', o.keys, 1_000_000);
    positiveInt('statementTimeoutMs', o.statementTimeoutMs);
    positiveInt('clientTimeoutMs', o.clientTimeoutMs);
    if (!Number.isInteger(o.maxRetries) || o.maxRetries < 0) problems.push(`usage-buffer: maxRetries must be a whole number >= 0, got ${o.maxRetries}`);
    if (!RUN_ID.test(o.runId)) problems.push(`usage-buffer: runId "${o.runId}" must be 1-64 letters, digits, '.', '_', ':' or '-'`);
    for (const [field, value] of Object.entries(o.table) as Array<[keyof UsageBufferTable, string | null]>) {
      if (value === null && (field === 'schema' || field === 'updatedAt')) continue;
      if (typeof value !== 'string' || value.length === 0) problems.push(`usage-buffer: table.${field} must be a non-empty name`);
    }
    if (o.upsertSql !== undefined && o.upsertSql.trim() === '') problems.push('usage-buffer: upsertSql is empty');
    if (o.flush) {
      if (!(o.flush.everyMs >= 0)) problems.push(`usage-buffer: flush.everyMs must be >= 0, got ${o.flush.everyMs}`);
      if (o.flush.mode === 'custom') {
        const statements = o.flush.statements ?? [];
        if (statements.length === 0) problems.push('usage-buffer: flush mode "custom" needs flush.statements');
        statements.forEach((sql, i) => {
          const problem = flushStatementProblem(sql);
          if (problem) problems.push(`usage-buffer: flush statement ${i + 1} ${problem}`);
        });
      }
    }
  }
  if (o.script) {
    const s = o.script;
    if (!s.command.trim()) problems.push('usage-buffer: script.command is empty');
    positiveInt('script.runs', s.runs, 1_000_000);
    positiveInt('script.parallelism', s.parallelism, 256);
    positiveInt('script.timeoutMs', s.timeoutMs);
  }
  positiveInt('intervalMs', o.intervalMs);
  if (!(o.maxDurationS > 0)) problems.push(`usage-buffer: maxDurationS must be > 0, got ${o.maxDurationS}`);
  if (problems.length) throw new InputError(problems);
}

export interface ValidatedTarget {
  /** How many of $1..$4 the upsert uses (values are passed for exactly those). */
  upsertParams: number;
  upsertSql: string;
  flushStatements: string[];
}

/** A one-line, password-free description of a connection failure. */
export function describeConnectError(err: unknown, dbUrl: string): string {
  const where = redactUrl(dbUrl);
  const code = sqlstateOf(err);
  const raw = err instanceof Error ? err.message || err.name : String(err);
  const message = oneLine(redactText(raw, secretsOf(dbUrl)));
  if (code === '28P01' || code === '28000') return `usage-buffer: cannot log in to the database at ${where}: ${message}`;
  if (code === '3D000') return `usage-buffer: ${message} (${where})`;
  return `usage-buffer: cannot reach the database at ${where}: ${message}`;
}

export function parseDbUrl(dbUrl: string): URL {
  let url: URL;
  try {
    url = new URL(dbUrl);
  } catch {
    throw new InputError(`usage-buffer: the database URL is not a URL: ${redactUrl(dbUrl)}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new InputError(`usage-buffer: the database URL must start with postgres:// or postgresql://, got ${redactUrl(dbUrl)}`);
  }
  return url;
}

export function clientConfig(dbUrl: string, applicationName: string): pg.ClientConfig {
  return { connectionString: dbUrl, application_name: applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
}

/** Opens the control connection; any failure is an InputError naming the target. */
export async function connectControl(dbUrl: string): Promise<pg.Client> {
  parseDbUrl(dbUrl);
  // Bounded, so a table locked by someone else cannot hang the check or the clean-up forever.
  const client = new pg.Client(clientConfig(dbUrl, APP_CONTROL));
  // An error event after connect (server gone) must not crash the worker; queries reject anyway.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new InputError(describeConnectError(err, dbUrl));
  }
  try {
    await client.query(setStatementTimeoutSql(CONTROL_STATEMENT_TIMEOUT_MS));
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new InputError(describeConnectError(err, dbUrl));
  }
  return client;
}

/**
 * A SET after connecting rather than a startup parameter: connection poolers (PgBouncer,
 * Supavisor) refuse unknown startup parameters.
 */
export function setStatementTimeoutSql(ms: number): string {
  return `SET statement_timeout = ${Math.round(ms)}`;
}

interface ColumnInfo {
  attname: string;
  attnum: number;
  typname: string;
  typcategory: string;
}

/** Checks the table, its columns, privileges and statements over the control connection. */
export async function validateTarget(client: pg.Client, o: UsageBufferOptions, keys: readonly string[]): Promise<ValidatedTarget> {
  const t = o.table;
  const label = tableLabel(t);
  const found = await client.query<{ oid: number; nspname: string }>(
    `SELECT c.oid::int AS oid, n.nspname::text AS nspname
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'f')
        AND CASE WHEN $2::text IS NULL THEN n.nspname = ANY (current_schemas(false)) ELSE n.nspname = $2::text END
      ORDER BY array_position(current_schemas(false), n.nspname) NULLS LAST
      LIMIT 1`,
    [t.name, t.schema],
  );
  if (found.rows.length === 0) {
    const similar = await client.query<{ name: string }>(
      `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE lower(c.relname) = lower($1) AND c.relkind IN ('r', 'p', 'f') LIMIT 3`,
      [t.name],
    );
    const hint = similar.rows.length ? ` (did you mean ${similar.rows.map((r) => r.name).join(' or ')}? names are case-sensitive)` : '';
    const where = t.schema ? '' : ' in the search_path';
    throw new InputError(`usage-buffer: table ${label} does not exist${where}${hint}`);
  }
  const oid = found.rows[0].oid;
  const columns = await client.query<ColumnInfo>(
    `SELECT a.attname::text AS attname, a.attnum::int AS attnum, t.typname::text AS typname, t.typcategory::text AS typcategory
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const byName = new Map(columns.rows.map((c) => [c.attname, c]));
  const wanted: Array<[string, string | null]> = [
    ['userId', t.userId], ['bandwidth', t.bandwidth], ['compute', t.compute], ['requests', t.requests], ['updatedAt', t.updatedAt],
  ];
  for (const [role, name] of wanted) {
    if (name === null) continue;
    const col = byName.get(name);
    if (!col) {
      const has = columns.rows.map((c) => quoteIdent(c.attname)).join(', ');
      throw new InputError(`usage-buffer: column ${quoteIdent(name)} (${role}) does not exist in table ${label} (it has ${has || 'no columns'})`);
    }
    if (role === 'userId' && col.typcategory !== 'S') {
      throw new InputError(`usage-buffer: column ${label}.${quoteIdent(name)} is ${col.typname}; the test keys (phase3-${o.runId}-1 ...) need a text column`);
    }
    if ((role === 'bandwidth' || role === 'compute' || role === 'requests') && col.typcategory !== 'N') {
      throw new InputError(`usage-buffer: column ${label}.${quoteIdent(name)} is ${col.typname}, not a number: it cannot be incremented`);
    }
  }

  const needed = ['SELECT', 'INSERT', 'UPDATE', ...(o.keepRows && !o.flush ? [] : ['DELETE'])];
  const privileges = await client.query<{ privilege: string; granted: boolean }>(
    'SELECT p AS privilege, has_table_privilege($1::oid, p) AS granted FROM unnest($2::text[]) AS p',
    [oid, needed],
  );
  const missing = privileges.rows.filter((r) => !r.granted).map((r) => r.privilege);
  if (missing.length) {
    throw new InputError(`usage-buffer: the database user may not ${missing.join(', ')} on table ${label}`);
  }

  const upsertSql = o.upsertSql !== undefined ? normalizeStatement(o.upsertSql) : buildUpsertSql(t);
  const upsertParams = highestParam(upsertSql);
  if (upsertParams < 1 || upsertParams > 4) {
    throw new InputError(`usage-buffer: the upsert statement must use $1 (userId) and may use $2 bandwidth, $3 compute, $4 requests; it uses up to $${upsertParams}`);
  }
  await checkStatement(client, 'the upsert statement', upsertSql, ['phase3-check', 1, 1, 1].slice(0, upsertParams), label);

  const flushStatements = o.flush ? buildFlushStatements(t, o.flush) : [];
  for (const [i, sql] of flushStatements.entries()) {
    if (!/\$1\b/.test(sql)) continue; // transaction control: nothing to prepare
    const args: Array<string | number | string[]> = [['phase3-check']];
    if (/\$2\b/.test(sql)) args.push('phase3-check');
    await checkStatement(client, `flush statement ${i + 1}`, sql, args, label);
  }

  const existing = await client.query<{ n: number }>(buildCountRowsSql(t), [keys]);
  if (existing.rows[0].n > 0) {
    throw new InputError(`usage-buffer: ${existing.rows[0].n} rows with this run's keys (phase3-${o.runId}-...) already exist in ${label}: use a new run id`);
  }
  return { upsertParams, upsertSql, flushStatements };
}

/** Highest `$n` placeholder in a statement (0 if none). */
export function highestParam(sql: string): number {
  let max = 0;
  for (const m of sql.matchAll(/\$(\d+)\b/g)) max = Math.max(max, Number(m[1]));
  return max;
}

let checkCounter = 0;

/**
 * Parses, analyzes and plans a statement without running it: PREPARE, then EXPLAIN EXECUTE with
 * sample values (EXPLAIN without ANALYZE executes nothing). Catches syntax errors, missing
 * tables or columns, wrong types and an ON CONFLICT target without a unique index.
 */
async function checkStatement(
  client: pg.Client,
  what: string,
  sql: string,
  args: Array<string | number | string[]>,
  label: string,
): Promise<void> {
  const name = 'phase3_check';
  try {
    // Extended protocol (a named query): a second statement after a `;` is refused by the
    // server instead of being run, as the simple protocol would.
    await client.query({ name: `phase3_prepare_${++checkCounter}`, text: `PREPARE ${name} AS ${sql}` });
  } catch (err) {
    throw new InputError(`usage-buffer: ${what} is not valid on ${label}: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  }
  try {
    const literals = args.map((a) => (Array.isArray(a) ? `ARRAY[${a.map((s) => client.escapeLiteral(s)).join(', ')}]::text[]` : typeof a === 'number' ? String(a) : client.escapeLiteral(a)));
    await client.query(`EXPLAIN EXECUTE ${name}(${literals.join(', ')})`);
  } catch (err) {
    throw new InputError(`usage-buffer: ${what} cannot run on ${label}: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  } finally {
    await client.query(`DEALLOCATE ${name}`).catch(() => undefined);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
