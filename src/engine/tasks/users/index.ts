/**
 * The `users` task: virtual users following k6-style stages, with think time, degradation
 * detection over the plateau, health polling and a watch on the generator itself.
 *
 * Why not autocannon (as the `api` task uses): autocannon fixes its connection count when it
 * starts and cannot add or remove connections mid-run, while the stages need the user count to
 * follow a ramp second by second without dropping the users already running. So the users are
 * implemented here on Node's http/https keep-alive Agents.
 *
 * One Agent per user with `maxSockets: 1`: each user owns exactly one keep-alive socket (the
 * agent never opens a second one for it, and never hands it to another user), and a user leaving
 * on a ramp-down destroys its own agent, which closes exactly its socket and nobody else's. A
 * shared agent would pool sockets across users, so "one user = one connection" would not hold.
 *
 * Coordinated omission, with think time: a user means to send request n+1 `thinkTimeMs` after it
 * sent request n (its intended send time = previous send + think time, i.e. as if the server had
 * answered at once). The corrected latency of a request is measured from that intended send time
 * to its answer, so a slow answer also counts against the request it delayed. It equals the raw
 * latency plus the previous request's latency; the user's first request is measured from its
 * actual send. Timeouts are recorded in the corrected view at their full wait.
 */
import { setMaxListeners } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoadIntervalPoint, TaskResult } from '../../../shared/result';
import { loadTaskResult } from '../../load/taskResult';
import { hasGraphqlErrors, LoadRecorder } from '../../load/recorder';
import type { HttpRequestSpec } from '../../load/target';
import type { TaskContext } from '../api';
import { LoadStop } from '../loadStop';
import { detectDegradation, steadyIntervals, type SteadyInterval } from './degradation';
import {
  plateaus,
  targetAt,
  totalDurationS,
  type GeneratorMetrics,
  type HealthMetrics,
  type UsersMetrics,
  type UsersOptions,
} from './types';

export { parseStages, USERS_DEFAULTS, type Stage, type UsersOptions, type UsersMetrics } from './types';

/** How often the user count is brought to the stage line. */
const CONTROL_MS = 100;
/** Generator limits: p99 event-loop lag, CPU of one core, and the share of intervals over them. */
const LAG_LIMIT_MS = 50;
const CPU_LIMIT_PCT = 90;
const SUSTAINED_SHARE = 0.25;

type Exchange =
  | { kind: 'response'; status: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string }
  | { kind: 'aborted' };

/** One request on `agent`; never rejects. */
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

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

interface User {
  /** Aborted when the user leaves (ramp-down or end): its think time ends, its request runs out. */
  leave: AbortController;
  done: Promise<void>;
}

async function runUser(
  request: HttpRequestSpec,
  thinkTimeMs: number,
  recorder: LoadRecorder,
  leave: AbortSignal,
  kill: AbortSignal,
): Promise<void> {
  const agent = newAgent(request.url);
  let intended: number | null = null;
  try {
    while (!leave.aborted) {
      const sentAt = performance.now();
      const from = intended ?? sentAt;
      // A leaving user finishes the request it is in (it is not dropped); a stop of the run ends it.
      const e = await exchange(request, agent, kill);
      const end = performance.now();
      const corrected = thinkTimeMs > 0 ? end - from : undefined;
      if (e.kind === 'aborted') return;
      if (e.kind === 'response') recorder.response(e.status, end - sentAt, hasGraphqlErrors(e.body), corrected);
      else if (e.kind === 'timeout') recorder.timeout(corrected);
      else recorder.connectionError();
      intended = sentAt + thinkTimeMs;
      // After a connection error, pause at least 100 ms so a down server is not hammered in a spin.
      await sleep(e.kind === 'error' ? Math.max(thinkTimeMs, 100) : thinkTimeMs, leave);
    }
  } finally {
    agent.destroy();
  }
}

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

/** The generator's own event-loop delay and CPU, per interval. */
class GeneratorWatch {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private lastCpu = process.cpuUsage();
  private lastWall = performance.now();
  private readonly firstCpu = this.lastCpu;
  private readonly firstWall = this.lastWall;
  private intervals = 0;
  private overLimit = 0;
  private worstLagMs = 0;

  constructor() {
    this.histogram.enable();
  }

