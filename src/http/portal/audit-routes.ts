// The account's audit log: /api/v1/audit-log.
import { z } from 'zod';
import type { App } from '../../app.js';
import { AUDIT_EVENT_TYPES } from '../../domain/audit.js';
import { defineRoute, type PortalRoute } from './route.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

export function auditRoutes(app: App): PortalRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/audit-log',
      summary: "The account's audit log, newest first",
      session: true,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
        before: z.coerce.number().int().min(1).optional().meta({ description: 'Events older than this id: the nextBefore of the page before.' }),
      }),
      response: z.object({
        events: z.array(
          z.object({
            id: z.number(),
            type: z.enum(AUDIT_EVENT_TYPES),
            at: z.number().meta({ description: 'Epoch milliseconds; for signed-API refusals, the start of the minute they are counted in.' }),
            ip: z.string().nullable(),
            apiKey: z.string().nullable(),
            count: z.number().meta({ description: 'How many times it happened (more than 1 only for signed-API refusals in one minute).' }),
            detail: z.record(z.string(), z.string()).nullable(),
          }),
        ),
        nextBefore: z.number().nullable().meta({ description: 'Pass as `before` to read further back; null at the beginning of the log.' }),
      }),
      async handler({ query, session }) {
        const events = await app.audit.list(session.user.id, { limit: query.limit, before: query.before });
        return {
          events: events.map((e) => ({
            id: e.id,
            type: e.type as (typeof AUDIT_EVENT_TYPES)[number],
            at: e.at,
            ip: e.ip,
            apiKey: e.apiKey,
            count: e.count,
            detail: e.detail,
          })),
          nextBefore: events.length === query.limit ? (events.at(-1)?.id ?? null) : null,
        };
      },
    }),
  ];
}
