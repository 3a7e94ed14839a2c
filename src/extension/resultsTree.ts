import * as vscode from 'vscode';
import type { CriterionResult, TaskId, TaskResult, TaskStatus } from '../shared/result';
import { formatCriterion, formatNumber } from '../engine/criteria';
import { IMPLEMENTED_TASKS, TASK_TITLES } from '../engine/tasks/catalog';
import type { ResultsModel, RunEntry } from './resultsModel';
import { Disposable } from './lifecycle';

/** Tree nodes; `contextValue` drives the context menus in package.json. */
export type ResultNode =
  | { kind: 'task'; task: TaskId }
  | { kind: 'criterion'; criterion: CriterionResult }
  | { kind: 'metrics'; metrics: Record<string, unknown> }
  | { kind: 'metric'; label: string; value: string }
  | { kind: 'history' }
  | { kind: 'run'; entry: RunEntry }
  | { kind: 'runTask'; entry: RunEntry; task: TaskId };

export function timeAgo(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const STATUS_ICONS: Record<TaskStatus, vscode.ThemeIcon> = {
  passed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  error: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
};

const LATENCY_KEYS = ['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;

/** Metrics as label/value lines, whatever the task: numbers as they are, latency summaries by percentile. */
export function metricLines(metrics: Record<string, unknown>): Array<{ label: string; value: string }> {
  const lines: Array<{ label: string; value: string }> = [];
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value === 'number') {
      const shown = /Rate$/.test(key) ? `${formatNumber(value * 100)}%` : formatNumber(value);
      lines.push({ label: key, value: shown });
    } else if (typeof value === 'string' || typeof value === 'boolean') {
      lines.push({ label: key, value: String(value) });
    } else if (value && typeof value === 'object' && 'p50' in value) {
      const summary = value as Record<string, number>;
      const parts = LATENCY_KEYS.filter((k) => typeof summary[k] === 'number').map((k) => `${k === 'p999' ? 'p99.9' : k} ${formatNumber(summary[k])}`);
      lines.push({ label: key, value: `${parts.join(' · ')} ms` });
    }
  }
  return lines;
}

function criterionItem(c: CriterionResult): vscode.TreeItem {
  const mark = c.passed === null ? '–' : c.passed ? '✓' : '✗';
  const item = new vscode.TreeItem(`${mark} ${formatCriterion(c)}`);
  item.iconPath = c.passed === null ? new vscode.ThemeIcon('circle-outline') : c.passed ? STATUS_ICONS.passed : STATUS_ICONS.failed;
  item.tooltip = c.note ? `${c.id}: ${c.note}` : c.id;
  item.contextValue = 'criterion';
  return item;
}

function summary(result: TaskResult): string {
  const evaluated = result.criteria.filter((c) => c.passed !== null);
  const passed = evaluated.filter((c) => c.passed).length;
  return evaluated.length ? `${result.status} ${passed}/${evaluated.length}` : result.status;
}

/** Renders the results model; holds no state of its own. */
export class ResultsTreeProvider extends Disposable implements vscode.TreeDataProvider<ResultNode> {
  private readonly changed = this.register(new vscode.EventEmitter<ResultNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly model: ResultsModel, private readonly showTasks: () => boolean) {
    super();
    this.register(model.onDidChange(() => this.changed.fire(undefined)));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: ResultNode): ResultNode[] {
    if (!node) {
      // Empty means the welcome view (Create Config / Start Demo Target) shows instead.
      if (!this.showTasks() && this.model.history.length === 0 && !this.model.live) return [];
      const roots: ResultNode[] = IMPLEMENTED_TASKS.map((task) => ({ kind: 'task', task }));
      if (this.model.history.length) roots.push({ kind: 'history' });
      return roots;
    }
    switch (node.kind) {
      case 'task': {
        const live = this.model.live?.finished[node.task];
        const result = live ?? this.model.latest(node.task)?.result;
        return result ? this.resultChildren(result) : [];
      }
      case 'runTask': {
        const result = node.entry.run.tasks[node.task];
        return result ? this.resultChildren(result) : [];
      }
      case 'metrics':
        return metricLines(node.metrics).map((l) => ({ kind: 'metric', ...l }));
      case 'history':
        return this.model.history.map((entry) => ({ kind: 'run', entry }));
      case 'run':
        return (Object.keys(node.entry.run.tasks) as TaskId[]).map((task) => ({ kind: 'runTask', entry: node.entry, task }));
      case 'criterion':
      case 'metric':
        return [];
    }
  }

