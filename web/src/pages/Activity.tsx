// Activity: the account's audit log (logins, security changes, key changes, refused signed requests).
import { useEffect, useState } from 'react';
import { api, type AuditEvent } from '../api';
import { ErrorMessage } from '../components/Field';
import { EmptyBox } from '../components/icons';
import { formatTime } from '../format';

const EVENT_LABELS: Record<string, string> = {
  signup: 'Account created',
  login: 'Logged in',
  login_failed: 'Failed login',
  logout: 'Logged out',
  password_changed: 'Password changed',
  totp_bound: 'Google Authenticator bound',
  totp_unbound: 'Google Authenticator unbound',
  api_key_created: 'API key created',
  api_key_edited: 'API key edited',
  api_key_disabled: 'API key disabled',
  api_key_enabled: 'API key enabled',
  api_key_deleted: 'API key deleted',
  api_keys_deleted_all: 'All API keys deleted',
  signed_request_rejected: 'Signed request refused',
};

const REASONS: Record<string, string> = {
  bad_signature: 'bad signature',
  ip_not_allowed: 'IP address not bound to the key',
  authority_missing: 'the key lacks the authority',
  rate_limited: 'request limit reached (10 s window)',
};

function describe(event: AuditEvent): string {
  const parts: string[] = [];
  const detail = event.detail ?? {};
  for (const [name, value] of Object.entries(detail)) {
    if (name === 'reason') parts.push(REASONS[value] ?? value);
    else if (name === 'name') parts.push(`"${value}"`);
    else parts.push(`${name}: ${value}`);
  }
  if (event.count > 1) parts.push(`${event.count} times`);
  return parts.join(' · ');
}

export function ActivityPage() {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string>();

  const load = async (before?: number) => {
    try {
      const page = await api.auditLog(before);
      setEvents((current) => (before ? [...(current ?? []), ...page.events] : page.events));
      setNextBefore(page.nextBefore);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  useEffect(() => {
    void load();
  }, []);
  return (
    <div className="activity">
      <h1>Activity</h1>
      <p className="page-lead">What happened on this account, newest first. If you see something you did not do, change your password and delete your API keys.</p>
      <ErrorMessage message={error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">API Key</th>
              <th scope="col">Details</th>
              <th scope="col">IP</th>
            </tr>
          </thead>
          <tbody>
            {events?.map((event) => (
              <tr key={event.id}>
                <td>{formatTime(event.at)}</td>
                <td>{EVENT_LABELS[event.type] ?? event.type}</td>
                <td>{event.apiKey ? <code className="api-key-cell">{event.apiKey}</code> : <span className="muted">–</span>}</td>
                <td>{describe(event)}</td>
                <td>{event.ip ?? <span className="muted">–</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {nextBefore !== null && (
          <div className="load-more">
            <button
              type="button"
              className="button ghost small"
              disabled={loadingMore}
              onClick={() => {
                setLoadingMore(true);
                void load(nextBefore).finally(() => setLoadingMore(false));
              }}
            >
              Load older events
            </button>
          </div>
        )}
        {events?.length === 0 && (
          <div className="empty-state">
            <EmptyBox />
            <p>No data</p>
          </div>
        )}
      </div>
    </div>
  );
}
