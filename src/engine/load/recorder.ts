import type { LatencySummary, LoadIntervalPoint, LoadOutcomeMetrics } from '../../shared/result';
import {
  createHistogram,
  encodeHistogram,
  mergeEncoded,
  percentileMs,
  recordMs,
  summarize,
  type LatencyHistogram,
} from '../histogram';

/** How one request ended. Exactly one outcome per attempted request, so the counts add up. */
export type Outcome = 'ok' | 'non2xx' | 'graphqlError' | 'timeout' | 'connectionError';

export interface LoadCounts {
  requests: number;
  succeeded: number;
  non2xx: number;
  graphqlErrors: number;
  timeouts: number;
  connectionErrors: number;
}

export interface IntervalSnapshot {
  point: LoadIntervalPoint;
  /** This interval's latency histogram, encoded to cross threads. */
  histogram: string;
  correctedHistogram?: string;
}

/**
 * What one recorder measured since it last handed over, encoded to cross threads: the users
 * task's load workers each record into their own recorder and hand a part to the coordinating
 * recorder every sample (takePart on one side, absorb on the other).
 */
export interface RecorderPart {
  counts: LoadCounts;
  histogram: string;
  correctedHistogram?: string;
  statusCodes: Record<string, number>;
  /** How long before the hand-over the last outcome was counted; null if none ever was. */
  lastOutcomeAgoMs: number | null;
}

const emptyCounts = (): LoadCounts => ({
  requests: 0, succeeded: 0, non2xx: 0, graphqlErrors: 0, timeouts: 0, connectionErrors: 0,
});

const errorsOf = (c: LoadCounts): number => c.non2xx + c.graphqlErrors + c.timeouts + c.connectionErrors;

/**
 * Counts outcomes and records latencies into one histogram per interval; each interval is merged
 * into the total when it closes. Latency is recorded for every response that came back (2xx or
 * not), never for timeouts or connection errors, which have no response time.
 */
export class LoadRecorder {
  private readonly total = emptyCounts();
  private interval = emptyCounts();
  private readonly totalHistogram = createHistogram();
  private intervalHistogram = createHistogram();
  private readonly totalCorrected: LatencyHistogram | null;
  private intervalCorrected: LatencyHistogram | null;
  private readonly statusCodes = new Map<number, number>();
  private readonly startedAt: number;
  private lastIntervalAt: number;
  private lastOutcomeAt: number;

