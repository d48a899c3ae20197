// The matching engine of one market: runs once per market, on whichever server holds the market's
// lease. Orders reach it already durable with their funds frozen (order intake, on any server); it takes
// them in arrival order, matches them against the in-memory book, and commits fills, trades, balances,
// the new state of every order touched and the top of the book in one transaction per batch. Its
// epoch fences it: once another server has taken the market over, a batch of the old holder commits
// nothing.
import type { Logger } from 'pino';
import type { Transaction } from 'kysely';
import { Decimal } from '../domain/ledger.js';
import { OrderBook, type Fill, type MatchPlan } from '../domain/matching.js';
import { marketAssets, type Market } from '../domain/markets.js';
import { isFinal, OrderStatus, parseOrderType, type OrderIntent } from '../domain/orders.js';
import type { Metrics } from '../metrics.js';
import type { Database, Dialect } from '../storage/database.js';
import {
  addFeeIncomes,
  findFeeRatesOf,
  holdsMarketLease,
  holdsMarketLeaseWithRates,
  listOpenOrdersOfMarket,
  listOrderCancels,
  listWaitingOrders,
  findOrdersByIds,
  writeEngineBatch,
  type OrderRow,
  type TradeRow,
} from '../storage/exchange.js';
import { catchUpCandles, foldedCandles, rememberedCandle, type CandleMemory, type CandleRecord } from '../storage/candles.js';
import { writeBalances, type BalanceChange, type JournalEntry } from '../storage/ledger.js';
import type { Schema } from '../storage/schema.js';
import { BUS_CHANNELS, type EngineReport, type EventBus } from './event-bus.js';

export const DEFAULT_FEE_RATE = '0.001';
/** How many orders and cancellations one batch (one transaction) takes at most. */
const BATCH_LIMIT = 256;
/** How many accounts' fee rates a batch reads with its lease at most (the rest when met). */
const MAX_LIKELY_TRADERS = 500;
/** Levels of each side kept in market_depth: LBank's depth endpoint serves at most 200. */
export const DEPTH_LEVELS = 200;
const ZERO = new Decimal(0);
/** How many stored trades one transaction folds into candles while an engine catches up. */
const CANDLE_CATCH_UP_CHUNK = 1000;

/** The engine lost its market to another server (or the database connection): it stops. */
export class FencedOffError extends Error {
  constructor(symbol: string) {
    super(`Market ${symbol} is now run by another server`);
    this.name = 'FencedOffError';
  }
}

/** What a batch appends besides its orders' new state: journal and trade rows, and fee income. */
class DeferredWrites {
  readonly journal: JournalEntry[] = [];
  readonly trades: Array<Omit<TradeRow, 'id'>> = [];
  readonly feeIncome = new Map<string, Decimal>();

  addFee(asset: string, amount: Decimal): void {
    if (!amount.isZero()) this.feeIncome.set(asset, (this.feeIncome.get(asset) ?? new Decimal(0)).plus(amount));
  }
}

/**
 * The balance changes of a batch, summed per account and asset so that each balance row is written
 * once; every change is still journaled on its own.
 */
class BalanceDeltas {
  readonly #sums = new Map<string, { userId: number; asset: string; available: Decimal; frozen: Decimal }>();

  constructor(private readonly deferred: DeferredWrites) {}

  add(change: BalanceChange): void {
    const id = `${change.userId}:${change.asset}`;
    let entry = this.#sums.get(id);
    if (!entry) {
      entry = { userId: change.userId, asset: change.asset, available: ZERO, frozen: ZERO };
      this.#sums.set(id, entry);
    }
    entry.available = entry.available.plus(change.availableDelta);
    entry.frozen = entry.frozen.plus(change.frozenDelta);
    this.deferred.journal.push(change);
  }

