// Public market metadata and the balance endpoints, over real HTTP on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { DATABASE_KINDS } from './support/databases.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

describe.each(DATABASE_KINDS)('public endpoints and balances on %s', (kind) => {
  let keygate: RunningKeygate;
  let client: LbankClient;
  let userId: number;

  beforeAll(async () => {
    keygate = await startKeygate(kind);
    const user = await keygate.app.accounts.create('balances@example.com', undefined);
    userId = user.id;
    const k = await keygate.app.apiKeys.create(user.id, { name: 'reader', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: k.key.apiKey, secret: k.secret! });
  });
  afterAll(async () => keygate?.stop());

  const get = async (path: string) => (await fetch(`${keygate.baseUrl}${path}`)).json() as Promise<Record<string, unknown>>;

  it('tells the time', async () => {
    const before = Date.now();
    const body = await get('/v2/timestamp.do');
    expect(body).toMatchObject({ result: 'true', error_code: 0 });
    expect(body.data).toBeGreaterThanOrEqual(before);
    expect(body.data).toBeLessThanOrEqual(Date.now());
  });

  it('answers system_ping by GET and POST', async () => {
    expect(await get('/v2/supplement/system_ping.do')).toMatchObject({ result: 'true' });
    const posted = await (await fetch(`${keygate.baseUrl}/v2/supplement/system_ping.do`, { method: 'POST' })).json();
    expect(posted).toMatchObject({ result: 'true' });
  });

  it('lists pairs, their accuracy and the withdrawal networks', async () => {
    expect((await get('/v2/currencyPairs.do')).data).toEqual(expect.arrayContaining(['btc_usdt', 'eth_usdt', 'eth_btc']));
    const accuracy = (await get('/v2/accuracy.do')).data as Array<Record<string, string>>;
    expect(accuracy).toContainEqual({ symbol: 'btc_usdt', quantityAccuracy: '4', minTranQua: '0.0001', priceAccuracy: '2' });
    const usdt = (await get('/v2/withdrawConfigs.do?assetCode=usdt')).data as Array<Record<string, unknown>>;
    expect(usdt.map((n) => n.chain)).toEqual(['trc20', 'erc20', 'bep20(bsc)']);
    expect(usdt[0]).toMatchObject({ assetCode: 'usdt', fee: '1', min: '10', canWithDraw: true });
  });

  it('answers the contract API’s instrument list with no perpetual markets', async () => {
    expect(await get('/cfd/openApi/v1/pub/instrument?productGroup=SwapU')).toMatchObject({ result: 'true', data: [] });
  });

  it('shows credited balances in all three of LBank’s shapes, exactly', async () => {
    await keygate.app.ledger.credit(userId, 'usdt', '1000.123456');
    await keygate.app.ledger.credit(userId, 'usdt', '0.000001');
    await keygate.app.ledger.credit(userId, 'btc', '0.5');
    const info = await client.call<Record<string, Record<string, string>>>('user_info');
    expect(info.free).toMatchObject({ usdt: '1000.123457', btc: '0.5', eth: '0' });
    expect(info.freeze).toMatchObject({ usdt: '0' });
    expect(info.asset).toMatchObject({ usdt: '1000.123457' });
    expect(info.toBtc).toMatchObject({ btc: '0.5' });
    const supplement = await client.call<Array<Record<string, unknown>>>('supplement/user_info');
    expect(supplement.find((b) => b.coin === 'usdt')).toMatchObject({ usableAmt: '1000.123457', assetAmt: '1000.123457', freezeAmt: '0' });
    expect((supplement.find((b) => b.coin === 'usdt')!.networkList as unknown[]).length).toBe(3);
    const account = await client.call<{ canTrade: boolean; canWithdraw: boolean; balances: unknown[] }>('supplement/user_info_account');
    expect(account).toMatchObject({ canTrade: false, canWithdraw: false, canDeposit: true });
    expect(account.balances).toContainEqual({ asset: 'btc', free: '0.5', locked: '0' });
  });

  it('refuses credits of unknown assets, bad amounts and too many decimals, changing nothing', async () => {
    await expect(keygate.app.ledger.credit(userId, 'xyz', '1')).rejects.toThrow(/Unknown asset/);
    await expect(keygate.app.ledger.credit(userId, 'usdt', '-5')).rejects.toThrow(/not a plain positive decimal/);
    await expect(keygate.app.ledger.credit(userId, 'usdt', '1e5')).rejects.toThrow(/not a plain positive decimal/);
    await expect(keygate.app.ledger.credit(userId, 'usdt', '0.0000001')).rejects.toThrow(/decimal places/);
    const info = await client.call<Record<string, Record<string, string>>>('user_info');
    expect(info.free!.usdt).toBe('1000.123457');
  });
});
