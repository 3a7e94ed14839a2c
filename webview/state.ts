/**
 * The dashboard's state and the pure reducer that folds host messages into it. No DOM here: the
 * state is plain JSON, saved with `vscode.setState` and restored when the page is shown again,
 * and every array in it is bounded however long a run lasts.
 */
import { assertNever } from '../src/shared/protocol';
import type { HostToWebview, RunView, TaskView } from '../src/shared/protocol';
import type { LoadIntervalPoint, TaskId } from '../src/shared/result';

export interface DashboardState {
  /** Bumped when the shape changes, so a state saved by an older page is dropped, not misread. */
  version: 1;
  /** The run started in this session: live while `running`, kept after it finishes. */
  live: RunView | null;
  running: boolean;
  /** The user asked to stop the live run; cleared when the run finishes. */
  cancelRequested: boolean;
  /** A run opened from history; shown instead of the live run while `showing` is 'opened'. */
  opened: RunView | null;
  showing: 'live' | 'opened';
  /** The run the shown one is compared against. */
  baseline: RunView | null;
  /** One line for the header: what is happening or what the shown run came to. */
  status: string;
  /** The outcome of the last "Save chart images". */
  saved: { files: string[]; error?: string } | null;
}

export const initialState: DashboardState = {
  version: 1,
  live: null,
  running: false,
  cancelRequested: false,
  opened: null,
  showing: 'live',
  baseline: null,
  status: '',
  saved: null,
};

/** A 10-minute run at 1 point/s keeps every point; longer runs are merged into coarser intervals. */
export const MAX_SERIES_POINTS = 1200;
/** The engine sends about 50 distribution points; this only guards against a runaway sender. */
export const MAX_DISTRIBUTION_POINTS = 400;

export function reduce(state: DashboardState, message: HostToWebview): DashboardState {
  switch (message.type) {
    case 'runStarted': {
      const live = boundRun(message.run);
      return {
        ...state,
        live,
        running: true,
        cancelRequested: false,
        showing: 'live',
        saved: null,
        status: `Running ${taskList(live)}…`,
      };
    }
    case 'interval': {
      const live = state.live;
      // Intervals of a run this page never heard start of have nothing to attach to.
      if (!live || !state.running) return state;
      const previous = live.tasks[message.task] ?? runningTask(message.task);
      const series = boundSeries([...previous.series, message.point]);
      const task: TaskView = { ...previous, series };
      return {
        ...state,
        live: withTask(live, task),
        status: runningStatus(message.task, message.point),
      };
    }
    case 'taskFinished': {
      if (!state.live) return state;
      const task = boundTask(message.view);
      return { ...state, live: withTask(state.live, task), status: `${message.task} ${task.status}` };
    }
    case 'runFinished': {
      const live = boundRun(message.run);
      // Whoever is looking at a run from history keeps looking at it.
      return { ...state, live, running: false, cancelRequested: false, status: finishedStatus(live) };
    }
    case 'showRun': {
      const opened = boundRun(message.run);
      return {
        ...state,
        opened,
        showing: 'opened',
        baseline: message.baseline ? boundRun(message.baseline) : null,
        saved: null,
        status: finishedStatus(opened),
      };
    }
    case 'baseline':
      return { ...state, baseline: message.baseline ? boundRun(message.baseline) : null };
    case 'imagesSaved':
      return { ...state, saved: message.error ? { files: message.files, error: message.error } : { files: message.files } };
    default:
      return assertNever(message);
  }
}

/** What the page itself does to its state, without the host. */
export type LocalAction =
  /** The user pressed Cancel; the button stays disabled until the run finishes. */
  | { type: 'cancelRequested' }
  /** Back from a run opened from history to the live one. */
  | { type: 'showLive' };

export function reduceLocal(state: DashboardState, action: LocalAction): DashboardState {
  switch (action.type) {
    case 'cancelRequested':
      return state.running ? { ...state, cancelRequested: true, status: 'Cancelling…' } : state;
    case 'showLive':
      return state.live ? { ...state, showing: 'live', status: state.running ? state.status : finishedStatus(state.live) } : state;
    default:
      return assertNever(action);
  }
}

