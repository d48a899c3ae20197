// Amounts at the ledger's bound: the largest accepted amount, with the most decimals its asset or market
// allows, goes through deposits (the CLI), orders and a trade exactly, and the ledger stays balanced;
// one digit more is refused with a clear error. Real HTTP and the real CLI, on SQLite and PostgreSQL.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AMOUNT } from '../src/domain/ledger.js';
import { DATABASE_KINDS } from './support/databases.js';
import { balance, expectLedgerBalanced, trader } from './support/exchange.js';
import { signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const run = promisify(execFile);
const BIN = new URL('../bin/keygate', import.meta.url).pathname;

/** The largest amount accepted, cut to `places` decimals. */
const maxWith = (places: number) => MAX_AMOUNT.slice(0, MAX_AMOUNT.indexOf('.') + (places > 0 ? places + 1 : 0));
const OVER = '1' + '0'.repeat(20);

describe.each(DATABASE_KINDS)('ledger precision on %s', (kind) => {
  let keygate: RunningKeygate;

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(BIN, args, { env: keygate.env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    if (!existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) throw new Error('dist/ is missing: run `npm test`, which builds first');
    keygate = await startKeygate(kind);
  });
  afterAll(async () => keygate?.stop());

  it('adds a millionth to a 21-digit balance exactly', async () => {
    const t = await trader(keygate, { usdt: '123456789012345.123456' });
    await keygate.app.ledger.credit(t.userId, 'usdt', '0.000001');
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '123456789012345.123457', frozen: '0' });
    await expectLedgerBalanced(keygate);
  });

  it('credits the largest amount through the CLI and refuses one digit more', async () => {
    const email = `max-${kind}@example.com`;
    const t = await keygate.app.accounts.create(email, undefined);
    const max = maxWith(6);
    expect(max).toBe('99999999999999999999.999999');
    const credited = await cli('admin', 'balance', 'credit', '--email', email, '--asset', 'usdt', '--amount', max);
    expect(credited.code, credited.stderr).toBe(0);
    const over = await cli('admin', 'balance', 'credit', '--email', email, '--asset', 'usdt', '--amount', OVER);
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain(`above the largest Keygate accepts, ${MAX_AMOUNT}`);
    expect((await keygate.app.ledger.balances(t.id)).find((b) => b.asset === 'usdt')).toMatchObject({ available: max, frozen: '0' });
    await expectLedgerBalanced(keygate);
  });

  it('trades the largest quantity and freezes for the largest price exactly, and stays balanced', async () => {
    const seller = await trader(keygate, { btc: maxWith(8) });
    const buyer = await trader(keygate, { usdt: maxWith(6) });
    const quantity = maxWith(4);
    const ask = await seller.client.call<{ order_id: string }>('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: '0.01', amount: quantity });
    expect(await balance(keygate, seller, 'btc')).toEqual({ available: '0.00009999', frozen: quantity });
    await buyer.client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price: '0.01', amount: quantity });
    const sold = await seller.client.call<{ status: number; executedQty: string; cummulativeQuoteQty: string }>('supplement/orders_info', { symbol: 'btc_usdt', orderId: ask.order_id });
    expect(sold).toMatchObject({ status: 2, executedQty: quantity, cummulativeQuoteQty: '999999999999999999.999999' });
    // 0.1% fees, rounded down to each asset's scale; worked out by hand.
    expect(await balance(keygate, buyer, 'btc')).toEqual({ available: '99899999999999999999.9999001', frozen: '0' });
    expect(await balance(keygate, buyer, 'usdt')).toEqual({ available: '99000000000000000000', frozen: '0' });
    expect(await balance(keygate, seller, 'usdt')).toEqual({ available: '999000000000000000', frozen: '0' });
    expect(await balance(keygate, seller, 'btc')).toEqual({ available: '0.00009999', frozen: '0' });

    // The largest price a market allows: its freeze, price × quantity, is exact and comes back whole.
    const price = maxWith(2);
    const bid = await buyer.client.call<{ order_id: string }>('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price, amount: '0.0001' });
    expect(await balance(keygate, buyer, 'usdt')).toEqual({ available: '98990000000000000000.000001', frozen: '9999999999999999.999999' });
    expect(await buyer.client.call('supplement/orders_info', { symbol: 'btc_usdt', orderId: bid.order_id })).toMatchObject({ price, origQty: '0.0001', status: 0 });
    await buyer.client.call('supplement/cancel_order', { symbol: 'btc_usdt', orderId: bid.order_id });
    expect(await balance(keygate, buyer, 'usdt')).toEqual({ available: '99000000000000000000', frozen: '0' });
    await expectLedgerBalanced(keygate);
  });

  it('refuses a price, an amount or a withdrawal above the bound with 10003, naming the bound', async () => {
    const t = await trader(keygate, { usdt: '1000', btc: '1' }, ['read', 'trade', 'withdraw', 'transfer']);
    const refused = async (path: string, params: Record<string, string>) => {
      const reply = await signedPost(keygate.baseUrl, path, t.client, { params });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ result: 'false', error_code: 10003 });
      expect(reply.body.msg).toContain(MAX_AMOUNT);
    };
    await refused('supplement/create_order_test', { symbol: 'btc_usdt', type: 'sell', price: '1', amount: OVER });
    await refused('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price: OVER, amount: '1' });
    await refused('supplement/create_order', { symbol: 'btc_usdt', type: 'buy_market', price: `${OVER}.5` });
    await refused('supplement/withdraw', { coin: 'usdt', amount: OVER, fee: '1', address: 'TXsandboxaddress1' });
    await refused('supplement/withdraw', { coin: 'usdt', amount: OVER, address: t.uid, type: '1' });
    // At the bound itself the rules that remain apply: the balance is too small.
    const atBound = await signedPost(keygate.baseUrl, 'supplement/create_order', t.client, { params: { symbol: 'btc_usdt', type: 'sell', price: '1', amount: maxWith(4) } });
    expect(atBound.body.error_code).toBe(10016);
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '1000', frozen: '0' });
    await expectLedgerBalanced(keygate);
  });
});
