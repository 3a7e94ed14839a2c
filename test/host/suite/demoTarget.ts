import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Phase3Api } from '../../../src/extension/extension';
import manifest from '../../../package.json';

export async function phase3Api(): Promise<Phase3Api> {
  const extension = vscode.extensions.getExtension<Phase3Api>(`${manifest.publisher}.${manifest.name}`);
  assert.ok(extension, 'the extension is loaded');
  return extension.activate();
}

/**
 * Runs `fn` with the demo target started from its command and no workspace config, so runs aim
 * at the demo; stops the target afterwards whatever happens.
 */
export async function withDemoTarget(fn: (phase3: Phase3Api) => Promise<void>): Promise<void> {
  const phase3 = await phase3Api();
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  fs.rmSync(path.join(root, 'phase3.config.json'), { force: true });
  await vscode.commands.executeCommand('phase3.startDemoTarget');
  try {
    assert.ok(phase3.demo.current, 'the demo target started');
    await fn(phase3);
  } finally {
    await vscode.commands.executeCommand('phase3.stopDemoTarget');
  }
}