  touched(): Array<{ userId: number; asset: string }> {
    return [...this.#sums.values()].map((e) => ({ userId: e.userId, asset: e.asset }));
  }

  async write(trx: Transaction<Schema>, dialect: Dialect): Promise<void> {
    const deltas = [...this.#sums.values()]
      .filter((e) => !e.available.isZero() || !e.frozen.isZero())
      .map((e) => ({ userId: e.userId, asset: e.asset, availableDelta: e.available, frozenDelta: e.frozen }));
    await writeBalances(trx, dialect, deltas);
  }
}

/** An account's rates: its own, or the default. */
function feeRates(own: { maker: string; taker: string } | undefined): { maker: Decimal; taker: Decimal } {
  return { maker: new Decimal(own?.maker ?? DEFAULT_FEE_RATE), taker: new Decimal(own?.taker ?? DEFAULT_FEE_RATE) };
}

/** An order as stored, read back as what it asks for. */
function intentOf(row: OrderRow): OrderIntent {
  return {
    type: parseOrderType(row.type)!,
    ...(row.price !== null && !row.type.endsWith('_market') ? { price: new Decimal(row.price) } : {}),
    ...(row.quantity !== null ? { quantity: new Decimal(row.quantity) } : {}),
    ...(row.quote_budget !== null ? { quoteBudget: new Decimal(row.quote_budget) } : {}),
  };
}

export interface MarketEngineOptions {
  database: Database;
  market: Market;
  scaleOf: (asset: string) => number;
  now: () => number;
  bus: EventBus;
  logger: Logger;
  metrics: Metrics;
  /** The lease epoch this engine holds the market at. */
  epoch: number;
  /** Called when the engine stops on its own (fenced off, or the database failed). */
  onStopped: (error: unknown) => void;
}

export class MarketEngine {
  readonly book: OrderBook;
  /** The rows of the orders resting on the book, so that filling one costs no read. */
  readonly #resting = new Map<string, OrderRow>();
  /** How many orders each account has resting (the makers a batch may meet). */
  readonly #restingUsers = new Map<number, number>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #again = false;
  /** Whether cancel requests may be waiting (told so, or not looked for since the engine started). */
  #cancelsWaiting = true;
  /** The candles this engine last wrote (it is their only writer while it holds the market). */
  #candles: CandleMemory = new Map();
  /** Whether the market's candles include every stored trade (see #catchUpCandles). */
  #candlesReady = false;
  readonly #base: string;
  readonly #quote: string;

  constructor(private readonly options: MarketEngineOptions) {
    const { base, quote } = marketAssets(options.market.symbol);
    this.#base = base;
    this.#quote = quote;
    this.book = new OrderBook(options.market.quantityAccuracy, options.scaleOf(quote));
  }

  get symbol(): string {
    return this.options.market.symbol;
  }

  async start(): Promise<void> {
    await this.#rebuild();
    this.wake();
  }

  /** There may be new work (cancel requests too, if said): take it now, or right after the batch under way. */
  wake(what: { cancels?: boolean } = {}): void {
    if (this.#stopped) return;
    if (what.cancels) this.#cancelsWaiting = true;
    if (this.#loop) {
      this.#again = true;
      return;
    }
    this.#loop = this.#run().finally(() => (this.#loop = undefined));
  }

  /** Finishes the batch under way and takes no more (handing the market over). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /** Resolves when nothing is waiting for this engine (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop;
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      try {
        if (!this.#candlesReady) await this.#catchUpCandles();
        while (!this.#stopped && (await this.#batch())) {
          // A synchronous driver never yields: let intake read the requests that arrived meanwhile.
          await new Promise<void>((resume) => setImmediate(resume));
        }
      } catch (error) {
        if (error instanceof FencedOffError) {
          this.#stopped = true;
          this.options.onStopped(error);
          return;
        }
        this.options.logger.error({ err: error, market: this.symbol }, 'matching batch failed; the book is rebuilt and the batch retried');
        await this.#rebuild().catch(() => undefined);
        await new Promise((resume) => setTimeout(resume, 200));
        this.#again = true;
      }
    } while (this.#again && !this.#stopped);
  }

  async #rebuild(): Promise<void> {
    this.#candles = new Map();
    this.book.clear();
    this.#resting.clear();
    this.#restingUsers.clear();
    for (const row of await listOpenOrdersOfMarket(this.options.database.db, this.symbol)) {
      this.#rest(row);
      this.book.add({ id: row.order_id, userId: row.user_id, side: row.type.startsWith('buy') ? 'buy' : 'sell', price: new Decimal(row.price!), remaining: new Decimal(row.remaining_qty), seq: row.id });
    }
  }

  /**
   * Folds into candles the trades they do not include yet — those stored before candles existed, or
   * by a server of an older version — before matching anything, a chunk per transaction, so that an
   * interrupted catch-up resumes where it stopped. Usually there is nothing to do.
   */
  async #catchUpCandles(): Promise<void> {
    const { database, epoch, logger } = this.options;
    let folded = 0;
    for (;;) {
      const count = await database.db.transaction().execute(async (trx) => {
        if (!(await holdsMarketLease(trx, this.symbol, epoch, database.dialect))) throw new FencedOffError(this.symbol);
        return catchUpCandles(trx, this.symbol, CANDLE_CATCH_UP_CHUNK);
      });
      folded += count;
      if (this.#stopped) return;
      if (count < CANDLE_CATCH_UP_CHUNK) break;
      await new Promise<void>((resume) => setImmediate(resume));
    }
    if (folded > 0) logger.info({ market: this.symbol, trades: folded }, 'Folded the market\'s earlier trades into its candles');
    this.#candlesReady = true;
  }

  /**
   * One batch; true when it was full, so that more may be waiting. Whatever arrives after the batch
   * was read comes with a wake (#again), or is found by the poll should the wake be lost, so a batch
   * that was not full needs no second look.
   */
  async #batch(): Promise<boolean> {
    const { database, epoch, now } = this.options;
    const lookForCancels = this.#cancelsWaiting;
    this.#cancelsWaiting = false;
    const [waiting, cancels] = await Promise.all([listWaitingOrders(database.db, this.symbol, BATCH_LIMIT), lookForCancels ? listOrderCancels(database.db, this.symbol, BATCH_LIMIT) : []]).catch((error: unknown) => {
      if (lookForCancels) this.#cancelsWaiting = true;
      throw error;
    });
    if (cancels.length === BATCH_LIMIT) this.#cancelsWaiting = true;
    if (waiting.length === 0 && cancels.length === 0) return false;
    const full = waiting.length === BATCH_LIMIT || cancels.length === BATCH_LIMIT;
    const at = now();
    const report: EngineReport = { symbol: this.symbol, done: [], orders: [], trades: [], balances: [], at };
    const deferred = new DeferredWrites();
    const balances = new BalanceDeltas(deferred);
    let filled = 0;
    let ended = 0;
    let tradeIds: number[] = [];
    let candles: CandleRecord[] = [];
    try {
      await database.db.transaction().execute(async (trx) => {
        // The rates of the batch's takers and of the accounts resting on the book (the makers it can
        // meet), read with the lease; a maker beyond those is read when met (#loadRates).
        const likely = this.#likelyTraders(waiting);
        const lease = await holdsMarketLeaseWithRates(trx, this.symbol, epoch, database.dialect, likely);
        if (!lease.held) throw new FencedOffError(this.symbol);
        const touched = new Map<string, OrderRow>();
        const rates = new Map<number, { maker: Decimal; taker: Decimal }>();
        const found = new Map(lease.rates.map((r) => [r.user_id, r]));
        for (const id of likely) rates.set(id, feeRates(found.get(id)));
        for (const order of waiting) await this.#match(trx, order, touched, balances, deferred, rates, report, at);
        // Cancellations after the orders of the batch: a cancellation can only follow its order.
        const cancelled = cancels.length > 0 ? await findOrdersByIds(trx, cancels.map((c) => c.order_id)) : [];
        for (const row of cancelled) this.#cancel(touched.get(row.order_id) ?? row, touched, balances, report, at);
        // The engine caught its candles up before matching, and it alone writes the market's trades and candles.
        candles = deferred.trades.length > 0 ? await foldedCandles(trx, this.symbol, deferred.trades.map((t) => ({ price: t.price, quantity: t.quantity, quoteQuantity: t.quote_quantity, at: t.created_at })), this.#candles) : [];
        const written = await writeEngineBatch(trx, database.dialect, {
          symbol: this.symbol,
          orders: [...touched.values()],
          journal: deferred.journal,
          trades: deferred.trades,
          candles,
          cancelIds: cancels.map((c) => c.id),
          depth: this.book.depth(DEPTH_LEVELS),
          at,
        });
        tradeIds = written.tradeIds;
        report.depthVersion = written.depthVersion;
        // Fee income, then balances, as a withdrawal's completion takes them, so that neither waits on the other.
        await addFeeIncomes(trx, database.dialect, [...deferred.feeIncome.keys()].sort().map((asset) => ({ asset, amount: deferred.feeIncome.get(asset)! })));
        // Last: the balances are rows that intake on every server locks too, so they stay locked the least.
        await balances.write(trx, database.dialect);
        for (const row of touched.values()) {
          report.orders.push({ orderId: row.order_id, userId: row.user_id, status: row.status });
          // Only orders still open are touched, so a final status here is a change made by this batch.
          if (row.status === OrderStatus.filled) filled++;
          else if (row.status === OrderStatus.cancelled || row.status === OrderStatus.partiallyFilledCancelled) ended++;
        }
      });
    } catch (error) {
      // Nothing of the batch was committed: the book goes back to what the database holds.
      if (cancels.length > 0) this.#cancelsWaiting = true;
      await this.#rebuild();
      throw error;
    }
    // The candles just written are those the next batch's trades most likely fall into.
    if (candles.length > 0) this.#candles = new Map(candles.map(rememberedCandle));
    this.#count(waiting, filled, ended, deferred.trades.length);
    report.balances = balances.touched();
    report.trades = deferred.trades.map((t, i) => ({ id: tradeIds[i], price: t.price, quantity: t.quantity, quoteQuantity: t.quote_quantity, takerSide: t.taker_side, at: t.created_at }));
    await this.options.bus.publish(BUS_CHANNELS.engine, JSON.stringify(report)).catch(() => undefined);
    return full;
  }

  /** What a committed batch did, for the metrics. */
  #count(waiting: readonly OrderRow[], filled: number, cancelled: number, trades: number): void {
    const { metrics, now } = this.options;
    const market = { market: this.symbol };
    if (filled > 0) metrics.ordersFilled.inc(market, filled);
    if (cancelled > 0) metrics.ordersCancelled.inc(market, cancelled);
    if (trades > 0) metrics.trades.inc(market, trades);
    const at = now();
    // On a fleet the order was stamped by another server's clock: a small skew may look negative.
    for (const order of waiting) metrics.engineLag.observe(market, Math.max(0, at - order.created_at) / 1000);
  }

  /** The accounts of the batch's orders and of the book's resting orders, up to MAX_LIKELY_TRADERS. */
  #likelyTraders(waiting: readonly OrderRow[]): number[] {
    // A batch of cancellations alone meets no maker.
    if (waiting.length === 0) return [];
    const ids = new Set(waiting.map((o) => o.user_id));
    for (const userId of this.#restingUsers.keys()) {
      if (ids.size >= MAX_LIKELY_TRADERS) break;
      ids.add(userId);
    }
    return [...ids].slice(0, MAX_LIKELY_TRADERS);
  }

  /** Loads the maker and taker rates of these accounts that the batch does not know yet, in one query. */
  async #loadRates(trx: Transaction<Schema>, userIds: number[], rates: Map<number, { maker: Decimal; taker: Decimal }>): Promise<void> {
    const missing = [...new Set(userIds)].filter((id) => !rates.has(id));
    if (missing.length === 0) return;
    const found = new Map((await findFeeRatesOf(trx, missing)).map((r) => [r.user_id, r]));
    for (const id of missing) rates.set(id, feeRates(found.get(id)));
  }

