// Transfer moves funds to another Keygate account at once and for good, so, like Withdraw, it needs an
// IP whitelist: refused at creation and edit without one, and never usable by a key stored without
// one. Over real HTTP (portal and signed API) on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { newRsaKeyPair, type Authority } from '../src/domain/keys.js';
import { insertApiKey } from '../src/storage/api-keys.js';
import { DATABASE_KINDS } from './support/databases.js';
import { balance, expectLedgerBalanced, trader, type Trader } from './support/exchange.js';
import { expectError, type PortalClient } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { signedPost, type Reply } from './support/requests.js';

describe.each(DATABASE_KINDS)('Transfer authority on %s', (kind) => {
  let harness: PortalHarness;
  let owner: { client: PortalClient; email: string; seed: string };
  let recipient: Trader;

  beforeAll(async () => {
    harness = await startPortal(kind);
    const email = `transfer-${kind}@example.test`;
    const client = await harness.portal.signUp(email);
    owner = { client, email, seed: await harness.portal.bindTotp(client) };
    recipient = await trader(harness.kg, {}, ['read']);
  });
  afterAll(async () => harness?.stop());

  const code = (reply: Reply) => {
    expect(reply.status).toBeLessThan(500);
    return reply.body.error_code;
  };
  const noCodes = { emailCode: '000000', totp: '000000' };

  it('refuses a Read + Transfer key without IPs at creation, naming the field', async () => {
    const refused = expectError(
      await owner.client.post('/api/v1/api-keys', { name: 'mover', method: 'RSA', ips: '', authority: ['read', 'transfer'], ...noCodes }),
      400,
      'key_ip_required',
      'ips',
    );
    expect(refused.message).toBe('Transfer authority needs at least one IP address bound to the key.');
    expect((await owner.client.get<{ keys: unknown[] }>('/api/v1/api-keys')).body.keys).toEqual([]);
  });

  it('refuses to take the IPs away from a key with Transfer, or to add Transfer to a key without IPs', async () => {
    const bound = await harness.portal.createKey(owner.client, owner.email, owner.seed, { name: 'bound', method: 'RSA', ips: '127.0.0.1', authority: ['read', 'transfer'] });
    const unbound = await harness.portal.createKey(owner.client, owner.email, owner.seed, { name: 'unbound', method: 'RSA', ips: '', authority: ['read', 'trade'] });
    expectError(await owner.client.patch(`/api/v1/api-keys/${bound.apiKey}`, { ips: '', ...noCodes }), 400, 'key_ip_required', 'ips');
    expectError(await owner.client.patch(`/api/v1/api-keys/${unbound.apiKey}`, { authority: ['read', 'transfer'], ...noCodes }), 400, 'key_ip_required', 'ips');
    const keys = (await owner.client.get<{ keys: Array<{ name: string; ips: string; authority: string[] }> }>('/api/v1/api-keys')).body.keys;
    expect(keys.map((k) => [k.name, k.ips, k.authority])).toEqual([
      ['bound', '127.0.0.1', ['read', 'transfer']],
      ['unbound', '', ['read', 'trade']],
    ]);
    for (const key of [bound, unbound]) expect((await owner.client.delete(`/api/v1/api-keys/${key.apiKey}`)).status).toBe(200);
  });

  /** A key stored before Transfer needed IPs: written straight into the database, past every rule. */
  async function legacyKey(authority: Authority[]): Promise<{ client: LbankClient; userId: number }> {
    const user = await harness.kg.app.accounts.create(`legacy-${authority.join('-')}-${kind}@example.test`, undefined);
    await harness.kg.app.ledger.credit(user.id, 'usdt', '1000');
    const pair = newRsaKeyPair();
    const apiKey = crypto.randomUUID();
    await insertApiKey(harness.kg.app.database.db, {
      apiKey, userId: user.id, name: 'legacy', method: 'RSA', ips: [], authority, secretSealed: null, publicKey: pair.publicKey, status: 'enabled', createdAt: harness.clock.now(),
    });
    return { client: new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: pair.privateKey }), userId: user.id };
  }

  it('does not let a stored Read + Transfer key without IPs move money', async () => {
    const legacy = await legacyKey(['read', 'transfer']);
    const at = () => ({ timestamp: harness.clock.now() });
    const transfer = { coin: 'usdt', amount: '999', address: recipient.uid, type: '1' };
    for (const path of ['supplement/withdraw', 'withdraw']) {
      const params = path === 'withdraw' ? { assetCode: 'usdt', amount: '999', account: recipient.uid, type: '1' } : transfer;
      const reply = await signedPost(harness.kg.baseUrl, path, legacy.client, { params, ...at() });
      expect(code(reply), path).toBe(10022);
      expect(reply.body.msg).toContain('needs an IP whitelist');
    }
    // It says so about itself, and the money stayed where it was.
    const restrictions = await signedPost(harness.kg.baseUrl, 'supplement/api_Restrictions', legacy.client, at());
    expect(restrictions.body.data).toMatchObject({ ipRestrict: false, enableTransfer: false });
    expect((await harness.kg.app.ledger.balances(legacy.userId)).find((b) => b.asset === 'usdt')).toMatchObject({ available: '1000', frozen: '0' });
    expect(await balance(harness.kg, recipient, 'usdt')).toEqual({ available: '0', frozen: '0' });
    await expectLedgerBalanced(harness.kg);
  });

  it('does not let a stored Withdraw key without IPs withdraw either', async () => {
    const legacy = await legacyKey(['read', 'withdraw']);
    const reply = await signedPost(harness.kg.baseUrl, 'supplement/withdraw', legacy.client, {
      params: { coin: 'usdt', amount: '100', fee: '1', address: 'TXYZsandbox01' },
      timestamp: harness.clock.now(),
    });
    expect(code(reply)).toBe(10100);
    expect((await harness.kg.app.ledger.balances(legacy.userId)).find((b) => b.asset === 'usdt')).toMatchObject({ available: '1000', frozen: '0' });
  });

  it('lets a Transfer key bound to the caller’s IP transfer', async () => {
    const sender = await trader(harness.kg, { usdt: '50' }, ['read', 'transfer'], '127.0.0.1');
    const payee = await trader(harness.kg, {}, ['read']);
    const reply = await signedPost(harness.kg.baseUrl, 'supplement/withdraw', sender.client, { params: { coin: 'usdt', amount: '20', address: payee.uid, type: '1' }, timestamp: harness.clock.now() });
    expect(code(reply)).toBe(0);
    expect(await balance(harness.kg, payee, 'usdt')).toEqual({ available: '20', frozen: '0' });
    await expectLedgerBalanced(harness.kg);
  });
});
