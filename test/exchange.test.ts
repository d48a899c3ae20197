// The sandbox exchange over real HTTP, on SQLite and PostgreSQL; the ledger invariant after each scenario.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LbankApiError, LbankClient } from '../src/client/index.js';
import { createTestDatabase, DATABASE_KINDS } from './support/databases.js';
import { balance, expectLedgerBalanced, trader, type Trader } from './support/exchange.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

type Order = { orderId: string; status: number; executedQty: string; cummulativeQuoteQty: string; type: string; clientOrderId: string | null };

async function refusal(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LbankApiError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe.each(DATABASE_KINDS)('sandbox exchange on %s', (kind) => {
  let keygate: RunningKeygate;
  const place = (t: Trader, params: Record<string, string>) => t.client.call<{ order_id: string; symbol: string }>('supplement/create_order', { symbol: 'btc_usdt', ...params });
  const order = (t: Trader, orderId: string) => t.client.call<Order>('supplement/orders_info', { symbol: 'btc_usdt', orderId });

  beforeAll(async () => {
    keygate = await startKeygate(kind);
  });
  afterAll(async () => keygate?.stop());
  afterEach(async () => {
    if (keygate) await expectLedgerBalanced(keygate);
  });

  it('rests, crosses and partially fills limit orders, charging fees in the asset received', async () => {
    const seller = await trader(keygate, { btc: '1' });
    const buyer = await trader(keygate, { usdt: '100000' });
    const ask = await place(seller, { type: 'sell', price: '30000', amount: '0.5' });
    expect(await balance(keygate, seller, 'btc')).toEqual({ available: '0.5', frozen: '0.5' });

    const bid = await place(buyer, { type: 'buy', price: '30100', amount: '0.2' });
    // The buy takes at the resting price, 30000.
    expect(await order(buyer, bid.order_id)).toMatchObject({ status: 2, executedQty: '0.2', cummulativeQuoteQty: '6000' });
    expect(await order(seller, ask.order_id)).toMatchObject({ status: 1, executedQty: '0.2' });
    // Buyer: 6000 spent (the extra 20 frozen at 30100 released), 0.2 BTC less 0.1% fee.
    expect(await balance(keygate, buyer, 'usdt')).toEqual({ available: '94000', frozen: '0' });
    expect(await balance(keygate, buyer, 'btc')).toEqual({ available: '0.1998', frozen: '0' });
    // Seller: 6000 USDT less 6 fee; 0.3 BTC still frozen in the rest of the order.
    expect(await balance(keygate, seller, 'usdt')).toEqual({ available: '5994', frozen: '0' });
    expect(await balance(keygate, seller, 'btc')).toEqual({ available: '0.5', frozen: '0.3' });

    const cancelled = await seller.client.call<{ status: number; executedQty: string; tradeType: string }>('supplement/cancel_order', { symbol: 'btc_usdt', orderId: ask.order_id });
    expect(cancelled).toMatchObject({ status: 3, executedQty: '0.2', tradeType: 'sell' });
    expect(await balance(keygate, seller, 'btc')).toEqual({ available: '0.8', frozen: '0' });
    expect(await refusal(seller.client.call('supplement/cancel_order', { symbol: 'btc_usdt', orderId: ask.order_id }))).toBe(10026);
    expect(await refusal(buyer.client.call('supplement/cancel_order', { symbol: 'btc_usdt', orderId: bid.order_id }))).toBe(10025);
  });

  it('matches by price, then time', async () => {
    const early = await trader(keygate, { btc: '1' });
    const late = await trader(keygate, { btc: '1' });
    const cheap = await trader(keygate, { btc: '1' });
    const buyer = await trader(keygate, { usdt: '100000' });
    const first = await place(early, { type: 'sell', price: '31000', amount: '0.1' });
    const second = await place(late, { type: 'sell', price: '31000', amount: '0.1' });
    const best = await place(cheap, { type: 'sell', price: '30900', amount: '0.1' });
    await place(buyer, { type: 'buy', price: '31000', amount: '0.15' });
    expect((await order(cheap, best.order_id)).status).toBe(2);
    expect(await order(early, first.order_id)).toMatchObject({ status: 1, executedQty: '0.05' });
    expect((await order(late, second.order_id)).status).toBe(0);
    await late.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
    await early.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('spends a market buy’s quote budget and sells at market into the bids', async () => {
    const maker = await trader(keygate, { btc: '1', usdt: '50000' });
    const taker = await trader(keygate, { usdt: '10000', btc: '1' });
    await place(maker, { type: 'sell', price: '40000', amount: '0.1' });
    await place(maker, { type: 'sell', price: '40100', amount: '0.5' });
    const buy = await place(taker, { type: 'buy_market', price: '6000' });
    // 4000 buys 0.1 at 40000; 2000 buys 0.0498 at 40100 (1996.98).
    expect(await order(taker, buy.order_id)).toMatchObject({ status: 2, executedQty: '0.1498', cummulativeQuoteQty: '5996.98', type: 'buy_market' });
    expect((await balance(keygate, taker, 'usdt')).available).toBe('4003.02');

    await place(maker, { type: 'buy', price: '39000', amount: '0.2' });
    const sell = await place(taker, { type: 'sell_market', amount: '0.5' });
    expect(await order(taker, sell.order_id)).toMatchObject({ status: 3, executedQty: '0.2', cummulativeQuoteQty: '7800' });
    await maker.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('handles immediate-or-cancel, fill-or-kill and post-only orders', async () => {
    const maker = await trader(keygate, { btc: '1' });
    const taker = await trader(keygate, { usdt: '100000' });
    await place(maker, { type: 'sell', price: '50000', amount: '0.1' });
    const fok = await place(taker, { type: 'buy_fok', price: '50000', amount: '0.2' });
    expect(await order(taker, fok.order_id)).toMatchObject({ status: -1, executedQty: '0' });
    expect(await balance(keygate, taker, 'usdt')).toEqual({ available: '100000', frozen: '0' });
    expect(await refusal(place(taker, { type: 'buy_maker', price: '50000', amount: '0.05' }))).toBe(10033);
    const maker2 = await place(taker, { type: 'buy_maker', price: '49000', amount: '0.05' });
    expect((await order(taker, maker2.order_id)).status).toBe(0);
    const ioc = await place(taker, { type: 'buy_ioc', price: '50000', amount: '0.3' });
    expect(await order(taker, ioc.order_id)).toMatchObject({ status: 3, executedQty: '0.1' });
    await taker.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('lets an account trade with itself, as LBank does', async () => {
    const both = await trader(keygate, { btc: '1', usdt: '60000' });
    const sell = await place(both, { type: 'sell', price: '55000', amount: '0.1' });
    await place(both, { type: 'buy', price: '55000', amount: '0.1' });
    expect((await order(both, sell.order_id)).status).toBe(2);
    // It paid both fees: 0.0001 BTC and 5.5 USDT.
    expect(await balance(keygate, both, 'btc')).toEqual({ available: '0.9999', frozen: '0' });
    expect(await balance(keygate, both, 'usdt')).toEqual({ available: '59994.5', frozen: '0' });
  });

  it('refuses bad orders with LBank’s codes and changes nothing', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const cases: Array<[Record<string, string>, number]> = [
      [{ symbol: 'xyz_usdt', type: 'buy', price: '1', amount: '1' }, 10008],
      [{ type: 'buy', amount: '1' }, 10009],
      [{ type: 'buy', price: '1' }, 10009],
      [{ type: 'buy', price: '1.001', amount: '1' }, 10010],
      [{ type: 'buy', price: '1', amount: '0.00001' }, 10010],
      [{ symbol: 'lbk_usdt', type: 'buy', price: '0.01', amount: '5' }, 10013],
      [{ type: 'buy_stop', price: '1', amount: '1' }, 10015],
      [{ type: 'buy', price: '1000', amount: '1' }, 10016],
    ];
    for (const [params, code] of cases) expect(await refusal(place(t, params)), JSON.stringify(params)).toBe(code);
    expect(await refusal(t.client.call('supplement/create_order', { type: 'buy' }))).toBe(10001);
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '100', frozen: '0' });
    expect(await refusal(t.client.call('supplement/cancel_order', { symbol: 'btc_usdt', orderId: '00000000-0000-4000-8000-000000000000' }))).toBe(10032);
  });

  it('keeps custom ids unique per account and cancels by them', async () => {
    const t = await trader(keygate, { usdt: '1000' });
    const other = await trader(keygate, { usdt: '1000' });
    const placed = await place(t, { type: 'buy', price: '100', amount: '1', custom_id: 'grid-1' });
    expect(placed).toMatchObject({ custom_id: 'grid-1' });
    expect(await refusal(place(t, { type: 'buy', price: '100', amount: '1', custom_id: 'grid-1' }))).toBe(10036);
    await place(other, { type: 'buy', price: '100', amount: '1', custom_id: 'grid-1' });
    expect((await t.client.call<Order>('supplement/orders_info', { symbol: 'btc_usdt', origClientOrderId: 'grid-1' })).orderId).toBe(placed.order_id);
    expect(await t.client.call('cancel_clientOrders', { symbol: 'btc_usdt', customer_id: 'grid-1' })).toEqual({ customer_id: 'grid-1' });
    expect((await order(t, placed.order_id)).status).toBe(-1);
    await other.client.call('supplement/cancel_order', { symbol: 'btc_usdt', origClientOrderId: 'grid-1' });
  });

  it('decides every order of a batch on its own: funds in arrival order, one use of a custom id', async () => {
    // 20 concurrent requests share a commit; 10 USDT pays for exactly 3 buys of 3 USDT each.
    const t = await trader(keygate, { usdt: '10' });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        place(t, { type: 'buy', price: '30', amount: '0.1', ...(i % 2 === 0 ? { custom_id: 'same' } : {}) }).then(
          () => 0,
          (error: unknown) => (error instanceof LbankApiError ? error.code : -1),
        ),
      ),
    );
    expect(outcomes.filter((c) => c === 0)).toHaveLength(3);
    expect(outcomes.filter((c) => c !== 0).every((c) => c === 10016 || c === 10036)).toBe(true);
    // At most one of the orders that share the custom id is stored.
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '1', frozen: '9' });
    const stored = await keygate.app.database.db.selectFrom('orders').select(['custom_id']).where('user_id', '=', t.userId).execute();
    expect(stored).toHaveLength(3);
    expect(stored.filter((o) => o.custom_id === 'same').length).toBeLessThanOrEqual(1);
    await t.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('stores at once the accounts a batch’s funds cover, and decides the others order by order', async () => {
    // Concurrent requests share a batch; on PostgreSQL the covered accounts take one statement.
    const covered = await trader(keygate, { usdt: '15.35' });
    const short = await trader(keygate, { usdt: '10' });
    const reuser = await trader(keygate, { usdt: '50' });
    await place(reuser, { type: 'buy', price: '30.5', amount: '0.1', custom_id: 'taken' });
    const buy = (t: Trader, extra: Record<string, string> = {}) =>
      place(t, { type: 'buy', price: '30.5', amount: '0.1', ...extra }).then(
        () => 0,
        (error: unknown) => (error instanceof LbankApiError ? error.code : -1),
      );
    const outcomes = await Promise.all([
      ...Array.from({ length: 5 }, () => buy(covered)),
      ...Array.from({ length: 5 }, () => buy(short)),
      buy(reuser, { custom_id: 'taken' }),
      buy(reuser, { custom_id: 'fresh' }),
    ]);
    expect(outcomes.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(outcomes.slice(5, 10).filter((c) => c === 0)).toHaveLength(3);
    expect(outcomes.slice(5, 10).filter((c) => c !== 0)).toEqual([10016, 10016]);
    expect(outcomes.slice(10)).toEqual([10036, 0]);
    // Written as the domain writes decimals: 15.35 − 5 × 3.05 is "0.1", not "0.10".
    expect(await balance(keygate, covered, 'usdt')).toEqual({ available: '0.1', frozen: '15.25' });
    expect(await balance(keygate, short, 'usdt')).toEqual({ available: '0.85', frozen: '9.15' });
    expect(await balance(keygate, reuser, 'usdt')).toEqual({ available: '43.9', frozen: '6.1' });
    const journal = await keygate.app.database.db
      .selectFrom('ledger_entries')
      .select(['available_delta', 'frozen_delta'])
      .where('user_id', '=', covered.userId)
      .where('reason', '=', 'order_freeze')
      .execute();
    expect(journal).toEqual(Array.from({ length: 5 }, () => ({ available_delta: '-3.05', frozen_delta: '3.05' })));
    for (const t of [covered, short, reuser]) await t.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('validates without placing, and places batches order by order', async () => {
    const t = await trader(keygate, { usdt: '1000' });
    expect(await t.client.call('supplement/create_order_test', { symbol: 'btc_usdt', type: 'buy', price: '100', amount: '1' })).toMatchObject({ order_id: null });
    expect(await refusal(t.client.call('supplement/create_order_test', { symbol: 'btc_usdt', type: 'buy', price: '100.001', amount: '1' }))).toBe(10010);
    const batch = await t.client.call<Array<{ result: string; error_code: number }>>('batch_create_order', {
      orders: JSON.stringify([
        { symbol: 'btc_usdt', type: 'buy', price: '100', amount: '1' },
        { symbol: 'btc_usdt', type: 'buy', price: '100', amount: '100' },
        { symbol: 'nope_usdt', type: 'buy', price: '1', amount: '1' },
      ]),
    });
    expect(batch.map((b) => b.error_code)).toEqual([0, 10016, 10008]);
    const open = await t.client.call<{ total: number; orders: Order[] }>('supplement/orders_info_no_deal', { symbol: 'btc_usdt', current_page: '1', page_length: '10' });
    expect(open.total).toBe(1);
    expect(await refusal(t.client.call('batch_create_order', { orders: 'not json' }))).toBe(10003);
    await t.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('answers the order and trade histories in both LBank shapes', async () => {
    const maker = await trader(keygate, { eth: '10' });
    const taker = await trader(keygate, { usdt: '100000' });
    const ask = await maker.client.call<{ order_id: string }>('create_order', { symbol: 'eth_usdt', type: 'sell', price: '2000', amount: '2' });
    await taker.client.call('supplement/create_order', { symbol: 'eth_usdt', type: 'buy', price: '2000', amount: '0.5' });
    await taker.client.call('supplement/create_order', { symbol: 'eth_usdt', type: 'buy', price: '2000', amount: '0.25' });
    const legacy = await maker.client.call<Array<{ order_id: string; deal_amount: string; avg_price: string; status: number }>>('orders_info', { symbol: 'eth_usdt', order_id: ask.order_id });
    expect(legacy).toEqual([expect.objectContaining({ order_id: ask.order_id, deal_amount: '0.75', avg_price: '2000', status: 1 })]);
    const fills = await maker.client.call<Array<{ dealQuantity: string; tradeFee: string; isMaker: boolean; tradeType: string }>>('order_transaction_detail', { symbol: 'eth_usdt', order_id: ask.order_id });
    expect(fills.map((f) => [f.dealQuantity, f.tradeFee, f.isMaker, f.tradeType])).toEqual([['0.5', '1', true, 'sell'], ['0.25', '0.5', true, 'sell']]);
    const mine = await taker.client.call<Array<{ dealQuantity: string; tradeFee: string; isMaker: boolean }>>('transaction_history', { symbol: 'eth_usdt' });
    expect(mine.map((t) => [t.dealQuantity, t.tradeFee, t.isMaker])).toEqual([['0.25', '0.00025', false], ['0.5', '0.0005', false]]);
    const supplement = await taker.client.call<Array<{ qty: string; isBuyer: boolean; commission: string }>>('supplement/transaction_history', { symbol: 'eth_usdt' });
    expect(supplement[0]).toMatchObject({ qty: '0.25', isBuyer: true, commission: '0.00025' });
    expect(await refusal(taker.client.call('transaction_history', { symbol: 'eth_usdt', start_date: '2026-01-01', end_date: '2026-01-05' }))).toBe(10028);
    const history = await taker.client.call<{ total: number; orders: Order[] }>('supplement/orders_info_history', { symbol: 'eth_usdt', current_page: '1', page_length: '1' });
    expect(history).toMatchObject({ total: 2, current_page: 1, page_length: 1 });
    expect(history.orders).toHaveLength(1);
    expect(await refusal(taker.client.call('supplement/orders_info_history', { symbol: 'eth_usdt', current_page: '1', page_length: '500' }))).toBe(10018);
    await maker.client.call('supplement/cancel_order_by_symbol', { symbol: 'eth_usdt' });
  });

  it('applies per-account fee rates', async () => {
    const maker = await trader(keygate, { btc: '1' });
    const taker = await trader(keygate, { usdt: '10000' });
    await keygate.app.exchange.setFeeRates(taker.userId, '0', '0.002');
    expect(await taker.client.call('supplement/customer_trade_fee', { category: 'btc_usdt' })).toEqual([{ symbol: 'btc_usdt', makerCommission: '0.00', takerCommission: '0.20' }]);
    await place(maker, { type: 'sell', price: '20000', amount: '0.1' });
    await place(taker, { type: 'buy', price: '20000', amount: '0.1' });
    expect((await balance(keygate, taker, 'btc')).available).toBe('0.0998');
  });

  it('serves market data from the live book and the trades', async () => {
    const maker = await trader(keygate, { sol: '100', usdt: '10000' });
    const taker = await trader(keygate, { usdt: '10000', sol: '10' });
    await maker.client.call('supplement/create_order', { symbol: 'sol_usdt', type: 'sell', price: '150.5', amount: '3' });
    await maker.client.call('supplement/create_order', { symbol: 'sol_usdt', type: 'sell', price: '151', amount: '2' });
    await maker.client.call('supplement/create_order', { symbol: 'sol_usdt', type: 'buy', price: '149', amount: '4' });
    await taker.client.call('supplement/create_order', { symbol: 'sol_usdt', type: 'buy', price: '150.5', amount: '1' });
    await taker.client.call('supplement/create_order', { symbol: 'sol_usdt', type: 'sell', price: '149', amount: '1' });
    const get = async <T>(path: string) => ((await (await fetch(`${keygate.baseUrl}/v2/${path}`)).json()) as { data: T }).data;
    expect(await get('depth.do?symbol=sol_usdt&size=5')).toMatchObject({ asks: [['150.5', '2'], ['151', '2']], bids: [['149', '3']] });
    const [ticker] = await get<Array<{ ticker: Record<string, string> }>>('ticker/24hr.do?symbol=sol_usdt');
    expect(ticker!.ticker).toMatchObject({ high: '150.5', low: '149', latest: '149', vol: '2', turnover: '299.5', change: '-1' });
    const trades = await get<Array<{ price: string; type: string }>>('trades.do?symbol=sol_usdt&size=10');
    expect(trades.map((t) => [t.price, t.type])).toEqual([['149', 'sell'], ['150.5', 'buy']]);
    expect((await get<Array<{ isBuyerMaker: boolean }>>('supplement/trades.do?symbol=sol_usdt&size=10'))[0]).toMatchObject({ isBuyerMaker: true });
    expect(await get('supplement/ticker/price.do?symbol=sol_usdt')).toEqual([{ symbol: 'sol_usdt', price: '149' }]);
    expect(await get('supplement/ticker/bookTicker.do?symbol=sol_usdt')).toEqual({ symbol: 'sol_usdt', askPrice: '150.5', askQty: '2', bidPrice: '149', bidQty: '3' });
    expect((await (await fetch(`${keygate.baseUrl}/v2/depth.do?symbol=nope_usdt`)).json()) as object).toMatchObject({ result: 'false', error_code: 10008 });
    await maker.client.call('supplement/cancel_order_by_symbol', { symbol: 'sol_usdt' });
  });

  it('gates every authority: Trade, Withdraw and Transfer', async () => {
    const reader = await trader(keygate, { usdt: '1000' }, ['read']);
    expect(await refusal(place(reader, { type: 'buy', price: '100', amount: '1' }))).toBe(10022);
    expect(await refusal(reader.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' }))).toBe(10022);
    expect(await refusal(reader.client.call('supplement/withdraw', { coin: 'usdt', amount: '20', fee: '1', address: 'TAddress123' }))).toBe(10100);
    const withdrawer = await trader(keygate, { usdt: '1000' }, ['read', 'withdraw']);
    const other = await trader(keygate, {});
    expect(await refusal(withdrawer.client.call('supplement/withdraw', { coin: 'usdt', amount: '20', address: other.uid, type: '1' }))).toBe(10022);
    // An RSA key without IPs cannot hold Withdraw at all (the rule), so withdrawing is refused.
    const unbound = await trader(keygate, { usdt: '1000' }, ['read', 'trade'], '');
    expect(await refusal(unbound.client.call('supplement/withdraw', { coin: 'usdt', amount: '20', fee: '1', address: 'TAddress123' }))).toBe(10100);
  });

  it('freezes a withdrawal while it applies, then settles, rejects or cancels it', async () => {
    const t = await trader(keygate, { usdt: '1000' }, ['read', 'withdraw']);
    const w = await t.client.call<{ withdrawId: number; fee: string }>('supplement/withdraw', { coin: 'usdt', amount: '100', fee: '1', address: 'TXYZsandbox01', networkName: 'TRC20', withdrawOrderId: 'w-1' });
    expect(w.fee).toBe('1');
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '899', frozen: '101' });
    const listed = await t.client.call<{ withdraws: Array<{ id: number; status: string; withdrawOrderId: string }> }>('supplement/withdraws', { coin: 'usdt' });
    expect(listed.withdraws).toEqual([expect.objectContaining({ id: w.withdrawId, status: '1', withdrawOrderId: 'w-1' })]);
    await keygate.app.withdrawals.complete(w.withdrawId);
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '899', frozen: '0' });
    expect((await t.client.call<{ withdraws: Array<{ status: string }> }>('supplement/withdraws', { status: '4' })).withdraws).toHaveLength(1);

    const rejected = await t.client.call<{ withdrawId: number }>('supplement/withdraw', { coin: 'usdt', amount: '50', fee: '1', address: 'TXYZsandbox01' });
    await keygate.app.withdrawals.reject(rejected.withdrawId);
    const cancelled = await t.client.call<{ withdrawId: number }>('withdraw', { assetCode: 'usdt', amount: '50', fee: '1', account: 'TXYZsandbox01' });
    expect(await t.client.call('withdrawCancel', { withdrawId: String(cancelled.withdrawId) })).toEqual({ withdrawId: String(cancelled.withdrawId) });
    expect(await refusal(t.client.call('withdrawCancel', { withdrawId: String(cancelled.withdrawId) }))).toBe(10104);
    expect(await refusal(t.client.call('withdrawCancel', { withdrawId: '99999999999' }))).toBe(10003);
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '899', frozen: '0' });
    const legacy = await t.client.call<{ list: Array<{ status: string }> }>('withdraws', { assetCode: 'usdt', status: '0' });
    expect(legacy.list.map((l) => l.status)).toEqual(['2', '3', '4']);

    expect(await refusal(t.client.call('supplement/withdraw', { coin: 'usdt', amount: '100', fee: '0.5', address: 'TXYZsandbox01' }))).toBe(10101);
    expect(await refusal(t.client.call('supplement/withdraw', { coin: 'usdt', amount: '5', fee: '1', address: 'TXYZsandbox01' }))).toBe(10102);
    expect(await refusal(t.client.call('supplement/withdraw', { coin: 'usdt', amount: '5000', fee: '1', address: 'TXYZsandbox01' }))).toBe(10016);
    expect(await refusal(t.client.call('supplement/withdraw', { coin: 'xyz', amount: '5', fee: '1', address: 'TXYZsandbox01' }))).toBe(10701);
    expect(await refusal(t.client.call('supplement/withdraw', { coin: 'usdt', amount: '50', fee: '1', address: 'a b' }))).toBe(10109);
  });

  it('transfers to another Keygate UID at once with Transfer authority', async () => {
    const from = await trader(keygate, { usdt: '500' }, ['read', 'transfer']);
    const to = await trader(keygate, {});
    await from.client.call('supplement/withdraw', { coin: 'usdt', amount: '120', address: to.uid, type: '1' });
    expect(await balance(keygate, from, 'usdt')).toEqual({ available: '380', frozen: '0' });
    expect(await balance(keygate, to, 'usdt')).toEqual({ available: '120', frozen: '0' });
    expect(await refusal(from.client.call('supplement/withdraw', { coin: 'usdt', amount: '1', address: '999999999999', type: '1' }))).toBe(10109);
  });

  it('loses no update when deposits, withdrawals and orders change one balance at the same time', async () => {
    const t = await trader(keygate, { usdt: '1000' }, ['read', 'trade', 'withdraw']);
    await Promise.all([
      ...Array.from({ length: 15 }, () => keygate.app.ledger.credit(t.userId, 'usdt', '10')),
      ...Array.from({ length: 15 }, (_, i) => place(t, { type: 'buy', price: String(100 + i), amount: '0.1' })),
      ...Array.from({ length: 5 }, () => t.client.call('supplement/withdraw', { coin: 'usdt', amount: '10', fee: '1', address: 'TXYZsandbox01' })),
    ]);
    // 1000 + 150 credited; 15 resting buys froze 10 + 10.1 + … + 11.4 = 160.5; 5 withdrawals froze 55.
    expect(await balance(keygate, t, 'usdt')).toEqual({ available: '934.5', frozen: '215.5' });
    await t.client.call('supplement/cancel_order_by_symbol', { symbol: 'btc_usdt' });
  });

  it('lists deposits and hands out stable deposit addresses', async () => {
    const t = await trader(keygate, { usdt: '10', btc: '0.5' });
    const deposits = await t.client.call<{ depositOrders: Array<Record<string, unknown>> }>('supplement/deposit_history', { coin: 'usdt' });
    expect(deposits.depositOrders).toEqual([expect.objectContaining({ coin: 'usdt', amount: '10', status: '2' })]);
    expect(deposits.depositOrders[0]).not.toHaveProperty('id');
    const a = await t.client.call<{ address: string }>('supplement/get_deposit_address', { coin: 'usdt', networkName: 'trc20' });
    const b = await t.client.call<{ address: string; netWork: string }>('get_deposit_address', { assetCode: 'usdt', netWork: 'TRC20' });
    expect(b).toMatchObject({ address: a.address, netWork: 'trc20' });
    expect(await refusal(t.client.call('supplement/get_deposit_address', { coin: 'xyz' }))).toBe(10701);
  });
});

describe('a restart', () => {
  it('loses no acknowledged order: the book is rebuilt from the database', async () => {
    const database = await createTestDatabase('sqlite');
    const first = await startKeygate('sqlite', { database });
    let second: RunningKeygate | undefined;
    try {
      const seller = await trader(first, { btc: '2' });
      const buyer = await trader(first, { usdt: '100000' });
      await seller.client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: '30000', amount: '0.4' });
      await seller.client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: '29000', amount: '0.3' });
      const depthBefore = first.app.exchange.book('btc_usdt')!.depth(10);
      await first.stop();
      second = await startKeygate('sqlite', { database });
      expect(second.app.exchange.book('btc_usdt')!.depth(10)).toEqual(depthBefore);
      const client = new LbankClient({ baseUrl: second.baseUrl, apiKey: buyer.apiKey, secret: buyer.secret });
      await client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price: '30000', amount: '0.5' });
      expect(second.app.exchange.book('btc_usdt')!.depth(10)).toEqual({ bids: [], asks: [['30000', '0.2']] });
      expect(await second.app.exchange.depth('btc_usdt', 10)).toMatchObject({ bids: [], asks: [['30000', '0.2']] });
      await expectLedgerBalanced(second);
    } finally {
      await second?.stop();
      await database.drop();
    }
  });
});



