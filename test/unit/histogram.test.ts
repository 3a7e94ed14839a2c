import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHistogram, encodeHistogram, mergeEncoded, percentileDistribution, recordMs, summarize } from '../../src/engine/histogram';

test('records fractional milliseconds as microseconds and summarizes in ms', () => {
  const h = createHistogram();
  for (let i = 1; i <= 1000; i++) recordMs(h, i * 0.01); // 0.01 ms .. 10 ms
  const s = summarize(h);
  assert.ok(s);
  assert.equal(s.count, 1000);
  // Sub-millisecond values survive: a whole-millisecond histogram would read p50 as 4 or 5.
  assert.ok(Math.abs(s.p50 - 5) < 0.01, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 9.9) < 0.02, `p99 ${s.p99}`);
  assert.ok(Math.abs(s.max - 10) < 0.01, `max ${s.max}`);
  assert.ok(s.p50 <= s.p90 && s.p90 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
});

test('an empty histogram summarizes to null, not zeros', () => {
  assert.equal(summarize(createHistogram()), null);
});

test('interval histograms encoded and merged equal one histogram of all values', () => {
  const a = createHistogram();
  const b = createHistogram();
  const all = createHistogram();
  for (let i = 0; i < 500; i++) {
    recordMs(a, 1 + (i % 7));
    recordMs(all, 1 + (i % 7));
    recordMs(b, 50 + (i % 13));
    recordMs(all, 50 + (i % 13));
  }
  const merged = createHistogram();
  mergeEncoded(merged, encodeHistogram(a));
  mergeEncoded(merged, encodeHistogram(b));
  const m = summarize(merged);
  const d = summarize(all);
  assert.ok(m && d);
  assert.equal(m.count, d.count);
  // Equal within HdrHistogram's precision (3 significant digits: 0.1 %).
  for (const key of ['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const) {
    assert.ok(Math.abs(m[key] - d[key]) <= d[key] * 0.001 + 0.001, `${key}: ${m[key]} vs ${d[key]}`);
  }
});

test('the percentile distribution climbs to 100 and ends at the max', () => {
  const h = createHistogram();
  for (let i = 1; i <= 10_000; i++) recordMs(h, i / 100);
  const points = percentileDistribution(h);
  assert.equal(points[0].percentile, 0);
  assert.equal(points[points.length - 1].percentile, 100);
  assert.ok(Math.abs(points[points.length - 1].ms - 100) <= 0.1);
  for (let i = 1; i < points.length; i++) {
    assert.ok(points[i].percentile > points[i - 1].percentile);
    assert.ok(points[i].ms >= points[i - 1].ms);
  }
  assert.ok(points.some((p) => p.percentile > 99.9), 'reaches the tail');
});
