// Order intake: runs on every server, for every market. An order is checked, its funds frozen and
// the order stored in one commit (shared with concurrent orders: group commit) before anything else;
// then the market's engine — on this server or another — is woken through the bus, and the answer
// waits a little for the engine's word so that it can tell what happened. A cancellation is stored as
// a request that the engine applies in turn, so that only the engine ever changes a resting order.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { marketAssets, type Market } from '../domain/markets.js';
import type { Metrics } from '../metrics.js';
import { frozenFor, isFinal, OrderStatus, type OrderIntent } from '../domain/orders.js';
import { BatchWriter, type DeferredWrites } from '../storage/batch-writer.js';
import type { Database } from '../storage/database.js';
import { customIdTaken, findUserOrder, insertOrder, requestOrderCancel, type OrderRow } from '../storage/exchange.js';
import type { Schema } from '../storage/schema.js';
import { BUS_CHANNELS, publishBalanceTouches, type EngineReport, type EventBus } from './event-bus.js';
import { ExchangeError } from './exchange-errors.js';
import { BalanceDeltas } from './market-engine.js';

/**
 * How long an answer waits for the engine. Past it the order is still durable and will be matched
 * (a market whose server died is taken over within seconds): the answer says what is known then.
 */
export const ENGINE_WAIT_MS = 3000;

type Outcome = EngineReport['done'][number];

export class OrderIntake {
  readonly #writer: BatchWriter;
  readonly #waiters = new Map<string, Array<(outcome: Outcome | undefined) => void>>();

  constructor(
    private readonly database: Database,
    private readonly bus: EventBus,
    private readonly scaleOf: (asset: string) => number,
    private readonly now: () => number,
    private readonly metrics: Metrics,
  ) {
    this.#writer = new BatchWriter(database.db, database.dialect, 256, async () => undefined);
    bus.subscribe(BUS_CHANNELS.engine, (payload) => {
      const report = JSON.parse(payload) as EngineReport;
      for (const outcome of report.done) this.#settle(outcome.orderId, outcome);
    });
  }

  async place(userId: number, market: Market, intent: OrderIntent, customId: string | undefined): Promise<OrderRow> {
    const orderId = randomUUID();
    // Waiting starts before the commit: the engine may take the order the moment it is committed.
    const word = this.#wait(orderId);
    let placed: OrderRow;
    try {
      placed = await this.#writer.submit((trx, deferred) => this.#store(trx, deferred, orderId, userId, market, intent, customId));
    } catch (error) {
      this.#settle(orderId, undefined);
      throw error;
    }
    this.metrics.ordersPlaced.inc({ market: market.symbol });
    this.#wake(market.symbol);
    publishBalanceTouches(this.bus, [{ userId, asset: placed.frozen_asset }]);
    const outcome = await word;
    if (outcome?.refused === 'post_only_would_take') throw new ExchangeError('post_only_would_take', 'A post-only (maker) order would have taken liquidity, so it was cancelled unfilled');
    return (await findUserOrder(this.database.db, userId, { orderId: placed.order_id })) ?? placed;
  }

  /** Asks the engine to cancel; answers with the order once cancelled, or as cancelling (4) if the engine is slow. */
  async cancel(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    const order = await this.#cancellable(userId, ref, symbol);
    const word = this.#wait(order.order_id);
    await requestOrderCancel(this.database.db, order.order_id, order.symbol, this.now());
    this.#wake(order.symbol);
    return this.#afterCancel(userId, order, await word);
  }

  async cancelAll(userId: number, symbol: string): Promise<OrderRow[]> {
    const open = await this.database.db
      .selectFrom('orders')
      .selectAll()
      .where('user_id', '=', userId)
      .where('symbol', '=', symbol)
      .where('status', 'in', [OrderStatus.unfilled, OrderStatus.partiallyFilled])
      .orderBy('id')
      .execute();
    if (open.length === 0) return [];
    const words = open.map((order) => this.#wait(order.order_id));
    await this.database.db.transaction().execute(async (trx) => {
      for (const order of open) await requestOrderCancel(trx, order.order_id, symbol, this.now());
    });
    this.#wake(symbol);
    return Promise.all(open.map(async (order, i) => this.#afterCancel(userId, order, await words[i])));
  }

  /** Resolves when every accepted write has been committed (tests, shutdown). */
  idle(): Promise<void> {
    return this.#writer.idle();
  }

  async #cancellable(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    const order = await findUserOrder(this.database.db, userId, ref);
    if (!order || (symbol !== undefined && order.symbol !== symbol.toLowerCase())) throw new ExchangeError('unknown_order', 'No such order');
    if (order.status === OrderStatus.filled) throw new ExchangeError('already_filled', 'The order has been filled');
    if (isFinal(order.status)) throw new ExchangeError('already_cancelled', 'The order has been cancelled');
    return order;
  }

  async #afterCancel(userId: number, order: OrderRow, outcome: Outcome | undefined): Promise<OrderRow> {
    const now = (await findUserOrder(this.database.db, userId, { orderId: order.order_id })) ?? order;
    return outcome || isFinal(now.status) ? now : { ...now, status: OrderStatus.cancelling };
  }

  async #store(trx: Transaction<Schema>, deferred: DeferredWrites, orderId: string, userId: number, market: Market, intent: OrderIntent, customId: string | undefined): Promise<OrderRow> {
    if (customId && (await customIdTaken(trx, userId, customId))) {
      throw new ExchangeError('duplicate_custom_id', `custom_id ${customId.slice(0, 40)} is already used by another of your orders`);
    }
    const at = this.now();
    const frozen = frozenFor(market, intent, this.scaleOf(marketAssets(market.symbol).quote));
    const balances = new BalanceDeltas(deferred);
    balances.requireAvailable(userId, frozen.asset, frozen.amount);
    balances.add({ userId, asset: frozen.asset, availableDelta: frozen.amount.neg(), frozenDelta: frozen.amount, reason: 'order_freeze', refType: 'order', refId: orderId, at });
    await balances.write(trx, (asset, needed) => new ExchangeError('insufficient_balance', `Insufficient ${asset} balance: the order needs ${needed}`));
    return insertOrder(trx, {
      order_id: orderId,
      user_id: userId,
      symbol: market.symbol,
      type: intent.type.name,
      price: intent.price?.toFixed() ?? null,
      quantity: intent.quantity?.toFixed() ?? null,
      quote_budget: intent.quoteBudget?.toFixed() ?? null,
      executed_qty: '0',
      executed_quote: '0',
      remaining_qty: '0',
      frozen_asset: frozen.asset,
      frozen_remaining: frozen.amount.toFixed(),
      status: OrderStatus.unfilled,
      custom_id: customId ?? null,
      created_at: at,
      updated_at: at,
      matched: 0,
    });
  }

  /** The engine's word on this order, or undefined if it does not come within ENGINE_WAIT_MS. */
  #wait(orderId: string): Promise<Outcome | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle(orderId, undefined), ENGINE_WAIT_MS);
      const waiters = this.#waiters.get(orderId) ?? [];
      waiters.push((outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      this.#waiters.set(orderId, waiters);
    });
  }

  /** Tells the market's engine, wherever it runs, that work waits (it also polls, should this be lost). */
  #wake(symbol: string): void {
    void this.bus.publish(BUS_CHANNELS.intake, symbol).catch(() => undefined);
  }

  #settle(orderId: string, outcome: Outcome | undefined): void {
    const waiters = this.#waiters.get(orderId);
    if (!waiters) return;
    this.#waiters.delete(orderId);
    for (const waiter of waiters) waiter(outcome);
  }
}
