import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { RunView, TaskEvent } from '../shared/protocol';
import type { RunResult, TaskId } from '../shared/result';
import { loadConfigFile, type LoadedConfig } from '../engine/config';
import { InputError, errorMessage } from '../engine/errors';
import { buildPlan, type Overrides, type RunPlan } from '../engine/plan';
import { executeRun } from '../engine/runner';
import { saveRun } from '../engine/results';
import { formatTextReport } from '../engine/report';
import { isLoopbackHost } from '../engine/load/target';
import { startingRunView, toRunView, toTaskView } from '../engine/view';
import { TASK_TITLES } from '../engine/tasks/catalog';
import { demoConfig } from '../demo/config';
import { Commands, ContextKeys } from './ids';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import type { ResultsModel } from './resultsModel';
import type { DashboardPanel } from './dashboardPanel';
import type { DemoTargetService } from './demoTarget';
import type { SecretEnv } from './secrets';
import { configFile, confirmRemoteTargets, workspaceRoot } from './settings';

export interface RunManagerDeps {
  model: ResultsModel;
  dashboard: DashboardPanel;
  demo: DemoTargetService;
  secrets: SecretEnv;
  log: Log;
  /** dist/worker.js of this extension. */
  workerPath: string;
}

/** Why a run cannot start, and what the user can do about it. */
class NotStarted extends Error {
  constructor(message: string, readonly actions: Array<{ title: string; command: string }> = []) {
    super(message);
  }
}

/**
 * Starts runs (each task in its own worker thread), fans their events out to the tree model, the
 * dashboard and the status bar, saves the result and tells the user the verdict.
 */
