// A stock ccxt lbank client, only its base URLs changed, against Keygate on both databases.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from './support/databases.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

function lbank(baseUrl: string, apiKey: string, secret: string) {
  return new ccxt.lbank({ apiKey, secret, urls: { api: { rest: baseUrl, contract: baseUrl } } });
}

describe.each(DATABASE_KINDS)('stock ccxt on %s', (kind) => {
  let keygate: RunningKeygate;
  const clients: Record<'HmacSHA256' | 'RSA', { apiKey: string; secret: string }> = {} as never;

  beforeAll(async () => {
    keygate = await startKeygate(kind);
    const user = await keygate.app.accounts.create('ccxt@example.com', undefined);
    await keygate.app.ledger.credit(user.id, 'usdt', '2500.5');
    await keygate.app.ledger.credit(user.id, 'btc', '0.25');
    for (const method of ['HmacSHA256', 'RSA'] as const) {
      const created = await keygate.app.apiKeys.create(user.id, { name: method, method, ips: '127.0.0.1', authority: ['read', 'trade'] });
      clients[method] = { apiKey: created.key.apiKey, secret: created.secret! };
    }
  });
  afterAll(async () => keygate?.stop());

  it('fetches the time and loads the markets', async () => {
    const exchange = lbank(keygate.baseUrl, clients.HmacSHA256.apiKey, clients.HmacSHA256.secret);
    const before = Date.now();
    expect(await exchange.fetchTime()).toBeGreaterThanOrEqual(before);
    const markets = await exchange.loadMarkets();
    expect(markets['BTC/USDT']).toMatchObject({ id: 'btc_usdt', spot: true, precision: { amount: 0.0001, price: 0.01 }, limits: { amount: { min: 0.0001 } } });
    expect(Object.keys(markets)).toEqual(expect.arrayContaining(['ETH/USDT', 'ETH/BTC']));
    expect(exchange.currencies.USDT?.networks).toHaveProperty('TRC20');
  });

  it.each(['HmacSHA256', 'RSA'] as const)('fetches balances with an %s key', async (method) => {
    const { apiKey, secret } = clients[method];
    const exchange = lbank(keygate.baseUrl, apiKey, secret);
    const balance = await exchange.fetchBalance();
    expect(balance.USDT).toMatchObject({ free: 2500.5, used: 0, total: 2500.5 });
    expect(balance.BTC).toMatchObject({ free: 0.25, total: 0.25 });
    for (const via of ['spotPrivatePostUserInfo', 'spotPrivatePostSupplementUserInfoAccount']) {
      const other = await exchange.fetchBalance({ method: via });
      expect(other.USDT?.free, via).toBe(2500.5);
    }
  });

  it.each(['HmacSHA256', 'RSA'] as const)('calls api_Restrictions raw with an %s key', async (method) => {
    const { apiKey, secret } = clients[method];
    const exchange = lbank(keygate.baseUrl, apiKey, secret);
    const response = (await exchange.spotPrivatePostSupplementApiRestrictions()) as { result: string; data: Record<string, unknown> };
    expect(response.result).toBe('true');
    expect(response.data).toMatchObject({ ipRestrict: true, enableReading: true, enableSpotTrading: true, enableWithdrawals: false });
  });

  it('surfaces LBank’s error codes as ccxt’s exception classes', async () => {
    const wrongSecret = lbank(keygate.baseUrl, clients.HmacSHA256.apiKey, 'F'.repeat(32));
    await expect(wrongSecret.fetchBalance()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    const unknown = lbank(keygate.baseUrl, '00000000-0000-4000-8000-000000000000', clients.HmacSHA256.secret);
    await expect(unknown.fetchBalance()).rejects.toThrow(/10005|Secret key does not exist/);
  });
});
