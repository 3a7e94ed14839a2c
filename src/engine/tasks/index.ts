import type { TaskResult } from '../../shared/result';
import type { TaskSpec } from '../../shared/protocol';
import { runApiTask, type TaskContext } from './api';
import { runUsageBufferTask } from './usageBuffer';
import { runDbTask } from './db';
import { runUsersTask } from './users';

export { IMPLEMENTED_TASKS, TASK_TITLES } from './catalog';

/** The one engine entry the worker, the CLI and the tests share. */
export function runTask(spec: TaskSpec, ctx: TaskContext): Promise<TaskResult> {
  switch (spec.task) {
    case 'api':
      return runApiTask(spec.options, ctx);
    case 'usage-buffer':
      return runUsageBufferTask(spec.options, ctx);
    case 'db':
      return runDbTask(spec.options, ctx);
    case 'users':
      return runUsersTask(spec.options, ctx);
  }
}

export type { TaskContext };
