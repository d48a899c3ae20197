// Storage of balances, the journal that explains every change, and deposits.
import type { Kysely } from 'kysely';
import { applyDelta, ZERO_BALANCE, type Balance, type Decimal } from '../domain/ledger.js';
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

/** Changes a balance and journals why, inside the caller's transaction (which must hold the user's lock). */
export async function changeBalance(trx: Kysely<Schema>, change: BalanceChange): Promise<Balance> {
  const current = await trx
    .selectFrom('balances')
    .select(['available', 'frozen'])
    .where('user_id', '=', change.userId)
    .where('asset', '=', change.asset)
    .executeTakeFirst();
  const next = applyDelta(current ?? ZERO_BALANCE, change.availableDelta, change.frozenDelta);
  if (current) {
    await trx.updateTable('balances').set(next).where('user_id', '=', change.userId).where('asset', '=', change.asset).execute();
  } else {
    await trx.insertInto('balances').values({ user_id: change.userId, asset: change.asset, ...next }).execute();
  }
  await trx
    .insertInto('ledger_entries')
    .values({
      user_id: change.userId,
      asset: change.asset,
      available_delta: change.availableDelta.toFixed(),
      frozen_delta: change.frozenDelta.toFixed(),
      reason: change.reason,
      ref_type: change.refType ?? null,
      ref_id: change.refId ?? null,
      created_at: change.at,
    })
    .execute();
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
