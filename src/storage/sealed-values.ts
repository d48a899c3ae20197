// Every value sealed under the master key, whatever table holds it, as a master-key rotation sees
// them: counted by the key that sealed them, read in batches, and replaced only if unchanged since.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schema } from './schema.js';

/** What is sealed: HMAC secrets of API keys, and Google Authenticator seeds. RSA private keys are never stored. */
export const SEALED_KINDS = ['api_key_secret', 'totp_seed'] as const;
export type SealedKind = (typeof SEALED_KINDS)[number];

export interface SealedValue {
  kind: SealedKind;
  /** Where it is: the API key's public id, or the account's id (as text) for a seed. */
  owner: string;
  sealed: string;
}

/** How many values of a kind each master key sealed, by the key id in each value's header. */
export async function countSealedByKey(db: Kysely<Schema>, kind: SealedKind): Promise<Array<{ header: string; count: number }>> {
  // "v1:<16 hex>" is the first 19 characters of a sealed value (SecretBox).
  if (kind === 'api_key_secret') {
    const header = sql<string>`substr(secret_sealed, 1, 19)`;
    const rows = await db.selectFrom('api_keys').select([header.as('header'), (eb) => eb.fn.countAll<number | string>().as('count')]).where('secret_sealed', 'is not', null).groupBy(header).execute();
    return rows.map((r) => ({ header: r.header, count: Number(r.count) }));
  }
  const header = sql<string>`substr(seed_sealed, 1, 19)`;
  const rows = await db.selectFrom('authenticators').select([header.as('header'), (eb) => eb.fn.countAll<number | string>().as('count')]).groupBy(header).execute();
  return rows.map((r) => ({ header: r.header, count: Number(r.count) }));
}

/**
 * The next values of a kind, in a fixed order after `after` (an owner), that are not sealed under
 * the key whose header is given. API keys go in the order of their public id, the order in which
 * the last-use flush updates them too, so that the two never wait on each other in a cycle.
 */
export async function listSealedNotUnder(db: Kysely<Schema>, kind: SealedKind, header: string, after: string | undefined, limit: number): Promise<SealedValue[]> {
  const prefix = `${header}:%`;
  if (kind === 'api_key_secret') {
    let query = db.selectFrom('api_keys').select(['api_key', 'secret_sealed']).where('secret_sealed', 'is not', null).where('secret_sealed', 'not like', prefix);
    if (after !== undefined) query = query.where('api_key', '>', after);
    const rows = await query.orderBy('api_key').limit(limit).execute();
    return rows.map((r) => ({ kind, owner: r.api_key, sealed: r.secret_sealed! }));
  }
  let query = db.selectFrom('authenticators').select(['user_id', 'seed_sealed']).where('seed_sealed', 'not like', prefix);
  if (after !== undefined) query = query.where('user_id', '>', Number(after));
  const rows = await query.orderBy('user_id').limit(limit).execute();
  return rows.map((r) => ({ kind, owner: String(r.user_id), sealed: r.seed_sealed }));
}

/** Replaces a sealed value if it is still what was read (a key deleted or a seed replaced meanwhile is left alone). */
export async function replaceSealed(trx: Transaction<Schema>, value: SealedValue, resealed: string): Promise<boolean> {
  const result =
    value.kind === 'api_key_secret'
      ? await trx.updateTable('api_keys').set({ secret_sealed: resealed }).where('api_key', '=', value.owner).where('secret_sealed', '=', value.sealed).executeTakeFirst()
      : await trx.updateTable('authenticators').set({ seed_sealed: resealed }).where('user_id', '=', Number(value.owner)).where('seed_sealed', '=', value.sealed).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
