/**
 * The commented phase3.config.json that "Phase 3: Create Config" writes. Comments are allowed:
 * the config is read as JSON with comments, by the CLI and the extension alike.
 */
export function configTemplate(url: string): string {
  return `{
  // Phase 3 Perf checks this file against its schema as you edit (completion, hovers, errors).

  // The GraphQL endpoint under test. Load goes only to this machine unless allowRemote is true.
  "target": {
    "url": ${JSON.stringify(url)},
    // Sent as the Authorization header, read from this environment variable (or VS Code's
    // secret storage, asked for once). Never put the token itself in this file.
    // "authorizationEnv": "PHASE3_API_TOKEN",
    "headers": {}
  },

  // What each request sends: a body file (like ab -p query.json) or an inline query.
  "request": {
    "query": "{ __typename }"
    // "bodyFile": "query.json"
  },

  // The database (PostgreSQL or YugabyteDB YSQL). PHASE3_DB_URL overrides it.
  // "database": { "url": "postgres://yugabyte@127.0.0.1:5433/yugabyte", "passwordEnv": "PHASE3_DB_PASSWORD" },

  // The API load test: ab -n 1000 -c 100.
  "api": {
    "requests": 1000,
    "connections": 100,
    "timeoutMs": 10000
    // "durationS": 60,   // run for a time instead of a count
    // "rate": 500        // open model: constant arrivals per second
  },

  // The concurrent-users soak, k6-style stages: ramp to the peak, hold it (degradation is judged
  // on the flat stage), ramp down. Each user waits thinkTimeMs between an answer and its next
  // request; 0 makes it a stress test.
  "users": {
    "stages": "1m:100,5m:100,1m:0",
    "thinkTimeMs": 1000
    // "workers": 2   // load threads; by default they adapt to the load, up to the cores
  },

  // Acceptance targets, by criterion id, in the criterion's unit (ms, %, count).
  "thresholds": {
    "api.p95": 100,
    "api.p99": 200,
    "api.concurrency": 100,
    "api.errorRate": 0.1,
    "api.timeouts": 0
  }
}
`;
}
