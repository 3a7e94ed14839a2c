import * as http from 'node:http';
import * as https from 'node:https';
import type { HttpRequestSpec } from './target';
import { hasGraphqlErrors, type LoadRecorder } from './recorder';

export interface OpenLoopOptions {
  request: HttpRequestSpec;
  /** Arrival rate, requests per second. */
  rate: number;
  /** Total requests to schedule. */
  requests: number;
  /** Most connections to open (requests beyond them queue, and the queueing shows as latency). */
  connections: number;
}

export interface OpenLoopOutcome {
  /** Most requests in flight on connections at one time. */
  peakConcurrency: number;
  /** Scheduled requests never sent, or dropped unanswered, because the run was stopped. */
  unsent: number;
  stoppedEarly: boolean;
}

/**
 * The open model, as wrk2 does it: request i is due at start + i/rate whatever happened to the
 * ones before, so a stalled server cannot slow the arrivals down. Two latencies per response:
 * from the moment it got a connection (what the server took, the raw figure) and from the moment
 * it was due (what a user arriving then would have felt: corrected for coordinated omission).
 * autocannon is not used here: its rate limit sends each second's quota in a burst, and its
 * correction assumes a 1 ms interval at every rate.
 */
export function runOpenLoop(options: OpenLoopOptions, recorder: LoadRecorder, signal: AbortSignal): Promise<OpenLoopOutcome> {
  const { request, rate, requests } = options;
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.connections, scheduling: 'fifo' });
  const body = Buffer.from(request.body);
  const headers = { ...request.headers, 'content-length': String(body.length) };
  const intervalMs = 1000 / rate;

  return new Promise((resolve) => {
    const start = performance.now();
    let sent = 0;
    let inFlight = 0;
    let onConnection = 0;
    let peakConcurrency = 0;
    let stoppedEarly = false;
    let dropped = 0;
    let timer: NodeJS.Timeout | null = null;
    // Requests on the wire, each with a way to drop it unrecorded when the run is stopped.
    const active = new Set<() => void>();

    const finishIfDone = (): void => {
      if ((sent === requests || stoppedEarly) && inFlight === 0) {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', stop);
        agent.destroy();
        resolve({ peakConcurrency, unsent: requests - sent + dropped, stoppedEarly });
      }
    };

    const send = (dueAt: number): void => {
      sent++;
      inFlight++;
      let connectedAt = 0;
      let settled = false;
      const settle = (record: ((now: number) => void) | null): void => {
        if (settled) return;
        settled = true;
        active.delete(abandon);
        clearTimeout(timeout);
        if (connectedAt) onConnection--;
        inFlight--;
        record?.(performance.now());
        finishIfDone();
      };
      const req = transport.request(url, { method: request.method, headers, agent });
      const abandon = (): void => {
        dropped++;
        settle(null);
        req.destroy();
      };
      active.add(abandon);
      const timeout = setTimeout(() => {
        settle((now) => recorder.timeout(now - dueAt));
        req.destroy();
      }, request.timeoutMs + Math.max(0, dueAt - performance.now()));
      req.on('socket', () => {
        connectedAt = performance.now();
        onConnection++;
        if (onConnection > peakConcurrency) peakConcurrency = onConnection;
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          settle((now) => {
            const text = Buffer.concat(chunks).toString('utf8');
            recorder.response(res.statusCode ?? 0, now - (connectedAt || dueAt), hasGraphqlErrors(text), now - dueAt);
          });
        });
        res.on('error', () => settle(() => recorder.connectionError()));
      });
      req.on('error', () => settle(() => recorder.connectionError()));
      req.end(body);
    };

    // Sends everything that is due, then sleeps until the next one is. Timers fire late by a
    // millisecond or more; the requests that became due meanwhile go out at once, and their
    // corrected latency still counts from when they were due.
    const tick = (): void => {
      timer = null;
      if (stoppedEarly) return;
      const now = performance.now();
      while (sent < requests) {
        const dueAt = start + sent * intervalMs;
        if (dueAt > now) break;
        send(dueAt);
      }
      if (sent < requests) {
        const nextDue = start + sent * intervalMs;
        timer = setTimeout(tick, Math.max(0, nextDue - performance.now()));
      } else {
        finishIfDone();
      }
    };

    function stop(): void {
      stoppedEarly = true;
      if (timer) clearTimeout(timer);
      timer = null;
      // Whatever is still on the wire has no outcome to report: it is dropped, not counted.
      for (const abandon of [...active]) abandon();
      finishIfDone();
    }

    if (signal.aborted) stop();
    else {
      signal.addEventListener('abort', stop, { once: true });
      tick();
    }
  });
}
