/**
 * Script mode of the usage-buffer task: the user's own test command run many times, against
 * small real scripts (test/fixtures/scripts): one that passes, one that fails every third run,
 * one that hangs with a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TaskResult } from '../../src/shared/result';
import type { TaskEvent } from '../../src/shared/protocol';
import { InputError } from '../../src/engine/errors';
import {
  DEFAULT_TABLE,
  runUsageBufferTask,
  type UsageBufferMetrics,
  type UsageBufferOptions,
  type UsageBufferScript,
} from '../../src/engine/tasks/usageBuffer';
import { matchFigures, prepareScript } from '../../src/engine/tasks/usageBuffer/script';

const SCRIPTS = path.join(__dirname, '..', 'fixtures', 'scripts');

function options(script: Partial<UsageBufferScript>): UsageBufferOptions {
  return {
    operations: 1000,
    concurrency: 10,
    keys: 50,
    runId: 'script-test',
    table: DEFAULT_TABLE,
    keepRows: false,
    statementTimeoutMs: 5000,
    clientTimeoutMs: 6000,
    maxRetries: 5,
    intervalMs: 1000,
    maxDurationS: 60,
    script: { command: 'sh ./pass.sh', runs: 1, parallelism: 1, timeoutMs: 20_000, cwd: SCRIPTS, ...script },
  };
}

async function run(o: UsageBufferOptions, signal = new AbortController().signal, events: TaskEvent[] = []): Promise<TaskResult> {
  return runUsageBufferTask(o, { emit: (e) => events.push(e), signal, thresholds: {} });
}

const metricsOf = (r: TaskResult): UsageBufferMetrics => r.metrics as UsageBufferMetrics;
const criterion = (r: TaskResult, id: string) => r.criteria.find((c) => c.id === id);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (never reaped by pid 1 in a container) is dead too.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

test('a passing script run 5 times, 2 at once: every run counted, its printed figures read, the script criterion passes', async () => {
  const events: TaskEvent[] = [];
  const r = await run(options({ runs: 5, parallelism: 2 }), undefined, events);
  const m = metricsOf(r);
  assert.equal(r.status, 'passed', JSON.stringify(r.criteria));
  assert.equal(m.scriptRuns, 5);
  assert.equal(m.scriptFailures, 0);
  assert.equal(m.scriptTimeouts, 0);
  assert.deepEqual(m.scriptExitCodes, { '0': 5 });
  assert.deepEqual(m.scriptFigures, { averageMs: 1.8, p99Ms: 4.2, passing: 10 });
  assert.equal(m.scriptDurationMs?.count, 5);
  assert.deepEqual(criterion(r, 'usage-buffer.script'), {
    id: 'usage-buffer.script', label: 'Test script failures', comparator: '==', target: 0, unit: 'runs', actual: 0, passed: true,
  });
  // Without a database the SQL figures are not measured: absent, never guessed.
  assert.equal(m.operations, undefined);
  assert.equal(m.lostUpdates, undefined);
  assert.deepEqual(r.criteria.map((c) => c.id), ['usage-buffer.script']);
  assert.equal(r.histogram, undefined);
  assert.ok(events.some((e) => e.type === 'log' && e.task === 'usage-buffer'));
});

test('a script that fails every third run: the failures, exit codes and failing counts are counted and the task fails', async () => {
  const events: TaskEvent[] = [];
  const r = await run(options({ command: 'sh ./flaky.sh', runs: 6, parallelism: 3 }), undefined, events);
  const m = metricsOf(r);
  assert.equal(r.status, 'failed');
  assert.equal(m.scriptRuns, 6);
  assert.equal(m.scriptFailures, 2);
  assert.deepEqual(m.scriptExitCodes, { '0': 4, '1': 2 });
  assert.equal(m.scriptFigures?.failing, 4);
  assert.equal(m.scriptFigures?.passing, 8, 'the smallest passing count of all runs');
  assert.equal(m.scriptFigures?.averageMs, 2.5);
  assert.equal(criterion(r, 'usage-buffer.script')?.passed, false);
  assert.equal(criterion(r, 'usage-buffer.script')?.actual, 2);
  assert.ok(r.notes?.some((n) => n.includes('run 3') && n.includes('expected 1000 requests')), String(r.notes));
  assert.equal(events.filter((e) => e.type === 'log' && e.level === 'warn').length, 2);
});

test('a hanging script is killed at its timeout with its whole process group, and counted as a timeout', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'phase3-hang-'));
  const pidFile = path.join(dir, 'pids');
  try {
    const r = await run(options({ command: `PIDFILE=${pidFile} sh ./hang.sh`, runs: 2, parallelism: 2, timeoutMs: 300 }));
    const m = metricsOf(r);
    assert.equal(r.status, 'failed');
    assert.equal(m.scriptRuns, 2);
    assert.equal(m.scriptTimeouts, 2);
    assert.equal(m.scriptFailures, 2);
    assert.deepEqual(m.scriptExitCodes, { timeout: 2 });
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 2);
    assert.ok(await waitFor(() => pids.every((pid) => !isAlive(pid)), 5000), `the scripts' children ${pids.join(', ')} were killed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cancel stops the runs in progress, counts none of them, and reports cancelled', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'phase3-hang-'));
  const pidFile = path.join(dir, 'pids');
  const controller = new AbortController();
  try {
    const running = run(options({ command: `PIDFILE=${pidFile} sh ./hang.sh`, runs: 3, parallelism: 1, timeoutMs: 60_000 }), controller.signal);
    assert.ok(await waitFor(() => existsSync(pidFile), 10_000), 'the script started');
    controller.abort();
    const r = await running;
    assert.equal(r.status, 'cancelled');
    assert.equal(metricsOf(r).scriptRuns, 0);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(await waitFor(() => !isAlive(pid), 5000), `child ${pid} killed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('figures are read from the common runners\' output, in the unit they are printed in', () => {
  const patterns = prepareScript({ command: 'true', runs: 1, parallelism: 1, timeoutMs: 1000, cwd: SCRIPTS });
  assert.deepEqual(matchFigures('Average latency: 1.8 ms\nP99 latency: 4.2 ms\n  10 passing (40ms)\n', patterns), { averageMs: 1.8, p99Ms: 4.2, passing: 10 });
  assert.deepEqual(matchFigures('avg latency=1800us\np99: 0.0042s\nTests:       1 failed, 11 passed, 12 total\n', patterns), { averageMs: 1.8, p99Ms: 4.2, passing: 11, failing: 1 });
  assert.deepEqual(matchFigures('ℹ tests 10\nℹ pass 10\nℹ fail 0\n', patterns), { passing: 10, failing: 0 });
  assert.deepEqual(matchFigures('10 tests passed\n', patterns), { passing: 10 });
  assert.deepEqual(matchFigures('no figures here\n', patterns), {});
  // The last match counts (a summary after per-batch lines).
  assert.deepEqual(matchFigures('Average latency: 9 ms\nAverage latency: 2 ms\n', patterns), { averageMs: 2 });
  // Configurable.
  const custom = prepareScript({ command: 'true', runs: 1, parallelism: 1, timeoutMs: 1000, cwd: SCRIPTS, patterns: { averageMs: String.raw`mean=(\d+)` } });
  assert.deepEqual(matchFigures('mean=7\n', custom), { averageMs: 7 });
});

test('bad script input is an InputError before anything runs', async () => {
  await assert.rejects(run(options({ patterns: { passing: '(' } })), (err: unknown) => err instanceof InputError && /pattern passing/.test(err.message));
  await assert.rejects(run(options({ cwd: path.join(SCRIPTS, 'nope') })), (err: unknown) => err instanceof InputError && /nope/.test(err.message));
  await assert.rejects(run(options({ runs: 0 })), (err: unknown) => err instanceof InputError && /script\.runs/.test(err.message));
  const none = { ...options({}), script: undefined };
  await assert.rejects(run(none), (err: unknown) => err instanceof InputError && /database URL/.test(err.message));
});
