import type { Comparator, CriterionResult, LatencySummary, TaskId } from '../shared/result';

/**
 * The acceptance criteria of Phase 3, in one table. Each reads its actual value from a task's
 * metrics; a value the run did not measure (null) leaves the criterion unevaluated. Targets are
 * in the criterion's unit, and `thresholds` in the config override them by id.
 */
export interface CriterionDef {
  id: string;
  task: TaskId;
  label: string;
  comparator: Comparator;
  target: number;
  unit: string;
  measure(metrics: Metrics): number | null;
}

type Metrics = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const field = (m: Metrics, key: string): unknown => m[key];
const latency = (m: Metrics, key: string, pick: keyof LatencySummary): number | null => {
  const summary = m[key];
  if (!summary || typeof summary !== 'object') return null;
  return num((summary as Record<string, unknown>)[pick]);
};
const percent = (v: unknown): number | null => {
  const fraction = num(v);
  return fraction === null ? null : fraction * 100;
};
/** In rate mode the latency users feel is the one corrected for coordinated omission. */
const apiLatency = (m: Metrics, pick: keyof LatencySummary): number | null =>
  m.correctedLatencyMs ? latency(m, 'correctedLatencyMs', pick) : latency(m, 'latencyMs', pick);
const flag = (v: unknown): number | null => (typeof v === 'boolean' ? (v ? 1 : 0) : null);

export const CRITERIA: readonly CriterionDef[] = [
  { id: 'api.p95', task: 'api', label: 'P95 latency', comparator: '<', target: 100, unit: 'ms',
    measure: (m) => apiLatency(m, 'p95') },
  { id: 'api.p99', task: 'api', label: 'P99 latency', comparator: '<', target: 200, unit: 'ms',
    measure: (m) => apiLatency(m, 'p99') },
  { id: 'api.concurrency', task: 'api', label: 'Concurrent connections', comparator: '>=', target: 100, unit: 'connections',
    measure: (m) => num(field(m, 'connections')) },
  { id: 'api.errorRate', task: 'api', label: 'Error rate', comparator: '<', target: 0.1, unit: '%',
    measure: (m) => percent(field(m, 'errorRate')) },
  { id: 'api.timeouts', task: 'api', label: 'Timeouts', comparator: '==', target: 0, unit: 'requests',
    measure: (m) => num(field(m, 'timeouts')) },

  { id: 'usage-buffer.avgLatency', task: 'usage-buffer', label: 'Average upsert latency', comparator: '<', target: 5, unit: 'ms',
    measure: (m) => latency(m, 'latencyMs', 'mean') },
  { id: 'usage-buffer.p99', task: 'usage-buffer', label: 'P99 upsert latency', comparator: '<', target: 10, unit: 'ms',
    measure: (m) => latency(m, 'latencyMs', 'p99') },
  { id: 'usage-buffer.successRate', task: 'usage-buffer', label: 'Success rate', comparator: '>=', target: 100, unit: '%',
    measure: (m) => percent(field(m, 'successRate')) },
  { id: 'usage-buffer.lostUpdates', task: 'usage-buffer', label: 'Lost updates', comparator: '==', target: 0, unit: 'updates',
    measure: (m) => num(field(m, 'lostUpdates')) },
  { id: 'usage-buffer.atomicUpserts', task: 'usage-buffer', label: 'Atomic upserts under concurrency (hot key lost updates)', comparator: '==', target: 0, unit: 'updates',
    measure: (m) => num(field(m, 'hotKeyLostUpdates')) },
  { id: 'usage-buffer.script', task: 'usage-buffer', label: 'Test script failures', comparator: '==', target: 0, unit: 'runs',
    measure: (m) => num(field(m, 'scriptFailures')) },

  { id: 'db.readP99', task: 'db', label: 'P99 read latency', comparator: '<', target: 10, unit: 'ms',
    measure: (m) => num(field(m, 'serverReadP99Ms')) ?? latency(m, 'readLatencyMs', 'p99') },
  { id: 'db.writeP99', task: 'db', label: 'P99 write latency', comparator: '<', target: 20, unit: 'ms',
    measure: (m) => num(field(m, 'serverWriteP99Ms')) ?? latency(m, 'writeLatencyMs', 'p99') },
  { id: 'db.cpu', task: 'db', label: 'CPU usage', comparator: '<', target: 70, unit: '%',
    measure: (m) => worst(m, 'cpuPercent') },
  { id: 'db.memory', task: 'db', label: 'Memory usage', comparator: '<', target: 80, unit: '%',
    measure: (m) => worst(m, 'memoryPercent') },
  { id: 'db.disk', task: 'db', label: 'Disk usage', comparator: '<', target: 75, unit: '%',
    measure: (m) => num(field(m, 'diskPercent')) },
  { id: 'db.queryTimeouts', task: 'db', label: 'Query timeouts', comparator: '==', target: 0, unit: 'queries',
    measure: (m) => num(field(m, 'queryTimeouts')) },

  { id: 'users.concurrency', task: 'users', label: 'Peak concurrent users', comparator: '>=', target: 100, unit: 'users',
    measure: (m) => num(field(m, 'peakUsers')) },
  { id: 'users.errorRate', task: 'users', label: 'Error rate', comparator: '<', target: 0.1, unit: '%',
    measure: (m) => percent(field(m, 'errorRate')) },
  { id: 'users.timeouts', task: 'users', label: 'Timeouts', comparator: '==', target: 0, unit: 'requests',
    measure: (m) => num(field(m, 'timeouts')) },
  { id: 'users.degradation', task: 'users', label: 'Degradation detected', comparator: '==', target: 0, unit: '',
    measure: (m) => {
      const d = field(m, 'degradation');
      return d && typeof d === 'object' ? flag((d as Record<string, unknown>).detected) : null;
    } },
];

