import type { RunResult, TaskId, TaskResult } from '../shared/result';
import { formatNumber, unitSuffix } from './criteria';

export interface ComparisonRow {
  task: TaskId;
  id: string;
  label: string;
  unit: string;
  baseline: number | null;
  current: number | null;
  /** current - baseline, when both were measured. */
  delta: number | null;
  /** Passed in the baseline and failed now. */
  regressed: boolean;
  /** Failed in the baseline and passes now. */
  fixed: boolean;
}

/** Criterion by criterion, the baseline run against the current one. */
export function compareRuns(baseline: RunResult, current: RunResult): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const [task, now] of Object.entries(current.tasks) as Array<[TaskId, TaskResult]>) {
    const before = baseline.tasks[task];
    for (const c of now.criteria) {
      const b = before?.criteria.find((x) => x.id === c.id);
      const baseValue = b?.actual ?? null;
      rows.push({
        task, id: c.id, label: c.label, unit: c.unit,
        baseline: baseValue, current: c.actual,
        delta: baseValue !== null && c.actual !== null ? c.actual - baseValue : null,
        regressed: b?.passed === true && c.passed === false,
        fixed: b?.passed === false && c.passed === true,
      });
    }
  }
  return rows;
}

export function formatComparison(baseline: RunResult, current: RunResult, rows: ComparisonRow[]): string {
  const v = (x: number | null, unit: string): string => (x === null ? '–' : `${formatNumber(x)}${unitSuffix(unit)}`);
  const table = rows.map((r) => {
    const pct = r.delta !== null && r.baseline ? ` (${r.delta >= 0 ? '+' : ''}${formatNumber((r.delta / r.baseline) * 100)}%)` : '';
    const flag = r.regressed ? '  REGRESSED' : r.fixed ? '  fixed' : '';
    return [r.id, v(r.baseline, r.unit), v(r.current, r.unit), r.delta === null ? '–' : `${r.delta >= 0 ? '+' : ''}${formatNumber(r.delta)}${pct}`, flag];
  });
  const header = ['criterion', `baseline ${baseline.runId}`, `current ${current.runId}`, 'change', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const regressions = rows.filter((r) => r.regressed).length;
  return [line(header), ...table.map(line), '', regressions ? `${regressions} criteria regressed.` : 'No criterion regressed.'].join('\n');
}
