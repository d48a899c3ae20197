// The portal's accounts over real HTTP with a real SMTP server: sign-up by email code, login, logout,
// sessions and their expiry, CSRF, password change, throttling, and the error shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from './support/databases.js';
import { expectError, type AuditPage, type Portal } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { codeIn } from './support/smtp.js';

const PASSWORD = 'a long and unusual passphrase';
const MINUTE = 60_000;

describe.each(DATABASE_KINDS)('portal accounts (%s)', (kind) => {
  let harness: PortalHarness;
  let portal: Portal;
  let counter = 0;
  const email = () => `person${++counter}@example.test`;

  beforeAll(async () => {
    harness = await startPortal(kind);
    portal = harness.portal;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('signs up with an emailed code, shows the profile, logs out and in again with a new session', async () => {
    const address = email();
    const client = portal.client();
    const sent = await client.post('/api/v1/auth/email-code', { email: address, purpose: 'signup' });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ sent: true, expiresInSeconds: 600, resendAfterSeconds: 60 });

    const mail = await harness.mail.waitFor(address);
    expect(mail.subject).toMatch(/verification code/i);
    const code = codeIn(mail);
    expect(code).toMatch(/^\d{6}$/);

    const before = harness.clock.now();
    const signup = await client.post('/api/v1/auth/signup', { email: address.toUpperCase(), password: PASSWORD, emailCode: code });
    expect(signup.status).toBe(201);
    expect(signup.body).toEqual({ uid: expect.stringMatching(/^\d{9}$/), email: address, totpBound: false, createdAt: expect.any(Number), csrfToken: expect.any(String) });
    expect(signup.body.createdAt).toBeGreaterThanOrEqual(before);
    expect(signup.body.createdAt).toBeLessThanOrEqual(harness.clock.now());
    expect(Object.keys(signup.body).sort()).toEqual(['createdAt', 'csrfToken', 'email', 'totpBound', 'uid']);
    const cookieLine = client.setCookies.at(-1)!;
    expect(cookieLine).toMatch(/^keygate_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+;/);
    expect(cookieLine).toMatch(/HttpOnly/i);
    expect(cookieLine).toMatch(/SameSite=Lax/i);
    expect(cookieLine).toMatch(/Path=\//);
    expect(cookieLine).not.toMatch(/Secure/i);

    const me = await client.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual(signup.body);
    expect(me.headers.get('cache-control')).toBe('no-store');

    // Behind HTTPS (a trusted proxy says so) the cookie is Secure.
    const secure = portal.client();
    const login = await secure.request('POST', '/api/v1/auth/login', { email: address, password: PASSWORD }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(login.status).toBe(200);
    expect(secure.setCookies.at(-1)).toMatch(/; Secure/i);
    // Logging in again in the same browser ends the session it had.
    const replaced = secure.cookie!;
    expect((await secure.post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
    expect(secure.cookie).not.toBe(replaced);
    const holder = portal.client();
    holder.cookie = replaced;
    expectError(await holder.get('/api/v1/me'), 401, 'unauthenticated');

    // Logout needs the CSRF token, then ends the session.
    expectError(await client.post('/api/v1/auth/logout', undefined, { csrf: false }), 403, 'csrf_token_invalid');
    const oldCookie = client.cookie!;
    const logout = await client.post('/api/v1/auth/logout');
    expect(logout.status).toBe(200);
    expect(client.cookie).toBeUndefined();
    client.cookie = oldCookie;
    expectError(await client.get('/api/v1/me'), 401, 'unauthenticated');

    // Login rotates the session: the cookie and CSRF token are new; the old cookie stays dead.
    client.cookie = oldCookie;
    const relogin = await client.post('/api/v1/auth/login', { email: address, password: PASSWORD });
    expect(relogin.status).toBe(200);
    expect(client.cookie).toBeDefined();
    expect(client.cookie).not.toBe(oldCookie);
    expect(relogin.body.csrfToken).not.toBe(signup.body.csrfToken);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    const stale = portal.client();
    stale.cookie = oldCookie;
    expectError(await stale.get('/api/v1/me'), 401, 'unauthenticated');
  });

  it('refuses weak passwords, and a mistake in the form does not cost the code', async () => {
    const address = email();
    const client = portal.client();
    const code = await portal.emailCode(client, address, 'signup');
    const short = expectError(await client.post('/api/v1/auth/signup', { email: address, password: 'short1', emailCode: code }), 400, 'password_invalid', 'password');
    expect(short.message).toMatch(/at least 10 characters/);
    const common = expectError(await client.post('/api/v1/auth/signup', { email: address, password: 'Password123', emailCode: code }), 400, 'password_invalid', 'password');
    expect(common.message).toMatch(/too common/);
    expectError(await client.post('/api/v1/auth/signup', { email: address, password: '1234567890', emailCode: code }), 400, 'password_invalid', 'password');
    expectError(await client.post('/api/v1/auth/signup', { email: address, password: 'aaaaaaaaaaaa', emailCode: code }), 400, 'password_invalid', 'password');
    expectError(await client.post('/api/v1/auth/signup', { email: address, password: address, emailCode: code }), 400, 'password_invalid', 'password');
    expectError(await client.post('/api/v1/auth/signup', { email: 'not-an-email', password: PASSWORD, emailCode: code }), 400, 'email_invalid', 'email');
    expectError(await client.post('/api/v1/auth/signup', { email: address, password: PASSWORD }), 400, 'invalid_request', 'emailCode');
    expect((await client.post('/api/v1/auth/signup', { email: address, password: PASSWORD, emailCode: code })).status).toBe(201);
  });

  it('refuses codes that are wrong, expired, reused, replaced or for another purpose', async () => {
    const address = email();
    const client = portal.client();
    const signup = (emailCode: string) => client.post('/api/v1/auth/signup', { email: address, password: PASSWORD, emailCode });

    // Expired: valid 10 minutes.
    const first = await portal.emailCode(client, address, 'signup');
    harness.clock.advance(10 * MINUTE + 1000);
    expectError(await signup(first), 400, 'email_code_expired', 'emailCode');

    // Wrong: counted, with the tries left; at the fifth wrong try the code dies.
    const second = await portal.emailCode(client, address, 'signup');
    const wrong = second === '000000' ? '000001' : '000000';
    const firstWrong = expectError(await signup(wrong), 400, 'email_code_incorrect', 'emailCode');
    expect(firstWrong.message).toMatch(/4 tries left/);
    for (let i = 0; i < 3; i++) expectError(await signup(wrong), 400, 'email_code_incorrect');
    const last = expectError(await signup(wrong), 400, 'email_code_incorrect');
    expect(last.message).toMatch(/can no longer be used/);
    expectError(await signup(second), 400, 'email_code_expired');
    expectError(await signup('12ab56'), 400, 'email_code_expired');

    // Replaced: a new code makes the previous one useless.
    portal.afterCooldown();
    const third = await portal.emailCode(client, address, 'signup');
    portal.afterCooldown();
    const fourth = await portal.emailCode(client, address, 'signup');
    if (third !== fourth) expectError(await signup(third), 400, 'email_code_incorrect');

    // Used once.
    expect((await signup(fourth)).status).toBe(201);
    const again = portal.client();
    expectError(await again.post('/api/v1/auth/signup', { email: address, password: PASSWORD, emailCode: fourth }), 400, 'email_code_expired');

    // For another purpose: a code sent to confirm a key is no sign-up code (and the reverse).
    const other = email();
    const otherClient = await portal.signUp(other);
    const keyCode = await portal.emailCode(otherClient, other, 'create_api_key');
    const newcomer = portal.client();
    expectError(await newcomer.post('/api/v1/auth/signup', { email: other, password: PASSWORD, emailCode: keyCode }), 400, 'email_code_expired');
  });

  it('keeps a 60-second cooldown between codes, and says when to retry', async () => {
    const address = email();
    const client = portal.client();
    await portal.emailCode(client, address, 'signup');
    harness.clock.advance(20_000);
    const refused = await client.post('/api/v1/auth/email-code', { email: address, purpose: 'signup' });
    const error = expectError(refused, 429, 'email_code_cooldown');
    expect(error.message).toMatch(/40 seconds/);
    expect(refused.headers.get('retry-after')).toBe('40');
    harness.clock.advance(40_000);
    await portal.emailCode(client, address, 'signup');
    expectError(await client.post('/api/v1/auth/email-code', { email: address, purpose: 'create_api_key' }), 400, 'invalid_request', 'purpose');
  });

  it('does not reveal which addresses have accounts', async () => {
    const address = email();
    await portal.signUp(address);
    portal.afterCooldown();
    const stranger = portal.client();
    const sent = await stranger.post('/api/v1/auth/email-code', { email: address, purpose: 'signup' });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ sent: true, expiresInSeconds: 600, resendAfterSeconds: 60 });
    const notice = await harness.mail.waitFor(address, (m) => /already has an account/.test(m.text));
    expect(notice.text).not.toMatch(/\b\d{6}\b/);

    const wrongPassword = expectError(await stranger.post('/api/v1/auth/login', { email: address, password: 'not the right password' }), 401, 'invalid_credentials');
    const noAccount = expectError(await stranger.post('/api/v1/auth/login', { email: email(), password: 'not the right password' }), 401, 'invalid_credentials');
    expect(noAccount.message).toBe(wrongPassword.message);
  });

  it('throttles one address guessing one account, without locking the owner out', async () => {
    const address = email();
    const owner = await portal.signUp(address);
    const attacker = portal.client();
    for (let i = 0; i < 5; i++) {
      expectError(await attacker.post('/api/v1/auth/login', { email: address, password: `wrong password ${i}` }), 401, 'invalid_credentials');
    }
    // That address is refused now even with the right password, with the time to wait.
    const refused = await attacker.post('/api/v1/auth/login', { email: address, password: PASSWORD });
    const error = expectError(refused, 429, 'rate_limited');
    expect(error.message).toMatch(/Too many failed logins for this account\. Try again in 15 minutes\./);
    expect(Number(refused.headers.get('retry-after'))).toBe(15 * 60);
    // The owner, from their own address, is not held back.
    expect((await portal.client(owner.ip).post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
    harness.clock.advance(15 * MINUTE);
    expect((await attacker.post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);

    // The failed logins are in the account's audit log, with the address they came from.
    const log = await attacker.get<AuditPage>('/api/v1/audit-log');
    const failed = log.body.events.filter((e) => e.type === 'login_failed');
    expect(failed).toHaveLength(5);
    expect(failed[0]).toMatchObject({ ip: attacker.ip, detail: { reason: 'password' } });
  });

  it('throttles one address that tries many accounts', async () => {
    const attacker = portal.client();
    for (let i = 0; i < 20; i++) {
      expectError(await attacker.post('/api/v1/auth/login', { email: email(), password: 'guessing passwords' }), 401, 'invalid_credentials');
    }
    const address = email();
    await portal.signUp(address);
    const error = expectError(await attacker.post('/api/v1/auth/login', { email: address, password: PASSWORD }), 429, 'rate_limited');
    expect(error.message).toMatch(/from your network/);
    // Someone else is not held back.
    expect((await portal.client().post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
  });

  it('throttles requests for codes per account and per address', async () => {
    const address = email();
    const client = portal.client();
    for (let i = 0; i < 10; i++) {
      await portal.emailCode(client, address, 'signup');
      portal.afterCooldown();
    }
    const refused = await portal.client().post('/api/v1/auth/email-code', { email: address, purpose: 'signup' });
    expect(expectError(refused, 429, 'rate_limited').message).toMatch(/for this account/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    harness.clock.advance(60 * MINUTE);
    await portal.emailCode(client, address, 'signup');

    // One address asking codes for many accounts.
    const sender = portal.client();
    for (let i = 0; i < 30; i++) await portal.emailCode(sender, email(), 'signup');
    const flooded = await sender.post('/api/v1/auth/email-code', { email: email(), purpose: 'signup' });
    expect(expectError(flooded, 429, 'rate_limited').message).toMatch(/from your network/);
  });

  it('throttles wrong codes per account across codes', async () => {
    const address = email();
    const client = portal.client();
    for (let round = 0; round < 2; round++) {
      const code = await portal.emailCode(client, address, 'signup');
      const wrong = code === '000000' ? '000001' : '000000';
      for (let i = 0; i < 5; i++) expectError(await client.post('/api/v1/auth/signup', { email: address, password: PASSWORD, emailCode: wrong }), 400, 'email_code_incorrect');
      portal.afterCooldown();
    }
    const code = await portal.emailCode(client, address, 'signup');
    const error = expectError(await client.post('/api/v1/auth/signup', { email: address, password: PASSWORD, emailCode: code }), 429, 'rate_limited');
    expect(error.message).toMatch(/wrong verification codes/);
  });

  it('ends sessions when idle and at their absolute lifetime', async () => {
    const address = email();
    const idle = await portal.signUp(address);
    harness.clock.advance(29 * MINUTE);
    expect((await idle.get('/api/v1/me')).status).toBe(200);
    harness.clock.advance(29 * MINUTE);
    expect((await idle.get('/api/v1/me')).status).toBe(200);
    harness.clock.advance(31 * MINUTE);
    expectError(await idle.get('/api/v1/me'), 401, 'unauthenticated');

    const busy = portal.client();
    expect((await busy.post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
    for (let elapsed = 0; elapsed < 12 * 60 - 25; elapsed += 25) {
      harness.clock.advance(25 * MINUTE);
      expect((await busy.get('/api/v1/me')).status).toBe(200);
    }
    harness.clock.advance(25 * MINUTE);
    expectError(await busy.get('/api/v1/me'), 401, 'unauthenticated');
  });

  it('changes the password and ends every session of the account', async () => {
    const address = email();
    const first = await portal.signUp(address);
    const second = portal.client();
    expect((await second.post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
    const newPassword = 'another long passphrase';

    expectError(await first.post('/api/v1/security/password', { currentPassword: PASSWORD, newPassword }, { csrf: false }), 403, 'csrf_token_invalid');
    expectError(await first.post('/api/v1/security/password', { currentPassword: 'not my password', newPassword }), 403, 'password_incorrect', 'currentPassword');
    expectError(await first.post('/api/v1/security/password', { currentPassword: PASSWORD, newPassword: 'qwertyuiop' }), 400, 'password_invalid', 'newPassword');
    const changed = await first.post('/api/v1/security/password', { currentPassword: PASSWORD, newPassword });
    expect(changed.status).toBe(200);

    expectError(await first.get('/api/v1/me'), 401, 'unauthenticated');
    expectError(await second.get('/api/v1/me'), 401, 'unauthenticated');
    expectError(await second.post('/api/v1/auth/login', { email: address, password: PASSWORD }), 401, 'invalid_credentials');
    expect((await second.post('/api/v1/auth/login', { email: address, password: newPassword })).status).toBe(200);
  });

  it('answers in the portal error shape, never a 5xx for bad input', async () => {
    const client = portal.client();
    expect(expectError(await client.get('/api/v1/nothing-here'), 404, 'not_found').message).toMatch(/GET \/api\/v1\/nothing-here/);
    expectError(await client.get('/somewhere/else'), 404, 'not_found');
    // LBank's clients still get LBank's envelope.
    const v2 = await client.get('/v2/no_such_endpoint.do');
    expect(v2.status).toBe(404);
    expect(v2.body).toMatchObject({ result: 'false', error_code: 404 });

    expectError(await client.request('POST', '/api/v1/auth/login', undefined, { rawBody: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');
    expectError(await client.request('POST', '/api/v1/auth/login', undefined, { rawBody: 'email=a%40b.test&password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    expectError(await client.post('/api/v1/auth/login', [1, 2]), 400, 'invalid_request');
    expectError(await client.post('/api/v1/auth/login', { email: 5, password: 'x' }), 400, 'invalid_request', 'email');
    expectError(await client.post('/api/v1/auth/login', { email: 'a@b.test', password: 'x'.repeat(2000) }), 400, 'invalid_request', 'password');
    expectError(await client.request('POST', '/api/v1/auth/login', undefined, { rawBody: JSON.stringify({ email: 'x'.repeat(300_000) }), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    // PostgreSQL cannot store a NUL character in text; it is refused before it reaches a query.
    expectError(await client.post('/api/v1/auth/email-code', { email: 'a\u0000b@b.test', purpose: 'signup' }), 400, 'invalid_request', 'email');
    expectError(await client.post('/api/v1/auth/login', { email: 'a@b.test', password: 'x\u0000yyyyyyyyyy' }), 400, 'invalid_request', 'password');
    expectError(await client.get('/api/v1/api-keys'), 401, 'unauthenticated');
    expectError(await client.get('/api/v1/audit-log'), 401, 'unauthenticated');
    expectError(await client.delete('/api/v1/api-keys'), 401, 'unauthenticated');
  });
});
