/**
 * SQL mode: N increments at concurrency C through a pg pool, then the exact integrity check over
 * this run's keys, then removal of this run's rows.
 */
import pg from 'pg';
import type { LoadIntervalPoint } from '../../../shared/result';
import type { TaskEvent } from '../../../shared/protocol';
import { InputError } from '../../errors';
import { sleep } from '../loadStop';
import { LoadRecorder } from '../../load/recorder';
import { redactText, secretsOf } from '../../redact';
import { backoffMs, breaksConnection, classifyError, type Classified } from './classify';
import { Flusher, type FlusherOutcome } from './flush';
import { addInto, Ledger, planKeys, randomIncrement, sumRows, zeroTotals } from './ledger';
import { buildCountRowsSql, buildDeleteRowsSql, buildReadRowsSql, tableLabel } from './sql';
import type { FlushMetrics, QuantityTotals, UsageBufferMetrics, UsageBufferOptions } from './types';
import { APP_LOAD, clientConfig, connectControl, describeConnectError, setStatementTimeoutSql, validateTarget } from './validate';

/** Every fourth increment goes to the hot key, so every worker hits it and contention is real. */
const HOT_EVERY = 4;
const STATEMENT_NAME = 'phase3_usage_upsert';
/** How long to wait for the backends of timed-out statements to go away before the check. */
const ORPHAN_WAIT_MS = 10_000;
/** The aliases buildReadRowsSql gives the columns. */
const READ_COLUMNS = { userId: 'userId', bandwidth: 'bandwidth', compute: 'compute', requests: 'requests' };

export interface SqlPhaseResult {
  metrics: UsageBufferMetrics;
  series: LoadIntervalPoint[];
  histogram: string;
  notes: string[];
  /** Set when the integrity check could not run (the task is then an error). */
  error?: string;
}

interface Counters {
  operations: number;
  succeeded: number;
  failed: number;
  unknownOutcome: number;
  statementTimeouts: number;
  clientTimeouts: number;
  retries: number;
  retriesByCode: Record<string, number>;
  errorsByCode: Record<string, number>;
}

type Emit = (event: TaskEvent) => void;

/**
 * Runs the SQL phase. Throws InputError for anything found before the first increment (bad URL,
 * login, table, column, statement); after that, failures are counted, never thrown.
 */
