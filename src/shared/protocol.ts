/**
 * Every message between a task worker and the extension host or CLI that started it. Each is a
 * member of a union tagged by `type`; receivers switch over all of them and end in assertNever,
 * so a message nobody handles is a compile error.
 */
import type { LoadIntervalPoint, TaskId, TaskResult } from './result';
import type { ApiOptions } from '../engine/tasks/api';

/** What a worker is asked to run: the task id and its fully resolved options. */
export type TaskSpec = { task: 'api'; options: ApiOptions; thresholds: Record<string, number> };

/** Host -> worker. */
export type WorkerCommand =
  /** Run this task; the worker runs exactly one. */
  | { type: 'start'; spec: TaskSpec }
  /** Stop sending load, keep what was measured, and report the result marked cancelled. */
  | { type: 'cancel' };

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
