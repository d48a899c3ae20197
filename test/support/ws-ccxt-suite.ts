// The stock ccxt pro suite of the WebSocket API, run against one server (ws-ccxt.test.ts, SQLite and
// PostgreSQL) and against a fleet with the socket on one server and the market's engine on another
// (ws-fleet.test.ts). ccxt pro is stock: only urls.api.rest, contract and ws are set.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotStart } from '../../src/domain/kbar.js';
import { LBANK_OFFSET_MS } from '../../src/domain/lbank-time.js';
import { wsUrl } from './ws.js';

export interface SuiteTarget {
  /** Where ccxt connects, REST and WebSocket. */
  baseUrl: string;
  /** A market priced like btc_usdt (2 price decimals, 4 quantity decimals), quoted in usdt. */
  market: string;
  /** An account funded with these amounts, and a Read + Trade key of it. */
  trader(funds: Record<string, string>): Promise<{ apiKey: string; secret: string }>;
  stop(): Promise<void>;
}

type Pro = InstanceType<typeof ccxt.pro.lbank>;

async function pro(baseUrl: string, t: { apiKey: string; secret: string }): Promise<Pro> {
  const exchange = new ccxt.pro.lbank({ apiKey: t.apiKey, secret: t.secret, urls: { api: { rest: baseUrl, contract: baseUrl, ws: wsUrl(baseUrl) } } });
  await exchange.loadHttpProxyAgent();
  await exchange.loadMarkets();
  return exchange;
}

/**
 * Calls a watch method until what it resolves with passes `done`. A watch resolves on the next
 * message, so what already arrived is looked at first, in ccxt's own cache (`current`).
 */
async function watchUntil<T>(watch: () => Promise<T>, done: (value: T) => boolean, current?: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cached = current?.();
    if (cached !== undefined && done(cached)) return cached;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('the watch did not see what it waited for in time');
    const next = watch();
    const value = await Promise.race([next, new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), Math.min(left, 250)))]);
    if (value !== 'tick' && done(value)) return value;
    void next.catch(() => undefined);
  }
}