  private resultChildren(result: TaskResult): ResultNode[] {
    return [...result.criteria.map((criterion): ResultNode => ({ kind: 'criterion', criterion })), { kind: 'metrics', metrics: result.metrics }];
  }

  getTreeItem(node: ResultNode): vscode.TreeItem {
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    const Expanded = vscode.TreeItemCollapsibleState.Expanded;
    switch (node.kind) {
      case 'task': {
        const item = new vscode.TreeItem(TASK_TITLES[node.task], Expanded);
        item.id = `task:${node.task}`;
        item.contextValue = 'task';
        const live = this.model.live;
        if (live?.current?.task === node.task) {
          const p = live.current.last;
          item.iconPath = new vscode.ThemeIcon('loading~spin');
          item.description = p ? `running · ${live.current.requests} req · p99 ${p.p99 ?? '–'} ms` : 'starting…';
          item.collapsibleState = vscode.TreeItemCollapsibleState.None;
          return item;
        }
        const latest = live?.finished[node.task] ? { result: live.finished[node.task] as TaskResult, when: 'just now' } : null;
        const saved = this.model.latest(node.task);
        const shown = latest ?? (saved ? { result: saved.result, when: timeAgo(saved.result.finishedAt) } : null);
        if (!shown) {
          item.iconPath = new vscode.ThemeIcon('circle-large-outline');
          item.description = live?.tasks.includes(node.task) ? 'queued' : 'not run yet';
          item.collapsibleState = vscode.TreeItemCollapsibleState.None;
          return item;
        }
        // A new id per result: VS Code keeps a row's expanded state by id, and a row that was not
        // expandable while the task ran would otherwise come back collapsed, hiding the criteria.
        item.id = `task:${node.task}:${shown.result.finishedAt}`;
        item.iconPath = STATUS_ICONS[shown.result.status];
        item.description = `${summary(shown.result)} · ${shown.when}`;
        item.tooltip = shown.result.error ?? undefined;
        return item;
      }
      case 'criterion':
        return criterionItem(node.criterion);
      case 'metrics': {
        const item = new vscode.TreeItem('Metrics', Collapsed);
        item.iconPath = new vscode.ThemeIcon('graph');
        return item;
      }
      case 'metric': {
        const item = new vscode.TreeItem(node.label);
        item.description = node.value;
        return item;
      }
      case 'history': {
        const item = new vscode.TreeItem('History', Collapsed);
        item.id = 'history';
        item.iconPath = new vscode.ThemeIcon('history');
        return item;
      }
      case 'run': {
        const { run } = node.entry;
        const isBaseline = this.model.baselineRunId === run.runId;
        const item = new vscode.TreeItem(new Date(run.startedAt).toLocaleString(), Collapsed);
        item.id = `run:${run.runId}`;
        const statuses = Object.values(run.tasks).map((t) => t?.status);
        const status: TaskStatus = statuses.includes('error') ? 'error' : statuses.includes('cancelled') ? 'cancelled' : statuses.includes('failed') ? 'failed' : 'passed';
        item.iconPath = isBaseline ? new vscode.ThemeIcon('pinned') : STATUS_ICONS[status];
        item.description = `${Object.keys(run.tasks).join(', ')} · ${status}${isBaseline ? ' · baseline' : ''}${run.demo ? ' · demo' : ''}`;
        item.tooltip = `${run.runId}\n${run.target.url ?? ''}`;
        item.contextValue = isBaseline ? 'run.baseline' : 'run';
        return item;
      }
      case 'runTask': {
        const result = node.entry.run.tasks[node.task] as TaskResult;
        const item = new vscode.TreeItem(TASK_TITLES[node.task], Collapsed);
        item.iconPath = STATUS_ICONS[result.status];
        item.description = summary(result);
        return item;
      }
    }
  }
}
