/**
 * Which charts each task gets, as data, and how a task view becomes the numbers of one chart.
 * No DOM and no uPlot: charts.ts draws what this describes. A task that reports a new figure
 * gets a chart by adding a row to TASK_CHARTS, not by new drawing code.
 */
import type { RunView, TaskView } from '../src/shared/protocol';
import type { LoadIntervalPoint, TaskId } from '../src/shared/result';

/** Theme colours a chart may use; charts.ts maps them to VS Code's `--vscode-charts-*`. */
export type ColorName = 'blue' | 'red' | 'yellow' | 'orange' | 'green' | 'purple' | 'foreground';

/** The figures of an interval that a line can plot: its numeric fields other than the time. */
export type PointFigure = Exclude<
  { [K in keyof LoadIntervalPoint]-?: NonNullable<LoadIntervalPoint[K]> extends number ? K : never }[keyof LoadIntervalPoint],
  't'
>;

export interface LineSpec {
  figure: PointFigure;
  label: string;
  color: ColorName;
  /** `step` for counts per interval, `area` for a single rate worth filling. Default `line`. */
  style?: 'line' | 'step' | 'area';
  dashed?: boolean;
}

/** A horizontal line at a criterion's target, when the run has one (`run.targets[criterion]`). */
export interface ThresholdSpec {
  criterion: string;
  label: string;
  color: ColorName;
}

/** A figure over the seconds of the run. Lines with no value in any interval are left out. */
export interface TimeChartSpec {
  kind: 'time';
  id: string;
  title: string;
  unit: string;
  lines: readonly LineSpec[];
  thresholds?: readonly ThresholdSpec[];
  /** Whole counts: ticks at whole numbers only. */
  counts?: boolean;
}

/** The whole task's latency by percentile (HdrHistogram style), with the baseline's overlaid. */
export interface DistributionChartSpec {
  kind: 'distribution';
  id: string;
  title: string;
  /** Marks at (percentile, target): the curve must pass below each. */
  targets?: ReadonlyArray<ThresholdSpec & { percentile: number }>;
}

export type ChartSpec = TimeChartSpec | DistributionChartSpec;

const latencyLines: readonly LineSpec[] = [
  { figure: 'p50', label: 'p50', color: 'green' },
  { figure: 'p95', label: 'p95', color: 'yellow' },
  { figure: 'p99', label: 'p99', color: 'red' },
  { figure: 'correctedP99', label: 'p99 corrected', color: 'purple', dashed: true },
];

const errorLines: readonly LineSpec[] = [
  { figure: 'errors', label: 'errors', color: 'red', style: 'step' },
  { figure: 'timeouts', label: 'timeouts', color: 'orange', style: 'step' },
];

