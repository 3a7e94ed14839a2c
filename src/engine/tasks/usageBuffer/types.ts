import type { LatencySummary } from '../../../shared/result';

/**
 * The user's usage-buffer table: where the per-user counters live. Names are given as they are
 * in the database (case kept), never quoted; they are quoted as identifiers when SQL is built.
 */
export interface UsageBufferTable {
  /** Schema, or null for the first schema of the search_path that has the table. */
  schema: string | null;
  name: string;
  userId: string;
  bandwidth: string;
  compute: string;
  requests: string;
  /** Set to NOW() by the default upsert; null when the table has no such column. */
  updatedAt: string | null;
}

/** The user's real shape: `"UsageBuffer"("userId" text primary key, "bandwidth", "compute", "requests" float8, "updatedAt")`. */
export const DEFAULT_TABLE: UsageBufferTable = {
  schema: null,
  name: 'UsageBuffer',
  userId: 'userId',
  bandwidth: 'bandwidth',
  compute: 'compute',
  requests: 'requests',
  updatedAt: 'updatedAt',
};

/**
 * Defaults for the config layer to resolve options with (the task itself takes them resolved).
 * In this file, with the types, so the host can import them without loading pg.
 */
export const USAGE_BUFFER_DEFAULTS = {
  operations: 1000,
  concurrency: 10,
  keys: 50,
  keepRows: false,
  statementTimeoutMs: 5000,
  /** statementTimeoutMs + 1000 when not given. */
  clientTimeoutGraceMs: 1000,
  maxRetries: 5,
  intervalMs: 1000,
  maxDurationS: 600,
  flushEveryMs: 50,
  script: { runs: 1, parallelism: 1, timeoutMs: 120_000 },
} as const;

/**
 * The flush-race check: a flusher runs concurrently with the increments and drains this run's rows.
 *  - `two-step`: the user's flusher as it is: read all rows, then delete each by key (loses the
 *    increments that land between the read and the delete).
 *  - `delete-returning`: one `DELETE ... RETURNING` (atomic: conserves every increment).
 *  - `custom`: the user's statements, run in order on one connection every cycle (so `BEGIN` /
 *    `COMMIT` may be among them). `$1` is this run's keys as a `text[]`: every statement that
 *    touches a table must restrict itself with it (`WHERE "userId" = ANY($1)`), so the check never
 *    flushes a real user's row. A statement that also uses `$2` runs once per row returned by the
 *    last statement that returned rows, with `$2` = that row's userId (the "delete each" step).
 *    The rows returned by statements that return the table's userId column (a SELECT, a
 *    `RETURNING`) are what was flushed, summed per key from their quantity columns.
 */
export interface UsageBufferFlush {
  mode: 'two-step' | 'delete-returning' | 'custom';
  /** Only for `custom`. */
  statements?: string[];
  /** Pause between the end of one flush cycle and the start of the next. */
  everyMs: number;
}

/** Script mode: the user's own test command, run many times (`for i in {1..1000}; do ...; done`). */
export interface UsageBufferScript {
  /** Run through `/bin/sh -c`, in its own process group. */
  command: string;
  runs: number;
  /** How many runs at once (1 = one after another). */
  parallelism: number;
  /** Per run; on expiry the whole process group is killed and the run counts as failed. */
  timeoutMs: number;
  cwd: string;
  /**
   * Regular expressions (JavaScript syntax, compiled with the `i` and `m` flags) matched against
   * each run's stdout; the last match counts. The figure is the first capture group that matched
   * (or the named group `value`); an optional named group `unit` (`s`, `ms`, `us`, `µs`) converts
   * a latency to milliseconds. Absent: the defaults (`Average latency: 1.8 ms`, `P99 latency:
   * 4.2 ms`, `10 passing` / `10 tests passed`, `2 failing` / `2 tests failed`).
   */
  patterns?: { averageMs?: string; p99Ms?: string; passing?: string; failing?: string };
}

/**
 * The `usage-buffer` task's options, fully resolved (plain data: they cross into the worker).
 * SQL mode runs when `dbUrl` is set; script mode when `script` is set; with both, SQL runs first.
 */