/** The run on screen: the opened one, or the live one. */
export function shownRun(state: DashboardState): RunView | null {
  return state.showing === 'opened' && state.opened ? state.opened : state.live;
}

/** Whether the shown run is the one still running (its charts update, Cancel applies). */
export function showingLiveRun(state: DashboardState): boolean {
  return state.running && shownRun(state) === state.live;
}

/** A state restored with getState, or the initial one when it is missing or from another version. */
export function restoreState(saved: unknown): DashboardState {
  if (saved && typeof saved === 'object' && (saved as { version?: unknown }).version === initialState.version) {
    return saved as DashboardState;
  }
  return initialState;
}

// ---------------------------------------------------------------------------------------------
// Bounding.

/**
 * How each figure of an interval combines when neighbouring intervals are merged. A mapped type
 * over every key: a field added to LoadIntervalPoint is a compile error here until it has a rule.
 */
type MergeRule =
  /** the later interval's value (the end time) */
  | 'last'
  /** counts add up */
  | 'sum'
  /** per-second rates: mean weighted by each interval's duration */
  | 'rate'
  /** typical latency: mean weighted by requests */
  | 'mean'
  /** tail latency and peaks: the worst, so merging never hides a spike */
  | 'max';

const MERGE_RULES: { [K in keyof Required<LoadIntervalPoint>]: MergeRule } = {
  t: 'last',
  requests: 'sum',
  errors: 'sum',
  timeouts: 'sum',
  rps: 'rate',
  p50: 'mean',
  p95: 'max',
  p99: 'max',
  correctedP99: 'max',
  activeConnections: 'max',
  cpuPercent: 'max',
  memoryPercent: 'max',
};

type PointKey = keyof LoadIntervalPoint;
const POINT_KEYS = Object.keys(MERGE_RULES) as PointKey[];

/**
 * Keeps a series at most `max` points. Past the limit, all points are regrouped into buckets of
 * 2^k seconds (by end time), the smallest width giving at most max/2 buckets, so the whole run
 * stays evenly covered and the buckets of successive merges line up. Newer points then arrive
 * at full resolution until the next merge: amortized constant work per point.
 */
export function boundSeries(points: readonly LoadIntervalPoint[], max = MAX_SERIES_POINTS): LoadIntervalPoint[] {
  if (points.length <= max) return points as LoadIntervalPoint[];
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const first = sorted[0].t;
  const span = Math.max(sorted[sorted.length - 1].t - first, 1);
  const target = Math.max(Math.floor(max / 2) - 2, 1);
  let width = 1;
  while (span / width > target) width *= 2;

  const merged: LoadIntervalPoint[] = [];
  let bucket: Array<{ point: LoadIntervalPoint; seconds: number }> = [];
  let bucketIndex = Number.NaN;
  let previousT = first > 0 ? 0 : first - 1;
  for (const point of sorted) {
    // A tiny epsilon keeps an interval ending exactly on a boundary in the bucket it closes.
    const index = Math.ceil(point.t / width - 1e-9);
    if (index !== bucketIndex && bucket.length > 0) {
      merged.push(mergePoints(bucket));
      bucket = [];
    }
    bucketIndex = index;
    bucket.push({ point, seconds: Math.max(point.t - previousT, 0) });
    previousT = point.t;
  }
  if (bucket.length > 0) merged.push(mergePoints(bucket));
  return merged;
}

function mergePoints(bucket: ReadonlyArray<{ point: LoadIntervalPoint; seconds: number }>): LoadIntervalPoint {
  if (bucket.length === 1) return bucket[0].point;
  const out: Record<string, number | null> = {};
  for (const key of POINT_KEYS) {
    const present = bucket.filter((b) => b.point[key] !== undefined);
    if (present.length === 0) continue; // optional figure this task does not report
    const values = present.flatMap((b) => {
      const value = b.point[key];
      return typeof value === 'number' && Number.isFinite(value) ? [{ value, ...b }] : [];
    });
    out[key] = values.length === 0 ? null : combine(MERGE_RULES[key], values);
  }
  return out as unknown as LoadIntervalPoint;
}