  async #match(trx: Transaction<Schema>, order: OrderRow, touched: Map<string, OrderRow>, balances: BalanceDeltas, deferred: DeferredWrites, rates: Map<number, { maker: Decimal; taker: Decimal }>, report: EngineReport, at: number): Promise<void> {
    const intent = intentOf(order);
    const { base, quote } = { base: this.#base, quote: this.#quote };
    const scaleOf = this.options.scaleOf;
    const plan = this.book.plan({ side: intent.type.side, timeInForce: intent.type.timeInForce, price: intent.price, quantity: intent.quantity, quoteBudget: intent.quoteBudget });
    let frozenRemaining = new Decimal(order.frozen_remaining);
    await this.#loadRates(trx, [order.user_id, ...plan.fills.map((f) => f.maker.userId)], rates);
    const taker = rates.get(order.user_id)!;
    if (plan.refused === 'post_only_would_take') {
      balances.add({ userId: order.user_id, asset: order.frozen_asset, availableDelta: frozenRemaining, frozenDelta: frozenRemaining.neg(), reason: 'order_release', refType: 'order', refId: order.order_id, at });
      touched.set(order.order_id, { ...order, remaining_qty: '0', frozen_remaining: '0', status: OrderStatus.cancelled, updated_at: at, matched: 1 });
      report.done.push({ orderId: order.order_id, refused: 'post_only_would_take' });
      return;
    }
    for (const fill of plan.fills) {
      const maker = touched.get(fill.maker.id) ?? this.#restingRow(fill.maker.id);
      const buyerIsTaker = intent.type.side === 'buy';
      const makerRates = rates.get(maker.user_id)!;
      const buyerId = buyerIsTaker ? order.user_id : maker.user_id;
      const sellerId = buyerIsTaker ? maker.user_id : order.user_id;
      const buyerRate = buyerIsTaker ? taker.taker : makerRates.maker;
      const sellerRate = buyerIsTaker ? makerRates.maker : taker.taker;
      // Each side pays from what it froze and receives the other asset less its fee, in that asset.
      const buyerFee = fill.quantity.times(buyerRate).toDecimalPlaces(scaleOf(base), Decimal.ROUND_DOWN);
      const sellerFee = fill.quoteQuantity.times(sellerRate).toDecimalPlaces(scaleOf(quote), Decimal.ROUND_DOWN);
      const ref = { reason: 'trade', refType: 'order', refId: order.order_id, at };
      balances.add({ userId: buyerId, asset: quote, availableDelta: ZERO, frozenDelta: fill.quoteQuantity.neg(), ...ref });
      balances.add({ userId: buyerId, asset: base, availableDelta: fill.quantity.minus(buyerFee), frozenDelta: ZERO, ...ref });
      balances.add({ userId: sellerId, asset: base, availableDelta: ZERO, frozenDelta: fill.quantity.neg(), ...ref });
      balances.add({ userId: sellerId, asset: quote, availableDelta: fill.quoteQuantity.minus(sellerFee), frozenDelta: ZERO, ...ref });
      deferred.addFee(base, buyerFee);
      deferred.addFee(quote, sellerFee);
      const takerFee = buyerIsTaker ? buyerFee : sellerFee;
      const makerFee = buyerIsTaker ? sellerFee : buyerFee;
      deferred.trades.push({
        symbol: this.symbol,
        price: fill.price.toFixed(),
        quantity: fill.quantity.toFixed(),
        quote_quantity: fill.quoteQuantity.toFixed(),
        taker_side: intent.type.side,
        maker_order_id: maker.order_id,
        taker_order_id: order.order_id,
        maker_user_id: maker.user_id,
        taker_user_id: order.user_id,
        maker_fee: makerFee.toFixed(),
        maker_fee_asset: buyerIsTaker ? quote : base,
        maker_fee_rate: (buyerIsTaker ? sellerRate : buyerRate).toFixed(),
        taker_fee: takerFee.toFixed(),
        taker_fee_asset: buyerIsTaker ? base : quote,
        taker_fee_rate: (buyerIsTaker ? buyerRate : sellerRate).toFixed(),
        created_at: at,
      });
      frozenRemaining = frozenRemaining.minus(buyerIsTaker ? fill.quoteQuantity : fill.quantity);
      const after = this.#makerAfterFill(maker, fill, buyerIsTaker, balances, at);
      touched.set(maker.order_id, after);
      if (isFinal(after.status)) this.#unrest(after.order_id);
      else this.#rest(after);
    }
    const resting = plan.restQuantity.gt(0);
    const status = takerStatus(plan, intent, resting);
    // What a final order no longer needs goes back to the available balance.
    if (isFinal(status) && frozenRemaining.gt(0)) {
      balances.add({ userId: order.user_id, asset: order.frozen_asset, availableDelta: frozenRemaining, frozenDelta: frozenRemaining.neg(), reason: 'order_release', refType: 'order', refId: order.order_id, at });
      frozenRemaining = ZERO;
    }
    const after = {
      ...order,
      executed_qty: plan.filledQuantity.toFixed(),
      executed_quote: plan.filledQuote.toFixed(),
      remaining_qty: plan.restQuantity.toFixed(),
      frozen_remaining: frozenRemaining.toFixed(),
      status,
      updated_at: at,
      matched: 1,
    };
    touched.set(order.order_id, after);
    if (resting) this.#rest(after);
    this.book.apply(plan, resting ? { id: order.order_id, userId: order.user_id, side: intent.type.side, price: intent.price!, seq: order.id } : undefined);
    report.done.push({ orderId: order.order_id });
  }

