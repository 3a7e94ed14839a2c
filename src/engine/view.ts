import type { RunView, TaskView } from '../shared/protocol';
import type { RunResult, TaskId, TaskResult } from '../shared/result';
import { CRITERIA } from './criteria';
import { decodeHistogram, percentileDistribution } from './histogram';

type Distribution = TaskView['distribution'];

function distributionOf(encoded: string | undefined): Distribution {
  if (!encoded) return [];
  const histogram = decodeHistogram(encoded);
  try {
    return percentileDistribution(histogram);
  } finally {
    histogram.destroy();
  }
}

/** The dashboard's view of a finished task: the result with its histograms decoded. */
export function toTaskView(task: TaskId, result: TaskResult): TaskView {
  const view: TaskView = {
    task,
    status: result.status,
    criteria: result.criteria,
    metrics: result.metrics,
    series: result.series,
    distribution: distributionOf(result.histogram),
  };
  if (result.error) view.error = result.error;
  if (result.correctedHistogram) view.correctedDistribution = distributionOf(result.correctedHistogram);
  if (result.notes?.length) view.notes = result.notes;
  return view;
}

/** Criterion targets by id, defaults overridden by the run's own thresholds, for threshold lines. */
export function criterionTargets(thresholds: Readonly<Record<string, number>> = {}): Record<string, number> {
  return Object.fromEntries(CRITERIA.map((c) => [c.id, thresholds[c.id] ?? c.target]));
}

export function toRunView(run: RunResult): RunView {
  const tasks: RunView['tasks'] = {};
  const targets = criterionTargets();
  for (const [id, result] of Object.entries(run.tasks) as Array<[TaskId, TaskResult]>) {
    tasks[id] = toTaskView(id, result);
    // The targets a run was judged by are in its criteria; they win over today's defaults.
    for (const c of result.criteria) targets[c.id] = c.target;
  }
  return { runId: run.runId, startedAt: run.startedAt, finishedAt: run.finishedAt, target: run.target, tasks, targets };
}

/** A run that has just begun: its tasks listed as running, nothing measured yet. */
export function startingRunView(runId: string, taskIds: readonly TaskId[], target: RunView['target'], thresholds: Readonly<Record<string, number>>): RunView {
  const tasks: RunView['tasks'] = {};
  for (const task of taskIds) tasks[task] = { task, status: 'running', criteria: [], metrics: {}, series: [], distribution: [] };
  return { runId, startedAt: new Date().toISOString(), finishedAt: null, target, tasks, targets: criterionTargets(thresholds) };
}
