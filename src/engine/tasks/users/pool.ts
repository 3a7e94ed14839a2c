/**
 * The users of one load thread: brought to the count the coordinator asks for (the newest leave
 * first, after their answer), recording into this thread's recorder, which hands its figures over
 * each sample together with how busy this thread was.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { LoadRecorder, type RecorderPart } from '../../load/recorder';
import { clientOptions, VirtualUser, type UserTarget } from './user';

/** How busy a load thread was since its last sample. */
export interface ThreadLoad {
  /** Event-loop utilization, 0..1: the share of the time the thread was not idle. */
  utilization: number;
  /** p99 event-loop delay, ms. */
  lagP99Ms: number;
}

export interface PoolSample {
  part: RecorderPart;
  load: ThreadLoad;
}

/** This thread's event-loop utilization and delay, between samples. */
export class ThreadWatch {
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });
  private last: EventLoopUtilization = performance.eventLoopUtilization();

  constructor() {
    this.delay.enable();
  }

  sample(): ThreadLoad {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
    const lagP99Ms = this.delay.count ? this.delay.percentile(99) / 1e6 : 0;
    this.delay.reset();
    return { utilization, lagP99Ms };
  }

  close(): void {
    this.delay.disable();
  }
}

export class UserPool {
  private readonly users: VirtualUser[] = [];
  private readonly leaving = new Set<VirtualUser>();
  private readonly recorder: LoadRecorder;
  private readonly watch = new ThreadWatch();
  private readonly options: ReturnType<typeof clientOptions>;

  constructor(private readonly target: UserTarget) {
    this.options = clientOptions(target.request);
    this.recorder = new LoadRecorder({ corrected: target.thinkTimeMs > 0 });
  }

  /** `spreadMs`: new users arrive at random within it instead of all at once. */
  setUsers(count: number, spreadMs = 0): void {
    while (this.users.length < count) {
      this.users.push(new VirtualUser(this.options, this.target.thinkTimeMs, this.recorder, Math.random() * spreadMs));
    }
    while (this.users.length > count) {
      const user = this.users.pop() as VirtualUser;
      this.leaving.add(user);
      void user.done.then(() => this.leaving.delete(user));
      user.leave();
    }
  }

  sample(): PoolSample {
    return { part: this.recorder.takePart(), load: this.watch.sample() };
  }

  /** Users still finishing their last request stop now (a cancel during a graceful close). */
  hurry(): void {
    for (const user of this.leaving) user.stop();
  }

  /** All users leave, each after its answer (`graceful`), or at once; then the last sample. */
  async close(graceful: boolean): Promise<PoolSample> {
    this.setUsers(0);
    if (!graceful) this.hurry();
    await Promise.all([...this.leaving].map((u) => u.done));
    const last = this.sample();
    this.watch.close();
    this.recorder.destroy();
    return last;
  }
}
