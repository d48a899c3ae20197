// Sign-up, login, logout and the profile: /api/v1/auth/* and /api/v1/me.
import { z } from 'zod';
import type { App } from '../../app.js';
import type { UserRecord } from '../../storage/users.js';
import { EMAIL_CODE_ERRORS, SEND_CODE_ERRORS, TOTP_CODE_ERRORS } from './errors.js';
import { defineRoute, type PortalRoute } from './route.js';
import { codeSent, codeSentResponse, okResponse, text } from './schemas.js';

/** The profile (screen 1: email and UID) and the CSRF token of the session. */
export const meResponse = z
  .object({
    uid: z.string(),
    email: z.string(),
    totpBound: z.boolean().meta({ description: 'Whether Google Authenticator is bound.' }),
    createdAt: z.number().meta({ description: 'Epoch milliseconds.' }),
    csrfToken: z.string().meta({ description: 'Send it in the X-CSRF-Token header of every state-changing call of this session.' }),
  })
  .meta({ id: 'Profile' });

export async function profile(app: App, user: UserRecord, csrfToken: string): Promise<z.input<typeof meResponse>> {
  return { uid: user.uid, email: user.email, totpBound: await app.authenticator.isBound(user.id), createdAt: user.createdAt, csrfToken };
}

export function authRoutes(app: App): PortalRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/auth/email-code',
      summary: 'Mail a sign-up code (an address that has an account is mailed a notice instead, and the answer is the same)',
      session: false,
      body: z.object({
        email: text('email', 320),
        purpose: z.literal('signup', { error: 'purpose must be "signup" here; signed-in actions ask for codes at /api/v1/security/email-code' }),
      }),
      response: codeSentResponse,
      errors: ['email_invalid', ...SEND_CODE_ERRORS],
      async handler({ body, ip }) {
        const sent = await app.signIn.sendSignUpCode(body.email, ip);
        return codeSent(sent);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/auth/signup',
      summary: 'Create an account with the mailed code, and log in',
      session: false,
      status: 201,
      body: z.object({ email: text('email', 320), password: text('password', 1024), emailCode: text('emailCode', 16) }),
      response: meResponse,
      errors: ['email_invalid', 'email_taken', 'password_invalid', ...EMAIL_CODE_ERRORS],
      sessionCookie: 'set',
      async handler({ body, ip, startSession }) {
        const { user, session } = await app.signIn.signUp(body, ip);
        await startSession(session);
        return profile(app, user, session.csrfToken);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/auth/login',
      summary: 'Log in (with the authenticator code once one is bound)',
      session: false,
      body: z.object({ email: text('email', 320), password: text('password', 1024), totp: text('totp', 16).optional() }),
      response: meResponse,
      errors: ['invalid_credentials', ...TOTP_CODE_ERRORS],
      sessionCookie: 'set',
      async handler({ body, ip, startSession }) {
        const { user, session } = await app.signIn.login(body, ip);
        await startSession(session);
        return profile(app, user, session.csrfToken);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/auth/logout',
      summary: 'End this session',
      session: true,
      response: okResponse,
      sessionCookie: 'clear',
      async handler({ session, ip, clearSession }) {
        await app.signIn.logout(session.user, session.id, ip);
        clearSession();
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/me',
      summary: "The account's profile and the session's CSRF token",
      session: true,
      response: meResponse,
      async handler({ session }) {
        return profile(app, session.user, session.csrfToken);
      },
    }),
  ];
}
