import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverNodes } from '../../src/engine/tasks/db';
import type { Probes } from '../../src/engine/tasks/db/probes';
import { DB_DEFAULTS, type DbOptions } from '../../src/engine/tasks/db/types';

const options = (over: Partial<DbOptions> = {}): DbOptions => ({
  ...DB_DEFAULTS, metricsUrls: [], nodeExporterUrls: [], dbUrl: 'postgres://u@127.0.0.1:5433/yb', ...over,
});
/** Only the one query discovery makes, answered as a three-node YugabyteDB cluster would. */
const cluster = (hosts: string[] | null): Probes => ({ ybServers: async () => hosts }) as unknown as Probes;

test('yb_servers() nodes become tserver metrics URLs; hosts off this machine only when allowed', async () => {
  const notes: string[] = [];
  const urls = await discoverNodes(options(), cluster(['127.0.0.1', '127.0.0.2', '10.1.2.3']), notes);
  assert.deepEqual(urls, ['http://127.0.0.1:9000', 'http://127.0.0.2:9000']);
  assert.ok(notes.some((n) => n.includes('10.1.2.3') && n.includes('not scraped')));
  const all = await discoverNodes(options({ allowRemoteMetrics: true, tserverMetricsPort: 9100 }), cluster(['127.0.0.1', '10.1.2.3']), []);
  assert.deepEqual(all, ['http://127.0.0.1:9100', 'http://10.1.2.3:9100']);
});

test('a database without yb_servers() gives no nodes and says why', async () => {
  const notes: string[] = [];
  assert.deepEqual(await discoverNodes(options(), cluster(null), notes), []);
  assert.match(notes.join(' '), /no yb_servers\(\)/);
});
