// Storage of the per-account audit log.
import { sql, type Kysely } from 'kysely';
import type { Schema } from './schema.js';

export interface AuditEventRecord {
  id: number;
  userId: number;
  at: number;
  type: string;
  ip: string | null;
  apiKey: string | null;
  detail: Record<string, string> | null;
  count: number;
}

export type NewAuditEvent = Omit<AuditEventRecord, 'id' | 'count'>;

function auditRow(event: NewAuditEvent, bucket: string | null, count?: number) {
  return {
    user_id: event.userId,
    at: event.at,
    type: event.type,
    ip: event.ip,
    api_key: event.apiKey,
    detail: event.detail ? JSON.stringify(event.detail) : null,
    bucket,
    ...(count !== undefined ? { count } : {}),
  };
}

export async function insertAuditEvent(db: Kysely<Schema>, event: NewAuditEvent): Promise<void> {
  await db.insertInto('audit_events').values(auditRow(event, null)).execute();
}

export interface AggregatedAuditEvent extends NewAuditEvent {
  /** Identifies the aggregate (e.g. key, minute and reason): counts of the same bucket add up. */
  bucket: string;
  count: number;
}

/** Adds counts to aggregated events, creating them as needed. The last IP seen is kept. */
export async function addAggregatedAuditEvents(db: Kysely<Schema>, events: readonly AggregatedAuditEvent[]): Promise<void> {
  for (const event of events) {
    await db
      .insertInto('audit_events')
      .values(auditRow(event, event.bucket, event.count))
      .onConflict((oc) =>
        oc.column('bucket').doUpdateSet({
          count: sql<number>`audit_events.count + ${event.count}`,
          ip: event.ip,
        }),
      )
      .execute();
  }
}

/** An account's events, newest first; `before` (an event id) pages further back. */
export async function listAuditEvents(db: Kysely<Schema>, userId: number, options: { limit: number; before?: number | undefined }): Promise<AuditEventRecord[]> {
  let query = db.selectFrom('audit_events').selectAll().where('user_id', '=', userId);
  if (options.before !== undefined) query = query.where('id', '<', options.before);
  const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
  return rows.map((row) => ({
    id: row.id,
    userId: row.user_id,
    at: row.at,
    type: row.type,
    ip: row.ip,
    apiKey: row.api_key,
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, string>) : null,
    count: row.count,
  }));
}
