// Google Authenticator (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, ±1 step of clock drift.
// A code is accepted at most once (RFC 6238 §5.2): the step of the last accepted code is remembered and
// only a later step is accepted, which also refuses an older code that is still inside the drift window.
import { Secret, TOTP } from 'otpauth';

export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DRIFT_STEPS = 1;
/** 160-bit seeds, as RFC 4226 recommends for HMAC-SHA-1. */
const SEED_BYTES = 20;

export interface TotpEnrolment {
  /** The seed in base32, as typed into an authenticator by hand. */
  secret: string;
  /** otpauth://totp/… for the QR code. */
  otpauthUrl: string;
}

function totp(secretBase32: string, issuer = '', label = 'Keygate'): TOTP {
  return new TOTP({
    issuer,
    label,
    secret: Secret.fromBase32(secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

export function newTotpEnrolment(issuer: string, accountLabel: string): TotpEnrolment {
  const secret = new Secret({ size: SEED_BYTES }).base32;
  return { secret, otpauthUrl: totp(secret, issuer, accountLabel).toString() };
}

/** The time step a moment falls in. */
export function totpStep(now: number): number {
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code an authenticator shows at a moment (used by tests and tools). */
export function totpCode(secretBase32: string, at: number): string {
  return totp(secretBase32).generate({ timestamp: at });
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'incorrect' | 'reused' };

/**
 * Checks a code against a seed at `now`. `lastUsedStep` is the step of the last code accepted for
 * this seed (or null); a code of that step or an earlier one is refused as reused.
 */
export function checkTotp(secretBase32: string, submitted: string, now: number, lastUsedStep: number | null): TotpCheck {
  const token = submitted.trim();
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(token)) return { ok: false, reason: 'incorrect' };
  const delta = totp(secretBase32).validate({ token, timestamp: now, window: TOTP_DRIFT_STEPS });
  if (delta === null) return { ok: false, reason: 'incorrect' };
  const step = totpStep(now) + delta;
  if (lastUsedStep !== null && step <= lastUsedStep) return { ok: false, reason: 'reused' };
  return { ok: true, step };
}
