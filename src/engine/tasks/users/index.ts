/**
 * The `users` task: virtual users following k6-style stages, with think time, degradation
 * detection over the plateau, health polling and a watch on the generator itself.
 *
 * Each user is one keep-alive connection on autocannon's connection client with a think time
 * between an answer and the next request (user.ts). autocannon's runner itself fixes its
 * connection count when it starts, and the stages need the count to follow a ramp second by
 * second without dropping the users already running, so the users are driven here: every 100 ms
 * the count is brought to the stage line across the load threads (threads.ts), whose number
 * adapts to the load. Every sample (1 s, or the interval if shorter) each thread hands over its
 * counts and µs histograms, which are merged into this task's recorder; every interval closes a
 * point of the series from the merged histograms.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { LoadIntervalPoint, TaskResult } from '../../../shared/result';
import { loadTaskResult } from '../../load/taskResult';
import { hasGraphqlErrors, LoadRecorder } from '../../load/recorder';
import type { HttpRequestSpec } from '../../load/target';
import type { TaskContext } from '../api';
import { LoadStop, sleep } from '../loadStop';
import { detectDegradation, steadyIntervals, type SteadyInterval } from './degradation';
import { defaultCores, LoadThreads, planThreads } from './threads';
import {
  plateaus,
  targetAt,
  totalDurationS,
  type HealthMetrics,
  type UsersMetrics,
  type UsersOptions,
} from './types';

export type { UsersOptions, UsersMetrics } from './types';

/** How often the user count is brought to the stage line. */
const CONTROL_MS = 100;
/** The longest gap between two hand-overs from the load threads. */
const SAMPLE_MS = 1000;

type Exchange =
  | { kind: 'response'; status: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string }
  | { kind: 'aborted' };

/** One request on `agent`; never rejects. The health checks use it (a few requests, Node's http). */
function exchange(
  spec: { url: string; method: string; headers: Record<string, string>; body: string; timeoutMs: number },
  agent: http.Agent,
  signal: AbortSignal,
): Promise<Exchange> {
  return new Promise((resolve) => {
    let done = false;
    const settle = (e: Exchange): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(e);
    };
    const url = new URL(spec.url);
    const lib = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body) headers['content-length'] = Buffer.byteLength(spec.body);
    const req = lib.request(url, { method: spec.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => settle({ kind: 'error', message: err.message }));
    });
    const timer = setTimeout(() => {
      settle({ kind: 'timeout' });
      req.destroy();
    }, spec.timeoutMs);
    const onAbort = (): void => {
      settle({ kind: 'aborted' });
      req.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => settle({ kind: 'error', message: err.message }));
    if (spec.body) req.write(spec.body);
    req.end();
  });
}

const newAgent = (url: string): http.Agent => {
  const options: http.AgentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
  return new URL(url).protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
};

/** Resolves at `at` (performance.now() time) or when `signal` aborts, whichever is first. */
const sleepUntil = (at: number, signal: AbortSignal): Promise<void> => sleep(at - performance.now(), signal);


