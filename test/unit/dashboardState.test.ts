import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostToWebview, RunView } from '../../src/shared/protocol';
import type { LoadIntervalPoint } from '../../src/shared/result';
import {
  MAX_SERIES_POINTS, boundSeries, initialState, reduce, reduceLocal, restoreState, shownRun, showingLiveRun,
  type DashboardState,
} from '../../webview/state';
import { SECOND_INCREMENTS, TASK_CHARTS, chartData, formatPercentileX, formatSeconds, percentileToX } from '../../webview/chartSpecs';
import { apiRun } from '../e2e/harness/apiRun';

const fold = (messages: readonly HostToWebview[], from: DashboardState = initialState): DashboardState =>
  messages.reduce(reduce, from);

function point(t: number, over: Partial<LoadIntervalPoint> = {}): LoadIntervalPoint {
  return { t, requests: 500, errors: 0, timeouts: 0, rps: 500, p50: 20, p95: 50, p99: 80, activeConnections: 100, ...over };
}

function startedRun(runId: string, tasks: Array<'api' | 'db'> = ['api']): RunView {
  const run: RunView = { runId, startedAt: '2025-06-02T09:30:00.000Z', finishedAt: null, target: { url: null, db: null }, tasks: {}, targets: { 'api.p95': 100, 'api.p99': 200 } };
  for (const task of tasks) run.tasks[task] = { task, status: 'running', criteria: [], metrics: {}, series: [], distribution: [] };
  return run;
}

