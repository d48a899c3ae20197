// Group commit: writes submitted while a transaction is being committed are gathered and committed
// together, each inside a savepoint of its own so that one failing write undoes only itself.
// A caller's promise resolves only after its transaction has committed (an acknowledged write is
// durable), and the commit — the fsync — is shared by the whole batch.
import type { Kysely, Transaction } from 'kysely';
import { Decimal } from '../domain/ledger.js';
import type { Dialect } from './database.js';
import { addFeeIncome, insertTrades, type TradeRow } from './exchange.js';
import { insertJournal, type JournalEntry } from './ledger.js';
import type { Schema } from './schema.js';

/**
 * Writes a unit of work may leave to the end of its batch: appended journal and trade rows, and
 * additions to the fee income. Written once per batch, in the same transaction, they cost one statement, not one per order.
 */
export class DeferredWrites {
  readonly journal: JournalEntry[] = [];
  readonly trades: Array<Omit<TradeRow, 'id'>> = [];
  readonly feeIncome = new Map<string, Decimal>();

  addFee(asset: string, amount: Decimal): void {
    if (!amount.isZero()) this.feeIncome.set(asset, (this.feeIncome.get(asset) ?? new Decimal(0)).plus(amount));
  }

  mergeInto(batch: DeferredWrites): void {
    batch.journal.push(...this.journal);
    batch.trades.push(...this.trades);
    for (const [asset, amount] of this.feeIncome) batch.addFee(asset, amount);
  }

  /** Writes everything gathered; returns the ids of the trades, in order. */
  async flush(trx: Kysely<Schema>, dialect: Dialect): Promise<number[]> {
    await insertJournal(trx, this.journal);
    const tradeIds = await insertTrades(trx, this.trades);
    // In one order everywhere, so that two batches adding to the same assets never wait on each other.
    for (const asset of [...this.feeIncome.keys()].sort()) await addFeeIncome(trx, dialect, asset, this.feeIncome.get(asset)!);
    return tradeIds;
  }
}

/** How often a batch that PostgreSQL aborted for a deadlock or a serialisation failure is tried. */
const MAX_ATTEMPTS = 3;

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

type Work = (trx: Transaction<Schema>, deferred: DeferredWrites) => Promise<unknown>;

interface Pending {
  work: Work;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class BatchWriter {
  #queue: Pending[] = [];
  #running = false;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly dialect: Dialect,
    private readonly maxBatch: number,
    /** Called when a whole batch fails to commit, so that in-memory state can be rebuilt. */
    private readonly onBatchLost: (error: unknown) => Promise<void>,
  ) {}

  /** Runs work serially with all other submitted work, and resolves once it is committed. */
  submit<T>(work: (trx: Transaction<Schema>, deferred: DeferredWrites) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // Started from a later turn of the event loop, so that requests read in this one join the batch.
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  /** Resolves when everything submitted so far has been written. */
  async idle(): Promise<void> {
    while (this.#running || this.#queue.length > 0) await new Promise((r) => setTimeout(r, 1));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch);
        await this.#commit(batch);
        // A synchronous driver (better-sqlite3) commits without ever yielding to the event loop: let it
        // read the requests that arrived meanwhile, so that they share the next commit.
        await new Promise<void>((resume) => setImmediate(resume));
      }
    } finally {
      this.#running = false;
    }
  }

  async #commit(batch: Pending[], attempt = 1): Promise<void> {
    const done: Array<{ item: Pending; value: unknown }> = [];
    const refused = new Set<Pending>();
    const deferred = new DeferredWrites();
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
      for (const item of batch) {
        const point = await trx.savepoint('work').execute();
        const own = new DeferredWrites();
        try {
          const value = await item.work(point, own);
          await point.releaseSavepoint('work').execute();
          own.mergeInto(deferred);
          done.push({ item, value });
        } catch (error) {
          // A deadlock or serialisation failure is the batch's, not the work's: the batch runs again.
          if (isTransient(error)) throw error;
          await point.rollbackToSavepoint('work').execute();
          await point.releaseSavepoint('work').execute();
          refused.add(item);
          item.reject(error);
        }
      }
      await deferred.flush(trx, this.dialect);
      await trx.commit().execute();
    } catch (error) {
      if (trx) await trx.rollback().execute().catch(() => undefined);
      await this.onBatchLost(error).catch(() => undefined);
      // Nothing of the batch was committed: what was not refused on its own merits runs again, or fails.
      const unsettled = batch.filter((item) => !refused.has(item));
      if (isTransient(error) && attempt < MAX_ATTEMPTS) return this.#commit(unsettled, attempt + 1);
      for (const item of unsettled) item.reject(error);
      return;
    }
    for (const { item, value } of done) item.resolve(value);
  }
}
