/**
 * A task worker: runs exactly one task per thread, posts its typed events and its result, and
 * stops the load when told to cancel. Started from dist/worker.js by the extension host or CLI.
 */
import { parentPort } from 'node:worker_threads';
import { assertNever, type WorkerCommand, type WorkerMessage } from '../shared/protocol';
import { runTask } from '../engine/tasks';
import { InputError, errorMessage } from '../engine/errors';

if (!parentPort) throw new Error('worker.js must run as a worker thread');
const port = parentPort;
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
      runTask(spec, { emit: post, signal: cancel.signal, finish: finish.signal, thresholds: spec.thresholds })
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
