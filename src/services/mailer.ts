// Outgoing mail. With SMTP_URL, real SMTP through nodemailer; without it, mails are written to the
// server log so that a server started alone still shows its verification codes to its operator.
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export class SmtpMailer implements Mailer {
  readonly #transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.#transport = nodemailer.createTransport(smtpUrl);
  }

  async send(message: MailMessage): Promise<void> {
    await this.#transport.sendMail({ from: this.from, to: message.to, subject: message.subject, text: message.text });
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

/** The development mailer: the mail, code included, goes to the log. Never use it in production. */
export class LogMailer implements Mailer {
  constructor(
    private readonly logger: Logger,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    // Warn level, so that the mail shows at any level an operator is likely to run.
    this.logger.warn(
      { mail: { from: this.from, to: message.to, subject: message.subject, text: message.text } },
      'SMTP_URL is not set: this mail was written to the log instead of being sent',
    );
  }

  async close(): Promise<void> {}
}

/** Counts what a mailer sends and what it fails to send (metrics), passing every outcome on. */
export function countedMailer(mailer: Mailer, counts: { sent(): void; failed(): void }): Mailer {
  return {
    async send(message) {
      try {
        await mailer.send(message);
      } catch (error) {
        counts.failed();
        throw error;
      }
      counts.sent();
    },
    close: () => mailer.close(),
  };
}

export function createMailer(config: { smtpUrl: string | undefined; mailFrom: string }, logger: Logger): Mailer {
  return config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.mailFrom) : new LogMailer(logger, config.mailFrom);
}
