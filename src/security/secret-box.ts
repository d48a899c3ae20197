// Encryption at rest for secrets the server must be able to read back (HMAC secrets, TOTP seeds).
// AES-256-GCM with a fresh 96-bit nonce per record; the record's identity is bound as associated
// data, so a ciphertext copied onto another row does not decrypt. The master key's id is recorded
// with each ciphertext so that keys can be rotated later.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SecretBox {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('The master key must be 32 bytes');
    this.#key = Buffer.from(masterKey);
    this.keyId = createHash('sha256').update(this.#key).digest('hex').slice(0, 16);
  }

  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.keyId, nonce.toString('base64'), body.toString('base64'), tag.toString('base64')].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, nonce, body, tag] = sealed.split(':');
    if (version !== VERSION || !nonce || !body || !tag) throw new Error('Unrecognised sealed secret');
    if (keyId !== this.keyId) throw new Error(`Secret sealed under master key ${keyId ?? '?'}, not the configured ${this.keyId}`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(nonce, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}