/** Freezes a whole state, so a reducer that mutates its input throws instead of passing. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const real = apiRun({ runId: 'run-current', seed: 7 });
const baseline = apiRun({ runId: 'run-baseline', seed: 3, medianMs: 18 });

describe('dashboard state', () => {
  test('starts empty, with nothing shown', () => {
    assert.equal(shownRun(initialState), null);
    assert.equal(initialState.running, false);
  });

  test('runStarted shows the new run and clears the previous one and its saved images', () => {
    const before = fold([...real.messages, { type: 'imagesSaved', files: ['a.png'] }]);
    assert.equal(shownRun(before)?.tasks.api?.series.length, 60);
    const after = reduce(deepFreeze(before), { type: 'runStarted', run: startedRun('run-next') });
    assert.equal(after.running, true);
    assert.equal(after.live?.runId, 'run-next');
    assert.deepEqual(after.live?.tasks.api?.series, []);
    assert.equal(after.saved, null);
    assert.equal(showingLiveRun(after), true);
    assert.match(after.status, /^Running api/);
  });

  test('intervals append to their own task, in order, without touching the previous state', () => {
    let state = reduce(initialState, { type: 'runStarted', run: startedRun('r', ['api', 'db']) });
    for (let t = 1; t <= 5; t++) {
      state = reduce(deepFreeze(state), { type: 'interval', task: 'api', point: point(t) });
      if (t % 2 === 0) state = reduce(deepFreeze(state), { type: 'interval', task: 'db', point: point(t, { p99: 3 }) });
    }
    assert.deepEqual(state.live?.tasks.api?.series.map((p) => p.t), [1, 2, 3, 4, 5]);
    assert.deepEqual(state.live?.tasks.db?.series.map((p) => p.p99), [3, 3]);
    assert.equal(state.status, 'Running api: 5 s, 500 req/s, p99 80.0 ms');
  });

  test('an interval for a task runStarted did not list gets its own series', () => {
    const state = fold([{ type: 'runStarted', run: startedRun('r', ['api']) }, { type: 'interval', task: 'db', point: point(1) }]);
    assert.equal(state.live?.tasks.db?.status, 'running');
    assert.equal(state.live?.tasks.db?.series.length, 1);
  });

  test('intervals with no run started are ignored', () => {
    assert.equal(reduce(initialState, { type: 'interval', task: 'api', point: point(1) }), initialState);
  });

  test('taskFinished replaces the live series with the full view; runFinished ends the run', () => {
    const state = fold(real.messages.slice(0, 11)); // runStarted + 10 intervals
    assert.equal(state.live?.tasks.api?.series.length, 10);
    const taskDone = reduce(state, { type: 'taskFinished', task: 'api', view: real.view });
    assert.equal(taskDone.live?.tasks.api?.series.length, 60);
    assert.equal(taskDone.live?.tasks.api?.status, 'failed');
    assert.ok((taskDone.live?.tasks.api?.distribution.length ?? 0) > 20);
    assert.equal(taskDone.running, true);
    const runDone = reduce(taskDone, { type: 'runFinished', run: real.finished });
    assert.equal(runDone.running, false);
    assert.equal(showingLiveRun(runDone), false);
    assert.equal(runDone.status, 'Run finished: 4 of 5 criteria passed');
  });

  test('a cancelled run says so', () => {
    const cancelled: RunView = { ...real.finished, tasks: { api: { ...real.view, status: 'cancelled' } } };
    const state = fold([real.messages[0], { type: 'runFinished', run: cancelled }]);
    assert.match(state.status, /^Run cancelled/);
  });

  test('showRun shows a run from history with its baseline; the baseline message changes it', () => {
    const state = reduce(initialState, { type: 'showRun', run: real.finished, baseline: baseline.finished });
    assert.equal(shownRun(state)?.runId, 'run-current');
    assert.equal(state.baseline?.runId, 'run-baseline');
    assert.equal(state.running, false);
    assert.equal(reduce(state, { type: 'baseline', baseline: null }).baseline, null);
    assert.equal(reduce(state, { type: 'baseline', baseline: real.finished }).baseline?.runId, 'run-current');
  });

  test('a run opened during a live run does not stop the live one, and the page can go back to it', () => {
    let state = fold(real.messages.slice(0, 5));
    state = reduce(state, { type: 'showRun', run: baseline.finished, baseline: null });
    assert.equal(shownRun(state)?.runId, 'run-baseline');
    assert.equal(showingLiveRun(state), false);
    state = fold(real.messages.slice(5, 10), state);
    assert.equal(state.live?.tasks.api?.series.length, 9);
    state = reduceLocal(state, { type: 'showLive' });
    assert.equal(shownRun(state)?.runId, 'run-current');
    assert.equal(showingLiveRun(state), true);
  });

  test('cancelRequested holds only while a run is live, and the run ending clears it', () => {
    assert.equal(reduceLocal(initialState, { type: 'cancelRequested' }), initialState);
    const running = reduceLocal(fold(real.messages.slice(0, 3)), { type: 'cancelRequested' });
    assert.equal(running.cancelRequested, true);
    assert.equal(running.status, 'Cancelling…');
    assert.equal(reduce(running, { type: 'runFinished', run: real.finished }).cancelRequested, false);
  });

  test('imagesSaved keeps the files, or the error', () => {
    assert.deepEqual(reduce(initialState, { type: 'imagesSaved', files: ['docs/phase3-api-latency.png'] }).saved, { files: ['docs/phase3-api-latency.png'] });
    assert.deepEqual(reduce(initialState, { type: 'imagesSaved', files: [], error: 'EACCES' }).saved, { files: [], error: 'EACCES' });
  });

  test('the state round-trips through JSON and the page carries on from the restored copy', () => {
    const state = fold([...real.messages.slice(0, 30)], reduce(initialState, { type: 'baseline', baseline: baseline.finished }));
    const restored = restoreState(JSON.parse(JSON.stringify(state)));
    assert.deepEqual(restored, state);
    const next = fold(real.messages.slice(30), restored);
    assert.deepEqual(next, fold(real.messages.slice(30), state));
    assert.equal(next.live?.tasks.api?.series.length, 60);
  });

  test('a missing or foreign saved state restores to the initial state', () => {
    assert.equal(restoreState(undefined), initialState);
    assert.equal(restoreState({ version: 0, live: {} }), initialState);
    assert.equal(restoreState('garbage'), initialState);
  });
});

describe('bounded series', () => {
  /** A long run at 1 point/s with a steady load and a 3-second spike at `spikeAt`. */
  function run(seconds: number, spikeAt: number): { state: DashboardState; maxLength: number } {
    let state = reduce(initialState, { type: 'runStarted', run: startedRun('long') });
    let maxLength = 0;
    for (let t = 1; t <= seconds; t++) {
      const spike = t >= spikeAt && t < spikeAt + 3;
      state = reduce(state, { type: 'interval', task: 'api', point: point(t, { p99: spike ? 900 : 80, p50: 20 + (t % 5), errors: t % 100 === 0 ? 1 : 0 }) });
      maxLength = Math.max(maxLength, state.live?.tasks.api?.series.length ?? 0);
    }
    return { state, maxLength };
  }

  test('a 10-minute run at 1 s keeps every point as it came', () => {
    const { state } = run(600, 300);
    const series = state.live?.tasks.api?.series ?? [];
    assert.equal(series.length, 600);
    assert.deepEqual(series[299], point(300, { p99: 900, p50: 20, errors: 1 }));
  });

  test('a 2-hour run stays bounded, covers the whole run and keeps totals and the spike', () => {
    const seconds = 2 * 60 * 60;
    const { state, maxLength } = run(seconds, 1000);
    const series = state.live?.tasks.api?.series ?? [];
    assert.ok(maxLength <= MAX_SERIES_POINTS, `grew to ${maxLength}`);
    assert.ok(series.length >= MAX_SERIES_POINTS / 4, `kept only ${series.length}`);
    assert.equal(series[series.length - 1].t, seconds);
    assert.ok(series[0].t <= 64, `starts at ${series[0].t}`);
    for (let i = 1; i < series.length; i++) assert.ok(series[i].t > series[i - 1].t, 'time runs forward');
    assert.equal(series.reduce((sum, p) => sum + p.requests, 0), 500 * seconds, 'requests are conserved');
    assert.equal(series.reduce((sum, p) => sum + p.errors, 0), seconds / 100, 'errors are conserved');
    assert.equal(Math.max(...series.map((p) => p.p99 ?? 0)), 900, 'a p99 spike survives merging');
    for (const p of series) {
      assert.equal(p.rps, 500, 'a steady rate stays the same rate when merged');
      assert.ok(p.p50 !== null && p.p50 >= 20 && p.p50 <= 24, `p50 ${p.p50} is a mean of its intervals`);
    }
  });

  test('old data is merged into even buckets, not squeezed into a handful of points', () => {
    const { state } = run(2 * 60 * 60, 1000);
    const series = state.live?.tasks.api?.series ?? [];
    const gaps = series.slice(1).map((p, i) => p.t - series[i].t);
    const oldest = gaps.slice(0, 100);
    assert.ok(Math.max(...oldest) === Math.min(...oldest), `uneven buckets ${[...new Set(oldest)]}`);
    assert.ok(Math.max(...gaps) <= 32, `a bucket of ${Math.max(...gaps)} s`);
  });

  test('a whole long series arriving at once (taskFinished) is bounded too, and short ones are kept as they are', () => {
    const long = Array.from({ length: 7200 }, (_, i) => point(i + 1));
    const bounded = boundSeries(long);
    assert.ok(bounded.length <= MAX_SERIES_POINTS / 2);
    const short = long.slice(0, 100);
    assert.equal(boundSeries(short), short);
    const state = fold([{ type: 'runStarted', run: startedRun('r') }, { type: 'taskFinished', task: 'api', view: { ...real.view, series: long } }]);
    assert.ok((state.live?.tasks.api?.series.length ?? Infinity) <= MAX_SERIES_POINTS);
  });

  test('optional figures stay absent when merged, and are kept when any interval had them', () => {
    const plain = boundSeries(Array.from({ length: 10 }, (_, i) => ({ t: i + 1, requests: 1, errors: 0, timeouts: 0, rps: 1, p50: null, p95: null, p99: null })), 4);
    assert.ok(plain.every((p) => !('correctedP99' in p) && !('activeConnections' in p) && p.p99 === null));
    const corrected = boundSeries(Array.from({ length: 10 }, (_, i) => point(i + 1, { correctedP99: i === 9 ? 300 : 100 })), 4);
    assert.equal(Math.max(...corrected.map((p) => p.correctedP99 ?? 0)), 300);
  });
});

