// Encryption at rest for secrets the server must be able to read back (HMAC secrets, TOTP seeds).
// AES-256-GCM with a fresh 96-bit nonce per record; the record's identity is bound as associated
// data, so a ciphertext copied onto another row does not decrypt. Each sealed value names the master
// key that sealed it (a 16-hex fingerprint: the first 64 bits of the key's SHA-256), so that during a
// rotation a server opens values under the new key and the previous one without trying each, and
// `admin master-key status` counts exactly what remains under the old one.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** The id a sealed value records for its master key; reveals nothing usable about the key. */
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update(masterKey).digest('hex').slice(0, 16);
}

/** The id of the master key a value was sealed under, or undefined if it is not a sealed value. */
export function sealedKeyId(sealed: string): string | undefined {
  const [version, keyId] = sealed.split(':', 2);
  return version === VERSION && keyId && /^[0-9a-f]{16}$/.test(keyId) ? keyId : undefined;
}

/** A value sealed under a master key that this process was not given. */
export class UnknownMasterKeyError extends Error {
  constructor(readonly keyId: string | undefined) {
    super(keyId ? `Secret sealed under master key ${keyId}, which is neither KEYGATE_MASTER_KEY nor KEYGATE_MASTER_KEY_PREVIOUS` : 'Unrecognised sealed secret');
    this.name = 'UnknownMasterKeyError';
  }
}

export class SecretBox {
  /** The id of the key that seals. */
  readonly keyId: string;
  /** Every key that opens, by id: the sealing key first. */
  readonly #keys = new Map<string, Buffer>();

  /** Seals under `masterKey`; opens what it or any of `previous` sealed. */
  constructor(masterKey: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [masterKey, ...previous]) {
      if (key.length !== 32) throw new Error('A master key must be 32 bytes');
      const id = masterKeyId(key);
      if (!this.#keys.has(id)) this.#keys.set(id, Buffer.from(key));
    }
    this.keyId = masterKeyId(masterKey);
  }

  /** The ids of the keys this box opens, the sealing key's first. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** A box that seals under `masterKey` and still opens whatever this one opens (a rotation). */
  sealingWith(masterKey: Buffer): SecretBox {
    return new SecretBox(masterKey, [...this.#keys.values()]);
  }

  seal(plaintext: string, context: string): string {
    const key = this.#keys.get(this.keyId)!;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.keyId, nonce.toString('base64'), body.toString('base64'), tag.toString('base64')].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, nonce, body, tag] = sealed.split(':');
    if (version !== VERSION || !nonce || !body || !tag) throw new UnknownMasterKeyError(undefined);
    const key = keyId === undefined ? undefined : this.#keys.get(keyId);
    if (!key) throw new UnknownMasterKeyError(keyId);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}
