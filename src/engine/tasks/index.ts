import type { TaskResult, TaskId } from '../../shared/result';
import type { TaskSpec } from '../../shared/protocol';
import { runApiTask, type TaskContext } from './api';

/** The tasks built so far; the others are reported as not implemented, never faked. */
export const IMPLEMENTED_TASKS: readonly TaskId[] = ['api'];

export const TASK_TITLES: Record<TaskId, string> = {
  api: 'API load test',
  'usage-buffer': 'Usage buffer stress test',
  db: 'Database check',
  users: 'Concurrent users soak',
};

/** The one engine entry the worker, the CLI and the tests share. */
export function runTask(spec: TaskSpec, ctx: TaskContext): Promise<TaskResult> {
  switch (spec.task) {
    case 'api':
      return runApiTask(spec.options, ctx);
  }
}

export type { TaskContext };
