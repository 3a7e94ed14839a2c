/**
 * A task's load stops on cancel, at its time bound, or when its run says the work it ran
 * alongside is done (`finish`: a normal end, not a cancel), whichever comes first.
 */
export class LoadStop {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private bounded = false;
  private readonly onCancel = (): void => this.controller.abort();

  constructor(private readonly cancel: AbortSignal, boundS: number, private readonly finish?: AbortSignal) {
    cancel.addEventListener('abort', this.onCancel, { once: true });
    finish?.addEventListener('abort', this.onCancel, { once: true });
    if (cancel.aborted || finish?.aborted) this.controller.abort();
    this.timer = setTimeout(() => {
      this.bounded = true;
      this.controller.abort();
    }, boundS * 1000);
  }

  /** Aborts on cancel or at the bound: what the load loops listen to. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when the bound, not the user, stopped the load. */
  get hitTimeBound(): boolean {
    return this.bounded;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.cancel.removeEventListener('abort', this.onCancel);
    this.finish?.removeEventListener('abort', this.onCancel);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (a load's pauses end with its stop). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
