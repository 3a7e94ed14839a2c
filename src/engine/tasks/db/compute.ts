/**
 * Figures from two scrapes of one metrics URL (before and after the run), per notes/yugabytedb.md.
 * Pure: the scrapes are parsed samples plus the wall-clock time each was taken.
 */
import type { Sample } from './prometheus';
import type { DbNodeFigures } from './types';

export interface Scrape {
  url: string;
  /** Wall-clock ms when the body arrived (used when the samples carry no timestamps). */
  atMs: number;
  samples: Sample[];
}

export interface NodeOutcome {
  figures: DbNodeFigures;
  /** Why a figure of this node is missing, when it is. */
  notes: string[];
}

const READ = 'handler_latency_yb_tserver_TabletServerService_Read';
const WRITE = 'handler_latency_yb_tserver_TabletServerService_Write';
const YSQL_STMTS = ['Select', 'Insert', 'Update', 'Delete'].map((s) => `handler_latency_yb_ysqlserver_SQLProcessor_${s}Stmt_count`);

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

function find(samples: readonly Sample[], name: string, quantile?: string): Sample | undefined {
  return samples.find((s) => s.name === name && (quantile === undefined || s.labels.quantile === quantile));
}

function val(samples: readonly Sample[], name: string, quantile?: string): number | undefined {
  const s = find(samples, name, quantile);
  return s && Number.isFinite(s.value) ? s.value : undefined;
}

