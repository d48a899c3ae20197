// Google Authenticator: set-up (a sealed seed awaiting its first code), confirmation, checks of codes
// that accept each code once, and unbinding.
import QRCode from 'qrcode';
import { checkTotp, newTotpEnrolment } from '../domain/totp.js';
import type { SecretBox } from '../security/secret-box.js';
import {
  bindAuthenticator,
  claimTotpStep,
  deleteAuthenticator,
  findAuthenticator,
  isAuthenticatorBound,
  savePendingAuthenticator,
} from '../storage/authenticators.js';
import type { Database } from '../storage/database.js';
import type { UserRecord } from '../storage/users.js';
import { ServiceError } from './errors.js';
import type { ThrottleService } from './throttle.js';

export interface TotpSetup {
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

/** A code that passed its check, to be claimed with `claim` (which makes it unusable again). */
export interface CheckedTotp {
  readonly userId: number;
  readonly step: number;
}

const FIELD = 'totp';

/** Associated data binding a sealed seed to its account. */
export function seedContext(userId: number): string {
  return `totp_seed:${userId}`;
}

export class AuthenticatorService {
  constructor(
    private readonly database: Database,
    private readonly secretBox: SecretBox,
    private readonly throttle: ThrottleService,
    private readonly now: () => number,
    private readonly issuer: string,
  ) {}

  isBound(userId: number): Promise<boolean> {
    return isAuthenticatorBound(this.database.db, userId);
  }

  /** Starts binding: a new seed, shown once as text, otpauth URL and QR code; replaces an unconfirmed one. */
  async setup(user: UserRecord): Promise<TotpSetup> {
    const enrolment = newTotpEnrolment(this.issuer, user.email);
    const sealed = this.secretBox.seal(enrolment.secret, seedContext(user.id));
    if (!(await savePendingAuthenticator(this.database.db, user.id, sealed, this.now()))) throw alreadyBound();
    const qrSvg = await QRCode.toString(enrolment.otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret: enrolment.secret, otpauthUrl: enrolment.otpauthUrl, qrSvg };
  }

  /**
   * Binds the seed from `setup` once the authenticator shows a code for it. `beforeBind` runs after the
   * code is found right and before the binding is written (it spends the email code that goes with it).
   */
  async confirm(user: UserRecord, code: string, ip: string, beforeBind: () => Promise<void> = async () => undefined): Promise<void> {
    const record = await findAuthenticator(this.database.db, user.id);
    if (record?.boundAt != null) throw alreadyBound();
    if (!record) throw new ServiceError('totp_setup_required', 'Start binding Google Authenticator first (set-up), then enter the code it shows.');
    const attempt = await this.throttle.reserve(['wrong_code:account', user.email], ['wrong_code:ip', ip]);
    const result = checkTotp(this.secretBox.open(record.seedSealed, seedContext(user.id)), code, this.now(), null);
    if (!result.ok) throw incorrect();
    await attempt.refund();
    await beforeBind();
    if (await bindAuthenticator(this.database.db, user.id, record.seedSealed, result.step, this.now())) return;
    // A master-key rotation may have resealed the same seed meanwhile: bind it if so.
    const current = await findAuthenticator(this.database.db, user.id);
    const same =
      current && current.boundAt === null && current.createdAt === record.createdAt && this.secretBox.open(current.seedSealed, seedContext(user.id)) === this.secretBox.open(record.seedSealed, seedContext(user.id));
    if (!same || !(await bindAuthenticator(this.database.db, user.id, current.seedSealed, result.step, this.now()))) {
      throw new ServiceError('totp_setup_required', 'The set-up changed meanwhile: scan the newest QR code and enter its code.');
    }
  }

  /** Checks a code of the bound authenticator without using it up. Wrong codes count against the throttles. */
  async check(user: UserRecord, code: string | undefined, ip: string): Promise<CheckedTotp> {
    const record = await findAuthenticator(this.database.db, user.id);
    if (!record || record.boundAt === null) throw notBound();
    if (code === undefined || code.trim() === '') throw new ServiceError('totp_required', 'Enter the code that Google Authenticator shows.', FIELD);
    const attempt = await this.throttle.reserve(['wrong_code:account', user.email], ['wrong_code:ip', ip]);
    const result = checkTotp(this.secretBox.open(record.seedSealed, seedContext(user.id)), code, this.now(), record.lastUsedStep);
    if (!result.ok) throw result.reason === 'reused' ? reused() : incorrect();
    await attempt.refund();
    return { userId: user.id, step: result.step };
  }

  /** Uses a checked code up; fails if it (or a later one) was used meanwhile. */
  async claim(code: CheckedTotp): Promise<void> {
    if (!(await claimTotpStep(this.database.db, code.userId, code.step))) throw reused();
  }

  async unbind(userId: number): Promise<void> {
    await deleteAuthenticator(this.database.db, userId);
  }
}

function alreadyBound(): ServiceError {
  return new ServiceError('totp_already_bound', 'Google Authenticator is already bound to this account. Unbind it first to bind another.');
}

export function notBound(): ServiceError {
  return new ServiceError('totp_not_bound', 'Bind Google Authenticator first (Security > Google Authenticator): it is required for this action.', FIELD);
}

function incorrect(): ServiceError {
  return new ServiceError('totp_incorrect', 'The Google Authenticator code is incorrect. Check that the time on your phone is set automatically.', FIELD);
}

function reused(): ServiceError {
  return new ServiceError('totp_reused', 'This Google Authenticator code was already used. Wait for the next code and enter it.', FIELD);
}
