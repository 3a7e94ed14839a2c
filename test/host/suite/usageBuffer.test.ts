import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunResult } from '../../../src/shared/result';
import type { Phase3Api } from '../../../src/extension/extension';
import manifest from '../../../package.json';
import * as fs from 'node:fs';
import * as path from 'node:path';

describe('Usage buffer stress test', () => {
  it('runs from its command against the demo target: 1000 atomic upserts, nothing lost', async function () {
    this.timeout(120_000);
    const extension = vscode.extensions.getExtension<Phase3Api>(`${manifest.publisher}.${manifest.name}`);
    assert.ok(extension);
    const phase3 = await extension.activate();
    // The demo target is used when the workspace has no config naming a target.
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    fs.rmSync(path.join(root, 'phase3.config.json'), { force: true });
    await vscode.commands.executeCommand('phase3.startDemoTarget');
    try {
      assert.ok(phase3.demo.current, 'the demo target started');
      const run = (await vscode.commands.executeCommand('phase3.runUsageBuffer')) as RunResult | null;
      assert.ok(run, `the run started: ${phase3.runs.lastError ?? ''}`);
      const task = run.tasks['usage-buffer'];
      assert.ok(task, JSON.stringify(run));
      const m = task.metrics as { operations?: number; succeeded?: number; lostUpdates?: number; phantomUpdates?: number };
      assert.equal(m.operations, 1000);
      assert.equal(m.succeeded, 1000);
      assert.equal(m.lostUpdates, 0);
      assert.equal(m.phantomUpdates, 0);
      assert.deepEqual(task.criteria.map((c) => c.id).slice(0, 5), ['usage-buffer.avgLatency', 'usage-buffer.p99', 'usage-buffer.successRate', 'usage-buffer.lostUpdates', 'usage-buffer.atomicUpserts']);
      const roots = phase3.tree.getChildren();
      assert.ok(roots.some((n) => n.kind === 'task' && n.task === 'usage-buffer'), 'the task has its node in the tree');
    } finally {
      await vscode.commands.executeCommand('phase3.stopDemoTarget');
    }
    assert.equal(phase3.demo.current, null);
  });
});
