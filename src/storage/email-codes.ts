// Storage of email verification codes: one live code per (address, purpose), stored as a digest.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.js';

export interface EmailCodeRecord {
  id: number;
  email: string;
  purpose: string;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  wrongTries: number;
}

export async function findEmailCode(db: Kysely<Schema>, email: string, purpose: string): Promise<EmailCodeRecord | undefined> {
  const row = await db.selectFrom('email_codes').selectAll().where('email', '=', email).where('purpose', '=', purpose).executeTakeFirst();
  return (
    row && {
      id: row.id,
      email: row.email,
      purpose: row.purpose,
      codeHash: row.code_hash,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      wrongTries: row.wrong_tries,
    }
  );
}

/**
 * Stores a new code in place of the previous one, unless the previous one was created after
 * `cooldownFrom` (the resend cooldown). Atomic, so two requests at once cannot both send.
 * Returns false when the cooldown refused it.
 */
export async function replaceEmailCode(
  db: Kysely<Schema>,
  code: Omit<EmailCodeRecord, 'id' | 'wrongTries'>,
  cooldownFrom: number,
): Promise<boolean> {
  const row = await db
    .insertInto('email_codes')
    .values({ email: code.email, purpose: code.purpose, code_hash: code.codeHash, created_at: code.createdAt, expires_at: code.expiresAt, wrong_tries: 0 })
    .onConflict((oc) =>
      oc
        .columns(['email', 'purpose'])
        .doUpdateSet({ code_hash: code.codeHash, created_at: code.createdAt, expires_at: code.expiresAt, wrong_tries: 0 })
        .where('email_codes.created_at', '<=', cooldownFrom),
    )
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Takes one try from the code that was read (not a newer one that replaced it), unless it has none
 * left. Returns how many tries it had used before this one, or undefined when it had none left.
 */
export async function takeEmailCodeTry(db: Kysely<Schema>, id: number, codeHash: string, maxWrongTries: number): Promise<number | undefined> {
  const row = await db
    .updateTable('email_codes')
    .set((eb) => ({ wrong_tries: eb('wrong_tries', '+', 1) }))
    .where('id', '=', id)
    .where('code_hash', '=', codeHash)
    .where('wrong_tries', '<', maxWrongTries)
    .returning('wrong_tries')
    .executeTakeFirst();
  return row ? Number(row.wrong_tries) - 1 : undefined;
}

/** Gives back the try that a right code took. */
export async function returnEmailCodeTry(db: Kysely<Schema>, id: number, codeHash: string): Promise<void> {
  await db
    .updateTable('email_codes')
    .set((eb) => ({ wrong_tries: eb('wrong_tries', '-', 1) }))
    .where('id', '=', id)
    .where('code_hash', '=', codeHash)
    .where('wrong_tries', '>', 0)
    .execute();
}

/** Uses a code up. False when another request used it first, or it was replaced, expired or used up meanwhile. */
export async function consumeEmailCode(db: Kysely<Schema>, id: number, codeHash: string, now: number, maxWrongTries: number): Promise<boolean> {
  const result = await db
    .deleteFrom('email_codes')
    .where('id', '=', id)
    .where('code_hash', '=', codeHash)
    .where('expires_at', '>', now)
    .where('wrong_tries', '<', maxWrongTries)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Forgets a code that could not be delivered, so that the cooldown does not hold back a retry. */
export async function deleteEmailCode(db: Kysely<Schema>, id: number, codeHash: string): Promise<void> {
  await db.deleteFrom('email_codes').where('id', '=', id).where('code_hash', '=', codeHash).execute();
}

export async function deleteExpiredEmailCodes(db: Kysely<Schema>, now: number): Promise<void> {
  await db.deleteFrom('email_codes').where('expires_at', '<=', now).execute();
}
