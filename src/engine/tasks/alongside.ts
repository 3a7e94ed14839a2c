import type { RunResult, TaskResult } from '../../shared/result';
import { evaluateCriteria } from '../criteria';

/**
 * The database check ran alongside the others: the query timeouts they saw on the same database
 * (the usage-buffer's statement and client timeouts) count against `db.queryTimeouts` too, as
 * the checklist's "No query timeouts" means the whole run, not only the probes.
 */
export function foldQueryTimeouts(db: TaskResult, others: RunResult['tasks'], thresholds: Readonly<Record<string, number>>): void {
  const usageBuffer = others['usage-buffer'];
  if (!usageBuffer) return;
  const seen = Number((usageBuffer.metrics as { timeouts?: number }).timeouts ?? 0);
  const probes = Number((db.metrics as { queryTimeouts?: number }).queryTimeouts ?? 0);
  if (!Number.isFinite(seen) || seen === 0) return;
  db.metrics = { ...db.metrics, queryTimeouts: probes + seen, probeQueryTimeouts: probes, otherTaskQueryTimeouts: { 'usage-buffer': seen } };
  db.notes = [...(db.notes ?? []), `query timeouts include ${seen} seen by the usage-buffer task on the same database`];
  const notMeasured = Object.fromEntries(db.criteria.filter((c) => c.passed === null && c.note).map((c) => [c.id, c.note as string]));
  db.criteria = evaluateCriteria('db', db.metrics, thresholds, notMeasured);
  db.status = statusOf(db);
}

function statusOf(task: TaskResult): TaskResult['status'] {
  if (task.status === 'cancelled' || task.status === 'error') return task.status;
  return task.criteria.some((c) => c.passed === false) ? 'failed' : 'passed';
}
