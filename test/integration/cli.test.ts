import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixedDelay, sendJson, startServer } from '../helpers/servers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'phase3.js');

interface CliResult { code: number | null; stdout: string; stderr: string }

function phase3(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } ): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (child.pid) opts.onSpawn?.(child.pid);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-cli-'));
}

/**
 * A folder whose config relaxes the latency targets: tests pin pass/fail logic and exit codes,
 * not how fast a shared machine happens to be.
 */
function relaxedDir(): string {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'phase3.config.json'), JSON.stringify({ thresholds: { 'api.p95': 60_000, 'api.p99': 60_000 } }));
  return dir;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('an unreachable target exits 2 with one line and sends no load', async () => {
  const cwd = tmpdir();
  const port = await closedPort();
  const r = await phase3(['run', 'api', '--url', `http://127.0.0.1:${port}/graphql`, '-n', '100', '-c', '10'], { cwd });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^phase3: target unreachable: POST http:\/\/127\.0\.0\.1:\d+\/graphql: connection refused/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(fs.existsSync(path.join(cwd, '.phase3')), false, 'no run saved');
});

test('a 404 at the pre-flight request exits 2 before any load', async () => {
  const server = await startServer((_req, res) => sendJson(res, 404, '{"error":"not found"}'));
  try {
    const r = await phase3(['run', 'api', '--url', server.url, '-n', '500', '-c', '10'], { cwd: tmpdir() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /HTTP 404/);
    assert.equal(server.received(), 1, 'only the pre-flight request reached the server');
  } finally {
    await server.close();
  }
});

test('a bad config exits 2 naming the file and JSON path of each problem', async () => {
  const cwd = tmpdir();
  fs.writeFileSync(path.join(cwd, 'phase3.config.json'), JSON.stringify({ target: { url: 'http://127.0.0.1:1/graphql' }, api: { connections: -5 } }));
  const r = await phase3(['run', 'api'], { cwd });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /phase3\.config\.json: \$\.api\.connections: expected >= 1, got -5/);
});

test('bad flags exit 2 with one line', async () => {
  const cwd = tmpdir();
  const a = await phase3(['run', 'api', '--url', 'http://127.0.0.1:1/graphql', '-c', 'lots'], { cwd });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--connections: expected a number, got "lots"/);
  const b = await phase3(['run', 'apj'], { cwd });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /unknown task "apj"/);
  const c = await phase3(['run', 'api', '--url', 'https://prod.example.com/graphql'], { cwd });
  assert.equal(c.code, 2);
  assert.match(c.stderr, /refusing to send load to prod\.example\.com/);
});

test('a passing run exits 0, prints the report and saves a redacted result', async () => {
  const server = await startServer(fixedDelay(1));
  const cwd = relaxedDir();
  try {
    fs.writeFileSync(path.join(cwd, 'query.json'), '{"query":"{ __typename }"}');
    const r = await phase3(
      ['run', 'api', '--url', server.url, '--body', 'query.json', '-n', '300', '-c', '100', '--json', 'out.json', '--db-url', 'postgres://app:hunter2-secret@127.0.0.1:5433/yb'],
      { cwd },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /✓ P95 latency [\d.]+ ms < 60000 ms/);
    assert.match(r.stdout, /p99\.9/);
    assert.match(r.stdout, /Result saved to \.phase3\/runs\/[\w-]+\.json/);
    const saved = fs.readdirSync(path.join(cwd, '.phase3', 'runs'));
    assert.equal(saved.length, 1);
    const text = fs.readFileSync(path.join(cwd, 'out.json'), 'utf8');
    assert.doesNotMatch(text, /hunter2-secret/);
    const run = JSON.parse(text);
    assert.equal(run.schemaVersion, 1);
    assert.equal(run.target.db, 'postgres://app:***@127.0.0.1:5433/yb');
    assert.equal(run.tasks.api.metrics.requests, 300);
    assert.equal(run.tasks.api.status, 'passed');
    assert.equal(typeof run.tasks.api.histogram, 'string');
  } finally {
    await server.close();
  }
});

test('a failed criterion exits 1', async () => {
  const server = await startServer(fixedDelay(1));
  try {
    const r = await phase3(['run', 'api', '--url', server.url, '-n', '100', '-c', '10'], { cwd: tmpdir() });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ Concurrent connections 10 ≥ 100/);
  } finally {
    await server.close();
  }
});

test('Ctrl-C stops the load, saves what was measured marked cancelled', async () => {
  const server = await startServer(fixedDelay(2));
  const cwd = tmpdir();
  try {
    let pid = 0;
    const done = phase3(['run', 'api', '--url', server.url, '-d', '60', '-c', '10', '--json', 'out.json'], { cwd, onSpawn: (p) => (pid = p) });
    await new Promise((r) => setTimeout(r, 2500));
    process.kill(pid, 'SIGINT');
    const r = await done;
    assert.equal(r.code, 1);
    assert.match(r.stdout, /CANCELLED/);
    const run = JSON.parse(fs.readFileSync(path.join(cwd, 'out.json'), 'utf8'));
    assert.equal(run.tasks.api.status, 'cancelled');
    assert.ok(run.tasks.api.metrics.requests > 0);
  } finally {
    await server.close();
  }
});

