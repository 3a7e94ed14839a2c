/**
 * The soak's memory: 500 users with think time against a local target for a few minutes, this
 * process's RSS sampled each minute (the task runs on this thread here, so this process is the
 * generator), and the size of the result it writes.
 */
import { runUsersTask } from '../src/engine/tasks/users';
import { parseStages } from '../src/engine/tasks/users/types';
import { QUERY_BODY } from './runners';

export interface SoakFigures {
  rssMbByMinute: number[];
  resultBytes: number;
  requests: number;
  peakUsers: number;
  durationS: number;
}

export async function usersSoak(url: string, stages: string, thinkTimeMs: number): Promise<SoakFigures> {
  const rssMbByMinute: number[] = [];
  const sample = (): void => {
    rssMbByMinute.push(Math.round((process.memoryUsage().rss / 1e6) * 10) / 10);
  };
  const timer = setInterval(sample, 60_000);
  try {
    const result = await runUsersTask(
      {
        request: { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY_BODY, timeoutMs: 10_000 },
        stages: parseStages(stages),
        thinkTimeMs,
        intervalMs: 5000,
        healthEveryMs: 5000,
        healthUrls: [],
        maxDurationS: 900,
      },
      { emit: () => undefined, signal: new AbortController().signal, thresholds: {} },
    );
    sample();
    const m = result.metrics as { requests?: number; peakUsers?: number; durationS?: number };
    return {
      rssMbByMinute,
      resultBytes: Buffer.byteLength(JSON.stringify(result)),
      requests: m.requests ?? 0,
      peakUsers: m.peakUsers ?? 0,
      durationS: m.durationS ?? 0,
    };
  } finally {
    clearInterval(timer);
  }
}