export class RunManager extends Disposable {
  private active: { runId: string; controller: AbortController } | null = null;
  /** The running run as the dashboard shows it, so a page that (re)loads mid-run catches up. */
  private liveView: RunView | null = null;
  private readonly statusBar = this.register(vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50));
  private readonly confirmedHosts = new Set<string>();
  private readonly finished = this.register(new vscode.EventEmitter<RunResult>());
  /** A run finished (passed, failed or cancelled) and was saved. */
  readonly onDidFinish = this.finished.event;

  constructor(private readonly deps: RunManagerDeps) {
    super();
    this.statusBar.command = Commands.openDashboard;
  }

  get isRunning(): boolean {
    return this.active !== null;
  }

  /** What a dashboard that opens now should be sent first. */
  get liveRunView(): RunView | null {
    return this.liveView;
  }

  cancel(): void {
    if (!this.active) return;
    this.deps.log.info(`cancelling run ${this.active.runId}`);
    this.active.controller.abort();
  }

  /** Runs the tasks; resolves with the saved result, or null when the run did not start. */
  async run(tasks: TaskId[]): Promise<RunResult | null> {
    if (!vscode.workspace.isTrusted) {
      const manage = 'Manage Workspace Trust';
      void vscode.window
        .showWarningMessage(
          'Phase 3 runs are disabled in an untrusted workspace: a run sends load to the target named in this workspace\'s phase3.config.json and reads secrets for it. Trust the workspace to run.',
          manage,
        )
        .then((pick) => pick === manage && vscode.commands.executeCommand('workbench.trust.manage'));
      return null;
    }
    if (this.active) {
      void vscode.window.showWarningMessage('A Phase 3 run is already going.', 'Open Dashboard', 'Cancel Run').then((pick) => {
        if (pick === 'Open Dashboard') this.deps.dashboard.show();
        if (pick === 'Cancel Run') this.cancel();
      });
      return null;
    }
    let plan: RunPlan;
    try {
      plan = await this.prepare(tasks);
    } catch (err) {
      this.explain(err);
      return null;
    }
    if (plan.tasks.length === 0) {
      void vscode.window.showInformationMessage(`Phase 3: not implemented yet: ${plan.notImplemented.map((t) => TASK_TITLES[t]).join(', ')}.`);
      return null;
    }
    return this.execute(plan);
  }

  private async prepare(tasks: TaskId[]): Promise<RunPlan> {
    const root = workspaceRoot();
    if (!root) throw new NotStarted('Phase 3: open the folder of your backend first; runs and results belong to a workspace folder.');
    const file = configFile(root);
    const demo = this.deps.demo.current;
    let loaded: LoadedConfig;
    if (fs.existsSync(file)) loaded = loadConfigFile(file);
    else if (demo) loaded = { config: demoConfig(demo.graphqlUrl), file: null, baseDir: root.fsPath };
    else {
      throw new NotStarted('Phase 3: no target to test. Create phase3.config.json naming your GraphQL endpoint, or start the demo target.', [
        { title: 'Create Config', command: Commands.createConfig },
        { title: 'Start Demo Target', command: Commands.startDemo },
      ]);
    }
    const overrides: Overrides = { allowRemote: true };
    // A running demo target stands in for whatever the workspace's config does not name.
    if (demo) {
      if (!loaded.file || !loaded.config.target?.url) overrides.url = demo.graphqlUrl;
      if (!loaded.file || (!loaded.config.database?.url && !process.env.PHASE3_DB_URL)) {
        overrides.dbUrl = demo.dbUrl;
        overrides.localPid = demo.postgresPid;
      }
    }
    const env = await this.deps.secrets.environment(loaded.config);
    const plan = buildPlan(tasks, loaded, overrides, env, root.fsPath);
    if (plan.preflight) await this.confirmRemote(plan);
    return plan;
  }

  /** Before the first load to a host off this machine: a modal naming the host and the load. */
  private async confirmRemote(plan: RunPlan): Promise<void> {
    const url = new URL(plan.preflight?.url ?? '');
    if (isLoopbackHost(url.hostname) || !confirmRemoteTargets() || this.confirmedHosts.has(url.host)) return;
    const api = plan.tasks.find((t) => t.task === 'api')?.options;
    const size = api
      ? api.rate !== undefined
        ? `${api.rate} requests/s${api.durationS ? ` for ${api.durationS} s` : ` for ${api.requests} requests`} on up to ${api.connections} connections`
        : api.durationS !== undefined
          ? `${api.durationS} s of load on ${api.connections} connections`
          : `${api.requests} requests on ${api.connections} connections`
      : 'load';
    const send = 'Send Load';
    const pick = await vscode.window.showWarningMessage(
      `Send load to ${url.host}?`,
      { modal: true, detail: `${url.host} is not this machine. Phase 3 will send ${size} to ${url.origin}${url.pathname}.` },
      send,
    );
    if (pick !== send) throw new NotStarted('');
    this.confirmedHosts.add(url.host);
  }

  private async execute(plan: RunPlan): Promise<RunResult | null> {
    const root = workspaceRoot() as vscode.Uri;
    const { model, dashboard, log } = this.deps;
    const runId = plan.runId;
    const controller = new AbortController();
    this.active = { runId, controller };
    log.addSecrets(plan.secrets);
    const taskIds = plan.tasks.map((t) => t.task);
    const thresholds = plan.tasks[0]?.thresholds ?? {};
    model.runStarted(runId, taskIds);
    this.liveView = startingRunView(runId, taskIds, plan.target, thresholds);
    dashboard.show(true);
    dashboard.post({ type: 'runStarted', run: this.liveView });
    await vscode.commands.executeCommand('setContext', ContextKeys.running, true);
    log.info(`run ${runId}: ${taskIds.join(', ')} against ${plan.target.url ?? '–'}`);
    this.statusBar.text = '$(loading~spin) Phase 3: starting…';
    this.statusBar.show();

    try {
      const run = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Phase 3', cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          return executeRun(plan, {
            signal: controller.signal,
            workerPath: this.deps.workerPath,
            onPreflight: (report) => report.warnings.forEach((w) => log.warn(w)),
            onTaskStart: (task) => {
              model.taskStarted(task);
              progress.report({ message: `${TASK_TITLES[task]}: starting…` });
              log.info(`${task}: started`);
            },
            onEvent: (event) => this.onEvent(event, progress),
            onTaskEnd: (task, result) => {
              model.taskFinished(task, result);
              const view = toTaskView(task, result);
              if (this.liveView) this.liveView = { ...this.liveView, tasks: { ...this.liveView.tasks, [task]: view } };
              dashboard.post({ type: 'taskFinished', task, view });
              log.info(`${task}: ${result.status}${result.error ? ` (${result.error})` : ''}`);
            },
          });
        },
      );
      const file = saveRun(root.fsPath, run, plan.secrets);
      model.runEnded({ runId: run.runId, file, run });
      dashboard.post({ type: 'runFinished', run: toRunView(run) });
      log.block(formatTextReport(run, { savedTo: file, notImplemented: plan.notImplemented }));
      this.lastError = null;
      this.finished.fire(run);
      void this.announce(run);
      return run;
    } catch (err) {
      model.runEnded(null);
      const view = startingRunView(runId, taskIds, plan.target, thresholds);
      for (const task of Object.values(view.tasks)) if (task) Object.assign(task, { status: 'error', error: errorMessage(err) });
      dashboard.post({ type: 'runFinished', run: { ...view, finishedAt: new Date().toISOString() } });
      this.explain(err);
      return null;
    } finally {
      this.active = null;
      this.liveView = null;
      this.statusBar.hide();
      await vscode.commands.executeCommand('setContext', ContextKeys.running, false);
    }
  }

  private onEvent(event: TaskEvent, progress: vscode.Progress<{ message?: string }>): void {
    switch (event.type) {
      case 'interval': {
        this.deps.model.interval(event.task, event.point);
        const task = this.liveView?.tasks[event.task];
        if (this.liveView && task) task.series.push(event.point);
        this.deps.dashboard.post({ type: 'interval', task: event.task, point: event.point });
        const p = event.point;
        const text = `${event.task} ${Math.round(p.t)} s · ${Math.round(p.rps)} req/s · p99 ${p.p99 ?? '–'} ms`;
        this.statusBar.text = `$(pulse) Phase 3: ${text}`;
        progress.report({ message: text });
        return;
      }
      case 'log':
        if (event.level === 'warn') this.deps.log.warn(`${event.task}: ${event.message}`);
        else this.deps.log.info(`${event.task}: ${event.message}`);
        return;
    }
  }

  private async announce(run: RunResult): Promise<void> {
    const results = Object.entries(run.tasks);
    const failed = results.flatMap(([, t]) => t?.criteria.filter((c) => c.passed === false) ?? []);
    const cancelled = results.some(([, t]) => t?.status === 'cancelled');
    const broken = results.filter(([, t]) => t?.status === 'error');
    const message = cancelled
      ? 'Phase 3 run cancelled: what was measured is saved.'
      : broken.length
        ? `Phase 3: ${broken.map(([id, t]) => `${id} did not finish (${t?.error})`).join('; ')}`
        : failed.length
          ? `Phase 3: ${failed.length} ${failed.length === 1 ? 'criterion' : 'criteria'} failed: ${failed.map((c) => c.label).join(', ')}.`
          : 'Phase 3: every measured criterion passed.';
    const show = failed.length || broken.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const pick = await show(message, 'Open Dashboard', 'Write to Checklist', 'Show Log');
    if (pick === 'Open Dashboard') this.deps.dashboard.show();
    if (pick === 'Write to Checklist') await vscode.commands.executeCommand(Commands.writeChecklist);
    if (pick === 'Show Log') this.deps.log.show();
  }

  /** Why the last run did not start or failed, as the user was told (null after a good run). */
  lastError: string | null = null;

  /** Says why a run did not start or failed; never waits for the user to close the message. */
  private explain(err: unknown): void {
    this.lastError = err instanceof InputError ? err.lines.join('\n') : errorMessage(err);
    if (err instanceof NotStarted) {
      if (!err.message) return;
      void vscode.window.showErrorMessage(err.message, ...err.actions.map((a) => a.title)).then((pick) => {
        const action = err.actions.find((a) => a.title === pick);
        if (action) void vscode.commands.executeCommand(action.command);
      });
      return;
    }
    const lines = err instanceof InputError ? err.lines : [errorMessage(err)];
    for (const line of lines) this.deps.log.error(line);
    const more = lines.length > 1 ? ` (and ${lines.length - 1} more: see the log)` : '';
    void vscode.window.showErrorMessage(`Phase 3: ${lines[0]}${more}`, 'Show Log').then((pick) => {
      if (pick === 'Show Log') this.deps.log.show();
    });
  }
}
