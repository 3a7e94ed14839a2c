// The users task's parts on real sockets: one user on autocannon's connection client (think time,
// leaving, refused connections, timeouts, idle sockets closed by the server) and the load threads
// (worker threads from dist/worker.js: adding one mid-run, counts that add up across threads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { LoadRecorder } from '../../src/engine/load/recorder';
import type { HttpRequestSpec } from '../../src/engine/load/target';
import { clientOptions, VirtualUser, type UserRecorder } from '../../src/engine/tasks/users/user';
import { LoadThreads, planThreads } from '../../src/engine/tasks/users/threads';
import { runUsersTask, type UsersMetrics } from '../../src/engine/tasks/users';
import { fixedDelay, sendJson, startServer, TYPENAME } from '../helpers/servers';

const WORKER = path.join(__dirname, '..', '..', 'dist', 'worker.js');
const QUERY = '{"query":"{ __typename }"}';
const request = (url: string, timeoutMs = 5000): HttpRequestSpec => ({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY, timeoutMs });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `ready()` holds, checking every 20 ms, for at most `ms` (the assertion after says what failed). */
async function until(ready: () => boolean, ms = 5000): Promise<void> {
  for (const end = performance.now() + ms; !ready() && performance.now() < end; ) await sleep(20);
}

/** Records what a user reports, with when. */
class Log implements UserRecorder {
  responses: Array<{ status: number; ms: number; graphqlErrors: boolean; correctedMs?: number }> = [];
  timeouts: Array<number | undefined> = [];
  connectionErrors = 0;
  response(status: number, ms: number, graphqlErrors: boolean, correctedMs?: number): void {
    this.responses.push({ status, ms, graphqlErrors, correctedMs });
  }
  timeout(correctedMs?: number): void {
    this.timeouts.push(correctedMs);
  }
  connectionError(): void {
    this.connectionErrors++;
  }
}

/** One user against `url` for `forMs`, then asked to leave (it finishes its request): what it reported. */
async function userFor(url: string, thinkTimeMs: number, forMs: number, timeoutMs = 5000): Promise<Log> {
  const log = new Log();
  const user = new VirtualUser(clientOptions(request(url, timeoutMs)), thinkTimeMs, log);
  await sleep(forMs);
  user.leave();
  await user.done;
  return log;
}

test('a user thinks between an answer and its next request, on one socket', async () => {
  const arrivals: number[] = [];
  const sockets = new Set<Socket>();
  const delay = fixedDelay(5);
  const server = await startServer((req, res, i) => {
    arrivals.push(performance.now());
    sockets.add(req.socket);
    delay(req, res, i);
  });
  try {
    const log = await userFor(server.url, 100, 1000);
    assert.ok(arrivals.length >= 7 && arrivals.length <= 10, `${arrivals.length} requests in 1 s at 5 ms + 100 ms think`);
    for (let i = 1; i < arrivals.length; i++) {
      const gap = arrivals[i] - arrivals[i - 1];
      assert.ok(gap >= 100, `request ${i} came ${gap.toFixed(1)} ms after the one before`);
    }
    assert.equal(sockets.size, 1);
    // Every request the server saw was answered and recorded: leaving waited for the answer.
    assert.equal(log.responses.length, server.received());
    assert.ok(log.responses.every((r) => r.status === 200 && !r.graphqlErrors && r.ms >= 4.5));
    // Corrected from the intended send time: the previous request's latency is added.
    assert.ok(log.responses.slice(1).every((r) => (r.correctedMs ?? 0) >= r.ms + 4.5), JSON.stringify(log.responses.slice(0, 3)));
  } finally {
    await server.close();
  }
});

test('a user leaving mid-request finishes it; a stopped one drops it', async () => {
  const server = await startServer(fixedDelay(300));
  try {
    const log = new Log();
    const leaving = new VirtualUser(clientOptions(request(server.url)), 0, log);
    await sleep(50);
    leaving.leave();
    await leaving.done;
    assert.equal(log.responses.length, 1, 'the answer in flight was waited for and recorded');
    const stopped = new VirtualUser(clientOptions(request(server.url)), 0, log);
    await sleep(50);
    const t = performance.now();
    stopped.stop();
    await stopped.done;
    assert.ok(performance.now() - t < 100);
    assert.equal(log.responses.length, 1, 'a stop records nothing more');
    assert.equal(server.received(), 2);
  } finally {
    await server.close();
  }
});

