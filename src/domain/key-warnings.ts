// Warnings mailed about a key: 7 days and 1 day before its non-read authority lapses (a key without an
// IP binding), and when it has not been used for 30 days. Each warning is identified by the key, its
// kind and the moment it is about, so that it is sent once, and sent again only about a new moment
// (a key used again and then left unused for another 30 days).
import { authorityExpiresAt, UNBOUND_AUTHORITY_LIFETIME_MS, type Authority } from './keys.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The first expiry warning goes out this long before authority lapses. */
export const EXPIRY_WARNING_LEAD_MS = 7 * DAY_MS;
export const UNUSED_WARNING_MS = 30 * DAY_MS;

export type KeyWarningKind = 'authority_expires_7d' | 'authority_expires_1d' | 'unused_30d';

export interface WarnableKey {
  apiKey: string;
  ips: readonly string[];
  authority: readonly Authority[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface DueWarning {
  kind: KeyWarningKind;
  /** The moment the warning is about: when authority lapses, or when the key was last used (or created). */
  referenceAt: number;
}

export function dueWarnings(key: WarnableKey, now: number): DueWarning[] {
  const due: DueWarning[] = [];
  const expiresAt = authorityExpiresAt(key);
  if (expiresAt !== null && now < expiresAt && key.authority.some((a) => a !== 'read')) {
    const left = expiresAt - now;
    // Only the most pressing one: a server that was down through the 7-day mark sends the 1-day one.
    if (left <= DAY_MS) due.push({ kind: 'authority_expires_1d', referenceAt: expiresAt });
    else if (left <= EXPIRY_WARNING_LEAD_MS) due.push({ kind: 'authority_expires_7d', referenceAt: expiresAt });
  }
  const lastActivity = key.lastUsedAt ?? key.createdAt;
  if (now - lastActivity >= UNUSED_WARNING_MS) due.push({ kind: 'unused_30d', referenceAt: lastActivity });
  return due;
}

/** The creation times of unbound keys whose authority lapses within the warning lead at `now`. */
export function expiringCreatedBetween(now: number): { from: number; to: number } {
  return { from: now - UNBOUND_AUTHORITY_LIFETIME_MS, to: now - UNBOUND_AUTHORITY_LIFETIME_MS + EXPIRY_WARNING_LEAD_MS };
}
