// How times, authority and validity read on the portal.
import type { ApiKeyRow, Authority } from './api';

const pad = (n: number) => String(n).padStart(2, '0');

/** "2025-01-31 14:05:09" in the browser's time zone, as LBank's tables show times. */
export function formatTime(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export const AUTHORITY_LABELS: Record<Authority, string> = {
  read: 'Read only',
  trade: 'Trade',
  withdraw: 'Withdraw',
  futures: 'Futures',
  transfer: 'Transfer',
};

export function formatAuthority(authority: readonly Authority[]): string {
  return authority.map((a) => (a === 'read' ? 'Read' : AUTHORITY_LABELS[a])).join(', ');
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** "Permanent", "23 days", or, once lapsed, that only Read is left. */
export function remainingValidity(key: Pick<ApiKeyRow, 'validUntil' | 'createdAt'>, now: number): string {
  if (key.validUntil === null) return 'Permanent';
  const left = key.validUntil - now;
  if (left <= 0) return 'Expired (Read only)';
  // Never more than the key's whole lifetime, even when this browser's clock is behind the server's.
  const days = Math.min(Math.ceil(left / DAY_MS), Math.ceil((key.validUntil - key.createdAt) / DAY_MS));
  return days === 1 ? '1 day' : `${days} days`;
}
