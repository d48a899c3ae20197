// Google Authenticator and the API-key lifecycle through the portal, over real HTTP with a real SMTP
// server, checked against the signed API the keys are for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankApiError, LbankClient } from '../src/client/index.js';
import { totpCode } from '../src/domain/totp.js';
import { DATABASE_KINDS } from './support/databases.js';
import { expectError, type CreatedKey, type KeyList, type Portal, type PortalClient } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { codeIn } from './support/smtp.js';

const PASSWORD = 'a long and unusual passphrase';
const MINUTE = 60_000;

describe.each(DATABASE_KINDS)('portal API keys (%s)', (kind) => {
  let harness: PortalHarness;
  let portal: Portal;
  let counter = 0;
  const email = () => `trader${++counter}@example.test`;

  beforeAll(async () => {
    harness = await startPortal(kind);
    portal = harness.portal;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** A signed-in account with Google Authenticator bound. */
  async function account(): Promise<{ client: PortalClient; address: string; seed: string }> {
    const address = email();
    const client = await portal.signUp(address);
    const seed = await portal.bindTotp(client);
    return { client, address, seed };
  }

  it('binds Google Authenticator, then asks for its code at login and accepts each code once', async () => {
    const address = email();
    const client = await portal.signUp(address);
    expectError(await client.post('/api/v1/security/totp/confirm', { code: '123456', emailCode: '123456' }), 400, 'email_code_expired', 'emailCode');
    expectError(await client.post('/api/v1/security/totp/setup', undefined, { csrf: false }), 403, 'csrf_token_invalid');

    const setup = await client.post<{ secret: string; otpauthUrl: string; qrSvg: string }>('/api/v1/security/totp/setup');
    expect(setup.status).toBe(200);
    expect(Object.keys(setup.body).sort()).toEqual(['otpauthUrl', 'qrSvg', 'secret']);
    const seed = setup.body.secret;
    expect(seed).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(setup.body.otpauthUrl);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe(`/Keygate:${address}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ issuer: 'Keygate', secret: seed, algorithm: 'SHA1', digits: '6', period: '30' });
    expect(setup.body.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);

    // Not bound until a code confirms it, together with a code mailed for binding (a stolen session
    // alone cannot bind another phone); a wrong code does not bind it and does not spend the email code.
    expect((await client.get('/api/v1/me')).body.totpBound).toBe(false);
    const current = totpCode(seed, harness.clock.now());
    expectError(await client.post('/api/v1/security/totp/confirm', { code: current }), 400, 'invalid_request', 'emailCode');
    const bindCode = await portal.emailCode(client, address, 'bind_totp');
    const wrong = totpCode(seed, harness.clock.now() + 5 * 30_000);
    expectError(await client.post('/api/v1/security/totp/confirm', { code: wrong, emailCode: bindCode }), 400, 'totp_incorrect', 'totp');
    expectError(await client.post('/api/v1/security/totp/confirm', { code: current, emailCode: String((Number(bindCode) + 1) % 1_000_000).padStart(6, '0') }), 400, 'email_code_incorrect', 'emailCode');
    expect((await client.post('/api/v1/security/totp/confirm', { code: current, emailCode: bindCode })).body).toEqual({ totpBound: true });
    expect((await client.get('/api/v1/me')).body.totpBound).toBe(true);
    expectError(await client.post('/api/v1/security/totp/setup'), 409, 'totp_already_bound');

    // The seed is stored sealed, never as it is.
    const stored = await harness.kg.app.database.db.selectFrom('authenticators').select('seed_sealed').executeTakeFirstOrThrow();
    expect(stored.seed_sealed).not.toContain(seed);
    expect(stored.seed_sealed).toMatch(/^v1:/);

    const fresh = portal.client();
    const login = (totp?: string) => fresh.post('/api/v1/auth/login', { email: address, password: PASSWORD, ...(totp === undefined ? {} : { totp }) });
    expect(expectError(await login(), 400, 'totp_required', 'totp').message).toMatch(/Google Authenticator/);
    expectError(await login('000000' === totpCode(seed, harness.clock.now() + 30_000) ? '111111' : '000000'), 400, 'totp_incorrect', 'totp');

    // The code that confirmed the binding cannot log in (same step).
    expectError(await login(totpCode(seed, harness.clock.now())), 400, 'totp_reused', 'totp');
    // ±1 step of drift: the next step's code is accepted once, then refused as replayed.
    const next = totpCode(seed, harness.clock.now() + 30_000);
    expect((await login(next)).status).toBe(200);
    expectError(await login(next), 400, 'totp_reused', 'totp');
    // Two steps away is too far.
    harness.clock.advance(60_000);
    expectError(await login(totpCode(seed, harness.clock.now() + 2 * 30_000)), 400, 'totp_incorrect');
    expectError(await login(totpCode(seed, harness.clock.now() - 2 * 30_000)), 400, 'totp_incorrect');
    // The previous step's code is within drift but older than the one used: refused.
    expectError(await login(totpCode(seed, harness.clock.now() - 30_000)), 400, 'totp_reused');
    expect((await login(portal.nextTotp(seed))).status).toBe(200);
  });

  it('requires a bound authenticator to create a key, and says so', async () => {
    const address = email();
    const client = await portal.signUp(address);
    const emailCode = await portal.emailCode(client, address, 'create_api_key');
    const error = expectError(
      await client.post('/api/v1/api-keys', { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], emailCode, totp: '123456' }),
      403,
      'totp_not_bound',
    );
    expect(error.message).toMatch(/Bind Google Authenticator first/);
  });

  it('runs the whole lifecycle: create (secret once), list, use, edit, disable, enable, delete', async () => {
    const { client, address, seed } = await account();
    expect((await client.get('/api/v1/api-keys')).body).toEqual({ keys: [] });

    const emailCode = await portal.emailCode(client, address, 'create_api_key');
    const codeMail = await harness.mail.waitFor(address);
    expect(codeMail.subject).toMatch(/create an API key/);
    const created = await client.post<CreatedKey>('/api/v1/api-keys', {
      name: 'market maker',
      method: 'HmacSHA256',
      ips: '127.0.0.1,192.0.2.10',
      authority: ['read', 'trade'],
      emailCode,
      totp: portal.nextTotp(seed),
    });
    expect(created.status).toBe(201);
    const info = created.body;
    expect(info).toEqual({
      name: 'market maker',
      apiKey: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      method: 'HmacSHA256',
      ips: '127.0.0.1,192.0.2.10',
      authority: ['read', 'trade'],
      validUntil: null,
      createdAt: expect.any(Number),
      status: 'enabled',
      lastUsedAt: null,
      lastUsedIp: null,
      secretKey: expect.stringMatching(/^[0-9A-F]{32}$/),
    });

    // The list (screen 2) never carries a secret.
    const listed = await client.get('/api/v1/api-keys');
    const { secretKey, ...row } = info;
    expect(listed.body).toEqual({ keys: [row] });
    expect(JSON.stringify(listed.body)).not.toContain(secretKey);
    expect(JSON.stringify(listed.body).toLowerCase()).not.toContain('secret');

    // The key works on the signed API, and its use shows in the list.
    const lbank = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey: info.apiKey, secret: secretKey });
    const restrictions = await lbank.call<Record<string, unknown>>('supplement/api_Restrictions');
    expect(restrictions).toMatchObject({ ipRestrict: true, enableReading: true, enableSpotTrading: true, enableWithdrawals: false });
    const used = (await client.get<KeyList>('/api/v1/api-keys')).body.keys[0]!;
    expect(used.lastUsedAt).toEqual(expect.any(Number));
    expect(used.lastUsedIp).toBe('127.0.0.1');

    // Edit: every rule re-checked, with an edit code (a create code will not do).
    portal.afterCooldown();
    const createCode = await portal.emailCode(client, address, 'create_api_key');
    expectError(
      await client.patch(`/api/v1/api-keys/${info.apiKey}`, { name: 'renamed', emailCode: createCode, totp: portal.nextTotp(seed) }),
      400,
      'email_code_expired',
      'emailCode',
    );
    expectError(
      await client.patch(`/api/v1/api-keys/${info.apiKey}`, { ips: '127.0.0.1, 192.0.2.10', emailCode: '000000', totp: '000000' }),
      400,
      'key_ips_invalid',
      'ips',
    );
    portal.afterCooldown();
    const editCode = await portal.emailCode(client, address, 'edit_api_key');
    const edited = await client.patch(`/api/v1/api-keys/${info.apiKey}`, {
      name: 'renamed',
      ips: '192.0.2.10',
      authority: ['trade', 'futures'],
      emailCode: editCode,
      totp: portal.nextTotp(seed),
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: 'renamed', ips: '192.0.2.10', authority: ['read', 'trade', 'futures'], status: 'enabled' });
    expect(JSON.stringify(edited.body)).not.toContain(secretKey);
    // The new whitelist applies on the next signed request.
    await expect(lbank.call('supplement/api_Restrictions')).rejects.toMatchObject({ code: 10022 });
    portal.afterCooldown();
    const editBack = await portal.emailCode(client, address, 'edit_api_key');
    expect((await client.patch(`/api/v1/api-keys/${info.apiKey}`, { ips: '127.0.0.1', emailCode: editBack, totp: portal.nextTotp(seed) })).status).toBe(200);
    await lbank.call('supplement/api_Restrictions');

    // Disabling needs only the session and CSRF token, and applies on the next request.
    expectError(await client.post(`/api/v1/api-keys/${info.apiKey}/disable`, undefined, { csrf: false }), 403, 'csrf_token_invalid');
    expectError(await client.post(`/api/v1/api-keys/${info.apiKey}/disable`, undefined, { csrf: 'forged-token' }), 403, 'csrf_token_invalid');
    await lbank.call('supplement/api_Restrictions');
    const disabled = await client.post(`/api/v1/api-keys/${info.apiKey}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    await expect(lbank.call('supplement/api_Restrictions')).rejects.toMatchObject({ code: 10005 });
    // Enabling is not revoking: a session alone (a stolen cookie and its CSRF token) cannot bring the
    // key back; it takes the Security Verification, as an edit does.
    const bare = expectError(await client.post(`/api/v1/api-keys/${info.apiKey}/enable`), 400, 'invalid_request');
    expect(bare.field).toBe('emailCode');
    expectError(await client.post(`/api/v1/api-keys/${info.apiKey}/enable`, { emailCode: '123456', totp: portal.nextTotp(seed) }), 400, 'email_code_expired');
    await expect(lbank.call('supplement/api_Restrictions')).rejects.toMatchObject({ code: 10005 });
    portal.afterCooldown();
    const enableCode = await portal.emailCode(client, address, 'enable_api_key');
    const enableMail = harness.mail.to(address).at(-1)!;
    expect(enableMail.text).toMatch(/enable an API key again/);
    expectError(await client.post(`/api/v1/api-keys/${info.apiKey}/enable`, { emailCode: enableCode, totp: '000000' }), 400, 'totp_incorrect');
    expect((await client.post(`/api/v1/api-keys/${info.apiKey}/enable`, { emailCode: enableCode, totp: portal.nextTotp(seed) })).body.status).toBe('enabled');
    await lbank.call('supplement/api_Restrictions');

    // Deleted in the portal: refused by the signed API on the next request.
    expectError(await client.delete(`/api/v1/api-keys/${info.apiKey}`, { csrf: false }), 403, 'csrf_token_invalid');
    const deleted = await client.delete(`/api/v1/api-keys/${info.apiKey}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: 1 });
    const refusal = await lbank.call('supplement/api_Restrictions').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(LbankApiError);
    expect(refusal).toMatchObject({ code: 10005 });
    expect((await client.get('/api/v1/api-keys')).body).toEqual({ keys: [] });
    expectError(await client.delete(`/api/v1/api-keys/${info.apiKey}`), 404, 'api_key_not_found');
    expectError(await client.post(`/api/v1/api-keys/${info.apiKey}/enable`, { emailCode: '123456', totp: '123456' }), 404, 'api_key_not_found');

    // Nothing secret reached the server's log.
    const log = harness.kg.logs.join('\n');
    for (const secret of [secretKey, seed, client.cookie!, client.csrfToken!, emailCode, editCode, codeIn(codeMail)]) {
      expect(log).not.toContain(secret);
    }
  });

  it('creates RSA keys: a generated pair, or the holder’s own public key', async () => {
    const { client, address, seed } = await account();
    const generated = await portal.createKey(client, address, seed, { name: 'rsa', method: 'RSA', ips: '', authority: ['read', 'trade'] });
    expect(generated.secretKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(generated.secretKey.length).toBeGreaterThan(1000);
    // Without an IP, authority beyond Read lapses 30 days after creation.
    expect(generated.validUntil).toBe(generated.createdAt + 30 * 24 * 60 * MINUTE);
    const restrictions = await portal.signed(generated);
    expect(restrictions).toMatchObject({ result: 'true', data: { ipRestrict: false, enableSpotTrading: true } });

    const { generateKeyPairSync } = await import('node:crypto');
    const own = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKey = own.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const supplied = await portal.createKey(client, address, seed, { name: 'own key', method: 'RSA', ips: '127.0.0.1', authority: ['read'], publicKey });
    expect(supplied.secretKey).toBeNull();
    const privateKey = own.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    expect(await portal.signed({ apiKey: supplied.apiKey, secretKey: privateKey })).toMatchObject({ result: 'true' });

    expectError(
      await client.post('/api/v1/api-keys', { name: 'x', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], publicKey, emailCode: '000000', totp: '000000' }),
      400,
      'key_public_key_invalid',
      'publicKey',
    );
  });

  it('refuses codes that are wrong, expired, reused or for another purpose, and a replayed authenticator code', async () => {
    const { client, address, seed } = await account();
    const form = { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] };
    const create = (emailCode: string, totp: string) => client.post<CreatedKey>('/api/v1/api-keys', { ...form, emailCode, totp });

    // For another purpose: an unbind code cannot confirm a key.
    const unbindCode = await portal.emailCode(client, address, 'unbind_totp');
    expectError(await create(unbindCode, portal.nextTotp(seed)), 400, 'email_code_expired', 'emailCode');

    // Wrong email code: refused, and the authenticator code is not spent by it.
    portal.afterCooldown();
    const code = await portal.emailCode(client, address, 'create_api_key');
    const editCode = await portal.emailCode(client, address, 'edit_api_key');
    const totp = portal.nextTotp(seed);
    expectError(await create(code === '000000' ? '000001' : '000000', totp), 400, 'email_code_incorrect', 'emailCode');
    // Wrong authenticator code: refused, and the email code is not spent by it.
    expectError(await create(code, totp === '000000' ? '000001' : '000000'), 400, 'totp_incorrect', 'totp');
    expectError(await create(code, ''), 400, 'totp_required', 'totp');
    const created = await create(code, totp);
    expect(created.status).toBe(201);

    // Reused: the email code is single use...
    expectError(await create(code, portal.nextTotp(seed)), 400, 'email_code_expired');
    // ...and so is the authenticator code (RFC 6238 §5.2), even with a good email code for another action.
    const edit = (totp6: string) => client.patch(`/api/v1/api-keys/${created.body.apiKey}`, { name: 'renamed', emailCode: editCode, totp: totp6 });
    expectError(await edit(totp), 400, 'totp_reused', 'totp');
    const current = totpCode(seed, harness.clock.now());
    expect((await edit(current)).status).toBe(200);
    // Replayed on another action within its drift window: still refused (the unbind code is still live).
    expectError(await client.post('/api/v1/security/totp/unbind', { emailCode: unbindCode, totp: current }), 400, 'totp_reused', 'totp');
    expect((await client.get('/api/v1/me')).body.totpBound).toBe(true);

    // Expired: an email code lives 10 minutes.
    portal.afterCooldown();
    const late = await portal.emailCode(client, address, 'create_api_key');
    harness.clock.advance(10 * MINUTE + 1);
    expectError(await create(late, totpCode(seed, harness.clock.now())), 400, 'email_code_expired');
    expect((await client.get<KeyList>('/api/v1/api-keys')).body.keys.map((k) => k.name)).toEqual(['renamed']);
  });

  it('enforces the rules of the form with messages that name the field', async () => {
    const { client } = await account();
    const attempt = (input: Record<string, unknown>) =>
      client.post('/api/v1/api-keys', { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], emailCode: '000000', totp: '000000', ...input });

    const ips21 = Array.from({ length: 21 }, (_, i) => `192.0.2.${i + 1}`).join(',');
    expect(expectError(await attempt({ ips: ips21 }), 400, 'key_ips_too_many', 'ips').message).toMatch(/up to 20 IPs/);
    expect(expectError(await attempt({ ips: '192.0.2.1, 192.0.2.2' }), 400, 'key_ips_invalid', 'ips').message).toMatch(/without spaces/);
    expect(expectError(await attempt({ ips: '192.0.2.1;192.0.2.2' }), 400, 'key_ips_invalid', 'ips').message).toMatch(/not an IPv4 or IPv6 address/);
    expectError(await attempt({ ips: '192.0.2.1,,192.0.2.2' }), 400, 'key_ips_invalid', 'ips');
    expectError(await attempt({ ips: '192.0.2.1,192.0.2.1' }), 400, 'key_ips_invalid', 'ips');
    expect(expectError(await attempt({ ips: '' }), 400, 'key_ip_required', 'ips').message).toMatch(/HmacSHA256/);
    expect(expectError(await attempt({ method: 'RSA', ips: '', authority: ['read', 'withdraw'] }), 400, 'key_ip_required', 'ips').message).toMatch(/Withdraw/);
    expect(expectError(await attempt({ name: 'x'.repeat(21) }), 400, 'key_name_invalid', 'name').message).toMatch(/1 to 20 characters/);
    expectError(await attempt({ name: '   ' }), 400, 'key_name_invalid', 'name');
    expectError(await attempt({ method: 'HmacSHA512' }), 400, 'key_method_invalid', 'method');
    expectError(await attempt({ authority: ['read', 'admin'] }), 400, 'key_authority_invalid', 'authority');
    expectError(await attempt({ authority: 'read' }), 400, 'invalid_request', 'authority');
    expectError(await attempt({ ips: ['127.0.0.1'] }), 400, 'invalid_request', 'ips');
    expectError(await attempt({ emailCode: undefined }), 400, 'invalid_request', 'emailCode');
    expectError(await attempt({ totp: undefined }), 400, 'invalid_request', 'totp');
  });

  it('holds at most 5 key pairs, and accepts 20 IPs', async () => {
    const { client, address, seed } = await account();
    const ips20 = Array.from({ length: 20 }, (_, i) => `192.0.2.${i + 1}`).join(',');
    for (let i = 1; i <= 5; i++) {
      await portal.createKey(client, address, seed, { name: `key ${i}`, method: 'HmacSHA256', ips: i === 1 ? ips20 : '127.0.0.1', authority: ['read'] });
    }
    const keys = (await client.get<KeyList>('/api/v1/api-keys')).body.keys;
    expect(keys.map((k) => k.name)).toEqual(['key 1', 'key 2', 'key 3', 'key 4', 'key 5']);
    expect(keys[0]!.ips).toBe(ips20);

    // The sixth is refused before any code is spent.
    portal.afterCooldown();
    const emailCode = await portal.emailCode(client, address, 'create_api_key');
    const totp = portal.nextTotp(seed);
    const sixth = expectError(
      await client.post('/api/v1/api-keys', { name: 'key 6', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], emailCode, totp }),
      409,
      'key_limit_reached',
    );
    expect(sixth.message).toMatch(/up to 5 API key pairs/);
    expect(sixth.field).toBeUndefined();

    // After deleting one, the same codes still work.
    expect((await client.delete(`/api/v1/api-keys/${keys[2]!.apiKey}`)).status).toBe(200);
    const created = await client.post('/api/v1/api-keys', { name: 'key 6', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], emailCode, totp });
    expect(created.status).toBe(201);
  });

  it("cannot see or touch another account's keys", async () => {
    const owner = await account();
    const key = await portal.createKey(owner.client, owner.address, owner.seed, { name: 'mine', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    const other = await account();

    expect((await other.client.get('/api/v1/api-keys')).body).toEqual({ keys: [] });
    expectError(await other.client.post(`/api/v1/api-keys/${key.apiKey}/disable`), 404, 'api_key_not_found');
    expectError(await other.client.post(`/api/v1/api-keys/${key.apiKey}/enable`, { emailCode: '123456', totp: '123456' }), 404, 'api_key_not_found');
    expectError(await other.client.delete(`/api/v1/api-keys/${key.apiKey}`), 404, 'api_key_not_found');
    portal.afterCooldown();
    const editCode = await portal.emailCode(other.client, other.address, 'edit_api_key');
    expectError(
      await other.client.patch(`/api/v1/api-keys/${key.apiKey}`, { name: 'stolen', emailCode: editCode, totp: portal.nextTotp(other.seed) }),
      404,
      'api_key_not_found',
    );
    // The same answer as for a key that does not exist at all.
    expectError(await other.client.delete('/api/v1/api-keys/00000000-0000-4000-8000-000000000000'), 404, 'api_key_not_found');
    // Revoking all of one's own keys does not touch anyone else's.
    expect((await other.client.delete('/api/v1/api-keys')).body).toEqual({ deleted: 0 });

    expect(await portal.signed(key)).toMatchObject({ result: 'true' });
    expect((await owner.client.get<KeyList>('/api/v1/api-keys')).body.keys[0]).toMatchObject({ name: 'mine', status: 'enabled' });
  });

  it('revokes every key at once, with the session and CSRF token only', async () => {
    const { client, address, seed } = await account();
    const first = await portal.createKey(client, address, seed, { name: 'one', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    const second = await portal.createKey(client, address, seed, { name: 'two', method: 'RSA', ips: '', authority: ['read'] });
    expect(await portal.signed(first)).toMatchObject({ result: 'true' });
    expect(await portal.signed(second)).toMatchObject({ result: 'true' });

    expectError(await client.delete('/api/v1/api-keys', { csrf: false }), 403, 'csrf_token_invalid');
    // A bodyless call that still says JSON (as some fetch wrappers do) is fine.
    const revoked = await client.request('DELETE', '/api/v1/api-keys', undefined, { rawBody: '', headers: { 'content-type': 'application/json' } });
    expect(revoked.body).toEqual({ deleted: 2 });
    expect(await portal.signed(first)).toMatchObject({ result: 'false', error_code: 10005 });
    expect(await portal.signed(second)).toMatchObject({ result: 'false', error_code: 10005 });
    expect((await client.get('/api/v1/api-keys')).body).toEqual({ keys: [] });
  });

  it('unbinds Google Authenticator with an email code and a current code', async () => {
    const { client, address, seed } = await account();
    expectError(await client.post('/api/v1/security/totp/unbind', { emailCode: '000000', totp: portal.nextTotp(seed) }), 400, 'email_code_expired');
    const code = await portal.emailCode(client, address, 'unbind_totp');
    expect((await harness.mail.waitFor(address)).subject).toMatch(/unbind Google Authenticator/);
    expectError(await client.post('/api/v1/security/totp/unbind', { emailCode: code }), 400, 'invalid_request', 'totp');
    const unbound = await client.post('/api/v1/security/totp/unbind', { emailCode: code, totp: portal.nextTotp(seed) });
    expect(unbound.body).toEqual({ totpBound: false });
    expect((await client.get('/api/v1/me')).body.totpBound).toBe(false);
    // Login no longer asks for it; keys cannot be created until one is bound again.
    expect((await portal.client().post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
    const bindAgain = await portal.bindTotp(client);
    expect(bindAgain).not.toBe(seed);
  });

  it('spends a pair of codes once, even when two requests race with it', async () => {
    const { client, address, seed } = await account();
    portal.afterCooldown();
    const emailCode = await portal.emailCode(client, address, 'create_api_key');
    const totp = portal.nextTotp(seed);
    const form = { method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], emailCode, totp };
    const results = await Promise.all([1, 2, 3].map((i) => client.post('/api/v1/api-keys', { ...form, name: `racer ${i}` })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 400, 400]);
    for (const refused of results.filter((r) => r.status === 400)) {
      expect(['email_code_expired', 'totp_reused']).toContain(refused.body.error?.code);
    }
    expect((await client.get<KeyList>('/api/v1/api-keys')).body.keys).toHaveLength(1);
  });

  it('asks for the authenticator code to change the password once it is bound', async () => {
    const { client, seed } = await account();
    const change = { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' };
    expectError(await client.post('/api/v1/security/password', change), 400, 'totp_required', 'totp');
    expectError(await client.post('/api/v1/security/password', { ...change, totp: '12345' }), 400, 'totp_incorrect', 'totp');
    expect((await client.post('/api/v1/security/password', { ...change, totp: portal.nextTotp(seed) })).status).toBe(200);
    expectError(await client.get('/api/v1/me'), 401, 'unauthenticated');
  });

  it('reports a mail server that refuses the mail, and lets the person ask again at once', async () => {
    const { client, address } = await account();
    harness.mail.failNext(1);
    expectError(await client.post('/api/v1/security/email-code', { purpose: 'create_api_key' }), 503, 'mail_unavailable');
    await portal.emailCode(client, address, 'create_api_key');
  });
});
