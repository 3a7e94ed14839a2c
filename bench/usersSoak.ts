/**
 * The soak's memory: 500 users with think time against a local target for a few minutes. The run
 * goes as `phase3 run users` does it (executeRun, the task in a dist/worker.js worker with its
 * limits, load threads as it decides), so this process is the generator. Each minute its RSS is
 * read; then, when the bench runs with --expose-gc, this thread's JS heap after a full GC (a leak
 * in the engine's bookkeeping on this thread would grow it). Also the size of the result.
 */
import * as path from 'node:path';
import { executeRun } from '../src/engine/runner';
import type { UsersMetrics } from '../src/engine/tasks/users';
import { parseStages, targetAt, type UsersOptions } from '../src/engine/tasks/users/types';
import { QUERY_BODY } from './runners';

export interface SoakSample {
  minute: number;
  /** Users on the stage line at the sample. */
  users: number;
  rssMb: number;
  /** JS heap in use right after a full GC; null without --expose-gc. */
  heapAfterGcMb: number | null;
}

export interface SoakFigures {
  samples: SoakSample[];
  /** The most users in the stages. */
  peak: number;
  resultBytes: number;
  requests: number;
  peakUsers: number;
  durationS: number;
  generator: UsersMetrics['generator'] | null;
}

const mb = (bytes: number): number => Math.round((bytes / 1e6) * 10) / 10;

export async function usersSoak(url: string, stagesText: string, thinkTimeMs: number): Promise<SoakFigures> {
  const stages = parseStages(stagesText);
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  const timer = setInterval(() => {
    const minute = samples.length + 1;
    const rssMb = mb(process.memoryUsage().rss);
    let heapAfterGcMb: number | null = null;
    if (gc) {
      gc();
      heapAfterGcMb = mb(process.memoryUsage().heapUsed);
    }
    samples.push({ minute, users: Math.round(targetAt(stages, (performance.now() - t0) / 1000)), rssMb, heapAfterGcMb });
  }, 60_000);
  try {
    const options: UsersOptions = {
      request: { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY_BODY, timeoutMs: 10_000 },
      stages,
      thinkTimeMs,
      intervalMs: 5000,
      healthEveryMs: 5000,
      healthUrls: [],
      maxDurationS: 900,
    };
    const run = await executeRun(
      { runId: 'bench-soak', tasks: [{ task: 'users', options, thresholds: {} }], notImplemented: [], preflight: null, target: { url, db: null }, secrets: [], dbUrl: null },
      { signal: new AbortController().signal, workerPath: path.join(__dirname, '..', 'dist', 'worker.js') },
    );
    const result = run.tasks.users;
    if (!result) throw new Error('the soak produced no users result');
    const m = result.metrics as Partial<UsersMetrics>;
    return {
      samples,
      peak: Math.max(...stages.map((s) => s.target)),
      resultBytes: Buffer.byteLength(JSON.stringify(run)),
      requests: m.requests ?? 0,
      peakUsers: m.peakUsers ?? 0,
      durationS: m.durationS ?? 0,
      generator: m.generator ?? null,
    };
  } finally {
    clearInterval(timer);
  }
}
