// Master-key rotation: reseals every sealed value under a new master key, in batches of one
// transaction each, while servers keep running. Resealing changes a value's ciphertext, never its
// plaintext, so nothing a server has cached goes stale. Progress is the data itself (a value under
// the new key is done), so a rotation that is interrupted — even by kill -9 — is finished by
// running it again.
import { setTimeout as sleep } from 'node:timers/promises';
import { sealedKeyId, type SecretBox } from '../security/secret-box.js';
import type { Database } from '../storage/database.js';
import { countSealedByKey, listSealedNotUnder, replaceSealed, SEALED_KINDS, type SealedKind, type SealedValue } from '../storage/sealed-values.js';
import { secretContext } from './api-keys.js';
import { seedContext } from './authenticator.js';

export interface KindStatus {
  /** Values of this kind stored. */
  total: number;
  /** Of them, sealed under the target key. */
  current: number;
  /** Sealed under any other key: what a rotation still has to do. */
  remaining: number;
  /** The remaining ones by the key that sealed them; `opens`: whether the given keys include it. */
  others: Array<{ keyId: string; count: number; opens: boolean }>;
}

export interface MasterKeyStatus {
  /** The key values should be sealed under. */
  keyId: string;
  kinds: Record<SealedKind, KindStatus>;
  remaining: number;
}

export interface RotationProgress {
  batch: number;
  kind: SealedKind;
  resealed: number;
}

export interface RotationResult {
  resealed: Record<SealedKind, number>;
  /** Sealed under a key none of the given keys is: left as they are. */
  unreadable: Record<SealedKind, number>;
  batches: number;
}

export interface RotationOptions {
  batchSize: number;
  /** Waited between batches, to spare a busy database. */
  pauseMs?: number;
  onBatch?: (progress: RotationProgress) => void;
}

const ATTEMPTS = 5;

function contextOf(value: SealedValue): string {
  return value.kind === 'api_key_secret' ? secretContext(value.owner) : seedContext(Number(value.owner));
}

function headerOf(keyId: string): string {
  return `v1:${keyId}`;
}

/** A conflict another writer caused (PostgreSQL's deadlock or serialization failure, SQLite's busy database): worth another try. */
function transient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

export class MasterKeyService {
  constructor(private readonly database: Database) {}

  /** How many values of each kind are sealed under `box`'s sealing key, and how many under others. */
  async status(box: SecretBox): Promise<MasterKeyStatus> {
    const kinds = {} as Record<SealedKind, KindStatus>;
    let remaining = 0;
    const known = new Set(box.keyIds);
    for (const kind of SEALED_KINDS) {
      const status: KindStatus = { total: 0, current: 0, remaining: 0, others: [] };
      for (const { header, count } of await countSealedByKey(this.database.db, kind)) {
        status.total += count;
        const keyId = sealedKeyId(`${header}:`) ?? 'unrecognised';
        if (keyId === box.keyId) {
          status.current += count;
        } else {
          status.remaining += count;
          status.others.push({ keyId, count, opens: known.has(keyId) });
        }
      }
      kinds[kind] = status;
      remaining += status.remaining;
    }
    return { keyId: box.keyId, kinds, remaining };
  }

  /** Reseals, under `box`'s sealing key, every value that another key of `box` sealed. */
  async rotate(box: SecretBox, options: RotationOptions): Promise<RotationResult> {
    const header = headerOf(box.keyId);
    const result: RotationResult = { resealed: { api_key_secret: 0, totp_seed: 0 }, unreadable: { api_key_secret: 0, totp_seed: 0 }, batches: 0 };
    for (const kind of SEALED_KINDS) {
      let after: string | undefined;
      for (;;) {
        const values = await listSealedNotUnder(this.database.db, kind, header, after, options.batchSize);
        if (values.length === 0) break;
        after = values[values.length - 1]!.owner;
        const resealed: Array<[SealedValue, string]> = [];
        for (const value of values) {
          const context = contextOf(value);
          let plaintext: string;
          try {
            // Under a key not given, or damaged (GCM checks integrity): left as it is, and reported.
            plaintext = box.open(value.sealed, context);
          } catch {
            result.unreadable[kind]++;
            continue;
          }
          resealed.push([value, box.seal(plaintext, context)]);
        }
        if (resealed.length === 0) continue;
        if (result.batches > 0 && options.pauseMs) await sleep(options.pauseMs);
        const count = await this.#replace(resealed);
        result.resealed[kind] += count;
        result.batches++;
        options.onBatch?.({ batch: result.batches, kind, resealed: count });
      }
    }
    return result;
  }

  /** One batch, one transaction: values changed meanwhile (a key deleted, a seed replaced) are skipped. */
  async #replace(batch: Array<[SealedValue, string]>): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.database.db.transaction().execute(async (trx) => {
          let count = 0;
          for (const [value, resealed] of batch) if (await replaceSealed(trx, value, resealed)) count++;
          return count;
        });
      } catch (error) {
        if (attempt >= ATTEMPTS || !transient(error)) throw error;
        await sleep(50 * attempt);
      }
    }
  }
}
