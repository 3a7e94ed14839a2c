/**
 * The users task's load threads. The first runs on the task's own thread; more run in worker
 * threads (the task worker's own script, started in the `users-shard` role). The coordinator
 * decides how many users each thread carries: it adds new users to the least loaded thread and
 * takes leavers from the fullest, so a ramp never drops a user already running.
 *
 * The count adapts: it starts from what the plan needs (peak users × their request rate at the
 * think time, against a budget per thread) and grows, one thread at a time up to the machine's
 * cores, whenever every load thread was busy (event-loop utilization ≥ 75 %) over a sample; a new
 * thread takes its share of the running users (each moves after its answer). A fixed count
 * (`workers`) turns both off. Samples also tell when the generator itself was the limit: a thread
 * over 90 % busy or with p99 event-loop delay over 50 ms, in a quarter of them.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { LoadRecorder } from '../../load/recorder';
import { UserPool, type PoolSample, type ThreadLoad } from './pool';
import type { UserTarget } from './user';
import { USERS_THREAD_LIMITS } from './types';

export const USERS_SHARD_ROLE = 'users-shard';

/** What one load thread is planned to carry: requests per second it is started for. */
const RPS_PER_THREAD = 2000;
const GROW_AT = 0.75;
const BUSY_LIMIT = 0.9;
const LAG_LIMIT_MS = 50;
const SUSTAINED_SHARE = 0.25;

export interface ThreadPlan {
  initial: number;
  max: number;
  fixed: boolean;
  /** Add a thread when every thread was at least this busy over a sample (utilization, 0..1). */
  growAt: number;
}

/**
 * Threads to start with and the most to grow to. `workers` fixes the count. Without a script to
 * start workers from (a run on the caller's thread), there is one.
 */
export function planThreads(
  input: { peakUsers: number; thinkTimeMs: number; workers?: number },
  cores: number,
  canSpawn: boolean,
): ThreadPlan {
  if (!canSpawn) return { initial: 1, max: 1, fixed: true, growAt: GROW_AT };
  if (input.workers !== undefined) return { initial: input.workers, max: input.workers, fixed: true, growAt: GROW_AT };
  const max = Math.max(1, cores);
  // Each user sends at most one request per think time (as if answers took no time).
  const plannedRps = (input.peakUsers * 1000) / Math.max(input.thinkTimeMs, 1);
  const initial = Math.min(max, Math.max(1, Math.ceil(plannedRps / RPS_PER_THREAD)));
  return { initial, max, fixed: false, growAt: GROW_AT };
}

type ToShard =
  | { type: 'users'; count: number; spreadMs: number }
  | { type: 'sample'; seq: number }
  | { type: 'close'; graceful: boolean }
  | { type: 'hurry' };
type FromShard =
  | { type: 'ready' }
  | { type: 'sample'; seq: number; sample: PoolSample }
  | { type: 'closed'; sample: PoolSample };

/** How long a load worker may take to start, and beyond its users' own bounds to stop. */
const START_TIMEOUT_MS = 30_000;
const STOP_SLACK_MS = 5_000;

interface Shard {
  setUsers(count: number, spreadMs?: number): void;
  sample(): Promise<PoolSample>;
  /** All users leave (after their answers if graceful); at most `withinMs`, then it is ended. */
  close(graceful: boolean, withinMs: number): Promise<PoolSample>;
  /** A graceful close under way: stop the users still finishing a request. */
  hurry(): void;
}

class LocalShard implements Shard {
  private readonly pool: UserPool;
  constructor(target: UserTarget) {
    this.pool = new UserPool(target);
  }
  setUsers(count: number, spreadMs = 0): void {
    this.pool.setUsers(count, spreadMs);
  }
  sample(): Promise<PoolSample> {
    return Promise.resolve(this.pool.sample());
  }
  // On this thread the users' own timeouts bound the close: nothing here can outlive them.
  close(graceful: boolean): Promise<PoolSample> {
    return this.pool.close(graceful);
  }
  hurry(): void {
    this.pool.hurry();
  }
}

