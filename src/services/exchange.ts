// The sandbox spot exchange: placing and cancelling orders against in-memory books, with every
// balance change, trade and order state written in the same transaction before the answer goes out.
// One process owns the books (they are rebuilt from the database on start), so one server runs the
// exchange; its writes go through a BatchWriter that shares each commit among concurrent orders.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { Decimal, LedgerError } from '../domain/ledger.js';
import { OrderBook, type Fill, type MatchPlan } from '../domain/matching.js';
import { marketAssets, type Market, type MarketCatalogue } from '../domain/markets.js';
import { checkOrder, frozenFor, isFinal, OrderStatus, type OrderIntent } from '../domain/orders.js';
import { BatchWriter, DeferredWrites } from '../storage/batch-writer.js';
import type { Database } from '../storage/database.js';
import {
  customIdTaken,
  findFeeRatesOf,
  findOrderById,
  findUserOrder,
  insertOrder,
  listOpenOrdersOfMarket,
  listOrderTrades,
  listRecentTrades,
  listUserOrders,
  listUserTrades,
  setFeeRates,
  updateOrderProgress,
  type OrderQuery,
  type OrderRow,
  type TradeRow,
} from '../storage/exchange.js';
import { writeBalances, type BalanceChange } from '../storage/ledger.js';
import type { Schema } from '../storage/schema.js';

export const DEFAULT_FEE_RATE = '0.001';

export type ExchangeErrorCode =
  | 'unknown_market'
  | 'duplicate_custom_id'
  | 'insufficient_balance'
  | 'post_only_would_take'
  | 'unknown_order'
  | 'already_filled'
  | 'already_cancelled'
  | 'invalid_fee_rate'
  | 'exchange_elsewhere';

export class ExchangeError extends Error {
  constructor(
    readonly code: ExchangeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

export interface PlaceOrderRequest {
  symbol: string;
  type: string;
  price?: string | undefined;
  amount?: string | undefined;
  customId?: string | undefined;
}

const ZERO = new Decimal(0);

/**
 * The balance changes of one order, summed per account and asset so that each balance row is written
 * once; every change is still journaled on its own.
 */
class BalanceDeltas {
  readonly #sums = new Map<string, { userId: number; asset: string; available: Decimal; frozen: Decimal; required?: Decimal }>();

  constructor(private readonly deferred: DeferredWrites) {}

  #entry(userId: number, asset: string) {
    const id = `${userId}:${asset}`;
    let entry = this.#sums.get(id);
    if (!entry) {
      entry = { userId, asset, available: ZERO, frozen: ZERO };
      this.#sums.set(id, entry);
    }
    return entry;
  }

  /** The available amount the account must hold before any change (what an order freezes). */
  requireAvailable(userId: number, asset: string, amount: Decimal): void {
    this.#entry(userId, asset).required = amount;
  }

  add(change: BalanceChange): void {
    const entry = this.#entry(change.userId, change.asset);
    entry.available = entry.available.plus(change.availableDelta);
    entry.frozen = entry.frozen.plus(change.frozenDelta);
    this.deferred.journal.push(change);
  }

  async write(trx: Transaction<Schema>, insufficient?: (asset: string, needed: string) => Error): Promise<void> {
    const deltas = [...this.#sums.values()]
      .filter((e) => e.required !== undefined || !e.available.isZero() || !e.frozen.isZero())
      .map((e) => ({ userId: e.userId, asset: e.asset, availableDelta: e.available, frozenDelta: e.frozen, requiredAvailable: e.required }));
    try {
      await writeBalances(trx, deltas);
    } catch (error) {
      if (insufficient && error instanceof LedgerError && error.rule === 'insufficient_balance') {
        const short = deltas.find((d) => d.requiredAvailable !== undefined);
        throw insufficient(short?.asset ?? '', short?.requiredAvailable?.toFixed() ?? '');
      }
      throw error;
    }
  }
}

export class ExchangeService {
  readonly #markets: Map<string, Market>;
  readonly #scales: Map<string, number>;
  readonly #books = new Map<string, OrderBook>();
  readonly #writer: BatchWriter;
  #running = false;

  constructor(
    private readonly database: Database,
    catalogue: MarketCatalogue,
    private readonly now: () => number,
  ) {
    this.#markets = new Map(catalogue.markets.map((m) => [m.symbol, m]));
    this.#scales = new Map(catalogue.assets.map((a) => [a.code, a.scale]));
    this.#writer = new BatchWriter(database.db, 256, async () => this.rebuildBooks());
  }

  market(symbol: string): Market {
    const market = this.#markets.get(symbol.toLowerCase());
    if (!market) throw new ExchangeError('unknown_market', `Unknown trading pair ${symbol.slice(0, 40)}`);
    return market;
  }

  scaleOf(asset: string): number {
    return this.#scales.get(asset) ?? 8;
  }

  book(symbol: string): OrderBook {
    const market = this.market(symbol);
    this.#requireRunning();
    let book = this.#books.get(market.symbol);
    if (!book) {
      book = new OrderBook(market.quantityAccuracy, this.scaleOf(marketAssets(market.symbol).quote));
      this.#books.set(market.symbol, book);
    }
    return book;
  }

  /**
   * Takes the matching engine's role and rebuilds the books. Only one process may match (the books are
   * in its memory); on other servers sharing a PostgreSQL database the exchange refuses to trade.
   */
  async start(): Promise<boolean> {
    this.#running = await this.database.claimExclusiveRole('exchange', () => {
      // The database connection that held the role broke: another server may now be matching.
      this.#running = false;
    });
    if (this.#running) await this.rebuildBooks();
    return this.#running;
  }

  get running(): boolean {
    return this.#running;
  }

  #requireRunning(): void {
    if (!this.#running) {
      throw new ExchangeError('exchange_elsewhere', 'The sandbox exchange runs on another Keygate server sharing this database: send trading and market-data requests there');
    }
  }

