// Storage of the addresses each account has logged in from.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.js';

/** Whether the account has logged in from `ip` before. For no account (id undefined) the same query runs. */
export async function hasLoggedInFrom(db: Kysely<Schema>, userId: number | undefined, ip: string): Promise<boolean> {
  const row = await db
    .selectFrom('login_addresses')
    .select('user_id')
    .where('user_id', '=', userId ?? -1)
    .where('ip', '=', ip)
    .executeTakeFirst();
  return row !== undefined;
}

export async function rememberLoginAddress(db: Kysely<Schema>, userId: number, ip: string, at: number): Promise<void> {
  await db
    .insertInto('login_addresses')
    .values({ user_id: userId, ip, last_login_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'ip']).doUpdateSet({ last_login_at: at }))
    .execute();
}
