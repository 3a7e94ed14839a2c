/**
 * Every message between a task worker and the extension host or CLI that started it. Each is a
 * member of a union tagged by `type`; receivers switch over all of them and end in assertNever,
 * so a message nobody handles is a compile error.
 */
import type { LoadIntervalPoint, TaskId, TaskResult } from './result';
import type { ApiOptions } from '../engine/tasks/api';
import type { UsageBufferOptions } from '../engine/tasks/usageBuffer/types';
import type { DbOptions } from '../engine/tasks/db/types';
import type { UsersOptions } from '../engine/tasks/users/types';

/** What a worker is asked to run: the task id and its fully resolved options. */
export type TaskSpec = (
  | { task: 'api'; options: ApiOptions }
  | { task: 'usage-buffer'; options: UsageBufferOptions }
  | { task: 'db'; options: DbOptions }
  | { task: 'users'; options: UsersOptions }
) & {
  thresholds: Record<string, number>;
  /** Runs while the run's other tasks do, and is told to finish when they are done. */
  alongside?: boolean;
};

/** Host -> worker. */
export type WorkerCommand =
  /** Run this task; the worker runs exactly one. */
  | { type: 'start'; spec: TaskSpec }
  /** Stop sending load, keep what was measured, and report the result marked cancelled. */
  | { type: 'cancel' }
  /** The work this task ran alongside is done: end now and report a complete result. */
  | { type: 'finish' };

/** Progress a task reports while it runs (worker -> host, and in-process sinks). */
export type TaskEvent =
  /** One closed interval: its series point and its latency histogram(s), encoded. */
  | { type: 'interval'; task: TaskId; point: LoadIntervalPoint; histogram: string; correctedHistogram?: string }
  /** Something the user should read in the log. */
  | { type: 'log'; task: TaskId; level: 'info' | 'warn'; message: string };

/** Worker -> host. */
export type WorkerMessage =
  | TaskEvent
  /** The task finished (passed, failed or cancelled); the worker exits after this. */
  | { type: 'result'; task: TaskId; result: TaskResult }
  /** The task could not run at all; `input` marks bad input found before any load was sent. */
  | { type: 'failed'; task: TaskId; error: string; input: boolean };

export function assertNever(value: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Extension host <-> dashboard webview.

/** A task as the dashboard shows it: what the result file holds, with the histogram decoded. */
export interface TaskView {
  task: TaskId;
  status: TaskResult['status'] | 'running';
  error?: string;
  criteria: TaskResult['criteria'];
  metrics: Record<string, unknown>;
  series: LoadIntervalPoint[];
  /** HdrHistogram-style percentile distribution of the whole task, ms; empty while running. */
  distribution: Array<{ percentile: number; ms: number }>;
  /** Rate mode: the distribution corrected for coordinated omission. */
  correctedDistribution?: Array<{ percentile: number; ms: number }>;
  notes?: string[];
}

export interface RunView {
  runId: string;
  startedAt: string;
  finishedAt: string | null;
  target: { url: string | null; db: string | null };
  tasks: Partial<Record<TaskId, TaskView>>;
  /** Target values of the criteria, by id, for threshold lines (e.g. `api.p95` -> 100). */
  targets: Record<string, number>;
}

/** Host -> webview. */
export type HostToWebview =
  /** A run began: clear the live charts. `run.tasks` lists the tasks to come, status running. */
  | { type: 'runStarted'; run: RunView }
  /** One closed interval of a running task. */
  | { type: 'interval'; task: TaskId; point: LoadIntervalPoint }
  /** A task of the running run finished, with its full view. */
  | { type: 'taskFinished'; task: TaskId; view: TaskView }
  /** The run finished (or was cancelled); `run` is complete. */
  | { type: 'runFinished'; run: RunView }
  /** Show a finished run (from history), with the baseline to compare against, if one is set. */
  | { type: 'showRun'; run: RunView; baseline: RunView | null }
  /** The baseline changed (null: cleared). */
  | { type: 'baseline'; baseline: RunView | null }
  /** The chart images were written (paths relative to the workspace), or failed. */
  | { type: 'imagesSaved'; files: string[]; error?: string };

/** Webview -> host. */
export type WebviewToHost =
  /** The page has loaded and listens; the host sends nothing before this. */
  | { type: 'ready' }
  /** Stop the running run. */
  | { type: 'cancel' }
  /** Save these chart images (PNG data URLs) next to the checklist. */
  | { type: 'saveImages'; images: Array<{ name: string; dataUrl: string }> };
