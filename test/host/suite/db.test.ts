import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunResult } from '../../../src/shared/result';
import { withDemoTarget } from './demoTarget';

describe('Database check', () => {
  it('runs from its command against the demo target: probe latencies and the PostgreSQL process measured', async function () {
    this.timeout(120_000);
    await withDemoTarget(async (phase3) => {
      const run = (await vscode.commands.executeCommand('phase3.runDb')) as RunResult | null;
      assert.ok(run, `the run started: ${phase3.runs.lastError ?? ''}`);
      const task = run.tasks.db;
      assert.ok(task, JSON.stringify(run));
      const m = task.metrics as { reads?: number; readLatencyMs?: { p99: number }; cpuPercent?: { max: number } };
      assert.ok((m.reads ?? 0) > 0, 'read probes ran');
      assert.ok(m.readLatencyMs && m.readLatencyMs.p99 > 0);
      assert.ok(m.cpuPercent, 'the demo PostgreSQL process tree was sampled');
      const disk = task.criteria.find((c) => c.id === 'db.disk');
      assert.equal(disk?.passed, null, 'no node_exporter: disk is not measured, never passed by default');
    });
  });
});
