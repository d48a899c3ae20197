// Replay protection: each (api_key, echostr) is accepted once within the receive window.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { RollingWindowCounter, type RateCharge } from '../domain/rate-limits.js';
import type { ClaimResult, ReplayGuard } from '../domain/request-auth.js';
import { keyStateOf } from './api-keys.js';
import type { Schema } from './schema.js';

/** Nonces are spread over this many maps: none grows so large that its rehash (at each doubling) stalls. */
const SHARDS = 64;
/** The arrival queue is kept in chunks of this many, dropped whole once read past: no large copy either. */
const CHUNK = 4096;

/**
 * For a single server (SQLite): maps, and a queue in arrival order from whose head expired entries
 * are dropped a few per claim, so that forgetting costs no pause however many nonces are remembered.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = Array.from({ length: SHARDS }, () => new Map<string, number>());
  #size = 0;
  /** Chunks of the queue; the head is read from the first. */
  readonly #chunks: Array<Array<{ id: string; until: number }>> = [[]];
  #head = 0;
  readonly #rates = new RollingWindowCounter();

  constructor(private readonly now: () => number) {}

  /** How many nonces are remembered. */
  get size(): number {
    return this.#size;
  }

  async claim(apiKey: string, echostr: string, expiresAt: number, rate?: RateCharge): Promise<ClaimResult> {
    const now = this.now();
    this.#forget(now);
    // See ReplayGuard: live while now < until; a claim already past its expiry protects nothing.
    if (expiresAt <= now) return { claimed: false };
    const id = `${apiKey}\n${echostr}`;
    const shard = this.#shard(id);
    const until = shard.get(id);
    if (until !== undefined && until > now) return { claimed: false };
    if (until === undefined) this.#size++;
    shard.set(id, expiresAt);
    let tail = this.#chunks[this.#chunks.length - 1]!;
    if (tail.length === CHUNK) this.#chunks.push((tail = []));
    tail.push({ id, until: expiresAt });
    return rate !== undefined && !this.#rates.hit(rate, now) ? { claimed: true, rateLimited: true } : { claimed: true };
  }

  #shard(id: string): Map<string, number> {
    return this.#seen[(id.charCodeAt(id.length - 1) * 31 + id.charCodeAt(id.length - 2)) & (SHARDS - 1)]!;
  }

  #forget(now: number): void {
    // Arrival order is nearly expiry order (timestamps may be a little out of order): an entry that
    // is not yet due holds back those behind it a little longer, which only keeps them safely.
    for (let n = 0; n < 4; n++) {
      const chunk = this.#chunks[0]!;
      if (this.#head === chunk.length) {
        if (this.#chunks.length === 1) return;
        this.#chunks.shift();
        this.#head = 0;
        continue;
      }
      const entry = chunk[this.#head]!;
      if (entry.until > now) return;
      const shard = this.#shard(entry.id);
      if (shard.get(entry.id) === entry.until) {
        shard.delete(entry.id);
        this.#size--;
      }
      this.#head++;
    }
  }
}

/**
 * For many servers sharing PostgreSQL: the primary key makes a second claim fail. The same statement
 * reads the key's current state, so that servers can cache keys and still see every change on the
 * next request: one round trip per signed request.
 */
export class DatabaseReplayGuard implements ReplayGuard {
  #nextSweep = 0;
  // Without Redis, servers on one database count rate limits each on its own (the README says so).
  readonly #rates = new RollingWindowCounter();

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly now: () => number,
  ) {}

  async claim(apiKey: string, echostr: string, expiresAt: number, rate?: RateCharge): Promise<ClaimResult> {
    const now = this.now();
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + 10_000;
      await this.db.deleteFrom('replay_nonces').where('expires_at', '<=', now).execute();
    }
    // See ReplayGuard: a row is live while now < expires_at, so one whose window has passed no longer
    // counts (the sweep may not have reached it yet); a claim already past its own expiry inserts nothing.
    const { rows } = await sql<{ claimed: number | string; status: string | null; ips: string | null; authority: string | null }>`
      WITH claim AS (
        INSERT INTO replay_nonces (api_key, echostr, expires_at)
        SELECT ${apiKey}::text, ${echostr}::text, ${expiresAt}::bigint WHERE ${expiresAt}::bigint > ${now}::bigint
        ON CONFLICT (api_key, echostr) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_nonces.expires_at <= ${now}
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM claim) AS claimed, k.status, k.ips, k.authority
      FROM (SELECT 1) AS one LEFT JOIN api_keys AS k ON k.api_key = ${apiKey}`.execute(this.db);
    const row = rows[0];
    const current = row?.status && row.ips !== null && row.authority !== null ? keyStateOf({ status: row.status, ips: row.ips, authority: row.authority }) : null;
    const claimed = Number(row?.claimed ?? 0) > 0;
    return claimed && rate !== undefined && !this.#rates.hit(rate, now) ? { claimed, current, rateLimited: true } : { claimed, current };
  }
}
