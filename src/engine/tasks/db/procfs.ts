/**
 * CPU and memory of a local process tree (a PostgreSQL on this machine) read from /proc, Linux
 * only. CPU = Δ(utime + stime) over the tree / (Δt × online cores); memory = Σ PSS (RSS when
 * smaps_rollup is unreadable) / total memory. PSS splits shared buffers fairly between the
 * backends; RSS would count them once per backend. Backends that exit between two samples take
 * their last ticks with them (the probe connections are long-lived, so this rarely matters).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
  rssPages: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24.
    return { pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]), rssPages: Number(rest[21]) };
  } catch {
    return null;
  }
}

/** The process and all its descendants, as they are now. */
export function processTree(rootPid: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const root = all.find((s) => s.pid === rootPid);
  if (!root) return [];
  const tree: ProcStat[] = [];
  const queue = [root];
  while (queue.length) {
    const s = queue.shift() as ProcStat;
    tree.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return tree;
}

function memoryBytes(s: ProcStat, pageSize: number): { bytes: number; pss: boolean } {
  try {
    const text = readFileSync(`/proc/${s.pid}/smaps_rollup`, 'utf8');
    const m = /^Pss:\s+(\d+) kB/m.exec(text);
    if (m) return { bytes: Number(m[1]) * 1024, pss: true };
  } catch {
    // fall through to RSS
  }
  return { bytes: s.rssPages * pageSize, pss: false };
}

export interface ProcessSample {
  atMs: number;
  ticks: number;
  memoryBytes: number;
  processes: number;
  pss: boolean;
}

export function sampleTree(rootPid: number): ProcessSample | null {
  const tree = processTree(rootPid);
  if (!tree.length) return null;
  const pageSize = 4096;
  let ticks = 0;
  let bytes = 0;
  let pss = true;
  for (const s of tree) {
    ticks += s.ticks;
    const m = memoryBytes(s, pageSize);
    bytes += m.bytes;
    pss &&= m.pss;
  }
  return { atMs: performance.now(), ticks, memoryBytes: bytes, processes: tree.length, pss };
}

/** Samples a process tree every `everyMs` and keeps CPU % and memory % per sample. */
export class ProcessSampler {
  readonly cpu: number[] = [];
  readonly memory: number[] = [];
  private last: ProcessSample | null;
  private readonly timer: NodeJS.Timeout;
  private readonly cores = os.availableParallelism();
  private readonly totalMemory = os.totalmem();
  maxProcesses = 0;
  usedPss = true;
  lost = false;
  private stopped = false;

  constructor(private readonly pid: number, everyMs: number) {
    this.last = sampleTree(pid);
    if (!this.last) this.lost = true;
    else this.record(this.last, null);
    this.timer = setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  get found(): boolean {
    return this.memory.length > 0;
  }

  get description(): string {
    return `local process tree of pid ${this.pid} (${this.maxProcesses} processes) from /proc: CPU Δ(utime+stime) / (Δt × ${this.cores} cores), memory Σ ${this.usedPss ? 'PSS' : 'RSS'} / ${Math.round(this.totalMemory / 2 ** 20)} MiB total`;
  }

  tick(): void {
    const now = sampleTree(this.pid);
    if (!now) {
      this.lost = true;
      return;
    }
    this.record(now, this.last);
    this.last = now;
  }

  private record(now: ProcessSample, prev: ProcessSample | null): void {
    this.maxProcesses = Math.max(this.maxProcesses, now.processes);
    this.usedPss &&= now.pss;
    this.memory.push((now.memoryBytes / this.totalMemory) * 100);
    if (prev) {
      const dtS = (now.atMs - prev.atMs) / 1000;
      const dTicks = Math.max(0, now.ticks - prev.ticks);
      if (dtS > 0) this.cpu.push((dTicks / ticksPerSecond() / (dtS * this.cores)) * 100);
    }
  }

  /** Takes the last sample, once: a second stop (the task's finally) reads nothing more. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.tick();
  }
}
