// GET /v2/kline.do over real HTTP on SQLite and PostgreSQL: candles made by real orders on a clock the
// test sets, compared with OHLCV worked out by hand for every kline type; the same after a restart;
// stock ccxt's fetchOHLCV; and bad parameters answered with LBank's codes.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { expectLedgerBalanced, trader, type Trader } from './support/exchange.js';
import { readReply, signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const at = (iso: string) => Date.parse(iso);
const seconds = (iso: string) => at(iso) / 1000;

/** The trades the test makes: a resting ask at `price`, then a buy that takes it whole. */
const TRADES: Array<{ when: string; price: string; amount: string }> = [
  { when: '2026-03-02T10:03:20Z', price: '100.5', amount: '0.1' },
  { when: '2026-03-02T10:03:30Z', price: '105', amount: '0.2' },
  { when: '2026-03-02T10:03:40Z', price: '98.25', amount: '0.3' },
  { when: '2026-03-02T10:03:59Z', price: '102', amount: '0.4' },
  { when: '2026-03-02T10:07:00Z', price: '110', amount: '0.5' },
  { when: '2026-03-03T00:00:30Z', price: '90', amount: '1' },
  { when: '2026-04-01T00:00:00Z', price: '95', amount: '0.25' },
];

type Bar = [number, number, number, number, number, number];
const bar = (start: string, o: number, h: number, l: number, c: number, v: number): Bar => [seconds(start), o, h, l, c, v];

/**
 * Worked out by hand from TRADES (2026-03-02 is a Monday; weeks start on Monday). Buckets follow LBank's
 * clock, UTC+8: days start at 16:00 UTC, 12-hour bars at 04:00 and 16:00, 6-hour bars at 04, 10, 16, 22.
 */
const EXPECTED: Record<string, Bar[]> = {
  minute1: [
    bar('2026-03-02T10:03:00Z', 100.5, 105, 98.25, 102, 1),
    bar('2026-03-02T10:07:00Z', 110, 110, 110, 110, 0.5),
    bar('2026-03-03T00:00:00Z', 90, 90, 90, 90, 1),
    bar('2026-04-01T00:00:00Z', 95, 95, 95, 95, 0.25),
  ],
  minute5: [
    bar('2026-03-02T10:00:00Z', 100.5, 105, 98.25, 102, 1),
    bar('2026-03-02T10:05:00Z', 110, 110, 110, 110, 0.5),
    bar('2026-03-03T00:00:00Z', 90, 90, 90, 90, 1),
    bar('2026-04-01T00:00:00Z', 95, 95, 95, 95, 0.25),
  ],
  minute15: [bar('2026-03-02T10:00:00Z', 100.5, 110, 98.25, 110, 1.5), bar('2026-03-03T00:00:00Z', 90, 90, 90, 90, 1), bar('2026-04-01T00:00:00Z', 95, 95, 95, 95, 0.25)],
  hour1: [bar('2026-03-02T10:00:00Z', 100.5, 110, 98.25, 110, 1.5), bar('2026-03-03T00:00:00Z', 90, 90, 90, 90, 1), bar('2026-04-01T00:00:00Z', 95, 95, 95, 95, 0.25)],
  hour4: [bar('2026-03-02T08:00:00Z', 100.5, 110, 98.25, 110, 1.5), bar('2026-03-03T00:00:00Z', 90, 90, 90, 90, 1), bar('2026-04-01T00:00:00Z', 95, 95, 95, 95, 0.25)],
  hour6: [bar('2026-03-02T10:00:00Z', 100.5, 110, 98.25, 110, 1.5), bar('2026-03-02T22:00:00Z', 90, 90, 90, 90, 1), bar('2026-03-31T22:00:00Z', 95, 95, 95, 95, 0.25)],
  hour12: [bar('2026-03-02T04:00:00Z', 100.5, 110, 98.25, 110, 1.5), bar('2026-03-02T16:00:00Z', 90, 90, 90, 90, 1), bar('2026-03-31T16:00:00Z', 95, 95, 95, 95, 0.25)],
  day1: [bar('2026-03-01T16:00:00Z', 100.5, 110, 98.25, 110, 1.5), bar('2026-03-02T16:00:00Z', 90, 90, 90, 90, 1), bar('2026-03-31T16:00:00Z', 95, 95, 95, 95, 0.25)],
  week1: [bar('2026-03-01T16:00:00Z', 100.5, 110, 90, 90, 2.5), bar('2026-03-29T16:00:00Z', 95, 95, 95, 95, 0.25)],
  month1: [bar('2026-02-28T16:00:00Z', 100.5, 110, 90, 90, 2.5), bar('2026-03-31T16:00:00Z', 95, 95, 95, 95, 0.25)],
};
for (const [alias, same] of [['minute30', 'minute15'], ['hour2', 'hour1'], ['hour8', 'hour4']] as const) {
  EXPECTED[alias] = EXPECTED[same]!.map((b, i) => (i === 0 ? [bucket(alias), ...b.slice(1)] : b) as Bar);
}
function bucket(type: 'minute30' | 'hour2' | 'hour8'): number {
  return seconds({ minute30: '2026-03-02T10:00:00Z', hour2: '2026-03-02T10:00:00Z', hour8: '2026-03-02T08:00:00Z' }[type]);
}

describe.each(DATABASE_KINDS)('klines on %s', (kind) => {
  let database: TestDatabase;
  let keygate: RunningKeygate;
  let clock = at(TRADES[0]!.when);
  const start = () => startKeygate(kind, { database, now: () => clock });

  const kline = async (params: Record<string, string>) => {
    const url = new URL('/v2/kline.do', keygate.baseUrl);
    url.search = new URLSearchParams(params).toString();
    return readReply(await fetch(url));
  };
  const bars = async (params: Record<string, string>): Promise<Bar[]> => {
    const reply = await kline({ symbol: 'btc_usdt', ...params });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ result: 'true', error_code: 0 });
    return reply.body.data as Bar[];
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    keygate = await start();
    const seller = await trader(keygate, { btc: '10' });
    const buyer = await trader(keygate, { usdt: '100000' });
    const place = async (t: Trader, params: Record<string, string>) => {
      const reply = await signedPost(keygate.baseUrl, 'supplement/create_order', t.client, { params: { symbol: 'btc_usdt', ...params }, timestamp: clock });
      expect(reply.body.result, reply.body.msg).toBe(true);
    };
    for (const trade of TRADES) {
      clock = at(trade.when);
      await place(seller, { type: 'sell', price: trade.price, amount: trade.amount });
      await place(buyer, { type: 'buy', price: trade.price, amount: trade.amount });
    }
    await expectLedgerBalanced(keygate);
    clock = at('2026-04-01T00:00:10Z');
  });
  afterAll(async () => {
    await keygate?.stop();
    await database?.drop();
  });

  it('answers every kline type with the candles worked out by hand, oldest first', async () => {
    expect(await keygate.app.database.db.selectFrom('trades').select('id').execute()).toHaveLength(TRADES.length);
    for (const [type, expected] of Object.entries(EXPECTED)) {
      expect(await bars({ type, size: '100', time: String(seconds('2026-03-02T00:00:00Z')) }), type).toEqual(expected);
    }
  });

  it('starts at the bucket that holds time, stops after size candles, and gives the newest without time', async () => {
    // 10:04:30 falls in the 10:00 bucket of minute5, which is included.
    expect(await bars({ type: 'minute5', size: '2', time: String(seconds('2026-03-02T10:04:30Z')) })).toEqual(EXPECTED.minute5!.slice(0, 2));
    expect(await bars({ type: 'minute5', size: '2', time: String(seconds('2026-03-02T10:05:00Z')) })).toEqual(EXPECTED.minute5!.slice(1, 3));
    // 15:59:59 UTC is the last second of 2 March on LBank's clock.
    expect(await bars({ type: 'day1', size: '1', time: String(seconds('2026-03-02T15:59:59Z')) })).toEqual(EXPECTED.day1!.slice(0, 1));
    expect(await bars({ type: 'day1', size: '1', time: String(seconds('2026-03-02T16:00:00Z')) })).toEqual(EXPECTED.day1!.slice(1, 2));
    expect(await bars({ type: 'minute1', size: '2' })).toEqual(EXPECTED.minute1!.slice(2));
    expect(await bars({ type: 'week1', size: '1' })).toEqual(EXPECTED.week1!.slice(1));
    expect(await bars({ type: 'minute1', size: '2000', time: String(seconds('2026-05-01T00:00:00Z')) })).toEqual([]);
    expect(await bars({ type: 'minute1', size: '10', time: '0' })).toEqual(EXPECTED.minute1);
  });

  it('keeps the quote volume and trade count of each candle', async () => {
    const [first] = await keygate.app.candles.klines('btc_usdt', 'hour1', seconds('2026-03-02T10:00:00Z'), 1);
    // 100.5 × 0.1 + 105 × 0.2 + 98.25 × 0.3 + 102 × 0.4 + 110 × 0.5
    expect(first).toEqual({ start: at('2026-03-02T10:00:00Z'), open: '100.5', high: '110', low: '98.25', close: '110', volume: '1.5', quoteVolume: '156.325', trades: 5 });
  });

  it('answers the ticker from the last 24 hours only', async () => {
    const reply = await fetch(new URL('/v2/ticker/24hr.do?symbol=btc_usdt', keygate.baseUrl));
    const body = (await reply.json()) as { data: Array<{ ticker: Record<string, string> }> };
    expect(body.data[0]!.ticker).toEqual({ high: '95', low: '95', latest: '95', change: '0', vol: '0.25', turnover: '23.75' });
  });

  it('serves stock ccxt’s fetchOHLCV', async () => {
    const exchange = new ccxt.lbank({ urls: { api: { rest: keygate.baseUrl, contract: keygate.baseUrl } } });
    const ms = (b: Bar) => [b[0] * 1000, ...b.slice(1)];
    expect(await exchange.fetchOHLCV('BTC/USDT', '1m', at('2026-03-02T10:00:00Z'), 3)).toEqual(EXPECTED.minute1!.slice(0, 3).map(ms));
    expect(await exchange.fetchOHLCV('BTC/USDT', '1d', at('2026-03-01T00:00:00Z'))).toEqual(EXPECTED.day1!.map(ms));
    expect(await exchange.fetchOHLCV('BTC/USDT', '1w', at('2026-03-01T00:00:00Z'))).toEqual(EXPECTED.week1!.map(ms));
    expect(await exchange.fetchOHLCV('BTC/USDT', '4h', at('2026-03-02T00:00:00Z'), 2)).toEqual(EXPECTED.hour4!.slice(0, 2).map(ms));
  });

  it('refuses bad parameters with LBank’s codes, never a 5xx', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{ size: '10', type: 'minute1' }, 10001],
      [{ symbol: 'btc_usdt', type: 'minute1' }, 10001],
      [{ symbol: 'btc_usdt', size: '10' }, 10001],
      [{ symbol: 'nope_usdt', size: '10', type: 'minute1' }, 10008],
      [{ symbol: 'btc_usdt', size: '0', type: 'minute1' }, 10003],
      [{ symbol: 'btc_usdt', size: '2001', type: 'minute1' }, 10003],
      [{ symbol: 'btc_usdt', size: '1.5', type: 'minute1' }, 10003],
      [{ symbol: 'btc_usdt', size: '10', type: 'minute2' }, 10003],
      [{ symbol: 'btc_usdt', size: '10', type: 'month1', time: '-1' }, 10003],
      [{ symbol: 'btc_usdt', size: '10', type: 'month1', time: 'yesterday' }, 10003],
      [{ symbol: 'btc_usdt', size: '10', type: 'month1', time: '99999999999999' }, 10003],
    ];
    for (const [params, code] of cases) {
      const reply = await kline(params);
      expect(reply.status, JSON.stringify(params)).toBe(200);
      expect(reply.body, JSON.stringify(params)).toMatchObject({ result: 'false', error_code: code });
    }
  });

  it('answers the same after a restart', async () => {
    await keygate.stop();
    keygate = await start();
    for (const [type, expected] of Object.entries(EXPECTED)) {
      expect(await bars({ type, size: '2000', time: '0' }), type).toEqual(expected);
    }
  });
});
