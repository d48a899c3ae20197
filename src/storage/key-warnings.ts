// Storage for the key warnings job: which keys may be due a warning, and which warnings went out.
import type { Kysely } from 'kysely';
import type { Authority } from '../domain/keys.js';
import type { Schema } from './schema.js';

export interface WarningCandidate {
  apiKey: string;
  userId: number;
  email: string;
  name: string;
  ips: string[];
  authority: Authority[];
  createdAt: number;
  lastUsedAt: number | null;
}

/**
 * Enabled keys that may be due a warning: unbound keys with more than read authority created in
 * [expiringFrom, expiringTo], and keys whose last use (or creation) is at or before `unusedSince`.
 */
export async function listWarningCandidates(
  db: Kysely<Schema>,
  window: { expiringFrom: number; expiringTo: number; unusedSince: number },
): Promise<WarningCandidate[]> {
  const rows = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.api_key',
      'api_keys.user_id',
      'users.email',
      'api_keys.name',
      'api_keys.ips',
      'api_keys.authority',
      'api_keys.created_at',
      'api_keys.last_used_at',
    ])
    .where('api_keys.status', '=', 'enabled')
    .where((eb) =>
      eb.or([
        eb.and([
          eb('api_keys.ips', '=', '[]'),
          eb('api_keys.authority', '!=', 'read'),
          eb('api_keys.created_at', '>', window.expiringFrom),
          eb('api_keys.created_at', '<=', window.expiringTo),
        ]),
        eb(eb.fn.coalesce('api_keys.last_used_at', 'api_keys.created_at'), '<=', window.unusedSince),
      ]),
    )
    .orderBy('api_keys.id')
    .execute();
  return rows.map((row) => ({
    apiKey: row.api_key,
    userId: row.user_id,
    email: row.email,
    name: row.name,
    ips: JSON.parse(row.ips) as string[],
    authority: row.authority.split(',') as Authority[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }));
}

/** Records a warning as sent; false when it was already (by this server or another). */
export async function claimKeyWarning(db: Kysely<Schema>, warning: { apiKey: string; kind: string; referenceAt: number; sentAt: number }): Promise<boolean> {
  const result = await db
    .insertInto('key_warnings')
    .values({ api_key: warning.apiKey, kind: warning.kind, reference_at: warning.referenceAt, sent_at: warning.sentAt })
    .onConflict((oc) => oc.columns(['api_key', 'kind', 'reference_at']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Withdraws a claim whose mail could not be sent, so that the next run tries again. */
export async function releaseKeyWarning(db: Kysely<Schema>, warning: { apiKey: string; kind: string; referenceAt: number }): Promise<void> {
  await db
    .deleteFrom('key_warnings')
    .where('api_key', '=', warning.apiKey)
    .where('kind', '=', warning.kind)
    .where('reference_at', '=', warning.referenceAt)
    .execute();
}
