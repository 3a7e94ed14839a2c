/**
 * Child processes for the bench: targets in their own processes, and measured runs of a command
 * (its CPU seconds and peak RSS). Every process started here is tracked and stopped by stopAll().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * CPU accounting: GNU time (`/usr/bin/time`, Debian package `time`, present here) runs the command
 * and, when it exits, reports the rusage of the waited child: user and system CPU seconds of the
 * whole process (every thread: main, worker thread, GC and libuv threads) and its max RSS (%M,
 * ru_maxrss, the same figure as /proc/<pid>/status VmHWM). Neither our CLI nor autocannon (without
 * -w) starts child processes, so the process is the whole generator. `bash -c 'cmd; times'` would
 * also work, but gives no peak RSS; process.cpuUsage() in a wrapper would not see the child at all.
 */
export const GNU_TIME = '/usr/bin/time';

const live = new Set<ChildProcess>();

/** Signals the process group we created (detached: the child leads it), else the child itself. */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** True while any process of the group led by `pgid` (a child we spawned detached) is alive. */
function groupAlive(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM to the child's whole group (GNU time and the command under it), SIGKILL after 2 s, and
 * wait until every member is gone: a CLI stopping gracefully still writes its result files.
 */
async function stop(child: ChildProcess): Promise<void> {
  killTree(child, 'SIGTERM');
  const deadline = Date.now() + 2000;
  while ((child.exitCode === null && child.signalCode === null) || groupAlive(child.pid)) {
    if (Date.now() > deadline) {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await Promise.race([exited(child), sleep(1000)]);
      break;
    }
    await sleep(50);
  }
  live.delete(child);
}

/** Stops every process still running that this module started. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stop(c)));
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export type TargetMode = 'graphql' | 'trivial' | 'delay';

export interface Target {
  mode: TargetMode;
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  /** http://127.0.0.1:PORT */
  base: string;
  /** CPU seconds (user + sys) the target process has used so far, from /proc/<pid>/stat. */
  cpuS(): number;
  stop(): Promise<void>;
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks). */
function processCpuS(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** Starts bench/targets/graphql-target.ts in its own process and waits for its port. */
export async function startTarget(mode: TargetMode, extraArgs: string[] = []): Promise<Target> {
  const script = path.join(REPO_ROOT, 'bench', 'targets', 'graphql-target.ts');
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', script, '--mode', mode, ...extraArgs], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${mode} target did not report its port within 20 s`)), 20_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n')) {
        clearTimeout(timer);
        try {
          const parsed = JSON.parse(line) as { port?: unknown };
          if (typeof parsed.port === 'number') resolve(parsed.port);
          else reject(new Error(`${mode} target printed ${line}`));
        } catch {
          reject(new Error(`${mode} target printed ${line}`));
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} target exited (code ${code}) before reporting its port`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return { mode, url: `${base}/graphql`, base, cpuS: () => processCpuS(child.pid), stop: () => stop(child) };
}

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallS: number;
  userS: number;
  sysS: number;
  cpuS: number;
  /** Peak resident set of the command's process (GNU time %M), MB. */
  peakRssMb: number;
  /** Highest VmRSS seen polling /proc every 100 ms (only with pollRss), MB. */
  polledRssMb?: number;
}

function readRssKb(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The pid GNU time forked for the command (its only child). */
function childPidOf(pid: number): number | null {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

let seq = 0;
export const TMP_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'phase3-bench-'));

/**
 * Runs `argv` under GNU time and returns its output, exit code, CPU seconds and peak RSS.
 * The run is killed (and this rejects) if it takes longer than `timeoutMs`.
 */
export async function runMeasured(
  argv: string[],
  options: { cwd: string; timeoutMs: number; pollRss?: boolean },
): Promise<Measured> {
  const timeFile = path.join(TMP_DIR, `time-${++seq}.txt`);
  const child = track(
    spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, '--', ...argv], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => (stdout += c));
  child.stderr?.on('data', (c: string) => (stderr += c));

  let polledKb = 0;
  let poller: NodeJS.Timeout | null = null;
  if (options.pollRss && child.pid !== undefined) {
    const timePid = child.pid;
    let target: number | null = null;
    poller = setInterval(() => {
      target ??= childPidOf(timePid);
      if (target === null) return;
      const kb = readRssKb(target);
      if (kb !== null && kb > polledKb) polledKb = kb;
    }, 100);
  }

  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    killTree(child, 'SIGKILL');
  }, options.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, sig) => resolve([c, sig]));
  });
  clearTimeout(killer);
  if (poller) clearInterval(poller);
  if (timedOut) throw new Error(`${argv.join(' ')}: still running after ${options.timeoutMs / 1000} s, killed`);
  if (signal) throw new Error(`${argv.join(' ')}: stopped by ${signal}`);

  let text: string;
  try {
    text = fs.readFileSync(timeFile, 'utf8').trim();
  } catch {
    throw new Error(`${argv.join(' ')}: GNU time wrote no report (exit ${code}); stderr:\n${stderr}`);
  }
  // On a non-zero exit GNU time writes "Command exited with non-zero status N" first.
  const last = text.split('\n').pop() ?? '';
  const [wallS, userS, sysS, rssKb] = last.split(' ').map(Number);
  if (![wallS, userS, sysS, rssKb].every(Number.isFinite)) throw new Error(`cannot read GNU time's report: ${text}`);
  return {
    code,
    stdout,
    stderr,
    wallS,
    userS,
    sysS,
    cpuS: userS + sysS,
    peakRssMb: rssKb / 1024,
    ...(options.pollRss ? { polledRssMb: polledKb / 1024 } : {}),
  };
}

/** A small HTTP call to a target's control endpoints (/stats, /reset). */
export async function control<T>(url: string, method: 'GET' | 'POST'): Promise<T> {
  const res = await fetch(url, { method });
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
