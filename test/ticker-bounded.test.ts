// ticker.do?symbol=all in bounded work, whatever the trade history: with 100k+ trades stored, the 24 h
// statistics are right and the answer reads a bounded number of rows (hour and minute candles, not
// trades). The history is first stored as a database from before candles would hold it (trades
// only), so the engines' catch-up at start is exercised too; then more trades are written the way the
// engines write them. Real HTTP on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../src/domain/ledger.js';
import { openDatabase } from '../src/storage/database.js';
import { insertTrades, type TradeRow } from '../src/storage/exchange.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

type NewTrade = Omit<TradeRow, 'id'>;

const NOW = Date.parse('2026-06-10T12:34:56Z');
const HOUR = 3_600_000;
/** The window, to the minute: the current minute and the 1,439 before it. */
const WINDOW_FROM = Math.floor(NOW / 60_000) * 60_000 - 1439 * 60_000;
const MARKETS = 6;
/** Per market and answer: 24 hour rows, 119 minute rows at the ends, the latest trade. */
const MAX_ROWS = MARKETS * (24 + 119 + 1);

/** `count` trades spread evenly over [from, until), in time order, with prices and sizes that vary. */
function makeTrades(symbol: string, count: number, from: number, until: number, base: number, seed: number): NewTrade[] {
  const trades: NewTrade[] = [];
  for (let i = 0; i < count; i++) {
    const price = new Decimal(((i * 7919 + seed) % 2000) - 1000).div(100).plus(base);
    const quantity = new Decimal(((i * 104729 + seed) % 9999) + 1).div(10000);
    trades.push({
      symbol,
      price: price.toFixed(),
      quantity: quantity.toFixed(),
      quote_quantity: price.times(quantity).toDecimalPlaces(6, Decimal.ROUND_DOWN).toFixed(),
      taker_side: i % 2 === 0 ? 'buy' : 'sell',
      maker_order_id: `m${seed}-${i}`,
      taker_order_id: `t${seed}-${i}`,
      maker_user_id: 1,
      taker_user_id: 2,
      maker_fee: '0',
      maker_fee_asset: 'usdt',
      maker_fee_rate: '0',
      taker_fee: '0',
      taker_fee_asset: 'usdt',
      taker_fee_rate: '0',
      created_at: from + Math.floor((i * (until - from)) / count),
    });
  }
  return trades;
}

/** What the ticker must say, straight from the trades (in id order). */
function expectedTicker(trades: readonly NewTrade[]) {
  const latest = trades.length > 0 ? trades[trades.length - 1]!.price : '0';
  const inWindow = trades.filter((t) => t.created_at >= WINDOW_FROM);
  if (inWindow.length === 0) return { high: latest, low: latest, latest, change: '0', vol: '0', turnover: '0' };
  let high = new Decimal(inWindow[0]!.price);
  let low = high;
  let vol = new Decimal(0);
  let turnover = new Decimal(0);
  for (const t of inWindow) {
    high = Decimal.max(high, t.price);
    low = Decimal.min(low, t.price);
    vol = vol.plus(t.quantity);
    turnover = turnover.plus(t.quote_quantity);
  }
  const open = new Decimal(inWindow[0]!.price);
  return { high: high.toFixed(), low: low.toFixed(), latest, change: new Decimal(latest).minus(open).div(open).times(100).toDecimalPlaces(2).toFixed(), vol: vol.toFixed(), turnover: turnover.toFixed() };
}

describe.each(DATABASE_KINDS)('24 h tickers over a long history on %s', (kind) => {
  let database: TestDatabase;
  let keygate: RunningKeygate;
  const history: Record<string, NewTrade[]> = {
    btc_usdt: makeTrades('btc_usdt', 100_000, NOW - 3 * 24 * HOUR, NOW - 2 * HOUR, 30000, 1),
    eth_usdt: makeTrades('eth_usdt', 20_000, NOW - 50 * HOUR, NOW - 2 * HOUR, 2000, 2),
  };
  const start = () => startKeygate(kind, { database, now: () => NOW });

  const tickers = async (): Promise<Record<string, Record<string, string>>> => {
    const before = keygate.app.candles.rowsRead;
    const response = await fetch(new URL('/v2/ticker.do?symbol=all', keygate.baseUrl));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: string; data: Array<{ symbol: string; ticker: Record<string, string> }> };
    expect(body.result).toBe('true');
    const read = keygate.app.candles.rowsRead - before;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(MAX_ROWS);
    return Object.fromEntries(body.data.map((d) => [d.symbol, d.ticker]));
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // A database from before candles: its trades, and no candles of them.
    const direct = await openDatabase({ dataDir: database.dataDir, databaseUrl: database.databaseUrl });
    try {
      for (const trades of Object.values(history)) {
        for (let i = 0; i < trades.length; i += 500) await direct.db.insertInto('trades').values(trades.slice(i, i + 500)).execute();
      }
    } finally {
      await direct.close();
    }
    keygate = await start();
    // The engines fold the stored trades into candles before they match anything.
    await keygate.app.exchange.idle();
    // Storing and folding 120k trades takes seconds on a shared machine.
  }, 180_000);
  afterAll(async () => {
    await keygate?.stop();
    await database?.drop();
  });

  it('answers every market from candles after folding in the stored history', async () => {
    const answer = await tickers();
    expect(Object.keys(answer)).toHaveLength(MARKETS);
    for (const symbol of Object.keys(answer)) expect(answer[symbol], symbol).toEqual(expectedTicker(history[symbol] ?? []));
    const progress = await keygate.app.database.db.selectFrom('candle_progress').selectAll().orderBy('symbol').execute();
    expect(progress).toHaveLength(MARKETS);
  });

  it('stays right as trades are written with their candles, and after a restart', { timeout: 180_000 }, async () => {
    const recent = makeTrades('btc_usdt', 30_000, NOW - 2 * HOUR, NOW, 31000, 3);
    await keygate.app.database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < recent.length; i += 500) await insertTrades(trx, recent.slice(i, i + 500));
    });
    history.btc_usdt!.push(...recent);
    expect((await tickers()).btc_usdt).toEqual(expectedTicker(history.btc_usdt!));

    await keygate.stop();
    keygate = await start();
    await keygate.app.exchange.idle();
    const answer = await tickers();
    for (const symbol of Object.keys(answer)) expect(answer[symbol], symbol).toEqual(expectedTicker(history[symbol] ?? []));
  });

  it('sums the whole history into day candles, to the unit', async () => {
    const days = await keygate.app.candles.klines('btc_usdt', 'day1', 0, 2000);
    const volume = days.reduce((sum, d) => sum.plus(d.volume), new Decimal(0));
    const quote = days.reduce((sum, d) => sum.plus(d.quoteVolume), new Decimal(0));
    expect(days.reduce((n, d) => n + d.trades, 0)).toBe(history.btc_usdt!.length);
    expect(volume.toFixed()).toBe(history.btc_usdt!.reduce((sum, t) => sum.plus(t.quantity), new Decimal(0)).toFixed());
    expect(quote.toFixed()).toBe(history.btc_usdt!.reduce((sum, t) => sum.plus(t.quote_quantity), new Decimal(0)).toFixed());
  });
});
