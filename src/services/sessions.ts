// Portal sessions (policy in src/domain/sessions.ts).
import { checkSession, csrfTokenFor, newSessionToken, parseSessionToken, type SessionPolicy } from '../domain/sessions.js';
import type { Database } from '../storage/database.js';
import { deleteSession, deleteStaleSessions, deleteUserSessions, findSession, insertSession, touchSession } from '../storage/sessions.js';

export interface StartedSession {
  /** The cookie value; never stored or logged. */
  token: string;
  csrfToken: string;
  expiresAt: number;
}

export interface ActiveSession {
  id: string;
  userId: number;
  csrfToken: string;
  expiresAt: number;
}

export class SessionService {
  constructor(
    private readonly database: Database,
    readonly policy: SessionPolicy,
    private readonly now: () => number,
  ) {}

  /** A new session (at login: the token is always new, never one the browser brought). */
  async start(userId: number, ip: string): Promise<StartedSession> {
    const now = this.now();
    const fresh = newSessionToken();
    const expiresAt = now + this.policy.absoluteMs;
    await insertSession(this.database.db, { id: fresh.id, userId, secretHash: fresh.secretHash, createdAt: now, lastSeenAt: now, expiresAt, ip });
    return { token: fresh.token, csrfToken: csrfTokenFor(fresh.token), expiresAt };
  }

  /** The session a cookie value stands for, if it is live; an expired one is removed. */
  async authenticate(token: string | undefined): Promise<ActiveSession | undefined> {
    const parts = token ? parseSessionToken(token) : undefined;
    if (!token || !parts) return undefined;
    const now = this.now();
    const stored = await findSession(this.database.db, parts.id);
    const result = checkSession(stored, parts.secret, this.policy, now);
    if (!result.ok) {
      if (stored && result.reason !== 'unknown') await deleteSession(this.database.db, parts.id);
      return undefined;
    }
    if (result.touch) await touchSession(this.database.db, parts.id, now);
    return { id: parts.id, userId: stored!.userId, csrfToken: csrfTokenFor(token), expiresAt: stored!.expiresAt };
  }

  async end(sessionId: string): Promise<void> {
    await deleteSession(this.database.db, sessionId);
  }

  async endAll(userId: number): Promise<number> {
    return deleteUserSessions(this.database.db, userId);
  }

  async sweep(): Promise<void> {
    await deleteStaleSessions(this.database.db, this.now(), this.policy.idleMs);
  }
}
