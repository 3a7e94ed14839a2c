import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TASK_IDS, type TaskId } from '../shared/result';
import type { HostToWebview } from '../shared/protocol';
import { compareRuns, formatComparison } from '../engine/compare';
import { formatJunitReport, formatMarkdownReport } from '../engine/report';
import { CHARTS_DIR, serializeRun } from '../engine/results';
import { toRunView } from '../engine/view';
import { errorMessage } from '../engine/errors';
import { Commands, TaskCommands } from './ids';
import type { DashboardPanel } from './dashboardPanel';
import type { DemoTargetService } from './demoTarget';
import type { Log } from './log';
import type { ResultNode } from './resultsTree';
import type { ResultsModel, RunEntry } from './resultsModel';
import type { RunManager } from './runManager';
import { configTemplate } from './configTemplate';
import type { ChecklistFeatures } from './checklist';
import { checklistFile, configFile, previewChecklistEdits, workspaceRoot } from './settings';

export interface CommandDeps {
  checklist: ChecklistFeatures;
  runs: RunManager;
  model: ResultsModel;
  dashboard: DashboardPanel;
  demo: DemoTargetService;
  log: Log;
}

const runOf = (node: ResultNode | undefined, model: ResultsModel): RunEntry | null =>
  node?.kind === 'run' || node?.kind === 'runTask' ? node.entry : model.history[0] ?? null;

async function pickRun(model: ResultsModel, title: string, exclude?: string): Promise<RunEntry | null> {
  const items = model.history
    .filter((e) => e.runId !== exclude)
    .map((entry) => ({ label: new Date(entry.run.startedAt).toLocaleString(), description: `${Object.keys(entry.run.tasks).join(', ')} · ${entry.runId}`, entry }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Phase 3: no saved runs yet.');
    return null;
  }
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'Pick a run' });
  return pick?.entry ?? null;
}

export function showRunMessage(model: ResultsModel, entry: RunEntry): HostToWebview {
  const baseline = model.baseline;
  return { type: 'showRun', run: toRunView(entry.run), baseline: baseline && baseline.runId !== entry.runId ? toRunView(baseline.run) : null };
}

