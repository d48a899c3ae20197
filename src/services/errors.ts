// Failures that application services report to whoever called them (the portal, the CLI). The
// portal maps each code to an HTTP status in one place (src/http/portal/errors.ts).

export const SERVICE_ERROR_CODES = [
  'invalid_credentials',
  'password_incorrect',
  'totp_required',
  'totp_incorrect',
  'totp_reused',
  'totp_not_bound',
  'totp_already_bound',
  'totp_setup_required',
  'email_code_incorrect',
  'email_code_expired',
  'email_code_cooldown',
  'rate_limited',
  'api_key_not_found',
  'mail_unavailable',
] as const;
export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

export class ServiceError extends Error {
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    /** The request field the error is about, when there is one. */
    readonly field?: string,
    /** For refusals that pass with time: how long to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
