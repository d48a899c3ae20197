// Order intake: runs on every server, for every market. An order is checked, its funds frozen and
// the order stored in one commit (shared with concurrent orders: group commit) before anything else;
// then the market's engine — on this server or another — is woken through the bus, and the answer
// waits a little for the engine's word so that it can tell what happened. A cancellation is stored as
// a request that the engine applies in turn, so that only the engine ever changes a resting order.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { Decimal } from '../domain/ledger.js';
import { marketAssets, type Market } from '../domain/markets.js';
import type { Metrics } from '../metrics.js';
import { frozenFor, isFinal, OrderStatus, type OrderIntent } from '../domain/orders.js';
import { BatchConflict, BatchWriter, type Settled } from '../storage/batch-writer.js';
import type { Database } from '../storage/database.js';
import { findUserOrder, FREEZE_AT_ONCE_LIMIT, freezeAndInsertOrders, insertOrders, requestOrderCancel, takenCustomIds, type NewOrder, type OrderRow } from '../storage/exchange.js';
import { balanceIn, insertJournal, lockBalances, storeBalances, type JournalEntry } from '../storage/ledger.js';
import type { Schema } from '../storage/schema.js';
import { BUS_CHANNELS, publishBalanceTouches, type BalanceTouch, type EngineReport, type EventBus } from './event-bus.js';
import { ExchangeError } from './exchange-errors.js';

/**
 * How long an answer waits for the engine. Past it the order is still durable and will be matched
 * (a market whose server died is taken over within seconds): the answer says what is known then.
 */
export const ENGINE_WAIT_MS = 3000;

type Outcome = EngineReport['done'][number];

/**
 * What placing an order answers (LBank answers its id): the order is stored, and the engine has
 * taken it unless it did not answer within ENGINE_WAIT_MS; orders_info tells the rest.
 */
export type PlacedOrder = Pick<OrderRow, 'order_id' | 'symbol' | 'custom_id'>;

/** An order as intake stores it, with what it freezes. */
interface Placement {
  order: NewOrder;
  frozen: { asset: string; amount: Decimal };
}

export class OrderIntake {
  readonly #writer: BatchWriter<Placement, OrderRow>;
  readonly #waiters = new Map<string, Array<(outcome: Outcome | undefined) => void>>();
  readonly #wakes = new Set<string>();
  readonly #cancelWakes = new Set<string>();
  readonly #touches = new Map<string, BalanceTouch>();
  #announcing = false;

  constructor(
    private readonly database: Database,
    private readonly bus: EventBus,
    private readonly scaleOf: (asset: string) => number,
    private readonly now: () => number,
    private readonly metrics: Metrics,
  ) {
    // On PostgreSQL most batches are stored in one statement; SQLite, in process, has no round trips to save.
    const quickPass = database.dialect === 'postgres' ? (db: Kysely<Schema>, batch: readonly Placement[]) => this.#storeAtOnce(db, batch) : undefined;
    this.#writer = new BatchWriter(database.db, 256, (trx, batch) => this.#store(trx, batch), quickPass);
    bus.subscribe(BUS_CHANNELS.engine, (payload) => {
      const report = JSON.parse(payload) as EngineReport;
      for (const outcome of report.done) this.#settle(outcome.orderId, outcome);
    });
  }

  async place(userId: number, market: Market, intent: OrderIntent, customId: string | undefined): Promise<PlacedOrder> {
    const orderId = randomUUID();
    // Waiting starts before the commit: the engine may take the order the moment it is committed.
    const word = this.#wait(orderId);
    let placed: OrderRow;
    try {
      placed = await this.#writer.submit(this.#placement(orderId, userId, market, intent, customId));
    } catch (error) {
      this.#settle(orderId, undefined);
      throw error;
    }
    this.metrics.ordersPlaced.inc({ market: market.symbol });
    this.#wake(market.symbol);
    this.#touched({ userId, asset: placed.frozen_asset });
    const outcome = await word;
    if (outcome?.refused === 'post_only_would_take') throw new ExchangeError('post_only_would_take', 'A post-only (maker) order would have taken liquidity, so it was cancelled unfilled');
    return { order_id: placed.order_id, symbol: placed.symbol, custom_id: placed.custom_id };
  }

  /** Asks the engine to cancel; answers with the order once cancelled, or as cancelling (4) if the engine is slow. */
  async cancel(userId: number, ref: { orderId?: string; customId?: string }, symbol?: string): Promise<OrderRow> {
    const order = await this.#cancellable(userId, ref, symbol);
    const word = this.#wait(order.order_id);
    await requestOrderCancel(this.database.db, order.order_id, order.symbol, this.now());
    this.#wake(order.symbol, { cancels: true });
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
    this.#wake(symbol, { cancels: true });
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

  #placement(orderId: string, userId: number, market: Market, intent: OrderIntent, customId: string | undefined): Placement {
    const at = this.now();
    const frozen = frozenFor(market, intent, this.scaleOf(marketAssets(market.symbol).quote));
    const order: NewOrder = {
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
    };
    return { order, frozen };
  }

