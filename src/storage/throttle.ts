// Storage of throttle counters: a fixed window per (scope, subject), shared by every server.
import { sql, type Kysely } from 'kysely';
import type { Schema } from './schema.js';

export interface ThrottleWindowRecord {
  windowStart: number;
  count: number;
}

export async function findThrottleWindow(db: Kysely<Schema>, scope: string, subject: string): Promise<ThrottleWindowRecord | undefined> {
  const row = await db
    .selectFrom('throttle_counters')
    .select(['window_start', 'count'])
    .where('scope', '=', scope)
    .where('subject', '=', subject)
    .executeTakeFirst();
  return row && { windowStart: row.window_start, count: row.count };
}

/** Counts one event: in the open window, or in a new one if the last has closed. Atomic. */
export async function countThrottledEvent(db: Kysely<Schema>, scope: string, subject: string, now: number, windowMs: number): Promise<ThrottleWindowRecord> {
  const closed = sql<boolean>`throttle_counters.window_start <= ${now - windowMs}`;
  const row = await db
    .insertInto('throttle_counters')
    .values({ scope, subject, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.columns(['scope', 'subject']).doUpdateSet({
        window_start: sql<number>`case when ${closed} then ${now} else throttle_counters.window_start end`,
        count: sql<number>`case when ${closed} then 1 else throttle_counters.count + 1 end`,
      }),
    )
    .returning(['window_start', 'count'])
    .executeTakeFirstOrThrow();
  return { windowStart: Number(row.window_start), count: Number(row.count) };
}

/** Takes back one event counted in the window that opened at `windowStart` (a refund). */
export async function uncountThrottledEvent(db: Kysely<Schema>, scope: string, subject: string, windowStart: number): Promise<void> {
  await db
    .updateTable('throttle_counters')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('scope', '=', scope)
    .where('subject', '=', subject)
    .where('window_start', '=', windowStart)
    .where('count', '>', 0)
    .execute();
}

export async function clearThrottle(db: Kysely<Schema>, scope: string, subject: string): Promise<void> {
  await db.deleteFrom('throttle_counters').where('scope', '=', scope).where('subject', '=', subject).execute();
}

/** Drops windows that closed before `before` (housekeeping). */
export async function deleteClosedThrottleWindows(db: Kysely<Schema>, before: number): Promise<void> {
  await db.deleteFrom('throttle_counters').where('window_start', '<', before).execute();
}
