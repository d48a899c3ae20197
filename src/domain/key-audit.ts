// Audits a key's restrictions, as any LBank-compatible server reports them, against the seed's best practices.
import { UNBOUND_AUTHORITY_LIFETIME_MS } from './keys.js';

export interface AuditFinding {
  rule: 'withdrawals_enabled' | 'transfer_enabled' | 'no_ip_restriction' | 'authority_expiring';
  message: string;
}

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** The seed's best practices: no withdrawals or transfers, an IP whitelist, and no authority about to lapse. */
export function auditRestrictions(r: Record<string, unknown>, now: number): AuditFinding[] {
  const findings: AuditFinding[] = [];
  if (r.enableWithdrawals === true) {
    findings.push({ rule: 'withdrawals_enabled', message: 'Withdrawals are enabled: a leaked key can move funds out. Do not enable withdrawals for trading keys.' });
  }
  // Beyond LBank: Keygate reports Transfer, which moves funds to another account at once.
  if (r.enableTransfer === true) {
    findings.push({ rule: 'transfer_enabled', message: 'Transfer is enabled: a leaked key can move funds to another account at once, with no way back. Do not enable transfers for trading keys.' });
  }
  if (r.ipRestrict !== true) {
    findings.push({ rule: 'no_ip_restriction', message: 'The key is not bound to IP addresses: anyone holding it can use it from anywhere.' });
  }
  // Keygate reports the expiry; for LBank itself it follows from the creation time of an unbound key.
  const expiresAt =
    typeof r.tradingAuthorityExpirationTime === 'number'
      ? r.tradingAuthorityExpirationTime
      : r.ipRestrict !== true && typeof r.createTime === 'number'
        ? r.createTime + UNBOUND_AUTHORITY_LIFETIME_MS
        : undefined;
  if (expiresAt !== undefined && expiresAt - now < WEEK_MS) {
    findings.push({
      rule: 'authority_expiring',
      message: expiresAt <= now ? `Trading authority expired on ${new Date(expiresAt).toISOString()}.` : `Trading authority expires on ${new Date(expiresAt).toISOString()}; bind an IP address to keep it.`,
    });
  }
  return findings;
}