/** `{max}` of a `{avg,max}` figure: resource criteria judge the worst moment. */
function worst(m: Metrics, key: string): number | null {
  const v = m[key];
  return v && typeof v === 'object' ? num((v as Record<string, unknown>).max) : null;
}

export const CRITERION_IDS: readonly string[] = CRITERIA.map((c) => c.id);

export function criteriaFor(task: TaskId): CriterionDef[] {
  return CRITERIA.filter((c) => c.task === task);
}

export function compare(actual: number, comparator: Comparator, target: number): boolean {
  switch (comparator) {
    case '<': return actual < target;
    case '<=': return actual <= target;
    case '>': return actual > target;
    case '>=': return actual >= target;
    case '==': return actual === target;
  }
}

/** Rounds for display and comparison alike, so a shown `100.0 ms < 100 ms` can never pass. */
const roundActual = (v: number): number => Math.round(v * 1000) / 1000;

export function evaluateCriteria(
  task: TaskId,
  metrics: Metrics,
  thresholds: Readonly<Record<string, number>> = {},
  notMeasured: Readonly<Record<string, string>> = {},
): CriterionResult[] {
  return criteriaFor(task).flatMap((def): CriterionResult[] => {
    const target = thresholds[def.id] ?? def.target;
    const raw = def.measure(metrics);
    const base = { id: def.id, label: def.label, comparator: def.comparator, target, unit: def.unit };
    if (raw === null) {
      const note = notMeasured[def.id];
      // A criterion this task does not measure at all in this mode is absent; one it meant to
      // measure but could not is present with passed: null and the reason.
      return note ? [{ ...base, actual: null, passed: null, note }] : [];
    }
    const actual = roundActual(raw);
    return [{ ...base, actual, passed: compare(actual, def.comparator, target) }];
  });
}

/** How a comparator reads in text. */
export const SYMBOLS: Record<Comparator, string> = { '<': '<', '<=': '≤', '>': '>', '>=': '≥', '==': '=' };

/** Units shown beside a figure: counts read better bare (`Timeouts 0 (target 0)`). */
export function unitSuffix(unit: string): string {
  return unit === '%' ? '%' : unit === 'ms' || unit === 's' ? ` ${unit}` : '';
}

/** `P95 latency 42.5 ms < 100 ms`, `Timeouts 3 (target 0)`, `Error rate not measured (< 0.1%)`. */
export function formatCriterion(c: CriterionResult): string {
  const u = unitSuffix(c.unit);
  if (c.actual === null) return `${c.label} not measured (target ${SYMBOLS[c.comparator]} ${formatNumber(c.target)}${u})`;
  if (c.comparator === '==') return `${c.label} ${formatNumber(c.actual)}${u} (target ${formatNumber(c.target)}${u})`;
  return `${c.label} ${formatNumber(c.actual)}${u} ${SYMBOLS[c.comparator]} ${formatNumber(c.target)}${u}`;
}

/** 4 significant figures at most, no trailing zeros: 72, 42.5, 0.03, 1234.5. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  const fixed = abs >= 100 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return String(Number(fixed));
}
