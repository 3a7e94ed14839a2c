/**
 * Turns the dashboard state into DOM: the header with its buttons, then one section per task
 * with its charts and criteria. Elements are kept between renders and updated, so the charts
 * (canvases) survive; everything else is cheap to rebuild.
 */
import { formatNumber, unitSuffix } from '../src/engine/criteria';
import type { RunView, TaskView } from '../src/shared/protocol';
import { TASK_IDS, type CriterionResult, type TaskId } from '../src/shared/result';
import { TASK_TITLES } from './chartSpecs';
import { ChartBoard, type ChartImage } from './charts';
import { shownRun, showingLiveRun, taskEntries, type DashboardState } from './state';
import { el, placeInOrder } from './dom';
import { createBadge, createButton, createProgressRing, createTag, setButtonEnabled } from './toolkit';

export interface PageActions {
  cancel(): void;
  saveImages(): void;
  showLive(): void;
}

const EMPTY_TEXT = 'No run yet: run Phase 3: Run API Load Test or open a run from the Phase 3 view.';

export class DashboardPage {
  private readonly board = new ChartBoard();
  private readonly sections = new Map<TaskId, TaskSection>();
  private readonly runInfo = el('p', 'p3-run');
  private readonly status = el('div', 'p3-status');
  private readonly statusText = el('span', 'p3-status-text');
  private readonly ring = createProgressRing('Run in progress');
  private readonly cancelButton: HTMLElement;
  private readonly saveButton: HTMLElement;
  private readonly liveButton: HTMLElement;
  private readonly savedLine = el('p', 'p3-saved');
  private readonly empty = el('p', 'p3-empty', EMPTY_TEXT);
  private readonly tasks = el('div', 'p3-tasks');

  constructor(root: HTMLElement, actions: PageActions) {
    this.cancelButton = createButton('Cancel run', 'secondary', actions.cancel);
    this.saveButton = createButton('Save chart images', 'primary', actions.saveImages);
    this.liveButton = createButton('Show live run', 'secondary', actions.showLive);
    this.ring.classList.add('p3-ring');
    this.savedLine.setAttribute('role', 'status');

    const title = el('div', 'p3-title');
    title.append(el('h1', '', 'Phase 3 Dashboard'), this.runInfo);
    this.status.setAttribute('role', 'status');
    this.status.append(this.ring, this.statusText);
    const buttons = el('div', 'p3-actions');
    buttons.append(this.liveButton, this.cancelButton, this.saveButton);
    const header = el('header', 'p3-header');
    header.append(title, buttons);
    root.replaceChildren(header, this.status, this.savedLine, this.empty, this.tasks);
  }

  render(state: DashboardState): void {
    const run = shownRun(state);
    const live = showingLiveRun(state);
    this.runInfo.textContent = run ? runDescription(run, state.baseline) : '';
    this.statusText.textContent = state.status;
    this.ring.hidden = !live;
    this.cancelButton.hidden = !live;
    setButtonEnabled(this.cancelButton, live && !state.cancelRequested);
    this.liveButton.hidden = !(state.running && !live);
    this.empty.hidden = run !== null;
    this.status.hidden = run === null && !state.status;
    this.saveButton.hidden = run === null;
    this.renderSaved(state.saved);

    const shown = new Set<TaskId>();
    const ordered: HTMLElement[] = [];
    if (run) {
      const views = new Map(taskEntries(run));
      for (const id of TASK_IDS) {
        const view = views.get(id);
        if (!view) continue;
        shown.add(id);
        let section = this.sections.get(id);
        if (!section) {
          section = new TaskSection(id);
          this.sections.set(id, section);
        }
        placeInOrder(this.tasks, section.root, ordered);
        const baseline = state.baseline?.tasks[id];
        section.render(view, baseline, state.baseline);
        this.board.sync(section.charts, { task: id, view, baseline, run });
      }
    }
    for (const [id, section] of [...this.sections]) {
      if (shown.has(id)) continue;
      section.root.remove();
      this.sections.delete(id);
    }
    this.board.retainTasks(shown);
    setButtonEnabled(this.saveButton, this.board.count > 0);
  }

  images(): ChartImage[] {
    return this.board.images();
  }

  private renderSaved(saved: DashboardState['saved']): void {
    this.savedLine.hidden = saved === null;
    this.savedLine.classList.toggle('p3-error', Boolean(saved?.error));
    if (!saved) return;
    this.savedLine.textContent = saved.error
      ? `Could not save the chart images: ${saved.error}`
      : `Saved ${saved.files.length} chart image${saved.files.length === 1 ? '' : 's'}: ${saved.files.join(', ')}`;
  }
}

class TaskSection {
  readonly root = el('section', 'p3-task');
  readonly charts = el('div', 'p3-charts');
  private readonly heading = el('header', 'p3-task-header');
  private readonly error = el('p', 'p3-error');
  private readonly criteria = el('div', 'p3-criteria');
  private readonly notes = el('ul', 'p3-notes');

  constructor(readonly task: TaskId) {
    this.root.dataset.task = task;
    this.root.append(this.heading, this.error, this.charts, this.criteria, this.notes);
  }

