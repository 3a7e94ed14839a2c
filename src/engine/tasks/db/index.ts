/**
 * The `db` task: client probes through pg (always), YugabyteDB server metrics and node_exporter
 * scraped right before and right after the probe window, and the local PostgreSQL's process tree
 * sampled from /proc. Every figure says where it came from; one no source gave is absent and its
 * criterion is reported not measured, with the reason.
 */
import { randomBytes } from 'node:crypto';
import type { CriterionResult, TaskResult } from '../../../shared/result';
import { evaluateCriteria } from '../../criteria';
import { InputError } from '../../errors';
import type { TaskContext } from '../api';
import { LoadStop } from '../loadStop';
import { nodeExporterFigures, ybNodeFigures, type NodeOutcome } from './compute';
import { ProcessSampler } from './procfs';
import { Probes, type ProbeOutcome } from './probes';
import { metricsEndpoint, scrape, type ScrapeOutcome } from './scrape';
import { DB_DEFAULTS, type AvgMax, type DbMetrics, type DbNodeFigures, type DbOptions, type FigureSource } from './types';

export { type DbMetrics, type DbNodeFigures, type DbOptions, type FigureSource } from './types';

const RUN_ID = /^[A-Za-z0-9.:-]{1,64}$/;

function validate(o: DbOptions): void {
  const problems: string[] = [];
  if (!(o.durationS > 0)) problems.push('db: durationS must be > 0');
  if (!(o.maxDurationS > 0)) problems.push('db: maxDurationS must be > 0');
  if (!(o.intervalMs > 0)) problems.push('db: intervalMs must be > 0');
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) problems.push('db: concurrency must be a whole number ≥ 1');
  if (!(o.readRate >= 0) || !(o.writeRate >= 0)) problems.push('db: readRate and writeRate must be ≥ 0');
  if (o.readRate + o.writeRate <= 0) problems.push('db: readRate + writeRate must be > 0');
  if (o.cores !== undefined && !(o.cores > 0)) problems.push('db: cores must be > 0');
  if (o.runId !== undefined && !RUN_ID.test(o.runId)) problems.push('db: runId may hold letters, digits, ".", ":" and "-" only (1–64)');
  if (problems.length) throw new InputError(problems);
}

interface Figure {
  avg: number;
  max: number;
  source: string;
}

function worstOf(figures: Figure[]): AvgMax | undefined {
  if (!figures.length) return undefined;
  const r2 = (v: number): number => Math.round(v * 100) / 100;
  return { avg: r2(Math.max(...figures.map((f) => f.avg))), max: r2(Math.max(...figures.map((f) => f.max))) };
}

/** Loopback hosts may always be scraped; others only when the user allowed it. */
const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