export const TASK_CHARTS: Readonly<Record<TaskId, readonly ChartSpec[]>> = {
  api: [
    {
      kind: 'time', id: 'latency', title: 'Latency', unit: 'ms', lines: latencyLines,
      thresholds: [
        { criterion: 'api.p95', label: 'p95 target', color: 'yellow' },
        { criterion: 'api.p99', label: 'p99 target', color: 'red' },
      ],
    },
    { kind: 'time', id: 'throughput', title: 'Requests per second', unit: 'req/s', lines: [{ figure: 'rps', label: 'req/s', color: 'blue', style: 'area' }] },
    { kind: 'time', id: 'errors', title: 'Errors and timeouts per interval', unit: 'requests', lines: errorLines, counts: true },
    { kind: 'time', id: 'connections', title: 'Active connections', unit: 'connections', lines: [{ figure: 'activeConnections', label: 'connections', color: 'blue' }], counts: true },
    {
      kind: 'distribution', id: 'distribution', title: 'Latency by percentile',
      targets: [
        { criterion: 'api.p95', percentile: 95, label: 'p95 target', color: 'yellow' },
        { criterion: 'api.p99', percentile: 99, label: 'p99 target', color: 'red' },
      ],
    },
  ],
  'usage-buffer': [
    {
      kind: 'time', id: 'latency', title: 'Upsert latency', unit: 'ms', lines: latencyLines,
      thresholds: [{ criterion: 'usage-buffer.p99', label: 'p99 target', color: 'red' }],
    },
    { kind: 'time', id: 'throughput', title: 'Upserts per second', unit: 'ops/s', lines: [{ figure: 'rps', label: 'ops/s', color: 'blue', style: 'area' }] },
    { kind: 'time', id: 'errors', title: 'Failed upserts per interval', unit: 'operations', lines: errorLines, counts: true },
    {
      kind: 'distribution', id: 'distribution', title: 'Upsert latency by percentile',
      targets: [{ criterion: 'usage-buffer.p99', percentile: 99, label: 'p99 target', color: 'red' }],
    },
  ],
  db: [
    { kind: 'time', id: 'latency', title: 'Probe latency', unit: 'ms', lines: latencyLines },
    {
      kind: 'time', id: 'resources', title: 'Database CPU and memory', unit: '%',
      lines: [{ figure: 'cpuPercent', label: 'CPU', color: 'red' }, { figure: 'memoryPercent', label: 'memory', color: 'blue' }],
      thresholds: [{ criterion: 'db.cpu', label: 'CPU target', color: 'red' }, { criterion: 'db.memory', label: 'memory target', color: 'blue' }],
    },
    { kind: 'time', id: 'errors', title: 'Query errors and timeouts per interval', unit: 'queries', lines: errorLines, counts: true },
    { kind: 'distribution', id: 'distribution', title: 'Probe latency by percentile' },
  ],
  users: [
    { kind: 'time', id: 'latency', title: 'Latency', unit: 'ms', lines: latencyLines },
    { kind: 'time', id: 'throughput', title: 'Requests per second', unit: 'req/s', lines: [{ figure: 'rps', label: 'req/s', color: 'blue', style: 'area' }] },
    { kind: 'time', id: 'errors', title: 'Errors and timeouts per interval', unit: 'requests', lines: errorLines, counts: true },
    { kind: 'time', id: 'users', title: 'Active users', unit: 'users', lines: [{ figure: 'activeConnections', label: 'users', color: 'blue' }], counts: true },
    { kind: 'distribution', id: 'distribution', title: 'Latency by percentile' },
  ],
};

/** The same task names as the tree and the CLI report. */
export { TASK_TITLES } from '../src/engine/tasks/catalog';

// ---------------------------------------------------------------------------------------------
// Chart data.

/** One drawn series: a measured line, a target line, or target marks. */
export interface SeriesData {
  label: string;
  color: ColorName;
  role: 'measured' | 'target' | 'baseline';
  style: 'line' | 'step' | 'area' | 'marks';
  dashed: boolean;
  values: Array<number | null>;
}

export interface ChartData {
  spec: ChartSpec;
  /** Time charts: seconds. Distributions: 1/(1-p), so 10 is 90 %, 100 is 99 %, drawn on a log axis. */
  x: number[];
  xKind: 'seconds' | 'percentile';
  unit: string;
  series: SeriesData[];
}

/** The data of one chart of a task, or null when the task has nothing for it yet. */
export function chartData(spec: ChartSpec, view: TaskView, targets: RunView['targets'], baseline?: TaskView): ChartData | null {
  return spec.kind === 'time' ? timeChartData(spec, view, targets) : distributionChartData(spec, view, targets, baseline);
}

function timeChartData(spec: TimeChartSpec, view: TaskView, targets: RunView['targets']): ChartData | null {
  const points = view.series;
  const measured = spec.lines.flatMap((line): SeriesData[] => {
    const values = points.map((p) => finite(p[line.figure]));
    if (!values.some((v) => v !== null)) return [];
    return [{ label: line.label, color: line.color, role: 'measured', style: line.style ?? 'line', dashed: line.dashed ?? false, values }];
  });
  if (measured.length === 0) return null;
  const thresholds = (spec.thresholds ?? []).flatMap((t): SeriesData[] => {
    const target = targets[t.criterion];
    if (typeof target !== 'number' || !Number.isFinite(target)) return [];
    return [{ label: `${t.label} ${formatAxisNumber(target)} ${spec.unit}`, color: t.color, role: 'target', style: 'line', dashed: true, values: points.map(() => target) }];
  });
  return { spec, x: points.map((p) => p.t), xKind: 'seconds', unit: spec.unit, series: [...measured, ...thresholds] };
}