test('think time longer than the timeout is not a timeout; a socket the server closes while the user thinks is replaced quietly', async () => {
  const sockets = new Set<Socket>();
  // The server closes each connection 50 ms after answering on it, while the user thinks 300 ms.
  const server = await startServer((req, res) => {
    sockets.add(req.socket);
    sendJson(res, 200, TYPENAME);
    setTimeout(() => req.socket.destroy(), 50);
  });
  try {
    const log = await userFor(server.url, 300, 1400, 200);
    assert.deepEqual(log.timeouts, [], 'thinking never counts toward the request timeout');
    assert.equal(log.connectionErrors, 0, 'no request was on the closed sockets');
    assert.ok(log.responses.length >= 4 && log.responses.length <= 5, `${log.responses.length} answers in 1.4 s at 300 ms think`);
    assert.equal(log.responses.length, server.received(), 'one request per think, none doubled by the reconnects');
    assert.equal(sockets.size, log.responses.length, 'a new socket for each request');
  } finally {
    await server.close();
  }
});

test('a refused connection counts once per attempt, with a pause between attempts', async () => {
  const server = await startServer(fixedDelay(1));
  const url = server.url;
  await server.close();
  const log = await userFor(url, 0, 1000);
  // At least 100 ms between attempts: about 10 in a second, not thousands.
  assert.ok(log.connectionErrors >= 5 && log.connectionErrors <= 11, `${log.connectionErrors} connection errors in 1 s`);
  assert.equal(log.responses.length, 0);
});

test('a connection the server closes with a request on it counts one connection error; later answers are timed right', async () => {
  const server = await startServer((req, res, i) => {
    if (i === 2) return void req.socket.destroy(); // closed with the request unanswered
    setTimeout(() => sendJson(res, 200, TYPENAME), 20);
  });
  try {
    const log = await userFor(server.url, 50, 800);
    assert.equal(log.connectionErrors, 1);
    assert.equal(log.responses.length + log.connectionErrors, server.received(), 'every request counted once');
    assert.ok(log.responses.every((r) => r.ms >= 19 && r.ms < 60), `raw latencies ${log.responses.map((r) => r.ms.toFixed(1)).join(', ')}`);
    assert.ok(log.responses.every((r) => (r.correctedMs ?? 0) >= r.ms), 'corrected never below raw');
  } finally {
    await server.close();
  }
});

test('after a timeout the user thinks before its next request; corrected latency is never negative', async () => {
  const arrivals: number[] = [];
  const server = await startServer((_req, res, i) => {
    arrivals.push(performance.now());
    if (i === 0) return; // never answered
    sendJson(res, 200, TYPENAME);
  });
  try {
    // Think time longer than the timeout.
    const log = await userFor(server.url, 300, 800, 150);
    assert.equal(log.timeouts.length, 1);
    assert.ok(arrivals.length >= 2);
    assert.ok(arrivals[1] - arrivals[0] >= 150 + 295, `the retry came ${(arrivals[1] - arrivals[0]).toFixed(0)} ms after the first send`);
    assert.ok(log.responses.every((r) => (r.correctedMs ?? 0) >= r.ms), JSON.stringify(log.responses));
  } finally {
    await server.close();
  }
});

test('a timeout in the middle of an answer leaves no half-read state: the next answers read right', async () => {
  const server = await startServer((_req, res, i) => {
    if (i === 0) {
      // Headers promising 1000 bytes, 10 of them, then nothing.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"data":{"');
      return;
    }
    sendJson(res, 200, TYPENAME);
  });
  try {
    const log = await userFor(server.url, 20, 800, 200);
    assert.equal(log.timeouts.length, 1);
    assert.ok(log.responses.length >= 5, `${log.responses.length} answers after the timeout`);
    assert.ok(log.responses.every((r) => r.status === 200 && !r.graphqlErrors), JSON.stringify(log.responses.slice(0, 3)));
    assert.equal(log.responses.length + log.timeouts.length, server.received());
  } finally {
    await server.close();
  }
});

test('answers with Connection: close send the next request on a new connection, with no error counted', async () => {
  const sockets = new Set<Socket>();
  const server = await startServer((req, res) => {
    sockets.add(req.socket);
    res.setHeader('connection', 'close');
    sendJson(res, 200, TYPENAME);
  });
  try {
    const log = await userFor(server.url, 0, 500);
    assert.equal(log.connectionErrors, 0);
    assert.ok(log.responses.length >= 10, `${log.responses.length} answers`);
    assert.equal(log.responses.length, server.received());
    assert.equal(sockets.size, server.received(), 'one connection per request');
  } finally {
    await server.close();
  }
});

test('a request past its timeout counts as one timeout, corrected at its full wait', async () => {
  const server = await startServer((_req, res, i) => {
    if (i === 0) return; // never answered
    sendJson(res, 200, TYPENAME);
  });
  try {
    const log = await userFor(server.url, 50, 500, 200);
    assert.equal(log.timeouts.length, 1);
    assert.ok((log.timeouts[0] ?? 0) >= 195, `corrected ${log.timeouts[0]}`);
    assert.ok(log.responses.length >= 2, 'the user went on after the timeout');
    assert.equal(log.responses.length + log.timeouts.length, server.received());
  } finally {
    await server.close();
  }
});

