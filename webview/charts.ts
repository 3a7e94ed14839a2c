/**
 * Draws the charts chartSpecs.ts describes with uPlot, in VS Code's theme colours. A chart is
 * built once and then fed with setData; it is rebuilt only when its set of series changes or
 * the theme does. Callers throttle how often they call `sync` (main.ts: at most 4 times a second).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RunView, TaskView } from '../src/shared/protocol';
import type { TaskId } from '../src/shared/result';
import {
  SECOND_INCREMENTS, TASK_CHARTS, TASK_TITLES, chartData, formatAxisNumber, formatPercentileX, formatSeconds,
  type ChartData, type ColorName, type SeriesData,
} from './chartSpecs';
import { placeInOrder } from './dom';

const PLOT_HEIGHT = 220;

interface Palette {
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  fontFamily: string;
  colors: Record<ColorName, string>;
}

/** VS Code sets these on <html>; the fallbacks are Dark Modern's, for a page shown elsewhere. */
function readPalette(): Palette {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  const foreground = v('--vscode-editor-foreground', '#cccccc');
  return {
    background: v('--vscode-editor-background', '#1f1f1f'),
    foreground,
    muted: v('--vscode-descriptionForeground', foreground),
    grid: v('--vscode-charts-lines', v('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)')),
    fontFamily: v('--vscode-font-family', 'system-ui, sans-serif'),
    colors: {
      blue: v('--vscode-charts-blue', '#3794ff'),
      red: v('--vscode-charts-red', '#f14c4c'),
      yellow: v('--vscode-charts-yellow', '#cca700'),
      orange: v('--vscode-charts-orange', '#d18616'),
      green: v('--vscode-charts-green', '#89d185'),
      purple: v('--vscode-charts-purple', '#b180d7'),
      foreground,
    },
  };
}

/** A colour with an alpha, whatever CSS colour syntax the theme used. */
function withAlpha(color: string, alpha: number): string {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return color;
  ctx.fillStyle = color;
  const normal = ctx.fillStyle; // `#rrggbb` or `rgba(r, g, b, a)`
  if (normal.startsWith('#') && normal.length === 7) {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(normal.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const m = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(normal);
  return m ? `rgba(${m[1]},${m[2]},${m[3]}, ${alpha})` : color;
}

interface MountedChart {
  key: string;
  task: TaskId;
  card: HTMLElement;
  plotHost: HTMLElement;
  plot: uPlot;
  /** The series labels and kinds: when these change the plot is rebuilt, else only fed. */
  signature: string;
  data: ChartData;
  runLabel: string;
}

export interface TaskCharts {
  task: TaskId;
  view: TaskView;
  baseline?: TaskView;
  run: RunView;
}

export interface ChartImage {
  name: string;
  dataUrl: string;
}

export class ChartBoard {
  private readonly charts = new Map<string, MountedChart>();
  private palette = readPalette();
  private readonly resizeObserver = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const chart = [...this.charts.values()].find((c) => c.plotHost === entry.target);
      const width = Math.floor(entry.contentRect.width);
      if (chart && width > 0 && Math.abs(width - chart.plot.width) > 1) chart.plot.setSize({ width, height: PLOT_HEIGHT });
    }
  });
  // VS Code swaps the theme by rewriting <html style> and the body class.
  private readonly themeObserver = new MutationObserver(() => this.themeChanged());

  constructor() {
    this.themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** Shows the charts of one task in `grid`, creating, feeding or removing them as the data asks. */
  sync(grid: HTMLElement, task: TaskCharts): void {
    const wanted = new Set<string>();
    const placed: HTMLElement[] = [];
    const runLabel = `run ${task.run.runId} · ${formatStart(task.run.startedAt)}`;
    for (const spec of TASK_CHARTS[task.task]) {
      const data = chartData(spec, task.view, task.run.targets, task.baseline);
      const key = `${task.task}:${spec.id}`;
      if (!data) continue;
      wanted.add(key);
      const existing = this.charts.get(key);
      const signature = signatureOf(data);
      if (existing && existing.signature === signature) {
        existing.data = data;
        existing.runLabel = runLabel;
        existing.plot.setData(toAligned(data));
      } else {
        if (existing) this.destroy(existing);
        this.charts.set(key, this.mount(grid, key, task.task, data, signature, runLabel));
      }
      const chart = this.charts.get(key);
      // Keep the order of the spec table whatever order charts appeared in.
      if (chart) placeInOrder(grid, chart.card, placed);
    }
    for (const chart of [...this.charts.values()]) {
      if (chart.task === task.task && !wanted.has(chart.key)) this.destroy(chart);
    }
  }

  /** Removes every chart of tasks not in `keep`. */
  retainTasks(keep: ReadonlySet<TaskId>): void {
    for (const chart of [...this.charts.values()]) if (!keep.has(chart.task)) this.destroy(chart);
  }

  get count(): number {
    return this.charts.size;
  }

  /** Each chart as a PNG: the plot on the editor background, with a title and its legend. */
  images(): ChartImage[] {
    const inPageOrder = [...this.charts.values()].sort((a, b) =>
      a.card.compareDocumentPosition(b.card) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
    );
    return inPageOrder.map((chart) => ({
      name: `phase3-${chart.task}-${chart.data.spec.id}.png`,
      dataUrl: composeImage(chart, this.palette),
    }));
  }

  dispose(): void {
    for (const chart of [...this.charts.values()]) this.destroy(chart);
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
  }

  private mount(grid: HTMLElement, key: string, task: TaskId, data: ChartData, signature: string, runLabel: string): MountedChart {
    const card = document.createElement('figure');
    card.className = 'p3-chart';
    card.dataset.chart = key;
    const caption = document.createElement('figcaption');
    caption.textContent = data.spec.title;
    const plotHost = document.createElement('div');
    plotHost.className = 'p3-plot';
    plotHost.setAttribute('role', 'img');
    plotHost.setAttribute('aria-label', `${TASK_TITLES[task]}: ${data.spec.title}`);
    card.append(caption, plotHost);
    grid.append(card);
    const width = Math.floor(plotHost.clientWidth) || 480;
    const plot = new uPlot(plotOptions(data, this.palette, width), toAligned(data), plotHost);
    this.resizeObserver.observe(plotHost);
    return { key, task, card, plotHost, plot, signature, data, runLabel };
  }

  private destroy(chart: MountedChart): void {
    this.resizeObserver.unobserve(chart.plotHost);
    chart.plot.destroy();
    chart.card.remove();
    this.charts.delete(chart.key);
  }

  private themeChanged(): void {
    const palette = readPalette();
    if (JSON.stringify(palette) === JSON.stringify(this.palette)) return;
    this.palette = palette;
    // Colours are baked into a plot's options: rebuild each in place.
    for (const chart of this.charts.values()) {
      chart.plot.destroy();
      const width = Math.floor(chart.plotHost.clientWidth) || chart.plot.width;
      chart.plot = new uPlot(plotOptions(chart.data, palette, width), toAligned(chart.data), chart.plotHost);
    }
  }
}

