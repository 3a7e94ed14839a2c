import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { TaskResult } from '../../src/shared/result';
import type { TaskEvent } from '../../src/shared/protocol';
import { runUsersTask, type UsersMetrics, type UsersOptions } from '../../src/engine/tasks/users';
import { targetAt } from '../../src/engine/tasks/users/types';
import { fixedDelay, sendJson, startServer, TYPENAME, type Handler } from '../helpers/servers';

function usersOptions(url: string, over: Partial<UsersOptions> = {}): UsersOptions {
  return {
    request: { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}', timeoutMs: 5000 },
    stages: [{ durationS: 1, target: 10 }, { durationS: 8, target: 10 }],
    thinkTimeMs: 100,
    intervalMs: 1000,
    healthEveryMs: 1000,
    healthUrls: [],
    maxDurationS: 30,
    ...over,
  };
}

const metricsOf = (r: TaskResult): UsersMetrics => r.metrics as unknown as UsersMetrics;

async function runUsers(options: UsersOptions, thresholds: Record<string, number> = {}, events: TaskEvent[] = []): Promise<TaskResult> {
  return runUsersTask(options, { emit: (e) => events.push(e), signal: new AbortController().signal, thresholds });
}

test('ramp: active users follow 2s:20,2s:20,1s:0 within 10 % at interval ends, one socket per user', async () => {
  const sockets = new Set<Socket>();
  const delay = fixedDelay(5);
  const server = await startServer((req, res, i) => {
    sockets.add(req.socket);
    delay(req, res, i);
  });
  try {
    const stages = [{ durationS: 2, target: 20 }, { durationS: 2, target: 20 }, { durationS: 1, target: 0 }];
    const events: TaskEvent[] = [];
    const result = await runUsers(usersOptions(server.url, { stages, thinkTimeMs: 50 }), { 'users.concurrency': 20 }, events);
    const m = metricsOf(result);
    const inside = result.series;
    assert.ok(inside.length >= 4, JSON.stringify(result.series));
    for (const p of inside) {
      const expected = targetAt(stages, p.t);
      // 10 % of the peak (2 users): the stage line at the interval's own end time.
      assert.ok(Math.abs((p.activeConnections ?? -1) - expected) <= 2, `t=${p.t}: ${p.activeConnections} users, line ${expected}`);
    }
    const rising = inside.filter((p) => p.t < 2);
    assert.ok(rising.every((p) => (p.activeConnections ?? 0) < 20), 'ramping up, not all at once');
    assert.equal(Math.max(...inside.map((p) => p.activeConnections ?? 0)), 20);
    assert.equal(m.peakUsers, 20);
    assert.equal(m.errors, 0);
    // 20 users + the health connection; a user never reconnects, a ramp never drops a user.
    assert.ok(sockets.size <= 21, `${sockets.size} sockets`);
    assert.ok(m.requests > 100);
    assert.ok(m.correctedLatencyMs && m.latencyMs && m.correctedLatencyMs.p50 >= m.latencyMs.p50);
    assert.equal(events.filter((e) => e.type === 'interval').length, result.series.length);
    assert.equal(result.criteria.find((c) => c.id === 'users.concurrency')?.passed, true);
    // 4 s of stages with no flat plateau long enough: degradation not judged.
    assert.equal(m.degradation, undefined);
    const d = result.criteria.find((c) => c.id === 'users.degradation');
    assert.ok(d && d.passed === null && /not enough steady-state intervals/.test(d.note ?? ''), JSON.stringify(d));
    assert.equal(m.health.failures, 0);
    assert.ok(m.health.checks >= 3);
  } finally {
    await server.close();
  }
});

test('steady: a fixed-delay server over a plateau is not flagged and passes', async () => {
  const server = await startServer(fixedDelay(10));
  try {
    const result = await runUsers(usersOptions(server.url), { 'users.concurrency': 10 });
    const m = metricsOf(result);
    assert.ok(m.degradation, JSON.stringify(result.notes));
    assert.equal(m.degradation.detected, false, m.degradation.reason);
    assert.equal(m.peakUsers, 10);
    assert.equal(m.errors, 0);
    assert.equal(m.timeouts, 0);
    assert.equal(result.status, 'passed', JSON.stringify({ criteria: result.criteria, notes: result.notes }));
    assert.equal(typeof m.generator.limited, 'boolean');
    assert.ok(m.generator.cpuPercent >= 0);
  } finally {
    await server.close();
  }
});

