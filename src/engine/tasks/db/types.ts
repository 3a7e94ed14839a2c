/**
 * The `db` task's options and metrics. Types and plain defaults only: the extension host imports
 * this file, so it loads nothing heavy (no pg, no histograms).
 */
import type { LatencySummary } from '../../../shared/result';

/** The `db` task's options, fully resolved (serializable: they cross into the worker). */
export interface DbOptions {
  /** PostgreSQL / YSQL URL the client probes connect to. */
  dbUrl: string;
  /** How long the probe workload runs. */
  durationS: number;
  /** Timed primary-key reads per second (0: no read probes). */
  readRate: number;
  /** Timed upserts per second into the probe table (0: no write probes). */
  writeRate: number;
  /** Probe connections (pool size); at most this many probes in flight. */
  concurrency: number;
  /**
   * Read probe SQL instead of the primary-key SELECT on the probe table. `$1`, when present, is
   * bound to a probe row's key.
   */
  readSql?: string;
  /** `SET statement_timeout` on every probe connection; a statement it cancels is a query timeout. */
  statementTimeoutMs: number;
  /** yb-tserver base URLs (`http://node:9000` → `/prometheus-metrics`) or full metrics URLs (`…/metrics` is JSON). */
  metricsUrls: string[];
  /**
   * With no metricsUrls: ask `yb_servers()` for the nodes and scrape `http://<host>:<port>`
   * (default 9000), loopback hosts only unless allowRemoteMetrics.
   */
  discoverNodes?: boolean;
  tserverMetricsPort?: number;
  allowRemoteMetrics?: boolean;
  /** Prometheus node_exporter URLs (`http://node:9100` → `/metrics`). */
  nodeExporterUrls: string[];
  /** CPU cores per YugabyteDB node, for `cpu_utime`+`cpu_stime` → %. Default 1 (said in `sources`). */
  cores?: number;
  /** Filesystem whose usage is the disk figure (node_exporter `mountpoint`). Default `/`. */
  diskMountpoint?: string;
  /** Pid of a PostgreSQL on this machine: CPU and memory of its process tree, sampled from /proc. */
  localPid?: number;
  /** Schema of the probe table `phase3_probe` (default: the connection's current schema). */
  probeSchema?: string;
  /** Names this run's probe rows (`phase3-<runId>-<n>`); default a random id. */
  runId?: string;
  /** Series interval. */
  intervalMs: number;
  /** Hard bound on the run's length. */
  maxDurationS: number;
  /** Timeout of each metrics scrape. */
  scrapeTimeoutMs?: number;
}

export const DB_DEFAULTS = {
  durationS: 30,
  readRate: 50,
  writeRate: 20,
  concurrency: 4,
  statementTimeoutMs: 5_000,
  metricsUrls: [] as string[],
  nodeExporterUrls: [] as string[],
  cores: 1,
  diskMountpoint: '/',
  intervalMs: 1_000,
  maxDurationS: 600,
  scrapeTimeoutMs: 5_000,
} as const;

export const PROBE_TABLE = 'phase3_probe';

/** Where one figure came from, e.g. `{ figure: 'cpuPercent', source: 'yb-tserver node-a:9000 …' }`. */
export interface FigureSource {
  figure: string;
  source: string;
}

export interface AvgMax {
  avg: number;
  max: number;
}

/** One node's figures from one metrics source (two scrapes around the run). */
export interface DbNodeFigures {
  node: string;
  url: string;
  kind: 'yb-tserver' | 'yb-json' | 'node-exporter';
  /** Seconds between the two scrapes the deltas are over. */
  windowS: number;
  readP99Ms?: number;
  writeP99Ms?: number;
  opsPerSec?: number;
  cpuPercent?: number;
  memoryPercent?: number;
  diskPercent?: number;
  rpcsTimedOutInQueue?: number;
}

export interface DbMetrics {
  /** Client probe latencies (absent when no read / write probe completed). */
  readLatencyMs?: LatencySummary;
  writeLatencyMs?: LatencySummary;
  /** Server p99 over the window, worst node (YugabyteDB tserver histograms). */
  serverReadP99Ms?: number;
  serverWriteP99Ms?: number;
  /** Worst source: avg is the highest per-source average, max the highest sample. */
  cpuPercent?: AvgMax;
  memoryPercent?: AvgMax;
  diskPercent?: number;
  /** Probe statements that timed out: SQLSTATE 57014 or a "Timed out" error. */
  queryTimeouts: number;
  reads: number;
  writes: number;
  /** Probe errors other than timeouts. */
  errors: number;
  /** Completed probe operations per second (client side). */
  opsPerSec: number;
  /** Server operations per second, summed over nodes (tserver Read+Write RPCs or YSQL statements). */
  serverOpsPerSec?: number;
  /** Σ `rpcs_timed_out_in_queue` deltas over nodes; reported beside queryTimeouts, not added to it. */
  serverRpcsTimedOut?: number;
  sources: FigureSource[];
  nodes?: DbNodeFigures[];
  /** Metrics URLs that could not be read, with the reason. */
  unreachable?: Array<{ url: string; error: string }>;
  /** The probe table used (`schema.phase3_probe`), or null when writes could not run. */
  probeTable: string | null;
}
