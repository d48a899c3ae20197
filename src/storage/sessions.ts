// Storage of portal sessions.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.js';

export interface SessionRecord {
  id: string;
  userId: number;
  secretHash: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ip: string | null;
}

export async function insertSession(db: Kysely<Schema>, session: SessionRecord): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id: session.id,
      user_id: session.userId,
      secret_hash: session.secretHash,
      created_at: session.createdAt,
      last_seen_at: session.lastSeenAt,
      expires_at: session.expiresAt,
      ip: session.ip,
    })
    .execute();
}

export async function findSession(db: Kysely<Schema>, id: string): Promise<SessionRecord | undefined> {
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return (
    row && {
      id: row.id,
      userId: row.user_id,
      secretHash: row.secret_hash,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
      ip: row.ip,
    }
  );
}

export async function touchSession(db: Kysely<Schema>, id: string, at: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).where('last_seen_at', '<', at).execute();
}

export async function deleteSession(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Ends every session of an account (password change). */
export async function deleteUserSessions(db: Kysely<Schema>, userId: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteStaleSessions(db: Kysely<Schema>, now: number, idleMs: number): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
    .execute();
}
