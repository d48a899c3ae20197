// Balances: credits by the administrator (sandbox deposits) and reads for the signed API.
import { randomBytes } from 'node:crypto';
import { Decimal, parseAmount } from '../domain/ledger.js';
import type { MarketCatalogue } from '../domain/markets.js';
import type { Database } from '../storage/database.js';
import { changeBalance, insertDeposit, lastBalanceChange, listBalances, type BalanceRecord, type DepositRecord } from '../storage/ledger.js';
import { lockUser } from '../storage/users.js';
import { publishBalanceTouches, type EventBus } from './event-bus.js';

export class UnknownAssetError extends Error {
  constructor(readonly asset: string) {
    super(`Unknown asset "${asset.slice(0, 32)}"`);
    this.name = 'UnknownAssetError';
  }
}

export class LedgerService {
  constructor(
    private readonly database: Database,
    private readonly catalogue: MarketCatalogue,
    private readonly now: () => number,
    /** Told of every credit once committed (the WebSocket's assetUpdate). */
    private readonly bus?: EventBus,
  ) {}

  /** Records a sandbox deposit: the balance, its journal entry and the deposit history, in one transaction. */
  async credit(userId: number, assetCode: string, amountText: string, networkName?: string): Promise<DepositRecord> {
    const asset = this.catalogue.assets.find((a) => a.code === assetCode.toLowerCase());
    if (!asset) throw new UnknownAssetError(assetCode);
    const network = networkName
      ? asset.networks.find((n) => n.name === networkName)
      : (asset.networks.find((n) => n.isDefault) ?? asset.networks[0]);
    if (!network) throw new UnknownAssetError(`${asset.code} on ${networkName ?? ''}`);
    const amount = parseAmount(amountText, asset.scale);
    const at = this.now();
    const deposit = await this.database.db.transaction().execute(async (trx) => {
      await lockUser(trx, userId, this.database.dialect);
      const deposit = await insertDeposit(trx, {
        userId,
        asset: asset.code,
        network: network.name,
        amount: amount.toFixed(),
        address: 'sandbox',
        txid: `sandbox-${randomBytes(16).toString('hex')}`,
        status: 'completed',
        createdAt: at,
      });
      await changeBalance(trx, {
        userId,
        asset: asset.code,
        availableDelta: amount,
        frozenDelta: new Decimal(0),
        reason: 'deposit',
        refType: 'deposit',
        refId: String(deposit.id),
        at,
      });
      return deposit;
    });
    if (this.bus) publishBalanceTouches(this.bus, [{ userId, asset: asset.code }]);
    return deposit;
  }

  /** The balances the account holds (a row each; never-touched assets are left out). */
  async held(userId: number): Promise<BalanceRecord[]> {
    return listBalances(this.database.db, userId);
  }

  /** Why and when the account's balance of `asset` last changed (the reason of its newest journal entry). */
  async lastChange(userId: number, asset: string): Promise<{ reason: string; at: number } | undefined> {
    return lastBalanceChange(this.database.db, userId, asset);
  }

  /** Every listed asset (zero when not held), then any other held asset. */
  async balances(userId: number): Promise<BalanceRecord[]> {
    const held = new Map((await listBalances(this.database.db, userId)).map((b) => [b.asset, b]));
    const result: BalanceRecord[] = this.catalogue.assets.map((a) => held.get(a.code) ?? { asset: a.code, available: '0', frozen: '0' });
    for (const [code, balance] of held) if (!this.catalogue.assets.some((a) => a.code === code)) result.push(balance);
    return result;
  }
}