export interface UsageBufferOptions {
  /** postgres://user:password@host:port/db. Never written anywhere; redacted in every message. */
  dbUrl?: string;
  /** N increments (default 1000). */
  operations: number;
  /** C in flight at once; the pg pool has C connections (default 10). */
  concurrency: number;
  /** K keys spread at random (default 50), plus one hot key that every fourth increment hits. */
  keys: number;
  /** Keys are `phase3-<runId>-<n>` (n = 1..K) and `phase3-<runId>-hot`. Letters, digits, `.`, `_`, `-`, `:`. */
  runId: string;
  table: UsageBufferTable;
  /**
   * The user's own increment, one statement: `$1` userId (text), `$2` bandwidth, `$3` compute,
   * `$4` requests (integers). Absent: `INSERT ... ON CONFLICT (userId) DO UPDATE SET x = x + EXCLUDED.x`.
   */
  upsertSql?: string;
  /** Keep this run's rows after the check (default false: they are deleted). */
  keepRows: boolean;
  /** `statement_timeout` of every load connection (SQLSTATE 57014 when hit: not applied). */
  statementTimeoutMs: number;
  /**
   * Client-side bound per statement (default statementTimeoutMs + 1000): when it expires the
   * connection is dropped and its backend terminated; the outcome is unknown, never retried.
   */
  clientTimeoutMs: number;
  /** Retries per increment for 40001 / 40P01 / 23505, exponential backoff with full jitter (default 5). */
  maxRetries: number;
  flush?: UsageBufferFlush;
  script?: UsageBufferScript;
  /** Series interval. */
  intervalMs: number;
  /** Hard bound on the whole task: no increment or script run starts after it. */
  maxDurationS: number;
}

export interface QuantityTotals {
  bandwidth: number;
  compute: number;
  requests: number;
}

/** The flush-race check: every increment sent is either flushed or still in the table. */
export interface FlushMetrics {
  mode: UsageBufferFlush['mode'];
  cycles: number;
  /** Flush cycles that ended in an error (their statements may have partly run). */
  errors: number;
  rowsFlushed: number;
  /** Acknowledged increments, summed. */
  sent: QuantityTotals;
  flushed: QuantityTotals;
  remaining: QuantityTotals;
  /** sent = flushed + remaining on every key and quantity (within the unknown-outcome ones). */
  conserved: boolean;
}

export interface IntegrityMetrics {
  /** Rows of this run read for the check (keys of this run only). */
  rowsRead: number;
  keys: number;
  keysWithLostUpdates: number;
  keysWithPhantomUpdates: number;
  /** Acknowledged increments, summed per quantity. */
  expected: QuantityTotals;
  /** In the table at the end (+ flushed, with a flusher). */
  found: QuantityTotals;
  /** Shortfall in each quantity's own unit. */
  lost: QuantityTotals;
  /** Excess beyond the unknown-outcome increments, in each quantity's own unit. */
  phantom: QuantityTotals;
  /** Increments of unknown outcome that turned out to have been applied (from the requests column). */
  unknownApplied: number;
}

export interface HotKeyMetrics {
  key: string;
  /** Acknowledged increments on the hot key. */
  operations: number;
  lostUpdates: number;
  phantomUpdates: number;
}

export interface ScriptFigures {
  /** Mean of the runs' printed averages. */
  averageMs?: number;
  /** The worst (largest) printed P99 of all runs. */
  p99Ms?: number;
  /** The smallest "N passing" of all runs that printed one. */
  passing?: number;
  /** Total "N failing" over all runs. */
  failing?: number;
}

export interface UsageBufferMetrics {
  // --- SQL mode (absent without a database URL)
  /** Increments attempted: succeeded + failed + unknownOutcome. */
  operations?: number;
  succeeded?: number;
  /** Definitely not applied: errors, retries exhausted, statement timeouts. */
  failed?: number;
  /** Connection lost mid-statement or client timeout: maybe applied, never retried. */
  unknownOutcome?: number;
  /** Statement timeouts (57014) + client timeouts. */
  timeouts?: number;
  /** Attempts repeated after 40001 / 40P01 / 23505 or a connection that could not take the statement. */
  retries?: number;
  retriesByCode?: Record<string, number>;
  /** Errors by SQLSTATE (or `connection`, `client-timeout`), all attempts included. */
  errorsByCode?: Record<string, number>;
  successRate?: number;
  /** Acknowledged increments missing at the end, counted on the requests column (each adds 1); at least 1 per key short in any quantity. null when the check could not run. */
  lostUpdates?: number | null;
  /** Increments found beyond the acknowledged + unknown-outcome ones, counted the same way. */
  phantomUpdates?: number | null;
  hotKeyLostUpdates?: number | null;
  hotKey?: HotKeyMetrics;
  integrity?: IntegrityMetrics;
  flush?: FlushMetrics;
  concurrency?: number;
  keys?: number;
  durationS?: number;
  throughputOps?: number;
  latencyMs?: LatencySummary | null;
  /** Whether this run's rows were removed at the end (false with keepRows or if removal failed). */
  rowsRemoved?: boolean;
  // --- script mode (absent without a script)
  scriptRuns?: number;
  scriptFailures?: number;
  scriptTimeouts?: number;
  scriptExitCodes?: Record<string, number>;
  scriptDurationMs?: LatencySummary | null;
  scriptFigures?: ScriptFigures;
}
