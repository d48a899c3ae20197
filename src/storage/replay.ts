// Replay protection: each (api_key, echostr) is accepted once within the receive window.
import type { Kysely } from 'kysely';
import type { ReplayGuard } from '../domain/request-auth.js';
import type { Schema } from './schema.js';

/**
 * For a single server (SQLite): a map, and a queue in arrival order from whose head expired entries
 * are dropped a few per claim, so that forgetting costs no pause however many nonces are remembered.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, number>();
  #queue: Array<{ id: string; until: number }> = [];
  #head = 0;

  constructor(private readonly now: () => number) {}

  /** How many nonces are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  async claim(apiKey: string, echostr: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    this.#forget(now);
    const id = `${apiKey}\n${echostr}`;
    const until = this.#seen.get(id);
    if (until !== undefined && until > now) return false;
    this.#seen.set(id, expiresAt);
    this.#queue.push({ id, until: expiresAt });
    return true;
  }

  #forget(now: number): void {
    // Arrival order is nearly expiry order (timestamps may be a little out of order): an entry that
    // is not yet due holds back those behind it a little longer, which only keeps them safely.
    for (let n = 0; n < 4 && this.#head < this.#queue.length; n++) {
      const entry = this.#queue[this.#head]!;
      if (entry.until > now) break;
      if (this.#seen.get(entry.id) === entry.until) this.#seen.delete(entry.id);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** For many servers sharing PostgreSQL: the primary key makes the second claim fail. */
export class DatabaseReplayGuard implements ReplayGuard {
  #nextSweep = 0;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly now: () => number,
  ) {}

  async claim(apiKey: string, echostr: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + 10_000;
      await this.db.deleteFrom('replay_nonces').where('expires_at', '<=', now).execute();
    }
    const result = await this.db
      .insertInto('replay_nonces')
      .values({ api_key: apiKey, echostr, expires_at: expiresAt })
      // A row whose window has passed no longer counts (the sweep may not have reached it yet).
      .onConflict((oc) =>
        oc
          .columns(['api_key', 'echostr'])
          .doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })
          .where('replay_nonces.expires_at', '<=', now),
      )
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }
}