  /**
   * The quick pass (PostgreSQL): the batch in one statement, each account's orders in an asset stored
   * together if its balance covers them all. Whatever it leaves — an account short of funds, a custom
   * id already used, or repeated within the batch — is decided order by order by #store.
   */
  async #storeAtOnce(db: Kysely<Schema>, batch: readonly Placement[]): Promise<Array<Settled<OrderRow> | undefined>> {
    const customIds = new Set<string>();
    const once = batch.filter(({ order }) => {
      if (order.custom_id === null) return true;
      const key = `${order.user_id}:${order.custom_id}`;
      if (customIds.has(key)) return false;
      customIds.add(key);
      return true;
    });
    // One statement, all of it or nothing: a batch too large for it is left to #store whole.
    if (once.length > FREEZE_AT_ONCE_LIMIT) return batch.map(() => undefined);
    let rows: OrderRow[];
    try {
      rows = await freezeAndInsertOrders(db, once.map((p) => ({ order: p.order, amount: p.frozen.amount })));
    } catch (error) {
      // A custom id taken meanwhile by a concurrent statement: nothing was written; #store decides.
      if ((error as { code?: unknown } | null)?.code === '23505') throw new BatchConflict('a custom_id');
      throw error;
    }
    const byId = new Map(rows.map((r) => [r.order_id, r]));
    return batch.map((p) => {
      const row = byId.get(p.order.order_id);
      return row ? { value: row } : undefined;
    });
  }

  /**
   * Stores a batch of orders in a few statements whatever its size: the balances they freeze are
   * locked and read at once, each order is checked in arrival order against what the orders before
   * it left, and the accepted orders, their balances and their journal entries are written a
   * statement each. A refused order leaves nothing behind.
   */
  async #store(trx: Transaction<Schema>, batch: readonly Placement[]): Promise<Array<Settled<OrderRow>>> {
    const settled = new Array<Settled<OrderRow> | undefined>(batch.length);
    const withCustomId = batch.filter((p) => p.order.custom_id !== null);
    const taken = withCustomId.length > 0 ? await takenCustomIds(trx, withCustomId.map((p) => ({ userId: p.order.user_id, customId: p.order.custom_id! }))) : new Set<string>();
    const read = await lockBalances(trx, this.database.dialect, batch.map((p) => ({ userId: p.order.user_id, asset: p.frozen.asset })));
    const balances = new Map<string, { userId: number; asset: string; available: Decimal; frozen: Decimal }>();
    const accepted: Placement[] = [];
    batch.forEach((placement, i) => {
      const { order, frozen } = placement;
      const customKey = `${order.user_id}:${order.custom_id}`;
      if (order.custom_id !== null && taken.has(customKey)) {
        settled[i] = { refused: new ExchangeError('duplicate_custom_id', `custom_id ${order.custom_id.slice(0, 40)} is already used by another of your orders`) };
        return;
      }
      const key = `${order.user_id}:${frozen.asset}`;
      let balance = balances.get(key);
      if (!balance) {
        const stored = balanceIn(read, order.user_id, frozen.asset);
        balance = { userId: order.user_id, asset: frozen.asset, available: new Decimal(stored.available), frozen: new Decimal(stored.frozen) };
      }
      if (balance.available.lt(frozen.amount)) {
        settled[i] = { refused: new ExchangeError('insufficient_balance', `Insufficient ${frozen.asset} balance: the order needs ${frozen.amount.toFixed()}`) };
        return;
      }
      balance.available = balance.available.minus(frozen.amount);
      balance.frozen = balance.frozen.plus(frozen.amount);
      balances.set(key, balance);
      if (order.custom_id !== null) taken.add(customKey);
      accepted.push(placement);
    });
    if (accepted.length > 0) {
      const rows = await insertOrders(trx, accepted.map((p) => p.order));
      // A custom id taken by a concurrent batch (on another server) since it was looked up: run again.
      if (rows.length < accepted.length) throw new BatchConflict('a custom_id');
      await storeBalances(trx, [...balances.values()].map((b) => ({ userId: b.userId, asset: b.asset, available: b.available.toFixed(), frozen: b.frozen.toFixed() })));
      const journal: JournalEntry[] = accepted.map(({ order, frozen }) => ({
        userId: order.user_id,
        asset: frozen.asset,
        availableDelta: frozen.amount.neg(),
        frozenDelta: frozen.amount,
        reason: 'order_freeze',
        refType: 'order',
        refId: order.order_id,
        at: order.created_at,
      }));
      await insertJournal(trx, journal);
      const byId = new Map(rows.map((r) => [r.order_id, r]));
      batch.forEach((p, i) => {
        if (!settled[i]) settled[i] = { value: byId.get(p.order.order_id)! };
      });
    }
    return settled as Array<Settled<OrderRow>>;
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

  /**
   * Tells the market's engine, wherever it runs, that work waits (it also polls, should this be lost).
   * The orders of one commit are answered in one turn: one message per market, not one per order.
   */
  #wake(symbol: string, what: { cancels?: boolean } = {}): void {
    this.#wakes.add(symbol);
    if (what.cancels) this.#cancelWakes.add(symbol);
    this.#announceSoon();
  }

  /** Tells every server that a balance changed, with the others of the same turn. */
  #touched(touch: BalanceTouch): void {
    this.#touches.set(`${touch.userId}:${touch.asset}`, touch);
    this.#announceSoon();
  }

  #announceSoon(): void {
    if (this.#announcing) return;
    this.#announcing = true;
    setImmediate(() => {
      this.#announcing = false;
      // The hint first: an engine woken by the intake message then already knows to look for cancels.
      for (const symbol of this.#cancelWakes) void this.bus.publish(BUS_CHANNELS.cancels, symbol).catch(() => undefined);
      for (const symbol of this.#wakes) void this.bus.publish(BUS_CHANNELS.intake, symbol).catch(() => undefined);
      this.#cancelWakes.clear();
      publishBalanceTouches(this.bus, [...this.#touches.values()]);
      this.#wakes.clear();
      this.#touches.clear();
    });
  }

  #settle(orderId: string, outcome: Outcome | undefined): void {
    const waiters = this.#waiters.get(orderId);
    if (!waiters) return;
    this.#waiters.delete(orderId);
    for (const waiter of waiters) waiter(outcome);
  }
}
