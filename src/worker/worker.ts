/**
 * A task worker: runs exactly one task per thread, posts its typed events and its result, and
 * stops the load when told to cancel. Started from dist/worker.js by the extension host or CLI.
 * The same script hosts the users task's extra load threads (started in the `users-shard` role).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { assertNever, type WorkerCommand, type WorkerMessage } from '../shared/protocol';
import { runTask } from '../engine/tasks';
import { InputError, errorMessage } from '../engine/errors';
import { serveShard, USERS_SHARD_ROLE } from '../engine/tasks/users/threads';
import type { UserTarget } from '../engine/tasks/users/user';

if (!parentPort) throw new Error('worker.js must run as a worker thread');
const data = workerData as { role?: string; target?: UserTarget } | null;
if (data?.role === USERS_SHARD_ROLE && data.target) serveShard(parentPort, data.target);
else serveTask(parentPort);

function serveTask(port: MessagePort): void {
  const cancel = new AbortController();
  const finish = new AbortController();
  let started = false;
  const post = (message: WorkerMessage): void => port.postMessage(message);

  port.on('message', (command: WorkerCommand) => {
    switch (command.type) {
      case 'start': {
        if (started) return;
        started = true;
        const { spec } = command;
        runTask(spec, { emit: post, signal: cancel.signal, finish: finish.signal, thresholds: spec.thresholds, workerScript: __filename })
          .then((result) => post({ type: 'result', task: spec.task, result }))
          .catch((err: unknown) => post({ type: 'failed', task: spec.task, error: errorMessage(err), input: err instanceof InputError }))
          .finally(() => port.close());
        return;
      }
      case 'cancel':
        cancel.abort();
        return;
      case 'finish':
        finish.abort();
        return;
      default:
        assertNever(command);
    }
  });
}
