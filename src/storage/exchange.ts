// Storage of the sandbox exchange: orders, trades, fee income and per-user fee rates.
import { sql, type Kysely, type Selectable } from 'kysely';
import { Decimal } from '../domain/ledger.js';
import { OrderStatus } from '../domain/orders.js';
import { candlesCaughtUp, foldIntoCandles, writeCandles, type CandleRecord } from './candles.js';
import type { Dialect } from './database.js';
import { insertJournal, type JournalEntry } from './ledger.js';
import type { Schema } from './schema.js';

export type OrderRow = Selectable<Schema['orders']>;
export type TradeRow = Selectable<Schema['trades']>;
export type NewOrder = Omit<OrderRow, 'id'>;

/**
 * Inserts orders, many to a statement; returns the rows stored. An order whose custom id the account
 * already uses is not stored (and not returned).
 */
export async function insertOrders(trx: Kysely<Schema>, orders: readonly NewOrder[]): Promise<OrderRow[]> {
  const stored: OrderRow[] = [];
  for (let i = 0; i < orders.length; i += 200) {
    stored.push(
      ...(await trx
        .insertInto('orders')
        .values(orders.slice(i, i + 200))
        .onConflict((oc) => oc.columns(['user_id', 'custom_id']).doNothing())
        .returningAll()
        .execute()),
    );
  }
  return stored;
}

/** How many orders freezeAndInsertOrders takes in its one statement (20 parameters each; PostgreSQL takes 65,535). */
export const FREEZE_AT_ONCE_LIMIT = 2000;

/** An order to store with the amount it freezes, for freezeAndInsertOrders. */
export interface OrderToFreeze {
  order: NewOrder;
  /** What the order freezes of `order.frozen_asset` (positive), as the domain computed it. */
  amount: Decimal;
}

/**
 * PostgreSQL only: stores orders and freezes their funds in one statement, so one round trip and its
 * own commit, with the balances locked only while it runs. Orders are taken a whole (account, asset)
 * at a time: an account's orders in an asset are stored only if its available balance covers all of
 * them; those not returned are left to the caller's step-by-step path (lockBalances), which decides
 * them one by one in arrival order — as it does an order whose custom id is already used. The
 * balances are locked in (user, asset) order, like lockBalances, so that no writer deadlocks on them.
 * All of it or nothing, so the batch is never split: at most FREEZE_AT_ONCE_LIMIT orders. Throws
 * (nothing written) if a concurrent statement took one of the custom ids meanwhile.
 */
