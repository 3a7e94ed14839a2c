import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LoadIntervalPoint, RunResult, TaskId, TaskResult } from '../shared/result';
import { RUNS_DIR, listRunIds, readRunFile } from '../engine/results';
import { errorMessage } from '../engine/errors';
import { StateKeys } from './ids';
import { Disposable } from './lifecycle';
import type { Log } from './log';

export interface RunEntry {
  runId: string;
  file: string;
  run: RunResult;
}

export interface LiveRun {
  runId: string;
  tasks: TaskId[];
  /** The task running now, and its latest interval. */
  current: { task: TaskId; since: number; last: LoadIntervalPoint | null; requests: number } | null;
  /** Tasks of this run that already finished. */
  finished: Partial<Record<TaskId, TaskResult>>;
}

/** How many past runs the History shows (the newest); older files stay on disk. */
const HISTORY_LIMIT = 30;

/**
 * What the result tree and the checklist features show: the saved runs (newest first), the run
 * going on now, and the baseline. Views render it; only this class changes it.
 */
export class ResultsModel extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private runs: RunEntry[] = [];
  private liveRun: LiveRun | null = null;

  constructor(
    private readonly root: vscode.Uri | null,
    private readonly state: vscode.Memento,
    private readonly log: Log,
  ) {
    super();
    if (root) {
      // Runs from the CLI in a terminal show up too.
      const watcher = this.register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, `${RUNS_DIR.split(path.sep).join('/')}/*.json`)));
      this.register(watcher.onDidCreate(() => this.reload()));
      this.register(watcher.onDidDelete(() => this.reload()));
    }
    this.reload();
  }

  reload(): void {
    if (!this.root) return;
    const ids = listRunIds(this.root.fsPath).slice(-HISTORY_LIMIT).reverse();
    const known = new Map(this.runs.map((r) => [r.runId, r]));
    const runs: RunEntry[] = [];
    for (const runId of ids) {
      const existing = known.get(runId);
      if (existing) {
        runs.push(existing);
        continue;
      }
      const file = path.join(this.root.fsPath, RUNS_DIR, `${runId}.json`);
      try {
        runs.push({ runId, file, run: readRunFile(file) });
      } catch (err) {
        this.log.warn(`skipping ${file}: ${errorMessage(err)}`);
      }
    }
    this.runs = runs;
    this.changed.fire();
  }

  get history(): readonly RunEntry[] {
    return this.runs;
  }

  get live(): LiveRun | null {
    return this.liveRun;
  }

  find(runId: string): RunEntry | undefined {
    return this.runs.find((r) => r.runId === runId);
  }

  /** The newest saved result of a task, and the run it belongs to. */
  latest(task: TaskId): { entry: RunEntry; result: TaskResult } | null {
    for (const entry of this.runs) {
      const result = entry.run.tasks[task];
      if (result) return { entry, result };
    }
    return null;
  }

  get baselineRunId(): string | null {
    return this.state.get<string>(StateKeys.baselineRunId) ?? null;
  }

  get baseline(): RunEntry | null {
    const id = this.baselineRunId;
    return id ? this.find(id) ?? null : null;
  }

  async setBaseline(runId: string | null): Promise<void> {
    await this.state.update(StateKeys.baselineRunId, runId ?? undefined);
    this.changed.fire();
  }

  runStarted(runId: string, tasks: TaskId[]): void {
    this.liveRun = { runId, tasks, current: null, finished: {} };
    this.changed.fire();
  }

  taskStarted(task: TaskId): void {
    if (!this.liveRun) return;
    this.liveRun = { ...this.liveRun, current: { task, since: Date.now(), last: null, requests: 0 } };
    this.changed.fire();
  }

  interval(task: TaskId, point: LoadIntervalPoint): void {
    const current = this.liveRun?.current;
    if (!this.liveRun || !current || current.task !== task) return;
    this.liveRun = { ...this.liveRun, current: { ...current, last: point, requests: current.requests + point.requests } };
    this.changed.fire();
  }

  taskFinished(task: TaskId, result: TaskResult): void {
    if (!this.liveRun) return;
    this.liveRun = { ...this.liveRun, current: null, finished: { ...this.liveRun.finished, [task]: result } };
    this.changed.fire();
  }

  /** The run ended; `saved` is its entry when it was saved. */
  runEnded(saved: RunEntry | null): void {
    this.liveRun = null;
    if (saved) this.runs = [saved, ...this.runs.filter((r) => r.runId !== saved.runId)].slice(0, HISTORY_LIMIT);
    this.changed.fire();
  }
}