function combine(rule: MergeRule, values: ReadonlyArray<{ value: number; point: LoadIntervalPoint; seconds: number }>): number {
  switch (rule) {
    case 'last':
      return values[values.length - 1].value;
    case 'sum':
      return values.reduce((sum, v) => sum + v.value, 0);
    case 'max':
      return Math.max(...values.map((v) => v.value));
    case 'rate':
      return weightedMean(values, (v) => v.seconds);
    case 'mean':
      return weightedMean(values, (v) => v.point.requests);
    default:
      return assertNever(rule);
  }
}

function weightedMean<T extends { value: number }>(values: readonly T[], weightOf: (v: T) => number): number {
  const total = values.reduce((sum, v) => sum + Math.max(weightOf(v), 0), 0);
  if (total <= 0) return values.reduce((sum, v) => sum + v.value, 0) / values.length;
  return values.reduce((sum, v) => sum + v.value * Math.max(weightOf(v), 0), 0) / total;
}

type Distribution = TaskView['distribution'];

/** Evenly thins a distribution that is larger than the limit, keeping both ends. */
function boundDistribution(points: Distribution): Distribution {
  if (points.length <= MAX_DISTRIBUTION_POINTS) return points;
  const step = (points.length - 1) / (MAX_DISTRIBUTION_POINTS - 1);
  return Array.from({ length: MAX_DISTRIBUTION_POINTS }, (_, i) => points[Math.round(i * step)]);
}

function boundTask(view: TaskView): TaskView {
  const bounded: TaskView = { ...view, series: boundSeries(view.series), distribution: boundDistribution(view.distribution) };
  if (view.correctedDistribution) bounded.correctedDistribution = boundDistribution(view.correctedDistribution);
  return bounded;
}

function boundRun(run: RunView): RunView {
  const tasks: RunView['tasks'] = {};
  for (const [id, view] of taskEntries(run)) tasks[id] = boundTask(view);
  return { ...run, tasks };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

export function taskEntries(run: RunView): Array<[TaskId, TaskView]> {
  return Object.entries(run.tasks).filter((e): e is [TaskId, TaskView] => e[1] !== undefined);
}

function withTask(run: RunView, task: TaskView): RunView {
  return { ...run, tasks: { ...run.tasks, [task.task]: task } };
}

function runningTask(task: TaskId): TaskView {
  return { task, status: 'running', criteria: [], metrics: {}, series: [], distribution: [] };
}

function taskList(run: RunView): string {
  const ids = taskEntries(run).map(([id]) => id);
  return ids.length > 0 ? ids.join(', ') : 'run';
}

function runningStatus(task: TaskId, point: LoadIntervalPoint): string {
  const rps = Math.round(point.rps);
  const p99 = point.p99 === null ? '' : `, p99 ${point.p99.toFixed(1)} ms`;
  return `Running ${task}: ${Math.round(point.t)} s, ${rps} req/s${p99}`;
}

/** `Run finished: 4 of 5 criteria passed`, or how it ended when it did not finish. */
export function finishedStatus(run: RunView): string {
  const tasks = taskEntries(run).map(([, view]) => view);
  const criteria = tasks.flatMap((t) => t.criteria).filter((c) => c.passed !== null);
  const passed = criteria.filter((c) => c.passed).length;
  const tally = criteria.length > 0 ? `${passed} of ${criteria.length} criteria passed` : 'no criteria evaluated';
  if (tasks.some((t) => t.status === 'cancelled')) return `Run cancelled: ${tally}`;
  if (tasks.some((t) => t.status === 'error')) return `Run ended with an error: ${tally}`;
  if (tasks.some((t) => t.status === 'running')) return `Run incomplete: ${tally}`;
  return `Run finished: ${tally}`;
}