function signatureOf(data: ChartData): string {
  return JSON.stringify([data.xKind, data.series.map((s) => [s.label, s.role, s.style, s.color])]);
}

function toAligned(data: ChartData): uPlot.AlignedData {
  return [data.x, ...data.series.map((s) => s.values)];
}

function formatStart(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function formatValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const digits = Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : 1;
  return `${v.toLocaleString(undefined, { maximumFractionDigits: digits })} ${unit}`;
}

function plotOptions(data: ChartData, palette: Palette, width: number): uPlot.Options {
  const axisFont = `11px ${palette.fontFamily}`;
  const axis: uPlot.Axis = {
    stroke: palette.muted,
    font: axisFont,
    labelFont: axisFont,
    grid: { stroke: withAlpha(palette.grid, 0.35), width: 1 },
    ticks: { stroke: withAlpha(palette.grid, 0.6), width: 1, size: 4 },
    border: { show: true, stroke: withAlpha(palette.grid, 0.6), width: 1 },
  };
  const percentile = data.xKind === 'percentile';
  const span = data.x.length > 0 ? data.x[data.x.length - 1] - data.x[0] : 0;
  const xAxis: uPlot.Axis = percentile
    ? {
        ...axis,
        // Decades of 1/(1-p) are the nines: 0 %, 90 %, 99 %, 99.9 % …
        splits: (_u, _i, min, max) => decades(min, max),
        values: (_u, splits) => splits.map(formatPercentileX),
        label: 'percentile',
        size: 28,
        labelSize: 18,
        labelGap: 0,
      }
    : { ...axis, size: 30, incrs: SECOND_INCREMENTS, values: (_u, splits) => splits.map((s) => formatSeconds(s, span)) };
  const counts = data.spec.kind === 'time' && data.spec.counts === true;
  const yAxis: uPlot.Axis = { ...axis, label: data.unit, size: 52, values: (_u, splits) => splits.map(formatAxisNumber) };
  if (counts) yAxis.incrs = COUNT_INCREMENTS;

  return {
    width,
    height: PLOT_HEIGHT,
    pxAlign: true,
    // Room on the right for the last x label (`99.999%`), centred on the plot's edge.
    padding: [12, percentile ? 28 : 16, 0, 4],
    scales: {
      x: percentile
        ? { time: false, distr: 3, log: 10, range: (_u, _min, max) => [1, 10 ** Math.max(1, Math.ceil(Math.log10(Math.max(max, 10)) - 1e-9))] }
        : { time: false },
      // Every figure here is a non-negative amount: anchor at zero so changes read at their size.
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [xAxis, yAxis],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 6 } },
    // With the pointer away, the legend reads the latest interval (a distribution: its p99).
    hooks: {
      setData: [(u) => restingLegend(u, percentile)],
      setCursor: [(u) => restingLegend(u, percentile)],
    },
    series: [
      { label: percentile ? 'percentile' : 'time', value: (_u, v) => (v === null ? '–' : percentile ? formatPercentileX(v) : formatSeconds(v, span)) },
      ...data.series.map((s) => seriesOptions(s, palette, data.unit, percentile)),
    ],
  };
}

