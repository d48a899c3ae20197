// The API-key lifecycle: create (secret shown once), list, edit, disable, enable, delete.
import {
  authorityExpiresAt,
  checkKeyQuota,
  checkKeySettings,
  newApiKeyId,
  newHmacSecret,
  newRsaKeyPair,
  normaliseAuthority,
  parseIpList,
  parseRsaPublicKey,
  validateName,
  type Authority,
  type KeyStatus,
} from '../domain/keys.js';
import { KeyRuleError } from '../domain/keys.js';
import { isSignatureMethod, type SignatureMethod } from '../domain/signing.js';
import type { SecretBox } from '../security/secret-box.js';
import {
  countLiveApiKeys,
  findApiKey,
  insertApiKey,
  listLiveApiKeys,
  markApiKeyDeleted,
  markUserApiKeysDeleted,
  setApiKeyStatus,
  updateApiKeySettings,
  type ApiKeyRecord,
} from '../storage/api-keys.js';
import type { Database } from '../storage/database.js';
import { lockUser } from '../storage/users.js';

/** What may be shown about a key after its creation: never a secret. */
export interface ApiKeyView {
  apiKey: string;
  name: string;
  method: SignatureMethod;
  ips: string[];
  authority: Authority[];
  status: Exclude<KeyStatus, 'deleted'>;
  createdAt: number;
  /** When non-read authority lapses; null when permanent. */
  authorityExpiresAt: number | null;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

export interface CreateKeyInput {
  name: string;
  method: string;
  /** The IP list as typed: comma-separated, no spaces; empty for none. */
  ips: string;
  authority: readonly string[];
  /** Beyond LBank: the user's own RSA public key, so the private key never leaves them. */
  publicKey?: string | undefined;
}

export interface CreatedKey {
  key: ApiKeyView;
  /** HMAC: 32 upper-case hex characters. RSA: base64 PKCS#8 private key, or null for a user-supplied public key. */
  secret: string | null;
}

/** Changes to a key after its creation; the method and key material cannot change. */
export interface KeyChanges {
  name?: string | undefined;
  /** The IP list as typed: comma-separated, no spaces; empty for none. */
  ips?: string | undefined;
  authority?: readonly string[] | undefined;
}

function rsaOnly(): KeyRuleError {
  return new KeyRuleError({ field: 'publicKey', rule: 'rsa_only', message: 'A public key can only be supplied for the RSA method.' });
}

/** The seed's rules for a key's settings, all checked; returns them normalised. */
function validatedSettings(input: { name: string; method: string; ips: string; authority: readonly string[] }): {
  name: string;
  method: SignatureMethod;
  ips: string[];
  authority: Authority[];
} {
  if (!isSignatureMethod(input.method)) {
    throw new KeyRuleError({ field: 'method', rule: 'unknown', message: 'The verification method must be HmacSHA256 or RSA.' });
  }
  const settings = {
    name: validateName(input.name),
    method: input.method,
    ips: parseIpList(input.ips),
    authority: normaliseAuthority(input.authority),
  };
  checkKeySettings(settings);
  return settings;
}

/** Associated data binding a sealed secret to its key. */
export function secretContext(apiKey: string): string {
  return `api_key:${apiKey}`;
}

export function toView(record: ApiKeyRecord): ApiKeyView {
  return {
    apiKey: record.apiKey,
    name: record.name,
    method: record.method,
    ips: record.ips,
    authority: record.authority,
    status: record.status === 'disabled' ? 'disabled' : 'enabled',
    createdAt: record.createdAt,
    authorityExpiresAt: authorityExpiresAt(record),
    lastUsedAt: record.lastUsedAt,
    lastUsedIp: record.lastUsedIp,
  };
}

export class ApiKeyService {
  constructor(
    private readonly database: Database,
    private readonly secretBox: SecretBox,
    private readonly now: () => number,
    /**
     * Called after a change to these keys is committed and before it is answered, so that every cache
     * of them (this process's, and every server's in a fleet) is stale from then on.
     */
    private readonly onChange: (apiKeys: string[]) => Promise<void>,
    /** Writes the last-use stamps gathered in memory, so that what is shown is current. */
    private readonly beforeRead: () => Promise<void> = async () => undefined,
  ) {}

