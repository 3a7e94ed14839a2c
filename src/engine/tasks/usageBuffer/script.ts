/**
 * Script mode: the user's own test command (`npm run tsx test-usage-buffer.ts`) run N times, one
 * after another or several at once, each bounded by a timeout that kills its whole process
 * group. Exit codes, durations and the figures it prints are recorded.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import type { TaskEvent } from '../../../shared/protocol';
import { InputError } from '../../errors';
import { createHistogram, recordMs, summarize } from '../../histogram';
import type { ScriptFigures, UsageBufferMetrics, UsageBufferScript } from './types';

const NUMBER = String.raw`(?<value>\d+(?:\.\d+)?)\s*(?<unit>ms|s|us|µs)?(?![A-Za-z])`;
export const DEFAULT_PATTERNS = {
  averageMs: String.raw`\bav(?:erage|g)\.?\s+latency\s*[:=]?\s*` + NUMBER,
  p99Ms: String.raw`\bp99(?:\s+latency)?\s*[:=]?\s*` + NUMBER,
  passing: String.raw`(\d+)\s+(?:passing|tests?\s+passed|passed)\b|^\W*pass(?:ed)?\s+(\d+)\s*$`,
  failing: String.raw`(\d+)\s+(?:failing|tests?\s+failed|failed)\b|^\W*fail(?:ed)?\s+(\d+)\s*$`,
} as const;

type FigureName = keyof typeof DEFAULT_PATTERNS;
const FIGURES = Object.keys(DEFAULT_PATTERNS) as FigureName[];
export type CompiledPatterns = Record<FigureName, RegExp>;

/** Grace between SIGTERM and SIGKILL for a run that timed out or was cancelled. */
const KILL_GRACE_MS = 1000;
/** How long the pipes may stay open after the shell exited (a grandchild holding them). */
const CLOSE_GRACE_MS = 500;
const KEEP_STDOUT = 256 * 1024;
const KEEP_STDERR = 16 * 1024;

