// The `users` task's options and pure helpers. Loads nothing heavy: the config, plan and CLI
// import this file, so it must stay free of http, histograms and the recorder.
import type { LatencySummary, LoadOutcomeMetrics } from '../../../shared/result';
import type { HttpRequestSpec } from '../../load/target';
import { InputError } from '../../errors';

/** One k6-style stage: over `durationS` seconds the target moves linearly to `target` users. */
export interface Stage {
  durationS: number;
  target: number;
}

/** The `users` task's options, fully resolved (serializable: they cross into the worker). */
export interface UsersOptions {
  request: HttpRequestSpec;
  stages: Stage[];
  /** Wait after each answer before the user's next request; 0 = stress. */
  thinkTimeMs: number;
  /** Series interval. */
  intervalMs: number;
  /** Health query (`{ __typename }`, POST to request.url) period; also for `healthUrls` (GET). */
  healthEveryMs: number;
  healthUrls: string[];
  /** Hard bound on the run's length, whatever the stages say. */
  maxDurationS: number;
  /** Load threads, fixed; absent = adapt to the plan and to how busy the threads are. */
  workers?: number;
}

export const USERS_DEFAULTS = {
  /** 1 minute up to 100 users, 5 minutes at 100, 1 minute down: the seed's "100-500 users for 5-10 minutes", low end. */
  stages: '1m:100,5m:100,1m:0',
  thinkTimeMs: 1000,
  intervalMs: 5000,
  healthEveryMs: 5000,
} as const;

export interface DegradationMetrics {
  detected: boolean;
  p95FirstMs: number | null;
  p95LastMs: number | null;
  /** Percent change of p95, last part against first part. */
  p95ChangePct: number | null;
  /** Fractions. */
  errorRateFirst: number;
  errorRateLast: number;
  /** Seconds since the task started, from which the figures stayed above the first part's. */
  since?: number;
  reason: string;
}

export interface HealthMetrics {
  checks: number;
  failures: number;
  /** Seconds since the task started. */
  firstFailureAt?: number;
  /** The first failure, in words (status or error). */
  firstFailure?: string;
}

export interface GeneratorMetrics {
  limited: boolean;
  /** Worst sample's p99 event-loop delay over the load threads. */
  eventLoopP99Ms: number;
  /** Worst sample's busiest load thread: event-loop utilization, percent. */
  busiestPercent: number;
  /** The process's CPU over the run, percent of one core. */
  cpuPercent: number;
  /** Load threads at the end, and the most it could have grown to. */
  workers: number;
  maxWorkers: number;
  /** Seconds since the start at which a load thread was added. */
  addedAtS: number[];
}

export interface UsersMetrics extends LoadOutcomeMetrics {
  /** The most active users reached and held for at least one whole interval. */
  peakUsers: number;
  durationS: number;
  thinkTimeMs: number;
  latencyMs: LatencySummary | null;
  /** Think time > 0: measured from each request's intended send time (see users/index.ts). */
  correctedLatencyMs?: LatencySummary | null;
  /** Absent when the plateau was too short to judge. */
  degradation?: DegradationMetrics;
  health: HealthMetrics;
  generator: GeneratorMetrics;
  stages: Stage[];
}

/**
 * V8 limits for the threads that carry users (the task's worker and its load threads). A young
 * generation of 6 MB (2 MB semi-spaces) instead of V8's default, which grows to 16 MB semi-spaces
 * and shrinks again: think-time load allocates little, and the default's resizing is what made
 * the generator's RSS move by 15 to 35 MB over a soak while its JS heap stayed flat (measured with
 * `npm run bench -- soak`; see the README).
 */
export const USERS_THREAD_LIMITS = { maxYoungGenerationSizeMb: 6 } as const;

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Parses k6-style stages, `1m:100,5m:500,1m:0` (units s, m, h; `1m30s` also works). A bad part
 * throws an InputError that names it.
 */
export function parseStages(text: string): Stage[] {
  const trimmed = text.trim();
  if (!trimmed) throw new InputError('stages: empty; expected duration:target pairs such as 1m:100,5m:500,1m:0');
  const stages = trimmed.split(',').map((raw, index): Stage => {
    const part = raw.trim();
    const bad = (why: string): InputError =>
      new InputError(`stages: part ${index + 1} "${part}" ${why}; expected duration:target such as 1m:100 (units s, m, h)`);
    const m = /^([^:]+):([^:]+)$/.exec(part);
    if (!m) throw bad('is not duration:target');
    const durationS = parseDuration(m[1].trim());
    if (durationS === null) throw bad(`has a bad duration "${m[1].trim()}"`);
    if (durationS <= 0) throw bad('has a zero duration');
    const targetText = m[2].trim();
    if (!/^\d+$/.test(targetText)) throw bad(`has a bad target "${targetText}" (a whole number of users)`);
    const target = Number(targetText);
    if (!Number.isSafeInteger(target)) throw bad(`has a bad target "${targetText}"`);
    return { durationS, target };
  });
  return stages;
}

/** `90s`, `1m`, `1.5m`, `1h`, `1m30s` -> seconds; null when malformed. */
function parseDuration(text: string): number | null {
  if (!/^(\d+(\.\d+)?[smh])+$/.test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)([smh])/g)) total += Number(m[1]) * UNIT_S[m[2]];
  return Number.isFinite(total) ? Math.round(total * 1000) / 1000 : null;
}

export function totalDurationS(stages: readonly Stage[]): number {
  return stages.reduce((sum, s) => sum + s.durationS, 0);
}

/** The stage line at `tS` seconds: linear from 0 users at t=0 through each stage's target. */
export function targetAt(stages: readonly Stage[], tS: number): number {
  let start = 0;
  let from = 0;
  for (const stage of stages) {
    const end = start + stage.durationS;
    if (tS < end) return from + ((stage.target - from) * Math.max(0, tS - start)) / stage.durationS;
    start = end;
    from = stage.target;
  }
  return stages.length ? stages[stages.length - 1].target : 0;
}

/** The steady-state windows: stages whose target is flat (same as the previous) and > 0. */
export function plateaus(stages: readonly Stage[]): Array<{ startS: number; endS: number; users: number }> {
  const out: Array<{ startS: number; endS: number; users: number }> = [];
  let start = 0;
  let from = 0;
  for (const stage of stages) {
    const end = start + stage.durationS;
    if (stage.target === from && stage.target > 0) {
      const last = out[out.length - 1];
      if (last && last.endS === start && last.users === stage.target) last.endS = end;
      else out.push({ startS: start, endS: end, users: stage.target });
    }
    start = end;
    from = stage.target;
  }
  return out;
}
