// The account's security settings: codes for signed-in actions, and binding and unbinding Google
// Authenticator (unbinding needs an email code and a current authenticator code).
import type { CodePurpose } from '../domain/one-time-codes.js';
import type { UserRecord } from '../storage/users.js';
import type { AuditLog } from './audit.js';
import type { AuthenticatorService, TotpSetup } from './authenticator.js';
import type { EmailCodeService, SentCode } from './email-codes.js';
import type { SecurityVerification, VerificationInput } from './security-verification.js';

export class SecuritySettingsService {
  constructor(
    private readonly codes: EmailCodeService,
    private readonly authenticator: AuthenticatorService,
    private readonly verification: SecurityVerification,
    private readonly audit: AuditLog,
  ) {}

  /** Mails a code for a signed-in action to the account's own address. */
  sendCode(user: UserRecord, purpose: Exclude<CodePurpose, 'signup'>, ip: string): Promise<SentCode> {
    return this.codes.send(user.email, purpose, ip);
  }

  setupTotp(user: UserRecord): Promise<TotpSetup> {
    return this.authenticator.setup(user);
  }

  /**
   * Binding needs an email code as well as the authenticator's first code: with a stolen session alone,
   * nobody can bind their own authenticator and so lock the owner out of logging in.
   */
  async confirmTotp(user: UserRecord, input: { code: string; emailCode: string }, ip: string): Promise<void> {
    const emailCode = await this.codes.check(user.email, 'bind_totp', input.emailCode, ip);
    await this.authenticator.confirm(user, input.code, ip, () => this.codes.consume(emailCode));
    await this.audit.record(user.id, 'totp_bound', { ip });
  }

  async unbindTotp(user: UserRecord, input: VerificationInput, ip: string): Promise<void> {
    await this.verification.verify(user, 'unbind_totp', input, ip);
    await this.authenticator.unbind(user.id);
    await this.audit.record(user.id, 'totp_unbound', { ip });
  }
}
