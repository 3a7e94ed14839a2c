import type { LoadIntervalPoint, TaskId, TaskResult } from '../../shared/result';
import { evaluateCriteria } from '../criteria';
import type { LoadRecorder } from './recorder';

export interface LoadTaskEnd {
  task: TaskId;
  metrics: object;
  series: LoadIntervalPoint[];
  startedAt: string;
  notes: string[];
  cancelled: boolean;
  thresholds: Readonly<Record<string, number>>;
  notMeasured?: Readonly<Record<string, string>>;
  /** A failure no criterion holds (failed health checks). */
  failedBeyondCriteria?: boolean;
}

/**
 * The result of an HTTP load task: its histograms encoded, its criteria evaluated, its status
 * (error when nothing completed, cancelled, failed or passed). Frees the recorder.
 */
export function loadTaskResult(recorder: LoadRecorder, end: LoadTaskEnd): TaskResult {
  const metrics = end.metrics as Record<string, unknown>;
  const result: TaskResult = {
    status: 'passed',
    metrics,
    criteria: [],
    series: end.series,
    histogram: recorder.encodedTotal(),
    correctedHistogram: recorder.encodedCorrectedTotal(),
    startedAt: end.startedAt,
    finishedAt: new Date().toISOString(),
    notes: end.notes.length ? end.notes : undefined,
  };
  const requests = recorder.counts.requests;
  recorder.destroy();
  if (requests === 0) {
    result.status = end.cancelled ? 'cancelled' : 'error';
    result.error = 'no request completed';
    return result;
  }
  result.criteria = evaluateCriteria(end.task, metrics, end.thresholds, end.notMeasured);
  if (end.cancelled) result.status = 'cancelled';
  else if (result.criteria.some((c) => c.passed === false) || end.failedBeyondCriteria) result.status = 'failed';
  return result;
}
