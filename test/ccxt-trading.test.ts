// A whole spot trading session of a stock ccxt lbank client (only its base URLs changed) against
// Keygate, on SQLite and PostgreSQL, with a restart in the middle and the ledger checked throughout.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { expectLedgerBalanced, trader, type Trader } from './support/exchange.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const lbank = (keygate: RunningKeygate, t: Trader) => new ccxt.lbank({ apiKey: t.apiKey, secret: t.secret, urls: { api: { rest: keygate.baseUrl, contract: keygate.baseUrl } } });

describe.each(DATABASE_KINDS)('a stock ccxt trading session on %s', (kind) => {
  let database: TestDatabase;
  let keygate: RunningKeygate;
  let alice: Trader;
  let bob: Trader;
  let readOnly: Trader;
  let unbound: Trader;
  let A: InstanceType<typeof ccxt.lbank>;
  let B: InstanceType<typeof ccxt.lbank>;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    keygate = await startKeygate(kind, { database });
    alice = await trader(keygate, { usdt: '50000' }, ['read', 'trade', 'withdraw']);
    bob = await trader(keygate, { btc: '2', eth: '10' }, ['read', 'trade']);
    readOnly = await trader(keygate, { usdt: '100' }, ['read']);
    unbound = await trader(keygate, { usdt: '100' }, ['read', 'trade'], '');
    A = lbank(keygate, alice);
    B = lbank(keygate, bob);
    await Promise.all([A.loadMarkets(), B.loadMarkets()]);
  });
  afterAll(async () => {
    await keygate?.stop();
    await database?.drop();
  });

  it('places, fills, partially fills and cancels orders, and reads them back', async () => {
    const ask = await B.createOrder('BTC/USDT', 'limit', 'sell', 0.5, 30000);
    const bid = await A.createOrder('BTC/USDT', 'limit', 'buy', 0.2, 30000);
    expect(await A.fetchOrder(bid.id!, 'BTC/USDT')).toMatchObject({ status: 'closed', filled: 0.2, cost: 6000, side: 'buy', type: 'limit' });
    expect(await B.fetchOrder(ask.id!, 'BTC/USDT')).toMatchObject({ status: 'open', filled: 0.2, remaining: 0.3 });
    const open = await B.fetchOpenOrders('BTC/USDT');
    expect(open.map((o) => o.id)).toEqual([ask.id]);

    const market = await A.createOrder('BTC/USDT', 'market', 'buy', 0.1, 30000);
    expect(await A.fetchOrder(market.id!, 'BTC/USDT')).toMatchObject({ status: 'closed', filled: 0.1, cost: 3000, type: 'market' });
    const marketSell = await B.createOrder('ETH/USDT', 'market', 'sell', 1);
    expect(await B.fetchOrder(marketSell.id!, 'ETH/USDT')).toMatchObject({ status: 'canceled', filled: 0 });

    const cancelled = await B.cancelOrder(ask.id!, 'BTC/USDT');
    expect(cancelled).toMatchObject({ id: ask.id, status: 'canceled' });
    await A.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 20000, { clientOrderId: 'alice-grid-1' });
    await A.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 20001);
    expect(await A.cancelAllOrders('BTC/USDT')).toHaveLength(2);
    await expect(A.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 20000, { clientOrderId: 'alice-grid-1' })).rejects.toBeInstanceOf(ccxt.DuplicateOrderId);

    const history = await A.fetchOrders('BTC/USDT');
    expect(history.map((o) => o.status).sort()).toEqual(['canceled', 'canceled', 'closed', 'closed']);
    const closed = await A.fetchClosedOrders('BTC/USDT');
    expect(closed).toHaveLength(2);
    await expectLedgerBalanced(keygate);
  });

  it('reads balances, its trades, fees and market data', async () => {
    const balance = await A.fetchBalance();
    // 0.3 BTC bought, 0.1% fee in BTC; 9000 USDT spent.
    expect(balance.BTC).toMatchObject({ free: 0.2997, used: 0, total: 0.2997 });
    expect(balance.USDT).toMatchObject({ free: 41000, used: 0 });
    const trades = await A.fetchMyTrades('BTC/USDT');
    expect(trades.map((t) => [t.side, t.amount, t.price, t.fee?.currency])).toEqual([
      ['buy', 0.2, 30000, 'BTC'],
      ['buy', 0.1, 30000, 'BTC'],
    ]);
    expect(await A.fetchTradingFees()).toMatchObject({ 'BTC/USDT': { maker: 0.1, taker: 0.1 } });

    await B.createOrder('BTC/USDT', 'limit', 'sell', 0.05, 31000);
    await B.createOrder('BTC/USDT', 'limit', 'buy', 0.05, 29000);
    const book = await A.fetchOrderBook('BTC/USDT');
    expect(book.asks[0]).toEqual([31000, 0.05]);
    expect(book.bids[0]).toEqual([29000, 0.05]);
    const ticker = await A.fetchTicker('BTC/USDT');
    expect(ticker).toMatchObject({ symbol: 'BTC/USDT', last: 30000, high: 30000, low: 30000, baseVolume: 0.3, quoteVolume: 9000 });
    expect(Object.keys(await A.fetchTickers())).toEqual(expect.arrayContaining(['BTC/USDT', 'ETH/USDT']));
    const publicTrades = await A.fetchTrades('BTC/USDT');
    expect(publicTrades.map((t) => t.amount)).toEqual([0.2, 0.1]);
  });

  it('deposits and withdraws, and refuses a withdrawal to keys without Withdraw or without an IP', async () => {
    const deposits = await A.fetchDeposits('USDT');
    expect(deposits).toEqual([expect.objectContaining({ type: 'deposit', amount: 50000, status: 'ok', currency: 'USDT' })]);
    const address = await A.fetchDepositAddress('USDT');
    expect(address.address).toMatch(/^sandbox/);

    const w = await A.withdraw('USDT', 100, 'TXYZsandboxaddress', undefined, { fee: 1, network: 'TRC20' });
    let withdrawals = await A.fetchWithdrawals('USDT');
    expect(withdrawals).toEqual([expect.objectContaining({ id: w.id, type: 'withdrawal', status: 'pending', amount: 100, fee: { cost: 1, currency: 'USDT' } })]);
    await keygate.app.withdrawals.complete(Number(w.id));
    withdrawals = await A.fetchWithdrawals('USDT');
    expect(withdrawals[0]).toMatchObject({ status: 'ok' });

    await expect(B.withdraw('BTC', 0.1, 'bc1qsandboxaddress', undefined, { fee: 0.0005 })).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    await expect(lbank(keygate, readOnly).createOrder('BTC/USDT', 'limit', 'buy', 0.001, 1000)).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    const noIp = lbank(keygate, unbound);
    await noIp.loadMarkets();
    await expect(noIp.withdraw('USDT', 20, 'TXYZsandboxaddress', undefined, { fee: 1 })).rejects.toBeInstanceOf(ccxt.PermissionDenied);
    await expect(A.withdraw('USDT', 1_000_000, 'TXYZsandboxaddress', undefined, { fee: 1 })).rejects.toBeInstanceOf(ccxt.InsufficientFunds);
    await expectLedgerBalanced(keygate);
  });

  it('carries on after a restart with every acknowledged order in place', async () => {
    const before = await A.fetchOrderBook('BTC/USDT');
    await keygate.stop();
    keygate = await startKeygate(kind, { database });
    A = lbank(keygate, alice);
    B = lbank(keygate, bob);
    await Promise.all([A.loadMarkets(), B.loadMarkets()]);
    const after = await A.fetchOrderBook('BTC/USDT');
    expect([after.asks, after.bids]).toEqual([before.asks, before.bids]);
    const taken = await A.createOrder('BTC/USDT', 'limit', 'buy', 0.05, 31000);
    expect(await A.fetchOrder(taken.id!, 'BTC/USDT')).toMatchObject({ status: 'closed', filled: 0.05 });
    expect(await B.cancelAllOrders('BTC/USDT')).toHaveLength(1);
    await expectLedgerBalanced(keygate);
  });
});
