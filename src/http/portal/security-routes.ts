// Security settings: codes for signed-in actions, Google Authenticator, password: /api/v1/security/*.
import { z } from 'zod';
import type { App } from '../../app.js';
import { SECURITY_CODE_PURPOSES } from '../../domain/one-time-codes.js';
import { AccountError } from '../../services/accounts.js';
import { EMAIL_CODE_ERRORS, PortalError, SEND_CODE_ERRORS, TOTP_CODE_ERRORS, VERIFICATION_ERRORS } from './errors.js';
import { defineRoute, type PortalRoute } from './route.js';
import { code, codeSent, codeSentResponse, okResponse, text } from './schemas.js';

const totpStatus = z.object({ totpBound: z.boolean() }).meta({ id: 'AuthenticatorStatus' });

export function securityRoutes(app: App): PortalRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/security/email-code',
      summary: "Mail a code for a signed-in action to the account's address",
      session: true,
      body: z.object({
        purpose: z.enum(SECURITY_CODE_PURPOSES, { error: `purpose must be one of ${SECURITY_CODE_PURPOSES.join(', ')}` }),
      }),
      response: codeSentResponse,
      errors: SEND_CODE_ERRORS,
      async handler({ body, session, ip }) {
        const sent = await app.security.sendCode(session.user, body.purpose, ip);
        return codeSent(sent);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/totp/setup',
      summary: 'Start binding Google Authenticator: a new seed, shown this once, to scan',
      session: true,
      // The seed is shown here once, to be scanned; it is stored sealed and never shown again.
      response: z.object({
        secret: z.string().meta({ description: 'The base32 seed.' }),
        otpauthUrl: z.string(),
        qrSvg: z.string().meta({ description: 'The otpauth URL as a QR code, an SVG document.' }),
      }),
      errors: ['totp_already_bound'],
      async handler({ session }) {
        return app.security.setupTotp(session.user);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/totp/confirm',
      summary: "Bind the authenticator with its first code and an email code (purpose bind_totp)",
      session: true,
      body: z.object({ code: code('code'), emailCode: code('emailCode') }),
      response: totpStatus,
      errors: ['totp_already_bound', 'totp_setup_required', 'totp_incorrect', ...EMAIL_CODE_ERRORS],
      async handler({ body, session, ip }) {
        await app.security.confirmTotp(session.user, body, ip);
        return { totpBound: true };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/totp/unbind',
      summary: 'Unbind the authenticator, through the Security Verification (purpose unbind_totp)',
      session: true,
      body: z.object({ emailCode: code('emailCode'), totp: code('totp') }),
      response: totpStatus,
      errors: VERIFICATION_ERRORS,
      async handler({ body, session, ip }) {
        await app.security.unbindTotp(session.user, body, ip);
        return { totpBound: false };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/password',
      summary: 'Change the password; every session of the account ends, this one too',
      session: true,
      body: z.object({ currentPassword: text('currentPassword', 1024), newPassword: text('newPassword', 1024), totp: code('totp').optional() }),
      response: okResponse,
      errors: ['password_invalid', 'password_incorrect', ...TOTP_CODE_ERRORS],
      sessionCookie: 'clear',
      async handler({ body, session, ip, clearSession }) {
        try {
          await app.signIn.changePassword(session.user, body, ip);
        } catch (error) {
          if (error instanceof AccountError && error.field === 'password') throw new PortalError('password_invalid', error.message, 'newPassword');
          throw error;
        }
        // Every session of the account has ended, this one too: log in again with the new password.
        clearSession();
        return { ok: true as const };
      },
    }),
  ];
}
