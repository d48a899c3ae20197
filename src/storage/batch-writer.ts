// Group commit: writes submitted while a transaction is being committed are gathered and committed
// together, by work that takes the whole batch at once (a statement per kind of row, not per write).
// A caller's promise resolves only after its transaction has committed (an acknowledged write is
// durable), and the commit — the fsync — is shared by the whole batch.
import type { Kysely, Transaction } from 'kysely';
import type { Schema } from './schema.js';

/** How often a batch that PostgreSQL aborted for a deadlock or a serialisation failure is tried. */
const MAX_ATTEMPTS = 3;

/** Thrown by a batch that met a concurrent batch's write (a unique key taken meanwhile): it runs again. */
export class BatchConflict extends Error {
  constructor(what: string) {
    super(`A concurrent transaction wrote ${what} first`);
    this.name = 'BatchConflict';
  }
}

/**
 * A batch still met concurrent writes (deadlocks, serialisation failures, conflicts) after every
 * attempt: nothing of it was written, and its writes may simply be sent again.
 */
export class WriteContentionError extends Error {
  constructor(cause: unknown) {
    super(`The batch met concurrent writes ${MAX_ATTEMPTS} times in a row; nothing was written`, { cause });
    this.name = 'WriteContentionError';
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof BatchConflict) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** What a batch decided for one item: its value, or why it was refused (the rest commit regardless). */
export type Settled<R> = { value: R } | { refused: unknown };

/**
 * Writes a whole batch in the caller's transaction and settles every item, in order. Refusing an
 * item must leave nothing of it written; throwing fails (or, if transient, reruns) the whole batch.
 */
export type BatchWork<I, R> = (trx: Transaction<Schema>, items: readonly I[]) => Promise<Array<Settled<R>>>;

/**
 * An optional first pass over a batch, outside any transaction: it settles what it can in statements
 * that are each atomic on their own (one round trip and its commit, instead of a transaction's
 * several), and leaves the rest (undefined) to the batch's transaction. Throwing leaves it all there.
 */
export type QuickPass<I, R> = (db: Kysely<Schema>, items: readonly I[]) => Promise<Array<Settled<R> | undefined>>;

interface Pending<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class BatchWriter<I, R> {
  #queue: Array<Pending<I, R>> = [];
  #running = false;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly maxBatch: number,
    private readonly work: BatchWork<I, R>,
    private readonly quickPass?: QuickPass<I, R>,
  ) {}

  /** Writes the item with the others submitted meanwhile, and resolves once it is committed. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
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
        await this.#commit(this.quickPass ? await this.#quick(batch) : batch);
        // A synchronous driver (better-sqlite3) commits without ever yielding to the event loop: let it
        // read the requests that arrived meanwhile, so that they share the next commit.
        await new Promise<void>((resume) => setImmediate(resume));
      }
    } finally {
      this.#running = false;
    }
  }

  /** Settles what the quick pass can; returns the rest. */
  async #quick(batch: Array<Pending<I, R>>): Promise<Array<Pending<I, R>>> {
    let settled: Array<Settled<R> | undefined>;
    try {
      settled = await this.quickPass!(this.db, batch.map((p) => p.item));
    } catch (error) {
      if (isTransient(error)) return batch;
      for (const pending of batch) pending.reject(error);
      return [];
    }
    return batch.filter((pending, i) => {
      const outcome = settled[i];
      if (!outcome) return true;
      if ('value' in outcome) pending.resolve(outcome.value);
      else pending.reject(outcome.refused);
      return false;
    });
  }

  async #commit(batch: Array<Pending<I, R>>, attempt = 1): Promise<void> {
    if (batch.length === 0) return;
    let settled: Array<Settled<R>>;
    try {
      settled = await this.db.transaction().execute((trx) => this.work(trx, batch.map((p) => p.item)));
    } catch (error) {
      // Nothing of the batch was committed: it runs again, or every item fails.
      if (isTransient(error) && attempt < MAX_ATTEMPTS) return this.#commit(batch, attempt + 1);
      const failure = isTransient(error) ? new WriteContentionError(error) : error;
      for (const pending of batch) pending.reject(failure);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = settled[i]!;
      if ('value' in outcome) pending.resolve(outcome.value);
      else pending.reject(outcome.refused);
    });
  }
}
