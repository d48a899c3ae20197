// Account holders. Passwords are hashed with Argon2id.
import { randomInt } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { Database } from '../storage/database.js';
import { findUserByEmail, insertUser, type UserRecord } from '../storage/users.js';

export class AccountError extends Error {
  constructor(
    readonly field: 'email' | 'password',
    readonly rule: string,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,63}$/;
export const MIN_PASSWORD_LENGTH = 10;

export function normaliseEmail(email: string): string {
  const normalised = email.trim().toLowerCase();
  if (!EMAIL.test(normalised)) throw new AccountError('email', 'format', 'Enter a valid email address.');
  return normalised;
}

export class AccountService {
  constructor(
    private readonly database: Database,
    private readonly now: () => number,
  ) {}

  async create(emailInput: string, password: string | undefined): Promise<UserRecord> {
    const email = normaliseEmail(emailInput);
    if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
      throw new AccountError('password', 'length', `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
    }
    if (await findUserByEmail(this.database.db, email)) {
      throw new AccountError('email', 'taken', 'An account with this email address already exists.');
    }
    const passwordHash = password === undefined ? null : await hash(password, { algorithm: 2 });
    for (let attempt = 0; ; attempt++) {
      // A random 9-digit UID, like LBank's, that does not reveal how many accounts exist.
      const uid = String(randomInt(100_000_000, 1_000_000_000));
      try {
        return await insertUser(this.database.db, { uid, email, passwordHash, createdAt: this.now() });
      } catch (error) {
        if (attempt >= 3 || (await findUserByEmail(this.database.db, email))) throw error;
      }
    }
  }

  async findByEmail(emailInput: string): Promise<UserRecord | undefined> {
    return findUserByEmail(this.database.db, emailInput.trim().toLowerCase());
  }
}
