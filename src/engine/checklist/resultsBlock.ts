import type { CriterionResult, RunResult, TaskId, TaskResult } from '../../shared/result';
import { formatNumber, SYMBOLS, unitSuffix } from '../criteria';
import { redactUrl } from '../redact';
import { TASK_TITLES } from '../tasks/catalog';
import { BLOCK_END, BLOCK_START } from './parse';

/**
 * The results block at the end of the Phase 3 section: what the run was, every criterion against
 * its target, each task's key figures and the performance issues found. Everything in it comes
 * from the run, nothing from the clock, so the same run always gives the same block.
 */


/**
 * A task note that says the load sent fell short of what was asked (the generator, its
 * connection limit or the server held it back): the figures may understate the target's limits.
 */
const LOAD_LIMITED = /generator|held it back|fell short|saturat|client[- ]side/i;

type Metrics = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Metrics | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Metrics) : null);

/** One line of free text that can sit in a table cell or list item without ending the block. */
function inline(text: string): string {
  return text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]]+/gi, (url) => redactUrl(url))
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/<!--/g, '<!- -')
    .replace(/-->/g, '- ->')
    .trim();
}

const cell = (text: string): string => inline(text).replace(/\|/g, '\\|');

const figure = (v: number, unit: string): string => `${formatNumber(v)}${unitSuffix(unit)}`;

function measured(c: CriterionResult): string {
  if (c.actual === null) return `not measured${c.note ? ` (${c.note})` : ''}`;
  return figure(c.actual, c.unit);
}

const target = (c: CriterionResult): string => `${SYMBOLS[c.comparator]} ${figure(c.target, c.unit)}`;

const verdict = (c: CriterionResult): string => (c.passed === null ? '–' : c.passed ? '✓ pass' : '✗ **fail**');

function tasksOf(run: RunResult): Array<[TaskId, TaskResult]> {
  return Object.entries(run.tasks).filter((e): e is [TaskId, TaskResult] => !!e[1]);
}

function latencyFigures(m: Metrics, key: string, picks: Array<['p50' | 'p95' | 'p99' | 'mean' | 'max', string]>): string | null {
  const summary = obj(m[key]);
  if (!summary) return null;
  const parts = picks.flatMap(([k, label]) => {
    const v = num(summary[k]);
    return v === null ? [] : [`${label} ${formatNumber(v)} ms`];
  });
  return parts.length ? parts.join(', ') : null;
}

/** `label value` for each present figure, in order. */
function figures(parts: Array<string | null>): string {
  return parts.filter((p): p is string => !!p).join(', ');
}

const count = (m: Metrics, key: string, label: string): string | null => {
  const v = num(m[key]);
  return v === null ? null : `${formatNumber(v)} ${label}`;
};
const rate = (m: Metrics, key: string, label: string): string | null => {
  const v = num(m[key]);
  return v === null ? null : `${label} ${formatNumber(v * 100)}%`;
};
const avgMax = (m: Metrics, key: string, label: string): string | null => {
  const v = obj(m[key]);
  if (!v) return null;
  const avg = num(v.avg);
  const max = num(v.max);
  if (avg === null && max === null) return null;
  return `${label} ${[avg === null ? null : `avg ${formatNumber(avg)}%`, max === null ? null : `max ${formatNumber(max)}%`].filter(Boolean).join(' / ')}`;
};

function keyMetrics(id: TaskId, m: Metrics): string {
  switch (id) {
    case 'api':
      return figures([
        count(m, 'requests', 'requests'), count(m, 'errors', 'errors'), rate(m, 'errorRate', 'error rate'),
        count(m, 'timeouts', 'timeouts'), count(m, 'connections', 'connections'), count(m, 'throughputRps', 'req/s'),
        latencyFigures(m, 'latencyMs', [['p50', 'P50'], ['p95', 'P95'], ['p99', 'P99'], ['max', 'max']]),
        m.correctedLatencyMs ? `corrected ${latencyFigures(m, 'correctedLatencyMs', [['p95', 'P95'], ['p99', 'P99']]) ?? '–'}` : null,
      ]);
    case 'usage-buffer':
      return figures([
        count(m, 'operations', 'operations'), count(m, 'succeeded', 'succeeded'), count(m, 'failed', 'failed'),
        count(m, 'retries', 'retries'), rate(m, 'successRate', 'success rate'), count(m, 'lostUpdates', 'lost updates'),
        count(m, 'phantomUpdates', 'phantom updates'),
        latencyFigures(m, 'latencyMs', [['mean', 'average'], ['p95', 'P95'], ['p99', 'P99'], ['max', 'max']]),
      ]);
    case 'db':
      return figures([
        latencyFigures(m, 'readLatencyMs', [['p50', 'read P50'], ['p99', 'read P99']]),
        latencyFigures(m, 'writeLatencyMs', [['p50', 'write P50'], ['p99', 'write P99']]),
        avgMax(m, 'cpuPercent', 'CPU'), avgMax(m, 'memoryPercent', 'memory'),
        num(m.diskPercent) === null ? null : `disk ${formatNumber(num(m.diskPercent) ?? 0)}%`,
        count(m, 'queryTimeouts', 'query timeouts'), count(m, 'opsPerSec', 'ops/s'),
      ]);
    case 'users': {
      const degradation = obj(m.degradation);
      return figures([
        count(m, 'peakUsers', 'peak users'), num(m.durationS) === null ? null : `${formatNumber(num(m.durationS) ?? 0)} s`,
        latencyFigures(m, 'latencyMs', [['p50', 'P50'], ['p95', 'P95'], ['p99', 'P99']]),
        rate(m, 'errorRate', 'error rate'), count(m, 'timeouts', 'timeouts'),
        degradation && typeof degradation.detected === 'boolean' ? `degradation ${degradation.detected ? 'detected' : 'none'}` : null,
      ]);
    }
  }
}