function seriesOptions(s: SeriesData, palette: Palette, unit: string, percentile: boolean): uPlot.Series {
  const color = palette.colors[s.color];
  const targetText = s.role === 'target' ? formatValue(s.values.find((v) => v !== null), unit) : '';
  const series: uPlot.Series = {
    label: s.label,
    stroke: color,
    width: s.role === 'target' ? 1 : 1.75,
    // A target is one value: its legend reads it wherever the cursor is (its marks sit at one x).
    value: s.role === 'target' ? () => targetText : (_u, v) => formatValue(v, unit),
    // Distribution curves have points at different percentiles: join across the others' x.
    spanGaps: percentile,
    points: { show: false },
  };
  if (s.dashed) series.dash = s.role === 'target' ? [6, 4] : [4, 3];
  if (s.role === 'baseline') series.stroke = withAlpha(color, 0.75);
  if (s.style === 'area') series.fill = withAlpha(color, 0.15);
  if (s.style === 'step') series.paths = uPlot.paths.stepped?.({ align: 1 });
  if (s.style === 'marks') {
    series.paths = () => null;
    series.points = { show: true, size: 9, width: 2, stroke: color, fill: palette.background };
  }
  return series;
}

/** Whole-number tick steps for counts, so an axis of 0..1 errors reads 0, 1 and not 0.25. */
const COUNT_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1_000_000];

function restingLegend(u: uPlot, percentile: boolean): void {
  if (u.cursor.idx !== null && u.cursor.idx !== undefined) return;
  const x = u.data[0];
  if (x.length === 0) return;
  let idx = x.length - 1;
  if (percentile) {
    // The point of the run's own curve nearest 99 % (x = 1/(1-0.99) = 100).
    const curve = u.data[1];
    let best = Infinity;
    for (let i = 0; i < x.length; i++) {
      const distance = Math.abs(Math.log(x[i] / 100));
      if (curve[i] !== null && curve[i] !== undefined && distance < best) {
        best = distance;
        idx = i;
      }
    }
  }
  u.setLegend({ idx });
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(Math.max(min, 1))); 10 ** e <= max * 1.0001; e++) out.push(10 ** e);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Images.

function composeImage(chart: MountedChart, palette: Palette): string {
  const source = chart.plot.ctx.canvas;
  const scale = source.width / Math.max(chart.plot.width, 1);
  const px = (n: number): number => Math.round(n * scale);
  const pad = px(16);
  const titleSize = px(15);
  const textSize = px(12);
  const titleHeight = px(44);
  const lineHeight = px(22);
  const width = source.width + 2 * pad;
  const titleFont = `600 ${titleSize}px ${palette.fontFamily}`;
  const textFont = `${textSize}px ${palette.fontFamily}`;

  const out = document.createElement('canvas');
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas context');

  // The legend, as uPlot's is HTML and not on the canvas: laid out first, to size the image.
  ctx.font = textFont;
  const items: Array<{ series: SeriesData; x: number; row: number }> = [];
  let x = pad;
  let row = 0;
  for (const series of chart.data.series) {
    const itemWidth = px(24) + ctx.measureText(series.label).width;
    if (x > pad && x + itemWidth > width - pad) {
      x = pad;
      row++;
    }
    items.push({ series, x, row });
    x += itemWidth + px(18);
  }
  const legendHeight = (row + 1) * lineHeight + px(6);

  out.width = width;
  out.height = pad + titleHeight + source.height + legendHeight + pad;
  ctx.fillStyle = palette.background;
  ctx.fillRect(0, 0, out.width, out.height);

  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = palette.foreground;
  ctx.font = titleFont;
  ctx.fillText(`${TASK_TITLES[chart.task]} · ${chart.data.spec.title} (${chart.data.unit})`, pad, pad + titleSize);
  ctx.fillStyle = palette.muted;
  ctx.font = textFont;
  ctx.fillText(chart.runLabel, pad, pad + titleSize + px(8) + textSize);

  ctx.drawImage(source, pad, pad + titleHeight);

  const legendTop = pad + titleHeight + source.height + px(6);
  for (const item of items) {
    const color = palette.colors[item.series.color];
    const baseline = legendTop + item.row * lineHeight + px(14);
    const mid = baseline - px(4);
    ctx.strokeStyle = color;
    ctx.lineWidth = px(2);
    ctx.beginPath();
    if (item.series.style === 'marks') {
      ctx.arc(item.x + px(9), mid, px(4), 0, 2 * Math.PI);
    } else {
      ctx.setLineDash(item.series.dashed ? [px(4), px(3)] : []);
      ctx.moveTo(item.x, mid);
      ctx.lineTo(item.x + px(18), mid);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = palette.foreground;
    ctx.fillText(item.series.label, item.x + px(24), baseline);
  }
  return out.toDataURL('image/png');
}
