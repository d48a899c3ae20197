// Guessing, attacked as the security review did, with real concurrency over real HTTP: dozens of
// wrong passwords or codes in flight at once get no more tries than the limits allow; an unknown
// address costs the same work as a real one; a stranger cannot lock the owner out; a stolen session
// cannot re-enable a key; absurd input is refused, not a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2Hasher, type PasswordHasher } from '../src/security/password-hashing.js';
import { DATABASE_KINDS } from './support/databases.js';
import { expectError, type Portal, type PortalResponse } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';

const PASSWORD = 'a long and unusual passphrase';
const IN_FLIGHT = 40;

function codesOf(responses: Array<PortalResponse<unknown>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const code = r.status < 300 ? 'ok' : ((r.body as { error?: { code?: string } }).error?.code ?? String(r.status));
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

describe.each(DATABASE_KINDS)('guessing (%s)', (kind) => {
  let harness: PortalHarness;
  let portal: Portal;
  let counter = 0;
  let verified = 0;
  const email = () => `guess${++counter}@example.test`;
  const counting: PasswordHasher = {
    hash: (password) => argon2Hasher.hash(password),
    verify: (hash, password) => {
      verified++;
      return argon2Hasher.verify(hash, password);
    },
  };

  beforeAll(async () => {
    harness = await startPortal(kind, { passwordHasher: counting });
    portal = harness.portal;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it(`verifies at most 5 of ${IN_FLIGHT} concurrent wrong passwords from one address`, async () => {
    const address = email();
    const owner = await portal.signUp(address);
    const attacker = portal.client();
    const before = verified;
    const answers = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => attacker.post('/api/v1/auth/login', { email: address, password: `wrong password ${i}` })),
    );
    expect(codesOf(answers)).toEqual({ invalid_credentials: 5, rate_limited: IN_FLIGHT - 5 });
    expect(verified - before).toBe(5);
    // That address is held back even with the right password; the owner, elsewhere, is not.
    expectError(await attacker.post('/api/v1/auth/login', { email: address, password: PASSWORD }), 429, 'rate_limited');
    expect((await portal.client(owner.ip).post('/api/v1/auth/login', { email: address, password: PASSWORD })).status).toBe(200);
  });

  it('keeps the owner in while many addresses guess the account, and stops the guessers', async () => {
    const address = email();
    const owner = await portal.signUp(address);
    const seed = await portal.bindTotp(owner);
    // A botnet: 40 addresses, 2 guesses each, 80 wrong passwords within the hour.
    const guesses = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const bot = portal.client();
        return [
          await bot.post('/api/v1/auth/login', { email: address, password: `guess ${i} a` }),
          await bot.post('/api/v1/auth/login', { email: address, password: `guess ${i} b` }),
        ];
      }),
    );
    const counts = codesOf(guesses.flat());
    // Only 30 an hour from addresses the account never logged in from are tried at all.
    expect(counts).toEqual({ invalid_credentials: 30, rate_limited: 50 });
    const refused = guesses.flat().find((r) => r.status === 429)!;
    expect((refused.body as { error: { message: string } }).error.message).toMatch(/networks it has not logged in from before/);
    // Even a new address with the right password waits, which is what stops a distributed guesser...
    expectError(await portal.client().post('/api/v1/auth/login', { email: address, password: PASSWORD, totp: portal.nextTotp(seed) }), 429, 'rate_limited');
    // ...while the owner, from their own address, with password and authenticator, gets in.
    const login = await portal.client(owner.ip).post('/api/v1/auth/login', { email: address, password: PASSWORD, totp: portal.nextTotp(seed) });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
  });

  it(`counts ${IN_FLIGHT} concurrent wrong authenticator codes at login against the limit of 10`, async () => {
    const address = email();
    const owner = await portal.signUp(address);
    await portal.bindTotp(owner);
    // The right password with wrong codes, from many addresses so that the login throttles stay out of it.
    const answers = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => portal.client().post('/api/v1/auth/login', { email: address, password: PASSWORD, totp: String(100000 + i) })),
    );
    const counts = codesOf(answers);
    expect(counts.totp_incorrect).toBe(10);
    expect(counts.ok).toBeUndefined();
    expect((counts.totp_incorrect ?? 0) + (counts.rate_limited ?? 0)).toBe(IN_FLIGHT);
  });

  it(`gives ${IN_FLIGHT} concurrent guesses of one email code no more than its 5 tries`, async () => {
    const address = email();
    const client = await portal.signUp(address);
    const seed = await portal.bindTotp(client);
    portal.afterCooldown();
    const code = await portal.emailCode(client, address, 'create_api_key');
    const key = { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] };
    // A stolen session, used from many addresses so that only the code's own limit counts.
    const answers = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => {
        const thief = portal.client();
        thief.cookie = client.cookie;
        thief.csrfToken = client.csrfToken;
        const guess = String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
        return thief.post('/api/v1/api-keys', { ...key, emailCode: guess, totp: '000000' });
      }),
    );
    const counts = codesOf(answers);
    // The rest find the code used up, or the account's limit of wrong codes reached.
    expect(counts.email_code_incorrect).toBe(5);
    expect((counts.email_code_expired ?? 0) + (counts.rate_limited ?? 0)).toBe(IN_FLIGHT - 5);
    // The code is used up: even the right digits no longer work.
    expectError(await client.post('/api/v1/api-keys', { ...key, emailCode: code, totp: portal.nextTotp(seed) }), 400, 'email_code_expired');
  });

  it('refuses deeply nested JSON with a 400 naming the field, and logs no stack', async () => {
    const depth = 100_000;
    const body = `{"email":${'['.repeat(depth)}${']'.repeat(depth)},"password":"x"}`;
    const response = await fetch(new URL('/api/v1/auth/login', harness.kg.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { code: string; field?: string; message: string } };
    expect(answer.error).toMatchObject({ code: 'invalid_request', field: 'email' });
    expect(answer.error.message).toMatch(/nests deeper than 16 levels/);
    expect(harness.kg.logs.join('\n')).not.toMatch(/RangeError|Maximum call stack|"stack"/);
  });

  it('does the same work for an address without an account as for a wrong password', async () => {
    const address = email();
    await portal.signUp(address);
    const client = portal.client();
    let before = verified;
    const wrong = expectError(await client.post('/api/v1/auth/login', { email: address, password: 'not the password' }), 401, 'invalid_credentials');
    expect(verified - before).toBe(1);
    before = verified;
    const unknown = expectError(await client.post('/api/v1/auth/login', { email: email(), password: 'not the password' }), 401, 'invalid_credentials');
    expect(verified - before).toBe(1);
    expect(unknown).toEqual(wrong);
  });
});
