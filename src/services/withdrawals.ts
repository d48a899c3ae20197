// Withdrawals: to an outside address (frozen while "applying", settled by the administrator), or an
// intra-site transfer to another Keygate UID (settled at once).
import type { Kysely, Selectable } from 'kysely';
import { Decimal, LedgerError } from '../domain/ledger.js';
import type { MarketCatalogue } from '../domain/markets.js';
import { checkWithdrawal, WithdrawalRuleError, type WithdrawalStatus } from '../domain/withdrawals.js';
import type { Database } from '../storage/database.js';
import { addFeeIncome } from '../storage/exchange.js';
import { changeBalance, type DepositRecord } from '../storage/ledger.js';
import type { Schema } from '../storage/schema.js';
import { findUserByUid, lockUser } from '../storage/users.js';
import { publishBalanceTouches, type EventBus } from './event-bus.js';

export type WithdrawalRow = Selectable<Schema['withdrawals']>;

export class WithdrawalError extends Error {
  constructor(
    readonly code: 'insufficient_balance' | 'unknown_withdrawal' | 'not_cancellable' | 'unknown_recipient',
    message: string,
  ) {
    super(message);
    this.name = 'WithdrawalError';
  }
}

export interface WithdrawalRequest {
  coin: string;
  amount: string;
  fee?: string | undefined;
  address: string;
  networkName?: string | undefined;
  memo?: string | undefined;
  clientId?: string | undefined;
  /** A transfer to another Keygate account, whose UID is the address. */
  internal: boolean;
}

export class WithdrawalService {
  constructor(
    private readonly database: Database,
    private readonly catalogue: MarketCatalogue,
    private readonly now: () => number,
    /** Told of every balance change once committed (the WebSocket's assetUpdate). */
    private readonly bus?: EventBus,
  ) {}

  async request(userId: number, request: WithdrawalRequest): Promise<WithdrawalRow> {
    const asset = this.catalogue.assets.find((a) => a.code === request.coin.toLowerCase());
    if (!asset) throw new WithdrawalRuleError('unknown_asset', `Unknown asset ${request.coin.slice(0, 32)}`);
    const { network, amount, fee } = checkWithdrawal(asset, request.networkName, request.amount, request.fee, request.address, request.internal);
    const at = this.now();
    const row = await this.database.db.transaction().execute(async (trx) => {
      await lockUser(trx, userId, this.database.dialect);
      const recipient = request.internal ? await findUserByUid(trx, request.address) : undefined;
      if (request.internal && (!recipient || recipient.id === userId)) {
        throw new WithdrawalError('unknown_recipient', 'A transfer needs the UID of another Keygate account as its address');
      }
      const row = await trx
        .insertInto('withdrawals')
        .values({
          user_id: userId,
          kind: request.internal ? 'transfer' : 'chain',
          asset: asset.code,
          network: network.name,
          address: request.address,
          memo: request.memo ?? null,
          amount: amount.toFixed(),
          fee: fee.toFixed(),
          to_user_id: recipient?.id ?? null,
          client_id: request.clientId ?? null,
          txid: null,
          status: request.internal ? 'completed' : 'applying',
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const total = amount.plus(fee);
      try {
        if (recipient) {
          const changes = [
            { userId, asset: asset.code, availableDelta: total.neg(), frozenDelta: new Decimal(0), reason: 'transfer_out', refType: 'withdrawal', refId: String(row.id), at },
            { userId: recipient.id, asset: asset.code, availableDelta: total, frozenDelta: new Decimal(0), reason: 'transfer_in', refType: 'withdrawal', refId: String(row.id), at },
          ];
          // In account order, as every writer of several balances does, so that none waits on another.
          for (const change of changes.sort((a, b) => a.userId - b.userId)) await changeBalance(trx, change);
        } else {
          await changeBalance(trx, { userId, asset: asset.code, availableDelta: total.neg(), frozenDelta: total, reason: 'withdrawal_freeze', refType: 'withdrawal', refId: String(row.id), at });
        }
      } catch (error) {
        if (error instanceof LedgerError) throw new WithdrawalError('insufficient_balance', `Insufficient ${asset.code} balance for ${total.toFixed()} (amount plus fee)`);
        throw error;
      }
      return row;
    });
    this.#touched([row.user_id, ...(row.to_user_id !== null ? [row.to_user_id] : [])], row.asset);
    return row;
  }

  #touched(userIds: number[], asset: string): void {
    if (this.bus) publishBalanceTouches(this.bus, userIds.map((userId) => ({ userId, asset })));
  }

  /** The account holder takes back a withdrawal that is still applying. */
  async cancel(userId: number, withdrawalId: number): Promise<WithdrawalRow> {
    return this.#settle(withdrawalId, 'cancelled', undefined, userId);
  }

  /** The administrator marks a withdrawal as sent (the funds leave Keygate) or rejects it (they return). */
  async complete(withdrawalId: number, txid?: string): Promise<WithdrawalRow> {
    return this.#settle(withdrawalId, 'completed', txid);
  }

  async reject(withdrawalId: number): Promise<WithdrawalRow> {
    return this.#settle(withdrawalId, 'rejected');
  }

  async list(userId: number, filter: { coin?: string; status?: WithdrawalStatus; since?: number; until?: number; clientId?: string; limit?: number }): Promise<WithdrawalRow[]> {
    let query = this.database.db.selectFrom('withdrawals').selectAll().where('user_id', '=', userId);
    if (filter.coin) query = query.where('asset', '=', filter.coin.toLowerCase());
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.clientId) query = query.where('client_id', '=', filter.clientId);
    if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('created_at', '<=', filter.until);
    return query.orderBy('id', 'desc').limit(filter.limit ?? 1000).execute();
  }

