// What an account's audit log records.

export const AUDIT_EVENT_TYPES = [
  'signup',
  'login',
  'login_failed',
  'logout',
  'password_changed',
  'totp_bound',
  'totp_unbound',
  'api_key_created',
  'api_key_edited',
  'api_key_disabled',
  'api_key_enabled',
  'api_key_deleted',
  /** Signed-API requests refused for a known key, counted per key, per minute and per reason. */
  'signed_request_rejected',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Why the signed API refused a request made with one of the account's keys. */
export const REJECTION_REASONS = ['bad_signature', 'ip_not_allowed', 'authority_missing', 'rate_limited'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

const MINUTE_MS = 60 * 1000;

export function minuteOf(at: number): number {
  return at - (at % MINUTE_MS);
}

/** The signed API's failure reasons that the account's owner should hear about, in the log's words. */
export function rejectionReason(failure: string): RejectionReason | undefined {
  switch (failure) {
    case 'bad_signature':
    case 'method_mismatch':
      return 'bad_signature';
    case 'ip_not_allowed':
      return 'ip_not_allowed';
    case 'authority_missing':
      return 'authority_missing';
    case 'rate_limited':
      return 'rate_limited';
    default:
      // Replays and stale timestamps are usually a client's retries or clock, not an attack on the key.
      return undefined;
  }
}
