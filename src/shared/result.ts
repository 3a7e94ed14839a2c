/**
 * The run result, schemaVersion 1: the contract of `.phase3/runs/<runId>.json` and `--json`.
 * Latencies are milliseconds (numbers), rates are fractions 0..1.
 */

export const TASK_IDS = ['api', 'usage-buffer', 'db', 'users'] as const;
export type TaskId = (typeof TASK_IDS)[number];

export type TaskStatus = 'passed' | 'failed' | 'error' | 'cancelled';

export interface LatencySummary {
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** How many samples the summary is over. */
  count: number;
}

export interface CriterionResult {
  id: string;
  label: string;
  /** The comparator and target, e.g. `<` 100. */
  comparator: Comparator;
  target: number;
  /** The measured value, or null when this run did not measure it. */
  actual: number | null;
  unit: string;
  /** null: not measured in this run, so not evaluated. */
  passed: boolean | null;
  /** Why it was not measured, when passed is null. */
  note?: string;
}

export type Comparator = '<' | '<=' | '>' | '>=' | '==';

/** One interval of a load task (default 1 s). */
export interface LoadIntervalPoint {
  /** Seconds since the task started, at the end of the interval. */
  t: number;
  requests: number;
  errors: number;
  timeouts: number;
  rps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Corrected for coordinated omission (rate mode only). */
  correctedP99?: number | null;
  activeConnections?: number;
  /** Database check: the database's CPU and memory use at the end of the interval, percent. */
  cpuPercent?: number | null;
  memoryPercent?: number | null;
}

/** How the requests of an HTTP load ended; the counts add up (requests = succeeded + errors). */
export interface LoadOutcomeMetrics {
  /** Requests attempted: responses + timeouts + connection errors. */
  requests: number;
  /** responses with a 2xx status and no GraphQL errors */
  succeeded: number;
  errors: number;
  errorRate: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  connectionErrors: number;
  throughputRps: number;
}

export interface ApiMetrics extends LoadOutcomeMetrics {
  connections: number;
  durationS: number;
  statusCodes: Record<string, number>;
  /** null when no response came back at all (every request failed to connect or timed out). */
  latencyMs: LatencySummary | null;
  /** Rate mode: latency measured from each request's intended send time. */
  correctedLatencyMs?: LatencySummary;
  mode: 'closed' | 'rate';
  /** Rate mode: the arrival rate asked for, and the one achieved. */
  targetRps?: number;
  /** Requests the schedule wanted to send but could not before the run ended. */
  unsent?: number;
}

export interface TaskResult {
  status: TaskStatus;
  error?: string;
  metrics: Record<string, unknown>;
  criteria: CriterionResult[];
  series: LoadIntervalPoint[];
  /** The total latency histogram, HdrHistogram compressed base64, microseconds. */
  histogram?: string;
  /** Rate mode: the corrected histogram. */
  correctedHistogram?: string;
  startedAt: string;
  finishedAt: string;
  notes?: string[];
}

export interface RunTarget {
  url: string | null;
  db: string | null;
}

export interface RunResult {
  schemaVersion: 1;
  tool: { name: string; version: string };
  runId: string;
  startedAt: string;
  finishedAt: string;
  target: RunTarget;
  /** Whether this run was against the embedded demo target. */
  demo?: boolean;
  tasks: Partial<Record<TaskId, TaskResult>>;
}
