import type { TaskId } from '../../shared/result';

/**
 * What tasks exist and which are built, without loading any of them: the CLI's main thread and
 * the extension host only name tasks; the load generators load in the worker that runs them.
 */
export const IMPLEMENTED_TASKS: readonly TaskId[] = ['api', 'usage-buffer', 'db', 'users'];

export const TASK_TITLES: Record<TaskId, string> = {
  api: 'API load test',
  'usage-buffer': 'Usage buffer stress test',
  db: 'Database check',
  users: 'Concurrent users soak',
};
