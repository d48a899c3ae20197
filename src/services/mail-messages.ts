// The text of the mails Keygate sends.
import { CODE_LIFETIME_MS, PURPOSE_DESCRIPTIONS, type CodePurpose } from '../domain/one-time-codes.js';
import type { KeyWarningKind } from '../domain/key-warnings.js';
import type { MailMessage } from './mailer.js';

const FOOTER = '\n\nIf this was not you, change your password and review your API keys and the audit log.\n\n— Keygate';

export function verificationCodeMail(to: string, purpose: CodePurpose, code: string): MailMessage {
  return {
    to,
    subject: `Keygate verification code to ${PURPOSE_DESCRIPTIONS[purpose]}`,
    text:
      `Your verification code to ${PURPOSE_DESCRIPTIONS[purpose]} is:\n\n    ${code}\n\n` +
      `It is valid for ${CODE_LIFETIME_MS / 60_000} minutes and can be used once. Never give it to anyone: Keygate staff will never ask for it.` +
      FOOTER,
  };
}

/** Sent instead of a sign-up code when the address already has an account (so that sign-up does not reveal it). */
export function accountExistsMail(to: string): MailMessage {
  return {
    to,
    subject: 'Keygate: someone tried to sign up with your email address',
    text: 'Someone asked to create a Keygate account with this email address, but it already has an account. You can log in with it as usual.' + FOOTER,
  };
}

function day(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function keyWarningMail(to: string, key: { name: string; apiKey: string }, kind: KeyWarningKind, referenceAt: number): MailMessage {
  const label = `"${key.name}" (${key.apiKey})`;
  switch (kind) {
    case 'authority_expires_7d':
    case 'authority_expires_1d':
      return {
        to,
        subject: `Keygate: API key "${key.name}" loses its trading authority in ${kind === 'authority_expires_7d' ? '7 days' : '1 day'}`,
        text:
          `Your API key ${label} is not bound to an IP address, so its authority beyond Read expires on ${day(referenceAt)}. ` +
          'After that it can only read. To keep its authority, bind IP addresses to it in My API.' +
          FOOTER,
      };
    case 'unused_30d':
      return {
        to,
        subject: `Keygate: API key "${key.name}" has not been used for 30 days`,
        text:
          `Your API key ${label} has not been used since ${day(referenceAt)}. ` +
          'A key nobody uses is a risk if it leaks: if you no longer need it, delete it in My API.' +
          FOOTER,
      };
  }
}
