/** A task's load stops on cancel or at its time bound, whichever comes first. */
export class LoadStop {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private bounded = false;
  private readonly onCancel = (): void => this.controller.abort();

  constructor(private readonly cancel: AbortSignal, boundS: number) {
    cancel.addEventListener('abort', this.onCancel, { once: true });
    if (cancel.aborted) this.controller.abort();
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
  }
}
