// LBank's WebSocket frames, asserted directly over a real socket on SQLite and PostgreSQL: pushes,
// request replies, incremental depth against REST incrDepth, order and asset updates, ping/pong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lbankDateTime } from '../src/domain/lbank-time.js';
import { DATABASE_KINDS } from './support/databases.js';
import { trader, type Trader } from './support/exchange.js';
import { signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';
import { openSocket, type Frame, type TestSocket } from './support/ws.js';

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;
type Book = Map<string, string>;

/** A TS is LBank's clock face: UTC+8, no zone, within a few seconds of now. */
function expectLbankTs(value: unknown): void {
  expect(value).toMatch(TS);
  const shown = Date.parse(`${value as string}Z`);
  const expected = Date.parse(`${lbankDateTime(Date.now())}Z`);
  expect(Math.abs(shown - expected)).toBeLessThan(30_000);
}

describe.each(DATABASE_KINDS)('WebSocket frames on %s', (kind) => {
  let keygate: RunningKeygate;
  let maker: Trader;
  let taker: Trader;
  const sockets: TestSocket[] = [];
  const socket = async () => {
    const s = await openSocket(keygate.baseUrl);
    sockets.push(s);
    return s;
  };
  const order = (t: Trader, symbol: string, type: string, price: string, amount: string, extra: Record<string, string> = {}) =>
    t.client.call<{ order_id: string }>('supplement/create_order', { symbol, type, price, amount, ...extra });

  beforeAll(async () => {
    keygate = await startKeygate(kind);
    maker = await trader(keygate, { btc: '100', eth: '1000', sol: '10000', lbk: '100000', doge: '100000' });
    taker = await trader(keygate, { usdt: '10000000' });
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await keygate?.stop();
  });

  it('depth: a snapshot at once (depth as a string or a number), then the book; numbers exact', async () => {
    await order(maker, 'btc_usdt', 'sell', '30000.12', '0.0001');
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'depth', depth: '50', pair: 'btc_usdt' });
    const snapshot = await ws.next((f) => f.type === 'depth');
    expect(snapshot).toMatchObject({ depth: { asks: [[30000.12, 0.0001]], bids: [] }, count: 50, type: 'depth', pair: 'btc_usdt', SERVER: 'V2' });
    expectLbankTs(snapshot.TS);
    expect(ws.raw.find((r) => r.includes('"depth":{'))).toContain('[[30000.12,0.0001]]');
    ws.send({ action: 'subscribe', subscribe: 'depth', depth: 10, pair: 'BTC_USDT' });
    await ws.next((f) => f.type === 'depth' && f.count === 10);
    await order(taker, 'btc_usdt', 'buy', '29999', '2');
    const after = await ws.next((f) => f.type === 'depth' && f.count === 50 && (f.depth as { bids: unknown[] }).bids.length === 1);
    expect(after.depth).toEqual({ asks: [[30000.12, 0.0001]], bids: [[29999, 2]] });
  });

  it('trade: the latest trades at once, then each trade, taker side as direction', async () => {
    await order(maker, 'eth_usdt', 'sell', '2000', '1');
    await order(taker, 'eth_usdt', 'buy', '2000', '0.25');
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'trade', pair: 'eth_usdt' });
    const recent = await ws.next((f) => f.type === 'trade');
    expect(recent).toMatchObject({ trade: { volume: 0.25, amount: 500, price: 2000, direction: 'buy' }, type: 'trade', pair: 'eth_usdt', SERVER: 'V2' });
    expectLbankTs((recent.trade as Frame).TS);
    const from = ws.frames.length;
    await order(taker, 'eth_usdt', 'buy', '2000', '0.5');
    expect(await ws.next((f) => f.type === 'trade', { from })).toMatchObject({ trade: { volume: 0.5, amount: 1000, price: 2000, direction: 'buy' } });
  });

  it('tick: 24-hour statistics at once and after trades', async () => {
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'tick', pair: 'eth_usdt' });
    const tick = await ws.next((f) => f.type === 'tick');
    expect(tick).toMatchObject({ tick: { high: 2000, low: 2000, latest: 2000, vol: 0.75, turnover: 1500, change: 0, dir: 'buy' }, type: 'tick', pair: 'eth_usdt', SERVER: 'V2' });
    await order(maker, 'eth_usdt', 'buy', '1900', '0.1');
    await order(maker, 'eth_usdt', 'sell', '1900', '0.1');
    expect(await ws.next((f) => f.type === 'tick' && (f.tick as Frame).latest === 1900)).toMatchObject({ tick: { low: 1900, high: 2000, dir: 'sell' } });
  });

  it('kbar: the current slot, repeating the subscribed slot, after each trade', async () => {
    await order(maker, 'eth_btc', 'sell', '0.05', '1');
    await order(maker, 'eth_btc', 'buy', '0.05', '0.5');
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'kbar', kbar: '5min', pair: 'eth_btc' });
    const first = await ws.next((f) => f.type === 'kbar');
    expect(first).toMatchObject({ kbar: { o: 0.05, h: 0.05, l: 0.05, c: 0.05, v: 0.5, a: 0.025, n: 1, slot: '5min' }, type: 'kbar', pair: 'eth_btc', SERVER: 'V2' });
    expect((first.kbar as Frame).t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:[0-5][05]:00\.000$/);
    const from = ws.frames.length;
    await order(maker, 'eth_btc', 'buy', '0.051', '0.2');
    const pushed = await ws.next((f) => f.type === 'kbar', { from });
    expect(pushed.kbar).toMatchObject({ o: 0.05, h: 0.05, c: 0.05, v: 0.7, a: 0.035, n: 2, slot: '5min', t: (first.kbar as Frame).t });
  });

  it('answers requests once in LBank’s reply shapes: depth without a depth key, trades and kbars in columns', async () => {
    const ws = await socket();
    ws.send({ action: 'request', request: 'depth', depth: 5, pair: 'btc_usdt' });
    const depth = await ws.next((f) => f.type === 'depth');
    expect(depth).toMatchObject({ SERVER: 'V2', asks: [[30000.12, 0.0001]], bids: [[29999, 2]], type: 'depth', pair: 'btc_usdt' });
    expect(depth).not.toHaveProperty('depth');
    ws.send({ action: 'request', request: 'trade', size: '2', pair: 'eth_usdt' });
    const trades = await ws.next((f) => f.type === 'trade');
    expect(trades).toMatchObject({ columns: ['timestamp', 'price', 'volume', 'direction'], count: 2, type: 'trade', pair: 'eth_usdt' });
    const rows = trades.trades as Array<[number, number, number, string]>;
    expect(rows[0]![0]).toBeLessThanOrEqual(rows[1]![0]);
    expect(rows).toEqual([
      [expect.any(Number), 2000, 0.5, 'buy'],
      [expect.any(Number), 1900, 0.1, 'sell'],
    ]);
    ws.send({ action: 'request', request: 'tick', pair: 'eth_usdt' });
    expect(await ws.next((f) => f.type === 'tick')).toMatchObject({ tick: { latest: 1900 } });
    ws.send({ action: 'request', request: 'kbar', kbar: 'day', pair: 'eth_usdt', size: '3' });
    const kbars = await ws.next((f) => f.type === 'kbar');
    expect(kbars).toMatchObject({ columns: ['timestamp', 'open', 'high', 'low', 'close', 'volume', 'turnover', 'count'], kbar: 'day', count: 1, type: 'kbar', pair: 'eth_usdt' });
    const [day] = kbars.records as number[][];
    expect(day!.slice(1)).toEqual([2000, 2000, 1900, 1900, 0.85, 1690, 3]);
    // A day opens at 00:00 UTC+8, 16:00 UTC.
    expect((day![0]! * 1000) % 86_400_000).toBe(16 * 3_600_000);
  });

  it('incrdepth: the whole book, then changes chained by version, ending on REST incrDepth’s book', async () => {
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'incrdepth', pair: 'sol_usdt' });
    const snapshot = await ws.next((f) => f.type === 'incrdepth');
    expect(snapshot.incrdepth).toMatchObject({ prevVersion: 0 });
    const a = await order(maker, 'sol_usdt', 'sell', '150', '2');
    await order(maker, 'sol_usdt', 'sell', '151', '3');
    await order(taker, 'sol_usdt', 'buy', '149', '4');
    await order(taker, 'sol_usdt', 'buy', '150', '1');
    await maker.client.call('supplement/cancel_order', { symbol: 'sol_usdt', orderId: a.order_id });
    await order(maker, 'sol_usdt', 'sell', '152.5', '0.5');
    const rest = await taker.client.get<{ asks: Array<[string, string]>; bids: Array<[string, string]>; version: number }>('incrDepth', { symbol: 'sol_usdt' });
    await ws.next((f) => f.type === 'incrdepth' && (f.incrdepth as { version: number }).version === rest.version);
    const asks: Book = new Map();
    const bids: Book = new Map();
    let version = 0;
    for (const frame of ws.frames.filter((f) => f.type === 'incrdepth')) {
      const change = frame.incrdepth as { version: number; prevVersion: number; asks: Array<[number, number]>; bids: Array<[number, number]> };
      expect(change.prevVersion).toBe(version);
      for (const [side, levels] of [[asks, change.asks], [bids, change.bids]] as const) {
        for (const [price, quantity] of levels) {
          if (quantity === 0) side.delete(String(price));
          else side.set(String(price), String(quantity));
        }
      }
      version = change.version;
    }
    expect(version).toBe(rest.version);
    expect([...asks].sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual(rest.asks);
    expect([...bids].sort((x, y) => Number(y[0]) - Number(x[0]))).toEqual(rest.bids);
    expect(rest.asks).toEqual([['151', '3'], ['152.5', '0.5']]);
    const supplement = await taker.client.get<Record<string, unknown>>('supplement/incrDepth', { symbol: 'sol_usdt', limit: '1' });
    expect(supplement).toEqual({ asks: [['151', '3']], bids: [['149', '4']] });
  });

  it('orderUpdate: the account’s orders with LBank’s fields; assetUpdate: one frame per changed asset', async () => {
    const alice = await trader(keygate, { usdt: '1000' });
    const key = (await signedPost(keygate.baseUrl, 'subscribe/get_key', alice.client)).body.data as string;
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'orderUpdate', subscribeKey: key, pair: 'all' });
    ws.send({ action: 'subscribe', subscribe: 'assetUpdate', subscribeKey: key });
    const snapshot = await ws.next((f) => f.type === 'assetUpdate');
    expect(snapshot).toMatchObject({ data: { asset: '1000', assetCode: 'usdt', free: '1000', freeze: '0', type: 'DEPOSIT' }, SERVER: 'V2', type: 'assetUpdate' });
    expect(snapshot.data).toHaveProperty('time', expect.any(Number));
    const from = ws.frames.length;
    const placed = await order(alice, 'lbk_usdt', 'buy', '0.01', '1000', { custom_id: 'grid-1' });
    const update = await ws.next((f) => f.type === 'orderUpdate', { from });
    expect(update).toMatchObject({
      orderUpdate: { uuid: placed.order_id, customerID: 'grid-1', symbol: 'lbk_usdt', type: 'buy', orderStatus: 0, orderAmt: '1000', orderPrice: '0.01', accAmt: '0', remainAmt: '1000', avgPrice: '0', role: 'taker' },
      pair: 'lbk_usdt',
      type: 'orderUpdate',
      SERVER: 'V2',
    });
    expect(Number.isInteger((update.orderUpdate as Frame).orderStatus)).toBe(true);
    expect((update.orderUpdate as Frame).updateTime).toEqual(expect.any(Number));
    expect(await ws.next((f) => f.type === 'assetUpdate' && (f.data as Frame).freeze === '10', { from })).toMatchObject({ data: { free: '990', type: 'ORDER_CREATE' } });
    const fill = ws.frames.length;
    await order(maker, 'lbk_usdt', 'sell', '0.01', '400');
    const partial = await ws.next((f) => f.type === 'orderUpdate' && (f.orderUpdate as Frame).orderStatus === 1, { from: fill });
    expect(partial.orderUpdate).toMatchObject({ accAmt: '400', remainAmt: '600', avgPrice: '0.01', role: 'maker' });
    const lbk = await ws.next((f) => f.type === 'assetUpdate' && (f.data as Frame).assetCode === 'lbk', { from: fill });
    expect(lbk.data).toMatchObject({ free: '399.6', freeze: '0', type: 'TRADE' });
    expect(await ws.next((f) => f.type === 'assetUpdate' && (f.data as Frame).assetCode === 'usdt' && (f.data as Frame).freeze === '6', { from: fill })).toMatchObject({ data: { free: '990', type: 'TRADE' } });
    // Deposits and withdrawals move balances outside the engine: pushed too.
    await keygate.app.ledger.credit(alice.userId, 'usdt', '5');
    expect(await ws.next((f) => f.type === 'assetUpdate' && (f.data as Frame).free === '995', { from: fill })).toMatchObject({ data: { type: 'DEPOSIT' } });
    const cancelled = ws.frames.length;
    await alice.client.call('supplement/cancel_order', { symbol: 'lbk_usdt', orderId: placed.order_id });
    expect(await ws.next((f) => f.type === 'orderUpdate', { from: cancelled })).toMatchObject({ orderUpdate: { uuid: placed.order_id, orderStatus: 3, accAmt: '400', remainAmt: '600' } });
    expect(await ws.next((f) => f.type === 'assetUpdate' && (f.data as Frame).freeze === '0', { from: cancelled })).toMatchObject({ data: { free: '1001', type: 'ORDER_CANCEL' } });
    // Nothing of another account: the maker's orders and balances never reached this socket.
    expect(ws.frames.filter((f) => f.type === 'orderUpdate').every((f) => (f.orderUpdate as Frame).uuid === placed.order_id)).toBe(true);
    expect(ws.frames.filter((f) => f.type === 'assetUpdate').map((f) => (f.data as Frame).assetCode)).not.toContain('doge');
  });

  it('unsubscribes with LBank’s bodies, and stops pushing', async () => {
    const ws = await socket();
    ws.send({ action: 'subscribe', subscribe: 'depth', depth: '100', pair: 'doge_usdt' });
    ws.send({ action: 'subscribe', subscribe: 'trade', pair: 'doge_usdt' });
    await ws.next((f) => f.type === 'depth');
    ws.send({ action: 'unsubscribe', subscribe: 'depth', depth: '100', pair: 'doge_usdt' });
    ws.send({ action: 'unsubscribe', subscribe: 'trade', pair: 'doge_usdt' });
    ws.send({ action: 'ping', ping: 'after-unsubscribe' });
    await ws.next((f) => f.pong === 'after-unsubscribe');
    const from = ws.frames.length;
    await order(maker, 'doge_usdt', 'sell', '0.1', '100');
    await order(taker, 'doge_usdt', 'buy', '0.1', '100');
    ws.send({ action: 'ping', ping: 'later' });
    await ws.next((f) => f.pong === 'later', { from });
    await keygate.app.exchange.idle();
    ws.send({ action: 'ping', ping: 'last' });
    await ws.next((f) => f.pong === 'last', { from });
    expect(ws.frames.slice(from).filter((f) => f.type !== undefined)).toEqual([]);
  });

  it('keeps alive as LBank: answers a client’s ping with its id, and pings with a JSON ping', async () => {
    const ws = await socket();
    ws.send({ action: 'ping', ping: '0ca8f854-7ba7-4341-9d86-d3327e52804e' });
    expect(await ws.next((f) => f.action === 'pong')).toEqual({ action: 'pong', pong: '0ca8f854-7ba7-4341-9d86-d3327e52804e' });
    // Protocol-level pings are answered at once by the socket library.
    const pong = new Promise<Buffer>((resolve) => ws.socket.once('pong', resolve));
    ws.socket.ping(Buffer.from('hello'));
    expect((await pong).toString()).toBe('hello');
  });
});
