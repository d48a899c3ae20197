// The portal's side of the API-key lifecycle: creating, editing and enabling need the security
// verification, revoking (disable, delete, delete all) needs only the session; every change is
// audited. Enabling is not revoking: a stolen session must not bring back a key its owner disabled.
import { ServiceError } from './errors.js';
import type { ApiKeyService, ApiKeyView, CreatedKey, CreateKeyInput, KeyChanges } from './api-keys.js';
import type { AuditLog } from './audit.js';
import type { AuthenticatorService } from './authenticator.js';
import { notBound } from './authenticator.js';
import type { SecurityVerification, VerificationInput } from './security-verification.js';
import type { UserRecord } from '../storage/users.js';

function notFound(): ServiceError {
  return new ServiceError('api_key_not_found', 'No such API key in this account.');
}

export class KeyLifecycleService {
  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly authenticator: AuthenticatorService,
    private readonly verification: SecurityVerification,
    private readonly audit: AuditLog,
  ) {}

  list(userId: number): Promise<ApiKeyView[]> {
    return this.apiKeys.list(userId);
  }

  async create(user: UserRecord, input: CreateKeyInput, verification: VerificationInput, ip: string): Promise<CreatedKey> {
    if (!(await this.authenticator.isBound(user.id))) throw notBound();
    // Every rule is checked before the codes are spent: a mistake in the form does not cost them.
    await this.apiKeys.checkCreate(user.id, input);
    await this.verification.verify(user, 'create_api_key', verification, ip);
    const created = await this.apiKeys.create(user.id, input);
    const { key } = created;
    await this.audit.record(user.id, 'api_key_created', {
      ip,
      apiKey: key.apiKey,
      detail: { name: key.name, method: key.method, authority: key.authority.join(','), ips: key.ips.join(',') },
    });
    return created;
  }

  async update(user: UserRecord, apiKey: string, changes: KeyChanges, verification: VerificationInput, ip: string): Promise<ApiKeyView> {
    if (!(await this.authenticator.isBound(user.id))) throw notBound();
    if (!(await this.apiKeys.update(user.id, apiKey, changes, { dryRun: true }))) throw notFound();
    await this.verification.verify(user, 'edit_api_key', verification, ip);
    const key = await this.apiKeys.update(user.id, apiKey, changes);
    if (!key) throw notFound();
    await this.audit.record(user.id, 'api_key_edited', {
      ip,
      apiKey,
      detail: { name: key.name, authority: key.authority.join(','), ips: key.ips.join(',') },
    });
    return key;
  }

  async disable(user: UserRecord, apiKey: string, ip: string): Promise<ApiKeyView> {
    return this.#setStatus(user, apiKey, 'disabled', ip);
  }

  async enable(user: UserRecord, apiKey: string, verification: VerificationInput, ip: string): Promise<ApiKeyView> {
    if (!(await this.authenticator.isBound(user.id))) throw notBound();
    const before = await this.apiKeys.findOwned(user.id, apiKey);
    if (!before) throw notFound();
    if (before.status === 'enabled') return before;
    await this.verification.verify(user, 'enable_api_key', verification, ip);
    return this.#setStatus(user, apiKey, 'enabled', ip);
  }

  async #setStatus(user: UserRecord, apiKey: string, status: 'enabled' | 'disabled', ip: string): Promise<ApiKeyView> {
    const before = await this.apiKeys.findOwned(user.id, apiKey);
    if (!before || !(await this.apiKeys.setOwnedStatus(user.id, apiKey, status))) throw notFound();
    if (before.status !== status) {
      await this.audit.record(user.id, status === 'enabled' ? 'api_key_enabled' : 'api_key_disabled', { ip, apiKey, detail: { name: before.name } });
    }
    return { ...before, status };
  }

  async delete(user: UserRecord, apiKey: string, ip: string): Promise<void> {
    const before = await this.apiKeys.findOwned(user.id, apiKey);
    if (!before || !(await this.apiKeys.deleteOwned(user.id, apiKey))) throw notFound();
    await this.audit.record(user.id, 'api_key_deleted', { ip, apiKey, detail: { name: before.name } });
  }

  /** Revokes every key of the account at once. */
  async deleteAll(user: UserRecord, ip: string): Promise<number> {
    const deleted = await this.apiKeys.deleteAllOwned(user.id);
    for (const key of deleted) await this.audit.record(user.id, 'api_key_deleted', { ip, apiKey: key.apiKey, detail: { name: key.name, all: 'true' } });
    return deleted.length;
  }
}