describe('order intake on PostgreSQL', () => {
  let keygate: RunningKeygate;
  beforeAll(async () => {
    keygate = await startKeygate('postgres');
  });
  afterAll(async () => keygate?.stop());

  it('answers every order of a batch truthfully when another server takes one of its custom ids meanwhile', async () => {
    const u = await trader(keygate, { usdt: '1000' });
    const v = await trader(keygate, { usdt: '1000' });
    // Another server's order with custom id "x", stored but not committed yet: the batch's insert waits on it.
    const other = new pg.Client({ connectionString: keygate.database.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO orders (order_id, user_id, symbol, type, price, quantity, quote_budget, executed_qty, executed_quote, remaining_qty,
                             frozen_asset, frozen_remaining, status, custom_id, created_at, updated_at, matched)
         VALUES ('elsewhere', $1, 'btc_usdt', 'buy', '1', '1', NULL, '0', '0', '1', 'usdt', '0', 0, 'x', 1, 1, 1)`,
        [v.userId],
      );
      // Submitted in one turn, so that they share one batch (250: more than one statement's worth used to be split).
      const placed = Array.from({ length: 250 }, (_, i) =>
        i === 230
          ? keygate.app.exchange.placeOrder(v.userId, { symbol: 'btc_usdt', type: 'buy', price: '1', amount: '1', customId: 'x' })
          : keygate.app.exchange.placeOrder(u.userId, { symbol: 'btc_usdt', type: 'buy', price: '1', amount: '1' }),
      );
      setTimeout(() => void other.query('COMMIT'), 300);
      const outcomes = await Promise.allSettled(placed);
      const refused = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ i, code: (o.reason as { code?: string }).code }] : []));
      expect(refused).toEqual([{ i: 230, code: 'duplicate_custom_id' }]);
      const stored = await keygate.app.database.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', u.userId).executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(249);
      await keygate.app.exchange.idle();
      expect(await balance(keygate, u, 'usdt')).toEqual({ available: '751', frozen: '249' });
    } finally {
      await other.end();
    }
    await expectLedgerBalanced(keygate);
  });
});
