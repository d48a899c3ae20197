// How portal passwords are hashed: Argon2id with the library's defaults (19 MiB, 2 passes: OWASP's
// minimum). Behind an interface so that a test can count how often a hash is verified.
import { hash, verify } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** false for a wrong password or a malformed hash; never throws for either. */
  verify(passwordHash: string, password: string): Promise<boolean>;
}

const ARGON2ID = { algorithm: 2 } as const;

export const argon2Hasher: PasswordHasher = {
  hash: (password) => hash(password, ARGON2ID),
  verify: (passwordHash, password) => verify(passwordHash, password).catch(() => false),
};
