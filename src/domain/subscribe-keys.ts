// Subscribe keys: the bearer tokens that open an account's private WebSocket streams (orderUpdate,
// assetUpdate). One is made by a signed request of an API key holding Read, lives 60 minutes from its
// creation or last refresh, and dies with its API key. Only a digest is stored: a leaked table opens no stream.
import { createHash, randomBytes } from 'node:crypto';
import { effectiveAuthority, type Authority, type KeyStatus } from './keys.js';

export const SUBSCRIBE_KEY_LIFETIME_MS = 60 * 60 * 1000;
/** Live subscribe keys per API key; making another retires the oldest, so that the table cannot grow without bound. */
export const MAX_SUBSCRIBE_KEYS_PER_API_KEY = 100;
const SUBSCRIBE_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** 32 random bytes as 64 lower-case hex characters, the form LBank's keys take. */
export function newSubscribeKey(): string {
  return randomBytes(32).toString('hex');
}

export function isSubscribeKeyForm(text: string): boolean {
  return SUBSCRIBE_KEY_PATTERN.test(text);
}

export function subscribeKeyDigest(subscribeKey: string): string {
  return createHash('sha256').update(`subscribe_key:${subscribeKey}`).digest('hex');
}

/** Why a subscribe key is revoked before its time. */
export type RevocationReason = 'api_key_disabled' | 'api_key_deleted' | 'read_lost';

/** A stored subscribe key together with the current state of its API key. */
export interface SubscribeKeyRecord {
  apiKey: string;
  userId: number;
  expiresAt: number;
  revoked: RevocationReason | null;
  key: { status: KeyStatus; ips: readonly string[]; authority: readonly Authority[]; createdAt: number };
}

export type SubscribeKeyStanding =
  | { live: true; apiKey: string; userId: number; expiresAt: number }
  | { live: false; reason: 'unknown' | 'expired' | RevocationReason };

/** Why the API key's current state revokes its subscribe keys, if it does. */
export function revocationOf(key: SubscribeKeyRecord['key'], now: number): RevocationReason | null {
  if (key.status === 'deleted') return 'api_key_deleted';
  if (key.status !== 'enabled') return 'api_key_disabled';
  if (!effectiveAuthority(key, now).includes('read')) return 'read_lost';
  return null;
}

export function standingOf(record: SubscribeKeyRecord | undefined, now: number): SubscribeKeyStanding {
  if (!record) return { live: false, reason: 'unknown' };
  // The API key's state is read with the subscribe key, so that a change not yet recorded as a
  // revocation (or made behind Keygate's back) still counts.
  const revoked = record.revoked ?? revocationOf(record.key, now);
  if (revoked) return { live: false, reason: revoked };
  if (now >= record.expiresAt) return { live: false, reason: 'expired' };
  return { live: true, apiKey: record.apiKey, userId: record.userId, expiresAt: record.expiresAt };
}

const MESSAGES: Record<Exclude<SubscribeKeyStanding, { live: true }>['reason'], string> = {
  unknown: 'subscribeKey is unknown or was destroyed',
  expired: 'subscribeKey expired: refresh it (subscribe/refresh_key) within 60 minutes of its creation or last refresh',
  api_key_disabled: 'the API key that made this subscribeKey was disabled',
  api_key_deleted: 'the API key that made this subscribeKey was deleted',
  read_lost: 'the API key that made this subscribeKey no longer holds Read authority',
};

export function standingMessage(standing: SubscribeKeyStanding): string {
  return standing.live ? 'subscribeKey is live' : MESSAGES[standing.reason];
}