  async deposits(userId: number, filter: { coin?: string; since?: number; until?: number; limit?: number }): Promise<DepositRecord[]> {
    let query = this.database.db.selectFrom('deposits').selectAll().where('user_id', '=', userId);
    if (filter.coin) query = query.where('asset', '=', filter.coin.toLowerCase());
    if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('created_at', '<=', filter.until);
    const rows = await query.orderBy('id', 'desc').limit(filter.limit ?? 1000).execute();
    return rows.map((r) => ({ id: r.id, userId: r.user_id, asset: r.asset, network: r.network, amount: r.amount, address: r.address, txid: r.txid, status: r.status, createdAt: r.created_at }));
  }

  async #settle(withdrawalId: number, outcome: 'completed' | 'rejected' | 'cancelled', txid?: string, ownerId?: number): Promise<WithdrawalRow> {
    const at = this.now();
    const settled = await this.database.db.transaction().execute(async (trx) => {
      const row = await findWithdrawal(trx, withdrawalId, ownerId);
      if (!row) throw new WithdrawalError('unknown_withdrawal', `No withdrawal ${withdrawalId}`);
      await lockUser(trx, row.user_id, this.database.dialect);
      // Re-read under the lock: another settlement may have just finished.
      const locked = (await findWithdrawal(trx, withdrawalId, ownerId))!;
      if (locked.status !== 'applying') throw new WithdrawalError('not_cancellable', `Withdrawal ${withdrawalId} is already ${locked.status}`);
      const total = new Decimal(locked.amount).plus(locked.fee);
      const ref = { refType: 'withdrawal', refId: String(locked.id), at };
      if (outcome === 'completed') {
        // Fee income before the balance, as the engines lock them, so that the two never deadlock.
        await addFeeIncome(trx, this.database.dialect, locked.asset, new Decimal(locked.fee));
        await changeBalance(trx, { userId: locked.user_id, asset: locked.asset, availableDelta: new Decimal(0), frozenDelta: total.neg(), reason: 'withdrawal', ...ref });
      } else {
        await changeBalance(trx, { userId: locked.user_id, asset: locked.asset, availableDelta: total, frozenDelta: total.neg(), reason: `withdrawal_${outcome}`, ...ref });
      }
      return trx
        .updateTable('withdrawals')
        .set({ status: outcome, updated_at: at, txid: txid ?? (outcome === 'completed' ? `sandbox-${locked.id}-${at}` : null) })
        .where('id', '=', locked.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    this.#touched([settled.user_id], settled.asset);
    return settled;
  }
}

async function findWithdrawal(db: Kysely<Schema>, id: number, ownerId?: number): Promise<WithdrawalRow | undefined> {
  // Ids are 32-bit integers; a larger number names no withdrawal (and must not reach the database as one).
  if (!Number.isInteger(id) || id < 1 || id > 2_147_483_647) return undefined;
  let query = db.selectFrom('withdrawals').selectAll().where('id', '=', id);
  if (ownerId !== undefined) query = query.where('user_id', '=', ownerId);
  return query.executeTakeFirst();
}

