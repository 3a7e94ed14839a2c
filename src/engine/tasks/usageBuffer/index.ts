/**
 * The `usage-buffer` task: N atomic upserts into the user's usage-buffer table at concurrency C,
 * then an exact integrity check over this run's keys (SQL mode), optionally racing a flusher;
 * and/or the user's own test script run many times (script mode).
 */
import type { TaskResult } from '../../../shared/result';
import { evaluateCriteria } from '../../criteria';
import type { TaskContext } from '../api';
import { runScriptPhase, prepareScript, type ScriptPhaseResult } from './script';
import { runSqlPhase, type SqlPhaseResult } from './sqlMode';
import type { UsageBufferMetrics, UsageBufferOptions } from './types';
import { validateOptions } from './validate';
import { LoadStop } from '../loadStop';

export type {
  FlushMetrics,
  HotKeyMetrics,
  IntegrityMetrics,
  QuantityTotals,
  ScriptFigures,
  UsageBufferFlush,
  UsageBufferMetrics,
  UsageBufferOptions,
  UsageBufferScript,
  UsageBufferTable,
} from './types';
export { DEFAULT_TABLE } from './types';

export async function runUsageBufferTask(options: UsageBufferOptions, ctx: TaskContext): Promise<TaskResult> {
  // Bad input throws InputError here, before anything is sent or run.
  validateOptions(options);
  const patterns = options.script ? prepareScript(options.script) : null;
  const startedAt = new Date().toISOString();

  const stop = new LoadStop(ctx.signal, options.maxDurationS);

  let sql: SqlPhaseResult | null = null;
  let script: ScriptPhaseResult | null = null;
  try {
    const dbUrl = options.dbUrl;
    if (dbUrl !== undefined) sql = await runSqlPhase({ ...options, dbUrl }, ctx.emit, stop.signal);
    if (options.script && patterns && !stop.signal.aborted) {
      script = await runScriptPhase(options.script, patterns, { PHASE3_RUN_ID: options.runId }, ctx.emit, stop.signal);
    }
  } finally {
    stop.dispose();
  }

  const metrics: UsageBufferMetrics = { ...sql?.metrics, ...script?.metrics };
  const notes = [...(sql?.notes ?? []), ...(script?.notes ?? [])];
  if (stop.hitTimeBound) notes.push(`stopped at the time bound of ${options.maxDurationS} s`);
  if (options.script && !script) notes.push('the test script did not run: the task was stopped first');

  const result: TaskResult = {
    status: 'passed',
    metrics: metrics as unknown as Record<string, unknown>,
    criteria: [],
    series: sql?.series ?? [],
    histogram: sql?.histogram,
    startedAt,
    finishedAt: new Date().toISOString(),
    notes: notes.length ? notes : undefined,
  };

  const notMeasured: Record<string, string> = {};
  if (sql?.error) {
    notMeasured['usage-buffer.lostUpdates'] = sql.error;
    notMeasured['usage-buffer.atomicUpserts'] = sql.error;
  }
  if (options.script && !script) notMeasured['usage-buffer.script'] = 'the test script did not run';
  result.criteria = evaluateCriteria('usage-buffer', metrics as unknown as Record<string, unknown>, ctx.thresholds, notMeasured);

  const ranSomething = (metrics.operations ?? 0) > 0 || (metrics.scriptRuns ?? 0) > 0;
  if (ctx.signal.aborted) {
    result.status = 'cancelled';
  } else if (sql?.error) {
    result.status = 'error';
    result.error = sql.error;
  } else if (!ranSomething) {
    result.status = 'error';
    result.error = 'no increment was sent and no script run finished';
  } else {
    const criterionFailed = result.criteria.some((c) => c.passed === false);
    // No criterion reads phantom updates, but the check is "both 0": extra increments fail it.
    const phantom = (metrics.phantomUpdates ?? 0) > 0;
    result.status = criterionFailed || phantom ? 'failed' : 'passed';
  }
  return result;
}
