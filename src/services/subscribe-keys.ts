// Subscribe keys for the WebSocket API's private streams: made, refreshed and destroyed by signed
// requests of an API key holding Read, checked by every server's streams. A change that kills keys
// (destroy, or their API key disabled, deleted or without Read) is announced on the bus, so that the
// streams they opened stop within moments on whichever server holds them.
import {
  MAX_SUBSCRIBE_KEYS_PER_API_KEY,
  SUBSCRIBE_KEY_LIFETIME_MS,
  isSubscribeKeyForm,
  newSubscribeKey,
  revocationOf,
  standingOf,
  subscribeKeyDigest,
  type RevocationReason,
  type SubscribeKeyRecord,
  type SubscribeKeyStanding,
} from '../domain/subscribe-keys.js';
import { findApiKey } from '../storage/api-keys.js';
import type { Database } from '../storage/database.js';
import {
  deleteExpiredSubscribeKeys,
  deleteSubscribeKey,
  extendSubscribeKey,
  findSubscribeKeys,
  insertSubscribeKey,
  revokeSubscribeKeys,
} from '../storage/subscribe-keys.js';
import { BUS_CHANNELS, type EventBus } from './event-bus.js';

export class SubscribeKeyService {
  constructor(
    private readonly database: Database,
    private readonly bus: EventBus,
    private readonly now: () => number,
  ) {}

  async create(apiKey: string, userId: number): Promise<{ subscribeKey: string; expiresAt: number }> {
    const subscribeKey = newSubscribeKey();
    const createdAt = this.now();
    const expiresAt = createdAt + SUBSCRIBE_KEY_LIFETIME_MS;
    await insertSubscribeKey(this.database.db, { digest: subscribeKeyDigest(subscribeKey), apiKey, userId, createdAt, expiresAt }, MAX_SUBSCRIBE_KEYS_PER_API_KEY);
    return { subscribeKey, expiresAt };
  }

  /** Extends a live key of this API key to 60 minutes from now; undefined when it has none such. */
  async refresh(apiKey: string, subscribeKey: string): Promise<number | undefined> {
    if (!isSubscribeKeyForm(subscribeKey)) return undefined;
    const now = this.now();
    const expiresAt = now + SUBSCRIBE_KEY_LIFETIME_MS;
    return (await extendSubscribeKey(this.database.db, subscribeKeyDigest(subscribeKey), apiKey, expiresAt, now)) ? expiresAt : undefined;
  }

  /** Destroys one of this API key's subscribe keys; false when it has none such. */
  async destroy(apiKey: string, subscribeKey: string): Promise<boolean> {
    if (!isSubscribeKeyForm(subscribeKey)) return false;
    const destroyed = await deleteSubscribeKey(this.database.db, subscribeKeyDigest(subscribeKey), apiKey);
    if (destroyed) await this.#announce([apiKey]);
    return destroyed;
  }

  /** Where each of these keys stands now (one query for all of them). */
  async standings(subscribeKeys: readonly string[]): Promise<Map<string, SubscribeKeyStanding>> {
    const wellFormed = subscribeKeys.filter(isSubscribeKeyForm);
    const digests = new Map(wellFormed.map((k) => [k, subscribeKeyDigest(k)]));
    const records = wellFormed.length > 0 ? await findSubscribeKeys(this.database.db, [...digests.values()]) : new Map<string, SubscribeKeyRecord>();
    const now = this.now();
    return new Map(subscribeKeys.map((k) => [k, standingOf(digests.has(k) ? records.get(digests.get(k)!) : undefined, now)]));
  }

  /**
   * Called after API keys changed (and before the change is answered): their subscribe keys die if the
   * key can no longer read, for good — enabling the key again does not bring them back.
   */
  async revokeFor(apiKeys: readonly string[]): Promise<void> {
    if (apiKeys.length === 0) return;
    const reasons = new Map<string, RevocationReason>();
    const now = this.now();
    for (const apiKey of apiKeys) {
      const record = await findApiKey(this.database.db, apiKey);
      const reason = record ? revocationOf(record, now) : 'api_key_deleted';
      if (reason) reasons.set(apiKey, reason);
    }
    if (reasons.size > 0) await revokeSubscribeKeys(this.database.db, reasons);
    await this.#announce(apiKeys);
  }

  /** Forgets keys expired for a while (background jobs). */
  async sweep(): Promise<void> {
    await deleteExpiredSubscribeKeys(this.database.db, this.now() - SUBSCRIBE_KEY_LIFETIME_MS);
  }

  async #announce(apiKeys: readonly string[]): Promise<void> {
    await this.bus.publish(BUS_CHANNELS.keys, JSON.stringify(apiKeys)).catch(() => undefined);
  }
}
