// Runs a task at most once per interval however often it is asked for, never two at once: the first
// request after a quiet spell runs at once, the ones that follow within the interval are folded into
// one run at its end. `soon` skips the wait (a new subscriber waits for no one).
export class Coalescer {
  #running = false;
  #pending = false;
  #urgent = false;
  #lastStart = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Something changed: run within the interval. */
  trigger(): void {
    this.#request(false);
  }

  /** Run as soon as the run under way (if any) is over. */
  soon(): void {
    this.#request(true);
  }

  /** No further runs (one under way finishes on its own). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  get busy(): boolean {
    return this.#running || this.#pending;
  }

  #request(urgent: boolean): void {
    if (this.#closed) return;
    this.#pending = true;
    this.#urgent ||= urgent;
    if (!this.#running) this.#schedule();
  }

  #schedule(): void {
    if (!this.#pending || this.#closed) return;
    const wait = this.#urgent ? 0 : this.#lastStart + this.intervalMs - Date.now();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (wait <= 0) {
      this.#run();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#running) this.#run();
    }, wait);
  }

  #run(): void {
    this.#running = true;
    this.#pending = false;
    this.#urgent = false;
    this.#lastStart = Date.now();
    this.task()
      .catch(this.onError)
      .finally(() => {
        this.#running = false;
        this.#schedule();
      });
  }
}