export function ccxtProSuite(name: string, start: () => Promise<SuiteTarget>): void {
  describe(name, () => {
    let target: SuiteTarget;
    let M: string;
    let A: Pro;
    let B: Pro;

    beforeAll(async () => {
      target = await start();
      M = target.market.toUpperCase().replace('_', '/');
      const base = target.market.split('_')[0]!;
      const [alice, bob] = await Promise.all([target.trader({ usdt: '100000' }), target.trader({ [base]: '10' })]);
      [A, B] = await Promise.all([pro(target.baseUrl, alice), pro(target.baseUrl, bob)]);
    });
    afterAll(async () => {
      await Promise.all([A?.close(), B?.close()]);
      await target?.stop();
    });

    it('watchOrderBook: a snapshot at once, then the book as it changes', async () => {
      const first = await A.watchOrderBook(M);
      expect(first.asks).toEqual([]);
      await B.createOrder(M, 'limit', 'sell', 0.5, 31000);
      await B.createOrder(M, 'limit', 'sell', 0.25, 32000);
      const book = await watchUntil(() => A.watchOrderBook(M), (b) => b.asks.length === 2, () => A.orderbooks[M]);
      expect(book.asks).toEqual([
        [31000, 0.5],
        [32000, 0.25],
      ]);
      expect(book.symbol).toBe(M);
    });

    it('watchTrades, watchTicker and watchOHLCV see a trade', async () => {
      const ticker = await A.watchTicker(M);
      expect(ticker.symbol).toBe(M);
      // A market that never traded has no candle to show yet: the stream opens, and waits for a trade.
      void A.watchOHLCV(M, '1m').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      const before = Date.now();
      await A.createOrder(M, 'limit', 'buy', 0.2, 31000);
      const seen = await watchUntil(() => A.watchTrades(M), (list) => list.some((t) => t.price === 31000), () => A.trades[M]);
      expect(seen.find((t) => t.price === 31000)).toMatchObject({ symbol: M, price: 31000, amount: 0.2, cost: 6200, side: 'buy' });
      const candles = await watchUntil(() => A.watchOHLCV(M, '1m'), (list) => list.some((c) => c[1] === 31000), () => A.ohlcvs[M]?.['1m']);
      const candle = candles[candles.length - 1]!;
      // LBank stamps kbar slots in UTC+8 without a zone, which ccxt reads as UTC: 8 hours ahead, as against LBank.
      expect([slotStart('1min', before) + LBANK_OFFSET_MS, slotStart('1min', Date.now()) + LBANK_OFFSET_MS]).toContain(candle[0]);
      expect(candle.slice(1)).toEqual([31000, 31000, 31000, 31000, 0.2]);
      const moved = await watchUntil(() => A.watchTicker(M), (t) => t.last === 31000, () => A.tickers[M]);
      expect(moved).toMatchObject({ last: 31000, high: 31000, low: 31000, baseVolume: 0.2, quoteVolume: 6200 });
    });

    it('watchOrders follows an order from open to filled; watchBalance its funds', async () => {
      // The first watch of each opens the stream (its snapshot: open orders, balances held).
      await Promise.race([A.watchOrders(M), new Promise((r) => setTimeout(r, 500))]);
      await A.watchBalance();
      const order = await A.createOrder(M, 'limit', 'buy', 0.1, 30000);
      type Orders = Awaited<ReturnType<Pro['watchOrders']>>;
      type Balances = Awaited<ReturnType<Pro['watchBalance']>>;
      const cachedOrders = () => A.orders as unknown as Orders | undefined;
      const cachedBalance = () => A.balance as unknown as Balances;
      const mine = (list: Orders | undefined) => list?.find((o) => o.id === order.id);
      const open = await watchUntil(() => A.watchOrders(M), (list) => mine(list) !== undefined, cachedOrders);
      expect(mine(open)).toMatchObject({ symbol: M, side: 'buy', price: 30000, amount: 0.1, filled: 0, remaining: 0.1, status: 'open' });
      const funds = await watchUntil(() => A.watchBalance(), (b) => b.USDT?.used === 3000, cachedBalance);
      expect(funds.USDT).toMatchObject({ used: 3000 });
      await B.createOrder(M, 'limit', 'sell', 0.1, 30000);
      const filled = await watchUntil(() => A.watchOrders(M), (list) => mine(list)?.status === 'closed', cachedOrders);
      expect(mine(filled)).toMatchObject({ status: 'closed', filled: 0.1, remaining: 0, average: 30000 });
      const base = M.split('/')[0]!;
      const after = await watchUntil(() => A.watchBalance(), (b) => (b[base]?.free ?? 0) > 0.29, cachedBalance);
      // 0.2 + 0.1 bought, less 0.1% fee.
      expect(after[base]?.free).toBeCloseTo(0.2997, 8);
    });

    it('fetchOrderBookWs, fetchTradesWs, fetchTickerWs and fetchOHLCVWs answer once', async () => {
      const book = await A.fetchOrderBookWs(M, 10);
      expect(book.asks[0]).toEqual([31000, 0.3]);
      const trades = await A.fetchTradesWs(M, undefined, 5);
      expect(trades.map((t) => t.price)).toEqual(expect.arrayContaining([31000, 30000]));
      const ticker = await A.fetchTickerWs(M);
      expect(ticker).toMatchObject({ symbol: M, last: 30000, high: 31000, low: 30000 });
      const since = slotStart('1min', Date.now() - 60_000);
      const ohlcv = await A.fetchOHLCVWs(M, '1m', since, 5);
      expect(ohlcv.length).toBeGreaterThan(0);
      // Records carry epoch seconds, as LBank's do (ccxt keeps them as they come).
      expect(ohlcv[0]![0]).toBeGreaterThanOrEqual(Math.floor(since / 1000));
      expect(ohlcv[0]![5]).toBeGreaterThan(0);
    });
  });
}
