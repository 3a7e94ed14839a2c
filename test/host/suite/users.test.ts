import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunResult } from '../../../src/shared/result';
import { withDemoTarget } from './demoTarget';

describe('Concurrent users soak', () => {
  it('runs from its command against the demo target: users ramp, hold and leave; the verdict covers degradation', async function () {
    this.timeout(180_000);
    await withDemoTarget(async (phase3) => {
      const run = (await vscode.commands.executeCommand('phase3.runUsers')) as RunResult | null;
      assert.ok(run, `the run started: ${phase3.runs.lastError ?? ''}`);
      const task = run.tasks.users;
      assert.ok(task, JSON.stringify(run));
      const m = task.metrics as { peakUsers?: number; requests?: number };
      assert.ok((m.peakUsers ?? 0) >= 90, `peak users ${m.peakUsers}`);
      assert.ok((m.requests ?? 0) > 0);
      assert.ok(task.series.some((p) => (p.activeConnections ?? 0) >= 90), 'the active-users series reaches the plateau');
      assert.deepEqual(task.criteria.map((c) => c.id).sort(), ['users.concurrency', 'users.degradation', 'users.errorRate', 'users.timeouts']);
    });
  });
});