/** Compiles the patterns and checks the folder; InputError before anything runs. */
export function prepareScript(s: UsageBufferScript): CompiledPatterns {
  const compiled = {} as CompiledPatterns;
  for (const name of FIGURES) {
    const source = s.patterns?.[name] ?? DEFAULT_PATTERNS[name];
    try {
      compiled[name] = new RegExp(source, 'gim');
    } catch (err) {
      throw new InputError(`usage-buffer: script pattern ${name} is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!existsSync(s.cwd) || !statSync(s.cwd).isDirectory()) throw new InputError(`usage-buffer: script folder ${s.cwd} does not exist`);
  return compiled;
}

export interface ScriptRun {
  index: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  spawnError?: string;
  durationMs: number;
  figures: ScriptFigures;
  failed: boolean;
  /** The last lines of output, for the report of a failed run. */
  tail: string;
}

/** Matches the figures in a run's output; the last match of each pattern counts. */
export function matchFigures(output: string, patterns: CompiledPatterns): ScriptFigures {
  const text = stripAnsi(output);
  const figures: ScriptFigures = {};
  for (const name of FIGURES) {
    const re = patterns[name];
    re.lastIndex = 0;
    let value: number | undefined;
    for (const m of text.matchAll(re)) {
      const raw = m.groups?.value ?? m.slice(1).find((g) => g !== undefined);
      if (raw === undefined) continue;
      const n = Number(raw);
      if (!Number.isFinite(n)) continue;
      value = name === 'averageMs' || name === 'p99Ms' ? toMs(n, m.groups?.unit) : n;
    }
    if (value !== undefined) figures[name] = value;
  }
  return figures;
}

function toMs(n: number, unit: string | undefined): number {
  switch (unit?.toLowerCase()) {
    case 's': return n * 1000;
    case 'us':
    case 'µs': return n / 1000;
    default: return n;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export interface ScriptPhaseResult {
  metrics: UsageBufferMetrics;
  notes: string[];
  runs: ScriptRun[];
}

export async function runScriptPhase(
  s: UsageBufferScript,
  patterns: CompiledPatterns,
  env: Record<string, string>,
  emit: (event: TaskEvent) => void,
  stop: AbortSignal,
): Promise<ScriptPhaseResult> {
  const runs: ScriptRun[] = [];
  let next = 0;
  let done = 0;
  const progressEvery = Math.max(1, Math.round(s.runs / 10));
  emit({ type: 'log', task: 'usage-buffer', level: 'info', message: `running \`${s.command}\` ${s.runs} times, ${s.parallelism} at once, timeout ${s.timeoutMs} ms each` });
  const runner = async (): Promise<void> => {
    while (!stop.aborted) {
      const index = next++;
      if (index >= s.runs) return;
      const run = await runOnce(s, patterns, index, env, stop);
      runs.push(run);
      done++;
      if (run.failed && !run.cancelled) {
        const why = run.timedOut ? `timed out after ${s.timeoutMs} ms` : run.spawnError ? run.spawnError : run.signal ? `killed by ${run.signal}` : run.exitCode !== 0 ? `exit ${run.exitCode}` : `${run.figures.failing} failing`;
        emit({ type: 'log', task: 'usage-buffer', level: 'warn', message: `script run ${index + 1} failed (${why}) in ${(run.durationMs / 1000).toFixed(2)} s${run.tail ? `: ${run.tail.split('\n').slice(-1)[0]}` : ''}` });
      } else if (done % progressEvery === 0) {
        emit({ type: 'log', task: 'usage-buffer', level: 'info', message: `script runs: ${done}/${s.runs}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.parallelism, s.runs) }, runner));
  runs.sort((a, b) => a.index - b.index);
  return summarizeRuns(runs);
}

function summarizeRuns(all: ScriptRun[]): ScriptPhaseResult {
  const runs = all.filter((r) => !r.cancelled);
  const histogram = createHistogram();
  const exitCodes: Record<string, number> = {};
  const averages: number[] = [];
  const figures: ScriptFigures = {};
  for (const r of runs) {
    recordMs(histogram, r.durationMs);
    const code = r.timedOut ? 'timeout' : r.spawnError ? 'spawn-error' : r.signal ? r.signal : String(r.exitCode);
    exitCodes[code] = (exitCodes[code] ?? 0) + 1;
    if (r.figures.averageMs !== undefined) averages.push(r.figures.averageMs);
    if (r.figures.p99Ms !== undefined) figures.p99Ms = Math.max(figures.p99Ms ?? 0, r.figures.p99Ms);
    if (r.figures.passing !== undefined) figures.passing = Math.min(figures.passing ?? Infinity, r.figures.passing);
    if (r.figures.failing !== undefined) figures.failing = (figures.failing ?? 0) + r.figures.failing;
  }
  if (averages.length) figures.averageMs = Math.round((averages.reduce((a, b) => a + b, 0) / averages.length) * 1000) / 1000;
  const failures = runs.filter((r) => r.failed);
  const metrics: UsageBufferMetrics = {
    scriptRuns: runs.length,
    scriptFailures: failures.length,
    scriptTimeouts: runs.filter((r) => r.timedOut).length,
    scriptExitCodes: exitCodes,
    scriptDurationMs: summarize(histogram),
    scriptFigures: figures,
  };
  histogram.destroy();
  const notes: string[] = [];
  if (failures.length) {
    const first = failures[0];
    notes.push(`${failures.length} of ${runs.length} script runs failed; the first (run ${first.index + 1}) ended ${first.timedOut ? 'by its timeout' : first.spawnError ? `with ${first.spawnError}` : first.signal ? `by ${first.signal}` : `with exit ${first.exitCode}`}${first.tail ? `: ${first.tail.split('\n').slice(-3).join(' | ')}` : ''}`);
  }
  if (all.length > runs.length) notes.push(`${all.length - runs.length} script runs were cut short by the cancel and are not counted`);
  return { metrics, notes, runs: all };
}

function runOnce(s: UsageBufferScript, patterns: CompiledPatterns, index: number, env: Record<string, string>, stop: AbortSignal): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let cancelled = false;
    let spawnError: string | undefined;
    let exit: { code: number | null; signal: string | null; at: number } | null = null;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;

    const child = spawn('/bin/sh', ['-c', s.command], {
      cwd: s.cwd,
      env: { ...process.env, ...env, PHASE3_SCRIPT_RUN: String(index + 1) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: on timeout the shell and everything it started are killed.
      detached: true,
    });
    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const terminate = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, s.timeoutMs);
    const onStop = (): void => {
      cancelled = true;
      terminate();
    };
    stop.addEventListener('abort', onStop, { once: true });

    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > KEEP_STDOUT * 2) stdout = stdout.slice(-KEEP_STDOUT);
    });
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > KEEP_STDERR * 2) stderr = stderr.slice(-KEEP_STDERR);
    });

    const finish = (): void => {
      if (settled) return;
      settled = true;
      const durationMs = (exit?.at ?? performance.now()) - started;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(closeTimer);
      stop.removeEventListener('abort', onStop);
      // Whatever the script left behind in its group goes with it.
      killGroup('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      const figures = matchFigures(stdout, patterns);
      const failed = timedOut || spawnError !== undefined || exit?.signal != null || exit?.code !== 0 || (figures.failing ?? 0) > 0;
      const tail = lastLines(stripAnsi(stderr.trim() ? stderr : stdout), 3);
      resolve({
        index,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        cancelled: cancelled && !timedOut,
        spawnError,
        durationMs,
        figures,
        failed,
        tail,
      });
    };
    child.on('error', (err) => {
      spawnError = err.message;
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal, at: performance.now() };
      // Output may still be in the pipes; a grandchild may hold them open: bounded wait.
      closeTimer = setTimeout(finish, CLOSE_GRACE_MS);
    });
    child.on('close', finish);
  });
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).map((l) => l.trim()).join('\n').slice(-500);
}
