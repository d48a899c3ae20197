// Schemas shared by several portal endpoints.
import { z } from 'zod';
import type { SentCode } from '../../services/email-codes.js';

/** A required string field with a length bound, and a message that names it. */
export function text(field: string, max: number) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`) })
    .max(max, `${field} can be at most ${max} characters long`);
}

export const okResponse = z.object({ ok: z.literal(true) }).meta({ id: 'Ok' });

export const codeSentResponse = z
  .object({
    sent: z.literal(true),
    expiresInSeconds: z.number().meta({ description: 'How long the code is valid.' }),
    resendAfterSeconds: z.number().meta({ description: 'When another code can be asked for.' }),
  })
  .meta({ id: 'CodeSent' });

export function codeSent(sent: SentCode): z.input<typeof codeSentResponse> {
  return { sent: true, expiresInSeconds: sent.expiresInMs / 1000, resendAfterSeconds: sent.resendAfterMs / 1000 };
}

/** A verification code as typed: digits, possibly with spaces around. */
export function code(field: string) {
  const what = field === 'totp' ? 'the Google Authenticator code' : 'the email verification code';
  return z
    .string({ error: (issue) => (issue.input === undefined ? `${field} is required: ${what}` : `${field} must be a string: ${what}`) })
    .max(16, `${field} is too long`);
}