  /** Checks a request to create a key against every rule, quota included, without creating it. */
  async checkCreate(userId: number, input: CreateKeyInput): Promise<void> {
    const { method } = validatedSettings(input);
    if (input.publicKey) {
      if (method !== 'RSA') throw rsaOnly();
      parseRsaPublicKey(input.publicKey);
    }
    checkKeyQuota(await countLiveApiKeys(this.database.db, userId));
  }

  async create(userId: number, input: CreateKeyInput): Promise<CreatedKey> {
    const settings = validatedSettings(input);
    const { method } = settings;
    if (input.publicKey && method !== 'RSA') throw rsaOnly();

    const apiKey = newApiKeyId();
    let secret: string | null;
    let secretSealed: string | null = null;
    let publicKey: string | null = null;
    if (method === 'HmacSHA256') {
      secret = newHmacSecret();
      secretSealed = this.secretBox.seal(secret, secretContext(apiKey));
    } else if (input.publicKey) {
      publicKey = parseRsaPublicKey(input.publicKey);
      secret = null;
    } else {
      const pair = newRsaKeyPair();
      publicKey = pair.publicKey;
      secret = pair.privateKey;
    }

    const record = await this.database.db.transaction().execute(async (trx) => {
      await lockUser(trx, userId, this.database.dialect);
      checkKeyQuota(await countLiveApiKeys(trx, userId));
      return insertApiKey(trx, { apiKey, userId, ...settings, secretSealed, publicKey, status: 'enabled', createdAt: this.now() });
    });
    return { key: toView(record), secret };
  }

  async list(userId: number): Promise<ApiKeyView[]> {
    await this.beforeRead();
    return (await listLiveApiKeys(this.database.db, userId)).map(toView);
  }

  /** The key's owner, or undefined if the key does not exist or is deleted. */
  async ownerOf(apiKey: string): Promise<number | undefined> {
    const record = await findApiKey(this.database.db, apiKey);
    return record && record.status !== 'deleted' ? record.userId : undefined;
  }

  /** One of the account's live keys, or undefined (also when the key is another account's). */
  async findOwned(userId: number, apiKey: string): Promise<ApiKeyView | undefined> {
    const record = await findApiKey(this.database.db, apiKey);
    return record && record.userId === userId && record.status !== 'deleted' ? toView(record) : undefined;
  }

  /**
   * Applies changes to the name, IP list and authority of one of the account's keys, re-checking every
   * rule. With `dryRun` only the checks run. Undefined when the account has no such live key.
   */
  async update(userId: number, apiKey: string, changes: KeyChanges, options: { dryRun?: boolean } = {}): Promise<ApiKeyView | undefined> {
    const current = await this.findOwned(userId, apiKey);
    if (!current) return undefined;
    const settings = validatedSettings({
      name: changes.name ?? current.name,
      method: current.method,
      ips: changes.ips ?? current.ips.join(','),
      authority: changes.authority ?? current.authority,
    });
    if (options.dryRun) return current;
    const updated = await updateApiKeySettings(this.database.db, userId, apiKey, settings, this.now());
    await this.onChange([apiKey]);
    return updated && toView(updated);
  }

  /** Disables or enables one of the account's keys; false when the account has no such live key. */
  async setOwnedStatus(userId: number, apiKey: string, status: 'enabled' | 'disabled'): Promise<boolean> {
    const changed = await setApiKeyStatus(this.database.db, apiKey, status, this.now(), userId);
    await this.onChange([apiKey]);
    return changed;
  }

  /** Deletes one of the account's keys; false when the account has no such live key. */
  async deleteOwned(userId: number, apiKey: string): Promise<boolean> {
    const deleted = await markApiKeyDeleted(this.database.db, apiKey, this.now(), userId);
    await this.onChange([apiKey]);
    return deleted;
  }

  /** Deletes every live key of the account. */
  async deleteAllOwned(userId: number): Promise<{ apiKey: string; name: string }[]> {
    const deleted = await markUserApiKeysDeleted(this.database.db, userId, this.now());
    await this.onChange(deleted.map((d) => d.apiKey));
    return deleted;
  }

  async setStatus(apiKey: string, status: 'enabled' | 'disabled'): Promise<boolean> {
    const changed = await setApiKeyStatus(this.database.db, apiKey, status, this.now());
    await this.onChange([apiKey]);
    return changed;
  }

  async delete(apiKey: string): Promise<boolean> {
    const deleted = await markApiKeyDeleted(this.database.db, apiKey, this.now());
    await this.onChange([apiKey]);
    return deleted;
  }
}
