// Storage of balances, the journal that explains every change, and deposits.
import { sql, type Kysely } from 'kysely';
import { applyDelta, Decimal, LedgerError, ZERO_BALANCE, type Balance, type DecimalValue } from '../domain/ledger.js';
import type { Dialect } from './database.js';
import type { Schema } from './schema.js';

export interface BalanceRecord extends Balance {
  asset: string;
}

export async function listBalances(db: Kysely<Schema>, userId: number): Promise<BalanceRecord[]> {
  return db.selectFrom('balances').select(['asset', 'available', 'frozen']).where('user_id', '=', userId).orderBy('asset').execute();
}

export interface BalanceChange {
  userId: number;
  asset: string;
  availableDelta: Decimal;
  frozenDelta: Decimal;
  reason: string;
  refType?: string;
  refId?: string;
  at: number;
}

export type JournalEntry = BalanceChange;

export interface BalanceDelta {
  userId: number;
  asset: string;
  availableDelta: Decimal;
  frozenDelta: Decimal;
}

function nextBalance(read: Balance | undefined, delta: BalanceDelta): Balance {
  return applyDelta(read ?? ZERO_BALANCE, delta.availableDelta, delta.frozenDelta);
}

const balanceKey = (userId: number, asset: string) => `${userId}:${asset}`;

/**
 * Reads these balances and, on PostgreSQL, locks them until the transaction ends, in one statement
 * and always in (user, asset) order: transactions that touch the same balances (intake on every
 * server, the engines, withdrawals) then queue one behind the other instead of deadlocking.
 */
export async function lockBalances(trx: Kysely<Schema>, dialect: Dialect, wanted: ReadonlyArray<{ userId: number; asset: string }>): Promise<Map<string, Balance>> {
  if (wanted.length === 0) return new Map();
  let query = trx
    .selectFrom('balances')
    .select(['user_id', 'asset', 'available', 'frozen'])
    .where((eb) => eb.or(wanted.map((d) => eb.and([eb('user_id', '=', d.userId), eb('asset', '=', d.asset)]))))
    .orderBy('user_id')
    .orderBy('asset');
  if (dialect === 'postgres') query = query.forUpdate();
  const rows = await query.execute();
  return new Map(rows.map((r) => [balanceKey(r.user_id, r.asset), { available: r.available, frozen: r.frozen }]));
}

/** The balance of an account in an asset among those lockBalances read (zero if it has none). */
export function balanceIn(read: ReadonlyMap<string, Balance>, userId: number, asset: string): Balance {
  return read.get(balanceKey(userId, asset)) ?? ZERO_BALANCE;
}

/** Stores new amounts of balances that exist and that the transaction holds locked (lockBalances), in one statement. */
export async function storeBalances(trx: Kysely<Schema>, next: ReadonlyArray<{ userId: number; asset: string } & Balance>): Promise<void> {
  for (let i = 0; i < next.length; i += 200) {
    const rows = next.slice(i, i + 200).map((b) => sql`(CAST(${b.userId} AS INTEGER), ${b.asset}, ${b.available}, ${b.frozen})`);
    await sql`WITH v(user_id, asset, available, frozen) AS (VALUES ${sql.join(rows)})
      UPDATE balances SET available = v.available, frozen = v.frozen FROM v
      WHERE balances.user_id = v.user_id AND balances.asset = v.asset`.execute(trx);
  }
}

/**
 * Adds deltas to balances, refusing to take either side of any below zero: the balances are locked
 * and read in one statement (lockBalances), then written in one. A balance the account never had is
 * created empty first, so that it can be locked like the others.
 */
/** The order in which every writer locks balances: by account, then asset. */
const inLockOrder = (a: { userId: number; asset: string }, b: { userId: number; asset: string }): number => a.userId - b.userId || (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0);

export async function writeBalances(trx: Kysely<Schema>, dialect: Dialect, deltas: readonly BalanceDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  if (dialect === 'postgres') return addToBalances(trx, deltas);
  let read = await lockBalances(trx, dialect, deltas);
  // Created in (user, asset) order too, so that two transactions creating the same rows never deadlock.
  const missing = deltas
    .filter((d) => !read.has(balanceKey(d.userId, d.asset)))
    .sort(inLockOrder);
  if (missing.length > 0) {
    await trx
      .insertInto('balances')
      .values(missing.map((d) => ({ user_id: d.userId, asset: d.asset, ...ZERO_BALANCE })))
      .onConflict((oc) => oc.columns(['user_id', 'asset']).doNothing())
      .execute();
    read = await lockBalances(trx, dialect, deltas);
  }
  await storeBalances(trx, deltas.map((d) => ({ userId: d.userId, asset: d.asset, ...nextBalance(read.get(balanceKey(d.userId, d.asset)), d) })));
}

/**
 * Writes a balance computed from the amounts read, only if they are still what is stored: a
 * compare-and-set, so that concurrent transactions on PostgreSQL never lose an update.
 */
