// Periodic work of a serving process: key warnings, and sweeping expired sessions, codes, throttle
// windows and subscribe keys. Started by `serve`; everything it does is also callable directly (tests).
import type { Logger } from 'pino';
import type { KeyWarningService } from './key-warnings.js';
import type { SessionService } from './sessions.js';
import type { SubscribeKeyService } from './subscribe-keys.js';
import type { ThrottleService } from './throttle.js';
import type { Database } from '../storage/database.js';
import { deleteExpiredEmailCodes } from '../storage/email-codes.js';

export class BackgroundJobs {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly database: Database,
    private readonly keyWarnings: KeyWarningService,
    private readonly sessions: SessionService,
    private readonly throttle: ThrottleService,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly subscribeKeys?: SubscribeKeyService,
  ) {}

  /** Runs every job once now, then every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), intervalMs);
    this.#timer.unref();
    void this.runOnce();
  }

  /** One pass of every job; a pass still running is not started again. */
  runOnce(): Promise<void> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #pass(): Promise<void> {
    try {
      const sent = await this.keyWarnings.runOnce();
      if (sent > 0) this.logger.info({ sent }, 'key warnings mailed');
      await this.sessions.sweep();
      await deleteExpiredEmailCodes(this.database.db, this.now());
      await this.throttle.sweep();
      await this.subscribeKeys?.sweep();
    } catch (error) {
      this.logger.error({ err: error }, 'background job failed');
    }
  }
}
