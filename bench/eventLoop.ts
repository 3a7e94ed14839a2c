/**
 * The extension host's responsiveness during a run: this thread's event-loop delay
 * (perf_hooks.monitorEventLoopDelay, 1 ms resolution) idle, while a 500-connection API run goes
 * on in a worker (as the extension runs it), and while the same run goes on this very thread.
 */
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { executeRun } from '../src/engine/runner';
import type { RunPlan } from '../src/engine/plan';
import type { ApiOptions } from '../src/engine/tasks/api';
import { REPO_ROOT } from './proc';
import { QUERY_BODY } from './runners';

export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
}

function plan(url: string, connections: number, durationS: number): RunPlan {
  const options: ApiOptions = {
    request: { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY_BODY, timeoutMs: 10_000 },
    connections,
    durationS,
    maxDurationS: durationS + 15,
    intervalMs: 1000,
  };
  return { runId: 'bench-loop', tasks: [{ task: 'api', options, thresholds: {} }], notImplemented: [], preflight: null, target: { url, db: null }, secrets: [], dbUrl: null };
}

async function measure(during: () => Promise<number>): Promise<LoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const requests = await during();
  histogram.disable();
  const ms = (ns: number): number => ns / 1e6;
  return { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), requests };
}

/** Idle, then the load in a worker, then the same load on this thread. */
export async function eventLoopDelays(url: string, connections: number, durationS: number): Promise<{ idle: LoopDelay; worker: LoopDelay; mainThread: LoopDelay }> {
  const signal = new AbortController().signal;
  const requestsOf = (run: Awaited<ReturnType<typeof executeRun>>): number => Number((run.tasks.api?.metrics as { requests?: number }).requests ?? 0);
  const idle = await measure(() => new Promise((resolve) => setTimeout(() => resolve(0), durationS * 1000)));
  const worker = await measure(async () => requestsOf(await executeRun(plan(url, connections, durationS), { signal, workerPath: path.join(REPO_ROOT, 'dist', 'worker.js') })));
  const mainThread = await measure(async () => requestsOf(await executeRun(plan(url, connections, durationS), { signal })));
  return { idle, worker, mainThread };
}
