// The frames of LBank's WebSocket API v2, as LBank sends them (and as ccxt pro and LBank's SDKs parse
// them): every push carries SERVER "V2", its type, its pair and TS (UTC+8, no zone, as LBank). Prices and
// quantities of market data are JSON numbers, as LBank writes them; order and balance fields strings.
import { Decimal } from '../../domain/ledger.js';
import { lbankDateTime } from '../../domain/lbank-time.js';
import type { Candle } from '../../domain/kbar.js';
import type { OrderRow } from '../../storage/exchange.js';
import type { PublicTrade, RequestReply, StreamEvent, TickStats } from '../../services/streams.js';
import { num, toJson } from './json.js';

const SERVER = 'V2';
type Level = [string, string];

const levels = (list: readonly Level[]) => list.map(([price, quantity]) => [num(price), num(quantity)]);

function tick(stats: TickStats) {
  return { high: num(stats.high), vol: num(stats.vol), low: num(stats.low), change: num(stats.change), turnover: num(stats.turnover), latest: num(stats.latest), dir: stats.dir };
}

function kbar(candle: Candle, slot: string) {
  return { t: lbankDateTime(candle.start), o: num(candle.open), h: num(candle.high), l: num(candle.low), c: num(candle.close), v: num(candle.volume), a: num(candle.quoteVolume), n: candle.trades, slot };
}

function trade(t: PublicTrade) {
  return { volume: num(t.quantity), amount: num(t.quoteQuantity), price: num(t.price), direction: t.takerSide, TS: lbankDateTime(t.at) };
}

/** An order's state as orderUpdate carries it. Per-trade fields (amount, price, txUuid) are left out: updates are coalesced states. */
function orderUpdate(order: OrderRow, role: string) {
  const marketBuy = order.type === 'buy_market';
  const ordered = marketBuy ? (order.quote_budget ?? '0') : (order.quantity ?? order.executed_qty);
  const done = marketBuy ? order.executed_quote : order.executed_qty;
  const executed = new Decimal(order.executed_qty);
  return {
    uuid: order.order_id,
    customerID: order.custom_id ?? '',
    symbol: order.symbol,
    type: order.type,
    orderStatus: order.status,
    orderAmt: ordered,
    orderPrice: order.type.endsWith('_market') ? '0' : (order.price ?? '0'),
    accAmt: order.executed_qty,
    remainAmt: Decimal.max(new Decimal(ordered).minus(done), 0).toFixed(),
    avgPrice: executed.isZero() ? '0' : new Decimal(order.executed_quote).div(executed).toDecimalPlaces(18).toFixed(),
    role,
    updateTime: order.updated_at,
  };
}

const cache = new WeakMap<StreamEvent, Buffer>();

/** The frame of a push, written (and encoded) once however many sockets it goes to. */
export function pushFrame(event: StreamEvent, now: number): Buffer {
  let frame = cache.get(event);
  if (frame === undefined) {
    frame = Buffer.from(toJson(pushObject(event, now)), 'utf8');
    cache.set(event, frame);
  }
  return frame;
}

function pushObject(event: StreamEvent, now: number): Record<string, unknown> {
  const TS = lbankDateTime(now);
  switch (event.channel) {
    case 'depth':
      return { depth: { asks: levels(event.asks), bids: levels(event.bids) }, count: event.size, type: 'depth', pair: event.pair, SERVER, TS };
    case 'incrdepth':
      return { incrdepth: { version: event.version, prevVersion: event.prevVersion, asks: levels(event.asks), bids: levels(event.bids) }, type: 'incrdepth', pair: event.pair, SERVER, TS };
    case 'trade':
      return { trade: trade(event.trade), type: 'trade', pair: event.pair, SERVER, TS };
    case 'tick':
      return { tick: tick(event.stats), type: 'tick', pair: event.pair, SERVER, TS };
    case 'kbar':
      return { kbar: kbar(event.candle, event.slot), type: 'kbar', pair: event.pair, SERVER, TS };
    case 'orderUpdate':
      return { orderUpdate: orderUpdate(event.order, event.role), pair: event.pair, type: 'orderUpdate', SERVER, TS };
    case 'assetUpdate': {
      const total = new Decimal(event.available).plus(event.frozen).toFixed();
      // Like LBank's, an assetUpdate names its asset in data and carries no pair.
      return { data: { asset: total, assetCode: event.asset, free: event.available, freeze: event.frozen, time: event.changedAt, type: event.change }, SERVER, type: 'assetUpdate', TS };
    }
  }
}

/** The answer to {"action":"request"}: a depth reply has asks and bids at the top and no depth key. */
export function replyFrame(reply: RequestReply, now: number): string {
  const TS = lbankDateTime(now);
  switch (reply.request) {
    case 'depth':
      return toJson({ SERVER, asks: levels(reply.asks), bids: levels(reply.bids), count: Math.max(reply.asks.length, reply.bids.length), type: 'depth', pair: reply.pair, TS });
    case 'trade':
      return toJson({
        columns: ['timestamp', 'price', 'volume', 'direction'],
        SERVER,
        count: reply.trades.length,
        trades: reply.trades.map((t) => [t.at, num(t.price), num(t.quantity), t.takerSide]),
        type: 'trade',
        pair: reply.pair,
        TS,
      });
    case 'tick':
      return toJson({ tick: tick(reply.stats), type: 'tick', pair: reply.pair, SERVER, TS });
    case 'kbar':
      return toJson({
        records: reply.candles.map((c) => [Math.floor(c.start / 1000), num(c.open), num(c.high), num(c.low), num(c.close), num(c.volume), num(c.quoteVolume), c.trades]),
        columns: ['timestamp', 'open', 'high', 'low', 'close', 'volume', 'turnover', 'count'],
        SERVER,
        count: reply.candles.length,
        kbar: reply.slot,
        type: 'kbar',
        pair: reply.pair,
        TS,
      });
  }
}

/** LBank's error frame; `about` names the subscription it concerns, when there is one. */
export function errorFrame(message: string, now: number, about: Record<string, string> = {}): string {
  return toJson({ SERVER, status: 'error', message, ...about, TS: lbankDateTime(now) });
}

export function pingFrame(id: string): string {
  return toJson({ action: 'ping', ping: id });
}

export function pongFrame(id: unknown): string {
  return JSON.stringify({ action: 'pong', pong: id });
}