export async function freezeAndInsertOrders(db: Kysely<Schema>, batch: readonly OrderToFreeze[]): Promise<OrderRow[]> {
  if (batch.length > FREEZE_AT_ONCE_LIMIT) throw new RangeError(`At most ${FREEZE_AT_ONCE_LIMIT} orders are stored at once, not ${batch.length}`);
  if (batch.length === 0) return [];
  // Typed here, so that the statement compares and adds them as what they are.
  const rows = batch.map(
    ({ order: o, amount }, n) =>
      sql`(${o.order_id}, CAST(${o.user_id} AS INTEGER), ${o.symbol}, ${o.type}, ${o.price}, ${o.quantity}, ${o.quote_budget}, ${o.executed_qty}, ${o.executed_quote}, ${o.remaining_qty}, ${o.frozen_asset}, ${o.frozen_remaining}, CAST(${o.status} AS INTEGER), ${o.custom_id}, CAST(${o.created_at} AS BIGINT), CAST(${o.updated_at} AS BIGINT), CAST(${o.matched} AS INTEGER), CAST(${amount.toFixed()} AS NUMERIC), ${amount.neg().toFixed()}, CAST(${n} AS INTEGER))`,
  );
  // `locked` is counted in full before any balance is updated: every row is locked first, in order.
  // A balance is rewritten in the canonical form the domain writes (no trailing zeros).
  const result = await sql<OrderRow>`
    WITH v(order_id, user_id, symbol, type, price, quantity, quote_budget, executed_qty, executed_quote, remaining_qty,
           frozen_asset, frozen_remaining, status, custom_id, created_at, updated_at, matched, amount, release, arrival)
      AS (VALUES ${sql.join(rows)}),
    fresh AS (
      SELECT v.* FROM v
      WHERE v.custom_id IS NULL OR NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = v.user_id AND o.custom_id = v.custom_id)),
    need AS (SELECT user_id, frozen_asset AS asset, sum(amount) AS amount FROM fresh GROUP BY user_id, frozen_asset),
    locked AS (
      SELECT b.user_id FROM balances b JOIN need n ON n.user_id = b.user_id AND n.asset = b.asset
      ORDER BY b.user_id, b.asset FOR UPDATE OF b),
    debited AS (
      UPDATE balances b
      SET available = CAST(trim_scale(CAST(b.available AS NUMERIC) - n.amount) AS TEXT),
          frozen = CAST(trim_scale(CAST(b.frozen AS NUMERIC) + n.amount) AS TEXT)
      FROM need n
      WHERE b.user_id = n.user_id AND b.asset = n.asset AND CAST(b.available AS NUMERIC) >= n.amount
        AND (SELECT count(*) FROM locked) > 0
      RETURNING b.user_id, b.asset),
    inserted AS (
      INSERT INTO orders (order_id, user_id, symbol, type, price, quantity, quote_budget, executed_qty, executed_quote,
                          remaining_qty, frozen_asset, frozen_remaining, status, custom_id, created_at, updated_at, matched)
      SELECT f.order_id, f.user_id, f.symbol, f.type, f.price, f.quantity, f.quote_budget, f.executed_qty, f.executed_quote,
             f.remaining_qty, f.frozen_asset, f.frozen_remaining, f.status, f.custom_id, f.created_at, f.updated_at, f.matched
      FROM fresh f JOIN debited d ON d.user_id = f.user_id AND d.asset = f.frozen_asset
      ORDER BY f.arrival
      RETURNING *),
    journal AS (
      INSERT INTO ledger_entries (user_id, asset, available_delta, frozen_delta, reason, ref_type, ref_id, created_at)
      SELECT f.user_id, f.frozen_asset, f.release, CAST(f.amount AS TEXT), 'order_freeze', 'order', f.order_id, f.created_at
      FROM fresh f JOIN debited d ON d.user_id = f.user_id AND d.asset = f.frozen_asset
      ORDER BY f.arrival)
    SELECT * FROM inserted`.execute(db);
  return result.rows;
}

/** Which of these (account, custom id) pairs an order already uses, as `userId:customId`. */
export async function takenCustomIds(db: Kysely<Schema>, wanted: ReadonlyArray<{ userId: number; customId: string }>): Promise<Set<string>> {
  if (wanted.length === 0) return new Set();
  const rows = await db
    .selectFrom('orders')
    .select(['user_id', 'custom_id'])
    .where((eb) => eb.or(wanted.map((w) => eb.and([eb('user_id', '=', w.userId), eb('custom_id', '=', w.customId)]))))
    .execute();
  return new Set(rows.map((r) => `${r.user_id}:${r.custom_id}`));
}

export type OrderProgress = Pick<OrderRow, 'executed_qty' | 'executed_quote' | 'remaining_qty' | 'frozen_remaining' | 'status' | 'updated_at' | 'matched'>;

/** Writes the progress of many orders, 200 to a statement. */
export async function updateOrdersProgress(trx: Kysely<Schema>, orders: ReadonlyArray<OrderProgress & { order_id: string }>): Promise<void> {
  for (let i = 0; i < orders.length; i += 200) {
    const rows = orders
      .slice(i, i + 200)
      .map((o) => sql`(${o.order_id}, ${o.executed_qty}, ${o.executed_quote}, ${o.remaining_qty}, ${o.frozen_remaining}, CAST(${o.status} AS INTEGER), CAST(${o.updated_at} AS BIGINT), CAST(${o.matched} AS INTEGER))`);
    await sql`WITH v(order_id, executed_qty, executed_quote, remaining_qty, frozen_remaining, status, updated_at, matched) AS (VALUES ${sql.join(rows)})
      UPDATE orders SET executed_qty = v.executed_qty, executed_quote = v.executed_quote, remaining_qty = v.remaining_qty,
        frozen_remaining = v.frozen_remaining, status = v.status, updated_at = v.updated_at, matched = v.matched
      FROM v WHERE orders.order_id = v.order_id`.execute(trx);
  }
}

export async function findOrdersByIds(db: Kysely<Schema>, orderIds: string[]): Promise<OrderRow[]> {
  if (orderIds.length === 0) return [];
  return db.selectFrom('orders').selectAll().where('order_id', 'in', orderIds).orderBy('id').execute();
}

