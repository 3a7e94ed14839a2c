import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../../src/shared/result';
import type { Phase3Api } from '../../../src/extension/extension';
import manifest from '../../../package.json';

describe('Concurrent users soak', () => {
  it('runs from its command against the demo target: users ramp, hold and leave; the verdict covers degradation', async function () {
    this.timeout(180_000);
    const extension = vscode.extensions.getExtension<Phase3Api>(`${manifest.publisher}.${manifest.name}`);
    assert.ok(extension);
    const phase3 = await extension.activate();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    fs.rmSync(path.join(root, 'phase3.config.json'), { force: true });
    await vscode.commands.executeCommand('phase3.startDemoTarget');
    try {
      const run = (await vscode.commands.executeCommand('phase3.runUsers')) as RunResult | null;
      assert.ok(run, `the run started: ${phase3.runs.lastError ?? ''}`);
      const task = run.tasks.users;
      assert.ok(task, JSON.stringify(run));
      const m = task.metrics as { peakUsers?: number; requests?: number };
      assert.ok((m.peakUsers ?? 0) >= 90, `peak users ${m.peakUsers}`);
      assert.ok((m.requests ?? 0) > 0);
      assert.ok(task.series.some((p) => (p.activeConnections ?? 0) >= 90), 'the active-users series reaches the plateau');
      assert.deepEqual(task.criteria.map((c) => c.id).sort(), ['users.concurrency', 'users.degradation', 'users.errorRate', 'users.timeouts']);
    } finally {
      await vscode.commands.executeCommand('phase3.stopDemoTarget');
    }
  });
});
