// Account holders. Passwords follow the policy of src/domain/passwords.ts and are hashed with Argon2id.
import { randomInt } from 'node:crypto';
import { checkPassword, type PasswordRule } from '../domain/passwords.js';
import { argon2Hasher, type PasswordHasher } from '../security/password-hashing.js';
import type { Database } from '../storage/database.js';
import { findUserByEmail, findUserById, insertUser, setUserPasswordHash, type UserRecord } from '../storage/users.js';

export { MIN_PASSWORD_LENGTH } from '../domain/passwords.js';

export class AccountError extends Error {
  constructor(
    readonly field: 'email' | 'password',
    readonly rule: 'format' | 'taken' | PasswordRule,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,63}$/;

export function normaliseEmail(email: string): string {
  const normalised = email.trim().toLowerCase();
  if (!EMAIL.test(normalised)) throw new AccountError('email', 'format', 'Enter a valid email address.');
  return normalised;
}

/** Throws the first rule of the password policy that the password breaks. */
export function assertPasswordAcceptable(password: string, email: string): void {
  const violation = checkPassword(password, email);
  if (violation) throw new AccountError('password', violation.rule, violation.message);
}

export class AccountService {
  #dummyHash: Promise<string> | undefined;

  constructor(
    private readonly database: Database,
    private readonly now: () => number,
    private readonly hasher: PasswordHasher = argon2Hasher,
  ) {
    // Made now, so that the first login with an unknown address takes no longer than any other.
    void this.#dummy();
  }

  async create(emailInput: string, password: string | undefined): Promise<UserRecord> {
    const email = normaliseEmail(emailInput);
    if (password !== undefined) assertPasswordAcceptable(password, email);
    if (await findUserByEmail(this.database.db, email)) {
      throw new AccountError('email', 'taken', 'An account with this email address already exists.');
    }
    const passwordHash = password === undefined ? null : await this.hasher.hash(password);
    for (let attempt = 0; ; attempt++) {
      // A random 9-digit UID, like LBank's, that does not reveal how many accounts exist.
      const uid = String(randomInt(100_000_000, 1_000_000_000));
      try {
        return await insertUser(this.database.db, { uid, email, passwordHash, createdAt: this.now() });
      } catch (error) {
        if (await findUserByEmail(this.database.db, email)) {
          throw new AccountError('email', 'taken', 'An account with this email address already exists.');
        }
        if (attempt >= 3) throw error;
      }
    }
  }

  async findByEmail(emailInput: string): Promise<UserRecord | undefined> {
    return findUserByEmail(this.database.db, emailInput.trim().toLowerCase());
  }

  async findById(id: number): Promise<UserRecord | undefined> {
    return findUserById(this.database.db, id);
  }

  /**
   * Whether the password is the account's. Without an account (or a password) a hash is still
   * verified, so that the time taken does not tell whether an address has an account.
   */
  async verifyPassword(user: UserRecord | undefined, password: string): Promise<boolean> {
    if (!user?.passwordHash) {
      await this.hasher.verify(await this.#dummy(), password);
      return false;
    }
    return this.hasher.verify(user.passwordHash, password);
  }

  async setPassword(user: UserRecord, password: string): Promise<void> {
    assertPasswordAcceptable(password, user.email);
    await setUserPasswordHash(this.database.db, user.id, await this.hasher.hash(password));
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= this.hasher.hash('keygate-no-such-account');
    return this.#dummyHash;
  }
}
