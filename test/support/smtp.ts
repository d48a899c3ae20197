// A real SMTP server in the test process (smtp-server) on 127.0.0.1:0. It keeps every mail it
// receives so tests can read verification codes the way a person reads their inbox.
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

function unfoldHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) headers.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  return headers;
}

function decodeWords(value: string): string {
  // Whitespace between two encoded words (a folded header) is not part of the text (RFC 2047 §6.2).
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_m, encoding: string, data: string) =>
    encoding.toLowerCase() === 'b'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_x, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
  );
}

/** Reads a single-part text mail as nodemailer writes it (7bit, quoted-printable or base64). */
export function parseMail(raw: string, envelope: { from: string; to: string[] }): ReceivedMail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  let body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = unfoldHeaders(head);
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    body = Buffer.from(bytes, 'latin1').toString('utf8');
  } else if (encoding === 'base64') {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { from: envelope.from, to: envelope.to, subject: decodeWords(headers.get('subject') ?? ''), text: body.replace(/\r\n/g, '\n') };
}

export class MailCatcher {
  private constructor(
    private readonly server: SMTPServer,
    readonly url: string,
    readonly mails: ReceivedMail[],
    private readonly failures: { next: number },
  ) {}

  static async start(): Promise<MailCatcher> {
    const mails: ReceivedMail[] = [];
    const failures = { next: 0 };
    const server = new SMTPServer({
      // Plain SMTP on loopback: no STARTTLS (its certificate would be self-signed), no login.
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if (failures.next > 0) {
            failures.next -= 1;
            callback(Object.assign(new Error('Mailbox unavailable (test)'), { responseCode: 450 }));
            return;
          }
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          };
          mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), envelope));
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.server.address() as { port: number };
    return new MailCatcher(server, `smtp://127.0.0.1:${port}`, mails, failures);
  }

  /** Makes the next `count` deliveries fail with a temporary error. */
  failNext(count = 1): void {
    this.failures.next = count;
  }

  /** Waits for a mail to `to` that satisfies `match`, and returns the newest such mail. */
  async waitFor(to: string, match: (mail: ReceivedMail) => boolean = () => true, timeoutMs = 5000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = [...this.mails].reverse().find((m) => m.to.includes(to) && match(m));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No mail to ${to} arrived within ${timeoutMs} ms (got ${this.mails.length} mails)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** All mails to an address, oldest first. */
  to(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The 6-digit code in a verification mail. */
export function codeIn(mail: ReceivedMail): string {
  const match = /\b(\d{6})\b/.exec(mail.text);
  if (!match?.[1]) throw new Error(`No code in the mail "${mail.subject}"`);
  return match[1];
}
