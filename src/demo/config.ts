import type { Phase3Config } from '../engine/config';

/**
 * The short form of each task that `phase3 demo` runs (the whole suite in minutes). The API
 * query reads from the database, as the user's API does; full-length runs are for real targets.
 */
export function demoConfig(graphqlUrl: string): Phase3Config {
  return {
    target: { url: graphqlUrl },
    request: { query: 'query Users($limit: Int) { users(limit: $limit) { id name } }', variables: { limit: 10 }, operationName: 'Users' },
    // 2 s of warm-up, then 8 s measured: p99 of a 2-second run would mostly measure start-up.
    api: { durationS: 8, warmupS: 2, connections: 100, timeoutMs: 10_000 },
    // The seed's own check: 1000 increments; the demo's "UsageBuffer" has the user's real shape.
    usageBuffer: { operations: 1000, concurrency: 10 },
    // Alone, a 10 s probe run; in the suite it runs alongside the load tasks until they finish.
    db: { durationS: 10 },
    // The soak's short form: up to 100 users in 5 s, 20 s flat (10 intervals to judge
    // degradation on), 5 s down: half a minute instead of 5-10.
    users: { stages: '5s:100,20s:100,5s:0', thinkTimeMs: 500, intervalMs: 2000, healthEveryMs: 2000 },
  };
}
