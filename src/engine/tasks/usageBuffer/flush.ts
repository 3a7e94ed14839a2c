/**
 * The flush-race check's flusher: drains this run's rows while the increments run, with the
 * user's flush (or one of the two standard forms), on a connection of its own. What it returns
 * is what it "billed": conservation says every acknowledged increment is either billed or still
 * in the table.
 */
import pg from 'pg';
import { InputError } from '../../errors';
import { sumRows } from './ledger';
import { usesRowKey, usesRunKeys } from './sql';
import type { QuantityTotals, UsageBufferTable } from './types';
import { APP_FLUSH, clientConfig, describeConnectError, setStatementTimeoutSql } from './validate';

export interface FlusherOutcome {
  cycles: number;
  errors: number;
  rowsFlushed: number;
  flushed: Map<string, QuantityTotals>;
  firstError?: string;
}

export class Flusher {
  private client: pg.Client | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly outcome: FlusherOutcome = { cycles: 0, errors: 0, rowsFlushed: 0, flushed: new Map() };

  constructor(
    private readonly args: {
      dbUrl: string;
      statements: string[];
      keys: readonly string[];
      table: UsageBufferTable;
      everyMs: number;
      statementTimeoutMs: number;
      onError?: (message: string) => void;
    },
  ) {}

  /** Connects (an InputError if it cannot), then flushes every `everyMs` until stop(). */
  async start(): Promise<void> {
    this.client = await this.connect(true);
    this.loop = this.run();
  }

  private async connect(first: boolean): Promise<pg.Client> {
    const client = new pg.Client(clientConfig(this.args.dbUrl, APP_FLUSH));
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      if (first) throw new InputError(describeConnectError(err, this.args.dbUrl));
      throw err;
    }
    await client.query(setStatementTimeoutSql(this.args.statementTimeoutMs));
    return client;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await this.cycle();
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.args.everyMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** One flush: the statements in order; `$2` statements once per row of the last rows read. */
  private async cycle(): Promise<void> {
    const { statements, keys, table } = this.args;
    try {
      if (!this.client) this.client = await this.connect(false);
      const client = this.client;
      let lastRows: Array<Record<string, unknown>> = [];
      for (const sql of statements) {
        const runs: unknown[][] = usesRowKey(sql)
          ? lastRows.map((row) => [keys, row[table.userId]])
          : [usesRunKeys(sql) ? [keys] : []];
        for (const values of runs) {
          const result = await client.query<Record<string, unknown>>(sql, values.length ? values : undefined);
          const returnsRows = result.fields?.some((f) => f.name === table.userId) ?? false;
          if (returnsRows) {
            this.outcome.rowsFlushed += sumRows(result.rows, table, this.outcome.flushed);
            if (!usesRowKey(sql)) lastRows = result.rows;
          }
        }
      }
      this.outcome.cycles++;
    } catch (err) {
      this.outcome.errors++;
      const message = err instanceof Error ? err.message : String(err);
      this.outcome.firstError ??= message;
      this.args.onError?.(message);
      // Leave no transaction open (custom BEGIN ... COMMIT), or drop a broken connection.
      const client = this.client;
      this.client = null;
      if (client) {
        try {
          await client.query('ROLLBACK');
          this.client = client;
        } catch {
          await client.end().catch(() => undefined);
        }
      }
    }
  }

  /** Lets the cycle in progress finish, then stops; returns what was flushed. */
  async stop(): Promise<FlusherOutcome> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.client?.end().catch(() => undefined);
    this.client = null;
    return this.outcome;
  }
}
