// LBank's request limits: per API key over a rolling 10 s window, 500 order placements and
// cancellations and 200 of every other signed request; per client IP for public endpoints.
// Where the counts live (a process's memory, or Redis for a fleet) is storage's business.

export const RATE_WINDOW_MS = 10_000;

/** Which of a key's two budgets a signed endpoint spends. */
export type RateClass = 'orders' | 'other';

export interface RateLimits {
  /** Per API key and window: order create and cancel endpoints. 0: unlimited. */
  orders: number;
  /** Per API key and window: every other signed endpoint. 0: unlimited. */
  other: number;
  /** Per client IP and window: public endpoints. 0: unlimited. */
  publicPerIp: number;
  windowMs: number;
}

export const LBANK_RATE_LIMITS: RateLimits = { orders: 500, other: 200, publicPerIp: 2000, windowMs: RATE_WINDOW_MS };

/** One request to count against a budget; `limit` 0 means the budget is unlimited. */
export interface RateCharge {
  bucket: string;
  limit: number;
  windowMs: number;
}

export function keyCharge(limits: RateLimits, apiKey: string, rateClass: RateClass): RateCharge | undefined {
  const limit = limits[rateClass];
  return limit > 0 ? { bucket: `key:${rateClass}:${apiKey}`, limit, windowMs: limits.windowMs } : undefined;
}

export function ipCharge(limits: RateLimits, ip: string): RateCharge | undefined {
  return limits.publicPerIp > 0 ? { bucket: `ip:${ip}`, limit: limits.publicPerIp, windowMs: limits.windowMs } : undefined;
}

/**
 * An exact rolling window in one process: the times of the requests counted in the last window,
 * per bucket. A refused request is not counted, so a client that backs off gets through again as
 * soon as its oldest counted request leaves the window.
 */
export class RollingWindowCounter {
  /** Per bucket, the times counted, oldest first, from `head` on (a queue: dropping is O(1)). */
  readonly #hits = new Map<string, { times: number[]; head: number }>();
  #lastSweep = 0;

  /** Counts one request at `now`; false when the bucket already holds `limit` requests in the window. */
  hit(charge: RateCharge, now: number): boolean {
    this.#sweep(now, charge.windowMs);
    let bucket = this.#hits.get(charge.bucket);
    if (!bucket) {
      bucket = { times: [], head: 0 };
      this.#hits.set(charge.bucket, bucket);
    }
    const since = now - charge.windowMs;
    const { times } = bucket;
    while (bucket.head < times.length && times[bucket.head]! <= since) bucket.head++;
    // Compacted once the dropped part is the larger: amortised O(1), however high the limit.
    if (bucket.head > 1024 && bucket.head * 2 > times.length) {
      bucket.times = times.slice(bucket.head);
      bucket.head = 0;
    }
    if (bucket.times.length - bucket.head >= charge.limit) return false;
    bucket.times.push(now);
    return true;
  }

  /** Buckets idle for a whole window are dropped, so memory follows the active clients only. */
  #sweep(now: number, windowMs: number): void {
    if (now - this.#lastSweep < windowMs) return;
    this.#lastSweep = now;
    for (const [name, { times }] of this.#hits) {
      if (times.length === 0 || times[times.length - 1]! <= now - windowMs) this.#hits.delete(name);
    }
  }
}