/** A load thread in a worker: the same pool, driven by messages. */
class RemoteShard implements Shard {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(s: PoolSample): void; reject(e: Error): void }>();
  private closing: { resolve(s: PoolSample): void; reject(e: Error): void } | null = null;
  private failure: Error | null = null;
  private readonly ready: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.ready = new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        this.failure ??= err;
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        this.closing?.reject(err);
      };
      worker.on('message', (message: FromShard) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'sample') {
          this.waiting.get(message.seq)?.resolve(message.sample);
          this.waiting.delete(message.seq);
        } else if (message.type === 'closed') this.closing?.resolve(message.sample);
      });
      worker.on('error', (err) => fail(new Error(`a load worker failed: ${err.message}`)));
      worker.on('exit', (code) => fail(new Error(`a load worker exited (code ${code})`)));
    });
    this.ready.catch(() => undefined);
  }

  static async start(script: string, target: UserTarget): Promise<RemoteShard> {
    const shard = new RemoteShard(new Worker(script, { workerData: { role: USERS_SHARD_ROLE, target }, resourceLimits: USERS_THREAD_LIMITS }));
    try {
      await withDeadline(shard.ready, START_TIMEOUT_MS, `a load worker did not start within ${START_TIMEOUT_MS / 1000} s`);
      return shard;
    } catch (err) {
      await shard.worker.terminate();
      throw err;
    }
  }

  private send(message: ToShard): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  setUsers(count: number, spreadMs = 0): void {
    this.send({ type: 'users', count, spreadMs });
  }

  sample(): Promise<PoolSample> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.send({ type: 'sample', seq });
    });
  }

  hurry(): void {
    this.send({ type: 'hurry' });
  }

  async close(graceful: boolean, withinMs: number): Promise<PoolSample> {
    try {
      if (this.failure) throw this.failure;
      const closed = new Promise<PoolSample>((resolve, reject) => {
        this.closing = { resolve, reject };
        this.send({ type: 'close', graceful });
      });
      return await withDeadline(closed, withinMs, `a load worker did not stop within ${Math.round(withinMs / 1000)} s; it was ended and its last second's figures are missing`);
    } finally {
      // Whatever the worker still holds goes with it: no socket or timer outlives the task.
      await this.worker.terminate();
    }
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The worker side of a RemoteShard (worker.ts starts it for the `users-shard` role). */
export function serveShard(port: MessagePort, target: UserTarget): void {
  const pool = new UserPool(target);
  const post = (message: FromShard): void => port.postMessage(message);
  port.on('message', (message: ToShard) => {
    switch (message.type) {
      case 'users':
        return pool.setUsers(message.count, message.spreadMs);
      case 'sample':
        return post({ type: 'sample', seq: message.seq, sample: pool.sample() });
      case 'close':
        return void pool.close(message.graceful).then((sample) => post({ type: 'closed', sample }));
      case 'hurry':
        return pool.hurry();
    }
  });
  post({ type: 'ready' });
}

interface Slot {
  shard: Shard;
  assigned: number;
  load: ThreadLoad;
}

export interface ThreadEvents {
  /** A thread was added (or could not be), in words, with the seconds since the start. */
  log(level: 'info' | 'warn', message: string): void;
}

export interface ThreadMetrics {
  /** Load threads at the end (the count only grows). */
  workers: number;
  maxWorkers: number;
  /** Seconds since the start at which a thread was added. */
  addedAtS: number[];
  limited: boolean;
  /** Worst sample's p99 event-loop delay over the load threads, ms. */
  eventLoopP99Ms: number;
  /** Worst sample's busiest load thread, percent of the time. */
  busiestPercent: number;
}

export class LoadThreads {
  private readonly slots: Slot[];
  private readonly rank: (slot: Slot) => number;
  /** A thread being added, if any: close() waits for it. */
  private growing: Promise<void> | null = null;
  private closed = false;
  private hurried = false;
  private cannotGrow = false;
  private readonly addedAtS: number[] = [];
  private samples = 0;
  private overLimit = 0;
  private worstLagMs = 0;
  private busiest = 0;

  private constructor(
    shards: Shard[],
    private readonly plan: ThreadPlan,
    private readonly target: UserTarget,
    private readonly script: string | undefined,
    private readonly events: ThreadEvents,
  ) {
    this.slots = shards.map((shard) => ({ shard, assigned: 0, load: { utilization: 0, lagP99Ms: 0 } }));
    // A thread that was busy takes new users only when every thread was; then the emptiest.
    this.rank = (slot) => (slot.load.utilization >= plan.growAt ? 1e9 : 0) + slot.assigned;
  }

  static async start(plan: ThreadPlan, target: UserTarget, script: string | undefined, events: ThreadEvents): Promise<LoadThreads> {
    const started = await Promise.allSettled(
      Array.from({ length: plan.initial - 1 }, () => RemoteShard.start(script as string, target)),
    );
    const remote = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(remote.map((s) => s.close(false, STOP_SLACK_MS).catch(() => undefined)));
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return new LoadThreads([new LocalShard(target), ...remote], plan, target, script, events);
  }

  /** Users per thread, in the order the threads were started. */
  get perThread(): number[] {
    return this.slots.map((s) => s.assigned);
  }

  /** Users the threads carry now (not counting those finishing their last request). */
  get assigned(): number {
    return this.slots.reduce((n, s) => n + s.assigned, 0);
  }

  /** Brings the users to `total`: new ones to the least loaded thread, leavers from the fullest. */
  setTotal(total: number): void {
    let current = this.assigned;
    if (current === total) return;
    const changed = new Set<Slot>();
    while (current < total) {
      const slot = this.slots.reduce((a, b) => (this.rank(b) < this.rank(a) ? b : a));
      slot.assigned++;
      changed.add(slot);
      current++;
    }
    while (current > total) {
      const slot = fullest(this.slots);
      slot.assigned--;
      changed.add(slot);
      current--;
    }
    for (const slot of changed) slot.shard.setUsers(slot.assigned);
  }

  /** Hands every thread's figures to `recorder`, notes how busy they were, grows if all were. */
  async sample(recorder: LoadRecorder, elapsedS: number): Promise<void> {
    const slots = [...this.slots];
    const samples = await Promise.all(slots.map((s) => s.shard.sample()));
    samples.forEach((sample, i) => {
      recorder.absorb(sample.part);
      slots[i].load = sample.load;
    });
    const loads = samples.map((s) => s.load);
    const busiest = Math.max(...loads.map((l) => l.utilization));
    const lag = Math.max(...loads.map((l) => l.lagP99Ms));
    this.samples++;
    this.busiest = Math.max(this.busiest, busiest);
    this.worstLagMs = Math.max(this.worstLagMs, lag);
    if (busiest > BUSY_LIMIT || lag > LAG_LIMIT_MS) this.overLimit++;
    const leastBusy = Math.min(...loads.map((l) => l.utilization));
    if (leastBusy >= this.plan.growAt && this.assigned > 0) this.grow(elapsedS, leastBusy);
  }

  private grow(elapsedS: number, busy: number): void {
    if (this.plan.fixed || this.cannotGrow || this.closed || this.growing || this.slots.length >= this.plan.max) return;
    const count = this.slots.length;
    this.growing = RemoteShard.start(this.script as string, this.target).then(
      async (shard) => {
        if (this.closed) {
          await shard.close(false, STOP_SLACK_MS).catch(() => undefined);
          return;
        }
        const slot: Slot = { shard, assigned: 0, load: { utilization: 0, lagP99Ms: 0 } };
        this.slots.push(slot);
        this.addedAtS.push(Math.round(elapsedS * 10) / 10);
        const moved = this.rebalance(slot);
        this.events.log('info', `load thread ${count + 1} of at most ${this.plan.max} added at ${elapsedS.toFixed(1)} s (the ${count} running were ${Math.round(busy * 100)} % busy or more); ${moved} users moved to it, each after its answer`);
      },
      (err: unknown) => {
        this.cannotGrow = true;
        this.events.log('warn', `could not add a load thread: ${err instanceof Error ? err.message : String(err)}`);
      },
    ).finally(() => {
      this.growing = null;
    });
  }

  /**
   * Gives a new thread its share of the users now running, taken from the fullest threads: each
   * moved user finishes its request where it was and carries on from the new thread, so the count
   * stays on the stage line (a plateau would otherwise never reach the new thread).
   */
  private rebalance(into: Slot): number {
    const share = Math.floor(this.assigned / this.slots.length);
    const changed = new Set<Slot>([into]);
    while (into.assigned < share) {
      const from = fullest(this.slots);
      from.assigned--;
      into.assigned++;
      changed.add(from);
    }
    // The moved users arrive spread over one think time, not in one burst in step.
    for (const slot of changed) slot.shard.setUsers(slot.assigned, slot === into ? this.target.thinkTimeMs : 0);
    return into.assigned;
  }

  /** A graceful close under way or about to be: the users still finishing a request stop now (a cancel). */
  hurry(): void {
    this.hurried = true;
    for (const slot of this.slots) slot.shard.hurry();
  }

  /**
   * Every user leaves (after its answer if `graceful`, so within the request timeout); the
   * threads' last figures go to `recorder`; every worker is ended, whatever happens.
   */
  async close(graceful: boolean, recorder: LoadRecorder): Promise<void> {
    this.closed = true;
    await this.growing;
    // A cancel that came while a thread was still being added.
    if (this.hurried) graceful = false;
    for (const slot of this.slots) slot.assigned = 0;
    const withinMs = (graceful ? this.target.request.timeoutMs : 0) + STOP_SLACK_MS;
    const last = await Promise.allSettled(this.slots.map((s) => s.shard.close(graceful, withinMs)));
    for (const s of last) if (s.status === 'fulfilled') recorder.absorb(s.value.part);
    const failed = last.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }

  metrics(): ThreadMetrics {
    return {
      workers: this.slots.length,
      maxWorkers: this.plan.max,
      addedAtS: this.addedAtS,
      limited: this.samples > 0 && this.overLimit >= Math.max(1, Math.ceil(this.samples * SUSTAINED_SHARE)),
      eventLoopP99Ms: Math.round(this.worstLagMs * 10) / 10,
      busiestPercent: Math.round(this.busiest * 1000) / 10,
    };
  }
}

const fullest = (slots: readonly Slot[]): Slot => slots.reduce((a, b) => (b.assigned > a.assigned ? b : a));

export const defaultCores = (): number => availableParallelism();
