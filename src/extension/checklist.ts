import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { fillChecklist, findCriterion, newChecklist, phase3Items } from '../engine/checklist';
import { screenshotFor } from '../engine/results';
import { formatCriterion } from '../engine/criteria';
import { Commands, Settings } from './ids';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import type { ResultsModel, RunEntry } from './resultsModel';
import { timeAgo } from './resultsTree';
import { checklistFile, workspaceRoot } from './settings';

function isChecklist(document: vscode.TextDocument): boolean {
  const root = workspaceRoot();
  return document.languageId === 'markdown' && !!root && path.resolve(document.uri.fsPath) === checklistFile(root);
}

/**
 * Inline checklist auto-fill: a CodeLens above the Phase 3 heading, a hover on each matched
 * item with the measured value, and warnings in the Problems panel for items whose criterion
 * failed in the latest run. All of it reads the checklist as the editor has it, saved or not.
 */
export class ChecklistFeatures extends Disposable implements vscode.CodeLensProvider, vscode.HoverProvider {
  private readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('phase3'));
  private readonly lensesChanged = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.lensesChanged.event;

  constructor(private readonly model: ResultsModel, private readonly log: Log) {
    super();
    const selector: vscode.DocumentSelector = { language: 'markdown', scheme: 'file' };
    this.register(vscode.languages.registerCodeLensProvider(selector, this));
    this.register(vscode.languages.registerHoverProvider(selector, this));
    this.register(model.onDidChange(() => {
      this.lensesChanged.fire();
      this.refreshDiagnostics();
    }));
    this.register(vscode.workspace.onDidOpenTextDocument((d) => this.refreshDiagnostics(d)));
    this.register(vscode.workspace.onDidChangeTextDocument((e) => this.refreshDiagnostics(e.document)));
    this.register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Settings.section}.${Settings.checklistPath}`)) this.refreshDiagnostics();
    }));
    this.refreshDiagnostics();
  }

  /** The checklist's Phase 3 items, parsed once per document version (not per lens, hover and keystroke). */
  private readonly parsed = new WeakMap<vscode.TextDocument, { version: number; items: ReturnType<typeof phase3Items> }>();

  private items(document: vscode.TextDocument): ReturnType<typeof phase3Items> {
    const cached = this.parsed.get(document);
    if (cached?.version === document.version) return cached.items;
    const items = phase3Items(document.getText());
    this.parsed.set(document, { version: document.version, items });
    return items;
  }

  private latestRun(): RunEntry | null {
    return this.model.history[0] ?? null;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!isChecklist(document)) return [];
    const { heading } = this.items(document);
    const line = heading ? heading.line - 1 : 0;
    const range = new vscode.Range(line, 0, line, 0);
    const lenses = [new vscode.CodeLens(range, { title: '$(play) Run Phase 3', command: Commands.runAll })];
    const latest = this.latestRun();
    if (latest) {
      lenses.push(new vscode.CodeLens(range, {
        title: `$(checklist) Fill from last run (${timeAgo(latest.run.finishedAt)})`,
        command: Commands.writeChecklist,
      }));
    }
    return lenses;
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | null {
    if (!isChecklist(document)) return null;
    const latest = this.latestRun();
    const item = this.items(document).items.find((i) => i.line - 1 === position.line);
    if (!item?.criterionId) return null;
    const text = new vscode.MarkdownString();
    const criterion = latest ? findCriterion(latest.run, item.criterionId) : null;
    if (!latest || !criterion) {
      text.appendMarkdown(`**Phase 3** \`${item.criterionId}\`: not measured in the last run.`);
    } else {
      const mark = criterion.passed === null ? '–' : criterion.passed ? '✓' : '✗';
      text.appendMarkdown(`**Phase 3** ${mark} ${formatCriterion(criterion)}\n\n`);
      text.appendMarkdown(`\`${criterion.id}\` · run \`${latest.runId}\` · ${timeAgo(latest.run.finishedAt)}`);
      if (criterion.note) text.appendMarkdown(`\n\n${criterion.note}`);
    }
    return new vscode.Hover(text, document.lineAt(position.line).range);
  }

  /** Warnings on the checklist items whose criterion failed in the latest run. */
  refreshDiagnostics(only?: vscode.TextDocument): void {
    const documents = only ? [only] : vscode.workspace.textDocuments;
    const latest = this.latestRun();
    for (const document of documents) {
      if (!isChecklist(document)) continue;
      const problems: vscode.Diagnostic[] = [];
      if (latest) {
        for (const item of this.items(document).items) {
          const failed = item.criterionId ? findCriterion(latest.run, item.criterionId) : null;
          if (failed?.passed !== false) continue;
          const diagnostic = new vscode.Diagnostic(
            document.lineAt(item.line - 1).range,
            `Phase 3: ${formatCriterion(failed)} failed in run ${latest.runId}`,
            vscode.DiagnosticSeverity.Warning,
          );
          diagnostic.source = 'phase3';
          diagnostic.code = failed.id;
          problems.push(diagnostic);
        }
      }
      this.diagnostics.set(document.uri, problems);
    }
  }

  /**
   * Writes a run into the checklist as one WorkspaceEdit (one undo step; an open, unsaved editor
   * gets the edit in place). With `preview`, VS Code's refactor preview shows the diff first.
   */
  async write(entry: RunEntry | null, preview: boolean): Promise<boolean> {
    const root = workspaceRoot();
    if (!root) {
      void vscode.window.showErrorMessage('Phase 3: open the folder that holds the checklist first.');
      return false;
    }
    const run = entry ?? this.latestRun();
    if (!run) {
      void vscode.window.showInformationMessage('Phase 3: no saved run to write yet. Run Phase 3 first.');
      return false;
    }
    const file = checklistFile(root);
    const uri = vscode.Uri.file(file);
    if (!fs.existsSync(file) && !vscode.workspace.textDocuments.some((d) => d.uri.fsPath === file)) {
      const create = 'Create It';
      const pick = await vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} does not exist. Create it with a Phase 3 section?`, { modal: true }, create);
      if (pick !== create) return false;
      await vscode.workspace.fs.writeFile(uri, Buffer.from(newChecklist(), 'utf8'));
    }
    const document = await vscode.workspace.openTextDocument(uri);
    const outcome = fillChecklist(document.getText(), run.run, { screenshot: screenshotFor(file) });
    if (outcome.edits.length === 0) {
      void vscode.window.showInformationMessage(`Phase 3: ${vscode.workspace.asRelativePath(uri)} already holds run ${run.runId}.`);
      return true;
    }
    const edit = new vscode.WorkspaceEdit();
    const metadata: vscode.WorkspaceEditEntryMetadata = { label: `Phase 3 results of run ${run.runId}`, needsConfirmation: preview };
    for (const e of outcome.edits) {
      edit.replace(uri, new vscode.Range(document.positionAt(e.start), document.positionAt(e.end)), e.text, metadata);
    }
    const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: preview });
    if (!applied) return false;
    for (const c of outcome.changes) this.log.info(`checklist line ${c.line}: ${c.what}${c.criterionId ? ` [${c.criterionId}]` : ''}: ${c.after.trim()}`);
    for (const u of outcome.unmatched) this.log.info(`checklist line ${u.line}: left alone (${u.reason}): ${u.text.trim()}`);
    await vscode.window.showTextDocument(document, { preview: false });
    const note = outcome.sectionAdded ? ' (the Phase 3 section was missing and was added)' : '';
    void vscode.window.showInformationMessage(`Phase 3: wrote run ${run.runId} into ${vscode.workspace.asRelativePath(uri)}: ${outcome.changes.length} change(s)${note}. Undo reverts it in one step.`);
    this.refreshDiagnostics(document);
    return true;
  }
}

