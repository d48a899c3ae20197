// Replay protection: each (api_key, echostr) is accepted once within the receive window.
import type { Kysely } from 'kysely';
import type { ReplayGuard } from '../domain/request-auth.js';
import type { Schema } from './schema.js';

/** For a single server (SQLite): a map swept as entries expire. */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, number>();
  #nextSweep = 0;

  constructor(private readonly now: () => number) {}

  async claim(apiKey: string, echostr: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    if (now >= this.#nextSweep) this.#sweep(now);
    const id = `${apiKey}\n${echostr}`;
    const until = this.#seen.get(id);
    if (until !== undefined && until > now) return false;
    this.#seen.set(id, expiresAt);
    return true;
  }

  #sweep(now: number): void {
    for (const [id, until] of this.#seen) if (until <= now) this.#seen.delete(id);
    this.#nextSweep = now + 1000;
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