export async function runSqlPhase(o: UsageBufferOptions & { dbUrl: string }, emit: Emit, stop: AbortSignal): Promise<SqlPhaseResult> {
  const secrets = secretsOf(o.dbUrl);
  const clean = (text: string): string => redactText(text, secrets).replace(/\s+/g, ' ').trim();
  const log = (level: 'info' | 'warn', message: string): void => emit({ type: 'log', task: 'usage-buffer', level, message: clean(message) });
  const plan = planKeys(o.runId, o.keys);
  const label = tableLabel(o.table);

  const control = await connectControl(o.dbUrl);
  let pool: pg.Pool | null = null;
  let flusher: Flusher | null = null;
  try {
    const target = await validateTarget(control, o, plan.keys);

    pool = new pg.Pool({
      ...clientConfig(o.dbUrl, APP_LOAD),
      max: o.concurrency,
      idleTimeoutMillis: 0,
    });
    let poolErrors = 0;
    // Without listeners, a connection dropped under an idle or a checked-out client crashes Node.
    pool.on('error', () => poolErrors++);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
      // Queued ahead of the first increment on this connection (a client runs its queries in order).
      client.query(setStatementTimeoutSql(o.statementTimeoutMs)).catch(() => undefined);
    });
    await prewarm(pool, o.concurrency, o.dbUrl);

    if (target.flushStatements.length && o.flush) {
      flusher = new Flusher({
        dbUrl: o.dbUrl,
        statements: target.flushStatements,
        keys: plan.keys,
        table: o.table,
        everyMs: o.flush.everyMs,
        statementTimeoutMs: o.statementTimeoutMs,
        onError: (message) => log('warn', `flush failed: ${message}`),
      });
      await flusher.start();
    }
    log('info', `${o.operations} increments at concurrency ${o.concurrency} over ${o.keys} keys + 1 hot key (phase3-${o.runId}-…) in ${label}${o.flush ? `, flushing (${o.flush.mode}) every ${o.flush.everyMs} ms` : ''}`);

    // ---------------------------------------------------------------- the load
    const ledger = new Ledger(plan);
    const recorder = new LoadRecorder({ corrected: false });
    const series: LoadIntervalPoint[] = [];
    const counters: Counters = {
      operations: 0, succeeded: 0, failed: 0, unknownOutcome: 0, statementTimeouts: 0, clientTimeouts: 0,
      retries: 0, retriesByCode: {}, errorsByCode: {},
    };
    const orphanPids = new Set<number>();
    const terminations: Array<Promise<unknown>> = [];
    let inFlight = 0;
    const closeInterval = (): void => {
      const snapshot = recorder.closeInterval({ activeConnections: inFlight });
      series.push(snapshot.point);
      emit({ type: 'interval', task: 'usage-buffer', ...snapshot });
    };
    const ticker = setInterval(closeInterval, o.intervalMs);

    const activePool = pool;
    let next = 0;
    const runOne = async (index: number): Promise<void> => {
      const key = index % HOT_EVERY === 0 ? plan.hotKey : plan.keys[Math.floor(Math.random() * o.keys)];
      const q = randomIncrement();
      const values: Array<string | number> = [key, q.bandwidth, q.compute, q.requests].slice(0, target.upsertParams);
      const started = performance.now();
      counters.operations++;
      inFlight++;
      let attempt = 0;
      let last: Classified | null = null;
      try {
        for (;;) {
          const outcome = await attemptOnce(activePool, target.upsertSql, values, o.clientTimeoutMs);
          if (outcome.ok) {
            counters.succeeded++;
            ledger.acknowledged(key, q);
            recorder.response(200, performance.now() - started, false);
            return;
          }
          last = outcome.error;
          counters.errorsByCode[last.code] = (counters.errorsByCode[last.code] ?? 0) + 1;
          if (outcome.orphanPid !== null) {
            orphanPids.add(outcome.orphanPid);
            terminations.push(control.query('SELECT pg_terminate_backend($1)', [outcome.orphanPid]).catch(() => undefined));
          }
          if (outcome.clientTimeout) {
            counters.clientTimeouts++;
            counters.unknownOutcome++;
            ledger.unknownOutcome(key, q);
            recorder.timeout();
            return;
          }
          if (last.kind === 'unknown') {
            counters.unknownOutcome++;
            ledger.unknownOutcome(key, q);
            recorder.connectionError();
            return;
          }
          if (last.kind === 'statement-timeout') {
            counters.statementTimeouts++;
            counters.failed++;
            recorder.timeout();
            return;
          }
          if ((last.kind === 'retry' || last.kind === 'not-sent') && attempt < o.maxRetries && !stop.aborted) {
            attempt++;
            counters.retries++;
            counters.retriesByCode[last.code] = (counters.retriesByCode[last.code] ?? 0) + 1;
            await sleep(backoffMs(attempt), stop);
            if (!stop.aborted) continue;
          }
          // Certainly not applied: an error, retries exhausted, or cancelled between retries.
          counters.failed++;
          recorder.response(500, performance.now() - started, false);
          return;
        }
      } finally {
        inFlight--;
      }
    };
    const worker = async (): Promise<void> => {
      while (!stop.aborted) {
        const index = next++;
        if (index >= o.operations) return;
        await runOne(index);
      }
    };
    const firstErrorLogged = new Set<string>();
    const errorLogger = setInterval(() => {
      for (const code of Object.keys(counters.errorsByCode)) {
        if (firstErrorLogged.has(code)) continue;
        firstErrorLogged.add(code);
        log('warn', `errors with ${code === 'connection' ? 'the connection' : `SQLSTATE ${code}`} during the load (${counters.errorsByCode[code]} so far)`);
      }
    }, Math.min(o.intervalMs, 1000));
    try {
      await Promise.all(Array.from({ length: o.concurrency }, worker));
    } finally {
      clearInterval(ticker);
      clearInterval(errorLogger);
    }
    if (!recorder.intervalIsEmpty || series.length === 0) closeInterval();

    // ---------------------------------------------------------------- settle, check, clean up
    const flushOutcome = flusher ? await flusher.stop() : null;
    flusher = null;
    await Promise.all(terminations);
    const notes: string[] = [];
    if (orphanPids.size) {
      const left = await waitForBackendsGone(control, [...orphanPids], ORPHAN_WAIT_MS);
      if (left.length) notes.push(`backend(s) ${left.join(', ')} of timed-out increments were still running after ${ORPHAN_WAIT_MS / 1000} s: the check may count their increments as phantom`);
    }
    await activePool.end().catch(() => undefined);
    pool = null;

    const latency = recorder.latency();
    const activeS = recorder.activeS;
    const histogram = recorder.encodedTotal();
    recorder.destroy();
    const metrics: UsageBufferMetrics = {
      operations: counters.operations,
      succeeded: counters.succeeded,
      failed: counters.failed,
      unknownOutcome: counters.unknownOutcome,
      timeouts: counters.statementTimeouts + counters.clientTimeouts,
      retries: counters.retries,
      retriesByCode: counters.retriesByCode,
      errorsByCode: counters.errorsByCode,
      successRate: counters.operations ? counters.succeeded / counters.operations : 0,
      lostUpdates: null,
      phantomUpdates: null,
      hotKeyLostUpdates: null,
      concurrency: o.concurrency,
      keys: o.keys,
      durationS: Math.round(activeS * 1000) / 1000,
      throughputOps: activeS > 0 ? Math.round((counters.operations / activeS) * 10) / 10 : 0,
      latencyMs: latency,
    };
    if (poolErrors) notes.push(`${poolErrors} idle pool connection(s) were dropped by the server and replaced`);

    let error: string | undefined;
    try {
      const found = new Map<string, QuantityTotals>();
      const read = await control.query<Record<string, unknown>>(buildReadRowsSql(o.table), [plan.keys]);
      const rowsRead = sumRows(read.rows, READ_COLUMNS, found);
      if (flushOutcome) for (const [key, t] of flushOutcome.flushed) addInto(found.get(key) ?? setDefault(found, key), t);
      const checked = ledger.compare(found, rowsRead);
      metrics.lostUpdates = checked.lostUpdates;
      metrics.phantomUpdates = checked.phantomUpdates;
      metrics.hotKeyLostUpdates = checked.hotKey.lostUpdates;
      metrics.hotKey = checked.hotKey;
      metrics.integrity = checked.integrity;
      if (flushOutcome && o.flush) {
        const remaining = zeroTotals();
        for (const row of read.rows) addInto(remaining, totalsOf(row));
        metrics.flush = flushMetrics(o.flush.mode, flushOutcome, ledger.ackedTotals(), remaining, checked.lostUpdates + checked.phantomUpdates === 0);
      }
      notes.push(...integrityNotes(metrics, o, flushOutcome));
    } catch (err) {
      error = `the integrity check could not read this run's rows: ${clean(err instanceof Error ? err.message : String(err))}`;
    }

    metrics.rowsRemoved = false;
    if (o.keepRows) {
      notes.push(`this run's rows were kept (keys phase3-${o.runId}-1 … phase3-${o.runId}-${o.keys} and phase3-${o.runId}-hot)`);
    } else {
      try {
        await control.query(buildDeleteRowsSql(o.table), [plan.keys]);
        const left = await control.query<{ n: number }>(buildCountRowsSql(o.table), [plan.keys]);
        metrics.rowsRemoved = left.rows[0].n === 0;
        if (!metrics.rowsRemoved) notes.push(`${left.rows[0].n} rows of this run reappeared after removal (late increments); keys phase3-${o.runId}-…`);
      } catch (err) {
        notes.push(`removing this run's rows (phase3-${o.runId}-…) from ${label} failed: ${clean(err instanceof Error ? err.message : String(err))}`);
      }
    }
    return { metrics, series, histogram, notes: notes.map(clean), error };
  } finally {
    await flusher?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await control.end().catch(() => undefined);
  }
}

