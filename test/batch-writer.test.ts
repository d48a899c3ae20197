// Group commit: a batch that keeps meeting concurrent writes runs again, and after its last attempt
// every one of its writes fails as contention (LBank 10017, HTTP 503: retry), never as a bare 500. A
// quick pass settles what it can first; what it leaves, or all of it if it meets a concurrent write,
// goes to the batch's transaction.
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { toLbankError } from '../src/http/v2/errors.js';
import { BatchConflict, BatchWriter, WriteContentionError, type Settled } from '../src/storage/batch-writer.js';
import type { Schema } from '../src/storage/schema.js';

describe('the batch writer', () => {
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
  afterAll(() => db.destroy());

  it('runs a batch that met a concurrent write again, and answers every write of it', async () => {
    let attempts = 0;
    const writer = new BatchWriter<number, number>(db, 16, async (_trx, items): Promise<Array<Settled<number>>> => {
      attempts++;
      if (attempts === 1) throw new BatchConflict('a custom_id');
      return items.map((n) => (n % 2 === 0 ? { value: n * 10 } : { refused: new Error(`odd ${n}`) }));
    });
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => writer.submit(n)));
    expect(attempts).toBe(2);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['odd 1', 20, 'odd 3', 40]);
  });

  it('fails every write as contention after the last attempt, which /v2 answers 10017 with HTTP 503', async () => {
    let attempts = 0;
    const writer = new BatchWriter<number, number>(db, 16, async () => {
      attempts++;
      throw new BatchConflict('a custom_id');
    });
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => writer.submit(n)));
    expect(attempts).toBe(3);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(reason).toBeInstanceOf(WriteContentionError);
      expect(toLbankError(reason)).toMatchObject({ code: 10017, httpStatus: 503 });
    }
  });

  it('leaves to the transaction what the quick pass did not settle, and all of it when the pass met a concurrent write', async () => {
    const transacted: number[][] = [];
    let conflict = false;
    const writer = new BatchWriter<number, number>(
      db,
      16,
      async (_trx, items) => {
        transacted.push([...items]);
        return items.map((n) => ({ value: -n }));
      },
      async (_db, items) => {
        if (conflict) throw new BatchConflict('a custom_id');
        return items.map((n) => (n > 2 ? { value: n } : n === 2 ? { refused: new Error('two') } : undefined));
      },
    );
    const settle = (ns: number[]) => Promise.allSettled(ns.map((n) => writer.submit(n))).then((all) => all.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)));
    expect(await settle([1, 2, 3])).toEqual([-1, 'two', 3]);
    expect(transacted).toEqual([[1]]);
    conflict = true;
    expect(await settle([4, 5])).toEqual([-4, -5]);
    expect(transacted).toEqual([[1], [4, 5]]);
  });
});
