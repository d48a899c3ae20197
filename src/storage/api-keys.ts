// Storage of API keys. Deleted keys stay as rows (status 'deleted', secret wiped) for the audit trail.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Authority, KeyStatus } from '../domain/keys.js';
import type { SignatureMethod } from '../domain/signing.js';
import type { Dialect } from './database.js';
import type { Schema } from './schema.js';

export interface ApiKeyRecord {
  id: number;
  apiKey: string;
  userId: number;
  name: string;
  method: SignatureMethod;
  ips: string[];
  authority: Authority[];
  secretSealed: string | null;
  publicKey: string | null;
  status: KeyStatus;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

/** The changing part of a key, from its stored columns. */
export function keyStateOf(row: { status: string; ips: string; authority: string }): { status: KeyStatus; ips: string[]; authority: Authority[] } {
  return { status: row.status as KeyStatus, ips: JSON.parse(row.ips) as string[], authority: row.authority.split(',') as Authority[] };
}

function toRecord(row: Selectable<Schema['api_keys']>): ApiKeyRecord {
  return {
    id: row.id,
    apiKey: row.api_key,
    userId: row.user_id,
    name: row.name,
    method: row.method as SignatureMethod,
    ...keyStateOf(row),
    secretSealed: row.secret_sealed,
    publicKey: row.public_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
  };
}

export type NewApiKey = Omit<ApiKeyRecord, 'id' | 'lastUsedAt' | 'lastUsedIp' | 'updatedAt'>;

export async function insertApiKey(db: Kysely<Schema>, key: NewApiKey): Promise<ApiKeyRecord> {
  const row = await db
    .insertInto('api_keys')
    .values({
      api_key: key.apiKey,
      user_id: key.userId,
      name: key.name,
      method: key.method,
      ips: JSON.stringify(key.ips),
      authority: key.authority.join(','),
      secret_sealed: key.secretSealed,
      public_key: key.publicKey,
      status: key.status,
      created_at: key.createdAt,
      updated_at: key.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

export async function findApiKey(db: Kysely<Schema>, apiKey: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('api_key', '=', apiKey).executeTakeFirst();
  return row && toRecord(row);
}

/** The user's keys that are not deleted, oldest first. */
export async function listLiveApiKeys(db: Kysely<Schema>, userId: number): Promise<ApiKeyRecord[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('status', '!=', 'deleted')
    .orderBy('id')
    .execute();
  return rows.map(toRecord);
}

export async function countLiveApiKeys(db: Kysely<Schema>, userId: number): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '!=', 'deleted')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Changes a live key's status; with `ownerId`, only if the key belongs to that account. */
export async function setApiKeyStatus(
  db: Kysely<Schema>,
  apiKey: string,
  status: 'enabled' | 'disabled',
  now: number,
  ownerId?: number,
): Promise<boolean> {
  let query = db.updateTable('api_keys').set({ status, updated_at: now }).where('api_key', '=', apiKey).where('status', '!=', 'deleted');
  if (ownerId !== undefined) query = query.where('user_id', '=', ownerId);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Deletes a key: it can never authenticate again and its secret material is wiped.
 * With `ownerId`, only if the key belongs to that account.
 */
export async function markApiKeyDeleted(db: Kysely<Schema>, apiKey: string, now: number, ownerId?: number): Promise<boolean> {
  let query = db
    .updateTable('api_keys')
    .set({ status: 'deleted', secret_sealed: null, updated_at: now })
    .where('api_key', '=', apiKey)
    .where('status', '!=', 'deleted');
  if (ownerId !== undefined) query = query.where('user_id', '=', ownerId);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes every live key of an account; returns the keys deleted. */
export async function markUserApiKeysDeleted(db: Kysely<Schema>, userId: number, now: number): Promise<{ apiKey: string; name: string }[]> {
  const rows = await db
    .updateTable('api_keys')
    .set({ status: 'deleted', secret_sealed: null, updated_at: now })
    .where('user_id', '=', userId)
    .where('status', '!=', 'deleted')
    .returning(['api_key', 'name'])
    .execute();
  return rows.map((row) => ({ apiKey: row.api_key, name: row.name }));
}

/** Changes the settings of an account's live key; returns the key as it now is. */
export async function updateApiKeySettings(
  db: Kysely<Schema>,
  ownerId: number,
  apiKey: string,
  settings: { name: string; ips: string[]; authority: Authority[] },
  now: number,
): Promise<ApiKeyRecord | undefined> {
  const row = await db
    .updateTable('api_keys')
    .set({ name: settings.name, ips: JSON.stringify(settings.ips), authority: settings.authority.join(','), updated_at: now })
    .where('api_key', '=', apiKey)
    .where('user_id', '=', ownerId)
    .where('status', '!=', 'deleted')
    .returningAll()
    .executeTakeFirst();
  return row && toRecord(row);
}

export async function recordApiKeyUse(db: Kysely<Schema>, apiKey: string, at: number, ip: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at, last_used_ip: ip }).where('api_key', '=', apiKey).execute();
}

/** Rows per statement when stamps are written together (three parameters each). */
const USES_PER_STATEMENT = 500;

/**
 * Records many keys' last use in the caller's transaction, ordered by key. On PostgreSQL a few
 * statements per 500 keys instead of one round trip per key: the rows are locked first in the keys'
 * order (as a master-key rotation locks them, so the two never deadlock), then updated from a list of
 * values. SQLite runs in-process, where a statement per key costs little.
 */
export async function recordApiKeyUses(trx: Kysely<Schema>, dialect: Dialect, uses: ReadonlyArray<{ apiKey: string; at: number; ip: string }>): Promise<void> {
  const ordered = [...uses].sort((a, b) => (a.apiKey < b.apiKey ? -1 : a.apiKey > b.apiKey ? 1 : 0));
  if (dialect !== 'postgres') {
    for (const use of ordered) await recordApiKeyUse(trx, use.apiKey, use.at, use.ip);
    return;
  }
  for (let i = 0; i < ordered.length; i += USES_PER_STATEMENT) {
    const chunk = ordered.slice(i, i + USES_PER_STATEMENT);
    const keys = chunk.map((u) => u.apiKey);
    await sql`SELECT 1 FROM api_keys WHERE api_key = ANY(${keys}) ORDER BY api_key FOR UPDATE`.execute(trx);
    const values = sql.join(chunk.map((u) => sql`(${u.apiKey}, ${u.at}::bigint, ${u.ip})`));
    await sql`UPDATE api_keys AS k SET last_used_at = v.at, last_used_ip = v.ip FROM (VALUES ${values}) AS v(api_key, at, ip) WHERE k.api_key = v.api_key`.execute(trx);
  }
}
