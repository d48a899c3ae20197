// Screen 2: "My API". The account's keys, their actions, and an emergency "Delete all".
import { useCallback, useEffect, useState } from 'react';
import { api, type ApiKeyRow } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { CopyButton } from '../components/CopyButton';
import { ErrorMessage } from '../components/Field';
import { ChevronRight, EmptyBox, PlusIcon } from '../components/icons';
import { formatAuthority, formatTime, remainingValidity } from '../format';
import { Link } from '../router';
import { SecurityVerification } from '../components/SecurityVerification';
import { useMe } from '../session';

export const MAX_KEYS = 5;

/** A message for the next page to show (after a key is created or edited). */
let flash: string | undefined;
export function flashOnMyApi(message: string): void {
  flash = message;
}

type Pending = { kind: 'delete'; key: ApiKeyRow } | { kind: 'delete-all' } | { kind: 'enable'; key: ApiKeyRow } | null;

export function MyApiPage() {
  const me = useMe();
  const [keys, setKeys] = useState<ApiKeyRow[] | null>(null);
  const [loadError, setLoadError] = useState<string>();
  const [notice, setNotice] = useState<string | undefined>(() => {
    const message = flash;
    flash = undefined;
    return message;
  });
  const [actionError, setActionError] = useState<string>();
  const [pending, setPending] = useState<Pending>(null);
  const [busyKey, setBusyKey] = useState<string>();
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      setKeys(await api.listKeys());
      setNow(Date.now());
      setLoadError(undefined);
    } catch (error) {
      setLoadError(error instanceof Error ? error.message : String(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // Disabling is one click, like every revocation; enabling goes through the Security Verification.
  const toggle = async (key: ApiKeyRow) => {
    setActionError(undefined);
    if (key.status === 'disabled') {
      setPending({ kind: 'enable', key });
      return;
    }
    setBusyKey(key.apiKey);
    try {
      await api.disableKey(key.apiKey);
      setNotice(`API key "${key.name}" was disabled: requests signed with it are refused.`);
      await load();
    } catch (error) {
      setActionError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusyKey(undefined);
    }
  };

  const full = keys !== null && keys.length >= MAX_KEYS;

  return (
    <div className="my-api">
      <div className="page-head">
        <div>
          <h1>My API</h1>
          <p className="page-lead">
            Please do not leak the important information, such as your Secret Key and API Key, to avoid asset loss.{' '}
            <Link to="/api-doc" className="doc-link">
              Check API Doc <ChevronRight />
            </Link>
          </p>
        </div>
        <div className="page-actions">
          {keys !== null && keys.length > 0 && (
            <button type="button" className="button danger-outline" onClick={() => setPending({ kind: 'delete-all' })}>
              Delete all
            </button>
          )}
          {full ? (
            <button type="button" className="button outline" disabled aria-describedby="key-quota">
              <PlusIcon /> Create New API
            </button>
          ) : (
            <Link to="/my-api/create" className="button outline">
              <PlusIcon /> Create New API
            </Link>
          )}
        </div>
      </div>
      {full && (
        <p className="muted small" id="key-quota">
          Each account can hold up to {MAX_KEYS} API key pairs: delete one to create another.
        </p>
      )}
      <p className="notice" role="status">
        {notice ?? ''}
      </p>
      <ErrorMessage message={actionError ?? loadError} />

      <div className="table-wrap">
        <table className="keys-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">API Key</th>
              <th scope="col">Verification method</th>
              <th scope="col">Authority</th>
              <th scope="col">Remaining valid date</th>
              <th scope="col">Creation Time</th>
              <th scope="col">Last used</th>
              <th scope="col" className="align-right">
                Action
              </th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((key) => (
              <tr key={key.apiKey} className={key.status === 'disabled' ? 'disabled-row' : undefined}>
                <td>
                  <span className="key-name">{key.name}</span>
                  {key.status === 'disabled' && <span className="tag">Disabled</span>}
                  <div className="muted small ip-line">{key.ips ? `IP: ${key.ips.split(',').join(', ')}` : 'No IP binding'}</div>
                </td>
                <td>
                  <span className="with-copy">
                    <code className="api-key-cell">{key.apiKey}</code>
                    <CopyButton text={key.apiKey} label={`Copy API Key of ${key.name}`} />
                  </span>
                </td>
                <td>{key.method}</td>
                <td>{formatAuthority(key.authority)}</td>
                <td>{remainingValidity(key, now)}</td>
                <td>{formatTime(key.createdAt)}</td>
                <td>
                  {key.lastUsedAt === null ? (
                    <span className="muted">Never</span>
                  ) : (
                    <>
                      {formatTime(key.lastUsedAt)}
                      {key.lastUsedIp && <div className="muted small">from {key.lastUsedIp}</div>}
                    </>
                  )}
                </td>
                <td className="align-right actions-cell">
                  <Link to={`/my-api/edit/${encodeURIComponent(key.apiKey)}`} className="action-link">
                    Edit
                  </Link>
                  <button type="button" className="action-link" disabled={busyKey === key.apiKey} onClick={() => void toggle(key)}>
                    {key.status === 'enabled' ? 'Disable' : 'Enable'}
                  </button>
                  <button type="button" className="action-link danger-text" onClick={() => setPending({ kind: 'delete', key })}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {keys?.length === 0 && (
          <div className="empty-state">
            <EmptyBox />
            <p>No data</p>
          </div>
        )}
        {keys === null && !loadError && (
          <p className="muted empty-state" aria-busy="true">
            Loading…
          </p>
        )}
      </div>

      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete API key"
          confirmLabel="Delete"
          onClose={() => setPending(null)}
          onConfirm={async () => {
            await api.deleteKey(pending.key.apiKey);
            setPending(null);
            setNotice(`API key "${pending.key.name}" was deleted.`);
            await load();
          }}
        >
          <p>
            Delete the API key <strong>{pending.key.name}</strong> ({pending.key.apiKey})?
          </p>
          <p>Every request signed with it is refused from now on. This cannot be undone.</p>
        </ConfirmDialog>
      )}
      {pending?.kind === 'enable' && (
        <SecurityVerification
          purpose="enable_api_key"
          email={me.email}
          onClose={() => setPending(null)}
          onConfirm={async (codes) => {
            await api.enableKey(pending.key.apiKey, codes);
            setPending(null);
            setNotice(`API key "${pending.key.name}" was enabled.`);
            await load();
          }}
        />
      )}
      {pending?.kind === 'delete-all' && (
        <ConfirmDialog
          title="Delete all API keys"
          confirmLabel="Delete all"
          onClose={() => setPending(null)}
          onConfirm={async () => {
            await api.deleteAllKeys();
            setPending(null);
            setNotice('All API keys were deleted.');
            await load();
          }}
        >
          <p>
            Delete all {keys?.length ?? 0} API keys of this account at once? Use this when a key may have leaked: every bot using any of them
            stops immediately.
          </p>
          <p>This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
