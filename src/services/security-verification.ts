// The "Security Verification" dialog (screen 4): an email code sent for the action and a current
// Google Authenticator code, both required, both spent only when both are right.
import type { CodePurpose } from '../domain/one-time-codes.js';
import type { UserRecord } from '../storage/users.js';
import { notBound, type AuthenticatorService } from './authenticator.js';
import type { EmailCodeService } from './email-codes.js';

export interface VerificationInput {
  emailCode: string;
  totp: string;
}

export class SecurityVerification {
  constructor(
    private readonly codes: EmailCodeService,
    private readonly authenticator: AuthenticatorService,
  ) {}

  /** Throws when a code is missing, wrong, expired or already used; otherwise both codes are spent. */
  async verify(user: UserRecord, purpose: CodePurpose, input: VerificationInput, ip: string): Promise<void> {
    if (!(await this.authenticator.isBound(user.id))) {
      throw notBound();
    }
    const emailCode = await this.codes.check(user.email, purpose, input.emailCode, ip);
    const totp = await this.authenticator.check(user, input.totp, ip);
    await this.authenticator.claim(totp);
    await this.codes.consume(emailCode);
  }
}
