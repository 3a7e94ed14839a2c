import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStages, plateaus, targetAt, totalDurationS } from '../../src/engine/tasks/users/types';
import { detectDegradation, steadyIntervals, type SteadyInterval } from '../../src/engine/tasks/users/degradation';
import { InputError } from '../../src/engine/errors';

test('parseStages: k6-style specs with s, m, h and compound durations', () => {
  assert.deepEqual(parseStages('1m:100,5m:500,1m:0'), [
    { durationS: 60, target: 100 }, { durationS: 300, target: 500 }, { durationS: 60, target: 0 },
  ]);
  assert.deepEqual(parseStages(' 30s:10 , 1h:10,1m30s:0 '), [
    { durationS: 30, target: 10 }, { durationS: 3600, target: 10 }, { durationS: 90, target: 0 },
  ]);
  assert.deepEqual(parseStages('1.5m:5'), [{ durationS: 90, target: 5 }]);
});

test('parseStages: a bad spec throws an InputError naming the bad part', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['1m:100,5x:500', /part 2 "5x:500".*bad duration "5x"/],
    ['1m:100,5m', /part 2 "5m" is not duration:target/],
    ['1m:-3', /part 1 "1m:-3".*bad target "-3"/],
    ['1m:ten', /bad target "ten"/],
    ['0s:10', /zero duration/],
    ['60:10', /bad duration "60"/],
    ['1m:10,,1m:0', /part 2 ""/],
  ];
  for (const [spec, pattern] of cases) {
    assert.throws(() => parseStages(spec), (err: unknown) => err instanceof InputError && pattern.test(err.message), spec);
  }
});

test('stage line: linear ramps, flat plateaus found', () => {
  const stages = parseStages('10s:100,20s:100,10s:0');
  assert.equal(totalDurationS(stages), 40);
  assert.equal(targetAt(stages, 0), 0);
  assert.equal(targetAt(stages, 5), 50);
  assert.equal(targetAt(stages, 20), 100);
  assert.equal(targetAt(stages, 35), 50);
  assert.equal(targetAt(stages, 99), 0);
  assert.deepEqual(plateaus(stages), [{ startS: 10, endS: 30, users: 100 }]);
  assert.deepEqual(plateaus(parseStages('1m:100,5m:500,1m:0')), []);
  assert.deepEqual(plateaus(parseStages('1s:5,2s:5,3s:5,1s:0')), [{ startS: 1, endS: 6, users: 5 }]);
});

/** Deterministic noise: a small LCG. */
function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
}

function series(n: number, p95: (i: number) => number, errors: (i: number) => number = () => 0): SteadyInterval[] {
  return Array.from({ length: n }, (_, i) => ({ startS: i * 5, endS: (i + 1) * 5, p95: p95(i), requests: 1000, errors: errors(i) }));
}

test('degradation: a steady series with noise is not flagged', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const r = noise(seed);
    const v = detectDegradation(series(24, () => 20 + r() * 6, () => Math.round(2 + r() * 4)));
    assert.ok(v.judged);
    assert.equal(v.degradation.detected, false, v.degradation.reason);
    assert.equal(v.degradation.since, undefined);
  }
});

test('degradation: one slow interval at the end is noise, not degradation', () => {
  const v = detectDegradation(series(12, (i) => (i === 11 ? 200 : 20)));
  assert.ok(v.judged);
  assert.equal(v.degradation.detected, false, v.degradation.reason);
});

test('degradation: a climbing p95 is flagged, with by how much and since when', () => {
  const r = noise(42);
  const v = detectDegradation(series(24, (i) => (i < 10 ? 20 + r() * 2 : 20 + (i - 10) * 3 + r() * 2)));
  assert.ok(v.judged);
  const d = v.degradation;
  assert.equal(d.detected, true, d.reason);
  assert.ok(d.p95LastMs !== null && d.p95FirstMs !== null && d.p95LastMs > d.p95FirstMs * 1.5);
  assert.ok(d.p95ChangePct !== null && d.p95ChangePct >= 50);
  assert.ok(d.since !== undefined && d.since >= 45 && d.since <= 70, `since ${d.since}`);
  assert.match(d.reason, /latency climbed/);
});

test('degradation: a small relative rise (< 5 ms) is not flagged even when beyond noise', () => {
  const v = detectDegradation(series(12, (i) => (i < 6 ? 2 : 4)));
  assert.ok(v.judged);
  assert.equal(v.degradation.detected, false, v.degradation.reason);
});

test('degradation: a rising error rate is flagged', () => {
  const v = detectDegradation(series(12, () => 20, (i) => (i < 6 ? 1 : 50)));
  assert.ok(v.judged);
  assert.equal(v.degradation.detected, true, v.degradation.reason);
  assert.equal(v.degradation.errorRateFirst, 0.001);
  assert.ok(v.degradation.errorRateLast >= 0.04);
  assert.equal(v.degradation.since, 30);
  assert.match(v.degradation.reason, /error rate climbed/);
});

test('degradation: too few steady intervals is not judged', () => {
  const v = detectDegradation(series(4, (i) => 10 + i * 100));
  assert.equal(v.judged, false);
  assert.ok(!v.judged && /not enough steady-state intervals/.test(v.reason));
});

test('steadyIntervals: only intervals wholly inside a plateau, with jitter slack', () => {
  const points = series(8, () => 1).map((p) => ({ ...p, startS: p.startS / 5, endS: p.endS / 5 + 0.05 }));
  const kept = steadyIntervals(points, [{ startS: 2, endS: 6 }]);
  assert.deepEqual(kept.map((p) => p.startS), [2, 3, 4, 5]);
});