/** The node a sample belongs to: `exported_instance` when the server labels it, else the URL's host. */
function nodeOf(sample: Sample, fallback: string): string {
  return sample.labels.exported_instance ?? sample.labels.instance ?? fallback;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Server-level samples (tablet and table entities are left out), grouped by node. */
function serverSamplesByNode(scrape: Scrape): Map<string, Sample[]> {
  const byNode = new Map<string, Sample[]>();
  const fallback = hostOf(scrape.url);
  for (const s of scrape.samples) {
    const type = s.labels.metric_type;
    if (type !== undefined && type !== 'server') continue;
    const node = nodeOf(s, fallback);
    const list = byNode.get(node);
    if (list) list.push(s);
    else byNode.set(node, [s]);
  }
  return byNode;
}

/** Seconds between two scrapes: the servers' own timestamps when both carry them, else arrival times. */
function windowMs(before: readonly Sample[], after: readonly Sample[], beforeAt: number, afterAt: number): number {
  const tb = before.find((s) => s.timestampMs !== undefined)?.timestampMs;
  const ta = after.find((s) => s.timestampMs !== undefined)?.timestampMs;
  if (tb !== undefined && ta !== undefined && ta > tb) return ta - tb;
  return Math.max(afterAt - beforeAt, 1);
}

function delta(before: readonly Sample[], after: readonly Sample[], names: readonly string[]): number | undefined {
  let sum = 0;
  let found = false;
  for (const name of names) {
    const a = val(after, name);
    const b = val(before, name);
    if (a === undefined || b === undefined) continue;
    sum += a - b;
    found = true;
  }
  return found ? sum : undefined;
}

/**
 * YugabyteDB tserver (or YSQL) figures per node from two scrapes. The p99s are the after scrape's
 * `quantile="p99"` (µs → ms): with reset_histograms they cover the time since the previous scrape
 * by anyone. CPU = Δ(cpu_utime + cpu_stime) ms / (Δt ms × cores).
 */
export function ybNodeFigures(before: Scrape, after: Scrape, cores: number, kind: 'yb-tserver' | 'yb-json'): NodeOutcome[] {
  const beforeByNode = serverSamplesByNode(before);
  const out: NodeOutcome[] = [];
  for (const [node, a] of serverSamplesByNode(after)) {
    const b = beforeByNode.get(node) ?? [];
    const notes: string[] = [];
    const dtMs = windowMs(b, a, before.atMs, after.atMs);
    const figures: DbNodeFigures = { node, url: after.url, kind, windowS: round(dtMs / 1000) };
    if (!b.length) notes.push(`${node}: not in the first scrape, no deltas`);

    for (const [name, key, label] of [[READ, 'readP99Ms', 'Read'], [WRITE, 'writeP99Ms', 'Write']] as const) {
      const p99 = val(a, name, 'p99');
      const moved = delta(b, a, [`${name}_count`]);
      if (p99 === undefined) continue;
      if (moved === 0) notes.push(`${node}: no ${label} RPCs in the window, its p99 is not used`);
      else figures[key] = round(p99 / 1000);
    }

    const ysql = delta(b, a, YSQL_STMTS);
    const rpcs = delta(b, a, [`${READ}_count`, `${WRITE}_count`]);
    const ops = ysql ?? rpcs;
    if (ops !== undefined) {
      if (ops < 0) notes.push(`${node}: operation counters went back (restart?), ops/s not used`);
      else figures.opsPerSec = round(ops / (dtMs / 1000), 1);
    }

    const cpuMs = delta(b, a, ['cpu_utime', 'cpu_stime']);
    if (cpuMs !== undefined && val(a, 'cpu_utime') !== undefined && val(a, 'cpu_stime') !== undefined) {
      if (cpuMs < 0) notes.push(`${node}: cpu counters went back (restart?), CPU not used`);
      else figures.cpuPercent = round((cpuMs / (dtMs * cores)) * 100, 2);
    }

    const used = val(a, 'mem_tracker_server') ?? val(a, 'generic_heap_size');
    const limit = val(a, 'server_memory_hard_limit');
    if (used !== undefined && limit !== undefined && limit > 0) figures.memoryPercent = round((used / limit) * 100, 2);

    const timedOut = delta(b, a, ['rpcs_timed_out_in_queue']);
    if (timedOut !== undefined) figures.rpcsTimedOutInQueue = Math.max(0, timedOut);
    out.push({ figures, notes });
  }
  return out;
}

/**
 * node_exporter figures from two scrapes: CPU busy = 1 − Δidle / Δall of `node_cpu_seconds_total`,
 * memory = 1 − MemAvailable / MemTotal, disk = 1 − avail / size of the mountpoint.
 */
export function nodeExporterFigures(before: Scrape, after: Scrape, mountpoint: string): NodeOutcome {
  const node = hostOf(after.url);
  const notes: string[] = [];
  const a = after.samples;
  const b = before.samples;
  const dtMs = windowMs(b, a, before.atMs, after.atMs);
  const figures: DbNodeFigures = { node, url: after.url, kind: 'node-exporter', windowS: round(dtMs / 1000) };

  const cpuTotals = (samples: readonly Sample[]): { idle: number; all: number; seen: boolean } => {
    let idle = 0;
    let all = 0;
    let seen = false;
    for (const s of samples) {
      if (s.name !== 'node_cpu_seconds_total' || !Number.isFinite(s.value)) continue;
      seen = true;
      all += s.value;
      if (s.labels.mode === 'idle') idle += s.value;
    }
    return { idle, all, seen };
  };
  const cb = cpuTotals(b);
  const ca = cpuTotals(a);
  if (cb.seen && ca.seen) {
    const dAll = ca.all - cb.all;
    const dIdle = ca.idle - cb.idle;
    if (dAll > 0 && dIdle >= 0) figures.cpuPercent = round((1 - dIdle / dAll) * 100, 2);
    else notes.push(`${node}: node_cpu_seconds_total did not move between the scrapes`);
  }

  const available = val(a, 'node_memory_MemAvailable_bytes');
  const total = val(a, 'node_memory_MemTotal_bytes');
  if (available !== undefined && total !== undefined && total > 0) figures.memoryPercent = round((1 - available / total) * 100, 2);

  const fs = (name: string): number | undefined =>
    a.find((s) => s.name === name && s.labels.mountpoint === mountpoint && Number.isFinite(s.value))?.value;
  const avail = fs('node_filesystem_avail_bytes');
  const size = fs('node_filesystem_size_bytes');
  if (avail !== undefined && size !== undefined && size > 0) figures.diskPercent = round((1 - avail / size) * 100, 2);
  else if (a.some((s) => s.name === 'node_filesystem_size_bytes')) notes.push(`${node}: no filesystem mounted at ${mountpoint}`);
  return { figures, notes };
}