  sample(): void {
    const lagMs = this.histogram.count ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram.reset();
    const cpu = process.cpuUsage(this.lastCpu);
    const now = performance.now();
    const cpuPct = ((cpu.user + cpu.system) / 1000 / Math.max(now - this.lastWall, 1)) * 100;
    this.lastCpu = process.cpuUsage();
    this.lastWall = now;
    this.intervals++;
    this.worstLagMs = Math.max(this.worstLagMs, lagMs);
    if (lagMs > LAG_LIMIT_MS || cpuPct > CPU_LIMIT_PCT) this.overLimit++;
  }

  finish(): GeneratorMetrics {
    this.histogram.disable();
    const cpu = process.cpuUsage(this.firstCpu);
    const wall = Math.max(performance.now() - this.firstWall, 1);
    return {
      limited: this.intervals > 0 && this.overLimit >= Math.max(1, Math.ceil(this.intervals * SUSTAINED_SHARE)),
      eventLoopP99Ms: Math.round(this.worstLagMs * 10) / 10,
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 1000) / 10,
    };
  }
}

export async function runUsersTask(options: UsersOptions, ctx: TaskContext): Promise<TaskResult> {
  const startedAtIso = new Date().toISOString();
  const series: LoadIntervalPoint[] = [];
  const steadyInput: SteadyInterval[] = [];
  const notes: string[] = [];
  const thinkTimeMs = Math.max(0, options.thinkTimeMs);
  const plannedS = totalDurationS(options.stages);
  const stop = new LoadStop(ctx.signal, options.maxDurationS, ctx.finish);
  // Every user's in-flight request listens to the stop: hundreds of listeners by design.
  setMaxListeners(0, stop.signal);
  const recorder = new LoadRecorder({ corrected: thinkTimeMs > 0 });
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;

  const users: User[] = [];
  const leaving = new Set<Promise<void>>();
  let minActiveThisInterval = 0;
  let peakUsers = 0;
  let lastIntervalEnd = 0;

  const generator = new GeneratorWatch();
  const health = new HealthWatch(options.request, options.healthUrls, options.healthEveryMs, t0);

  const closeInterval = (): void => {
    const snapshot = recorder.closeInterval({ activeConnections: users.length });
    series.push(snapshot.point);
    steadyInput.push({ startS: lastIntervalEnd, endS: snapshot.point.t, p95: snapshot.point.p95, requests: snapshot.point.requests, errors: snapshot.point.errors });
    lastIntervalEnd = snapshot.point.t;
    peakUsers = Math.max(peakUsers, minActiveThisInterval);
    minActiveThisInterval = users.length;
    generator.sample();
    ctx.emit({ type: 'interval', task: 'users', ...snapshot });
  };

  const setUsers = (target: number): void => {
    while (users.length < target) {
      const leave = new AbortController();
      const done = runUser(options.request, thinkTimeMs, recorder, leave.signal, stop.signal);
      users.push({ leave, done });
    }
    while (users.length > target) {
      // The newest user leaves first; its in-flight request still completes and is recorded.
      const user = users.pop() as User;
      user.leave.abort();
      leaving.add(user.done);
      void user.done.finally(() => leaving.delete(user.done));
    }
    minActiveThisInterval = Math.min(minActiveThisInterval, users.length);
  };

  const ticker = setInterval(closeInterval, options.intervalMs);
  try {
    await new Promise<void>((resolve) => {
      const control = (): void => {
        const t = elapsedS();
        if (stop.signal.aborted || t >= plannedS) {
          clearInterval(controlTimer);
          stop.signal.removeEventListener('abort', control);
          resolve();
          return;
        }
        setUsers(Math.round(targetAt(options.stages, t)));
      };
      const controlTimer = setInterval(control, CONTROL_MS);
      stop.signal.addEventListener('abort', control, { once: true });
      control();
    });
    setUsers(0);
    await Promise.all([...leaving]);
  } finally {
    clearInterval(ticker);
    stop.dispose();
    await health.close();
  }
  if (!recorder.intervalIsEmpty || series.length === 0) closeInterval();
  const generatorMetrics = generator.finish();

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
    notes.push(`figures limited by the load generator, not the server (event-loop p99 up to ${generatorMetrics.eventLoopP99Ms} ms, CPU ${generatorMetrics.cpuPercent} % of one core)`);
  }
  if (stop.hitTimeBound) notes.push(`stopped at the time bound of ${options.maxDurationS} s before the stages (${plannedS} s) ended`);

  return loadTaskResult(recorder, {
    task: 'users', metrics, series, startedAt: startedAtIso, notes, cancelled: ctx.signal.aborted,
    thresholds: ctx.thresholds, notMeasured, failedBeyondCriteria: health.metrics.failures > 0,
  });
}
