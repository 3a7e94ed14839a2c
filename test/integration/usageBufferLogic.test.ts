/**
 * The usage-buffer task's pure pieces: how a failed statement is classified (what may be sent
 * again), how the exact check counts lost and phantom updates, and the SQL built from the
 * table's shape. No database here; the real-server behaviour is in usageBuffer.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, classifyError } from '../../src/engine/tasks/usageBuffer/classify';
import { Ledger, planKeys, type Quantity } from '../../src/engine/tasks/usageBuffer/ledger';
import { buildFlushStatements, buildUpsertSql, flushStatementProblem } from '../../src/engine/tasks/usageBuffer/sql';
import { DEFAULT_TABLE, type QuantityTotals } from '../../src/engine/tasks/usageBuffer';
import { highestParam } from '../../src/engine/tasks/usageBuffer/validate';

const pgError = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

test('only statements that certainly did not apply are retried', () => {
  assert.equal(classifyError(pgError('40001', 'could not serialize access')).kind, 'retry');
  assert.equal(classifyError(pgError('40P01', 'deadlock detected')).kind, 'retry');
  assert.equal(classifyError(pgError('23505', 'duplicate key')).kind, 'retry');
  assert.equal(classifyError(pgError('XX000', 'Restart read required at: ...')).kind, 'retry');
  assert.equal(classifyError(pgError('57014', 'canceling statement due to statement timeout')).kind, 'statement-timeout');
  assert.equal(classifyError(pgError('57P01', 'terminating connection due to administrator command')).kind, 'unknown');
  assert.equal(classifyError(pgError('08006')).kind, 'unknown');
  assert.equal(classifyError(new Error('Connection terminated unexpectedly')).kind, 'unknown');
  assert.equal(classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })).kind, 'unknown');
  assert.equal(classifyError(new Error('Client has encountered a connection error and is not queryable')).kind, 'not-sent');
  assert.equal(classifyError(pgError('23502', 'null value in column')).kind, 'failed');
  assert.equal(classifyError(pgError('42501', 'permission denied')).kind, 'failed');
});

test('backoff is exponential with full jitter and a cap', () => {
  assert.equal(backoffMs(1, () => 0.999999), 9);
  assert.equal(backoffMs(3, () => 0.5), 20);
  assert.equal(backoffMs(20, () => 0.999999), 999);
  assert.equal(backoffMs(5, () => 0), 0);
});

function totals(bandwidth: number, compute: number, requests: number): QuantityTotals {
  return { bandwidth, compute, requests };
}

test('the exact check: lost = acked - found, phantom = found - acked - unknown, per key, on every quantity', () => {
  const plan = planKeys('r1', 2);
  assert.deepEqual(plan.keys, ['phase3-r1-1', 'phase3-r1-2', 'phase3-r1-hot']);
  const ledger = new Ledger(plan);
  for (let i = 0; i < 5; i++) ledger.acknowledged('phase3-r1-hot', totals(10, 2, 1));
  ledger.acknowledged('phase3-r1-1', totals(7, 3, 1));
  ledger.acknowledged('phase3-r1-1', totals(8, 4, 1));
  ledger.unknownOutcome('phase3-r1-2', totals(5, 5, 1));

  // Exact: the unknown one did not apply.
  const exact = new Map([['phase3-r1-hot', totals(50, 10, 5)], ['phase3-r1-1', totals(15, 7, 2)]]);
  let c = ledger.compare(exact, 2);
  assert.deepEqual([c.lostUpdates, c.phantomUpdates, c.hotKey.lostUpdates, c.integrity.unknownApplied], [0, 0, 0, 0]);

  // The unknown one applied: neither lost nor phantom, and reported as applied.
  c = ledger.compare(new Map([...exact, ['phase3-r1-2', totals(5, 5, 1)]]), 3);
  assert.deepEqual([c.lostUpdates, c.phantomUpdates, c.integrity.unknownApplied], [0, 0, 1]);

  // Two whole increments lost on the hot key.
  c = ledger.compare(new Map([...exact, ['phase3-r1-hot', totals(30, 6, 3)]]), 2);
  assert.deepEqual([c.lostUpdates, c.hotKey.lostUpdates, c.integrity.keysWithLostUpdates], [2, 2, 1]);
  assert.deepEqual(c.integrity.lost, totals(20, 4, 2));
  assert.equal(c.hotKey.operations, 5);

  // A statement that drops one column: short in compute only, still a lost update.
  c = ledger.compare(new Map([...exact, ['phase3-r1-1', totals(15, 0, 2)]]), 2);
  assert.equal(c.lostUpdates, 1);
  assert.equal(c.integrity.lost.compute, 7);

  // Counted twice: phantom, also when a key should not exist at all.
  c = ledger.compare(new Map([...exact, ['phase3-r1-1', totals(30, 14, 4)]]), 2);
  assert.deepEqual([c.lostUpdates, c.phantomUpdates], [0, 2]);
  c = ledger.compare(new Map([...exact, ['phase3-r1-2', totals(10, 10, 2)]]), 3);
  assert.deepEqual([c.phantomUpdates, c.integrity.unknownApplied], [1, 1]);

  const expected: Record<Quantity, number> = { bandwidth: 65, compute: 17, requests: 7 };
  assert.deepEqual(c.integrity.expected, expected);
  assert.deepEqual(ledger.ackedTotals(), expected);
});

test('the default upsert is the user\'s atomic INSERT ... ON CONFLICT DO UPDATE, with every name quoted', () => {
  assert.equal(
    buildUpsertSql(DEFAULT_TABLE),
    'INSERT INTO "UsageBuffer" AS ub ("userId", "bandwidth", "compute", "requests", "updatedAt") VALUES ($1, $2, $3, $4, NOW()) ' +
      'ON CONFLICT ("userId") DO UPDATE SET "bandwidth" = ub."bandwidth" + EXCLUDED."bandwidth", "compute" = ub."compute" + EXCLUDED."compute", ' +
      '"requests" = ub."requests" + EXCLUDED."requests", "updatedAt" = NOW()',
  );
  const renamed = buildUpsertSql({ schema: 'billing', name: 'usage "buf"', userId: 'uid', bandwidth: 'bw', compute: 'cpu', requests: 'req', updatedAt: null });
  assert.match(renamed, /^INSERT INTO "billing"\."usage ""buf""" AS ub \("uid", "bw", "cpu", "req"\) VALUES \(\$1, \$2, \$3, \$4\)/);
  assert.ok(!renamed.includes('NOW()'));
});

test('every flush statement is scoped to the run\'s keys', () => {
  for (const mode of ['two-step', 'delete-returning'] as const) {
    for (const sql of buildFlushStatements(DEFAULT_TABLE, { mode, everyMs: 10 })) assert.match(sql, /= ANY\(\$1::text\[\]\)/);
  }
  assert.equal(flushStatementProblem('DELETE FROM "UsageBuffer" WHERE "userId" = ANY($1) RETURNING *'), null);
  assert.equal(flushStatementProblem('BEGIN'), null);
  assert.equal(flushStatementProblem('commit'), null);
  assert.match(flushStatementProblem('DELETE FROM "UsageBuffer" RETURNING *') ?? '', /\$1/);
  assert.equal(highestParam('SELECT $1, $2, $4'), 4);
  assert.equal(highestParam('SELECT 1'), 0);
});
