import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../../../src/shared/result';
import type { Phase3Api } from '../../../src/extension/extension';
import manifest from '../../../package.json';

const CHECKLIST = [
  '# Mainnet Migration Checklist',
  '',
  '## Phase 2: Staging (Day 1)',
  '',
  '- [ ] P95 latency: **\\_** ms (target: < 100ms)',
  '',
  '---',
  '',
  '## Phase 3: Performance Testing (Day 2-3)',
  '',
  '### API Performance',
  '',
  '- [ ] P95 latency: **\\_** ms (target: < 100ms)',
  '- [ ] P99 latency: **\\_** ms (target: < 200ms)',
  '- [ ] Error rate: **\\_**% (target: < 0.1%)',
  '- [ ] Concurrent connections tested: **\\_**',
  '- [ ] No timeouts during load test',
  '',
  '---',
  '',
].join('\n');

function criterion(id: string, label: string, comparator: '<' | '>=' | '==', target: number, unit: string, actual: number) {
  const passed = comparator === '<' ? actual < target : comparator === '>=' ? actual >= target : actual === target;
  return { id, label, comparator, target, unit, actual, passed };
}

/** A saved run, as the CLI or a run from the palette leaves it: P95 passes, P99 fails. */
function savedRun(runId: string): RunResult {
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    tool: { name: 'phase3-perf', version: manifest.version },
    runId,
    startedAt: now,
    finishedAt: now,
    target: { url: 'http://127.0.0.1:4000/graphql', db: null },
    tasks: {
      api: {
        status: 'failed',
        metrics: { requests: 1000, errors: 0, errorRate: 0, timeouts: 0, connections: 100, latencyMs: { mean: 30, p50: 25, p90: 60, p95: 80.5, p99: 250, p999: 300, max: 310, count: 1000 } },
        criteria: [
          criterion('api.p95', 'P95 latency', '<', 100, 'ms', 80.5),
          criterion('api.p99', 'P99 latency', '<', 200, 'ms', 250),
          criterion('api.concurrency', 'Concurrent connections', '>=', 100, 'connections', 100),
          criterion('api.errorRate', 'Error rate', '<', 0.1, '%', 0),
          criterion('api.timeouts', 'Timeouts', '==', 0, 'requests', 0),
        ],
        series: [],
        startedAt: now,
        finishedAt: now,
      },
    },
  };
}

async function api(): Promise<Phase3Api> {
  const extension = vscode.extensions.getExtension<Phase3Api>(`${manifest.publisher}.${manifest.name}`);
  assert.ok(extension);
  return extension.activate();
}

describe('Checklist auto-fill', () => {
  let root: string;
  let file: string;

  before(async () => {
    const phase3 = await api();
    root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    file = path.join(root, 'MAINNET_MIGRATION_CHECKLIST.md');
    fs.writeFileSync(file, CHECKLIST);
    const runId = '20000101-000000-host';
    fs.mkdirSync(path.join(root, '.phase3', 'runs'), { recursive: true });
    fs.writeFileSync(path.join(root, '.phase3', 'runs', `${runId}.json`), JSON.stringify(savedRun(runId)));
    phase3.model.reload();
    assert.equal(phase3.model.history[0]?.runId, runId);
  });

  it('writes the latest run into an open, unsaved checklist as one undoable edit', async () => {
    const document = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(document);
    // An unsaved change of the user's own, outside Phase 3: it must survive the write and the undo.
    await editor.edit((b) => b.insert(new vscode.Position(1, 0), 'Owner: platform team\n'));
    const before = document.getText();
    assert.ok(document.isDirty);

    const ok = await vscode.commands.executeCommand('phase3.writeChecklist');
    assert.equal(ok, true);
    const after = document.getText();
    assert.match(after, /- \[x\] P95 latency: \*\*80\.5\*\* ms \(target: < 100ms\)/);
    assert.match(after, /- \[ \] P99 latency: \*\*250\*\* ms \(target: < 200ms\)/, 'failed: value written, left unticked');
    assert.ok(after.includes('Owner: platform team'));
    // Phase 2 has the same item text and stays exactly as it was.
    assert.ok(after.includes('## Phase 2: Staging (Day 1)\n\n- [ ] P95 latency: **\\_** ms (target: < 100ms)'));

    await vscode.commands.executeCommand('undo');
    assert.equal(document.getText(), before, 'one undo step reverts the whole write');
    await vscode.commands.executeCommand('redo');
    assert.equal(document.getText(), after);
  });

  it('shows a CodeLens above Phase 3, a hover with the measured value, and a warning for the failed item', async () => {
    const document = await vscode.workspace.openTextDocument(file);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)) ?? [];
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.some((t) => t.includes('Run Phase 3')), titles.join(' | '));
    assert.ok(titles.some((t) => t.includes('Fill from last run')), titles.join(' | '));
    const headingLine = document.getText().split('\n').findIndex((l) => l.startsWith('## Phase 3'));
    assert.ok(lenses.every((l) => l.range.start.line === headingLine));

    const p99Line = document.getText().split('\n').findIndex((l, i) => i > headingLine && l.includes('P99 latency'));
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(p99Line, 5))) ?? [];
    const hoverText = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(hoverText, /✗ P99 latency 250 ms < 200 ms/);
    assert.match(hoverText, /20000101-000000-host/);

    const problems = vscode.languages.getDiagnostics(document.uri).filter((d) => d.source === 'phase3');
    assert.deepEqual(problems.map((d) => d.range.start.line), [p99Line]);
    assert.equal(problems[0]?.severity, vscode.DiagnosticSeverity.Warning);
  });
});
