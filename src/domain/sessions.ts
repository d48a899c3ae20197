// Portal sessions: a random token in an HttpOnly cookie, only its digest stored. A session ends when
// it has been idle too long, when it reaches its absolute lifetime, at logout, and (all of an
// account's sessions) when the password changes. The CSRF token is derived from the session token,
// so it changes whenever the session does and needs no storage of its own.
import { constantTimeEqual, randomToken, sha256Hex } from '../security/tokens.js';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

/** Last-seen times are written at most this often, so that reading a page does not always write. */
export const SESSION_TOUCH_INTERVAL_MS = 60 * 1000;

export interface NewSessionToken {
  /** The cookie value: "<id>.<secret>". Never stored. */
  token: string;
  id: string;
  secretHash: string;
}

export function newSessionToken(): NewSessionToken {
  const id = randomToken(16);
  const secret = randomToken(32);
  return { token: `${id}.${secret}`, id, secretHash: hashSessionSecret(secret) };
}

export function hashSessionSecret(secret: string): string {
  return sha256Hex(`keygate-session\n${secret}`);
}

/** Splits a cookie value into the id (to look the session up) and the secret (to compare). */
export function parseSessionToken(token: string): { id: string; secret: string } | undefined {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export interface StoredSession {
  secretHash: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export type SessionCheck = { ok: true; touch: boolean } | { ok: false; reason: 'unknown' | 'idle' | 'expired' };

export function checkSession(stored: StoredSession | undefined, secret: string, policy: SessionPolicy, now: number): SessionCheck {
  if (!stored || !constantTimeEqual(hashSessionSecret(secret), stored.secretHash)) return { ok: false, reason: 'unknown' };
  if (now >= stored.expiresAt) return { ok: false, reason: 'expired' };
  if (now >= stored.lastSeenAt + policy.idleMs) return { ok: false, reason: 'idle' };
  return { ok: true, touch: now - stored.lastSeenAt >= SESSION_TOUCH_INTERVAL_MS };
}

export function csrfTokenFor(sessionToken: string): string {
  return Buffer.from(sha256Hex(`keygate-csrf\n${sessionToken}`), 'hex').toString('base64url');
}

export function checkCsrfToken(sessionToken: string, submitted: string | undefined): boolean {
  return submitted !== undefined && constantTimeEqual(csrfTokenFor(sessionToken), submitted);
}
