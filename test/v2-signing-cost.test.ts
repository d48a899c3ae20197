// What a signature check may cost, bounded: RSA keys of the sizes clients use with exponent 65537, a
// cap on a signed request's parameters (refused before the key is looked up), one value per parameter
// name, and alternate encodings tried only where they differ. Over real HTTP on SQLite and PostgreSQL.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient, newEchostr } from '../src/client/index.js';
import { rsaPrivateKeyObject } from '../src/domain/keys.js';
import { MAX_SIGNED_PARAMETER_BYTES, MAX_SIGNED_PARAMETERS } from '../src/domain/request-auth.js';
import { buildStringToSign, hmacSignature, md5UpperHex, rsaSignature } from '../src/domain/signing.js';
import { insertApiKey } from '../src/storage/api-keys.js';
import { DATABASE_KINDS } from './support/databases.js';
import { expectError, type PortalClient } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { readReply, signedPost, type Reply } from './support/requests.js';
import { HUGE_EXPONENT, rsaPublicKeyPem } from './support/rsa.js';

const RESTRICTIONS = 'supplement/api_Restrictions';

describe.each(DATABASE_KINDS)('the cost of a signature check on %s', (kind) => {
  let harness: PortalHarness;
  let client: LbankClient;
  let hmacSecret: string;
  let hmacApiKey: string;
  let owner: { client: PortalClient; email: string; seed: string };
  let userId: number;

  beforeAll(async () => {
    harness = await startPortal(kind);
    const email = `cost-${kind}@example.test`;
    const portalClient = await harness.portal.signUp(email);
    owner = { client: portalClient, email, seed: await harness.portal.bindTotp(portalClient) };
    userId = (await harness.kg.app.accounts.findByEmail(email))!.id;
    const created = await harness.kg.app.apiKeys.create(userId, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    hmacSecret = created.secret!;
    hmacApiKey = created.key.apiKey;
    client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey: created.key.apiKey, secret: hmacSecret });
  });
  afterAll(async () => harness?.stop());

  const code = (reply: Reply) => {
    expect(reply.status).toBeLessThan(500);
    return reply.body.error_code;
  };
  const attemptKey = (publicKey: string) =>
    owner.client.post('/api/v1/api-keys', { name: 'own', method: 'RSA', ips: '127.0.0.1', authority: ['read'], publicKey, emailCode: '000000', totp: '000000' });

  it('refuses at creation an RSA public key with a huge or unusual exponent, naming the field and the rule', async () => {
    for (const exponent of [HUGE_EXPONENT, 3n, 2n ** 32n + 1n]) {
      const error = expectError(await attemptKey(rsaPublicKeyPem(2048, exponent)), 400, 'key_public_key_invalid', 'publicKey');
      expect(error.message).toMatch(/public exponent must be 65537/);
    }
  });

  it('refuses RSA keys of fewer than 2048 or more than 4096 bits, and accepts both bounds', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const [pem, bits] of [[small, 1024], [rsaPublicKeyPem(2047, 65537n), 2047], [rsaPublicKeyPem(4097, 65537n), 4097], [rsaPublicKeyPem(8192, 65537n), 8192]] as const) {
      const error = expectError(await attemptKey(pem), 400, 'key_public_key_invalid', 'publicKey');
      expect(error.message).toBe(`The RSA key must have 2048 to 4096 bits; this one has ${bits}.`);
    }
    for (const bits of [2048, 4096]) {
      const created = await harness.portal.createKey(owner.client, owner.email, owner.seed, { name: `rsa ${bits}`, method: 'RSA', ips: '127.0.0.1', authority: ['read'], publicKey: rsaPublicKeyPem(bits, 65537n) });
      expect(created.secretKey).toBeNull();
      expect((await owner.client.delete(`/api/v1/api-keys/${created.apiKey}`)).status).toBe(200);
    }
  });

  it('no longer verifies with an RSA key stored before the size rule that breaks it', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const apiKey = '3c1f2f5e-7a0b-4d5e-9f00-0000000001aa';
    await insertApiKey(harness.kg.app.database.db, {
      apiKey, userId, name: 'legacy 1024', method: 'RSA', ips: ['127.0.0.1'], authority: ['read'], secretSealed: null,
      publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), status: 'enabled', createdAt: harness.clock.now(),
    });
    const legacy = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), method: 'RSA' });
    expect(code(await signedPost(harness.kg.baseUrl, RESTRICTIONS, legacy, { timestamp: harness.clock.now() }))).toBe(10007);
  });

  /** Parameters named p00, p01… of the given value length, signed with the key. */
  const filler = (count: number, length = 1) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${String(i).padStart(2, '0')}`, 'x'.repeat(length)]));
  /** Bytes of names and values a signed request carries: its parameters and the three headers. */
  const sizeOf = (params: Record<string, string>) => {
    const signed = client.sign(params, { timestamp: harness.clock.now(), echostr: 'e'.repeat(35) });
    return Object.entries({ ...signed.params, ...signed.headers }).reduce((n, [name, value]) => n + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
  };
  /** api_key, sign, timestamp, signature_method, echostr. */
  const AUTH_PARAMETERS = 5;
  const post = (params: Record<string, string>, target = client) => signedPost(harness.kg.baseUrl, RESTRICTIONS, target, { params, timestamp: harness.clock.now() });

  it(`caps a signed request at ${MAX_SIGNED_PARAMETERS} parameters, refused with 10003 before the key is looked up`, async () => {
    expect(code(await post(filler(MAX_SIGNED_PARAMETERS - AUTH_PARAMETERS)))).toBe(0);
    const over = await post(filler(MAX_SIGNED_PARAMETERS - AUTH_PARAMETERS + 1));
    expect(code(over)).toBe(10003);
    expect(over.body.msg).toContain(`at most ${MAX_SIGNED_PARAMETERS} parameters`);
    // A key that does not exist is not even looked up: the answer is the same 10003, not 10005.
    const nobody = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey: '00000000-0000-4000-8000-000000000000', secret: 'F'.repeat(32) });
    expect(code(await post(filler(MAX_SIGNED_PARAMETERS - AUTH_PARAMETERS + 1), nobody))).toBe(10003);
    expect(code(await post(filler(10_000), nobody))).toBe(10003);
  });

  it(`caps the names and values of a signed request at ${MAX_SIGNED_PARAMETER_BYTES} bytes`, async () => {
    const base = sizeOf({ big: '' });
    // Exactly at the bound (a 64-hex HMAC signature has a fixed length), then one byte over it.
    const fits = { big: 'y'.repeat(MAX_SIGNED_PARAMETER_BYTES - base) };
    expect(sizeOf(fits)).toBe(MAX_SIGNED_PARAMETER_BYTES);
    expect(code(await post(fits))).toBe(0);
    const over = await post({ big: 'y'.repeat(MAX_SIGNED_PARAMETER_BYTES - base + 1) });
    expect(code(over)).toBe(10003);
    expect(over.body.msg).toContain(`at most ${MAX_SIGNED_PARAMETER_BYTES} bytes`);
    // Counted in UTF-8, as the string to sign is hashed.
    expect(code(await post({ big: 'é'.repeat(Math.ceil((MAX_SIGNED_PARAMETER_BYTES - base + 1) / 2)) }))).toBe(10003);
  });

  it('leaves room for the largest batch of orders (50, each with a 64-character custom_id)', async () => {
    const orders = Array.from({ length: 50 }, (_, i) => ({ symbol: 'btc_usdt', type: 'sell_maker', price: '99999.99', amount: '0.000001', custom_id: `${i}`.padStart(64, 'c') }));
    const params = { orders: JSON.stringify(orders) };
    expect(sizeOf(params)).toBeLessThan(MAX_SIGNED_PARAMETER_BYTES);
    expect(code(await post(params))).toBe(0);
  });

  it('refuses a parameter given in both the query string and the body with 10003', async () => {
    const signed = client.sign({ symbol: 'btc_usdt' }, { timestamp: harness.clock.now() });
    const url = new URL(`/v2/${RESTRICTIONS}.do`, harness.kg.baseUrl);
    url.search = 'symbol=eth_usdt';
    const reply = await readReply(
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed.headers }, body: new URLSearchParams(signed.params).toString() }),
    );
    expect(code(reply)).toBe(10003);
    expect(reply.body.msg).toContain('symbol is given more than once');
    // Split between the two without overlap, the request is fine.
    const split = client.sign({ symbol: 'btc_usdt' }, { timestamp: harness.clock.now() });
    const { symbol, ...rest } = split.params;
    url.search = new URLSearchParams({ symbol: symbol! }).toString();
    const ok = await readReply(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...split.headers }, body: new URLSearchParams(rest).toString() }));
    expect(code(ok)).toBe(0);
  });

  it('refuses a value that is not valid Unicode text with 10003, not a server error', async () => {
    const signed = client.sign({ note: 'x' }, { timestamp: harness.clock.now() });
    const response = await fetch(new URL(`/v2/${RESTRICTIONS}.do`, harness.kg.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed.headers },
      body: JSON.stringify({ ...signed.params, note: '\ud800' }),
    });
    const reply = await readReply(response);
    expect(code(reply)).toBe(10003);
    expect(reply.body.msg).toContain('not valid Unicode');
    expect(harness.kg.logs.filter((l) => l.includes('"level":50'))).toEqual([]);
  });

  it('still verifies signatures over URL-encoded values wherever the encodings differ', async () => {
    const rsa = await harness.kg.app.apiKeys.create(userId, { name: 'rsa', method: 'RSA', ips: '127.0.0.1', authority: ['read'] });
    const signers = [
      { apiKey: hmacApiKey, method: 'HmacSHA256', sign: (digest: string) => hmacSignature(digest, hmacSecret) },
      { apiKey: rsa.key.apiKey, method: 'RSA', sign: (digest: string) => rsaSignature(digest, rsaPrivateKeyObject(rsa.secret!)) },
    ];
    // Only form changes "!"; both change "/" alike; they differ on " ", "~", "'", "(" and ")".
    for (const note of ['a!b', 'a/b', 'a b', "it's (ok)~", 'é', 'plain']) {
      for (const encoding of ['raw', 'uri', 'form'] as const) {
        for (const signer of signers) {
          const params = { api_key: signer.apiKey, note, timestamp: String(harness.clock.now()), signature_method: signer.method, echostr: newEchostr() };
          const body = new URLSearchParams({ ...params, sign: signer.sign(md5UpperHex(buildStringToSign(params, encoding))) }).toString();
          const response = await fetch(new URL(`/v2/${RESTRICTIONS}.do`, harness.kg.baseUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
          expect(code(await readReply(response)), `${note} ${encoding} ${signer.method}`).toBe(0);
        }
      }
    }
  });
});
