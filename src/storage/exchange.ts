// Storage of the sandbox exchange: orders, trades, fee income and per-user fee rates.
import type { Kysely, Selectable } from 'kysely';
import { Decimal } from '../domain/ledger.js';
import { OrderStatus } from '../domain/orders.js';
import type { Schema } from './schema.js';

export type OrderRow = Selectable<Schema['orders']>;
export type TradeRow = Selectable<Schema['trades']>;
export type NewOrder = Omit<OrderRow, 'id'>;

export async function insertOrder(trx: Kysely<Schema>, order: NewOrder): Promise<OrderRow> {
  return trx.insertInto('orders').values(order).returningAll().executeTakeFirstOrThrow();
}

export type OrderProgress = Pick<OrderRow, 'executed_qty' | 'executed_quote' | 'remaining_qty' | 'frozen_remaining' | 'status' | 'updated_at'>;

export async function updateOrderProgress(trx: Kysely<Schema>, orderId: string, progress: OrderProgress): Promise<void> {
  const { executed_qty, executed_quote, remaining_qty, frozen_remaining, status, updated_at } = progress;
  await trx.updateTable('orders').set({ executed_qty, executed_quote, remaining_qty, frozen_remaining, status, updated_at }).where('order_id', '=', orderId).execute();
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

export async function customIdTaken(db: Kysely<Schema>, userId: number, customId: string): Promise<boolean> {
  return (await db.selectFrom('orders').select('id').where('user_id', '=', userId).where('custom_id', '=', customId).executeTakeFirst()) !== undefined;
}

const OPEN = [OrderStatus.unfilled, OrderStatus.partiallyFilled];

/** Every resting order of a market, in arrival order: what the in-memory book is rebuilt from. */
export async function listOpenOrdersOfMarket(db: Kysely<Schema>, symbol: string): Promise<OrderRow[]> {
  return db.selectFrom('orders').selectAll().where('symbol', '=', symbol).where('status', 'in', OPEN).orderBy('id').execute();
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

export async function addFeeIncome(trx: Kysely<Schema>, asset: string, amount: Decimal): Promise<void> {
  if (amount.isZero()) return;
  const row = await trx.selectFrom('fee_income').select('amount').where('asset', '=', asset).executeTakeFirst();
  if (row) await trx.updateTable('fee_income').set({ amount: amount.plus(row.amount).toFixed() }).where('asset', '=', asset).execute();
  else await trx.insertInto('fee_income').values({ asset, amount: amount.toFixed() }).execute();
}

export async function findFeeRatesOf(db: Kysely<Schema>, userIds: number[]): Promise<Array<{ user_id: number; maker: string; taker: string }>> {
  return db.selectFrom('fee_rates').selectAll().where('user_id', 'in', userIds).execute();
}

export async function insertTrades(trx: Kysely<Schema>, trades: ReadonlyArray<Omit<TradeRow, 'id'>>): Promise<void> {
  for (let i = 0; i < trades.length; i += 200) await trx.insertInto('trades').values(trades.slice(i, i + 200)).execute();
}

export async function setFeeRates(db: Kysely<Schema>, userId: number, maker: string, taker: string): Promise<void> {
  await db
    .insertInto('fee_rates')
    .values({ user_id: userId, maker, taker })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ maker, taker }))
    .execute();
}
