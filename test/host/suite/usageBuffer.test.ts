import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunResult } from '../../../src/shared/result';
import { phase3Api, withDemoTarget } from './demoTarget';

describe('Usage buffer stress test', () => {
  it('runs from its command against the demo target: 1000 atomic upserts, nothing lost', async function () {
    this.timeout(120_000);
    await withDemoTarget(async (phase3) => {
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
    });
    assert.equal((await phase3Api()).demo.current, null);
  });
});
