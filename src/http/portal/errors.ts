// The portal API's error catalogue: every string code it answers with, its HTTP status, and the one
// body shape {"error":{"code","message","field"?}}. Errors of the services and the domain are
// translated here, and only here.
import { z } from 'zod';
import { SharedStateUnavailableError } from '../../domain/request-auth.js';
import { KeyRuleError } from '../../domain/keys.js';
import { AccountError } from '../../services/accounts.js';
import { ServiceError, type ServiceErrorCode } from '../../services/errors.js';

export const PORTAL_ERRORS = {
  // The request itself
  invalid_request: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  // Session and CSRF
  unauthenticated: 401,
  csrf_token_invalid: 403,
  // Accounts
  email_invalid: 400,
  email_taken: 409,
  password_invalid: 400,
  invalid_credentials: 401,
  password_incorrect: 403,
  // Security verification
  email_code_incorrect: 400,
  email_code_expired: 400,
  email_code_cooldown: 429,
  rate_limited: 429,
  totp_required: 400,
  totp_incorrect: 400,
  totp_reused: 400,
  totp_not_bound: 403,
  totp_already_bound: 409,
  totp_setup_required: 409,
  // API keys (the rules of the seed)
  key_name_invalid: 400,
  key_method_invalid: 400,
  key_ips_invalid: 400,
  key_ips_too_many: 400,
  key_ip_required: 400,
  key_authority_invalid: 400,
  key_public_key_invalid: 400,
  key_limit_reached: 409,
  api_key_not_found: 404,
  // The server's side
  mail_unavailable: 503,
  shared_state_unavailable: 503,
  internal_error: 500,
} as const satisfies Record<string, number>;

export type PortalErrorCode = keyof typeof PORTAL_ERRORS;

// Every code a service can report must be in the catalogue (a compile error otherwise).
const serviceCodesCatalogued: Record<ServiceErrorCode, number> = PORTAL_ERRORS;
void serviceCodesCatalogued;

export const PORTAL_ERROR_CODES = Object.keys(PORTAL_ERRORS) as [PortalErrorCode, ...PortalErrorCode[]];

/** The one error body, for the given codes (the OpenAPI description narrows it per answer). */
export function errorBody(codes: readonly PortalErrorCode[] = PORTAL_ERROR_CODES) {
  return z.object({
    error: z.object({
      code: z.enum(codes as [PortalErrorCode, ...PortalErrorCode[]]),
      message: z.string().meta({ description: 'What went wrong and what to do, in words a person can be shown.' }),
      field: z.string().optional().meta({ description: 'The request field the error is about (a dotted path), when there is one.' }),
    }),
  });
}

export type PortalErrorBody = z.output<ReturnType<typeof errorBody>>;

// The codes that a family of checks answers with, for the routes' declarations of their errors.
export const SEND_CODE_ERRORS = ['email_code_cooldown', 'rate_limited', 'mail_unavailable'] as const satisfies readonly PortalErrorCode[];
export const EMAIL_CODE_ERRORS = ['email_code_incorrect', 'email_code_expired', 'rate_limited'] as const satisfies readonly PortalErrorCode[];
export const TOTP_CODE_ERRORS = ['totp_required', 'totp_incorrect', 'totp_reused', 'rate_limited'] as const satisfies readonly PortalErrorCode[];
/** The Security Verification (an email code and a current authenticator code). */
export const VERIFICATION_ERRORS = ['totp_not_bound', ...EMAIL_CODE_ERRORS, ...TOTP_CODE_ERRORS] as const satisfies readonly PortalErrorCode[];
/** The seed's rules for a key's settings (name, IPs, authority), checked on creation and on edit. */
export const KEY_SETTINGS_ERRORS = ['key_name_invalid', 'key_ips_invalid', 'key_ips_too_many', 'key_ip_required', 'key_authority_invalid'] as const satisfies readonly PortalErrorCode[];

export class PortalError extends Error {
  constructor(
    readonly code: PortalErrorCode,
    message: string,
    readonly field?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'PortalError';
  }

  get status(): number {
    return PORTAL_ERRORS[this.code];
  }

  body(): PortalErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

function keyRuleCode(error: KeyRuleError): PortalErrorCode {
  const { field, rule } = error.violation;
  switch (field) {
    case 'name':
      return 'key_name_invalid';
    case 'method':
      return 'key_method_invalid';
    case 'ips':
      if (rule === 'max_ips') return 'key_ips_too_many';
      if (rule.startsWith('required_for_')) return 'key_ip_required';
      return 'key_ips_invalid';
    case 'authority':
      return 'key_authority_invalid';
    case 'publicKey':
      return 'key_public_key_invalid';
    case 'keys':
      return 'key_limit_reached';
  }
}

/** The portal's answer to an error, or undefined for an unexpected one (a bug: answered as internal_error). */
export function toPortalError(error: unknown): PortalError | undefined {
  if (error instanceof PortalError) return error;
  if (error instanceof ServiceError) return new PortalError(error.code, error.message, error.field, error.retryAfterMs);
  if (error instanceof KeyRuleError) {
    const field = error.violation.field === 'keys' ? undefined : error.violation.field;
    return new PortalError(keyRuleCode(error), error.message, field);
  }
  if (error instanceof SharedStateUnavailableError) {
    return new PortalError('shared_state_unavailable', 'The fleet\'s shared state (Redis) is unreachable. A change already saved takes effect on every server once it answers; try again shortly.');
  }
  if (error instanceof AccountError) {
    if (error.field === 'email') return new PortalError(error.rule === 'taken' ? 'email_taken' : 'email_invalid', error.message, 'email');
    return new PortalError('password_invalid', error.message, 'password');
  }
  // Fastify's own refusals of the request (malformed JSON, oversized body…): the client's input.
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new PortalError('payload_too_large', 'The request body is too large.');
    if (status === 415) return new PortalError('unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json).');
    if (status === 404) return new PortalError('not_found', 'Not found.');
    return new PortalError('invalid_request', `The request could not be read: ${(error as Error).message}`);
  }
  return undefined;
}

export function internalError(): PortalError {
  return new PortalError('internal_error', 'Something went wrong on our side. Try again later.');
}