test('degrading: a server whose delay grows by 2 ms per 100 requests is flagged, with since', async () => {
  const growing: Handler = (_req, res, i) => {
    setTimeout(() => sendJson(res, 200, TYPENAME), 3 + 2 * Math.floor(i / 100));
  };
  const server = await startServer(growing);
  try {
    const result = await runUsers(usersOptions(server.url), { 'users.concurrency': 10 });
    const m = metricsOf(result);
    assert.ok(m.degradation, JSON.stringify(result.notes));
    assert.equal(m.degradation.detected, true, m.degradation.reason);
    assert.ok(m.degradation.since !== undefined && m.degradation.since >= 1 && m.degradation.since < 9, `since ${m.degradation.since}`);
    assert.ok((m.degradation.p95ChangePct ?? 0) >= 50);
    assert.equal(result.criteria.find((c) => c.id === 'users.degradation')?.passed, false);
    assert.equal(result.status, 'failed');
  } finally {
    await server.close();
  }
});

test('failing midway: errors and health failures show, and the task fails', async () => {
  const started = performance.now();
  const server = await startServer((_req, res) => {
    if (performance.now() - started < 1500) sendJson(res, 200, TYPENAME);
    else sendJson(res, 500, '{"errors":[{"message":"down"}]}');
  });
  try {
    const stages = [{ durationS: 0.5, target: 5 }, { durationS: 3, target: 5 }];
    const result = await runUsers(usersOptions(server.url, { stages, thinkTimeMs: 50, healthEveryMs: 300 }), { 'users.concurrency': 5 });
    const m = metricsOf(result);
    assert.ok(m.non2xx > 0 && m.errors === m.non2xx, JSON.stringify(m));
    assert.ok(m.succeeded > 0);
    assert.ok(m.health.failures > 0, JSON.stringify(m.health));
    assert.ok(m.health.firstFailureAt !== undefined && m.health.firstFailureAt >= 1, JSON.stringify(m.health));
    assert.ok(result.series.some((p) => p.errors > 0));
    assert.equal(result.status, 'failed');
    assert.ok(result.notes?.some((n) => /health checks failed/.test(n)), JSON.stringify(result.notes));
    assert.equal(result.criteria.find((c) => c.id === 'users.errorRate')?.passed, false);
  } finally {
    await server.close();
  }
});

test('cancel: stops promptly and is marked cancelled', async () => {
  const server = await startServer(fixedDelay(5));
  try {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 800);
    const t = performance.now();
    const result = await runUsersTask(usersOptions(server.url, { stages: [{ durationS: 0.1, target: 5 }, { durationS: 20, target: 5 }] }), { emit: () => undefined, signal: controller.signal, thresholds: {} });
    assert.ok(performance.now() - t < 5000);
    assert.equal(result.status, 'cancelled');
    assert.ok(metricsOf(result).requests > 0);
  } finally {
    await server.close();
  }
});

test('a saturated generator is reported: the figures are the generator\'s limit, not the server\'s', async () => {
  const server = await startServer(fixedDelay(1));
  // The load thread (this thread, in a run without a worker script) is kept busy 150 ms of every 200.
  const hog = setInterval(() => {
    const end = performance.now() + 150;
    while (performance.now() < end);
  }, 200);
  try {
    const result = await runUsers(usersOptions(server.url, { stages: [{ durationS: 4, target: 5 }], thinkTimeMs: 50 }));
    const m = metricsOf(result);
    assert.equal(m.generator.limited, true, JSON.stringify(m.generator));
    assert.ok(m.generator.eventLoopP99Ms > 50, JSON.stringify(m.generator));
    assert.equal(m.generator.workers, 1);
    assert.ok(result.notes?.some((n) => /figures limited by the load generator/.test(n)), JSON.stringify(result.notes));
  } finally {
    clearInterval(hog);
    await server.close();
  }
});
