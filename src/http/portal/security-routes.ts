// Security settings: codes for signed-in actions, Google Authenticator, password: /api/v1/security/*.
import { z } from 'zod';
import type { App } from '../../app.js';
import { SECURITY_CODE_PURPOSES } from '../../domain/one-time-codes.js';
import { AccountError } from '../../services/accounts.js';
import { PortalError } from './errors.js';
import { defineRoute, type PortalRoute } from './route.js';
import { code, codeSent, codeSentResponse, okResponse, text } from './schemas.js';

const totpStatus = z.object({ totpBound: z.boolean() });

export function securityRoutes(app: App): PortalRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/security/email-code',
      session: true,
      body: z.object({
        purpose: z.enum(SECURITY_CODE_PURPOSES, { error: `purpose must be one of ${SECURITY_CODE_PURPOSES.join(', ')}` }),
      }),
      response: codeSentResponse,
      async handler({ body, session, ip }) {
        const sent = await app.security.sendCode(session.user, body.purpose, ip);
        return codeSent(sent);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/totp/setup',
      session: true,
      // The seed is shown here once, to be scanned; it is stored sealed and never shown again.
      response: z.object({ secret: z.string(), otpauthUrl: z.string(), qrSvg: z.string() }),
      async handler({ session }) {
        return app.security.setupTotp(session.user);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/totp/confirm',
      session: true,
      body: z.object({ code: code('code'), emailCode: code('emailCode') }),
      response: totpStatus,
      async handler({ body, session, ip }) {
        await app.security.confirmTotp(session.user, body, ip);
        return { totpBound: true };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/totp/unbind',
      session: true,
      body: z.object({ emailCode: code('emailCode'), totp: code('totp') }),
      response: totpStatus,
      async handler({ body, session, ip }) {
        await app.security.unbindTotp(session.user, body, ip);
        return { totpBound: false };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/security/password',
      session: true,
      body: z.object({ currentPassword: text('currentPassword', 1024), newPassword: text('newPassword', 1024), totp: code('totp').optional() }),
      response: okResponse,
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
