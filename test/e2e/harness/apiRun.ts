/**
 * A realistic API load run for the dashboard tests, made the way the engine makes one: request
 * latencies drawn from a log-normal (p50 about 20 ms, p99 about 80 ms) with a short stall,
 * recorded into per-interval HdrHistograms, criteria judged by the engine's own table.
 */
import { evaluateCriteria } from '../../../src/engine/criteria';
import { createHistogram, percentileDistribution, recordMs, summarize } from '../../../src/engine/histogram';
import { criterionTargets } from '../../../src/engine/view';
import type { HostToWebview, RunView, TaskView } from '../../../src/shared/protocol';
import type { LoadIntervalPoint } from '../../../src/shared/result';

export interface ApiRunOptions {
  runId: string;
  seed: number;
  seconds?: number;
  /** Arrival rate (rate mode) or achieved throughput (closed model). */
  rps?: number;
  /** Median latency in ms; the p99 lands near 4x (3.5x, plus the stall) this. */
  medianMs?: number;
  /** Rate mode: latencies are also measured from the intended send time. */
  rateMode?: boolean;
  startedAt?: string;
}

export interface ApiRun {
  /** The messages the host sends for this run, in order. */
  messages: HostToWebview[];
  /** The run as runFinished / showRun carry it. */
  finished: RunView;
  points: LoadIntervalPoint[];
  view: TaskView;
}

/** mulberry32: small, fast, and the same numbers on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function apiRun(options: ApiRunOptions): ApiRun {
  const { runId, seed, seconds = 60, rps = 500, medianMs = 20, rateMode = false } = options;
  const rand = random(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // ln(p99/p50) / z(0.99): a p99 3.5 times the median, before the stall adds its tail.
  const sigma = Math.log(3.5) / 2.326;
  const connections = 100;
  const startedAt = options.startedAt ?? '2025-06-02T09:30:00.000Z';

  const total = createHistogram();
  const corrected = createHistogram();
  const points: LoadIntervalPoint[] = [];
  let requests = 0;
  let errors = 0;
  let timeouts = 0;
  for (let t = 1; t <= seconds; t++) {
    const interval = createHistogram();
    const intervalCorrected = createHistogram();
    // A two-second stall two thirds in, as a GC pause or a slow query would cause.
    const stall = t === Math.round(seconds * 0.66) || t === Math.round(seconds * 0.66) + 1 ? 3 : 1;
    const count = Math.round(rps * (0.97 + 0.06 * rand()) / (stall > 1 ? 1.6 : 1));
    let intervalErrors = 0;
    let intervalTimeouts = 0;
    for (let i = 0; i < count; i++) {
      const ms = medianMs * stall * Math.exp(sigma * normal());
      recordMs(interval, ms);
      recordMs(total, ms);
      if (rateMode) {
        // Queueing behind slow responses: what the closed model would have hidden.
        const late = ms + (stall > 1 ? rand() * 120 : rand() * 2);
        recordMs(intervalCorrected, late);
        recordMs(corrected, late);
      }
      if (rand() < 0.0002) intervalErrors++;
    }
    if (stall > 1 && t === Math.round(seconds * 0.66)) intervalTimeouts = 1;
    const s = summarize(interval);
    const c = summarize(intervalCorrected);
    const point: LoadIntervalPoint = {
      t,
      requests: count,
      errors: intervalErrors,
      timeouts: intervalTimeouts,
      rps: count,
      p50: s?.p50 ?? null,
      p95: s?.p95 ?? null,
      p99: s?.p99 ?? null,
      activeConnections: t === 1 ? 40 : t === 2 ? 80 : connections,
    };
    if (rateMode) point.correctedP99 = c?.p99 ?? null;
    points.push(point);
    requests += count;
    errors += intervalErrors;
    timeouts += intervalTimeouts;
    interval.destroy();
    intervalCorrected.destroy();
  }

  const metrics: Record<string, unknown> = {
    requests,
    succeeded: requests - errors - timeouts,
    errors,
    errorRate: (errors + timeouts) / requests,
    timeouts,
    non2xx: errors,
    graphqlErrors: 0,
    connectionErrors: 0,
    connections,
    durationS: seconds,
    throughputRps: requests / seconds,
    statusCodes: { '200': requests - errors - timeouts, '500': errors },
    latencyMs: summarize(total),
    mode: rateMode ? 'rate' : 'closed',
  };
  if (rateMode) {
    metrics.correctedLatencyMs = summarize(corrected);
    metrics.targetRps = rps;
  }
  const criteria = evaluateCriteria('api', metrics);
  const view: TaskView = {
    task: 'api',
    status: criteria.every((c) => c.passed !== false) ? 'passed' : 'failed',
    criteria,
    metrics,
    series: points,
    distribution: percentileDistribution(total),
  };
  if (rateMode) view.correctedDistribution = percentileDistribution(corrected);
  total.destroy();
  corrected.destroy();

  const target = { url: 'http://127.0.0.1:4000/graphql', db: null };
  const targets = criterionTargets();
  const finishedAt = new Date(Date.parse(startedAt) + seconds * 1000).toISOString();
  const starting: RunView = {
    runId, startedAt, finishedAt: null, target, targets,
    tasks: { api: { task: 'api', status: 'running', criteria: [], metrics: {}, series: [], distribution: [] } },
  };
  const finished: RunView = { runId, startedAt, finishedAt, target, targets, tasks: { api: view } };
  const messages: HostToWebview[] = [
    { type: 'runStarted', run: starting },
    ...points.map((point): HostToWebview => ({ type: 'interval', task: 'api', point })),
    { type: 'taskFinished', task: 'api', view },
    { type: 'runFinished', run: finished },
  ];
  return { messages, finished, points, view };
}