/** The tserver metrics URLs of the nodes `yb_servers()` names; a note says what was found or why not. */
export async function discoverNodes(o: DbOptions, probes: Probes, notes: string[]): Promise<string[]> {
  const hosts = await probes.ybServers();
  if (hosts === null) {
    notes.push('no yb_servers() on this database (not YugabyteDB): server metrics only from metricsUrls');
    return [];
  }
  const port = o.tserverMetricsPort ?? 9000;
  const allowed = hosts.filter((h) => o.allowRemoteMetrics || isLoopback(h));
  const skipped = hosts.filter((h) => !allowed.includes(h));
  if (skipped.length) notes.push(`yb_servers() names ${skipped.join(', ')}, not on this machine: not scraped (allow remote targets to scrape them)`);
  notes.push(`nodes from yb_servers(): ${allowed.map((h) => `${h}:${port}`).join(', ') || 'none scraped'}`);
  return allowed.map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`);
}

export async function runDbTask(options: DbOptions, ctx: TaskContext): Promise<TaskResult> {
  const o: DbOptions = { ...options };
  validate(o);
  const startedAt = new Date().toISOString();
  const runId = o.runId ?? randomBytes(4).toString('hex');
  const cores = o.cores ?? DB_DEFAULTS.cores;
  const mountpoint = o.diskMountpoint ?? DB_DEFAULTS.diskMountpoint;
  const scrapeTimeoutMs = o.scrapeTimeoutMs ?? DB_DEFAULTS.scrapeTimeoutMs;
  const log = (level: 'info' | 'warn', message: string): void => ctx.emit({ type: 'log', task: 'db', level, message });
  const notes: string[] = [];

  const probes = await Probes.open(o, runId);
  const stop = new LoadStop(ctx.signal, o.maxDurationS, ctx.finish);
  const metricsUrls = o.metricsUrls.length || o.discoverNodes === false ? o.metricsUrls : await discoverNodes(o, probes, notes);
  const yb = metricsUrls.map((u) => metricsEndpoint(u, '/prometheus-metrics'));
  const ne = o.nodeExporterUrls.map((u) => metricsEndpoint(u, '/metrics'));
  const unreachable: Array<{ url: string; error: string }> = [];
  const nodeOutcomes: NodeOutcome[] = [];
  let sampler: ProcessSampler | null = null;
  let outcome: ProbeOutcome;
  try {
    const scrapeAll = (urls: string[]): Promise<ScrapeOutcome[]> => Promise.all(urls.map((u) => scrape(u, scrapeTimeoutMs, ctx.signal)));
    // Right before the probes: with reset_histograms (the default) this scrape starts the window.
    const [ybBefore, neBefore] = await Promise.all([scrapeAll(yb), scrapeAll(ne)]);
    for (const s of [...ybBefore, ...neBefore]) {
      if (!s.ok) {
        unreachable.push({ url: s.url, error: s.error });
        log('warn', `metrics ${s.url} unreachable (${s.error}): going on with the other sources`);
      }
    }
    if (o.localPid !== undefined) {
      sampler = new ProcessSampler(o.localPid, o.intervalMs);
      if (!sampler.found) notes.push(`local process ${o.localPid} not found in /proc: no local CPU or memory figures`);
    }
    log('info', `probing ${o.readRate} reads/s and ${probes.probeTable ? o.writeRate : 0} writes/s on ${o.concurrency} connections for ${o.durationS} s`);
    const latest = (values: number[]): number | null => (values.length ? Math.round(values[values.length - 1] * 100) / 100 : null);
    const resources = sampler ? (): { cpuPercent: number | null; memoryPercent: number | null } => ({ cpuPercent: latest(sampler?.cpu ?? []), memoryPercent: latest(sampler?.memory ?? []) }) : undefined;
    outcome = await probes.run(stop.signal, ctx.emit, resources);
    sampler?.stop();

    if (!ctx.signal.aborted) {
      const again = (before: ScrapeOutcome[], urls: string[]): Promise<Array<ScrapeOutcome | null>> =>
        Promise.all(urls.map((u, i) => (before[i].ok ? scrape(u, scrapeTimeoutMs) : Promise.resolve(null))));
      const [ybAfter, neAfter] = await Promise.all([again(ybBefore, yb), again(neBefore, ne)]);
      type Answered = Extract<ScrapeOutcome, { ok: true }>;
      // Each source's figures come from its two scrapes; a source that answered only once is unreachable.
      const pairUp = (before: ScrapeOutcome[], after: Array<ScrapeOutcome | null>, figures: (b: Answered, a: Answered) => NodeOutcome[]): void =>
        after.forEach((a, i) => {
          const b = before[i];
          if (!a || !b.ok) return;
          if (a.ok) nodeOutcomes.push(...figures(b, a));
          else unreachable.push({ url: a.url, error: `second scrape: ${a.error}` });
        });
      pairUp(ybBefore, ybAfter, (b, a) => ybNodeFigures(b.scrape, a.scrape, cores, a.format === 'json' ? 'yb-json' : 'yb-tserver'));
      pairUp(neBefore, neAfter, (b, a) => [nodeExporterFigures(b.scrape, a.scrape, mountpoint)]);
    }
  } finally {
    sampler?.stop();
    stop.dispose();
    await probes.close();
  }
  notes.push(...probes.notes);
  for (const n of nodeOutcomes) notes.push(...n.notes);

  // ------------------------------------------------------------------ figures and their sources
  const sources: FigureSource[] = [];
  const nodes: DbNodeFigures[] = nodeOutcomes.map((n) => n.figures);
  const ybNodes = nodes.filter((n) => n.kind !== 'node-exporter');
  const metrics: DbMetrics = {
    queryTimeouts: outcome.queryTimeouts,
    reads: outcome.reads,
    writes: outcome.writes,
    errors: outcome.errors,
    opsPerSec: outcome.opsPerSec,
    sources,
    probeTable: probes.probeTable,
  };
  const probeSource = `client probes through pg (${o.concurrency} connections, statement_timeout ${o.statementTimeoutMs} ms)`;
  if (outcome.readLatencyMs) {
    metrics.readLatencyMs = outcome.readLatencyMs;
    sources.push({ figure: 'readLatencyMs', source: `${probeSource}: ${outcome.reads} reads, ${o.readSql ? 'configured readSql' : probes.probeTable ? `primary-key SELECT on ${probes.probeTable}` : 'SELECT 1'}` });
  }
  if (outcome.writeLatencyMs) {
    metrics.writeLatencyMs = outcome.writeLatencyMs;
    sources.push({ figure: 'writeLatencyMs', source: `${probeSource}: ${outcome.writes} upserts into ${probes.probeTable}` });
  }
  sources.push({ figure: 'queryTimeouts', source: `${probeSource}: SQLSTATE 57014 and "Timed out" errors` });
  sources.push({ figure: 'opsPerSec', source: `${probeSource}: completed probes per second` });

  const worstNode = (key: 'readP99Ms' | 'writeP99Ms'): DbNodeFigures | undefined =>
    ybNodes.filter((n) => n[key] !== undefined).sort((a, b) => (b[key] as number) - (a[key] as number))[0];
  for (const [key, metric, rpc] of [['readP99Ms', 'serverReadP99Ms', 'Read'], ['writeP99Ms', 'serverWriteP99Ms', 'Write']] as const) {
    const w = worstNode(key);
    if (!w) continue;
    metrics[metric] = w[key];
    const count = ybNodes.filter((n) => n[key] !== undefined).length;
    sources.push({ figure: metric, source: `yb-tserver handler_latency_yb_tserver_TabletServerService_${rpc}{quantile="p99"}, worst of ${count} node(s): ${w.node} (window ${w.windowS} s)` });
  }
  const opsNodes = ybNodes.filter((n) => n.opsPerSec !== undefined);
  if (opsNodes.length) {
    metrics.serverOpsPerSec = Math.round(opsNodes.reduce((s, n) => s + (n.opsPerSec as number), 0) * 10) / 10;
    sources.push({ figure: 'serverOpsPerSec', source: `YugabyteDB _count deltas summed over ${opsNodes.length} node(s)` });
  }
  const rpcNodes = ybNodes.filter((n) => n.rpcsTimedOutInQueue !== undefined);
  if (rpcNodes.length) {
    metrics.serverRpcsTimedOut = rpcNodes.reduce((s, n) => s + (n.rpcsTimedOutInQueue as number), 0);
    sources.push({ figure: 'serverRpcsTimedOut', source: `rpcs_timed_out_in_queue deltas over ${rpcNodes.length} node(s) (not added to queryTimeouts)` });
  }

  const cpu: Figure[] = [];
  const memory: Figure[] = [];
  for (const n of nodes) {
    const how = n.kind === 'node-exporter'
      ? { cpu: 'node_cpu_seconds_total idle deltas', memory: '1 − MemAvailable/MemTotal' }
      : { cpu: `Δ(cpu_utime+cpu_stime) / (Δt × ${cores} core${cores === 1 ? '' : 's'}${o.cores === undefined ? ', assumed: set cores' : ''})`, memory: `${n.kind === 'yb-json' ? '/metrics JSON' : 'prometheus'} mem_tracker_server or generic_heap_size / server_memory_hard_limit` };
    const kind = n.kind === 'node-exporter' ? 'node_exporter' : 'yb-tserver';
    if (n.cpuPercent !== undefined) cpu.push({ avg: n.cpuPercent, max: n.cpuPercent, source: `${kind} ${n.node}: ${how.cpu} over ${n.windowS} s` });
    if (n.memoryPercent !== undefined) memory.push({ avg: n.memoryPercent, max: n.memoryPercent, source: `${kind} ${n.node}: ${how.memory}` });
  }
  if (sampler && sampler.found) {
    const avg = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
    if (sampler.cpu.length) cpu.push({ avg: avg(sampler.cpu), max: Math.max(...sampler.cpu), source: sampler.description });
    memory.push({ avg: avg(sampler.memory), max: Math.max(...sampler.memory), source: sampler.description });
    if (sampler.lost) notes.push(`local process ${o.localPid} went away during the run`);
  }
  metrics.cpuPercent = worstOf(cpu);
  metrics.memoryPercent = worstOf(memory);
  for (const f of cpu) sources.push({ figure: 'cpuPercent', source: f.source });
  for (const f of memory) sources.push({ figure: 'memoryPercent', source: f.source });
  const diskNodes = nodes.filter((n) => n.diskPercent !== undefined);
  if (diskNodes.length) {
    metrics.diskPercent = Math.max(...diskNodes.map((n) => n.diskPercent as number));
    for (const n of diskNodes) sources.push({ figure: 'diskPercent', source: `node_exporter ${n.node}: 1 − node_filesystem_avail_bytes/size_bytes at ${mountpoint}` });
  }
  if (nodes.length) metrics.nodes = nodes;
  if (unreachable.length) metrics.unreachable = unreachable;
  if (ybNodes.length) notes.push('server p99s cover the time since the previous scrape of each node by anyone (reset_histograms): another scraper between this run\'s two scrapes shortens the window');
  if (ybNodes.some((n) => n.cpuPercent !== undefined) && o.cores === undefined) notes.push(`YugabyteDB CPU % assumes ${cores} core per node: set cores for the real count`);

  // ------------------------------------------------------------------ not measured, with reasons
  const unreachableText = unreachable.length ? `; unreachable: ${unreachable.map((u) => `${u.url} (${u.error})`).join(', ')}` : '';
  const notMeasured: Record<string, string> = {};
  if (metrics.serverReadP99Ms === undefined && !metrics.readLatencyMs) notMeasured['db.readP99'] = `no read probe completed (${o.readRate > 0 ? `${outcome.queryTimeouts} timed out, ${outcome.errors} failed` : 'readRate is 0'}) and no server Read p99${unreachableText}`;
  if (metrics.serverWriteP99Ms === undefined && !metrics.writeLatencyMs) notMeasured['db.writeP99'] = `no write probe completed (${!probes.probeTable ? 'no probe table' : o.writeRate > 0 ? `${outcome.queryTimeouts} timed out, ${outcome.errors} failed` : 'writeRate is 0'}) and no server Write p99${unreachableText}`;
  const resourceHelp = 'give metricsUrls (yb-tserver), nodeExporterUrls or localPid';
  if (!metrics.cpuPercent) notMeasured['db.cpu'] = `no CPU source answered: ${resourceHelp}${unreachableText}`;
  if (!metrics.memoryPercent) notMeasured['db.memory'] = `no memory source answered: ${resourceHelp}${unreachableText}`;
  if (metrics.diskPercent === undefined) notMeasured['db.disk'] = `disk usage comes from node_exporter only: give nodeExporterUrls${o.nodeExporterUrls.length ? ` (none reported a filesystem at ${mountpoint})` : ''}${unreachableText}`;

  const result: TaskResult = {
    status: 'passed',
    metrics: metrics as unknown as Record<string, unknown>,
    criteria: [],
    series: outcome.series,
    histogram: outcome.histogram,
    startedAt,
    finishedAt: new Date().toISOString(),
    notes: notes.length ? notes : undefined,
  };
  if (stop.hitTimeBound) notes.push(`stopped at the time bound of ${o.maxDurationS} s`);
  const attempted = outcome.reads + outcome.writes + outcome.queryTimeouts + outcome.errors;
  if (attempted === 0) {
    result.status = ctx.signal.aborted ? 'cancelled' : 'error';
    result.error = 'no probe completed';
    result.notes = notes.length ? notes : undefined;
    return result;
  }
  const criteria: CriterionResult[] = evaluateCriteria('db', metrics as unknown as Record<string, unknown>, ctx.thresholds, notMeasured);
  result.criteria = criteria;
  result.notes = notes.length ? notes : undefined;
  if (ctx.signal.aborted) result.status = 'cancelled';
  else result.status = criteria.some((c) => c.passed === false) ? 'failed' : 'passed';
  return result;
}

