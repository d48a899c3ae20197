// Storage of balances, the journal that explains every change, and deposits.
import type { Kysely } from 'kysely';
import { applyDelta, Decimal, LedgerError, ZERO_BALANCE, type Balance } from '../domain/ledger.js';
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

/**
 * Adds deltas to a balance, refusing to take either side below zero. The write is a compare-and-set
 * on the amounts it read, so that concurrent transactions on PostgreSQL never lose an update: a loser
 * re-reads the committed amounts and tries again.
 */
export async function writeBalance(trx: Kysely<Schema>, userId: number, asset: string, availableDelta: Decimal, frozenDelta: Decimal, requiredAvailable?: Decimal): Promise<Balance> {
  for (;;) {
    const current = await trx.selectFrom('balances').select(['available', 'frozen']).where('user_id', '=', userId).where('asset', '=', asset).executeTakeFirst();
    if (requiredAvailable && requiredAvailable.gt((current ?? ZERO_BALANCE).available)) throw new LedgerError('insufficient_balance', 'Insufficient balance');
    const next = applyDelta(current ?? ZERO_BALANCE, availableDelta, frozenDelta);
    const written = current
      ? await trx
          .updateTable('balances')
          .set(next)
          .where('user_id', '=', userId)
          .where('asset', '=', asset)
          .where('available', '=', current.available)
          .where('frozen', '=', current.frozen)
          .executeTakeFirst()
          .then((r) => r.numUpdatedRows > 0n)
      : await trx
          .insertInto('balances')
          .values({ user_id: userId, asset, ...next })
          .onConflict((oc) => oc.columns(['user_id', 'asset']).doNothing())
          .executeTakeFirst()
          .then((r) => (r.numInsertedOrUpdatedRows ?? 0n) > 0n);
    if (written) return next;
  }
}

/** Writes journal entries, many to a statement. */
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
  const next = await writeBalance(trx, change.userId, change.asset, change.availableDelta, change.frozenDelta);
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
  const add = (map: Map<string, Decimal>, asset: string, amount: Decimal.Value) => map.set(asset, (map.get(asset) ?? new Decimal(0)).plus(amount));
  for (const b of await db.selectFrom('balances').select(['asset', 'available', 'frozen']).execute()) add(held, b.asset, new Decimal(b.available).plus(b.frozen));
  for (const f of await db.selectFrom('fee_income').selectAll().execute()) add(held, f.asset, f.amount);
  for (const d of await db.selectFrom('deposits').select(['asset', 'amount']).where('status', '=', 'completed').execute()) add(broughtIn, d.asset, d.amount);
  for (const w of await db.selectFrom('withdrawals').select(['asset', 'amount']).where('kind', '=', 'chain').where('status', '=', 'completed').execute()) {
    add(broughtIn, w.asset, new Decimal(w.amount).neg());
  }
  return { held, broughtIn };
}
