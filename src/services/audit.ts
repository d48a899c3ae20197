// The per-account audit log, and the aggregation of signed-API rejections that feeds it. Rejections
// happen on the signed API's hot path, so they are counted in memory per key, minute and reason, and
// written in batches (every few seconds, before the log is read, and when the server closes).
import type { Logger } from 'pino';
import { minuteOf, type AuditEventType, type RejectionReason } from '../domain/audit.js';
import { addAggregatedAuditEvents, insertAuditEvent, listAuditEvents, type AggregatedAuditEvent, type AuditEventRecord } from '../storage/audit.js';
import type { Database } from '../storage/database.js';

export interface AuditContext {
  ip: string | null;
  apiKey?: string | undefined;
  detail?: Record<string, string> | undefined;
}

const FLUSH_INTERVAL_MS = 5000;
/** Beyond this many pending aggregates a flush is started at once, so memory stays bounded. */
const MAX_PENDING = 5000;

export class AuditLog {
  readonly #pending = new Map<string, AggregatedAuditEvent>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  async record(userId: number, type: Exclude<AuditEventType, 'signed_request_rejected'>, context: AuditContext): Promise<void> {
    await insertAuditEvent(this.database.db, {
      userId,
      at: this.now(),
      type,
      ip: context.ip,
      apiKey: context.apiKey ?? null,
      detail: context.detail ?? null,
    });
  }

  /** Counts a signed request refused for a known key. Cheap: no I/O on the caller's path. */
  recordRejection(key: { apiKey: string; userId: number }, reason: RejectionReason, ip: string, at: number): void {
    const minute = minuteOf(at);
    const bucket = `${key.apiKey}|${minute}|${reason}`;
    const pending = this.#pending.get(bucket);
    if (pending) {
      pending.count += 1;
      pending.ip = ip;
    } else {
      this.#pending.set(bucket, {
        bucket,
        userId: key.userId,
        at: minute,
        type: 'signed_request_rejected',
        ip,
        apiKey: key.apiKey,
        detail: { reason },
        count: 1,
      });
    }
    if (this.#pending.size >= MAX_PENDING) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  /** Writes the pending aggregates; flushes run one after another. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#pending.size === 0) return;
      const batch = [...this.#pending.values()];
      this.#pending.clear();
      try {
        await addAggregatedAuditEvents(this.database.db, batch);
      } catch (error) {
        this.logger.error({ err: error, events: batch.length }, 'could not write signed-API rejections to the audit log');
      }
    });
    return this.#flushing;
  }

  async list(userId: number, options: { limit: number; before?: number | undefined }): Promise<AuditEventRecord[]> {
    await this.flush();
    return listAuditEvents(this.database.db, userId, options);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