type Distribution = TaskView['distribution'];

function distributionChartData(spec: DistributionChartSpec, view: TaskView, targets: RunView['targets'], baseline?: TaskView): ChartData | null {
  if (view.distribution.length === 0) return null;
  const curves: Array<{ series: Omit<SeriesData, 'values'>; points: Map<number, number> }> = [
    { series: { label: 'this run', color: 'blue', role: 'measured', style: 'line', dashed: false }, points: percentilePoints(view.distribution) },
  ];
  if (view.correctedDistribution?.length) {
    curves.push({
      series: { label: 'corrected for coordinated omission', color: 'purple', role: 'measured', style: 'line', dashed: false },
      points: percentilePoints(view.correctedDistribution),
    });
  }
  if (baseline?.distribution.length) {
    curves.push({ series: { label: 'baseline', color: 'foreground', role: 'baseline', style: 'line', dashed: true }, points: percentilePoints(baseline.distribution) });
  }
  for (const t of spec.targets ?? []) {
    const target = targets[t.criterion];
    if (typeof target !== 'number' || !Number.isFinite(target)) continue;
    curves.push({
      series: { label: `${t.label} ${formatAxisNumber(target)} ms`, color: t.color, role: 'target', style: 'marks', dashed: false },
      points: new Map([[percentileToX(t.percentile), target]]),
    });
  }
  const x = [...new Set(curves.flatMap((c) => [...c.points.keys()]))].sort((a, b) => a - b);
  const series = curves.map((c) => ({ ...c.series, values: x.map((v) => c.points.get(v) ?? null) }));
  return { spec, x, xKind: 'percentile', unit: 'ms', series };
}

/** The x of a percentile below 100 on the "1/(1-p)" axis: 0 % -> 1, 90 % -> 10, 99 % -> 100. */
export function percentileToX(percentile: number): number {
  return 1 / (1 - percentile / 100);
}

/** Inverse of percentileToX, for labels. */
export function xToPercentile(x: number): number {
  return 100 * (1 - 1 / x);
}

/**
 * A distribution's points by x. 100 % has no place on the axis: the max is drawn at twice the
 * last finite tick, which is about where the sample count puts it (the engine stops ticking once
 * fewer than one sample lies beyond, so that tick is within a factor two of the count).
 */
function percentilePoints(distribution: Distribution): Map<number, number> {
  const points = new Map<number, number>();
  let lastX = 1;
  for (const { percentile, ms } of distribution) {
    if (!Number.isFinite(ms)) continue;
    const x = percentile >= 100 ? lastX * 2 : percentileToX(Math.max(percentile, 0));
    points.set(x, Math.max(ms, points.get(x) ?? 0));
    if (percentile < 100) lastX = Math.max(lastX, x);
  }
  return points;
}

/** `0%`, `90%`, `99%`, `99.9%`, `95%`, `99.9967%`: as many decimals as the tail needs. */
export function formatPercentileX(x: number): string {
  if (!(x > 1)) return '0%';
  const decimals = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 1);
  return `${Number(xToPercentile(x).toFixed(decimals))}%`;
}

/** `35 s` under two minutes, `12:05` beyond. */
/**
 * Time-axis tick steps that formatSeconds shows exactly: tenths of a second below two minutes,
 * whole seconds above (uPlot's own steps include 0.25 s, which would read 1.25 s as "1.3s").
 */
export const SECOND_INCREMENTS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

export function formatSeconds(seconds: number, span: number): string {
  if (span < 120) return `${Number(seconds.toFixed(1))}s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

export function formatAxisNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 10_000) return `${Number((v / 1000).toFixed(1))}k`;
  if (abs >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
