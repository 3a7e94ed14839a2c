import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDemoTarget } from '../../src/demo/target';
import { demoConfig } from '../../src/demo/config';
import { buildPlan } from '../../src/engine/plan';
import { executeRun } from '../../src/engine/runner';

const WORKER = path.join(__dirname, '..', '..', 'dist', 'worker.js');

test('db runs alongside the load, in its own worker, and ends as a complete run when the load is done', async () => {
  const target = await startDemoTarget();
  try {
    const loaded = { config: { ...demoConfig(target.graphqlUrl), api: { durationS: 3, connections: 20 } }, file: null, baseDir: os.tmpdir() };
    const plan = buildPlan(['api', 'db'], loaded, { url: target.graphqlUrl, dbUrl: target.dbUrl, localPid: target.postgresPid }, {}, os.tmpdir());
    const started = Date.now();
    const order: string[] = [];
    const run = await executeRun(plan, {
      signal: new AbortController().signal,
      workerPath: WORKER,
      onTaskStart: (t) => order.push(`start ${t}`),
      onTaskEnd: (t) => order.push(`end ${t}`),
    });
    const elapsedS = (Date.now() - started) / 1000;
    assert.deepEqual(order, ['start db', 'start api', 'end api', 'end db']);
    const db = run.tasks.db;
    assert.ok(db && run.tasks.api);
    assert.notEqual(db.status, 'cancelled', 'finishing alongside is a normal end');
    assert.notEqual(db.status, 'error', db.error);
    assert.ok(((db.metrics as { reads?: number }).reads ?? 0) > 0, 'the probes ran under the load');
    assert.ok(db.criteria.some((c) => c.id === 'db.readP99' && c.actual !== null));
    // The dashboard's CPU and memory lines: the demo PostgreSQL's process tree, per interval.
    assert.ok(db.series.some((p) => typeof p.cpuPercent === 'number'), JSON.stringify(db.series.slice(0, 2)));
    // PostgreSQL has no yb_servers(): no nodes to discover, and the result says so.
    assert.ok((db.notes ?? []).some((n) => n.includes('no yb_servers()')), JSON.stringify(db.notes));
    // It stopped with the load, not at its own (long) bound.
    assert.ok(elapsedS < 60, `the run took ${elapsedS} s`);
  } finally {
    await target.stop();
  }
});
