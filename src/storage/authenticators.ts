// Storage of Google Authenticator seeds (sealed) and the step of the last accepted code.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.js';

export interface AuthenticatorRecord {
  userId: number;
  seedSealed: string;
  createdAt: number;
  boundAt: number | null;
  lastUsedStep: number | null;
}

export async function findAuthenticator(db: Kysely<Schema>, userId: number): Promise<AuthenticatorRecord | undefined> {
  const row = await db.selectFrom('authenticators').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return (
    row && {
      userId: row.user_id,
      seedSealed: row.seed_sealed,
      createdAt: row.created_at,
      boundAt: row.bound_at,
      lastUsedStep: row.last_used_step,
    }
  );
}

export async function isAuthenticatorBound(db: Kysely<Schema>, userId: number): Promise<boolean> {
  const row = await db.selectFrom('authenticators').select('bound_at').where('user_id', '=', userId).executeTakeFirst();
  return row?.bound_at != null;
}

/** Stores a seed awaiting confirmation, replacing an unconfirmed one; false if one is already bound. */
export async function savePendingAuthenticator(db: Kysely<Schema>, userId: number, seedSealed: string, now: number): Promise<boolean> {
  const row = await db
    .insertInto('authenticators')
    .values({ user_id: userId, seed_sealed: seedSealed, created_at: now, bound_at: null, last_used_step: null })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ seed_sealed: seedSealed, created_at: now, bound_at: null, last_used_step: null })
        .where('authenticators.bound_at', 'is', null),
    )
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Binds the pending seed that was checked, recording the step of the code that confirmed it. */
export async function bindAuthenticator(db: Kysely<Schema>, userId: number, seedSealed: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('authenticators')
    .set({ bound_at: now, last_used_step: step })
    .where('user_id', '=', userId)
    .where('seed_sealed', '=', seedSealed)
    .where('bound_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Records that the code of `step` was accepted, only if no code of that step or a later one was:
 * of two requests with the same code, one wins.
 */
export async function claimTotpStep(db: Kysely<Schema>, userId: number, step: number): Promise<boolean> {
  const result = await db
    .updateTable('authenticators')
    .set({ last_used_step: step })
    .where('user_id', '=', userId)
    .where('bound_at', 'is not', null)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteAuthenticator(db: Kysely<Schema>, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('authenticators').where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
