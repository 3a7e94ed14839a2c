import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../shared/result';

/**
 * Latency histograms in microseconds, 3 significant digits. One per interval, merged into a
 * total; they cross threads as compressed base64 (HdrHistogram's own encoding).
 */
export type LatencyHistogram = hdr.Histogram;

const SIGNIFICANT_DIGITS = 3;
/** One hour in microseconds: anything slower is recorded at this value (autoResize grows past it). */
const HIGHEST_US = 3_600_000_000;

export function createHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    autoResize: true,
    useWebAssembly: false,
  });
}

/** Records a duration given in milliseconds (fractional) as whole microseconds, at least 1. */
export function recordMs(histogram: LatencyHistogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export function recordUs(histogram: LatencyHistogram, us: number): void {
  histogram.recordValue(Math.max(1, Math.round(us)));
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds an encoded histogram into `into`, decoding it on the way. */
export function mergeEncoded(into: LatencyHistogram, encoded: string): void {
  const other = decodeHistogram(encoded);
  into.add(other);
  other.destroy();
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;
const usToMs = (us: number): number => round3(us / 1000);

/**
 * A percentile in microseconds. HdrHistogram answers with the top of the value's bucket (at most
 * 0.1 % above it), which can pass the recorded max; no percentile can truly exceed the max.
 */
function percentileUs(histogram: LatencyHistogram, percentile: number): number {
  return Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue);
}

/** Mean, percentiles and max in milliseconds, or null for an empty histogram. */
export function summarize(histogram: LatencyHistogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  return {
    mean: usToMs(histogram.mean),
    p50: usToMs(percentileUs(histogram, 50)),
    p90: usToMs(percentileUs(histogram, 90)),
    p95: usToMs(percentileUs(histogram, 95)),
    p99: usToMs(percentileUs(histogram, 99)),
    p999: usToMs(percentileUs(histogram, 99.9)),
    max: usToMs(histogram.maxValue),
    count: histogram.totalCount,
  };
}

export function percentileMs(histogram: LatencyHistogram, percentile: number): number | null {
  return histogram.totalCount === 0 ? null : usToMs(percentileUs(histogram, percentile));
}

/** HdrHistogram-style distribution points (percentile, value in ms), for charts and reports. */
export function percentileDistribution(
  histogram: LatencyHistogram,
  ticksPerHalfDistance = 5,
): Array<{ percentile: number; ms: number }> {
  const points: Array<{ percentile: number; ms: number }> = [];
  if (histogram.totalCount === 0) return points;
  // Percentiles 0, 50, 75, 87.5, ... halving the distance to 100 each step, as HdrHistogram prints.
  let percentile = 0;
  let step = 100 / (2 * ticksPerHalfDistance);
  let remainingInHalf = ticksPerHalfDistance;
  while (percentile < 100 && points.length < 200) {
    points.push({ percentile, ms: usToMs(percentileUs(histogram, percentile)) });
    percentile += step;
    // Past the resolution of the samples every further tick reads the max.
    if (((100 - percentile) / 100) * histogram.totalCount < 1) break;
    if (--remainingInHalf === 0) {
      step /= 2;
      remainingInHalf = ticksPerHalfDistance;
    }
  }
  points.push({ percentile: 100, ms: usToMs(histogram.maxValue) });
  return points;
}
