// Public market data, answered by every server: the book as its market's engine last committed it,
// the trades of the sandbox exchange, and klines and tickers from the candles written with the trades.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import { isKlineType, KLINE_TYPES } from '../../domain/candles.js';
import { success } from './envelope.js';
import { LbankError } from './errors.js';
import { requestParams } from './params.js';
import { integerParam, optional, required } from './views.js';
import { DEPTH_LEVELS } from '../../services/market-engine.js';

/** The latest `time` a kline request may name: 9999-12-31, in seconds. */
const MAX_TIME_SECONDS = 253_402_300_799;

export function registerMarketRoutes(server: FastifyInstance, app: App): void {
  const symbolsOf = (symbol: string | undefined) => (symbol === undefined || symbol === 'all' ? app.exchange.markets.map((m) => m.symbol) : [app.exchange.market(symbol).symbol]);

  const tickers = async (request: FastifyRequest) => {
    const q = requestParams(request);
    const symbols = symbolsOf(required(q, 'symbol'));
    const data = await Promise.all(symbols.map(async (symbol) => ({ symbol, ticker: await app.candles.dayStats(symbol, app.now()), timestamp: app.now() })));
    return success(data, app.now());
  };
  server.get('/v2/ticker/24hr.do', tickers);
  server.get('/v2/ticker.do', tickers);

  server.get('/v2/kline.do', async (request) => {
    const q = requestParams(request);
    const symbol = required(q, 'symbol');
    required(q, 'size');
    const size = integerParam(q, 'size', 0, 1, 2000);
    const type = required(q, 'type');
    if (!isKlineType(type)) throw new LbankError(10003, `type must be one of ${KLINE_TYPES.join(', ')}`);
    // LBank documents time as required; its SDKs leave it out for the newest candles, which is what they get.
    const time = optional(q, 'time') === undefined ? undefined : integerParam(q, 'time', 0, 0, MAX_TIME_SECONDS);
    const candles = await app.candles.klines(symbol, type, time, size);
    // As LBank: the bucket's start in seconds, then numbers (ccxt reads them either way).
    return success(
      candles.map((c) => [c.start / 1000, Number(c.open), Number(c.high), Number(c.low), Number(c.close), Number(c.volume)]),
      app.now(),
    );
  });

  server.get('/v2/depth.do', async (request) => {
    const q = requestParams(request);
    const symbol = required(q, 'symbol');
    const size = integerParam(q, 'size', 60, 1, 200);
    const depth = await app.exchange.depth(symbol, size);
    return success({ asks: depth.asks, bids: depth.bids, timestamp: app.now() }, app.now());
  });

  // Incremental depth. incrDepth answers the book with its version, from which the WebSocket's
  // incrdepth changes go on (each names the version it applies to); `merge` (price merging) is accepted
  // and not applied, as on depth. supplement/incrDepth answers only asks and bids, the shape LBank's
  // Java SDK reads strictly (an unknown field fails it).
  server.get('/v2/incrDepth.do', async (request) => {
    const q = requestParams(request);
    const symbol = required(q, 'symbol');
    integerParam(q, 'merge', 0, 0, 18);
    const depth = await app.exchange.depth(symbol, DEPTH_LEVELS);
    return success({ asks: depth.asks, bids: depth.bids, version: depth.version, timestamp: app.now() }, app.now());
  });

  server.get('/v2/supplement/incrDepth.do', async (request) => {
    const q = requestParams(request);
    const symbol = required(q, 'symbol');
    const depth = await app.exchange.depth(symbol, integerParam(q, 'limit', 100, 1, DEPTH_LEVELS));
    return success({ asks: depth.asks, bids: depth.bids }, app.now());
  });

  /** Recent trades of the market in `symbol`, newest first; `time` keeps those at or after it. */
  const recentTrades = async (q: Record<string, string>, defaultSize: number) => {
    const time = optional(q, 'time');
    // LBank documents 600 at most for trades and 500 for supplement/trades; ccxt asks both for 600.
    return app.exchange.publicTrades(required(q, 'symbol'), integerParam(q, 'size', defaultSize, 1, 600), time === undefined ? undefined : integerParam(q, 'time', 0, 0, Number.MAX_SAFE_INTEGER));
  };

  server.get('/v2/trades.do', async (request) => {
    const trades = await recentTrades(requestParams(request), 600);
    return success(
      trades.map((t) => ({ date_ms: t.created_at, amount: t.quantity, price: t.price, type: t.taker_side, tid: String(t.id) })),
      app.now(),
    );
  });

  server.get('/v2/supplement/trades.do', async (request) => {
    const trades = await recentTrades(requestParams(request), 500);
    return success(
      trades.map((t) => ({ quoteQty: t.quote_quantity, price: t.price, qty: t.quantity, id: String(t.id), time: t.created_at, isBuyerMaker: t.taker_side === 'sell' })),
      app.now(),
    );
  });

  server.get('/v2/supplement/ticker/price.do', async (request) => {
    const q = requestParams(request);
    const symbols = symbolsOf(optional(q, 'symbol'));
    const data = await Promise.all(symbols.map(async (symbol) => ({ symbol, price: (await app.exchange.publicTrades(symbol, 1))[0]?.price ?? '0' })));
    return success(data, app.now());
  });

  server.get('/v2/supplement/ticker/bookTicker.do', async (request) => {
    const q = requestParams(request);
    const symbol = app.exchange.market(required(q, 'symbol')).symbol;
    const depth = await app.exchange.depth(symbol, 1);
    const [bid, ask] = [depth.bids[0], depth.asks[0]];
    return success({ symbol, askPrice: ask?.[0] ?? '0', askQty: ask?.[1] ?? '0', bidPrice: bid?.[0] ?? '0', bidQty: bid?.[1] ?? '0' }, app.now());
  });
}
