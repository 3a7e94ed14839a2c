import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CRITERIA, evaluateCriteria, formatCriterion } from '../../src/engine/criteria';
import schema from '../../schemas/phase3.config.schema.json';

const apiMetrics = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  latencyMs: { mean: 20, p50: 18, p90: 40, p95: 60, p99: 150, p999: 300, max: 400, count: 1000 },
  connections: 100,
  errorRate: 0,
  timeouts: 0,
  ...over,
});

test('default targets come from the table and every API criterion is evaluated', () => {
  const results = evaluateCriteria('api', apiMetrics());
  assert.deepEqual(results.map((r) => r.id), ['api.p95', 'api.p99', 'api.concurrency', 'api.errorRate', 'api.timeouts']);
  assert.ok(results.every((r) => r.passed === true));
  assert.equal(results[0].target, 100);
});

test('thresholds from the config override targets by id', () => {
  const results = evaluateCriteria('api', apiMetrics(), { 'api.p95': 50 });
  const p95 = results.find((r) => r.id === 'api.p95');
  assert.equal(p95?.target, 50);
  assert.equal(p95?.passed, false);
});

test('a value equal to a strict target fails', () => {
  const p95 = evaluateCriteria('api', apiMetrics({ latencyMs: { mean: 1, p50: 1, p90: 1, p95: 100, p99: 1, p999: 1, max: 1, count: 1 } }))[0];
  assert.equal(p95.passed, false);
  assert.equal(formatCriterion(p95), 'P95 latency 100 ms < 100 ms');
});

test('error rate is a fraction in metrics and a percentage in the criterion', () => {
  const rate = evaluateCriteria('api', apiMetrics({ errorRate: 0.002 })).find((r) => r.id === 'api.errorRate');
  assert.equal(rate?.actual, 0.2);
  assert.equal(rate?.passed, false);
});

test('a criterion the run did not measure is absent, or null with the reason, never guessed', () => {
  const none = evaluateCriteria('api', { connections: 10 });
  assert.deepEqual(none.map((r) => r.id), ['api.concurrency']);
  const withReason = evaluateCriteria('db', {}, {}, { 'db.cpu': 'no metrics source reachable' });
  assert.deepEqual(withReason, [
    { id: 'db.cpu', label: 'CPU usage', comparator: '<', target: 70, unit: '%', actual: null, passed: null, note: 'no metrics source reachable' },
  ]);
});

test('rate mode judges latency corrected for coordinated omission', () => {
  const results = evaluateCriteria('api', apiMetrics({ correctedLatencyMs: { mean: 1, p50: 1, p90: 1, p95: 500, p99: 900, p999: 1, max: 1, count: 1 } }));
  assert.equal(results.find((r) => r.id === 'api.p95')?.actual, 500);
});

test('the schema lists exactly the criterion ids of the table', () => {
  const ids = (schema.properties.thresholds.propertyNames as { enum: string[] }).enum;
  assert.deepEqual([...ids].sort(), CRITERIA.map((c) => c.id).sort());
});
