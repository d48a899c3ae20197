// Applies the throttle policy (src/domain/throttle.ts) with counters shared through the database.
//
// An attempt is counted before it is made (reserve), in one statement that increments the counter and
// returns it, and refused when that goes over the limit. Checking first and counting after the
// attempt would let every request in flight pass the same check: 40 concurrent wrong passwords were
// all tried against a limit of 5. An attempt that succeeds is refunded.
import { describeWait, THROTTLE_ACTIONS, THROTTLE_LIMITS, throttleWaitMs, type ThrottleScope } from '../domain/throttle.js';
import type { Database } from '../storage/database.js';
import { clearThrottle, countThrottledEvent, deleteClosedThrottleWindows, findThrottleWindow, uncountThrottledEvent } from '../storage/throttle.js';
import { ServiceError } from './errors.js';

/** A counter to consult: the scope and who it counts (an email address, an IP address, or both). */
export type ThrottleSubject = [scope: ThrottleScope, subject: string];

/** Attempts counted ahead; `refund` takes them back when the attempt turned out not to be a failure. */
export interface ThrottleReservation {
  refund(): Promise<void>;
}

export class ThrottleService {
  constructor(
    private readonly database: Database,
    private readonly now: () => number,
  ) {}

  /** Refuses, with the time to wait, when any of the counters has reached its limit. Counts nothing. */
  async check(...subjects: ThrottleSubject[]): Promise<void> {
    const now = this.now();
    for (const [scope, subject] of subjects) {
      const wait = throttleWaitMs(await findThrottleWindow(this.database.db, scope, subject), THROTTLE_LIMITS[scope], now);
      if (wait > 0) throw this.#refusal(scope, wait);
    }
  }

  /**
   * Counts an attempt against every counter, atomically per counter, and refuses it (taking the counts
   * back) when any counter goes over its limit.
   */
  async reserve(...subjects: ThrottleSubject[]): Promise<ThrottleReservation> {
    const now = this.now();
    const counted: Array<{ scope: ThrottleScope; subject: string; windowStart: number }> = [];
    const refund = async () => {
      for (const c of counted.splice(0)) await uncountThrottledEvent(this.database.db, c.scope, c.subject, c.windowStart);
    };
    for (const [scope, subject] of subjects) {
      const limit = THROTTLE_LIMITS[scope];
      const window = await countThrottledEvent(this.database.db, scope, subject, now, limit.windowMs);
      counted.push({ scope, subject, windowStart: window.windowStart });
      if (window.count > limit.max) {
        await refund();
        throw this.#refusal(scope, window.windowStart + limit.windowMs - now);
      }
    }
    return { refund };
  }

  /** Counts an event that happened, and refuses it if that goes over a limit (sending mail, say). */
  async take(...subjects: ThrottleSubject[]): Promise<void> {
    await this.reserve(...subjects);
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
