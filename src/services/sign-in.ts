// Sign-up, login, logout and password change: the flows that hand out and end portal sessions.
import { ServiceError } from './errors.js';
import { assertPasswordAcceptable, normaliseEmail, type AccountService } from './accounts.js';
import type { AuditLog } from './audit.js';
import type { AuthenticatorService } from './authenticator.js';
import type { EmailCodeService, SentCode } from './email-codes.js';
import { accountExistsMail } from './mail-messages.js';
import type { SessionService, StartedSession } from './sessions.js';
import type { ThrottleService, ThrottleSubject } from './throttle.js';
import type { Database } from '../storage/database.js';
import { hasLoggedInFrom, rememberLoginAddress } from '../storage/login-addresses.js';
import type { UserRecord } from '../storage/users.js';

export interface SignedIn {
  user: UserRecord;
  session: StartedSession;
}

export class SignInService {
  constructor(
    private readonly accounts: AccountService,
    private readonly codes: EmailCodeService,
    private readonly authenticator: AuthenticatorService,
    private readonly sessions: SessionService,
    private readonly throttle: ThrottleService,
    private readonly audit: AuditLog,
    private readonly database: Database,
    private readonly now: () => number,
  ) {}

  /**
   * Mails a sign-up code. To an address that already has an account a notice goes instead, and the
   * answer is the same, so that this endpoint does not tell who has an account.
   */
  async sendSignUpCode(emailInput: string, ip: string): Promise<SentCode> {
    const email = normaliseEmail(emailInput);
    const existing = await this.accounts.findByEmail(email);
    return this.codes.send(email, 'signup', ip, existing ? () => accountExistsMail(email) : undefined);
  }

  async signUp(input: { email: string; password: string; emailCode: string }, ip: string): Promise<SignedIn> {
    const email = normaliseEmail(input.email);
    // The password is checked before the code is spent, so a rejected password does not cost a code.
    assertPasswordAcceptable(input.password, email);
    const code = await this.codes.check(email, 'signup', input.emailCode, ip);
    await this.codes.consume(code);
    const user = await this.accounts.create(email, input.password);
    await rememberLoginAddress(this.database.db, user.id, ip, this.now());
    await this.audit.record(user.id, 'signup', { ip });
    return { user, session: await this.sessions.start(user.id, ip) };
  }

  /**
   * Every attempt is counted before the password is verified (see ThrottleService), and the same work
   * is done whether or not the address has an account: a hash is verified either way, so that neither
   * the answer nor its timing tells who has one.
   */
  async login(input: { email: string; password: string; totp?: string | undefined }, ip: string): Promise<SignedIn> {
    const email = input.email.trim().toLowerCase();
    const user = await this.accounts.findByEmail(email);
    const knownAddress = await hasLoggedInFrom(this.database.db, user?.id, ip);
    const attempt = await this.throttle.reserve(
      ['login_failure:account_ip', `${email} ${ip}`],
      ['login_failure:ip', ip],
      ...(knownAddress ? [] : [['login_failure:account', email] satisfies ThrottleSubject]),
    );
    const passwordRight = await this.accounts.verifyPassword(user, input.password);
    if (!user || !passwordRight) {
      if (user) await this.audit.record(user.id, 'login_failed', { ip, detail: { reason: 'password' } });
      throw new ServiceError('invalid_credentials', 'Incorrect email or password.');
    }
    if (await this.authenticator.isBound(user.id)) {
      if (!input.totp) {
        // Not a guess: the form asks for the code next.
        await attempt.refund();
        throw new ServiceError('totp_required', 'Enter the code that Google Authenticator shows.', 'totp');
      }
      try {
        await this.authenticator.claim(await this.authenticator.check(user, input.totp, ip));
      } catch (error) {
        if (error instanceof ServiceError && (error.code === 'totp_incorrect' || error.code === 'totp_reused')) {
          await this.audit.record(user.id, 'login_failed', { ip, detail: { reason: 'totp' } });
        }
        throw error;
      }
    }
    await attempt.refund();
    await this.throttle.reset(['login_failure:account_ip', `${email} ${ip}`]);
    await rememberLoginAddress(this.database.db, user.id, ip, this.now());
    const session = await this.sessions.start(user.id, ip);
    await this.audit.record(user.id, 'login', { ip });
    return { user, session };
  }

  async logout(user: UserRecord, sessionId: string, ip: string): Promise<void> {
    await this.sessions.end(sessionId);
    await this.audit.record(user.id, 'logout', { ip });
  }

  /** Changes the password and ends every session of the account, this one included. */
  async changePassword(user: UserRecord, input: { currentPassword: string; newPassword: string; totp?: string | undefined }, ip: string): Promise<void> {
    assertPasswordAcceptable(input.newPassword, user.email);
    const attempt = await this.throttle.reserve(['login_failure:account_ip', `${user.email} ${ip}`], ['login_failure:ip', ip]);
    if (!(await this.accounts.verifyPassword(user, input.currentPassword))) {
      await this.audit.record(user.id, 'login_failed', { ip, detail: { reason: 'password' } });
      throw new ServiceError('password_incorrect', 'The current password is incorrect.', 'currentPassword');
    }
    await attempt.refund();
    if (await this.authenticator.isBound(user.id)) {
      await this.authenticator.claim(await this.authenticator.check(user, input.totp, ip));
    }
    await this.accounts.setPassword(user, input.newPassword);
    await this.sessions.endAll(user.id);
    await this.audit.record(user.id, 'password_changed', { ip });
  }
}
