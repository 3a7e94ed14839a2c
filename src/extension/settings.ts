import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME } from '../engine/config';
import { Settings } from './ids';

const section = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration(Settings.section);

/** The workspace folder runs belong to: results and the config live there. */
export function workspaceRoot(): vscode.Uri | null {
  return vscode.workspace.workspaceFolders?.[0]?.uri ?? null;
}

export function configFile(root: vscode.Uri): string {
  return path.resolve(root.fsPath, section().get<string>(Settings.configPath) || CONFIG_FILE_NAME);
}

export function checklistFile(root: vscode.Uri): string {
  return path.resolve(root.fsPath, section().get<string>(Settings.checklistPath) || 'MAINNET_MIGRATION_CHECKLIST.md');
}

export function confirmRemoteTargets(): boolean {
  return section().get<boolean>(Settings.confirmRemoteTargets) ?? true;
}

export function previewChecklistEdits(): boolean {
  return section().get<boolean>(Settings.previewChecklistEdits) ?? false;
}
