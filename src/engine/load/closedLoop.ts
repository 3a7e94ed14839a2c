import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import type { HttpRequestSpec } from './target';
import { hasGraphqlErrors, type LoadRecorder } from './recorder';

export interface ClosedLoopOptions {
  request: HttpRequestSpec;
  connections: number;
  /** Total requests (ab -n); ignored when durationS is set. */
  requests?: number;
  durationS?: number;
}

export interface ClosedLoopOutcome {
  /** Connections that carried at least one response. */
  connectionsUsed: number;
  stoppedEarly: boolean;
}

/**
 * The closed model (ab, autocannon): each connection sends its next request when the previous
 * answer arrives. autocannon drives the sockets; latencies are recorded here, in microseconds,
 * from its per-response timings (hrtime, fractional ms), not from its whole-millisecond histogram.
 */
export function runClosedLoop(
  options: ClosedLoopOptions,
  recorder: LoadRecorder,
  signal: AbortSignal,
): Promise<ClosedLoopOutcome> {
  const { request } = options;
  const clientsWithResponses = new WeakSet<object>();
  let connectionsUsed = 0;
  // autocannon emits 'response' and then, synchronously and for the same response, calls
  // verifyBody with its body: the status waits here for the body that decides the outcome.
  let pending: { status: number; ms: number } | null = null;

  return new Promise((resolve, reject) => {
    let stoppedEarly = false;
    let instance: autocannon.Instance;
    try {
      instance = autocannon(
        {
          url: request.url,
          method: request.method,
          headers: request.headers,
          body: request.body,
          connections: options.connections,
          ...(options.durationS !== undefined ? { duration: options.durationS } : { amount: options.requests }),
          timeout: request.timeoutMs / 1000,
          pipelining: 1,
          skipAggregateResult: true,
          setupClient: (client) => {
            // autocannon's client emits these (lib/httpClient.js); its typings omit them.
            const events = client as unknown as EventEmitter;
            events.on('timeout', () => recorder.timeout());
            events.on('connError', () => recorder.connectionError());
          },
          verifyBody: (body) => {
            const response = pending;
            pending = null;
            if (response) recorder.response(response.status, response.ms, hasGraphqlErrors(String(body)));
            return true;
          },
        },
        (err) => {
          signal.removeEventListener('abort', stop);
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve({ connectionsUsed, stoppedEarly });
        },
      );
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    instance.on('response', (client, statusCode, _bytes, responseTime) => {
      pending = { status: statusCode, ms: responseTime };
      if (!clientsWithResponses.has(client)) {
        clientsWithResponses.add(client);
        connectionsUsed++;
      }
    });
    function stop(): void {
      stoppedEarly = true;
      instance.stop();
    }
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}
