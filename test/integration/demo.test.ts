/**
 * The demo target against real processes: embedded PostgreSQL, the GraphQL server, and the
 * watchdog that must stop postgres when the Node process that started it is SIGKILLed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startDemoTarget, type DemoTarget } from '../../src/demo/target';
import { startPostgres } from '../../src/demo/postgres';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

describe('demo target', () => {
  let target: DemoTarget;
  let dataDir: string;

  before(async () => {
    target = await startDemoTarget();
    dataDir = await queryDataDirectory(target.dbUrl);
  });

  after(async () => {
    await target?.stop();
  });

  test('{ __typename } answers exactly the canonical body', async () => {
    const res = await postGraphql(target.graphqlUrl, { query: '{ __typename }' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(await res.text(), '{"data":{"__typename":"Query"}}');
  });

  test('50 concurrent recordUsage calls for one user add up exactly', async () => {
    const mutation = 'mutation($u: String!) { recordUsage(userId: $u, bandwidth: 2) { requests } }';
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => postGraphql(target.graphqlUrl, { query: mutation, variables: { u: 'hot-user' } })),
    );
    for (const res of responses) assert.equal(res.status, 200);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ errors?: unknown }>;
    assert.deepEqual(bodies.filter((b) => b.errors), []);

    const res = await postGraphql(target.graphqlUrl, {
      query: 'query Q($u: String!) { usage(userId: $u) { userId requests bandwidth compute updatedAt } }',
      variables: { u: 'hot-user' },
      operationName: 'Q',
    });
    const body = (await res.json()) as { data: { usage: { requests: number; bandwidth: number; compute: number; updatedAt: string } } };
    assert.equal(body.data.usage.requests, 50);
    assert.equal(body.data.usage.bandwidth, 100);
    assert.equal(body.data.usage.compute, 0);
    assert.ok(!Number.isNaN(Date.parse(body.data.usage.updatedAt)), `updatedAt is a date: ${body.data.usage.updatedAt}`);
  });

  test('users are seeded and limited', async () => {
    const res = await postGraphql(target.graphqlUrl, { query: '{ users(limit: 5) { id name } }' });
    const body = (await res.json()) as { data: { users: Array<{ id: string; name: string }> } };
    assert.equal(body.data.users.length, 5);
    assert.deepEqual(body.data.users[0], { id: '1', name: 'user-1' });
  });

  test('a query with an unknown field is a 400 with an errors array', async () => {
    const res = await postGraphql(target.graphqlUrl, { query: '{ usage(userId: "x") { nope } }' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors?: Array<{ message: string }>; data?: unknown };
    assert.ok(Array.isArray(body.errors) && body.errors.length > 0, 'errors array present');
    assert.match(body.errors[0].message, /nope/);
    assert.equal(body.data, undefined);
  });

  test('a syntax error is a 400 with an errors array', async () => {
    const res = await postGraphql(target.graphqlUrl, { query: '{ usage(' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors?: unknown[] };
    assert.ok(Array.isArray(body.errors) && body.errors.length > 0);
  });

  test('unknown paths are 404 and /healthz is ok', async () => {
    const base = new URL(target.graphqlUrl);
    assert.equal((await fetch(new URL('/nope', base))).status, 404);
    const health = await fetch(new URL('/healthz', base));
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok');
  });

  test('stop() leaves no postgres, no data directory and no listening port', async () => {
    assert.ok(isProcessGone(target.postgresPid) === false, 'postgres runs before stop');
    assert.ok(existsSync(dataDir), 'data directory exists before stop');
    const port = Number(new URL(target.graphqlUrl).port);

    await target.stop();
    await target.stop(); // idempotent

    assert.throws(() => process.kill(target.postgresPid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(dataDir), false);
    await assert.rejects(connectTcp(port), { code: 'ECONNREFUSED' });
  });
});

describe('embedded postgres lifecycle', () => {
  test('postgres dies and its data directory goes when the starting Node process is SIGKILLed', async () => {
    const moduleUrl = pathToFileURL(path.join(REPO_ROOT, 'src/demo/postgres.ts')).href;
    const script = [
      `import { startPostgres } from ${JSON.stringify(moduleUrl)};`,
      'const pg = await startPostgres();',
      'process.stdout.write(JSON.stringify({ pid: pg.pid, dataDir: pg.dataDir }) + "\\n");',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const started = (await readFirstJsonLine(child.stdout, child.stderr, 20_000)) as { pid: number; dataDir: string };
      assert.equal(isProcessGone(started.pid), false, 'postgres runs before the kill');
      assert.ok(existsSync(started.dataDir));

      child.kill('SIGKILL');
      const gone = await waitFor(() => isProcessGone(started.pid) && !existsSync(started.dataDir), 10_000);
      assert.ok(gone, `postgres ${started.pid} gone: ${isProcessGone(started.pid)}, ${started.dataDir} removed: ${!existsSync(started.dataDir)}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('an already-aborted signal rejects and starts nothing', async () => {
    const before = phase3DataDirs();
    const childrenBefore = childPids();
    await assert.rejects(startDemoTarget({ signal: AbortSignal.abort() }), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'AbortError');
      return true;
    });
    assert.deepEqual(phase3DataDirs(), before);
    assert.deepEqual(childPids().filter((pid) => !childrenBefore.includes(pid)), [], 'no new child processes');
  });

  test('aborting during start stops what was started and removes the data directory', async () => {
    const controller = new AbortController();
    let dataDir: string | undefined;
    let abortedDuringInitdb = false;
    const starting = startPostgres({
      signal: controller.signal,
      log: (line) => {
        dataDir ??= /existing directory (\S+phase3-pg-\S+) \.\.\./.exec(line)?.[1];
        // Abort in the middle of initdb, while its single-user backend (a grandchild) runs.
        if (line.includes('running bootstrap script')) {
          abortedDuringInitdb = true;
          controller.abort();
        }
      },
    });
    await assert.rejects(starting, { name: 'AbortError' });
    assert.ok(dataDir && abortedDuringInitdb, 'the abort happened while initdb ran');
    assert.equal(existsSync(dataDir), false, `${dataDir} removed`);
    const clean = await waitFor(() => livePidsMentioning(dataDir ?? '').length === 0, 3_000);
    assert.ok(clean, `no process still runs on ${dataDir}: ${livePidsMentioning(dataDir).join(', ')}`);
  });
});

// ---------------------------------------------------------------------------------------------

function postGraphql(url: string, body: { query: string; variables?: Record<string, unknown>; operationName?: string }): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function queryDataDirectory(dbUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return rows[0].data_directory;
  } finally {
    await client.end();
  }
}

function connectTcp(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/**
 * Gone or a zombie: an orphaned postmaster is reparented to pid 1, which in this kind of
 * container never reaps, so a dead one can keep answering kill(pid, 0).
 */
function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

function phase3DataDirs(): string[] {
  return readdirSync(os.tmpdir()).filter((n) => n.startsWith('phase3-pg-')).sort();
}

function childPids(): number[] {
  try {
    const text = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number).sort((a, b) => a - b) : [];
  } catch {
    return [];
  }
}

/** Processes (initdb, its bootstrap backend, postgres) started on the directory. */
function livePidsMentioning(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        // initdb hands the directory to its backend through PGDATA, not the command line.
        const names = readFileSync(`/proc/${pid}/cmdline`, 'utf8') + readFileSync(`/proc/${pid}/environ`, 'utf8');
        return names.includes(dir) && !isProcessGone(pid);
      } catch {
        return false;
      }
    });
}

function readFirstJsonLine(
  stdout: NodeJS.ReadableStream | null,
  stderr: NodeJS.ReadableStream | null,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`child printed nothing within ${timeoutMs} ms: ${err}`)), timeoutMs);
    stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, newline)));
      } catch (e) {
        reject(new Error(`child printed non-JSON '${out.slice(0, newline)}': ${String(e)}`));
      }
    });
    stdout?.on('end', () => {
      clearTimeout(timer);
      reject(new Error(`child exited before printing: ${err.trim()}`));
    });
  });
}
