// Storage of subscribe keys, read together with the state of the API key each belongs to.
import type { Kysely } from 'kysely';
import type { RevocationReason, SubscribeKeyRecord } from '../domain/subscribe-keys.js';
import { keyStateOf } from './api-keys.js';
import type { Schema } from './schema.js';

export interface NewSubscribeKey {
  digest: string;
  apiKey: string;
  userId: number;
  createdAt: number;
  expiresAt: number;
}

/** Stores a subscribe key, retiring the oldest of its API key's beyond `keep` (counting the new one). */
export async function insertSubscribeKey(db: Kysely<Schema>, key: NewSubscribeKey, keep: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const surplus = await trx
      .selectFrom('subscribe_keys')
      .select('digest')
      .where('api_key', '=', key.apiKey)
      .orderBy('created_at', 'desc')
      .orderBy('digest')
      .offset(keep - 1)
      .limit(1_000)
      .execute();
    if (surplus.length > 0) await trx.deleteFrom('subscribe_keys').where('digest', 'in', surplus.map((r) => r.digest)).execute();
    await trx
      .insertInto('subscribe_keys')
      .values({ digest: key.digest, api_key: key.apiKey, user_id: key.userId, created_at: key.createdAt, expires_at: key.expiresAt, revoked: null })
      .execute();
  });
}

/** The subscribe keys with these digests that exist, each with its API key's current state. */
export async function findSubscribeKeys(db: Kysely<Schema>, digests: readonly string[]): Promise<Map<string, SubscribeKeyRecord>> {
  const found = new Map<string, SubscribeKeyRecord>();
  for (let i = 0; i < digests.length; i += 500) {
    const rows = await db
      .selectFrom('subscribe_keys as s')
      .innerJoin('api_keys as k', 'k.api_key', 's.api_key')
      .select(['s.digest', 's.api_key', 's.user_id', 's.expires_at', 's.revoked', 'k.status', 'k.ips', 'k.authority', 'k.created_at'])
      .where('s.digest', 'in', digests.slice(i, i + 500))
      .execute();
    for (const row of rows) {
      found.set(row.digest, {
        apiKey: row.api_key,
        userId: row.user_id,
        expiresAt: row.expires_at,
        revoked: row.revoked as RevocationReason | null,
        key: { ...keyStateOf(row), createdAt: row.created_at },
      });
    }
  }
  return found;
}

/** Moves a live subscribe key of this API key to a new expiry; false when there is none. */
export async function extendSubscribeKey(db: Kysely<Schema>, digest: string, apiKey: string, expiresAt: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('subscribe_keys')
    .set({ expires_at: expiresAt })
    .where('digest', '=', digest)
    .where('api_key', '=', apiKey)
    .where('expires_at', '>', now)
    .where('revoked', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes one of this API key's subscribe keys; false when it has no such key. */
export async function deleteSubscribeKey(db: Kysely<Schema>, digest: string, apiKey: string): Promise<boolean> {
  const result = await db.deleteFrom('subscribe_keys').where('digest', '=', digest).where('api_key', '=', apiKey).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Marks every subscribe key of these API keys as revoked for the given reason of each. */
export async function revokeSubscribeKeys(db: Kysely<Schema>, reasons: ReadonlyMap<string, RevocationReason>): Promise<void> {
  for (const [apiKey, reason] of reasons) {
    await db.updateTable('subscribe_keys').set({ revoked: reason }).where('api_key', '=', apiKey).where('revoked', 'is', null).execute();
  }
}

/** Removes subscribe keys that expired before `before`; revoked ones stay until then, so that a stream is told why it stopped. */
export async function deleteExpiredSubscribeKeys(db: Kysely<Schema>, before: number): Promise<void> {
  await db.deleteFrom('subscribe_keys').where('expires_at', '<', before).execute();
}
