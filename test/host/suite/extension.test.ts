import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HostToWebview } from '../../../src/shared/protocol';
import type { RunResult } from '../../../src/shared/result';
import type { Phase3Api } from '../../../src/extension/extension';
import manifest from '../../../package.json';

const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;

async function api(): Promise<Phase3Api> {
  const extension = vscode.extensions.getExtension<Phase3Api>(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not loaded`);
  return extension.activate();
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  return folder.uri.fsPath;
}

/** A real GraphQL-shaped server in the extension host, on 127.0.0.1 and port 0. */
async function startServer(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data":{"__typename":"Query"}}');
      }, delayMs),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function writeConfig(config: object): void {
  fs.writeFileSync(path.join(workspaceDir(), 'phase3.config.json'), `// written by the host test\n${JSON.stringify(config, null, 2)}\n`);
}

function until<T>(fn: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const value = fn();
      if (value) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

describe('Phase 3 extension', () => {
  it('activates and registers every command it contributes', async () => {
    await api();
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const { command } of manifest.contributes.commands) assert.ok(registered.has(command), `${command} is not registered`);
  });

  it('runs the API load test from its command, in a worker, and the tree and dashboard follow', async function () {
    this.timeout(60_000);
    const phase3 = await api();
    const server = await startServer(2);
    const posted: HostToWebview[] = [];
    const listener = phase3.dashboard.onDidPost((m) => posted.push(m));
    try {
      writeConfig({ target: { url: server.url }, api: { requests: 2000, connections: 100 }, thresholds: { 'api.p95': 60_000, 'api.p99': 60_000 } });
      const run = (await vscode.commands.executeCommand('phase3.runApi')) as RunResult | null;
      assert.ok(run, 'the run started');
      const api = run.tasks.api;
      assert.ok(api);
      assert.equal(api.status, 'passed', JSON.stringify(api.criteria));
      assert.equal((api.metrics as { requests: number }).requests, 2000);
      assert.ok(fs.existsSync(path.join(workspaceDir(), '.phase3', 'runs', `${run.runId}.json`)), 'the result file was saved');

      // The tree: the task node shows the run's criteria, the History lists the run.
      assert.equal(phase3.model.history[0]?.runId, run.runId);
      const roots = phase3.tree.getChildren();
      const taskNode = roots.find((n) => n.kind === 'task' && n.task === 'api');
      assert.ok(taskNode);
      assert.match(String(phase3.tree.getTreeItem(taskNode).description), /^passed 5\/5/);
      const labels = phase3.tree.getChildren(taskNode).map((n) => String(phase3.tree.getTreeItem(n).label));
      assert.ok(labels.some((l) => /^✓ P95 latency [\d.]+ ms < 60000 ms$/.test(l)), labels.join('\n'));
      assert.ok(roots.some((n) => n.kind === 'history'));

      // The dashboard got the run as it went: start, per-second series, the task, the end.
      await until(() => posted.some((m) => m.type === 'runFinished'), 20_000, 'the dashboard to receive runFinished');
      const types = posted.map((m) => m.type);
      assert.ok(types.indexOf('runStarted') < types.indexOf('taskFinished'));
      assert.ok(types.indexOf('taskFinished') < types.indexOf('runFinished'));
      const finished = posted.find((m) => m.type === 'runFinished');
      assert.ok(finished && finished.type === 'runFinished');
      assert.ok((finished.run.tasks.api?.distribution.length ?? 0) > 5, 'the percentile distribution was sent');
      assert.ok((finished.run.tasks.api?.series.length ?? 0) >= 1, 'the series was sent');
    } finally {
      listener.dispose();
      await server.close();
    }
  });

  it('cancels a run from the Cancel Run command and keeps what was measured', async function () {
    this.timeout(60_000);
    const phase3 = await api();
    const server = await startServer(1);
    try {
      writeConfig({ target: { url: server.url }, api: { durationS: 60, connections: 10 } });
      const pending = vscode.commands.executeCommand('phase3.runApi') as Thenable<RunResult | null>;
      await until(() => phase3.model.live?.current?.last, 15_000, 'the first interval');
      const cancelledAt = Date.now();
      await vscode.commands.executeCommand('phase3.cancelRun');
      const run = await pending;
      assert.ok(run);
      assert.equal(run.tasks.api?.status, 'cancelled');
      assert.ok(Date.now() - cancelledAt < 10_000, 'the run stopped within the grace period');
      assert.ok(((run.tasks.api?.metrics as { requests?: number }).requests ?? 0) > 0);
      assert.equal(phase3.runs.isRunning, false);
    } finally {
      await server.close();
    }
  });

  it('refuses a bad config with a message and starts no run', async () => {
    const phase3 = await api();
    writeConfig({ target: { url: 'http://127.0.0.1:1/graphql' }, api: { connections: 0 } });
    const before = phase3.model.history.length;
    const run = await vscode.commands.executeCommand('phase3.runApi');
    assert.equal(run, null);
    assert.equal(phase3.model.history.length, before);
  });
});