  /** Rebuilds every book from the resting orders in the database (on start, and after a lost batch). */
  async rebuildBooks(): Promise<void> {
    this.#books.clear();
    for (const market of this.#markets.values()) {
      const book = this.book(market.symbol);
      for (const row of await listOpenOrdersOfMarket(this.database.db, market.symbol)) {
        book.add({ id: row.order_id, userId: row.user_id, side: row.type.startsWith('buy') ? 'buy' : 'sell', price: new Decimal(row.price!), remaining: new Decimal(row.remaining_qty), seq: row.id });
      }
    }
  }

  /** Validates an order as placing it would, without placing it. */
  check(request: PlaceOrderRequest): OrderIntent {
    const market = this.market(request.symbol);
    return checkOrder(market, request.type, request.price, request.amount, this.scaleOf(marketAssets(market.symbol).quote));
  }

  async placeOrder(userId: number, request: PlaceOrderRequest): Promise<OrderRow> {
    this.#requireRunning();
    const market = this.market(request.symbol);
    const intent = this.check(request);
    return this.#writer.submit((trx, deferred) => this.#place(trx, deferred, userId, market, intent, request.customId));
  }

  async cancelOrder(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    this.#requireRunning();
    return this.#writer.submit((trx, deferred) => this.#cancel(trx, deferred, userId, ref, symbol));
  }

