// Applies the throttle policy (src/domain/throttle.ts) with counters shared through the database.
import { describeWait, THROTTLE_ACTIONS, THROTTLE_LIMITS, throttleWaitMs, type ThrottleScope } from '../domain/throttle.js';
import type { Database } from '../storage/database.js';
import { clearThrottle, countThrottledEvent, deleteClosedThrottleWindows, findThrottleWindow } from '../storage/throttle.js';
import { ServiceError } from './errors.js';

/** A counter to consult: the scope and who it counts (an email address or an IP address). */
export type ThrottleSubject = [scope: ThrottleScope, subject: string];

export class ThrottleService {
  constructor(
    private readonly database: Database,
    private readonly now: () => number,
  ) {}

  /** Refuses, with the time to wait, when any of the counters has reached its limit. */
  async check(...subjects: ThrottleSubject[]): Promise<void> {
    const now = this.now();
    for (const [scope, subject] of subjects) {
      const wait = throttleWaitMs(await findThrottleWindow(this.database.db, scope, subject), THROTTLE_LIMITS[scope], now);
      if (wait > 0) throw this.#refusal(scope, wait);
    }
  }

  /** Counts an event against each counter. */
  async hit(...subjects: ThrottleSubject[]): Promise<void> {
    const now = this.now();
    for (const [scope, subject] of subjects) {
      await countThrottledEvent(this.database.db, scope, subject, now, THROTTLE_LIMITS[scope].windowMs);
    }
  }

  /** Counts an event and refuses it if it goes over a limit (for actions that are themselves limited, like sending mail). */
  async take(...subjects: ThrottleSubject[]): Promise<void> {
    await this.check(...subjects);
    const now = this.now();
    for (const [scope, subject] of subjects) {
      const limit = THROTTLE_LIMITS[scope];
      const window = await countThrottledEvent(this.database.db, scope, subject, now, limit.windowMs);
      if (window.count > limit.max) throw this.#refusal(scope, window.windowStart + limit.windowMs - now);
    }
  }

  async reset(...subjects: ThrottleSubject[]): Promise<void> {
    for (const [scope, subject] of subjects) await clearThrottle(this.database.db, scope, subject);
  }

  async sweep(): Promise<void> {
    const longest = Math.max(...Object.values(THROTTLE_LIMITS).map((l) => l.windowMs));
    await deleteClosedThrottleWindows(this.database.db, this.now() - longest);
  }

  #refusal(scope: ThrottleScope, waitMs: number): ServiceError {
    return new ServiceError('rate_limited', `${THROTTLE_ACTIONS[scope]}. Try again in ${describeWait(waitMs)}.`, undefined, waitMs);
  }
}
