/**
 * Client probes through pg: timed primary-key reads and timed upserts into the task's own probe
 * table, at a fixed arrival rate and bounded concurrency, recorded in µs HDR histograms.
 *
 * The probe table is a real table, `phase3_probe`, created IF NOT EXISTS in `probeSchema` (default:
 * the connection's current schema) — not a TEMP table, because on YugabyteDB temporary tables live
 * in the local YSQL process and never reach the distributed storage a write probe must measure.
 * This run's rows (`phase3-<runId>-<n>`) are deleted afterwards; the (empty) table is left for the
 * next run. When the table cannot be created (no CREATE right), write probes do not run and reads
 * fall back to `SELECT 1` (or the configured readSql).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { LatencySummary, LoadIntervalPoint } from '../../../shared/result';
import type { TaskEvent } from '../../../shared/protocol';
import { errorMessage, InputError } from '../../errors';
import { createHistogram, recordMs, summarize, type LatencyHistogram } from '../../histogram';
import { LoadRecorder } from '../../load/recorder';
import { redactText, secretsOf } from '../../redact';
import { PROBE_TABLE, type DbOptions } from './types';

const APP_NAME = 'phase3-db-probe';
const CONNECT_TIMEOUT_MS = 10_000;
const CONTROL_STATEMENT_TIMEOUT_MS = 30_000;
const MAX_PROBE_ROWS = 64;

export interface ProbeOutcome {
  reads: number;
  writes: number;
  queryTimeouts: number;
  errors: number;
  errorsByCode: Record<string, number>;
  readLatencyMs: LatencySummary | null;
  writeLatencyMs: LatencySummary | null;
  opsPerSec: number;
  series: LoadIntervalPoint[];
  histogram: string;
}

/** A probe error that is a query timeout: SQLSTATE 57014 (statement_timeout, cancel) or "Timed out". */
export function isQueryTimeout(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '57014' || /timed out/i.test(errorMessage(err));
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Connected, probe table ready; `run` drives the load, `close` removes this run's rows and disconnects. */
export class Probes {
  probeTable: string | null = null;
  readonly notes: string[] = [];
  private readonly keys: string[];
  private readonly clean: (text: string) => string;

  private constructor(
    private readonly o: DbOptions,
    private readonly runId: string,
    private readonly control: pg.Client,
    private readonly pool: pg.Pool,
  ) {
    const secrets = secretsOf(o.dbUrl);
    this.clean = (text) => redactText(text, secrets).replace(/\s+/g, ' ').trim();
    this.keys = Array.from({ length: Math.min(MAX_PROBE_ROWS, Math.max(8, o.concurrency * 4)) }, (_, i) => `phase3-${runId}-${i}`);
  }

  /**
   * The cluster's nodes as YugabyteDB lists them (`yb_servers()`), or null on a database that
   * has no such function (plain PostgreSQL).
   */
  async ybServers(): Promise<string[] | null> {
    try {
      const { rows } = await this.control.query<{ host: string }>('SELECT host FROM yb_servers()');
      return rows.map((r) => r.host).filter((h) => typeof h === 'string' && h.length > 0);
    } catch {
      return null;
    }
  }

  /** Throws InputError when the database cannot be reached or the read SQL does not run. */
  static async open(o: DbOptions, runId: string): Promise<Probes> {
    const secrets = secretsOf(o.dbUrl);
    const clean = (text: string): string => redactText(text, secrets).replace(/\s+/g, ' ').trim();
    let url: URL;
    try {
      url = new URL(o.dbUrl);
    } catch {
      throw new InputError('db: the database URL is not a URL');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new InputError('db: the database URL must start with postgres:// or postgresql://');
    const control = new pg.Client({ connectionString: o.dbUrl, application_name: `${APP_NAME}-control`, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    control.on('error', () => undefined);
    try {
      await control.connect();
      await control.query(`SET statement_timeout = ${CONTROL_STATEMENT_TIMEOUT_MS}`);
    } catch (err) {
      await control.end().catch(() => undefined);
      throw new InputError(`db: cannot connect to ${url.host}: ${clean(errorMessage(err))}`);
    }
    const pool = new pg.Pool({ connectionString: o.dbUrl, application_name: APP_NAME, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: o.concurrency, idleTimeoutMillis: 0 });
    // Without listeners, a connection dropped under an idle or checked-out client crashes Node.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
      // Queued ahead of the first probe on this connection (a client runs its queries in order).
      client.query(`SET statement_timeout = ${Math.max(0, Math.round(o.statementTimeoutMs))}`).catch(() => undefined);
    });
    const probes = new Probes(o, runId, control, pool);
    try {
      await probes.prepare();
    } catch (err) {
      await probes.close();
      throw err;
    }
    return probes;
  }

  private get readSql(): string {
    if (this.o.readSql) return this.o.readSql;
    return this.probeTable ? `SELECT v FROM ${this.probeTable} WHERE id = $1` : 'SELECT 1';
  }

  private async prepare(): Promise<void> {
    if (this.o.writeRate > 0 || (!this.o.readSql && this.o.readRate > 0)) {
      try {
        const schema = this.o.probeSchema ?? (await this.control.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s;
        if (!schema) throw new Error('no schema in the search_path (set probeSchema)');
        const table = `${quoteIdent(schema)}.${quoteIdent(PROBE_TABLE)}`;
        await this.control.query(`CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, v bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now())`);
        await this.control.query(`INSERT INTO ${table} (id) SELECT unnest($1::text[]) ON CONFLICT (id) DO NOTHING`, [this.keys]);
        this.probeTable = table;
      } catch (err) {
        this.notes.push(`probe table ${PROBE_TABLE} could not be prepared (${this.clean(errorMessage(err))}): no write probes${this.o.readSql ? '' : ', reads probe with SELECT 1'}`);
      }
    }
    // Every probe connection opened before the clock starts, so connecting is not measured.
    const settled = await Promise.allSettled(Array.from({ length: this.o.concurrency }, () => this.pool.connect()));
    const clients = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    try {
      if (failed) throw new InputError(`db: cannot open ${this.o.concurrency} probe connections: ${this.clean(errorMessage(failed.reason))}`);
      if (this.o.readRate > 0) {
        const sql = this.readSql;
        await clients[0].query(sql, sql.includes('$1') ? [this.keys[0]] : []).catch((err: unknown) => {
          if (isQueryTimeout(err)) return; // a slow read is what the probe is for, not bad input
          throw new InputError(`db: the read probe SQL fails: ${this.clean(errorMessage(err))}`);
        });
      }
    } finally {
      for (const c of clients) c.release();
    }
  }

  /** Runs the probes until `durationS` or `stop`, emitting interval events. */
  /** `resources`, when given, adds the database's CPU and memory at each interval to the series. */
  async run(stop: AbortSignal, emit: (event: TaskEvent) => void, resources?: () => { cpuPercent: number | null; memoryPercent: number | null }): Promise<ProbeOutcome> {
    const o = this.o;
    const writeRate = this.probeTable ? o.writeRate : 0;
    const totalRate = o.readRate + writeRate;
    const recorder = new LoadRecorder({ corrected: false });
    const readHist: LatencyHistogram = createHistogram();
    const writeHist: LatencyHistogram = createHistogram();
    const series: LoadIntervalPoint[] = [];
    const out = { reads: 0, writes: 0, queryTimeouts: 0, errors: 0, errorsByCode: {} as Record<string, number> };
    let inFlight = 0;
    const closeInterval = (): void => {
      const snapshot = recorder.closeInterval({ activeConnections: inFlight, ...(resources?.() ?? {}) });
      series.push(snapshot.point);
      emit({ type: 'interval', task: 'db', ...snapshot });
    };
    const ticker = setInterval(closeInterval, o.intervalMs);
    const readSql = this.readSql;
    const readWithKey = readSql.includes('$1');
    const writeSql = this.probeTable
      ? `INSERT INTO ${this.probeTable} (id, v, updated_at) VALUES ($1, 1, now()) ON CONFLICT (id) DO UPDATE SET v = ${this.probeTable}.v + 1, updated_at = now()`
      : '';

    const startMs = performance.now();
    const endMs = startMs + o.durationS * 1000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (totalRate > 0 && !stop.aborted) {
        const i = next++;
        const at = startMs + (i * 1000) / totalRate;
        if (at >= endMs) return;
        const wait = at - performance.now();
        if (wait > 0) {
          try {
            await sleep(wait, undefined, { signal: stop });
          } catch {
            return;
          }
        }
        // Writes spread evenly among reads: op i is a write when the write share crosses an integer.
        const isWrite = writeRate > 0 && Math.floor(((i + 1) * writeRate) / totalRate) > Math.floor((i * writeRate) / totalRate);
        const key = this.keys[i % this.keys.length];
        inFlight++;
        const started = performance.now();
        try {
          if (isWrite) await this.pool.query(writeSql, [key]);
          else await this.pool.query(readSql, readWithKey ? [key] : []);
          const ms = performance.now() - started;
          recordMs(isWrite ? writeHist : readHist, ms);
          recorder.response(200, ms, false);
          if (isWrite) out.writes++;
          else out.reads++;
        } catch (err) {
          const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'other';
          out.errorsByCode[code] = (out.errorsByCode[code] ?? 0) + 1;
          if (isQueryTimeout(err)) {
            out.queryTimeouts++;
            recorder.timeout();
          } else {
            out.errors++;
            recorder.connectionError();
          }
        } finally {
          inFlight--;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
    } finally {
      clearInterval(ticker);
    }
    if (!recorder.intervalIsEmpty || series.length === 0) closeInterval();
    const activeS = recorder.activeS;
    const outcome: ProbeOutcome = {
      ...out,
      readLatencyMs: summarize(readHist),
      writeLatencyMs: summarize(writeHist),
      opsPerSec: activeS > 0 ? Math.round(((out.reads + out.writes) / activeS) * 10) / 10 : 0,
      series,
      histogram: recorder.encodedTotal(),
    };
    readHist.destroy();
    writeHist.destroy();
    recorder.destroy();
    return outcome;
  }

  /** Removes this run's probe rows and disconnects; a failure is a note, not an error. */
  async close(): Promise<void> {
    if (this.probeTable) {
      try {
        await this.control.query(`DELETE FROM ${this.probeTable} WHERE id LIKE $1`, [`phase3-${this.runId}-%`]);
      } catch (err) {
        this.notes.push(`removing the probe rows failed: ${this.clean(errorMessage(err))}`);
      }
    }
    await this.pool.end().catch(() => undefined);
    await this.control.end().catch(() => undefined);
  }
}
