import type { LoadIntervalPoint, TaskId } from '../shared/result';

/** One line, rewritten in place each interval, when stderr is a terminal; silent otherwise. */
export class ProgressLine {
  private shown = false;
  private totals = { requests: 0, errors: 0 };
  private task: TaskId | null = null;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(task: TaskId): void {
    this.task = task;
    this.totals = { requests: 0, errors: 0 };
    if (this.stream.isTTY) this.write(`${task}: starting…`);
  }

  update(task: TaskId, point: LoadIntervalPoint): void {
    this.totals.requests += point.requests;
    this.totals.errors += point.errors;
    if (!this.stream.isTTY || task !== this.task) return;
    const p = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(1));
    this.write(
      `${task} ${point.t.toFixed(0)}s  ${this.totals.requests} req  ${point.rps.toFixed(0)} req/s  ` +
        `p50 ${p(point.p50)}  p95 ${p(point.p95)}  p99 ${p(point.p99)} ms  errors ${this.totals.errors}`,
    );
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }

  private write(text: string): void {
    const width = this.stream.columns ? this.stream.columns - 1 : 120;
    this.stream.write(`\r\x1b[2K${text.slice(0, width)}`);
    this.shown = true;
  }
}
