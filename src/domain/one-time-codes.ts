// Email verification codes: 6 digits, valid 10 minutes, single use, bound to the purpose they were
// sent for, at most 5 wrong tries, and a 60-second cooldown before another one is sent.
import { constantTimeEqual, randomDigits, sha256Hex } from '../security/tokens.js';

export const CODE_PURPOSES = ['signup', 'bind_totp', 'create_api_key', 'edit_api_key', 'enable_api_key', 'unbind_totp'] as const;
export type CodePurpose = (typeof CODE_PURPOSES)[number];
/** The purposes a signed-in account asks codes for (sign-up codes are asked for before there is an account). */
export const SECURITY_CODE_PURPOSES = ['bind_totp', 'create_api_key', 'edit_api_key', 'enable_api_key', 'unbind_totp'] as const satisfies readonly CodePurpose[];

export const CODE_DIGITS = 6;
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const CODE_MAX_WRONG_TRIES = 5;
export const CODE_RESEND_COOLDOWN_MS = 60 * 1000;

/** What the mail says the code is for. */
export const PURPOSE_DESCRIPTIONS: Record<CodePurpose, string> = {
  signup: 'create your Keygate account',
  bind_totp: 'bind Google Authenticator',
  create_api_key: 'create an API key',
  edit_api_key: 'edit an API key',
  enable_api_key: 'enable an API key again',
  unbind_totp: 'unbind Google Authenticator',
};

export interface IssuedCode {
  /** The digits to mail; never stored. */
  code: string;
  /** What is stored instead. */
  codeHash: string;
  createdAt: number;
  expiresAt: number;
}

/** The stored state of the live code of one (email, purpose). */
export interface StoredCode {
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  wrongTries: number;
}

/** The digest binds the code to its address and purpose: a code for one cannot match another's record. */
export function hashCode(email: string, purpose: CodePurpose, code: string): string {
  return sha256Hex(`keygate-email-code\n${purpose}\n${email}\n${code}`);
}

export function issueCode(email: string, purpose: CodePurpose, now: number): IssuedCode {
  const code = randomDigits(CODE_DIGITS);
  return { code, codeHash: hashCode(email, purpose, code), createdAt: now, expiresAt: now + CODE_LIFETIME_MS };
}

/** Milliseconds until another code may be sent, or 0 when one may be sent now. */
export function resendWaitMs(existing: Pick<StoredCode, 'createdAt'> | undefined, now: number): number {
  if (!existing) return 0;
  return Math.max(0, existing.createdAt + CODE_RESEND_COOLDOWN_MS - now);
}

export type CodeCheck =
  | { ok: true }
  /** No live code: never sent, expired, already used, used up by wrong tries, or sent for another purpose. */
  | { ok: false; reason: 'expired' }
  /** Wrong digits; `triesLeft` is 0 when the code is now used up. */
  | { ok: false; reason: 'incorrect'; triesLeft: number };

export function checkCode(stored: StoredCode | undefined, email: string, purpose: CodePurpose, submitted: string, now: number): CodeCheck {
  if (!stored || now >= stored.expiresAt || stored.wrongTries >= CODE_MAX_WRONG_TRIES) return { ok: false, reason: 'expired' };
  const wellFormed = new RegExp(`^\\d{${CODE_DIGITS}}$`).test(submitted);
  if (wellFormed && constantTimeEqual(hashCode(email, purpose, submitted), stored.codeHash)) return { ok: true };
  return { ok: false, reason: 'incorrect', triesLeft: Math.max(0, CODE_MAX_WRONG_TRIES - stored.wrongTries - 1) };
}
