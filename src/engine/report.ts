import type { CriterionResult, LatencySummary, RunResult, TaskId, TaskResult } from '../shared/result';
import { formatCriterion, formatNumber, unitSuffix } from './criteria';
import { TASK_TITLES } from './tasks/catalog';

const PERCENTILES: Array<[keyof LatencySummary, string]> = [
  ['mean', 'mean'], ['p50', 'p50'], ['p90', 'p90'], ['p95', 'p95'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max'],
];

const mark = (c: CriterionResult): string => (c.passed === null ? '–' : c.passed ? '✓' : '✗');
const ms = (v: number): string => (v >= 100 ? v.toFixed(1) : v >= 10 ? v.toFixed(2) : v.toFixed(3));

function latencyOf(metrics: Record<string, unknown>, key: string): LatencySummary | null {
  const v = metrics[key];
  return v && typeof v === 'object' && 'p50' in v ? (v as LatencySummary) : null;
}

function percentileTable(rows: Array<[string, LatencySummary]>): string[] {
  const header = ['latency (ms)', ...PERCENTILES.map(([, label]) => label)];
  const body = rows.map(([name, s]) => [name, ...PERCENTILES.map(([k]) => ms(s[k]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...body.map(line)];
}

function apiSummary(m: Record<string, unknown>): string[] {
  const n = (k: string): number => (typeof m[k] === 'number' ? (m[k] as number) : 0);
  const lines = [
    `requests ${n('requests')}  ok ${n('succeeded')}  errors ${n('errors')} (${formatNumber(n('errorRate') * 100)}%): ` +
      `non-2xx ${n('non2xx')}, GraphQL errors ${n('graphqlErrors')}, timeouts ${n('timeouts')}, connection errors ${n('connectionErrors')}`,
    `${n('throughputRps')} req/s over ${n('durationS')} s on ${n('connections')} connections` +
      (m.mode === 'rate' ? ` (open model, ${m.targetRps} req/s asked, ${n('unsent')} unsent)` : ''),
  ];
  const codes = m.statusCodes as Record<string, number> | undefined;
  if (codes && Object.keys(codes).length) lines.push(`status codes: ${Object.entries(codes).map(([k, v]) => `${k}×${v}`).join(', ')}`);
  return lines;
}

function usageBufferSummary(m: Record<string, unknown>): string[] {
  const n = (k: string): string => (typeof m[k] === 'number' ? formatNumber(m[k] as number) : '–');
  const lines: string[] = [];
  if (typeof m.operations === 'number') {
    lines.push(
      `operations ${n('operations')}  ok ${n('succeeded')}  failed ${n('failed')}  unknown outcome ${n('unknownOutcome')}  timeouts ${n('timeouts')}  retries ${n('retries')}` +
        `  (${n('throughputOps')} ops/s, concurrency ${n('concurrency')}, ${n('keys')} keys + 1 hot key)`,
      `integrity: lost updates ${n('lostUpdates')}, phantom updates ${n('phantomUpdates')}, hot key lost ${n('hotKeyLostUpdates')}` +
        (m.rowsRemoved === false ? " (this run's rows kept)" : ''),
    );
  }
  const flush = m.flush as { mode?: string; conserved?: boolean; cycles?: number; rowsFlushed?: number } | undefined;
  if (flush) lines.push(`flush race (${flush.mode}): ${flush.conserved ? 'sent = flushed + remaining' : 'increments LOST between read and delete'} over ${flush.cycles} cycles, ${flush.rowsFlushed} rows flushed`);
  if (typeof m.scriptRuns === 'number') lines.push(`test script: ${n('scriptRuns')} runs, ${n('scriptFailures')} failed, ${n('scriptTimeouts')} timed out`);
  return lines;
}

function usersSummary(m: Record<string, unknown>): string[] {
  const n = (k: string): string => (typeof m[k] === 'number' ? formatNumber(m[k] as number) : '–');
  const lines = [
    `peak users ${n('peakUsers')} over ${n('durationS')} s: requests ${n('requests')}, errors ${n('errors')} (${formatNumber(Number(m.errorRate ?? 0) * 100)}%), timeouts ${n('timeouts')}`,
  ];
  const d = m.degradation as { detected?: boolean; reason?: string } | undefined;
  if (d) lines.push(`degradation: ${d.detected ? 'DETECTED' : 'none'}${d.reason ? ` (${d.reason})` : ''}`);
  const h = m.health as { checks?: number; failures?: number } | undefined;
  if (h) lines.push(`health: ${h.checks} checks, ${h.failures} failed`);
  const g = m.generator as { limited?: boolean; eventLoopP99Ms?: number; cpuPercent?: number; workers?: number; maxWorkers?: number; busiestPercent?: number } | undefined;
  if (g) {
    const threads = g.workers !== undefined ? `${g.workers} load thread${g.workers === 1 ? '' : 's'} (at most ${g.maxWorkers}), busiest ${formatNumber(g.busiestPercent ?? 0)}%, ` : '';
    lines.push(`generator: ${threads}event-loop p99 ${formatNumber(g.eventLoopP99Ms ?? 0)} ms, CPU ${formatNumber(g.cpuPercent ?? 0)}%${g.limited ? ' (LIMITED: the figures are the generator\'s limit, not the server\'s)' : ''}`);
  }
  return lines;
}

function dbSummary(m: Record<string, unknown>): string[] {
  const n = (k: string): string => (typeof m[k] === 'number' ? formatNumber(m[k] as number) : '–');
  const lines = [`probes: ${n('reads')} reads, ${n('writes')} writes, ${n('errors')} errors, ${n('queryTimeouts')} query timeouts (${n('opsPerSec')} ops/s)`];
  const rows: Array<[string, LatencySummary | null]> = [['reads', latencyOf(m, 'readLatencyMs')], ['writes', latencyOf(m, 'writeLatencyMs')]];
  const present = rows.filter((r): r is [string, LatencySummary] => r[1] !== null);
  if (present.length) lines.push('', ...percentileTable(present));
  const sources = (m.sources as Array<{ figure: string; source: string }> | undefined) ?? [];
  if (sources.length) lines.push('', ...sources.map((s) => `${s.figure}: ${s.source}`));
  for (const u of (m.unreachable as Array<{ url: string; error: string }> | undefined) ?? []) lines.push(`unreachable: ${u.url} (${u.error})`);
  return lines;
}

/** The human-readable report the CLI prints: per task, figures, percentiles and criteria. */
export function formatTextReport(run: RunResult, extra: { savedTo?: string; notImplemented?: TaskId[] } = {}): string {
  const out: string[] = [`Phase 3 run ${run.runId}  (${run.target.url ?? 'no API target'}${run.demo ? ', demo target' : ''})`, ''];
  for (const [id, task] of Object.entries(run.tasks) as Array<[TaskId, TaskResult]>) {
    out.push(`${TASK_TITLES[id]} [${id}]: ${task.status.toUpperCase()}${task.error ? ` – ${task.error}` : ''}`);
    if (id === 'api') out.push(...apiSummary(task.metrics).map((l) => `  ${l}`));
    if (id === 'users') out.push(...usersSummary(task.metrics).map((l) => `  ${l}`));
    if (id === 'usage-buffer') out.push(...usageBufferSummary(task.metrics).map((l) => `  ${l}`));
    if (id === 'db') out.push(...dbSummary(task.metrics).map((l) => (l ? `  ${l}` : l)));
    const rows: Array<[string, LatencySummary]> = [];
    const raw = latencyOf(task.metrics, 'latencyMs');
    const corrected = latencyOf(task.metrics, 'correctedLatencyMs');
    if (raw) rows.push([corrected ? 'raw (service time)' : 'latency', raw]);
    if (corrected) rows.push(['corrected (from intended send)', corrected]);
    if (rows.length) out.push('', ...percentileTable(rows).map((l) => `  ${l}`));
    if (task.criteria.length) {
      out.push('');
      for (const c of task.criteria) out.push(`  ${mark(c)} ${formatCriterion(c)}${c.note ? ` (${c.note})` : ''}`);
    }
    for (const note of task.notes ?? []) out.push(`  note: ${note}`);
    out.push('');
  }
  for (const id of extra.notImplemented ?? []) out.push(`${TASK_TITLES[id]} [${id}]: not implemented yet`);
  if (extra.notImplemented?.length) out.push('');
  const failed = Object.values(run.tasks).flatMap((t) => t?.criteria.filter((c) => c.passed === false) ?? []);
  out.push(failed.length ? `${failed.length} ${failed.length === 1 ? 'criterion' : 'criteria'} failed.` : Object.keys(run.tasks).length ? 'Every measured criterion passed.' : 'No task ran.');
  if (extra.savedTo) out.push(`Result saved to ${extra.savedTo}`);
  return out.join('\n');
}

/** A Markdown report: one table of every criterion against its target, then the figures. */
export function formatMarkdownReport(run: RunResult): string {
  const out = [`# Phase 3 run ${run.runId}`, '', `- Started: ${run.startedAt}`, `- Target: ${run.target.url ?? '–'}${run.target.db ? `, database ${run.target.db}` : ''}`, `- Tool: ${run.tool.name} ${run.tool.version}`, ''];
  out.push('| Task | Criterion | Actual | Target | Result |', '| --- | --- | --- | --- | --- |');
  for (const [id, task] of Object.entries(run.tasks) as Array<[TaskId, TaskResult]>) {
    for (const c of task.criteria) {
      const unit = unitSuffix(c.unit);
      out.push(`| ${id} | ${c.label} | ${c.actual === null ? 'not measured' : formatNumber(c.actual) + unit} | ${c.comparator} ${formatNumber(c.target)}${unit} | ${c.passed === null ? '–' : c.passed ? 'pass' : '**fail**'} |`);
    }
  }
  for (const [id, task] of Object.entries(run.tasks) as Array<[TaskId, TaskResult]>) {
    out.push('', `## ${TASK_TITLES[id]} (${task.status})`, '');
    if (task.error) out.push(`Error: ${task.error}`, '');
    const raw = latencyOf(task.metrics, 'latencyMs');
    if (raw) {
      out.push('| ' + PERCENTILES.map(([, l]) => l).join(' | ') + ' |', '|' + ' --- |'.repeat(PERCENTILES.length));
      out.push('| ' + PERCENTILES.map(([k]) => ms(raw[k])).join(' | ') + ' | (ms)');
    }
    for (const note of task.notes ?? []) out.push(`- ${note}`);
  }
  return out.join('\n') + '\n';
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: a test suite per task, a test case per criterion, for CI dashboards. */
export function formatJunitReport(run: RunResult): string {
  const suites = (Object.entries(run.tasks) as Array<[TaskId, TaskResult]>).map(([id, task]) => {
    const cases = task.criteria.map((c) => {
      const name = xml(`${c.id}: ${formatCriterion(c)}`);
      if (c.passed === null) return `    <testcase classname="phase3.${id}" name="${name}"><skipped message="${xml(c.note ?? 'not measured')}"/></testcase>`;
      if (c.passed) return `    <testcase classname="phase3.${id}" name="${name}"/>`;
      return `    <testcase classname="phase3.${id}" name="${name}"><failure message="${xml(formatCriterion(c))}"/></testcase>`;
    });
    if (task.status === 'error' || task.status === 'cancelled') {
      cases.push(`    <testcase classname="phase3.${id}" name="${id} completed"><error message="${xml(task.error ?? task.status)}"/></testcase>`);
    }
    const failures = task.criteria.filter((c) => c.passed === false).length;
    const skipped = task.criteria.filter((c) => c.passed === null).length;
    const errors = task.status === 'error' || task.status === 'cancelled' ? 1 : 0;
    return `  <testsuite name="phase3.${id}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" timestamp="${task.startedAt}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="phase3 ${xml(run.runId)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
