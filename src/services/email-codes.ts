// Email verification codes: sent with a cooldown and throttled, checked with a limit on wrong tries,
// used once. A check and its use are separate steps so that a code is spent only when every other
// check of the request has passed.
import type { Logger } from 'pino';
import {
  checkCode,
  CODE_LIFETIME_MS,
  CODE_MAX_WRONG_TRIES,
  CODE_RESEND_COOLDOWN_MS,
  issueCode,
  resendWaitMs,
  type CodePurpose,
} from '../domain/one-time-codes.js';
import { describeWait } from '../domain/throttle.js';
import type { Database } from '../storage/database.js';
import { consumeEmailCode, deleteEmailCode, findEmailCode, replaceEmailCode, returnEmailCodeTry, takeEmailCodeTry } from '../storage/email-codes.js';
import { ServiceError } from './errors.js';
import { verificationCodeMail } from './mail-messages.js';
import type { Mailer, MailMessage } from './mailer.js';
import type { ThrottleService } from './throttle.js';

export interface SentCode {
  expiresInMs: number;
  resendAfterMs: number;
}

/** A code that passed its check, to be spent with `consume`. */
export interface CheckedCode {
  readonly id: number;
  readonly codeHash: string;
}

const FIELD = 'emailCode';

export class EmailCodeService {
  constructor(
    private readonly database: Database,
    private readonly mailer: Mailer,
    private readonly throttle: ThrottleService,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /**
   * Mails a new code for `purpose` to `email`, replacing any earlier one. `message` overrides the mail
   * (sign-up to an address that has an account gets a notice instead of the code).
   */
  async send(email: string, purpose: CodePurpose, ip: string, message?: (code: string) => MailMessage): Promise<SentCode> {
    const now = this.now();
    const wait = resendWaitMs(await findEmailCode(this.database.db, email, purpose), now);
    if (wait > 0) throw this.#cooldown(wait);
    await this.throttle.take(['email_send:account', email], ['email_send:ip', ip]);

    const issued = issueCode(email, purpose, now);
    const stored = await replaceEmailCode(
      this.database.db,
      { email, purpose, codeHash: issued.codeHash, createdAt: issued.createdAt, expiresAt: issued.expiresAt },
      now - CODE_RESEND_COOLDOWN_MS,
    );
    if (!stored) throw this.#cooldown(CODE_RESEND_COOLDOWN_MS);
    try {
      await this.mailer.send(message ? message(issued.code) : verificationCodeMail(email, purpose, issued.code));
    } catch (error) {
      const record = await findEmailCode(this.database.db, email, purpose);
      if (record) await deleteEmailCode(this.database.db, record.id, issued.codeHash);
      this.logger.error({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code }, purpose }, 'could not send a verification email');
      throw new ServiceError('mail_unavailable', 'The verification email could not be sent. Try again in a few minutes.');
    }
    return { expiresInMs: CODE_LIFETIME_MS, resendAfterMs: CODE_RESEND_COOLDOWN_MS };
  }

  /** Checks a code without spending it. A wrong code counts against the code and the throttles. */
  async check(email: string, purpose: CodePurpose, submitted: string, ip: string): Promise<CheckedCode> {
    const attempt = await this.throttle.reserve(['wrong_code:account', email], ['wrong_code:ip', ip]);
    const record = await findEmailCode(this.database.db, email, purpose);
    // The try is taken from the code before the digits are compared, in one statement that refuses it
    // once the code has no tries left: concurrent guesses cannot all pass the limit. A right code
    // gives its try back.
    const triesBefore = record && this.now() < record.expiresAt ? await takeEmailCodeTry(this.database.db, record.id, record.codeHash, CODE_MAX_WRONG_TRIES) : undefined;
    if (!record || triesBefore === undefined) {
      await attempt.refund();
      throw expired();
    }
    const result = checkCode({ ...record, wrongTries: triesBefore }, email, purpose, submitted, this.now());
    if (result.ok) {
      await returnEmailCodeTry(this.database.db, record.id, record.codeHash);
      await attempt.refund();
      return { id: record.id, codeHash: record.codeHash };
    }
    if (result.reason === 'expired') {
      await attempt.refund();
      throw expired();
    }
    throw new ServiceError(
      'email_code_incorrect',
      result.triesLeft > 0
        ? `The email verification code is incorrect. ${result.triesLeft} ${result.triesLeft === 1 ? 'try' : 'tries'} left.`
        : `The email verification code is incorrect, and after ${CODE_MAX_WRONG_TRIES} wrong tries it can no longer be used. Request a new one.`,
      FIELD,
    );
  }

  /** Spends a checked code; fails if another request spent it first. */
  async consume(code: CheckedCode): Promise<void> {
    if (!(await consumeEmailCode(this.database.db, code.id, code.codeHash, this.now(), CODE_MAX_WRONG_TRIES))) throw expired();
  }

  #cooldown(waitMs: number): ServiceError {
    return new ServiceError('email_code_cooldown', `A verification email was just sent. You can ask for another in ${describeWait(waitMs)}.`, undefined, waitMs);
  }
}

function expired(): ServiceError {
  return new ServiceError(
    'email_code_expired',
    'The email verification code has expired, was already used, or was sent for another action. Request a new one.',
    FIELD,
  );
}