  constructor(private readonly options: { corrected: boolean; now?: () => number }) {
    this.totalCorrected = options.corrected ? createHistogram() : null;
    this.intervalCorrected = options.corrected ? createHistogram() : null;
    this.startedAt = this.now();
    this.lastIntervalAt = this.startedAt;
    this.lastOutcomeAt = this.startedAt;
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  /** A response came back. `correctedMs` is measured from the intended send time (rate mode). */
  response(statusCode: number, latencyMs: number, hasGraphqlErrors: boolean, correctedMs?: number): void {
    this.statusCodes.set(statusCode, (this.statusCodes.get(statusCode) ?? 0) + 1);
    const outcome: Outcome = statusCode < 200 || statusCode > 299 ? 'non2xx' : hasGraphqlErrors ? 'graphqlError' : 'ok';
    this.count(outcome);
    recordMs(this.intervalHistogram, latencyMs);
    if (this.intervalCorrected && correctedMs !== undefined) recordMs(this.intervalCorrected, correctedMs);
  }

  timeout(correctedMs?: number): void {
    this.count('timeout');
    // A user who waited until the timeout felt at least that long: the corrected view keeps it.
    if (this.intervalCorrected && correctedMs !== undefined) recordMs(this.intervalCorrected, correctedMs);
  }

  connectionError(): void {
    this.count('connectionError');
  }

  private count(outcome: Outcome): void {
    this.lastOutcomeAt = this.now();
    // Two explicit updates: this runs once per response, tens of thousands of times a second.
    this.total.requests++;
    this.interval.requests++;
    switch (outcome) {
      case 'ok': this.total.succeeded++; this.interval.succeeded++; break;
      case 'non2xx': this.total.non2xx++; this.interval.non2xx++; break;
      case 'graphqlError': this.total.graphqlErrors++; this.interval.graphqlErrors++; break;
      case 'timeout': this.total.timeouts++; this.interval.timeouts++; break;
      case 'connectionError': this.total.connectionErrors++; this.interval.connectionErrors++; break;
    }
  }

  /** Closes the current interval: merges it into the total and returns it for the series. */
  closeInterval(extra: Partial<LoadIntervalPoint> = {}): IntervalSnapshot {
    const now = this.now();
    const seconds = Math.max((now - this.lastIntervalAt) / 1000, 1e-3);
    const counts = this.interval;
    const point: LoadIntervalPoint = {
      t: Math.round(((now - this.startedAt) / 1000) * 1000) / 1000,
      requests: counts.requests,
      errors: errorsOf(counts),
      timeouts: counts.timeouts,
      rps: Math.round((counts.requests / seconds) * 10) / 10,
      p50: percentileMs(this.intervalHistogram, 50),
      p95: percentileMs(this.intervalHistogram, 95),
      p99: percentileMs(this.intervalHistogram, 99),
      ...extra,
    };
    const snapshot: IntervalSnapshot = { point, histogram: encodeHistogram(this.intervalHistogram) };
    this.totalHistogram.add(this.intervalHistogram);
    this.intervalHistogram.reset();
    if (this.intervalCorrected && this.totalCorrected) {
      point.correctedP99 = percentileMs(this.intervalCorrected, 99);
      snapshot.correctedHistogram = encodeHistogram(this.intervalCorrected);
      this.totalCorrected.add(this.intervalCorrected);
      this.intervalCorrected.reset();
    }
    this.interval = emptyCounts();
    this.lastIntervalAt = now;
    return snapshot;
  }

  /**
   * Hands the current interval over (see RecorderPart) and starts a new one. A recorder used this
   * way is a feeder: its totals are not read, another recorder's absorb() gets everything.
   */
  takePart(): RecorderPart {
    // An empty interval sends no histograms: absorb() merges only parts that counted requests.
    const any = this.interval.requests > 0;
    const part: RecorderPart = {
      counts: this.interval,
      histogram: any ? encodeHistogram(this.intervalHistogram) : '',
      statusCodes: this.statusCodeCounts(),
      lastOutcomeAgoMs: this.total.requests ? this.now() - this.lastOutcomeAt : null,
    };
    this.statusCodes.clear();
    this.intervalHistogram.reset();
    if (this.intervalCorrected) {
      if (any) part.correctedHistogram = encodeHistogram(this.intervalCorrected);
      this.intervalCorrected.reset();
    }
    this.interval = emptyCounts();
    return part;
  }

  /** Adds another recorder's part (takePart) into the current interval, as if counted here. */
  absorb(part: RecorderPart): void {
    for (const key of Object.keys(part.counts) as Array<keyof LoadCounts>) {
      this.total[key] += part.counts[key];
      this.interval[key] += part.counts[key];
    }
    if (part.counts.requests) mergeEncoded(this.intervalHistogram, part.histogram);
    if (this.intervalCorrected && part.correctedHistogram && part.counts.requests) mergeEncoded(this.intervalCorrected, part.correctedHistogram);
    for (const [code, n] of Object.entries(part.statusCodes)) this.statusCodes.set(Number(code), (this.statusCodes.get(Number(code)) ?? 0) + n);
    if (part.lastOutcomeAgoMs !== null) this.lastOutcomeAt = Math.max(this.lastOutcomeAt, this.now() - part.lastOutcomeAgoMs);
  }

  /** True when nothing happened since the last interval closed. */
  get intervalIsEmpty(): boolean {
    return this.interval.requests === 0;
  }

  get counts(): Readonly<LoadCounts> {
    return this.total;
  }

  get errors(): number {
    return errorsOf(this.total);
  }

  get elapsedS(): number {
    return (this.now() - this.startedAt) / 1000;
  }

  /** Seconds from the start to the last request's outcome: the span throughput is over. */
  get activeS(): number {
    return (this.lastOutcomeAt - this.startedAt) / 1000;
  }

  /** The outcome counts, error rate and throughput, as every load task reports them. */
  outcomeMetrics(): LoadOutcomeMetrics {
    const c = this.total;
    const activeS = this.activeS;
    return {
      requests: c.requests,
      succeeded: c.succeeded,
      errors: this.errors,
      errorRate: c.requests ? this.errors / c.requests : 0,
      timeouts: c.timeouts,
      non2xx: c.non2xx,
      graphqlErrors: c.graphqlErrors,
      connectionErrors: c.connectionErrors,
      throughputRps: activeS > 0 ? Math.round((c.requests / activeS) * 10) / 10 : 0,
    };
  }

  latency(): LatencySummary | null {
    return summarize(this.totalHistogram);
  }

  correctedLatency(): LatencySummary | null {
    return this.totalCorrected ? summarize(this.totalCorrected) : null;
  }

  encodedTotal(): string {
    return encodeHistogram(this.totalHistogram);
  }

  encodedCorrectedTotal(): string | undefined {
    return this.totalCorrected ? encodeHistogram(this.totalCorrected) : undefined;
  }

  statusCodeCounts(): Record<string, number> {
    return Object.fromEntries([...this.statusCodes.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
  }

  destroy(): void {
    for (const h of [this.totalHistogram, this.intervalHistogram, this.totalCorrected, this.intervalCorrected]) h?.destroy();
  }
}

/**
 * True when a GraphQL response body carries a non-empty `errors` array. Most bodies have no
 * `"errors"` key at all, so the JSON parse is only paid for the ones that might.
 */
export function hasGraphqlErrors(body: string): boolean {
  if (body.indexOf('"errors"') === -1) return false;
  try {
    const parsed: unknown = JSON.parse(body);
    if (!parsed || typeof parsed !== 'object') return false;
    const errors = (parsed as { errors?: unknown }).errors;
    return Array.isArray(errors) && errors.length > 0;
  } catch {
    return false;
  }
}