/** Orders accepted by intake that the market's engine has not taken yet, in arrival order. */
export async function listWaitingOrders(db: Kysely<Schema>, symbol: string, limit: number): Promise<OrderRow[]> {
  return db.selectFrom('orders').selectAll().where('symbol', '=', symbol).where('matched', '=', 0).orderBy('id').limit(limit).execute();
}

export async function requestOrderCancel(db: Kysely<Schema>, orderId: string, symbol: string, at: number): Promise<void> {
  await db.insertInto('order_cancels').values({ order_id: orderId, symbol, requested_at: at }).execute();
}

export async function listOrderCancels(db: Kysely<Schema>, symbol: string, limit: number): Promise<Array<{ id: number; order_id: string }>> {
  return db.selectFrom('order_cancels').select(['id', 'order_id']).where('symbol', '=', symbol).orderBy('id').limit(limit).execute();
}

export async function deleteOrderCancels(db: Kysely<Schema>, ids: number[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('order_cancels').where('id', 'in', ids).execute();
}

/**
 * Takes a market's lease: raises its epoch and records the holder; the engine then writes only while
 * the epoch is still its own.
 */
export async function takeMarketLease(db: Kysely<Schema>, symbol: string, holder: string, at: number): Promise<number> {
  const row = await db
    .insertInto('market_leases')
    .values({ symbol, epoch: 1, holder, taken_at: at })
    .onConflict((oc) => oc.column('symbol').doUpdateSet((eb) => ({ epoch: eb('market_leases.epoch', '+', 1), holder, taken_at: at })))
    .returning('epoch')
    .executeTakeFirstOrThrow();
  return row.epoch;
}

/**
 * Whether the lease is still at this epoch. On PostgreSQL the row is locked for the rest of the
 * transaction, so that a take-over waits for the batch under way and the old holder cannot commit after it.
 */
export async function holdsMarketLease(trx: Kysely<Schema>, symbol: string, epoch: number, dialect: 'sqlite' | 'postgres'): Promise<boolean> {
  let query = trx.selectFrom('market_leases').select('epoch').where('symbol', '=', symbol);
  if (dialect === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row?.epoch === epoch;
}

/** Writes the top of a market's book as its engine committed it; returns the book's new version (one more than the last). */
/**
 * holdsMarketLease, and the fee rates of these accounts (those that have their own), in one round trip
 * on PostgreSQL: an engine batch needs both before it matches.
 */
export async function holdsMarketLeaseWithRates(
  trx: Kysely<Schema>,
  symbol: string,
  epoch: number,
  dialect: Dialect,
  userIds: readonly number[],
): Promise<{ held: boolean; rates: Array<{ user_id: number; maker: string; taker: string }> }> {
  if (dialect !== 'postgres' || userIds.length === 0) {
    const held = await holdsMarketLease(trx, symbol, epoch, dialect);
    return { held, rates: held && userIds.length > 0 ? await findFeeRatesOf(trx, [...userIds]) : [] };
  }
  const rows = await trx
    .selectFrom('market_leases as l')
    .leftJoin('fee_rates as f', (join) => join.on((eb) => eb('f.user_id', 'in', [...userIds])))
    .select(['l.epoch', 'f.user_id', 'f.maker', 'f.taker'])
    .where('l.symbol', '=', symbol)
    .modifyEnd(sql`FOR UPDATE OF l`)
    .execute();
  const held = rows.length > 0 && rows[0]!.epoch === epoch;
  const rates = rows.flatMap((r) => (r.user_id !== null && r.maker !== null && r.taker !== null ? [{ user_id: r.user_id, maker: r.maker, taker: r.taker }] : []));
  return { held, rates };
}

export async function writeMarketDepth(trx: Kysely<Schema>, symbol: string, depth: { asks: Array<[string, string]>; bids: Array<[string, string]> }, at: number): Promise<number> {
  const values = { asks: JSON.stringify(depth.asks), bids: JSON.stringify(depth.bids), updated_at: at };
  const row = await trx
    .insertInto('market_depth')
    .values({ symbol, ...values, version: 1 })
    .onConflict((oc) => oc.column('symbol').doUpdateSet((eb) => ({ ...values, version: eb('market_depth.version', '+', 1) })))
    .returning('version')
    .executeTakeFirstOrThrow();
  return Number(row.version);
}

export interface StoredDepth {
  asks: Array<[string, string]>;
  bids: Array<[string, string]>;
  /** 0 for a market whose engine never committed a batch. */
  version: number;
  updatedAt: number;
}

export async function readMarketDepth(db: Kysely<Schema>, symbol: string): Promise<StoredDepth> {
  const row = await db.selectFrom('market_depth').select(['asks', 'bids', 'version', 'updated_at']).where('symbol', '=', symbol).executeTakeFirst();
  return row
    ? { asks: JSON.parse(row.asks) as Array<[string, string]>, bids: JSON.parse(row.bids) as Array<[string, string]>, version: Number(row.version), updatedAt: row.updated_at }
    : { asks: [], bids: [], version: 0, updatedAt: 0 };
}

/** Records that this server is alive, and returns how many servers were seen within `since`. */
export async function heartbeat(db: Kysely<Schema>, serverId: string, at: number, since: number): Promise<string[]> {
  await db.insertInto('fleet_members').values({ server_id: serverId, seen_at: at }).onConflict((oc) => oc.column('server_id').doUpdateSet({ seen_at: at })).execute();
  await db.deleteFrom('fleet_members').where('seen_at', '<', since - 60_000).execute();
  const rows = await db.selectFrom('fleet_members').select('server_id').where('seen_at', '>=', since).orderBy('server_id').execute();
  return rows.map((r) => r.server_id);
}

export async function leaveFleet(db: Kysely<Schema>, serverId: string): Promise<void> {
  await db.deleteFrom('fleet_members').where('server_id', '=', serverId).execute();
}

export async function findOrderById(db: Kysely<Schema>, orderId: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

export async function findUserOrder(db: Kysely<Schema>, userId: number, ref: { orderId?: string; customId?: string }): Promise<OrderRow | undefined> {
  let query = db.selectFrom('orders').selectAll().where('user_id', '=', userId);
  if (ref.orderId) query = query.where('order_id', '=', ref.orderId);
  else if (ref.customId) query = query.where('custom_id', '=', ref.customId);
  else return undefined;
  return query.executeTakeFirst();
}

const OPEN = [OrderStatus.unfilled, OrderStatus.partiallyFilled];

/** Every resting order of a market, in arrival order: what the in-memory book is rebuilt from. */
export async function listOpenOrdersOfMarket(db: Kysely<Schema>, symbol: string): Promise<OrderRow[]> {
  return db.selectFrom('orders').selectAll().where('symbol', '=', symbol).where('status', 'in', OPEN).where('matched', '=', 1).orderBy('id').execute();
}

export interface OrderQuery {
  userId: number;
  symbol?: string;
  /** open: unfilled or partially filled; closed: everything else. */
  state?: 'open' | 'closed';
  /** One LBank status code instead of a state. */
  status?: number;
  offset: number;
  limit: number;
  since?: number;
  until?: number;
}

export async function listUserOrders(db: Kysely<Schema>, q: OrderQuery): Promise<{ rows: OrderRow[]; total: number }> {
  let base = db.selectFrom('orders').where('user_id', '=', q.userId);
  if (q.symbol) base = base.where('symbol', '=', q.symbol);
  if (q.state === 'open') base = base.where('status', 'in', OPEN);
  if (q.state === 'closed') base = base.where('status', 'not in', OPEN);
  if (q.status !== undefined) base = base.where('status', '=', q.status);
  if (q.since !== undefined) base = base.where('created_at', '>=', q.since);
  if (q.until !== undefined) base = base.where('created_at', '<=', q.until);
  const rows = await base.selectAll().orderBy('id', 'desc').offset(q.offset).limit(q.limit).execute();
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  return { rows, total: Number(count.n) };
}

export async function listOrderTrades(db: Kysely<Schema>, orderId: string): Promise<TradeRow[]> {
  return db
    .selectFrom('trades')
    .selectAll()
    .where((eb) => eb.or([eb('maker_order_id', '=', orderId), eb('taker_order_id', '=', orderId)]))
    .orderBy('id')
    .execute();
}

export async function listUserTrades(db: Kysely<Schema>, userId: number, symbol: string, since: number, until: number, limit: number): Promise<TradeRow[]> {
  return db
    .selectFrom('trades')
    .selectAll()
    .where('symbol', '=', symbol)
    .where((eb) => eb.or([eb('maker_user_id', '=', userId), eb('taker_user_id', '=', userId)]))
    .where('created_at', '>=', since)
    .where('created_at', '<=', until)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function listRecentTrades(db: Kysely<Schema>, symbol: string, limit: number, since?: number): Promise<TradeRow[]> {
  let query = db.selectFrom('trades').selectAll().where('symbol', '=', symbol);
  if (since !== undefined) query = query.where('created_at', '>=', since);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

/**
 * Adds to the fee income of an asset. An engine batch of any market and an administrator's
 * withdrawal completion may add to the same asset at once, so the addition must not be a
 * read-modify-write across statements. PostgreSQL adds in the statement itself, exactly (NUMERIC), under
 * the row's lock. SQLite has no exact decimal arithmetic in SQL, but it needs none: it has one writer
 * at a time, and a transaction whose snapshot another writer has overtaken cannot start writing
 * (SQLITE_BUSY_SNAPSHOT), so a read and write inside one transaction lose no update there.
 */
export async function addFeeIncome(trx: Kysely<Schema>, dialect: Dialect, asset: string, amount: Decimal): Promise<void> {
  await addFeeIncomes(trx, dialect, [{ asset, amount }]);
}

/** addFeeIncome for several assets: on PostgreSQL one statement, its rows locked in the order given. */
export async function addFeeIncomes(trx: Kysely<Schema>, dialect: Dialect, additions: ReadonlyArray<{ asset: string; amount: Decimal }>): Promise<void> {
  const nonZero = additions.filter((a) => !a.amount.isZero());
  if (nonZero.length === 0) return;
  if (dialect === 'postgres') {
    await trx
      .insertInto('fee_income')
      .values(nonZero.map(({ asset, amount }) => ({ asset, amount: amount.toFixed() })))
      .onConflict((oc) =>
        // trim_scale: the sum is written as the ledger writes decimals, without trailing zeros.
        oc.column('asset').doUpdateSet({ amount: sql<string>`CAST(trim_scale(CAST(fee_income.amount AS NUMERIC) + CAST(excluded.amount AS NUMERIC)) AS TEXT)` }),
      )
      .execute();
    return;
  }
  for (const { asset, amount } of nonZero) {
    const row = await trx.selectFrom('fee_income').select('amount').where('asset', '=', asset).executeTakeFirst();
    if (row) await trx.updateTable('fee_income').set({ amount: amount.plus(row.amount).toFixed() }).where('asset', '=', asset).execute();
    else await trx.insertInto('fee_income').values({ asset, amount: amount.toFixed() }).execute();
  }
}

export async function findFeeRatesOf(db: Kysely<Schema>, userIds: number[]): Promise<Array<{ user_id: number; maker: string; taker: string }>> {
  return db.selectFrom('fee_rates').selectAll().where('user_id', 'in', userIds).execute();
}

/**
 * Writes trades and folds them into their market's candles, in the caller's transaction: trades and
 * candles commit together. A market whose candles are still behind (trades stored before candles
 * existed) has the trades written only; its engine folds them in with the rest when it starts.
 * Returns the trades' ids, in the order given.
 */
export async function insertTrades(trx: Kysely<Schema>, trades: ReadonlyArray<Omit<TradeRow, 'id'>>, caughtUp?: (symbol: string) => boolean): Promise<number[]> {
  const ids = new Array<number>(trades.length);
  const bySymbol = new Map<string, number[]>();
  trades.forEach((trade, i) => {
    const list = bySymbol.get(trade.symbol) ?? [];
    list.push(i);
    bySymbol.set(trade.symbol, list);
  });
  for (const [symbol, indexes] of bySymbol) {
    const folding = caughtUp?.(symbol) ?? (await candlesCaughtUp(trx, symbol));
    const list = indexes.map((j) => trades[j]!);
    const stored = await insertTradeRows(trx, list);
    indexes.forEach((j, k) => (ids[j] = stored[k]!));
    if (folding) await foldIntoCandles(trx, symbol, list.map((t) => ({ price: t.price, quantity: t.quantity, quoteQuantity: t.quote_quantity, at: t.created_at })), stored.at(-1) ?? 0);
  }
  return ids;
}

/** What an engine batch writes besides balances, fee income and candles. */
export interface EngineBatchWrites {
  symbol: string;
  /** The new state of every order the batch touched. */
  orders: ReadonlyArray<OrderProgress & { order_id: string }>;
  journal: readonly JournalEntry[];
  /** The batch's trades, in the order they happened. */
  trades: ReadonlyArray<Omit<TradeRow, 'id'>>;
  /** The cancel requests the batch applied. */
  cancelIds: readonly number[];
  depth: { asks: Array<[string, string]>; bids: Array<[string, string]> };
  /** The candles the trades changed (foldedCandles), written with how far the candles reach. */
  candles: readonly CandleRecord[];
  at: number;
}

/** Past this many parameters a batch is written a statement per kind of row (PostgreSQL takes 65,535). */
const MAX_PARAMETERS = 30_000;

/**
 * Writes an engine batch's orders, journal, trades, candles, applied cancel requests and book, in the
 * caller's transaction; returns the trades' ids, in order, and the book's new version. On PostgreSQL
 * that is one statement (one round trip instead of seven): none of these rows is locked by anyone but
 * the market's engine, so their order within the statement does not matter.
 */
export async function writeEngineBatch(trx: Kysely<Schema>, dialect: Dialect, w: EngineBatchWrites): Promise<{ tradeIds: number[]; depthVersion: number }> {
  const parameters = w.orders.length * 8 + w.journal.length * 9 + w.trades.length * 17 + w.candles.length * 9 + w.cancelIds.length + 10;
  if (dialect !== 'postgres' || parameters > MAX_PARAMETERS || w.orders.length === 0) {
    await updateOrdersProgress(trx, w.orders);
    await insertJournal(trx, w.journal);
    const tradeIds = await insertTradeRows(trx, w.trades);
    if (tradeIds.length > 0) await writeCandles(trx, w.symbol, w.candles, tradeIds.at(-1)!);
    await deleteOrderCancels(trx, [...w.cancelIds]);
    return { tradeIds, depthVersion: await writeMarketDepth(trx, w.symbol, w.depth, w.at) };
  }
  const rows = (values: readonly unknown[][]) => sql.join(values.map((v) => sql`(${sql.join(v)})`));
  const parts = [
    sql`progress AS (
      UPDATE orders SET executed_qty = v.executed_qty, executed_quote = v.executed_quote, remaining_qty = v.remaining_qty,
        frozen_remaining = v.frozen_remaining, status = CAST(v.status AS INTEGER), updated_at = CAST(v.updated_at AS BIGINT), matched = CAST(v.matched AS INTEGER)
      FROM (VALUES ${rows(w.orders.map((o) => [o.order_id, o.executed_qty, o.executed_quote, o.remaining_qty, o.frozen_remaining, o.status, o.updated_at, o.matched]))})
        AS v(order_id, executed_qty, executed_quote, remaining_qty, frozen_remaining, status, updated_at, matched)
      WHERE orders.order_id = v.order_id)`,
    sql`depth AS (
      INSERT INTO market_depth (symbol, asks, bids, updated_at, version) VALUES (${w.symbol}, ${JSON.stringify(w.depth.asks)}, ${JSON.stringify(w.depth.bids)}, CAST(${w.at} AS BIGINT), 1)
      ON CONFLICT (symbol) DO UPDATE SET asks = excluded.asks, bids = excluded.bids, updated_at = excluded.updated_at, version = market_depth.version + 1
      RETURNING version)`,
  ];
  if (w.journal.length > 0) {
    parts.push(sql`journal AS (
      INSERT INTO ledger_entries (user_id, asset, available_delta, frozen_delta, reason, ref_type, ref_id, created_at)
      SELECT CAST(v.user_id AS INTEGER), v.asset, v.available_delta, v.frozen_delta, v.reason, v.ref_type, v.ref_id, CAST(v.created_at AS BIGINT)
      FROM (VALUES ${rows(w.journal.map((e, n) => [e.userId, e.asset, e.availableDelta.toFixed(), e.frozenDelta.toFixed(), e.reason, e.refType ?? null, e.refId ?? null, e.at, n]))})
        AS v(user_id, asset, available_delta, frozen_delta, reason, ref_type, ref_id, created_at, n)
      ORDER BY CAST(v.n AS INTEGER))`);
  }
  if (w.trades.length > 0) {
    // Numbered in the order of the trades: one statement takes its sequence values in the order of its rows.
    parts.push(sql`trade AS (
      INSERT INTO trades (symbol, price, quantity, quote_quantity, taker_side, maker_order_id, taker_order_id, maker_user_id, taker_user_id,
                          maker_fee, maker_fee_asset, maker_fee_rate, taker_fee, taker_fee_asset, taker_fee_rate, created_at)
      SELECT v.symbol, v.price, v.quantity, v.quote_quantity, v.taker_side, v.maker_order_id, v.taker_order_id, CAST(v.maker_user_id AS INTEGER),
             CAST(v.taker_user_id AS INTEGER), v.maker_fee, v.maker_fee_asset, v.maker_fee_rate, v.taker_fee, v.taker_fee_asset, v.taker_fee_rate,
             CAST(v.created_at AS BIGINT)
      FROM (VALUES ${rows(
        w.trades.map((t, n) => [t.symbol, t.price, t.quantity, t.quote_quantity, t.taker_side, t.maker_order_id, t.taker_order_id, t.maker_user_id, t.taker_user_id, t.maker_fee, t.maker_fee_asset, t.maker_fee_rate, t.taker_fee, t.taker_fee_asset, t.taker_fee_rate, t.created_at, n]),
      )})
        AS v(symbol, price, quantity, quote_quantity, taker_side, maker_order_id, taker_order_id, maker_user_id, taker_user_id,
             maker_fee, maker_fee_asset, maker_fee_rate, taker_fee, taker_fee_asset, taker_fee_rate, created_at, n)
      ORDER BY CAST(v.n AS INTEGER)
      RETURNING id)`);
  }
  if (w.trades.length > 0 && w.candles.length > 0) {
    parts.push(sql`candle AS (
      INSERT INTO candles (symbol, resolution, start, open, high, low, close, volume, quote_volume, trades)
      SELECT ${w.symbol}, v.resolution, CAST(v.start AS BIGINT), v.open, v.high, v.low, v.close, v.volume, v.quote_volume, CAST(v.trades AS INTEGER)
      FROM (VALUES ${rows(w.candles.map((c) => [c.resolution, c.start, c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.trades]))})
        AS v(resolution, start, open, high, low, close, volume, quote_volume, trades)
      ON CONFLICT (symbol, resolution, start) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
        volume = excluded.volume, quote_volume = excluded.quote_volume, trades = excluded.trades)`);
    parts.push(sql`candle_mark AS (
      INSERT INTO candle_progress (symbol, last_trade_id) SELECT ${w.symbol}, max(id) FROM trade
      ON CONFLICT (symbol) DO UPDATE SET last_trade_id = excluded.last_trade_id)`);
  }
  if (w.cancelIds.length > 0) parts.push(sql`applied AS (DELETE FROM order_cancels WHERE id IN (${sql.join([...w.cancelIds])}))`);
  const tradeIds = w.trades.length > 0 ? sql`ARRAY(SELECT CAST(id AS TEXT) FROM trade ORDER BY id)` : sql`CAST(ARRAY[] AS TEXT[])`;
  const { rows: result } = await sql<{ version: number | string; trade_ids: string[] }>`WITH ${sql.join(parts)} SELECT (SELECT version FROM depth) AS version, ${tradeIds} AS trade_ids`.execute(trx);
  const row = result[0]!;
  return { tradeIds: row.trade_ids.map(Number), depthVersion: Number(row.version) };
}

/** Inserts trades in order, many to a statement; returns their ids, in order. */
async function insertTradeRows(trx: Kysely<Schema>, trades: ReadonlyArray<Omit<TradeRow, 'id'>>): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < trades.length; i += 200) {
    const rows = await trx.insertInto('trades').values(trades.slice(i, i + 200)).returning('id').execute();
    // One statement numbers its rows in the order of its values; RETURNING need not list them in that order.
    ids.push(...rows.map((r) => Number(r.id)).sort((a, b) => a - b));
  }
  return ids;
}

export async function setFeeRates(db: Kysely<Schema>, userId: number, maker: string, taker: string): Promise<void> {
  await db
    .insertInto('fee_rates')
    .values({ user_id: userId, maker, taker })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ maker, taker }))
    .execute();
}