async function createConfig(demo: DemoTargetService): Promise<void> {
  const root = workspaceRoot();
  if (!root) {
    void vscode.window.showErrorMessage('Phase 3: open a folder first; the config lives in the workspace.');
    return;
  }
  const file = configFile(root);
  if (fs.existsSync(file)) {
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    return;
  }
  const url = await vscode.window.showInputBox({
    title: 'Phase 3: Create Config',
    prompt: 'The GraphQL endpoint to test',
    value: demo.current?.graphqlUrl ?? 'http://127.0.0.1:4000/graphql',
    validateInput: (v) => (/^https?:\/\/[^\s/]+/.test(v) ? null : 'An http:// or https:// URL, e.g. http://127.0.0.1:4000/graphql'),
  });
  if (!url) return;
  fs.writeFileSync(file, configTemplate(url));
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

async function exportReport(model: ResultsModel, node: ResultNode | undefined): Promise<void> {
  const entry = node ? runOf(node, model) : await pickRun(model, 'Phase 3: Export Report');
  if (!entry) return;
  const formats = [
    { label: 'Markdown', ext: 'md', render: () => formatMarkdownReport(entry.run) },
    { label: 'JSON', ext: 'json', render: () => serializeRun(entry.run) },
    { label: 'JUnit XML', ext: 'xml', render: () => formatJunitReport(entry.run) },
  ];
  const format = await vscode.window.showQuickPick(formats, { title: 'Phase 3: Export Report', placeHolder: 'Format' });
  if (!format) return;
  const root = workspaceRoot();
  const target = await vscode.window.showSaveDialog({
    defaultUri: root ? vscode.Uri.joinPath(root, `phase3-${entry.runId}.${format.ext}`) : undefined,
    filters: { [format.label]: [format.ext] },
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, Buffer.from(format.render(), 'utf8'));
  void vscode.window.showInformationMessage(`Phase 3: report written to ${vscode.workspace.asRelativePath(target)}.`);
}

async function compareWithBaseline(deps: CommandDeps): Promise<void> {
  const { model, dashboard } = deps;
  let baseline = model.baseline;
  if (!baseline) {
    baseline = await pickRun(model, 'Phase 3: pick the baseline run');
    if (!baseline) return;
    await model.setBaseline(baseline.runId);
  }
  const current = model.history.find((e) => e.runId !== baseline?.runId) ?? null;
  if (!current) {
    void vscode.window.showInformationMessage('Phase 3: run once more to have something to compare with the baseline.');
    return;
  }
  const text = formatComparison(baseline.run, current.run, compareRuns(baseline.run, current.run));
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  await vscode.window.showTextDocument(doc, { preview: true });
  dashboard.show(true);
  dashboard.post(showRunMessage(model, current));
}

/** Writes the dashboard's chart images next to the checklist (for its Performance Screenshot line). */
export async function saveChartImages(images: Array<{ name: string; dataUrl: string }>): Promise<HostToWebview> {
  const root = workspaceRoot();
  if (!root) return { type: 'imagesSaved', files: [], error: 'no workspace folder is open' };
  const dir = path.join(path.dirname(checklistFile(root)), CHARTS_DIR);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    for (const image of images) {
      const name = path.basename(image.name);
      const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(image.dataUrl);
      if (!/^[\w.-]+\.png$/.test(name) || !match) throw new Error(`not a PNG chart image: ${name}`);
      const file = path.join(dir, name);
      fs.writeFileSync(file, Buffer.from(match[1], 'base64'));
      files.push(path.relative(root.fsPath, file));
    }
    return { type: 'imagesSaved', files };
  } catch (err) {
    return { type: 'imagesSaved', files: [], error: errorMessage(err) };
  }
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { runs, model, dashboard, demo, log } = deps;
  const register = (id: string, fn: (...args: never[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, fn);
  const taskCommands = (Object.entries(TaskCommands) as Array<[TaskId, { id: string }]>).map(([task, c]) => register(c.id, () => runs.run([task])));
  return [
    ...taskCommands,
    register(Commands.runAll, () => runs.run([...TASK_IDS])),
    register(Commands.cancelRun, () => {
      if (runs.isRunning) runs.cancel();
      else void vscode.window.showInformationMessage('Phase 3: no run is going.');
    }),
    register(Commands.openDashboard, () => dashboard.show()),
    register(Commands.createConfig, () => createConfig(demo)),
    register(Commands.startDemo, async () => {
      const target = await demo.start();
      if (!target) return;
      const run = TaskCommands.api ? 'Run API Load Test' : undefined;
      // Not awaited: the command is done when the target is up, whether or not the message is closed.
      void vscode.window
        .showInformationMessage(`Phase 3 demo target: GraphQL API at ${target.graphqlUrl}, PostgreSQL on ${new URL(target.dbUrl).host}.`, ...(run ? [run] : []))
        .then((pick) => pick === run && TaskCommands.api && vscode.commands.executeCommand(TaskCommands.api.id));
    }),
    register(Commands.stopDemo, async () => {
      if (!demo.current) return;
      await demo.stop();
      void vscode.window.showInformationMessage('Phase 3: the demo target is stopped (PostgreSQL and the GraphQL API).');
    }),
    register(Commands.compareWithBaseline, () => compareWithBaseline(deps)),
    register(Commands.exportReport, (node?: ResultNode) => exportReport(model, node)),
    register(Commands.showLog, () => log.show()),
    register(Commands.writeChecklist, (node?: ResultNode) => deps.checklist.write(node ? runOf(node, model) : null, previewChecklistEdits())),
    register(Commands.refreshResults, () => model.reload()),
    register(Commands.runTaskAgain, (node?: ResultNode) => (node?.kind === 'task' || node?.kind === 'runTask' ? runs.run([node.task]) : undefined)),
    register(Commands.openRunInDashboard, (node?: ResultNode) => {
      const entry = runOf(node, model);
      dashboard.show();
      if (entry) dashboard.post(showRunMessage(model, entry));
    }),
    register(Commands.setBaseline, async (node?: ResultNode) => {
      const entry = node ? runOf(node, model) : await pickRun(model, 'Phase 3: pick the baseline run');
      if (!entry) return;
      await model.setBaseline(entry.runId);
      dashboard.post({ type: 'baseline', baseline: toRunView(entry.run) });
    }),
    register(Commands.revealResultFile, async (node?: ResultNode) => {
      const entry = runOf(node, model);
      if (!entry) return;
      const uri = vscode.Uri.file(entry.file);
      await vscode.window.showTextDocument(uri, { preview: true });
      await vscode.commands.executeCommand('revealInExplorer', uri);
    }),
  ];
}
