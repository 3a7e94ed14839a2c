/** The db task's metrics parsers and two-scrape computations, against the fixtures in test/fixtures/yugabyte. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMetricsBody, parsePrometheusText, parseYbMetricsJson, type Sample } from '../../src/engine/tasks/db/prometheus';
import { nodeExporterFigures, ybNodeFigures, type Scrape } from '../../src/engine/tasks/db/compute';
import { metricsEndpoint } from '../../src/engine/tasks/db/scrape';
import { isQueryTimeout } from '../../src/engine/tasks/db/probes';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'yugabyte');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const scrapeOf = (name: string, atMs: number, url = 'http://10.0.0.1:9000/prometheus-metrics'): Scrape => ({ url, atMs, samples: parseMetricsBody(fixture(name)).samples });
const find = (samples: Sample[], name: string, quantile?: string): Sample | undefined =>
  samples.find((s) => s.name === name && (quantile === undefined || s.labels.quantile === quantile));

describe('Prometheus text parser', () => {
  test('an older tserver build: no # HELP/# TYPE, labels in any order, trailing ms timestamps', () => {
    const { samples, skipped } = parsePrometheusText(fixture('tserver-a.before.prom'));
    assert.equal(skipped, 0);
    assert.equal(samples.length, 12);
    const p99 = find(samples, 'handler_latency_yb_tserver_TabletServerService_Write', 'p99');
    assert.deepEqual(p99, {
      name: 'handler_latency_yb_tserver_TabletServerService_Write',
      labels: { quantile: 'p99', metric_id: 'yb.tabletserver', metric_type: 'server', exported_instance: 'node-a:9000' },
      value: 4608,
      timestampMs: 1736161627577,
    });
    assert.equal(find(samples, 'server_memory_hard_limit')?.value, 9556947517);
  });

  test('a 2024+ build: # HELP/# TYPE skipped, escaped quotes, backslashes and newlines, NaN and +Inf', () => {
    const { samples, skipped } = parsePrometheusText(fixture('tserver-b.after.prom'));
    assert.equal(skipped, 0);
    const info = find(samples, 'build_info');
    assert.equal(info?.labels.note, 'a "quoted" value, a back\\slash\nand a newline');
    assert.equal(info?.labels.version, '2024.1.0.0');
    assert.equal(find(samples, 'handler_latency_yb_tserver_TabletServerService_Read', 'max')?.value, Infinity);
    assert.ok(Number.isNaN(find(samples, 'handler_latency_yb_tserver_TabletServerService_Write', 'mean')?.value));
    assert.equal(find(samples, 'handler_latency_yb_tserver_TabletServerService_Read', 'min')?.value, 90);
  });

  test('lines without labels or timestamps, exponents, -Inf, a trailing comma; bad lines skipped and counted', () => {
    const text = [
      'node_memory_MemTotal_bytes 8e+09',
      'up{job="x",} 1',
      'temperature{ sensor = "a" } -Inf 1700000000000',
      '',
      '   # a comment with leading spaces',
      'broken{label="unterminated} 1',
      'no_value{a="b"}',
      'two_many 1 2 3',
      'bad_value garbage',
      '0starts_with_digit 1',
    ].join('\r\n');
    const { samples, skipped } = parsePrometheusText(text);
    assert.deepEqual(samples, [
      { name: 'node_memory_MemTotal_bytes', labels: {}, value: 8e9 },
      { name: 'up', labels: { job: 'x' }, value: 1 },
      { name: 'temperature', labels: { sensor: 'a' }, value: -Infinity, timestampMs: 1700000000000 },
    ]);
    assert.equal(skipped, 5);
  });
});

describe('YugabyteDB /metrics JSON parser', () => {
  test('histograms become _count, _sum and quantile samples; entity type and id become labels', () => {
    const { samples, skipped } = parseYbMetricsJson(fixture('tserver-c.after.json'));
    assert.equal(skipped, 0);
    const read = samples.filter((s) => s.name.startsWith('handler_latency_yb_tserver_TabletServerService_Read') && s.labels.metric_type === 'server');
    assert.equal(find(read, 'handler_latency_yb_tserver_TabletServerService_Read_count')?.value, 150);
    assert.equal(find(read, 'handler_latency_yb_tserver_TabletServerService_Read_sum')?.value, 31000);
    assert.equal(find(read, 'handler_latency_yb_tserver_TabletServerService_Read', 'p99')?.value, 700);
    assert.equal(find(read, 'handler_latency_yb_tserver_TabletServerService_Read', 'p95')?.value, 500);
    assert.equal(find(read, 'handler_latency_yb_tserver_TabletServerService_Read', 'p99.9')?.value, 900);
    assert.equal(find(read, 'handler_latency_yb_tserver_TabletServerService_Read', 'mean')?.value, 210.5);
    const seek = find(samples, 'rocksdb_number_db_seek');
    assert.deepEqual(seek?.labels, { metric_type: 'tablet', metric_id: '4b3f', namespace_name: 'yugabyte', table_name: 'usage', table_id: '000033e1' });
  });

  test('parseMetricsBody tells the two formats apart; JSON that is not an entity array is refused', () => {
    assert.equal(parseMetricsBody(fixture('tserver-c.before.json')).format, 'json');
    assert.equal(parseMetricsBody(fixture('tserver-a.before.prom')).format, 'prometheus');
    assert.throws(() => parseYbMetricsJson('{"a":1}'), /not a YugabyteDB/);
  });
});

describe('figures from two scrapes', () => {
  test('tserver without HELP: p99 µs → ms, ops/s from _count deltas, CPU over the server timestamps, memory from generic_heap_size', () => {
    const before = scrapeOf('tserver-a.before.prom', 0);
    // Arrival times 10 s apart: the servers' own timestamps (2 s apart) decide the window.
    const after = scrapeOf('tserver-a.after.prom', 10_000);
    const [a, ...rest] = ybNodeFigures(before, after, 1, 'yb-tserver');
    assert.equal(rest.length, 0);
    assert.deepEqual(a.figures, {
      node: 'node-a:9000', url: after.url, kind: 'yb-tserver', windowS: 2,
      readP99Ms: 2.5, writeP99Ms: 8, opsPerSec: 1500, cpuPercent: 70, memoryPercent: 50, rpcsTimedOutInQueue: 2,
    });
    assert.equal(ybNodeFigures(before, after, 2, 'yb-tserver')[0].figures.cpuPercent, 35, 'cores divide the CPU figure');
  });

  test('tserver with HELP: mem_tracker_server is preferred over generic_heap_size', () => {
    const [b] = ybNodeFigures(scrapeOf('tserver-b.before.prom', 0), scrapeOf('tserver-b.after.prom', 2000), 1, 'yb-tserver');
    assert.equal(b.figures.node, 'node-b:9000');
    assert.equal(b.figures.readP99Ms, 9.1);
    assert.equal(b.figures.writeP99Ms, 3);
    assert.equal(b.figures.opsPerSec, 200);
    assert.equal(b.figures.cpuPercent, 80);
    assert.equal(b.figures.memoryPercent, 60);
    assert.equal(b.figures.rpcsTimedOutInQueue, undefined, 'a counter the node does not print is absent, not 0');
  });

  test('the JSON form: no timestamps, so the window is the arrival times; tablet entities left out', () => {
    const url = 'http://10.0.0.3:9000/metrics';
    const [c, ...rest] = ybNodeFigures(scrapeOf('tserver-c.before.json', 1000, url), scrapeOf('tserver-c.after.json', 2000, url), 1, 'yb-json');
    assert.equal(rest.length, 0);
    assert.deepEqual(c.figures, {
      node: '10.0.0.3:9000', url, kind: 'yb-json', windowS: 1,
      readP99Ms: 0.7, writeP99Ms: 1.5, opsPerSec: 60, cpuPercent: 30, memoryPercent: 25, rpcsTimedOutInQueue: 0,
    });
  });

  test('several nodes in one body are kept apart by exported_instance', () => {
    const body = (s: string): string => fixture(`tserver-a.${s}.prom`) + fixture(`tserver-b.${s}.prom`);
    const before: Scrape = { url: 'http://lb:9000/prometheus-metrics', atMs: 0, samples: parsePrometheusText(body('before')).samples };
    const after: Scrape = { url: 'http://lb:9000/prometheus-metrics', atMs: 2000, samples: parsePrometheusText(body('after')).samples };
    const nodes = ybNodeFigures(before, after, 1, 'yb-tserver').map((n) => [n.figures.node, n.figures.readP99Ms, n.figures.cpuPercent]);
    assert.deepEqual(nodes, [['node-a:9000', 2.5, 70], ['node-b:9000', 9.1, 80]]);
  });

  test('counters that went back (a restart) give no CPU or ops figure, with a note; no reads in the window, no read p99', () => {
    const [a] = ybNodeFigures(scrapeOf('tserver-a.after.prom', 0), scrapeOf('tserver-a.before.prom', 2000), 1, 'yb-tserver');
    assert.equal(a.figures.cpuPercent, undefined);
    assert.equal(a.figures.opsPerSec, undefined);
    assert.ok(a.notes.some((n) => /cpu counters went back/.test(n)));
    const still = scrapeOf('tserver-a.before.prom', 0);
    const [same] = ybNodeFigures(still, { ...still, atMs: 2000 }, 1, 'yb-tserver');
    assert.equal(same.figures.readP99Ms, undefined);
    assert.ok(same.notes.some((n) => /no Read RPCs/.test(n)));
  });

  test('a node missing from the first scrape: figures that need no delta only', () => {
    const [a] = ybNodeFigures({ url: 'http://x:9000', atMs: 0, samples: [] }, scrapeOf('tserver-a.after.prom', 2000), 1, 'yb-tserver');
    assert.equal(a.figures.memoryPercent, 50);
    assert.equal(a.figures.readP99Ms, 2.5);
    assert.equal(a.figures.cpuPercent, undefined);
    assert.ok(a.notes.some((n) => /not in the first scrape/.test(n)));
  });

  test('node_exporter: CPU from idle deltas over all CPUs, memory from MemAvailable/MemTotal, disk of the mountpoint', () => {
    const url = 'http://10.0.0.9:9100/metrics';
    const before = scrapeOf('node-exporter.before.prom', 0, url);
    const after = scrapeOf('node-exporter.after.prom', 1000, url);
    const root = nodeExporterFigures(before, after, '/');
    assert.deepEqual(root.figures, { node: '10.0.0.9:9100', url, kind: 'node-exporter', windowS: 1, cpuPercent: 37.5, memoryPercent: 75, diskPercent: 80 });
    assert.equal(nodeExporterFigures(before, after, '/data').figures.diskPercent, 10);
    const none = nodeExporterFigures(before, after, '/nope');
    assert.equal(none.figures.diskPercent, undefined);
    assert.ok(none.notes.some((n) => /no filesystem mounted at \/nope/.test(n)));
    assert.equal(nodeExporterFigures(before, before, '/').figures.cpuPercent, undefined, 'no CPU time passed: no figure');
  });
});

describe('db task helpers', () => {
  test('metricsEndpoint adds the default path to a bare base URL only', () => {
    assert.equal(metricsEndpoint('http://node:9000', '/prometheus-metrics'), 'http://node:9000/prometheus-metrics');
    assert.equal(metricsEndpoint('http://node:9000/', '/prometheus-metrics'), 'http://node:9000/prometheus-metrics');
    assert.equal(metricsEndpoint('http://node:9000/metrics?reset_histograms=false', '/prometheus-metrics'), 'http://node:9000/metrics?reset_histograms=false');
  });

  test('query timeouts: SQLSTATE 57014 and "Timed out" messages', () => {
    assert.equal(isQueryTimeout(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })), true);
    assert.equal(isQueryTimeout(new Error('Timed out: Read RPC (request call id 3) to 10.0.0.1:9100 timed out after 60.000s')), true);
    assert.equal(isQueryTimeout(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
    assert.equal(isQueryTimeout('string error'), false);
  });
});