  #rest(row: OrderRow): void {
    if (!this.#resting.has(row.order_id)) this.#restingUsers.set(row.user_id, (this.#restingUsers.get(row.user_id) ?? 0) + 1);
    this.#resting.set(row.order_id, row);
  }

  #unrest(orderId: string): void {
    const row = this.#resting.get(orderId);
    if (!row) return;
    this.#resting.delete(orderId);
    const left = (this.#restingUsers.get(row.user_id) ?? 1) - 1;
    if (left > 0) this.#restingUsers.set(row.user_id, left);
    else this.#restingUsers.delete(row.user_id);
  }

  /** The stored row of a resting order, kept beside the book (both are rebuilt from the database together). */
  #restingRow(orderId: string): OrderRow {
    const row = this.#resting.get(orderId);
    if (!row) throw new Error(`Resting order ${orderId} is in the book but not among its rows`);
    return row;
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

  #cancel(order: OrderRow, touched: Map<string, OrderRow>, balances: BalanceDeltas, report: EngineReport, at: number): void {
    report.done.push({ orderId: order.order_id, cancellation: true });
    // Filled or cancelled meanwhile: nothing left to cancel; whoever asked reads the final state.
    if (isFinal(order.status)) return;
    const frozenRemaining = new Decimal(order.frozen_remaining);
    if (frozenRemaining.gt(0)) {
      balances.add({ userId: order.user_id, asset: order.frozen_asset, availableDelta: frozenRemaining, frozenDelta: frozenRemaining.neg(), reason: 'order_cancel', refType: 'order', refId: order.order_id, at });
    }
    touched.set(order.order_id, {
      ...order,
      remaining_qty: '0',
      frozen_remaining: '0',
      status: new Decimal(order.executed_qty).gt(0) ? OrderStatus.partiallyFilledCancelled : OrderStatus.cancelled,
      updated_at: at,
      matched: 1,
    });
    this.#unrest(order.order_id);
    this.book.remove(order.order_id);
  }
}

function takerStatus(plan: MatchPlan, intent: OrderIntent, resting: boolean): number {
  const filledSome = plan.filledQuantity.gt(0);
  if (resting) return filledSome ? OrderStatus.partiallyFilled : OrderStatus.unfilled;
  if (intent.quantity ? plan.filledQuantity.gte(intent.quantity) : filledSome) {
    // A market buy is filled once its budget buys nothing more.
    return OrderStatus.filled;
  }
  return filledSome ? OrderStatus.partiallyFilledCancelled : OrderStatus.cancelled;
}
