/**
 * SQL built from the table's shape. Every statement that reads or writes rows is restricted to
 * this run's keys by `= ANY($1::text[])`: other rows are never read for the verdict nor changed.
 */
import type { UsageBufferFlush, UsageBufferTable } from './types';

/** Without surrounding blanks and trailing semicolons: one statement, as the server parses it. */
export function normalizeStatement(sql: string): string {
  return sql.trim().replace(/(\s*;)+$/, '');
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedTable(table: UsageBufferTable): string {
  return table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.name)}` : quoteIdent(table.name);
}

/** `"UsageBuffer"` or `"billing"."UsageBuffer"`, for messages. */
export function tableLabel(table: UsageBufferTable): string {
  return qualifiedTable(table);
}

/**
 * The user's increment as they wrote it: one autocommit `INSERT ... ON CONFLICT DO UPDATE`,
 * atomic per row. `$1` userId, `$2` bandwidth, `$3` compute, `$4` requests.
 */
export function buildUpsertSql(table: UsageBufferTable): string {
  const t = qualifiedTable(table);
  const [u, b, c, r] = [table.userId, table.bandwidth, table.compute, table.requests].map(quoteIdent);
  const at = table.updatedAt ? quoteIdent(table.updatedAt) : null;
  const columns = [u, b, c, r, ...(at ? [at] : [])].join(', ');
  const values = ['$1', '$2', '$3', '$4', ...(at ? ['NOW()'] : [])].join(', ');
  const sets = [b, c, r].map((col) => `${col} = ub.${col} + EXCLUDED.${col}`);
  if (at) sets.push(`${at} = NOW()`);
  return `INSERT INTO ${t} AS ub (${columns}) VALUES (${values}) ON CONFLICT (${u}) DO UPDATE SET ${sets.join(', ')}`;
}

/** This run's rows: key and the three quantities. */
export function buildReadRowsSql(table: UsageBufferTable): string {
  const [u, b, c, r] = [table.userId, table.bandwidth, table.compute, table.requests].map(quoteIdent);
  return `SELECT ${u} AS "userId", ${b} AS "bandwidth", ${c} AS "compute", ${r} AS "requests" FROM ${qualifiedTable(table)} WHERE ${u} = ANY($1::text[])`;
}

export function buildDeleteRowsSql(table: UsageBufferTable): string {
  return `DELETE FROM ${qualifiedTable(table)} WHERE ${quoteIdent(table.userId)} = ANY($1::text[])`;
}

export function buildCountRowsSql(table: UsageBufferTable): string {
  return `SELECT count(*)::int AS n FROM ${qualifiedTable(table)} WHERE ${quoteIdent(table.userId)} = ANY($1::text[])`;
}

/**
 * The statements of one flush cycle. `$1` is this run's keys (text[]); a statement using `$2`
 * runs once per row of the last row-returning statement, with that row's userId.
 */
export function buildFlushStatements(table: UsageBufferTable, flush: UsageBufferFlush): string[] {
  const t = qualifiedTable(table);
  const [u, b, c, r] = [table.userId, table.bandwidth, table.compute, table.requests].map(quoteIdent);
  const returning = `${u}, ${b}, ${c}, ${r}`;
  switch (flush.mode) {
    case 'two-step':
      // The user's flusher: read everything, (write the aggregates elsewhere), delete each row.
      return [
        `SELECT ${returning} FROM ${t} WHERE ${u} = ANY($1::text[])`,
        `DELETE FROM ${t} WHERE ${u} = $2 AND ${u} = ANY($1::text[])`,
      ];
    case 'delete-returning':
      return [`DELETE FROM ${t} WHERE ${u} = ANY($1::text[]) RETURNING ${returning}`];
    case 'custom':
      return (flush.statements ?? []).map(normalizeStatement);
  }
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SET|RESET|LOCK|SAVEPOINT|RELEASE)\b/i;

/** Why a custom flush statement is refused, or null: each must be scoped to the run's keys. */
export function flushStatementProblem(sql: string): string | null {
  if (/\$1\b/.test(sql)) return null;
  if (TRANSACTION_CONTROL.test(sql)) return null;
  return 'does not restrict itself to this run\'s keys with $1 (e.g. WHERE "userId" = ANY($1))';
}

export function usesRowKey(sql: string): boolean {
  return /\$2\b/.test(sql);
}

export function usesRunKeys(sql: string): boolean {
  return /\$1\b/.test(sql);
}
