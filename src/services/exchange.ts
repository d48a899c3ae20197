// The sandbox spot exchange as the routes see it, on every server: market rules, order intake (any
// server, any market), market data and account views read from the database, and the engines of the
// markets this server holds (market-leases.ts). What runs once per market is in market-engine.ts.
import type { Logger } from 'pino';
import type { OrderBook } from '../domain/matching.js';
import { marketAssets, type Market, type MarketCatalogue } from '../domain/markets.js';
import { checkOrder, type OrderIntent } from '../domain/orders.js';
import type { Metrics } from '../metrics.js';
import type { Database } from '../storage/database.js';
import {
  findFeeRatesOf,
  findOrdersByIds,
  findUserOrder,
  listOrderTrades,
  listRecentTrades,
  listUserOrders,
  listUserTrades,
  readMarketDepth,
  setFeeRates,
  type OrderQuery,
  type OrderRow,
  type StoredDepth,
  type TradeRow,
} from '../storage/exchange.js';
import type { EventBus } from './event-bus.js';
import { ExchangeError } from './exchange-errors.js';
import { DEFAULT_FEE_RATE } from './market-engine.js';
import { MarketLeases } from './market-leases.js';
import { OrderIntake, type PlacedOrder } from './order-intake.js';

export { ExchangeError, type ExchangeErrorCode } from './exchange-errors.js';
export { DEFAULT_FEE_RATE } from './market-engine.js';

export interface PlaceOrderRequest {
  symbol: string;
  type: string;
  price?: string | undefined;
  amount?: string | undefined;
  customId?: string | undefined;
}


export class ExchangeService {
  readonly #markets: Map<string, Market>;
  readonly #scales: Map<string, number>;
  readonly #intake: OrderIntake;
  readonly leases: MarketLeases;

  constructor(
    private readonly database: Database,
    catalogue: MarketCatalogue,
    private readonly now: () => number,
    bus: EventBus,
    logger: Logger,
    metrics: Metrics,
  ) {
    this.#markets = new Map(catalogue.markets.map((m) => [m.symbol, m]));
    this.#scales = new Map(catalogue.assets.map((a) => [a.code, a.scale]));
    const scaleOf = (asset: string) => this.scaleOf(asset);
    this.#intake = new OrderIntake(database, bus, scaleOf, now, metrics);
    this.leases = new MarketLeases(database, catalogue.markets, scaleOf, now, bus, logger, metrics);
  }

  market(symbol: string): Market {
    const market = this.#markets.get(symbol.toLowerCase());
    if (!market) throw new ExchangeError('unknown_market', `Unknown trading pair ${symbol.slice(0, 40)}`);
    return market;
  }

  scaleOf(asset: string): number {
    return this.#scales.get(asset) ?? 8;
  }

  /** Starts this server's share of the markets' engines (the CLI starts none). */
  async start(): Promise<void> {
    await this.leases.start();
  }

  /** The in-memory book of a market whose engine runs on this server (tests look inside it). */
  book(symbol: string): OrderBook | undefined {
    return this.leases.engine(this.market(symbol).symbol)?.book;
  }

  /**
   * The top of a market's book as its engine last committed it, whichever server runs it, with the
   * book's version (it rises with every batch the engine commits).
   */
  async depth(symbol: string, size: number): Promise<StoredDepth> {
    const depth = await readMarketDepth(this.database.db, this.market(symbol).symbol);
    return { ...depth, asks: depth.asks.slice(0, size), bids: depth.bids.slice(0, size) };
  }

  /** Validates an order as placing it would, without placing it. */
  check(request: PlaceOrderRequest): OrderIntent {
    const market = this.market(request.symbol);
    return checkOrder(market, request.type, request.price, request.amount, this.scaleOf(marketAssets(market.symbol).quote));
  }

  async placeOrder(userId: number, request: PlaceOrderRequest): Promise<PlacedOrder> {
    const market = this.market(request.symbol);
    return this.#intake.place(userId, market, this.check(request), request.customId);
  }

  async cancelOrder(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    return this.#intake.cancel(userId, ref, symbol);
  }

  /** Cancels every open order of the user in a market; returns the cancelled orders. */
  async cancelAll(userId: number, symbol: string): Promise<OrderRow[]> {
    return this.#intake.cancelAll(userId, this.market(symbol).symbol);
  }

  async order(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    const order = await findUserOrder(this.database.db, userId, ref);
    if (!order || (symbol !== undefined && order.symbol !== this.market(symbol).symbol)) throw new ExchangeError('unknown_order', 'No such order');
    return order;
  }

  /** These orders of the account, those that exist. */
  async ordersOf(userId: number, orderIds: readonly string[]): Promise<OrderRow[]> {
    return (await findOrdersByIds(this.database.db, [...orderIds])).filter((o) => o.user_id === userId);
  }

  async orders(query: OrderQuery): Promise<{ rows: OrderRow[]; total: number }> {
    if (query.symbol !== undefined) query = { ...query, symbol: this.market(query.symbol).symbol };
    return listUserOrders(this.database.db, query);
  }

  /** The account's trades with the type of the account's order in each (for LBank's tradeType). */
  async trades(userId: number, filter: { symbol: string; orderId?: string; since?: number; until?: number; limit?: number }): Promise<{ trades: TradeRow[]; orderTypes: Map<string, string> }> {
    const symbol = this.market(filter.symbol).symbol;
    const trades = filter.orderId
      ? (await listOrderTrades(this.database.db, filter.orderId)).filter((t) => t.symbol === symbol && (t.maker_user_id === userId || t.taker_user_id === userId))
      : await listUserTrades(this.database.db, userId, symbol, filter.since ?? 0, filter.until ?? Number.MAX_SAFE_INTEGER, filter.limit ?? 100);
    const ids = [...new Set(trades.flatMap((t) => [t.maker_order_id, t.taker_order_id]))];
    const orderTypes = new Map<string, string>();
    if (ids.length > 0) {
      for (const row of await this.database.db.selectFrom('orders').select(['order_id', 'type']).where('order_id', 'in', ids).where('user_id', '=', userId).execute()) {
        orderTypes.set(row.order_id, row.type);
      }
    }
    return { trades, orderTypes };
  }

  async publicTrades(symbol: string, limit: number, since?: number): Promise<TradeRow[]> {
    return listRecentTrades(this.database.db, this.market(symbol).symbol, limit, since);
  }

  async feeRates(userId: number): Promise<{ maker: string; taker: string }> {
    const [rates] = await findFeeRatesOf(this.database.db, [userId]);
    return rates ? { maker: rates.maker, taker: rates.taker } : { maker: DEFAULT_FEE_RATE, taker: DEFAULT_FEE_RATE };
  }

  /** Overrides an account's maker and taker fee rates (fractions, e.g. 0.001 for 0.1%). */
  async setFeeRates(userId: number, maker: string, taker: string): Promise<void> {
    for (const [name, rate] of [['maker', maker], ['taker', taker]] as const) {
      if (!/^(0|0\.\d{1,8}|1)$/.test(rate)) throw new ExchangeError('invalid_fee_rate', `The ${name} fee rate must be a fraction from 0 to 1, e.g. 0.001 for 0.1%`);
    }
    await setFeeRates(this.database.db, userId, maker, taker);
  }

  get markets(): Market[] {
    return [...this.#markets.values()];
  }

  /** Waits until every accepted write has been committed and this server's engines are idle (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#intake.idle();
    await this.leases.idle();
  }

  async stop(): Promise<void> {
    await this.#intake.idle();
    await this.leases.stop();
  }
}
