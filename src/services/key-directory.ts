// Looks keys up for the signed API: the hot path of every private request. Rows are cached; a key
// disabled anywhere is still refused on the next request (see #row for how each database ensures it).
// Decrypted secrets and parsed public keys are cached by their sealed form, which changes with the key.
import type { KeyObject } from 'node:crypto';
import { rsaPublicKeyObject } from '../domain/keys.js';
import type { VerifiableKey } from '../domain/request-auth.js';
import type { SecretBox } from '../security/secret-box.js';
import { findApiKey, recordApiKeyUses, type ApiKeyRecord } from '../storage/api-keys.js';
import type { Database } from '../storage/database.js';
import { secretContext } from './api-keys.js';

/**
 * Room for an exchange's whole active set (bench:auth --stored-keys measures 100,000 active keys of
 * 1,000,000): a cache smaller than the keys in use is emptied over and over. About 1 KB per key.
 */
const MATERIAL_CACHE_LIMIT = 250_000;
const ROW_CACHE_LIMIT = 250_000;
/** Last use is recorded at most this often per key (and whenever the client's IP changes). */
const USE_RECORD_INTERVAL_MS = 1000;

export class KeyDirectory {
  #rows = new Map<string, ApiKeyRecord | undefined>();
  #rowsStamp: number | undefined;
  /** null: a stored RSA key outside the accepted sizes, which verifies nothing. */
  readonly #material = new Map<string, string | KeyObject | null>();
  readonly #lastRecorded = new Map<string, { at: number; ip: string }>();
  #pendingUses = new Map<string, { at: number; ip: string }>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly secretBox: SecretBox,
  ) {}

  /** Forget cached rows; called by this process after it changes a key. */
  invalidate(): void {
    this.#rows = new Map();
  }

  async find(apiKey: string): Promise<VerifiableKey | undefined> {
    const record = await this.#row(apiKey);
    if (!record || record.status === 'deleted') return undefined;
    const key: VerifiableKey = {
      apiKey: record.apiKey,
      userId: record.userId,
      method: record.method,
      status: record.status,
      ips: record.ips,
      authority: record.authority,
      createdAt: record.createdAt,
    };
    if (record.method === 'HmacSHA256' && record.secretSealed) {
      key.hmacSecret = this.#materialise(record.secretSealed, () => this.secretBox.open(record.secretSealed!, secretContext(record.apiKey))) as string;
    } else if (record.method === 'RSA' && record.publicKey) {
      const publicKey = this.#materialise(record.publicKey, () => rsaPublicKeyObject(record.publicKey!) ?? null) as KeyObject | null;
      if (publicKey) key.rsaPublicKey = publicKey;
    }
    return key;
  }

  /**
   * Notes the time and IP of a successful use. The hot path never writes: stamps are gathered and
   * written together once a second, in one transaction (one commit, whatever the number of keys).
   */
  recordUse(apiKey: string, at: number, ip: string): void {
    const last = this.#lastRecorded.get(apiKey);
    if (last && last.ip === ip && at - last.at < USE_RECORD_INTERVAL_MS) return;
    this.#lastRecorded.set(apiKey, { at, ip });
    this.#pendingUses.set(apiKey, { at, ip });
    this.#flushTimer ??= setTimeout(() => void this.flushUses().catch(() => undefined), USE_RECORD_INTERVAL_MS).unref();
  }

  /**
   * Writes the stamps gathered so far (before they are read, and when the server stops). Flushes run
   * one after another, so that a reader never overtakes a write already under way.
   */
  flushUses(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const uses = this.#pendingUses;
    this.#pendingUses = new Map();
    this.#flushing = this.#flushing
      .catch(() => undefined)
      .then(async () => {
        if (uses.size === 0) return;
        // In the order of the keys, as a master-key rotation updates them: two transactions that lock
        // rows in the same order never wait on each other in a cycle.
        await this.database.relaxedDb.transaction().execute(async (trx) =>
          recordApiKeyUses(trx, this.database.dialect, [...uses].map(([apiKey, use]) => ({ apiKey, ...use }))),
        );
      });
    return this.#flushing;
  }

  async #row(apiKey: string): Promise<ApiKeyRecord | undefined> {
    // SQLite tells when another process changed the database, and the cache is dropped then. On
    // PostgreSQL rows stay cached: the claim of each request's echostr reads the key's current status,
    // IPs and authority in the same statement (DatabaseReplayGuard), and owner, method and secret of a
    // key never change.
    const stamp = this.database.externalChangeStamp();
    if (stamp !== undefined && stamp !== this.#rowsStamp) {
      this.#rows = new Map();
      this.#rowsStamp = stamp;
    }
    if (this.#rows.has(apiKey)) return this.#rows.get(apiKey);
    const record = await findApiKey(this.database.db, apiKey);
    // Unknown keys are not cached, so that guessing cannot grow the map.
    if (record) {
      if (this.#rows.size >= ROW_CACHE_LIMIT) this.#rows = new Map();
      this.#rows.set(apiKey, record);
    }
    return record;
  }

  #materialise(sealed: string, make: () => string | KeyObject | null): string | KeyObject | null {
    let value = this.#material.get(sealed);
    if (value === undefined) {
      if (this.#material.size >= MATERIAL_CACHE_LIMIT) this.#material.clear();
      value = make();
      this.#material.set(sealed, value);
    }
    return value;
  }
}
