import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { ChecklistFeatures } from './checklist';
import { DashboardPanel } from './dashboardPanel';
import { DemoTargetService } from './demoTarget';
import { Log } from './log';
import { ResultsModel } from './resultsModel';
import { ResultsTreeProvider } from './resultsTree';
import { RunManager } from './runManager';
import { SecretEnv } from './secrets';
import { registerCommands, saveChartImages, showRunMessage } from './commands';
import { Views } from './ids';
import { configFile, workspaceRoot } from './settings';

/** The one thing deactivate must wait for: the demo target's PostgreSQL shutting down. */
let stopDemoOnDeactivate: (() => Promise<void>) | null = null;

/** The extension's API, for its own tests in the extension host. */
export interface Phase3Api {
  runs: RunManager;
  model: ResultsModel;
  dashboard: DashboardPanel;
  demo: DemoTargetService;
  tree: ResultsTreeProvider;
  checklist: ChecklistFeatures;
}

/** Only wiring: every piece registers its disposables; nothing is measured or read here. */
export function activate(context: vscode.ExtensionContext): Phase3Api {
  const log = new Log();
  const root = workspaceRoot();
  const model = new ResultsModel(root, context.workspaceState, log);
  const demo = new DemoTargetService(log);
  let runs: RunManager | null = null;
  const dashboard = new DashboardPanel(context.extensionUri, {
    onReady: () => {
      const live = runs?.liveRunView;
      if (live) return [{ type: 'runStarted', run: live }];
      const latest = model.history[0];
      return latest ? [showRunMessage(model, latest)] : [];
    },
    onCancel: () => runs?.cancel(),
    onSaveImages: saveChartImages,
  });
  runs = new RunManager({
    model,
    dashboard,
    demo,
    log,
    secrets: new SecretEnv(context.secrets),
    workerPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath,
  });
  const checklist = new ChecklistFeatures(model, log);
  const tree = new ResultsTreeProvider(model, () => !!demo.current || (!!root && fs.existsSync(configFile(root))));
  const treeView = vscode.window.createTreeView(Views.results, { treeDataProvider: tree, showCollapseAll: true });

  context.subscriptions.push(
    log, model, demo, dashboard, runs, tree, treeView, checklist,
    demo.onDidChange(() => tree.refresh()),
    vscode.workspace.onDidCreateFiles(() => tree.refresh()),
    ...registerCommands({ checklist, runs, model, dashboard, demo, log }),
  );
  stopDemoOnDeactivate = () => demo.stop();
  return { runs, model, dashboard, demo, tree, checklist };
}

export async function deactivate(): Promise<void> {
  await stopDemoOnDeactivate?.();
  stopDemoOnDeactivate = null;
}