/** The details of a detected degradation, whatever the users task put beside `detected`. */
function degradationDetails(d: Metrics): string {
  const parts = Object.entries(d).flatMap(([k, v]) => {
    if (k === 'detected') return [];
    if (typeof v === 'number' && Number.isFinite(v)) return [`${k} ${formatNumber(v)}`];
    if (typeof v === 'string' && v) return [`${k}: ${v}`];
    return [];
  });
  return parts.length ? ` (${inline(parts.join(', '))})` : '';
}

function issuesOf(run: RunResult): string[] {
  const issues: string[] = [];
  for (const [id, task] of tasksOf(run)) {
    const title = TASK_TITLES[id] ?? id;
    if (task.status === 'error' || task.status === 'cancelled') {
      issues.push(`${title}: ${task.status === 'error' ? 'errored' : 'cancelled'}${task.error ? ` – ${inline(task.error)}` : ''}`);
    }
    const degradation = id === 'users' ? obj(task.metrics.degradation) : null;
    const degraded = degradation?.detected === true;
    for (const c of task.criteria) {
      if (c.passed !== false || (degraded && c.id === 'users.degradation')) continue;
      issues.push(`${title}: ${c.label} ${measured(c)}, target ${target(c)} (\`${c.id}\`)`);
    }
    if (degraded && degradation) issues.push(`${title}: performance degraded over the run${degradationDetails(degradation)}`);
    for (const note of task.notes ?? []) {
      if (LOAD_LIMITED.test(note)) issues.push(`${title}: the load was limited, so the figures may understate the target's limits – ${inline(note)}`);
    }
  }
  return issues;
}

export function renderResultsBlock(run: RunResult, eol: string): string {
  const tasks = tasksOf(run);
  const criteria = tasks.flatMap(([, t]) => t.criteria);
  const failed = criteria.filter((c) => c.passed === false).length;
  const measuredCount = criteria.filter((c) => c.passed !== null).length;
  const url = run.target.url ? redactUrl(run.target.url) : '–';
  const db = run.target.db ? `; database ${redactUrl(run.target.db)}` : '';
  const lines: string[] = [
    BLOCK_START,
    `**Phase 3 results** (written by ${inline(run.tool.name)}; replaced on the next write, so add notes above this block)`,
    '',
    `- Run: \`${inline(run.runId)}\``,
    `- Date: ${inline(run.startedAt)} (finished ${inline(run.finishedAt)})`,
    `- Target: ${inline(url)}${inline(db)}${run.demo ? ' (embedded demo target)' : ''}`,
    `- Tool: ${inline(run.tool.name)} ${inline(run.tool.version)}`,
    `- Verdict: ${measuredCount === 0 ? 'no criterion measured' : failed ? `${failed} of ${measuredCount} measured criteria failed` : `all ${measuredCount} measured criteria passed`}`,
    '',
  ];
  if (criteria.length) {
    lines.push('| Task | Criterion | Measured | Target | Result |', '| --- | --- | --- | --- | --- |');
    for (const [id, task] of tasks) {
      for (const c of task.criteria) lines.push(`| ${cell(TASK_TITLES[id] ?? id)} | ${cell(c.label)} | ${cell(measured(c))} | ${cell(target(c))} | ${verdict(c)} |`);
    }
    lines.push('');
  }
  if (tasks.length) {
    lines.push('**Key metrics**', '');
    for (const [id, task] of tasks) {
      const figs = keyMetrics(id, task.metrics);
      lines.push(`- ${TASK_TITLES[id] ?? id} (${task.status}): ${figs || 'no figures recorded'}`);
      for (const note of task.notes ?? []) lines.push(`  - note: ${inline(note)}`);
    }
    lines.push('');
  }
  const issues = issuesOf(run);
  lines.push('**Performance issues found**', '');
  if (issues.length) lines.push(...issues.map((i) => `- ${i}`));
  else lines.push(tasks.length ? '- None: every measured criterion passed.' : '- None: no task ran.');
  lines.push(BLOCK_END);
  return lines.join(eol);
}

/** The run id a results block names, to say which run it replaced. */
export function blockRunId(block: string): string | null {
  return /^- Run: `([^`]*)`/m.exec(block)?.[1] ?? null;
}
