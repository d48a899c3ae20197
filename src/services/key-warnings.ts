// The warnings job: mails a key's owner before the key's non-read authority lapses and when the key
// has gone unused. A warning is claimed in the database before it is mailed (and the claim withdrawn
// if the mail fails), so neither a restart nor a second server sends it twice.
import type { Logger } from 'pino';
import { dueWarnings, expiringCreatedBetween, UNUSED_WARNING_MS } from '../domain/key-warnings.js';
import type { Database } from '../storage/database.js';
import { claimKeyWarning, listWarningCandidates, releaseKeyWarning } from '../storage/key-warnings.js';
import { keyWarningMail } from './mail-messages.js';
import type { Mailer } from './mailer.js';

export class KeyWarningService {
  constructor(
    private readonly database: Database,
    private readonly mailer: Mailer,
    private readonly now: () => number,
    private readonly logger: Logger,
    /** Writes the last-use stamps gathered in memory, so that a key used a moment ago is not called unused. */
    private readonly beforeRead: () => Promise<void> = async () => undefined,
  ) {}

  /** Sends every warning that is due and was not sent yet; returns how many were sent. */
  async runOnce(): Promise<number> {
    await this.beforeRead();
    const now = this.now();
    const expiring = expiringCreatedBetween(now);
    const candidates = await listWarningCandidates(this.database.db, {
      expiringFrom: expiring.from,
      expiringTo: expiring.to,
      unusedSince: now - UNUSED_WARNING_MS,
    });
    let sent = 0;
    for (const key of candidates) {
      for (const warning of dueWarnings(key, now)) {
        const claim = { apiKey: key.apiKey, kind: warning.kind, referenceAt: warning.referenceAt };
        if (!(await claimKeyWarning(this.database.db, { ...claim, sentAt: now }))) continue;
        try {
          await this.mailer.send(keyWarningMail(key.email, key, warning.kind, warning.referenceAt));
          sent += 1;
        } catch (error) {
          await releaseKeyWarning(this.database.db, claim);
          this.logger.warn({ err: { message: (error as Error).message }, apiKey: key.apiKey, kind: warning.kind }, 'could not mail a key warning; will retry');
        }
      }
    }
    return sent;
  }
}
