/**
 * The usage-buffer task's per-operation overhead: its mean upsert latency against a bare `pg`
 * loop sending the same upsert on the same server at the same concurrency, alternated, in one run.
 */
import pg from 'pg';
import { startDemoTarget } from '../src/demo/target';
import { runUsageBufferTask } from '../src/engine/tasks/usageBuffer';
import { buildUpsertSql } from '../src/engine/tasks/usageBuffer/sql';
import { DEFAULT_TABLE, USAGE_BUFFER_DEFAULTS, type UsageBufferMetrics } from '../src/engine/tasks/usageBuffer/types';

export interface OverheadRound {
  oursMeanMs: number;
  bareMeanMs: number;
}

/** N upserts at concurrency C through a plain pool: the reference, with nothing of ours around it. */
async function bareLoop(dbUrl: string, operations: number, concurrency: number, prefix: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: concurrency });
  // An idle connection the server ends (the target stopping) must not take the bench down.
  pool.on('error', () => undefined);
  const sql = buildUpsertSql(DEFAULT_TABLE);
  let next = 0;
  let totalMs = 0;
  const worker = async (): Promise<void> => {
    while (next < operations) {
      const i = next++;
      const key = i % 4 === 0 ? `${prefix}-hot` : `${prefix}-${1 + Math.floor(Math.random() * 50)}`;
      const started = performance.now();
      // A named (prepared) statement, as the task sends it.
      await pool.query({ name: 'phase3-bench-upsert', text: sql, values: [key, 1, 1, 1] });
      totalMs += performance.now() - started;
    }
  };
  try {
    // Open every connection first, as the task does, so connecting is not counted as latency.
    const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
    clients.forEach((c) => c.release());
    await Promise.all(Array.from({ length: concurrency }, worker));
    await pool.query(`DELETE FROM "UsageBuffer" WHERE "userId" LIKE $1`, [`${prefix}-%`]);
  } finally {
    await pool.end();
  }
  return totalMs / operations;
}

export async function usageBufferOverhead(operations: number, concurrency: number, rounds: number): Promise<OverheadRound[]> {
  const target = await startDemoTarget();
  try {
    const results: OverheadRound[] = [];
    // Round 0 warms the server (plans, buffers) and is not reported.
    for (let round = 0; round <= rounds; round++) {
      const runId = `bench-${round}`;
      const ours = async (): Promise<number> => {
        const result = await runUsageBufferTask(
          {
            dbUrl: target.dbUrl, operations, concurrency, keys: 50, runId, table: DEFAULT_TABLE, keepRows: false,
            statementTimeoutMs: USAGE_BUFFER_DEFAULTS.statementTimeoutMs, clientTimeoutMs: USAGE_BUFFER_DEFAULTS.statementTimeoutMs + 1000,
            maxRetries: USAGE_BUFFER_DEFAULTS.maxRetries, intervalMs: 1000, maxDurationS: 300,
          },
          { emit: () => undefined, signal: new AbortController().signal, thresholds: {} },
        );
        return (result.metrics as UsageBufferMetrics).latencyMs?.mean ?? NaN;
      };
      const bare = (): Promise<number> => bareLoop(target.dbUrl, operations, concurrency, `phase3-bare-${round}`);
      // Alternate which goes first, so warming the server favours neither.
      const [a, b] = round % 2 === 0 ? [await ours(), await bare()] : [NaN, NaN];
      const [c, d] = round % 2 === 1 ? [await bare(), await ours()] : [NaN, NaN];
      if (round > 0) results.push(round % 2 === 0 ? { oursMeanMs: a, bareMeanMs: b } : { oursMeanMs: d, bareMeanMs: c });
    }
    return results;
  } finally {
    await target.stop();
  }
}