test('load threads: a thread added mid-run takes its share of the users and the new ones; the count holds, the counts add up', async () => {
  const sockets = new Set<Socket>();
  let closedSockets = 0;
  const delay = fixedDelay(2);
  const server = await startServer((req, res, i) => {
    if (!sockets.has(req.socket)) {
      sockets.add(req.socket);
      req.socket.on('close', () => closedSockets++);
    }
    delay(req, res, i);
  });
  const logs: string[] = [];
  // growAt 0: grow at every sample (up to max), to exercise the mechanism without saturating.
  const threads = await LoadThreads.start({ initial: 1, max: 3, fixed: false, growAt: 0 }, { request: request(server.url), thinkTimeMs: 20 }, WORKER, {
    log: (_level, message) => logs.push(message),
  });
  const recorder = new LoadRecorder({ corrected: true });
  let closed = false;
  try {
    threads.setTotal(6);
    await sleep(300);
    await threads.sample(recorder, 0.3);
    await until(() => threads.perThread.length === 2);
    assert.deepEqual(threads.perThread, [3, 3], 'half the users moved to the new thread');
    threads.setTotal(12);
    assert.deepEqual(threads.perThread, [6, 6]);
    await sleep(300);
    await threads.sample(recorder, 0.6);
    await until(() => threads.perThread.length === 3);
    assert.deepEqual(threads.perThread, [4, 4, 4]);
    // The moved users arrive spread over one think time (20 ms): all of them, before going on.
    await until(() => sockets.size === 19);
    threads.setTotal(15);
    assert.deepEqual(threads.perThread, [5, 5, 5]);
    threads.setTotal(9);
    assert.deepEqual(threads.perThread, [3, 3, 3]);
    await sleep(300);
    await threads.sample(recorder, 0.9);
    assert.equal(threads.metrics().workers, 3);
    assert.deepEqual(threads.metrics().addedAtS, [0.3, 0.6]);
    assert.equal(logs.length, 2, logs.join('\n'));
    assert.match(logs[0], /load thread 2 of at most 3 added at 0\.3 s .*; 3 users moved to it/);
    // Sockets: 6 first, 3 moved, 6 more, 4 moved, 3 more = 22; closed: 3 + 4 moved, 6 left.
    await until(() => sockets.size >= 22 && closedSockets >= 13);
    assert.equal(sockets.size, 22);
    assert.equal(closedSockets, 13);
    await threads.close(true, recorder);
    closed = true;
    recorder.closeInterval();
    // Every request the server received was answered, handed over and counted once.
    assert.equal(recorder.counts.requests, server.received());
    assert.equal(recorder.counts.succeeded, server.received());
    assert.equal(recorder.latency()?.count, server.received());
  } finally {
    // A failed assertion must not leave the load workers running (the test process would hang).
    if (!closed) await threads.close(false, recorder).catch(() => undefined);
    await server.close();
  }
});

test('users with a fixed 3 load threads follow the stage line, and the totals are the server\'s', async () => {
  const server = await startServer(fixedDelay(3));
  try {
    const stages = [{ durationS: 1, target: 30 }, { durationS: 2, target: 30 }, { durationS: 1, target: 0 }];
    const result = await runUsersTask(
      { request: request(server.url), stages, thinkTimeMs: 50, intervalMs: 1000, healthEveryMs: 60_000, healthUrls: [], maxDurationS: 20, workers: 3 },
      { emit: () => undefined, signal: new AbortController().signal, thresholds: { 'users.concurrency': 30 }, workerScript: WORKER },
    );
    const m = result.metrics as unknown as UsersMetrics;
    assert.equal(m.generator.workers, 3);
    assert.equal(m.peakUsers, 30);
    // One health check, at the start (the next would be due after the run): none cut off at the end.
    assert.equal(m.health.checks, 1);
    assert.equal(m.requests + 1, server.received(), 'every request counted once, across the threads');
    assert.equal(m.errors, 0);
    assert.equal(result.series.reduce((n, p) => n + p.requests, 0), m.requests);
    assert.equal(result.status, 'passed', JSON.stringify(result.criteria));
  } finally {
    await server.close();
  }
});

test('planThreads: from the plan, capped by the cores; fixed when asked or when no worker script', () => {
  assert.deepEqual(planThreads({ peakUsers: 500, thinkTimeMs: 1000 }, 8, true), { initial: 1, max: 8, fixed: false, growAt: 0.75 });
  assert.equal(planThreads({ peakUsers: 500, thinkTimeMs: 100 }, 8, true).initial, 3);
  assert.equal(planThreads({ peakUsers: 500, thinkTimeMs: 0 }, 2, true).initial, 2);
  assert.deepEqual(planThreads({ peakUsers: 500, thinkTimeMs: 0, workers: 4 }, 2, true), { initial: 4, max: 4, fixed: true, growAt: 0.75 });
  assert.deepEqual(planThreads({ peakUsers: 500, thinkTimeMs: 0 }, 8, false), { initial: 1, max: 1, fixed: true, growAt: 0.75 });
});