function setDefault(map: Map<string, QuantityTotals>, key: string): QuantityTotals {
  const t = zeroTotals();
  map.set(key, t);
  return t;
}

function totalsOf(row: Record<string, unknown>): QuantityTotals {
  const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
  return { bandwidth: n(row.bandwidth), compute: n(row.compute), requests: n(row.requests) };
}

function flushMetrics(mode: FlushMetrics['mode'], f: FlusherOutcome, sent: QuantityTotals, remaining: QuantityTotals, conserved: boolean): FlushMetrics {
  const flushed = zeroTotals();
  for (const t of f.flushed.values()) addInto(flushed, t);
  return { mode, cycles: f.cycles, errors: f.errors, rowsFlushed: f.rowsFlushed, sent, flushed, remaining, conserved };
}

function integrityNotes(m: UsageBufferMetrics, o: UsageBufferOptions, flush: FlusherOutcome | null): string[] {
  const notes: string[] = [];
  const lost = m.lostUpdates ?? 0;
  const phantom = m.phantomUpdates ?? 0;
  if (lost > 0) {
    if (flush) {
      notes.push(`${lost} acknowledged increments are neither flushed nor in the table: the flush (${o.flush?.mode}) loses increments that land between its read and its delete`);
    } else {
      notes.push(`${lost} acknowledged increments are missing (${m.hotKeyLostUpdates ?? 0} on the hot key): the upsert is not atomic under concurrency (a read, then a write?), or another process removed rows of this run`);
    }
  }
  if (phantom > 0) notes.push(`${phantom} increments more than were sent were found${flush ? ' (a flush that failed after reading counts its rows twice)' : ''}`);
  if ((m.unknownOutcome ?? 0) > 0) {
    notes.push(`${m.unknownOutcome} increments had an unknown outcome (connection lost or client timeout): kept out of the exact check, never retried; ${m.integrity?.unknownApplied ?? 0} of them turned out applied`);
  }
  if (flush && flush.errors) notes.push(`${flush.errors} flush cycles failed: ${flush.firstError ?? ''}`.trim());
  return notes;
}