  render(view: TaskView, baseline: TaskView | undefined, baselineRun: RunView | null): void {
    const evaluated = view.criteria.filter((c) => c.passed !== null);
    const passed = evaluated.filter((c) => c.passed).length;
    const heading = el('h2', '', TASK_TITLES[this.task]);
    const status = createTag(view.status);
    status.classList.add('p3-task-status', `p3-${view.status}`);
    const parts: HTMLElement[] = [heading, status];
    if (evaluated.length > 0) {
      const badge = createBadge(`${passed}/${evaluated.length}`);
      badge.title = `${passed} of ${evaluated.length} criteria passed`;
      parts.push(badge);
    }
    this.heading.replaceChildren(...parts);

    this.error.hidden = !view.error;
    this.error.textContent = view.error ?? '';
    this.criteria.replaceChildren(
      view.criteria.length > 0
        ? criteriaTable(view.criteria, baseline, baselineRun)
        : el('p', 'p3-muted', view.status === 'running' ? 'The criteria are judged when the task finishes.' : 'No criteria were evaluated.'),
    );
    this.notes.hidden = !view.notes?.length;
    this.notes.replaceChildren(...(view.notes ?? []).map((note) => el('li', '', note)));
  }
}

const SYMBOLS: Record<CriterionResult['comparator'], string> = { '<': '<', '<=': '≤', '>': '>', '>=': '≥', '==': '=' };

function criteriaTable(criteria: readonly CriterionResult[], baseline: TaskView | undefined, baselineRun: RunView | null): HTMLTableElement {
  const table = el('table', 'p3-criteria-table');
  const withBaseline = baselineRun !== null;
  const head = el('tr', '');
  const headings = ['', 'Criterion', 'Measured', 'Target', ...(withBaseline ? [`Baseline ${baselineRun.runId}`, 'Change'] : [])];
  head.append(...headings.map((text) => el('th', '', text)));
  const thead = el('thead', '');
  thead.append(head);
  const tbody = el('tbody', '');
  for (const c of criteria) {
    const row = el('tr', `p3-criterion ${outcomeClass(c.passed)}`);
    row.dataset.criterion = c.id;
    const mark = el('td', 'p3-mark', c.passed === null ? '–' : c.passed ? '✓' : '✗');
    mark.setAttribute('aria-label', c.passed === null ? 'not measured' : c.passed ? 'passed' : 'failed');
    const measured = el('td', 'p3-num', c.actual === null ? 'not measured' : figure(c.actual, c.unit));
    if (c.note) measured.title = c.note;
    row.append(mark, el('td', '', c.label), measured, el('td', 'p3-num', `${SYMBOLS[c.comparator]} ${figure(c.target, c.unit)}`));
    if (withBaseline) row.append(...baselineCells(c, baseline?.criteria.find((b) => b.id === c.id)));
    tbody.append(row);
  }
  table.append(thead, tbody);
  return table;
}

function baselineCells(current: CriterionResult, before: CriterionResult | undefined): HTMLElement[] {
  if (!before || before.actual === null) return [el('td', 'p3-num p3-muted', '–'), el('td', 'p3-num p3-muted', '–')];
  const value = el('td', `p3-num ${outcomeClass(before.passed)}`, `${before.passed === null ? '–' : before.passed ? '✓' : '✗'} ${figure(before.actual, before.unit)}`);
  if (current.actual === null) return [value, el('td', 'p3-num p3-muted', '–')];
  const delta = current.actual - before.actual;
  const relative = before.actual !== 0 ? (delta / Math.abs(before.actual)) * 100 : null;
  const percent = relative !== null && delta !== 0 ? ` (${signed(Number(relative.toFixed(Math.abs(relative) >= 10 ? 0 : 1)))}%)` : '';
  // Most targets are ceilings (latency, errors); `>`/`>=` ones (connections, users) want more.
  const higherIsBetter = current.comparator === '>' || current.comparator === '>=';
  const direction = delta === 0 ? '' : (delta > 0) === higherIsBetter ? 'p3-better' : 'p3-worse';
  const regressed = before.passed === true && current.passed === false ? ' p3-regressed' : '';
  const change = el('td', `p3-num ${direction}${regressed}`, delta === 0 ? '±0' : `${delta > 0 ? '+' : ''}${figure(delta, current.unit)}${percent}`);
  if (regressed) change.title = 'Passed in the baseline, fails now';
  return [value, change];
}

/** As the CLI prints it: `42.50 ms`, `0.030%`, counts bare (`Timeouts 1`). */
function figure(value: number, unit: string): string {
  return `${formatNumber(value)}${unitSuffix(unit)}`;
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

function outcomeClass(passed: boolean | null): string {
  return passed === null ? 'p3-unmeasured' : passed ? 'p3-pass' : 'p3-fail';
}

function runDescription(run: RunView, baseline: RunView | null): string {
  const started = new Date(run.startedAt);
  const when = Number.isNaN(started.getTime()) ? run.startedAt : started.toLocaleString();
  const parts = [`Run ${run.runId}`, when];
  if (run.target.url) parts.push(run.target.url);
  if (baseline && baseline.runId !== run.runId) parts.push(`baseline ${baseline.runId}`);
  return parts.join(' · ');
}