/** Polls the GraphQL health query and the extra URLs, each on its own keep-alive connection. */
class HealthWatch {
  readonly metrics: HealthMetrics = { checks: 0, failures: 0 };
  private readonly timer: NodeJS.Timeout;
  private readonly agents: http.Agent[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stop = new AbortController();

  constructor(private readonly request: HttpRequestSpec, private readonly urls: readonly string[], everyMs: number, private readonly startedAt: number) {
    this.agents = [request.url, ...urls].map(newAgent);
    this.timer = setInterval(() => this.poll(), everyMs);
    this.poll();
  }

  private poll(): void {
    const graphql = { ...this.request, method: 'POST', body: JSON.stringify({ query: '{ __typename }' }) };
    const checks = [
      this.check(graphql, this.agents[0], true),
      ...this.urls.map((url, i) => this.check({ url, method: 'GET', headers: {}, body: '', timeoutMs: this.request.timeoutMs }, this.agents[i + 1], false)),
    ];
    for (const c of checks) {
      this.inFlight.add(c);
      void c.finally(() => this.inFlight.delete(c));
    }
  }

  private async check(spec: Parameters<typeof exchange>[0], agent: http.Agent, graphql: boolean): Promise<void> {
    const e = await exchange(spec, agent, this.stop.signal);
    if (e.kind === 'aborted') return;
    this.metrics.checks++;
    let failure: string | null = null;
    if (e.kind === 'timeout') failure = `timed out after ${spec.timeoutMs} ms`;
    else if (e.kind === 'error') failure = e.message;
    else if (e.status < 200 || e.status > 299) failure = `HTTP ${e.status}`;
    else if (graphql && hasGraphqlErrors(e.body)) failure = 'GraphQL errors';
    if (failure === null) return;
    this.metrics.failures++;
    if (this.metrics.firstFailureAt === undefined) {
      this.metrics.firstFailureAt = Math.round((performance.now() - this.startedAt) / 100) / 10;
      this.metrics.firstFailure = `${graphql ? 'health query' : spec.url}: ${failure}`;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stop.abort();
    await Promise.all([...this.inFlight]);
    for (const a of this.agents) a.destroy();
  }
}

export async function runUsersTask(options: UsersOptions, ctx: TaskContext): Promise<TaskResult> {
  const startedAtIso = new Date().toISOString();
  const series: LoadIntervalPoint[] = [];
  const steadyInput: SteadyInterval[] = [];
  const notes: string[] = [];
  const thinkTimeMs = Math.max(0, options.thinkTimeMs);
  const plannedS = totalDurationS(options.stages);
  const peakPlanned = Math.max(0, ...options.stages.map((s) => s.target));
  const plan = planThreads({ peakUsers: peakPlanned, thinkTimeMs, workers: options.workers }, defaultCores(), ctx.workerScript !== undefined);
  const threads = await LoadThreads.start(plan, { request: options.request, thinkTimeMs }, ctx.workerScript, {
    log: (level, message) => ctx.emit({ type: 'log', task: 'users', level, message }),
  });
  if (options.workers !== undefined && options.workers > 1 && !ctx.workerScript) {
    ctx.emit({ type: 'log', task: 'users', level: 'warn', message: `${options.workers} load threads asked for, but this run has no worker script to start them from: one thread carries the users` });
  }
  const stop = new LoadStop(ctx.signal, options.maxDurationS, ctx.finish);
  const recorder = new LoadRecorder({ corrected: thinkTimeMs > 0 });
  const cpuAtStart = process.cpuUsage();
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;

  let minActiveThisInterval = 0;
  let peakUsers = 0;
  let lastIntervalEnd = 0;
  let health: HealthWatch | null = null;

  const closeInterval = (): void => {
    const snapshot = recorder.closeInterval({ activeConnections: threads.assigned });
    series.push(snapshot.point);
    steadyInput.push({ startS: lastIntervalEnd, endS: snapshot.point.t, p95: snapshot.point.p95, requests: snapshot.point.requests, errors: snapshot.point.errors });
    lastIntervalEnd = snapshot.point.t;
    peakUsers = Math.max(peakUsers, minActiveThisInterval);
    minActiveThisInterval = threads.assigned;
    ctx.emit({ type: 'interval', task: 'users', ...snapshot });
  };
  const control = (): void => {
    threads.setTotal(Math.round(targetAt(options.stages, elapsedS())));
    minActiveThisInterval = Math.min(minActiveThisInterval, threads.assigned);
  };

  // Samples split the interval evenly, none longer than SAMPLE_MS.
  const samplesPerInterval = Math.ceil(options.intervalMs / SAMPLE_MS);
  const sampleMs = options.intervalMs / samplesPerInterval;
  const endAt = t0 + plannedS * 1000;
  const controlTimer = setInterval(control, CONTROL_MS);
  let graceful = false;
  // A cancel while the users finish their last requests stops them at once.
  const hurry = (): void => threads.hurry();
  try {
    health = new HealthWatch(options.request, options.healthUrls, options.healthEveryMs, t0);
    control();
    let next = t0 + sampleMs;
    for (let n = 1; ; n++) {
      await sleepUntil(Math.min(next, endAt), stop.signal);
      if (stop.signal.aborted || performance.now() >= endAt) break;
      await threads.sample(recorder, elapsedS());
      if (n % samplesPerInterval === 0) closeInterval();
      next += sampleMs;
    }
    // The stages ran out: every user finishes the request it is in. A stop drops them instead.
    graceful = !stop.signal.aborted;
  } finally {
    clearInterval(controlTimer);
    if (graceful) ctx.signal.addEventListener('abort', hurry, { once: true });
    try {
      await threads.close(graceful, recorder);
    } finally {
      ctx.signal.removeEventListener('abort', hurry);
      stop.dispose();
      await health?.close();
    }
  }
  if (!recorder.intervalIsEmpty || series.length === 0) closeInterval();
  const cpu = process.cpuUsage(cpuAtStart);
  const threadMetrics = threads.metrics();
  const generatorMetrics = {
    ...threadMetrics,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(elapsedS() * 1000, 1)) * 1000) / 10,
  };

  const notMeasured: Record<string, string> = {};
  const verdict = detectDegradation(steadyIntervals(steadyInput, plateaus(options.stages)));
  const metrics: UsersMetrics = {
    peakUsers,
    durationS: Math.round(elapsedS() * 1000) / 1000,
    ...recorder.outcomeMetrics(),
    thinkTimeMs,
    latencyMs: recorder.latency(),
    health: health.metrics,
    generator: generatorMetrics,
    stages: options.stages,
  };
  if (thinkTimeMs > 0) metrics.correctedLatencyMs = recorder.correctedLatency();
  if (verdict.judged) {
    metrics.degradation = verdict.degradation;
    if (verdict.degradation.detected) {
      notes.push(`${verdict.degradation.reason}${verdict.degradation.since !== undefined ? ` (since ${verdict.degradation.since} s)` : ''}`);
    }
  } else {
    notMeasured['users.degradation'] = verdict.reason;
    notes.push(`degradation not judged: ${verdict.reason}`);
  }
  if (health.metrics.failures > 0) {
    notes.push(`health checks failed ${health.metrics.failures} of ${health.metrics.checks} times, first at ${health.metrics.firstFailureAt} s (${health.metrics.firstFailure}): the task fails`);
  }
  if (generatorMetrics.limited) {
    notes.push(`figures limited by the load generator, not the server: ${generatorMetrics.workers} of at most ${generatorMetrics.maxWorkers} load threads, the busiest ${generatorMetrics.busiestPercent} % busy, event-loop p99 up to ${generatorMetrics.eventLoopP99Ms} ms`);
  }
  if (stop.hitTimeBound) notes.push(`stopped at the time bound of ${options.maxDurationS} s before the stages (${plannedS} s) ended`);

  return loadTaskResult(recorder, {
    task: 'users', metrics, series, startedAt: startedAtIso, notes, cancelled: ctx.signal.aborted,
    thresholds: ctx.thresholds, notMeasured, failedBeyondCriteria: health.metrics.failures > 0,
  });
}