test('report and compare read saved runs', async () => {
  const server = await startServer(fixedDelay(1));
  const cwd = relaxedDir();
  try {
    await phase3(['run', 'api', '--url', server.url, '-n', '200', '-c', '100', '--json', 'a.json'], { cwd });
    await phase3(['run', 'api', '--url', server.url, '-n', '200', '-c', '20', '--json', 'b.json'], { cwd });
    const md = await phase3(['report'], { cwd });
    assert.equal(md.code, 0);
    assert.match(md.stdout, /\| api \| P95 latency \|/);
    const junit = await phase3(['report', '--run', 'a.json', '--format', 'junit'], { cwd });
    assert.match(junit.stdout, /<testsuite name="phase3.api" tests="5" failures="0"/);
    const cmp = await phase3(['compare', 'a.json', 'b.json'], { cwd });
    assert.equal(cmp.code, 1, cmp.stdout);
    assert.match(cmp.stdout, /api\.concurrency\s+100\s+20\s+-80 \(-80%\)\s+REGRESSED/);
    const missing = await phase3(['report', '--run', 'nope'], { cwd });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no run "nope"/);
  } finally {
    await server.close();
  }
});

const pgDirs = (): string[] => fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('phase3-pg-')).sort();

test('run --demo aims the load at the embedded target and leaves nothing behind', async () => {
  const before = pgDirs();
  const cwd = tmpdir();
  const r = await phase3(['run', 'api', '--demo', '-n', '400', '-c', '100', '--json', 'out.json'], { cwd });
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const run = JSON.parse(fs.readFileSync(path.join(cwd, 'out.json'), 'utf8'));
  assert.equal(run.demo, true);
  assert.equal(run.tasks.api.metrics.requests, 400);
  assert.equal(run.tasks.api.metrics.errors, 0);
  assert.doesNotMatch(JSON.stringify(run), /postgres:\/\/[^:]+:[^*][^@]*@/, 'the demo database password is redacted');
  assert.deepEqual(pgDirs(), before);
});

test('demo --serve prints its URLs and Ctrl-C stops the target cleanly', async () => {
  const before = pgDirs();
  let pid = 0;
  let stdout = '';
  const child = spawn(process.execPath, [BIN, 'demo', '--serve'], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  pid = child.pid ?? 0;
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${stdout}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /GraphQL API: (\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
  assert.equal(await answer.text(), '{"data":{"__typename":"Query"}}');
  process.kill(pid, 'SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(url, { method: 'POST', body: '{}' }), 'the API is gone');
  assert.deepEqual(pgDirs(), before);
});

test('checklist: fills the Phase 3 section from a saved run and says what changed', async () => {
  const server = await startServer(fixedDelay(1));
  const cwd = relaxedDir();
  try {
    const fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'checklists', 'full.md'), 'utf8');
    fs.writeFileSync(path.join(cwd, 'MAINNET_MIGRATION_CHECKLIST.md'), fixture);
    const run = await phase3(['run', 'api', '--url', server.url, '-n', '300', '-c', '100', '--checklist', 'MAINNET_MIGRATION_CHECKLIST.md'], { cwd });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /MAINNET_MIGRATION_CHECKLIST\.md:\d+: filled \[api\.p95\]/);
    const filled = fs.readFileSync(path.join(cwd, 'MAINNET_MIGRATION_CHECKLIST.md'), 'utf8');
    assert.match(filled, /- \[x\] P95 latency: \*\*[\d.]+\*\* ms/);
    assert.ok(filled.includes('<!-- phase3-perf:results:start -->'));
    // Everything before Phase 3 is byte for byte what it was.
    const phase3At = fixture.indexOf('## Phase 3');
    assert.equal(filled.slice(0, phase3At), fixture.slice(0, phase3At));

    const again = await phase3(['checklist', '--file', 'MAINNET_MIGRATION_CHECKLIST.md'], { cwd });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already up to date/);
    assert.equal(fs.readFileSync(path.join(cwd, 'MAINNET_MIGRATION_CHECKLIST.md'), 'utf8'), filled);
  } finally {
    await server.close();
  }
});

test('checklist: a missing file is exit 2 before any load, and is created only when asked', async () => {
  const server = await startServer(fixedDelay(1));
  const cwd = relaxedDir();
  try {
    const r = await phase3(['run', 'api', '--url', server.url, '-n', '200', '-c', '100', '--checklist', 'NOPE.md'], { cwd });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--checklist: NOPE\.md: no such file/);
    assert.equal(server.received(), 0, 'no load was sent');
    await phase3(['run', 'api', '--url', server.url, '-n', '200', '-c', '100'], { cwd });
    const refused = await phase3(['checklist', '--file', 'NEW.md'], { cwd });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /NEW\.md: no such file \(pass --create/);
    const created = await phase3(['checklist', '--file', 'NEW.md', '--create'], { cwd });
    assert.equal(created.code, 0, created.stderr);
    assert.match(fs.readFileSync(path.join(cwd, 'NEW.md'), 'utf8'), /## Phase 3: Performance Testing/);
  } finally {
    await server.close();
  }
});
