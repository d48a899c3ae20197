// Dashboard: the account at a glance, and what to do next.
import { useEffect, useState } from 'react';
import { api, type ApiKeyRow } from '../api';
import { CopyButton } from '../components/CopyButton';
import { formatTime } from '../format';
import { Link } from '../router';
import { useMe } from '../session';
import { MAX_KEYS } from './MyApi';

export function DashboardPage() {
  const me = useMe();
  const [keys, setKeys] = useState<ApiKeyRow[] | null>(null);
  useEffect(() => {
    api.listKeys().then(setKeys, () => setKeys(null));
  }, []);
  return (
    <div className="dashboard">
      <h1>Dashboard</h1>
      <div className="cards">
        <section className="card" aria-labelledby="account-title">
          <h2 id="account-title">Account</h2>
          <dl className="facts">
            <div>
              <dt>Email</dt>
              <dd>{me.email}</dd>
            </div>
            <div>
              <dt>UID</dt>
              <dd className="with-copy">
                <span>{me.uid}</span>
                <CopyButton text={me.uid} label="Copy UID" />
              </dd>
            </div>
            <div>
              <dt>Member since</dt>
              <dd>{formatTime(me.createdAt)}</dd>
            </div>
          </dl>
        </section>
        <section className="card" aria-labelledby="security-title">
          <h2 id="security-title">Security</h2>
          <p>
            Google Authenticator: {me.totpBound ? <span className="tag success">Bound</span> : <span className="tag warning">Not bound</span>}
          </p>
          {!me.totpBound && <p className="muted">Bind it to create API keys: every key change asks for its code.</p>}
          <Link to="/security" className="button ghost small">
            {me.totpBound ? 'Security settings' : 'Bind Google Authenticator'}
          </Link>
        </section>
        <section className="card" aria-labelledby="keys-title">
          <h2 id="keys-title">API keys</h2>
          <p className="big-number">
            {keys ? keys.length : '–'}
            <span className="muted"> / {MAX_KEYS}</span>
          </p>
          <p className="muted">{keys ? `${keys.filter((k) => k.status === 'enabled').length} enabled` : ''}</p>
          <Link to="/my-api" className="button ghost small">
            My API
          </Link>
        </section>
      </div>
    </div>
  );
}