  /** Cancels every open order of the user in a market; returns the cancelled orders. */
  async cancelAll(userId: number, symbol: string): Promise<OrderRow[]> {
    this.#requireRunning();
    const market = this.market(symbol);
    return this.#writer.submit(async (trx, deferred) => {
      const open = await trx
        .selectFrom('orders')
        .selectAll()
        .where('user_id', '=', userId)
        .where('symbol', '=', market.symbol)
        .where('status', 'in', [OrderStatus.unfilled, OrderStatus.partiallyFilled])
        .orderBy('id')
        .execute();
      const cancelled: OrderRow[] = [];
      for (const order of open) cancelled.push(await this.#cancel(trx, deferred, userId, { orderId: order.order_id }, market.symbol));
      return cancelled;
    });
  }

  async order(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    const order = await findUserOrder(this.database.db, userId, ref);
    if (!order || (symbol !== undefined && order.symbol !== this.market(symbol).symbol)) throw new ExchangeError('unknown_order', 'No such order');
    return order;
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

  /** 24-hour statistics from the trades of the last day. */
  async dayStats(symbol: string): Promise<{ high: string; low: string; latest: string; change: string; vol: string; turnover: string }> {
    const market = this.market(symbol);
    const trades = await listRecentTrades(this.database.db, market.symbol, 1_000_000, this.now() - 24 * 60 * 60 * 1000);
    const last = trades[0] ?? (await listRecentTrades(this.database.db, market.symbol, 1))[0];
    if (trades.length === 0) {
      const latest = last?.price ?? '0';
      return { high: latest, low: latest, latest, change: '0', vol: '0', turnover: '0' };
    }
    let high = new Decimal(trades[0]!.price);
    let low = high;
    let vol = ZERO;
    let turnover = ZERO;
    for (const t of trades) {
      const price = new Decimal(t.price);
      if (price.gt(high)) high = price;
      if (price.lt(low)) low = price;
      vol = vol.plus(t.quantity);
      turnover = turnover.plus(t.quote_quantity);
    }
    const first = new Decimal(trades[trades.length - 1]!.price);
    const latest = new Decimal(trades[0]!.price);
    return {
      high: high.toFixed(),
      low: low.toFixed(),
      latest: latest.toFixed(),
      change: latest.minus(first).div(first).times(100).toDecimalPlaces(2).toFixed(),
      vol: vol.toFixed(),
      turnover: turnover.toFixed(),
    };
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

  /** Waits until every accepted write has been committed (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#writer.idle();
  }

  /** Maker and taker rates of the accounts in an order, in one query. */
  async #feeRates(trx: Transaction<Schema>, userIds: number[]): Promise<Map<number, { maker: Decimal; taker: Decimal }>> {
    const found = new Map((await findFeeRatesOf(trx, userIds)).map((r) => [r.user_id, r]));
    return new Map(userIds.map((id) => [id, { maker: new Decimal(found.get(id)?.maker ?? DEFAULT_FEE_RATE), taker: new Decimal(found.get(id)?.taker ?? DEFAULT_FEE_RATE) }]));
  }

  async #place(trx: Transaction<Schema>, deferred: DeferredWrites, userId: number, market: Market, intent: OrderIntent, customId: string | undefined): Promise<OrderRow> {
    if (customId && (await customIdTaken(trx, userId, customId))) {
      throw new ExchangeError('duplicate_custom_id', `custom_id ${customId.slice(0, 40)} is already used by another of your orders`);
    }
    const { base, quote } = marketAssets(market.symbol);
    const book = this.book(market.symbol);
    const plan = book.plan({ side: intent.type.side, timeInForce: intent.type.timeInForce, price: intent.price, quantity: intent.quantity, quoteBudget: intent.quoteBudget });
    if (plan.refused === 'post_only_would_take') throw new ExchangeError('post_only_would_take', 'A post-only (maker) order would have taken liquidity, so it was not placed');

    const at = this.now();
    const orderId = randomUUID();
    const frozen = frozenFor(market, intent, this.scaleOf(quote));
    const balances = new BalanceDeltas(deferred);
    balances.requireAvailable(userId, frozen.asset, frozen.amount);
    balances.add({ userId, asset: frozen.asset, availableDelta: frozen.amount.neg(), frozenDelta: frozen.amount, reason: 'order_freeze', refType: 'order', refId: orderId, at });

    const makers = new Map<string, OrderRow>();
    for (const fill of plan.fills) {
      if (!makers.has(fill.maker.id)) {
        const maker = await findOrderById(trx, fill.maker.id);
        if (!maker) throw new Error(`Resting order ${fill.maker.id} is missing from storage`);
        makers.set(maker.order_id, maker);
      }
    }
    const rates = await this.#feeRates(trx, [...new Set([userId, ...[...makers.values()].map((m) => m.user_id)])]);

    let frozenRemaining = frozen.amount;
    for (const fill of plan.fills) {
      const maker = makers.get(fill.maker.id)!;
      const buyerIsTaker = intent.type.side === 'buy';
      const buyerId = buyerIsTaker ? userId : maker.user_id;
      const sellerId = buyerIsTaker ? maker.user_id : userId;
      const buyerRate = buyerIsTaker ? rates.get(userId)!.taker : rates.get(maker.user_id)!.maker;
      const sellerRate = buyerIsTaker ? rates.get(maker.user_id)!.maker : rates.get(userId)!.taker;
      // Each side pays from what it froze and receives the other asset less its fee, in that asset.
      const buyerFee = fill.quantity.times(buyerRate).toDecimalPlaces(this.scaleOf(base), Decimal.ROUND_DOWN);
      const sellerFee = fill.quoteQuantity.times(sellerRate).toDecimalPlaces(this.scaleOf(quote), Decimal.ROUND_DOWN);
      const ref = { reason: 'trade', refType: 'order', refId: orderId, at };
      balances.add({ userId: buyerId, asset: quote, availableDelta: ZERO, frozenDelta: fill.quoteQuantity.neg(), ...ref });
      balances.add({ userId: buyerId, asset: base, availableDelta: fill.quantity.minus(buyerFee), frozenDelta: ZERO, ...ref });
      balances.add({ userId: sellerId, asset: base, availableDelta: ZERO, frozenDelta: fill.quantity.neg(), ...ref });
      balances.add({ userId: sellerId, asset: quote, availableDelta: fill.quoteQuantity.minus(sellerFee), frozenDelta: ZERO, ...ref });
      deferred.addFee(base, buyerFee);
      deferred.addFee(quote, sellerFee);
      const takerFee = buyerIsTaker ? buyerFee : sellerFee;
      const makerFee = buyerIsTaker ? sellerFee : buyerFee;
      deferred.trades.push({
        symbol: market.symbol,
        price: fill.price.toFixed(),
        quantity: fill.quantity.toFixed(),
        quote_quantity: fill.quoteQuantity.toFixed(),
        taker_side: intent.type.side,
        maker_order_id: maker.order_id,
        taker_order_id: orderId,
        maker_user_id: maker.user_id,
        taker_user_id: userId,
        maker_fee: makerFee.toFixed(),
        maker_fee_asset: buyerIsTaker ? quote : base,
        maker_fee_rate: (buyerIsTaker ? sellerRate : buyerRate).toFixed(),
        taker_fee: takerFee.toFixed(),
        taker_fee_asset: buyerIsTaker ? base : quote,
        taker_fee_rate: (buyerIsTaker ? buyerRate : sellerRate).toFixed(),
        created_at: at,
      });
      frozenRemaining = frozenRemaining.minus(buyerIsTaker ? fill.quoteQuantity : fill.quantity);
      makers.set(maker.order_id, this.#makerAfterFill(maker, fill, buyerIsTaker, balances, at));
    }
    for (const maker of makers.values()) await updateOrderProgress(trx, maker.order_id, maker);

    const resting = plan.restQuantity.gt(0);
    const status = this.#takerStatus(plan, intent, resting);
    // What a final order no longer needs goes back to the available balance.
    if (isFinal(status) && frozenRemaining.gt(0)) {
      balances.add({ userId, asset: frozen.asset, availableDelta: frozenRemaining, frozenDelta: frozenRemaining.neg(), reason: 'order_release', refType: 'order', refId: orderId, at });
      frozenRemaining = ZERO;
    }
    await balances.write(trx, (asset, needed) => new ExchangeError('insufficient_balance', `Insufficient ${asset} balance: the order needs ${needed}`));
    const row = await insertOrder(trx, {
      order_id: orderId,
      user_id: userId,
      symbol: market.symbol,
      type: intent.type.name,
      price: intent.price?.toFixed() ?? null,
      quantity: intent.quantity?.toFixed() ?? null,
      quote_budget: intent.quoteBudget?.toFixed() ?? null,
      executed_qty: plan.filledQuantity.toFixed(),
      executed_quote: plan.filledQuote.toFixed(),
      remaining_qty: plan.restQuantity.toFixed(),
      frozen_asset: frozen.asset,
      frozen_remaining: frozenRemaining.toFixed(),
      status,
      custom_id: customId ?? null,
      created_at: at,
      updated_at: at,
    });
    // Last, after every write of this order succeeded: the book changes.
    book.apply(plan, resting ? { id: orderId, userId, side: intent.type.side, price: intent.price!, seq: row.id } : undefined);
    return row;
  }

  #takerStatus(plan: MatchPlan, intent: OrderIntent, resting: boolean): number {
    const filledSome = plan.filledQuantity.gt(0);
    if (resting) return filledSome ? OrderStatus.partiallyFilled : OrderStatus.unfilled;
    if (intent.quantity ? plan.filledQuantity.gte(intent.quantity) : filledSome) {
      // A market buy is filled once its budget buys nothing more.
      return OrderStatus.filled;
    }
    return filledSome ? OrderStatus.partiallyFilledCancelled : OrderStatus.cancelled;
  }

  /** A resting order's state after a fill; a filled buy gets back what rounding left frozen. */
  #makerAfterFill(maker: OrderRow, fill: Fill, buyerIsTaker: boolean, balances: BalanceDeltas, at: number): OrderRow {
    const remaining = new Decimal(maker.remaining_qty).minus(fill.quantity);
    let frozenRemaining = new Decimal(maker.frozen_remaining).minus(buyerIsTaker ? fill.quantity : fill.quoteQuantity);
    const status = remaining.lte(0) ? OrderStatus.filled : OrderStatus.partiallyFilled;
    if (status === OrderStatus.filled && frozenRemaining.gt(0)) {
      balances.add({ userId: maker.user_id, asset: maker.frozen_asset, availableDelta: frozenRemaining, frozenDelta: frozenRemaining.neg(), reason: 'order_release', refType: 'order', refId: maker.order_id, at });
      frozenRemaining = ZERO;
    }
    return {
      ...maker,
      executed_qty: new Decimal(maker.executed_qty).plus(fill.quantity).toFixed(),
      executed_quote: new Decimal(maker.executed_quote).plus(fill.quoteQuantity).toFixed(),
      remaining_qty: remaining.toFixed(),
      frozen_remaining: frozenRemaining.toFixed(),
      status,
      updated_at: at,
    };
  }

  async #cancel(trx: Transaction<Schema>, deferred: DeferredWrites, userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    const order = await findUserOrder(trx, userId, ref);
    if (!order || (symbol !== undefined && order.symbol !== symbol.toLowerCase())) throw new ExchangeError('unknown_order', 'No such order');
    if (order.status === OrderStatus.filled) throw new ExchangeError('already_filled', 'The order has been filled');
    if (isFinal(order.status)) throw new ExchangeError('already_cancelled', 'The order has been cancelled');
    const at = this.now();
    const frozenRemaining = new Decimal(order.frozen_remaining);
    if (frozenRemaining.gt(0)) {
      const balances = new BalanceDeltas(deferred);
      balances.add({ userId, asset: order.frozen_asset, availableDelta: frozenRemaining, frozenDelta: frozenRemaining.neg(), reason: 'order_cancel', refType: 'order', refId: order.order_id, at });
      await balances.write(trx);
    }
    const progress = {
      executed_qty: order.executed_qty,
      executed_quote: order.executed_quote,
      remaining_qty: '0',
      frozen_remaining: '0',
      status: new Decimal(order.executed_qty).gt(0) ? OrderStatus.partiallyFilledCancelled : OrderStatus.cancelled,
      updated_at: at,
    };
    await updateOrderProgress(trx, order.order_id, progress);
    this.book(order.symbol).remove(order.order_id);
    return { ...order, ...progress };
  }
}