interface AttemptOk {
  ok: true;
}
interface AttemptFailed {
  ok: false;
  error: Classified;
  clientTimeout: boolean;
  /** The backend still running a statement we gave up on: to be terminated. */
  orphanPid: number | null;
}

/**
 * One statement on one pooled connection, bounded by the client timeout. A connection that broke,
 * or whose statement we stopped waiting for, never goes back to the pool.
 */
async function attemptOnce(pool: pg.Pool, sql: string, values: Array<string | number>, clientTimeoutMs: number): Promise<AttemptOk | AttemptFailed> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    // Nothing was sent on a connection that never opened.
    const c = classifyError(err);
    return { ok: false, error: { ...c, kind: 'not-sent', code: c.code === 'connection' ? 'connect' : c.code }, clientTimeout: false, orphanPid: null };
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = Symbol('timeout');
  const query = client.query({ name: STATEMENT_NAME, text: sql, values });
  try {
    const winner = await Promise.race([
      query,
      new Promise<typeof timedOut>((resolve) => {
        timer = setTimeout(() => resolve(timedOut), clientTimeoutMs);
      }),
    ]);
    if (winner === timedOut) {
      query.catch(() => undefined);
      const pid = (client as pg.PoolClient & { processID?: number | null }).processID ?? null;
      client.release(true);
      return {
        ok: false,
        error: { kind: 'unknown', code: 'client-timeout', message: `no answer within ${clientTimeoutMs} ms` },
        clientTimeout: true,
        orphanPid: pid,
      };
    }
    client.release();
    return { ok: true };
  } catch (err) {
    const c = classifyError(err);
    client.release(breaksConnection(c.kind) ? (err instanceof Error ? err : true) : undefined);
    return { ok: false, error: c, clientTimeout: false, orphanPid: null };
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the pool's C connections before the clock starts; failure here is bad input (exit 2). */
async function prewarm(pool: pg.Pool, count: number, dbUrl: string): Promise<void> {
  const clients: pg.PoolClient[] = [];
  try {
    for (const result of await Promise.allSettled(Array.from({ length: count }, () => pool.connect()))) {
      if (result.status === 'fulfilled') clients.push(result.value);
      else {
        const code = (result.reason as { code?: unknown }).code;
        const tooMany = code === '53300' ? ` (the server refuses more connections: lower the concurrency below ${count} or raise max_connections)` : '';
        throw new InputError(`${describeConnectError(result.reason, dbUrl)}${tooMany}`);
      }
    }
  } finally {
    for (const c of clients) c.release();
  }
}

/** Waits until none of the pids is a live backend; returns those still there at the deadline. */
async function waitForBackendsGone(control: pg.Client, pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    let alive: number[];
    try {
      const r = await control.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids]);
      alive = r.rows.map((row) => row.pid);
    } catch {
      return pids;
    }
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
