import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskResult } from '../../src/shared/result';
import { evaluateCriteria } from '../../src/engine/criteria';
import { foldQueryTimeouts } from '../../src/engine/tasks/alongside';

const now = new Date().toISOString();
const task = (metrics: Record<string, unknown>, criteria: TaskResult['criteria'], status: TaskResult['status'] = 'passed'): TaskResult => ({
  status, metrics, criteria, series: [], startedAt: now, finishedAt: now,
});

test("the usage-buffer's statement timeouts count against the database check it ran beside", () => {
  const dbMetrics = { queryTimeouts: 0, readLatencyMs: { mean: 1, p50: 1, p90: 1, p95: 1, p99: 2, p999: 2, max: 3, count: 100 } };
  const db = task(dbMetrics, evaluateCriteria('db', dbMetrics, {}, { 'db.cpu': 'no source' }));
  assert.equal(db.criteria.find((c) => c.id === 'db.queryTimeouts')?.passed, true);
  foldQueryTimeouts(db, { 'usage-buffer': task({ timeouts: 3 }, []) }, {});
  assert.equal((db.metrics as { queryTimeouts: number }).queryTimeouts, 3);
  assert.equal(db.criteria.find((c) => c.id === 'db.queryTimeouts')?.passed, false);
  assert.equal(db.criteria.find((c) => c.id === 'db.cpu')?.note, 'no source', 'unmeasured criteria keep their reason');
  assert.equal(db.status, 'failed');
  assert.match(db.notes?.join(' ') ?? '', /3 seen by the usage-buffer task/);
});

test('nothing to fold: the result is left as it was', () => {
  const db = task({ queryTimeouts: 0 }, []);
  const before = JSON.stringify(db);
  foldQueryTimeouts(db, { 'usage-buffer': task({ timeouts: 0 }, []) }, {});
  foldQueryTimeouts(db, {}, {});
  assert.equal(JSON.stringify(db), before);
});
