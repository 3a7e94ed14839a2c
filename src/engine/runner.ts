import { Worker } from 'node:worker_threads';
import type { RunResult, TaskId, TaskResult } from '../shared/result';
import { assertNever, type TaskEvent, type TaskSpec, type WorkerCommand, type WorkerMessage } from '../shared/protocol';
import { createHistogram, encodeHistogram, mergeEncoded } from './histogram';
import { InputError } from './errors';
import { preflight, type PreflightReport } from './preflight';
import type { RunPlan } from './plan';
import { TOOL } from './tool';
import { foldQueryTimeouts } from './tasks/alongside';
import { USERS_THREAD_LIMITS } from './tasks/users/types';

export interface RunHooks {
  /** Every task event, as it arrives. */
  onEvent?(event: TaskEvent): void;
  onPreflight?(report: PreflightReport): void;
  onTaskStart?(task: TaskId): void;
  onTaskEnd?(task: TaskId, result: TaskResult): void;
}

export interface RunOptions extends RunHooks {
  signal: AbortSignal;
  /** dist/worker.js. Without it tasks run on the calling thread (tests, benchmarks). */
  workerPath?: string;
  /** How long a cancelled worker gets to report before it is terminated. */
  cancelGraceMs?: number;
  demo?: boolean;
}

/**
 * Runs a plan's tasks one after another, each in its own worker thread, and gathers the run
 * result. A pre-flight request goes first: if it fails, nothing is sent and InputError is thrown.
 */
export async function executeRun(plan: RunPlan, options: RunOptions): Promise<RunResult> {
  if (plan.preflight) {
    const report = await preflight(plan.preflight, options.signal);
    options.onPreflight?.(report);
  }
  const startedAt = new Date().toISOString();
  const tasks: RunResult['tasks'] = {};
  const start = (spec: TaskSpec): RunningTask => {
    options.onTaskStart?.(spec.task);
    return options.workerPath ? runInWorker(spec, options.workerPath, options) : runOnThisThread(spec, options);
  };
  const settle = (spec: TaskSpec, result: TaskResult): void => {
    tasks[spec.task] = result;
    options.onTaskEnd?.(spec.task, result);
  };
  // Tasks that watch others (the database check under load) start first and run until the
  // load tasks, one after another, are done; then they are told to finish.
  const loads = plan.tasks.filter((t) => !t.alongside);
  const watchers = loads.length ? plan.tasks.filter((t) => t.alongside).map((spec) => ({ spec, running: start(spec) })) : [];
  const alone = loads.length ? loads : plan.tasks;
  try {
    for (const spec of alone) {
      if (options.signal.aborted) break;
      settle(spec, await start(spec).result);
    }
  } finally {
    for (const w of watchers) w.running.finish();
    for (const w of watchers) {
      const result = await w.running.result;
      // What the loads saw on the same database belongs in the watcher's verdict too.
      if (w.spec.task === 'db') foldQueryTimeouts(result, tasks, w.spec.thresholds);
      settle(w.spec, result);
    }
  }
  return {
    schemaVersion: 1,
    tool: TOOL,
    runId: plan.runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    target: plan.target,
    ...(options.demo ? { demo: true } : {}),
    tasks,
  };
}

/** A task under way: its result to come, and how to tell it the work it watched is done. */
interface RunningTask {
  result: Promise<TaskResult>;
  finish(): void;
}

/** Tests and benchmarks only: the load generators are loaded here on first use, not by the host. */
function runOnThisThread(spec: TaskSpec, options: RunOptions): RunningTask {
  const finish = new AbortController();
  const result = import('./tasks').then(({ runTask }) =>
    runTask(spec, { emit: (e) => options.onEvent?.(e), signal: options.signal, finish: finish.signal, thresholds: spec.thresholds }),
  );
  return { result, finish: () => finish.abort() };
}

/**
 * What the host saw of a task's progress: the series and the merged histogram. If the worker
 * dies or must be terminated, this is what was measured and it is kept.
 */
class StreamedProgress {
  readonly series: TaskResult['series'] = [];
  /** Kept encoded and merged only if the worker never reports: the host thread stays idle. */
  private readonly histograms: string[] = [];
  readonly startedAt = new Date().toISOString();

  add(event: Extract<TaskEvent, { type: 'interval' }>): void {
    this.series.push(event.point);
    this.histograms.push(event.histogram);
  }

  toResult(status: TaskResult['status'], error: string): TaskResult {
    const requests = this.series.reduce((n, p) => n + p.requests, 0);
    const errors = this.series.reduce((n, p) => n + p.errors, 0);
    const merged = createHistogram();
    for (const encoded of this.histograms) mergeEncoded(merged, encoded);
    const result: TaskResult = {
      status,
      error,
      // Only what the stream carries; criteria need the task's full accounting, so none here.
      metrics: { requests, errors, partial: true },
      criteria: [],
      series: this.series,
      histogram: merged.totalCount ? encodeHistogram(merged) : undefined,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
    };
    merged.destroy();
    return result;
  }
}

function runInWorker(spec: TaskSpec, workerPath: string, options: RunOptions): RunningTask {
  const worker = new Worker(workerPath, spec.task === 'users' ? { resourceLimits: USERS_THREAD_LIMITS } : {});
  const result = new Promise<TaskResult>((resolve, reject) => {
    const progress = new StreamedProgress();
    let settled = false;
    let terminateTimer: NodeJS.Timeout | null = null;

    const finish = (outcome: { result: TaskResult } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      if (terminateTimer) clearTimeout(terminateTimer);
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };
    const send = (command: WorkerCommand): void => worker.postMessage(command);
    function onAbort(): void {
      send({ type: 'cancel' });
      terminateTimer = setTimeout(() => {
        void worker.terminate();
        finish({ result: progress.toResult('cancelled', 'cancelled; the worker did not stop within the grace period') });
      }, options.cancelGraceMs ?? 5000);
    }

    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'interval':
          progress.add(message);
          options.onEvent?.(message);
          return;
        case 'log':
          options.onEvent?.(message);
          return;
        case 'result':
          finish({ result: message.result });
          return;
        case 'failed':
          if (message.input) finish({ error: new InputError(message.error) });
          else finish({ result: progress.toResult('error', message.error) });
          return;
        default:
          assertNever(message);
      }
    });
    worker.on('error', (err) => finish({ result: progress.toResult('error', `the ${spec.task} worker crashed: ${err.message}`) }));
    worker.on('exit', (code) => {
      finish({ result: progress.toResult(options.signal.aborted ? 'cancelled' : 'error', `the ${spec.task} worker exited (code ${code}) before reporting a result`) });
    });

    send({ type: 'start', spec });
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  });
  // A worker that already exited has nothing to finish; posting to it is harmless.
  return { result, finish: () => worker.postMessage({ type: 'finish' } satisfies WorkerCommand) };
}
