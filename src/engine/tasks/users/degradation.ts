// Degradation over the steady-state plateau(s): pure, so unit tests feed it synthetic series.
import type { DegradationMetrics } from './types';

/** One closed interval, as the degradation check reads it. */
export interface SteadyInterval {
  /** Seconds since the task started: the interval's start and end. */
  startS: number;
  endS: number;
  p95: number | null;
  requests: number;
  errors: number;
}

export interface DegradationOptions {
  /** Fewer steady intervals than this: not enough to judge. */
  minIntervals?: number;
  /** p95 must rise by at least this fraction (0.5 = 50 %) ... */
  p95RisePct?: number;
  /** ... and at least this many ms. */
  p95RiseMs?: number;
  /** Error rate must rise by at least this fraction (0.01 = 1 percentage point). */
  errorRiseAbs?: number;
}

export const MIN_STEADY_INTERVALS = 6;

export type DegradationVerdict = { judged: true; degradation: DegradationMetrics } | { judged: false; reason: string };

/**
 * The intervals lying wholly inside a plateau (the ramp-up's last users are all running), with a
 * tolerance of a tenth of an interval for timer jitter.
 */
export function steadyIntervals(
  points: readonly SteadyInterval[],
  windows: ReadonlyArray<{ startS: number; endS: number }>,
): SteadyInterval[] {
  return points.filter((p) => {
    const slack = (p.endS - p.startS) * 0.1;
    return windows.some((w) => p.startS >= w.startS - slack && p.endS <= w.endS + slack);
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
const rate = (xs: readonly SteadyInterval[]): number => {
  const requests = xs.reduce((s, p) => s + p.requests, 0);
  return requests ? xs.reduce((s, p) => s + p.errors, 0) / requests : 0;
};
const rateOf = (p: SteadyInterval): number => (p.requests ? p.errors / p.requests : 0);

/** Least-squares slope of y over x (per second); 0 with fewer than two points. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

/**
 * Compares the last third of the steady intervals with the first third.
 *
 * - p95 of a part = the median of its intervals' p95 (one slow interval does not move it).
 * - Noise = the first part's interval-to-interval spread: a rise counts only when the last
 *   part's median p95 is above every first-part interval's p95 plus half that spread, and the
 *   trend (least-squares slope of p95 across all steady intervals) is upward.
 * - Large = p95 up by ≥ 50 % and ≥ 5 ms; or the error rate up by ≥ 1 percentage point and above
 *   every first-part interval's own error rate.
 * - `since` = the start of the first steady interval above the noise ceiling from which at least
 *   80 % of the following intervals stay above it.
 */
export function detectDegradation(steady: readonly SteadyInterval[], options: DegradationOptions = {}): DegradationVerdict {
  const minIntervals = Math.max(options.minIntervals ?? MIN_STEADY_INTERVALS, 3);
  const risePct = options.p95RisePct ?? 0.5;
  const riseMs = options.p95RiseMs ?? 5;
  const errorRise = options.errorRiseAbs ?? 0.01;
  if (steady.length < minIntervals) {
    return {
      judged: false,
      reason: `not enough steady-state intervals (${steady.length}, need ${minIntervals}): lengthen the plateau or shorten the interval to judge degradation`,
    };
  }
  const k = Math.max(2, Math.floor(steady.length / 3));
  const first = steady.slice(0, k);
  const last = steady.slice(-k);
  const p95s = (xs: readonly SteadyInterval[]): number[] => xs.map((p) => p.p95).filter((v): v is number => v !== null);
  const firstP95s = p95s(first);
  const lastP95s = p95s(last);
  const p95First = firstP95s.length ? median(firstP95s) : null;
  const p95Last = lastP95s.length ? median(lastP95s) : null;
  const errorRateFirst = rate(first);
  const errorRateLast = rate(last);

  let p95Flag = false;
  let p95ChangePct: number | null = null;
  let ceiling = Infinity;
  const reasons: string[] = [];
  const withP95 = steady.filter((p) => p.p95 !== null);
  const trend = slope(withP95.map((p) => p.endS), withP95.map((p) => p.p95 as number));
  if (p95First !== null && p95Last !== null) {
    p95ChangePct = p95First > 0 ? round(((p95Last - p95First) / p95First) * 100, 1) : null;
    const spread = Math.max(...firstP95s) - Math.min(...firstP95s);
    ceiling = Math.max(...firstP95s) + spread / 2;
    const large = p95Last - p95First >= riseMs && p95Last >= p95First * (1 + risePct);
    const beyondNoise = p95Last > ceiling;
    p95Flag = large && beyondNoise && trend > 0;
    const change = `p95 ${round(p95First, 2)} ms -> ${round(p95Last, 2)} ms (${p95ChangePct === null ? 'n/a' : `${p95ChangePct >= 0 ? '+' : ''}${p95ChangePct} %`}), trend ${trend >= 0 ? '+' : ''}${round(trend, 2)} ms/s, first part's spread ${round(spread, 2)} ms`;
    if (p95Flag) reasons.push(`latency climbed: ${change}`);
    else if (!large) reasons.push(`p95 steady: ${change}`);
    else reasons.push(`p95 rise within the run's own noise: ${change}`);
  }
  const errorCeiling = Math.max(...first.map(rateOf));
  const errorFlag = errorRateLast - errorRateFirst >= errorRise && errorRateLast > errorCeiling;
  const pct = (v: number): string => `${round(v * 100, 2)} %`;
  if (errorFlag) reasons.push(`error rate climbed: ${pct(errorRateFirst)} -> ${pct(errorRateLast)}`);
  else reasons.push(`error rate ${pct(errorRateFirst)} -> ${pct(errorRateLast)}`);

  const detected = p95Flag || errorFlag;
  const degradation: DegradationMetrics = {
    detected,
    p95FirstMs: p95First === null ? null : round(p95First),
    p95LastMs: p95Last === null ? null : round(p95Last),
    p95ChangePct,
    errorRateFirst: round(errorRateFirst, 6),
    errorRateLast: round(errorRateLast, 6),
    reason: `${detected ? 'degradation' : 'no degradation'} over ${steady.length} steady intervals (first ${k} against last ${k}): ${reasons.join('; ')}`,
  };
  if (detected) {
    const errorCeilingAbs = Math.max(errorCeiling, errorRateFirst + errorRise / 2);
    const above = (p: SteadyInterval): boolean =>
      (p95Flag && p.p95 !== null && p.p95 > ceiling) || (errorFlag && rateOf(p) > errorCeilingAbs);
    for (let i = 0; i < steady.length; i++) {
      if (!above(steady[i])) continue;
      const rest = steady.slice(i);
      if (rest.filter(above).length >= 0.8 * rest.length) {
        degradation.since = round(steady[i].startS, 1);
        break;
      }
    }
  }
  return { judged: true, degradation };
}
