// Storage of account holders.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.js';

export interface UserRecord {
  id: number;
  uid: string;
  email: string;
  passwordHash: string | null;
  createdAt: number;
}

function toUser(row: { id: number; uid: string; email: string; password_hash: string | null; created_at: number }): UserRecord {
  return { id: row.id, uid: row.uid, email: row.email, passwordHash: row.password_hash, createdAt: row.created_at };
}

export async function insertUser(db: Kysely<Schema>, user: Omit<UserRecord, 'id'>): Promise<UserRecord> {
  const row = await db
    .insertInto('users')
    .values({ uid: user.uid, email: user.email, password_hash: user.passwordHash, created_at: user.createdAt })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export async function findUserByEmail(db: Kysely<Schema>, email: string): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserById(db: Kysely<Schema>, id: number): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserByUid(db: Kysely<Schema>, uid: string): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('users').selectAll().where('uid', '=', uid).executeTakeFirst();
  return row && toUser(row);
}

export async function setUserPasswordHash(db: Kysely<Schema>, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

/** Serialises changes to one account's keys or balances inside a transaction (PostgreSQL row lock). */
export async function lockUser(trx: Kysely<Schema>, userId: number, dialect: 'sqlite' | 'postgres'): Promise<void> {
  // SQLite runs one write transaction at a time already.
  // NO KEY UPDATE: rows that reference the account (orders, deposits) can still be inserted meanwhile.
  if (dialect === 'postgres') await trx.selectFrom('users').select('id').where('id', '=', userId).forNoKeyUpdate().execute();
}