async function compareAndSet(trx: Kysely<Schema>, userId: number, asset: string, read: Balance | undefined, next: Balance): Promise<boolean> {
  if (read) {
    const result = await trx
      .updateTable('balances')
      .set(next)
      .where('user_id', '=', userId)
      .where('asset', '=', asset)
      .where('available', '=', read.available)
      .where('frozen', '=', read.frozen)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
  const result = await trx
    .insertInto('balances')
    .values({ user_id: userId, asset, ...next })
    .onConflict((oc) => oc.columns(['user_id', 'asset']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * writeBalances on PostgreSQL, in one statement: each balance (created if the account never had
 * one) is added to in (user, asset) order — the order in which the rows are locked — and the sums are
 * written as the domain writes decimals. A sum below zero throws, and the caller's transaction, which
 * must not commit then, rolls it back.
 */
async function addToBalances(trx: Kysely<Schema>, deltas: readonly BalanceDelta[]): Promise<void> {
  const ordered = [...deltas].sort(inLockOrder);
  for (let i = 0; i < ordered.length; i += 200) {
    const rows = ordered.slice(i, i + 200).map((d, n) => sql`(${d.userId}, ${d.asset}, ${d.availableDelta.toFixed()}, ${d.frozenDelta.toFixed()}, ${n})`);
    const { rows: sums } = await sql<{ available: string; frozen: string }>`
      INSERT INTO balances (user_id, asset, available, frozen)
      SELECT CAST(v.user_id AS INTEGER), v.asset, CAST(trim_scale(CAST(v.available AS NUMERIC)) AS TEXT), CAST(trim_scale(CAST(v.frozen AS NUMERIC)) AS TEXT)
      FROM (VALUES ${sql.join(rows)}) AS v(user_id, asset, available, frozen, n)
      ORDER BY CAST(v.n AS INTEGER)
      ON CONFLICT (user_id, asset) DO UPDATE SET
        available = CAST(trim_scale(CAST(balances.available AS NUMERIC) + CAST(excluded.available AS NUMERIC)) AS TEXT),
        frozen = CAST(trim_scale(CAST(balances.frozen AS NUMERIC) + CAST(excluded.frozen AS NUMERIC)) AS TEXT)
      RETURNING available, frozen`.execute(trx);
    if (sums.some((b) => b.available.startsWith('-') || b.frozen.startsWith('-'))) throw new LedgerError('insufficient_balance', 'Insufficient balance');
  }
}

/** Adds deltas to one balance (see writeBalances), reading it until the compare-and-set holds. */
export async function writeBalance(trx: Kysely<Schema>, delta: BalanceDelta): Promise<Balance> {
  for (;;) {
    const current = await trx.selectFrom('balances').select(['available', 'frozen']).where('user_id', '=', delta.userId).where('asset', '=', delta.asset).executeTakeFirst();
    const next = nextBalance(current, delta);
    if (await compareAndSet(trx, delta.userId, delta.asset, current, next)) return next;
  }
}

/** Writes journal entries, many to a statement. */
/** Why and when an account's balance of an asset last changed (its newest journal entry). */
export async function lastBalanceChange(db: Kysely<Schema>, userId: number, asset: string): Promise<{ reason: string; at: number } | undefined> {
  const row = await db.selectFrom('ledger_entries').select(['reason', 'created_at']).where('user_id', '=', userId).where('asset', '=', asset).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row && { reason: row.reason, at: row.created_at };
}

export async function insertJournal(trx: Kysely<Schema>, entries: readonly JournalEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 200) {
    await trx
      .insertInto('ledger_entries')
      .values(
        entries.slice(i, i + 200).map((e) => ({
          user_id: e.userId,
          asset: e.asset,
          available_delta: e.availableDelta.toFixed(),
          frozen_delta: e.frozenDelta.toFixed(),
          reason: e.reason,
          ref_type: e.refType ?? null,
          ref_id: e.refId ?? null,
          created_at: e.at,
        })),
      )
      .execute();
  }
}

/** Changes a balance and journals why, inside the caller's transaction. */
export async function changeBalance(trx: Kysely<Schema>, change: BalanceChange): Promise<Balance> {
  const next = await writeBalance(trx, change);
  await insertJournal(trx, [change]);
  return next;
}

export interface DepositRecord {
  id: number;
  userId: number;
  asset: string;
  network: string;
  amount: string;
  address: string;
  txid: string;
  status: string;
  createdAt: number;
}

export async function insertDeposit(trx: Kysely<Schema>, deposit: Omit<DepositRecord, 'id'>): Promise<DepositRecord> {
  const row = await trx
    .insertInto('deposits')
    .values({
      user_id: deposit.userId,
      asset: deposit.asset,
      network: deposit.network,
      amount: deposit.amount,
      address: deposit.address,
      txid: deposit.txid,
      status: deposit.status,
      created_at: deposit.createdAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, ...deposit };
}

export interface LedgerTotals {
  /** Per asset: every account's available + frozen, plus the fee income. */
  held: Map<string, Decimal>;
  /** Per asset: completed deposits less completed withdrawals to outside Keygate. */
  broughtIn: Map<string, Decimal>;
}

/** What the ledger invariant compares: no unit of any asset is created or lost inside Keygate. */
export async function ledgerTotals(db: Kysely<Schema>): Promise<LedgerTotals> {
  const held = new Map<string, Decimal>();
  const broughtIn = new Map<string, Decimal>();
  const add = (map: Map<string, Decimal>, asset: string, amount: DecimalValue) => map.set(asset, (map.get(asset) ?? new Decimal(0)).plus(amount));
  for (const b of await db.selectFrom('balances').select(['asset', 'available', 'frozen']).execute()) add(held, b.asset, new Decimal(b.available).plus(b.frozen));
  for (const f of await db.selectFrom('fee_income').selectAll().execute()) add(held, f.asset, f.amount);
  for (const d of await db.selectFrom('deposits').select(['asset', 'amount']).where('status', '=', 'completed').execute()) add(broughtIn, d.asset, d.amount);
  for (const w of await db.selectFrom('withdrawals').select(['asset', 'amount']).where('kind', '=', 'chain').where('status', '=', 'completed').execute()) {
    add(broughtIn, w.asset, new Decimal(w.amount).neg());
  }
  return { held, broughtIn };
}
