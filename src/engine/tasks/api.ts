import type { ApiMetrics, LoadIntervalPoint, TaskResult } from '../../shared/result';
import type { TaskEvent } from '../../shared/protocol';
import { LoadRecorder } from '../load/recorder';
import { runClosedLoop } from '../load/closedLoop';
import { runOpenLoop } from '../load/openLoop';
import type { HttpRequestSpec } from '../load/target';
import { LoadStop } from './loadStop';
import { loadTaskResult } from '../load/taskResult';

/** The `api` task's options, fully resolved (serializable: they cross into the worker). */
export interface ApiOptions {
  request: HttpRequestSpec;
  connections: number;
  /** Total requests (ab -n); with `rate`, how many arrivals to schedule. */
  requests?: number;
  /** Run for a time instead of a count. */
  durationS?: number;
  /** Open model: constant arrival rate, requests per second. */
  rate?: number;
  /** Hard bound on the run's length, whatever the count says. */
  maxDurationS: number;
  /** Series interval. */
  intervalMs: number;
  /**
   * Seconds of unmeasured load first (connections opened, the server's JIT and caches warm), as
   * autocannon's and k6's warm-up do. Nothing from it is counted.
   */
  warmupS?: number;
}

export interface TaskContext {
  emit(event: TaskEvent): void;
  /** Cancel: stop and report what was measured, marked cancelled. */
  signal: AbortSignal;
  /**
   * For a task that runs alongside others (the database check under load): the others are done,
   * so end now as a normal, complete run.
   */
  finish?: AbortSignal;
  thresholds: Readonly<Record<string, number>>;
  /** A script that can host extra load threads (dist/worker.js); without it a task uses one thread. */
  workerScript?: string;
}

export async function runApiTask(options: ApiOptions, ctx: TaskContext): Promise<TaskResult> {
  const startedAt = new Date().toISOString();
  const rateMode = options.rate !== undefined;
  const series: LoadIntervalPoint[] = [];
  const notes: string[] = [];
  let concurrencyNow = 0;

  const stop = new LoadStop(ctx.signal, options.maxDurationS);
  try {
    if (options.warmupS && !stop.signal.aborted) {
      ctx.emit({ type: 'log', task: 'api', level: 'info', message: `warming up for ${options.warmupS} s on ${options.connections} connections (not measured)` });
      const throwaway = new LoadRecorder({ corrected: false });
      await runClosedLoop({ request: options.request, connections: options.connections, durationS: options.warmupS }, throwaway, stop.signal);
      throwaway.destroy();
    }
  } catch (err) {
    stop.dispose();
    throw err;
  }
  const recorder = new LoadRecorder({ corrected: rateMode });

  const closeInterval = (): void => {
    const snapshot = recorder.closeInterval({ activeConnections: concurrencyNow });
    series.push(snapshot.point);
    ctx.emit({ type: 'interval', task: 'api', ...snapshot });
  };
  const ticker = setInterval(closeInterval, options.intervalMs);

  let connections: number;
  let unsent: number | undefined;
  try {
    if (rateMode) {
      const rate = options.rate as number;
      const requests = options.requests ?? Math.max(1, Math.round(rate * (options.durationS ?? 10)));
      concurrencyNow = options.connections;
      const outcome = await runOpenLoop(
        { request: options.request, rate, requests, connections: options.connections },
        recorder,
        stop.signal,
      );
      connections = outcome.peakConcurrency;
      unsent = outcome.unsent;
    } else {
      concurrencyNow = options.connections;
      const outcome = await runClosedLoop(
        { request: options.request, connections: options.connections, requests: options.requests, durationS: options.durationS },
        recorder,
        stop.signal,
      );
      connections = outcome.connectionsUsed;
    }
  } finally {
    clearInterval(ticker);
    stop.dispose();
  }
  if (!recorder.intervalIsEmpty || series.length === 0) closeInterval();

  const metrics: ApiMetrics = {
    ...recorder.outcomeMetrics(),
    connections,
    durationS: Math.round(recorder.activeS * 1000) / 1000,
    statusCodes: recorder.statusCodeCounts(),
    latencyMs: recorder.latency(),
    mode: rateMode ? 'rate' : 'closed',
  };
  if (rateMode) {
    metrics.targetRps = options.rate;
    metrics.unsent = unsent;
    const corrected = recorder.correctedLatency();
    if (corrected) metrics.correctedLatencyMs = corrected;
  }
  if (stop.hitTimeBound) notes.push(`stopped at the time bound of ${options.maxDurationS} s before all requests were sent`);
  if (rateMode && metrics.throughputRps < (options.rate as number) * 0.9 && !ctx.signal.aborted) {
    notes.push(`achieved ${metrics.throughputRps} req/s of the ${options.rate} req/s asked for: the server or the connection limit (${options.connections}) held it back`);
  }

  return loadTaskResult(recorder, { task: 'api', metrics, series, startedAt, notes, cancelled: ctx.signal.aborted, thresholds: ctx.thresholds });
}