describe('chart data from the chart table', () => {
  const targets = real.finished.targets;

  test('every task has a latency chart, and its ids are unique per task', () => {
    for (const [task, specs] of Object.entries(TASK_CHARTS)) {
      assert.ok(specs.some((s) => s.id === 'latency'), task);
      assert.equal(new Set(specs.map((s) => s.id)).size, specs.length, task);
    }
  });

  test('the API latency chart has p50/p95/p99 and the p95 and p99 targets as flat lines', () => {
    const spec = TASK_CHARTS.api.find((s) => s.id === 'latency');
    assert.ok(spec);
    const data = chartData(spec, real.view, targets);
    assert.ok(data);
    assert.deepEqual(data.series.map((s) => s.label), ['p50', 'p95', 'p99', 'p95 target 100 ms', 'p99 target 200 ms']);
    assert.deepEqual(data.x, real.points.map((p) => p.t));
    assert.deepEqual(new Set(data.series[3].values), new Set([100]));
    assert.deepEqual(data.series[2].values, real.points.map((p) => p.p99));
  });

  test('corrected p99 appears only for a run that measured it', () => {
    const spec = TASK_CHARTS.api[0];
    const rate = apiRun({ runId: 'rate', seed: 5, seconds: 10, rateMode: true });
    assert.ok(chartData(spec, rate.view, targets)?.series.some((s) => s.label === 'p99 corrected'));
    assert.ok(!chartData(spec, real.view, targets)?.series.some((s) => s.label === 'p99 corrected'));
  });

  test('a chart with nothing to show yet is left out', () => {
    const empty = { ...real.view, series: [], distribution: [] };
    for (const spec of TASK_CHARTS.api) assert.equal(chartData(spec, empty, targets), null, spec.id);
  });

  test('the distribution is on a 1/(1-p) axis, ends at the max, and overlays the baseline', () => {
    const spec = TASK_CHARTS.api.find((s) => s.kind === 'distribution');
    assert.ok(spec);
    const data = chartData(spec, real.view, targets, baseline.view);
    assert.ok(data);
    assert.equal(data.xKind, 'percentile');
    assert.deepEqual(data.series.map((s) => s.role), ['measured', 'baseline', 'target', 'target']);
    assert.equal(data.x[0], 1, '0 % sits at x = 1');
    for (let i = 1; i < data.x.length; i++) assert.ok(data.x[i] > data.x[i - 1]);
    const current = data.series[0].values;
    const max = (real.view.metrics.latencyMs as { max: number }).max;
    assert.equal(current.filter((v) => v !== null).at(-1), max, 'the curve ends at the max');
    const p99Mark = data.series[3];
    assert.equal(p99Mark.values[data.x.indexOf(percentileToX(99))], 200);
    assert.equal(data.series[1].values.filter((v) => v !== null).length, baseline.view.distribution.length);
  });

  test('percentile labels read as nines', () => {
    assert.deepEqual([1, 10, 100, 1000, 10_000, 20].map(formatPercentileX), ['0%', '90%', '99%', '99.9%', '99.99%', '95%']);
    assert.ok(Math.abs(percentileToX(99.9) - 1000) < 1e-6);
  });
});

test('time-axis ticks: every multiple of every step reads back exactly, below and above two minutes', () => {
  for (const span of [30, 600]) {
    for (const step of SECOND_INCREMENTS.filter((s) => (span < 120 ? true : s >= 1))) {
      for (let k = 0; k <= 40; k++) {
        const t = Number((k * step).toFixed(6));
        const label = formatSeconds(t, span);
        const m = /^(\d+(?:\.\d)?)s$/.exec(label) ?? /^(\d+):(\d\d)$/.exec(label);
        assert.ok(m, label);
        const back = label.endsWith('s') ? Number(m[1]) : Number(m[1]) * 60 + Number(m[2]);
        assert.ok(Math.abs(back - t) < 1e-9, `${t} s reads "${label}" (span ${span} s, step ${step})`);
      }
    }
  }
  // What uPlot's default steps did: 1.25 s read as 1.3s.
  assert.equal(formatSeconds(1.25, 30), '1.3s');
  assert.ok(!SECOND_INCREMENTS.includes(0.25));
});
