// Screen 3: "Create New API", and the same form to edit a key. Confirm opens the Security Verification
// dialog (screen 4); a created key's secret is shown once in the API information dialog (screen 5).
import { useEffect, useState } from 'react';
import { api, ApiError, AUTHORITIES, type ApiKeyRow, type Authority, type CreatedKey, type Method } from '../api';
import { ApiInformation } from '../components/ApiInformation';
import { ErrorMessage, Field, Select } from '../components/Field';
import { WarningIcon } from '../components/icons';
import { SecurityVerification } from '../components/SecurityVerification';
import { AUTHORITY_LABELS } from '../format';
import { Link, navigate } from '../router';
import { ipsError, MAX_IPS, nameError, publicKeyError } from '../rules';
import { useMe } from '../session';
import { flashOnMyApi } from './MyApi';

const METHOD_HINTS: Record<Method, string> = {
  HmacSHA256: 'HmacSHA256 signature is a symmetric scheme with high verification efficiency, only for V2 API',
  RSA: 'RSA signature is an asymmetric scheme with high security',
};

const FORM_FIELDS = ['name', 'method', 'ips', 'authority', 'publicKey'] as const;
type FormField = (typeof FORM_FIELDS)[number];

interface FormValues {
  name: string;
  method: Method;
  ips: string;
  authority: Authority[];
  ownPublicKey: boolean;
  publicKey: string;
}

function TipPanel() {
  return (
    <aside className="tip-panel" aria-labelledby="tip-title">
      <h2 id="tip-title">Tip</h2>
      <ul>
        <li>Keygate provides you with a powerful API, you can create APIs with different permissions according to your needs, and make automatic trading or withdrawal.</li>
        <li>
          The trading permission of API enables you to quickly get the latest market information, so you can place orders and trade timely, query your own
          available and blocked balances, query your own pending orders, buy, sell or cancel orders. API allows every user to create up to 5 key pairs.
        </li>
        <li>
          Please do not leak your API Key. For security reasons, it is recommended to bind IP address for API Key, with up to {MAX_IPS} IP bindings per API Key.
          Fill in directly when you are binding single IP address, use commas for separation when you are binding multiple IP addresses, (for example:
          192.168.1.1,192.168.1.2).
        </li>
      </ul>
      <Link to="/api-doc" className="tip-doc-link">
        Check API Doc
      </Link>
    </aside>
  );
}

function Breadcrumb({ current }: { current: string }) {
  return (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <ol>
        <li>
          <Link to="/my-api">My API</Link>
        </li>
        <li aria-current="page">{current}</li>
      </ol>
    </nav>
  );
}

interface KeyFormProps {
  mode: 'create' | 'edit';
  initial: FormValues;
  /** The key being edited (its method cannot change). */
  editing?: ApiKeyRow;
  onVerified: (values: FormValues, codes: { emailCode: string; totp: string }) => Promise<void>;
}

function KeyForm({ mode, initial, editing, onVerified }: KeyFormProps) {
  const me = useMe();
  const [values, setValues] = useState<FormValues>(initial);
  // A key stored before a rule it now breaks (Transfer without IPs) opens with the reason shown.
  const [touched, setTouched] = useState<Partial<Record<FormField, boolean>>>(() =>
    mode === 'edit' && ipsError(initial.ips, initial.method, initial.authority) ? { ips: true } : {},
  );
  const [serverErrors, setServerErrors] = useState<Partial<Record<FormField, string>>>({});
  const [formError, setFormError] = useState<string>();
  const [verifying, setVerifying] = useState(false);

  const set = <K extends keyof FormValues>(field: K, value: FormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    setServerErrors((e) => ({ ...e, [field]: undefined }));
    if (field === 'name' || field === 'ips' || field === 'publicKey') setTouched((t) => ({ ...t, [field]: true }));
  };

  const errors: Partial<Record<FormField, string>> = {
    name: nameError(values.name),
    ips: ipsError(values.ips, values.method, values.authority),
    publicKey: values.method === 'RSA' && values.ownPublicKey && mode === 'create' ? publicKeyError(values.publicKey) : undefined,
  };
  const valid = !errors.name && !errors.ips && !errors.publicKey;
  const changed =
    mode === 'create' ||
    values.name.trim() !== initial.name ||
    values.ips !== initial.ips ||
    values.authority.join(',') !== initial.authority.join(',');
  const shown = (field: FormField) => serverErrors[field] ?? (touched[field] ? errors[field] : undefined);
  const canConfirm = valid && changed && me.totpBound;

  const toggleAuthority = (authority: Authority, on: boolean) => {
    const next = AUTHORITIES.filter((a) => a === 'read' || (a === authority ? on : values.authority.includes(a)));
    set('authority', next);
    if (authority === 'withdraw' || authority === 'transfer') setTouched((t) => ({ ...t, ips: true }));
  };

  const verified = async (codes: { emailCode: string; totp: string }) => {
    try {
      await onVerified(values, codes);
    } catch (error) {
      if (error instanceof ApiError && error.field && (FORM_FIELDS as readonly string[]).includes(error.field)) {
        // A rule of the form: back to the form, the error under its field.
        setVerifying(false);
        setServerErrors({ [error.field as FormField]: error.message });
        return;
      }
      if (error instanceof ApiError && ['key_limit_reached', 'api_key_not_found', 'totp_not_bound'].includes(error.code)) {
        setVerifying(false);
        setFormError(error.message);
        return;
      }
      throw error;
    }
  };

  const rsa = values.method === 'RSA';
  const ipNote = rsa ? "For the users who haven't bind IP address, the transaction API is valid for 30 days" : 'Permanent validity';

  return (
    <div className="key-form-page">
      <Breadcrumb current={mode === 'create' ? 'Create New API' : 'Edit API'} />
      <h1>{mode === 'create' ? 'Create New API' : 'Edit API'}</h1>
      <div className="key-form-columns">
        <form
          className="key-form"
          noValidate
          aria-label={mode === 'create' ? 'Create New API' : 'Edit API'}
          onSubmit={(event) => {
            event.preventDefault();
            setTouched({ name: true, ips: true, publicKey: true });
            if (canConfirm) {
              setFormError(undefined);
              setVerifying(true);
            }
          }}
        >
          {!me.totpBound && (
            <div className="banner warning" role="note">
              <WarningIcon />
              <span>
                Creating and editing API keys needs Google Authenticator. <Link to="/security">Bind Google Authenticator</Link> first.
              </span>
            </div>
          )}
          <Field label="API Name" error={shown('name')}>
            <input
              type="text"
              placeholder="Please enter API name."
              value={values.name}
              autoComplete="off"
              onChange={(event) => set('name', event.target.value)}
              onBlur={() => setTouched((t) => ({ ...t, name: true }))}
            />
          </Field>
          <Field label="Verification method" hint={METHOD_HINTS[values.method]} error={shown('method')}>
            <Select value={values.method} disabled={mode === 'edit'} onChange={(event) => set('method', event.target.value as Method)}>
              <option value="HmacSHA256">HmacSHA256</option>
              <option value="RSA">RSA</option>
            </Select>
          </Field>
          <Field
            label={rsa ? 'IP Address (Optional)' : 'IP Address (Required)'}
            note={
              <span className="red-note" data-testid="ip-note">
                {ipNote}
              </span>
            }
            error={shown('ips')}
          >
            <input
              type="text"
              placeholder="Bind up to 20 IPs, separate multiple IP addresses with commas."
              value={values.ips}
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => set('ips', event.target.value)}
              onBlur={() => setTouched((t) => ({ ...t, ips: true }))}
            />
          </Field>
          {mode === 'edit' && editing?.method === 'RSA' && values.ips === '' && initial.ips !== '' && (
            <p className="hint warning-text">Without IP addresses, this key's authority beyond Read lapses 30 days after its creation.</p>
          )}

          <fieldset className="authority">
            <legend>Authority(Multiple selection)</legend>
            <div className="checkbox-row">
              {AUTHORITIES.map((authority) => (
                <label key={authority} className="checkbox" title={authority === 'read' ? 'Read only is always on' : undefined}>
                  <input
                    type="checkbox"
                    checked={authority === 'read' || values.authority.includes(authority)}
                    disabled={authority === 'read'}
                    aria-describedby={authority === 'read' ? 'read-locked' : undefined}
                    onChange={(event) => toggleAuthority(authority, event.target.checked)}
                  />
                  <span>{AUTHORITY_LABELS[authority]}</span>
                </label>
              ))}
            </div>
            <p className="visually-hidden" id="read-locked">
              Every key can read: Read only is always on.
            </p>
            {shown('authority') && <p className="field-error">{shown('authority')}</p>}
          </fieldset>
          {values.authority.includes('withdraw') && (
            <div className="banner danger" role="alert">
              <WarningIcon />
              <div>
                <strong>Do NOT enable withdrawals unless you truly need them.</strong> Trading bots never do. Anyone who obtains a key with Withdraw can move
                your assets off the exchange. A key with Withdraw must be bound to IP addresses.
              </div>
            </div>
          )}
          {values.authority.includes('transfer') && (
            <div className="banner danger" role="alert">
              <WarningIcon />
              <div>
                <strong>Do NOT enable transfers unless you truly need them.</strong> Trading bots never do. Anyone who obtains a key with Transfer can move
                your assets to another Keygate account at once, with no way back. A key with Transfer must be bound to IP addresses.
              </div>
            </div>
          )}

          {rsa && mode === 'create' && (
            <div className="own-key">
              <label className="checkbox">
                <input type="checkbox" checked={values.ownPublicKey} onChange={(event) => set('ownPublicKey', event.target.checked)} />
                <span>Use my own RSA public key</span>
              </label>
              {values.ownPublicKey && (
                <Field
                  label="RSA public key"
                  hint="PEM (-----BEGIN PUBLIC KEY-----) or base64 SPKI, 2048 to 4096 bits, public exponent 65537. Keygate keeps only the public key: your private key never leaves you, and no secret is shown after creation."
                  error={shown('publicKey')}
                >
                  <textarea
                    rows={5}
                    spellCheck={false}
                    value={values.publicKey}
                    onChange={(event) => set('publicKey', event.target.value)}
                    onBlur={() => setTouched((t) => ({ ...t, publicKey: true }))}
                  />
                </Field>
              )}
            </div>
          )}

          <ErrorMessage message={formError} />
          <button type="submit" className="button primary confirm-button" disabled={!canConfirm}>
            Confirm
          </button>
        </form>
        <TipPanel />
      </div>
      {verifying && (
        <SecurityVerification
          purpose={mode === 'create' ? 'create_api_key' : 'edit_api_key'}
          email={me.email}
          onClose={() => setVerifying(false)}
          onConfirm={verified}
        />
      )}
    </div>
  );
}

const EMPTY: FormValues = { name: '', method: 'HmacSHA256', ips: '', authority: ['read'], ownPublicKey: false, publicKey: '' };

export function CreateApiPage() {
  const [created, setCreated] = useState<CreatedKey | null>(null);
  return (
    <main id="main" className="form-page">
      <KeyForm
        mode="create"
        initial={EMPTY}
        onVerified={async (values, codes) => {
          const result = await api.createKey({
            name: values.name.trim(),
            method: values.method,
            ips: values.ips,
            authority: values.authority,
            ...(values.method === 'RSA' && values.ownPublicKey ? { publicKey: values.publicKey.trim() } : {}),
            ...codes,
          });
          setCreated(result);
        }}
      />
      {created && (
        <ApiInformation
          created={created}
          onClose={() => {
            flashOnMyApi(`API key "${created.name}" was created.`);
            setCreated(null);
            navigate('/my-api');
          }}
        />
      )}
    </main>
  );
}

export function EditApiPage({ apiKey }: { apiKey: string }) {
  const [key, setKey] = useState<ApiKeyRow | null | undefined>(undefined);
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.listKeys().then(
      (keys) => setKey(keys.find((k) => k.apiKey === apiKey) ?? null),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  }, [apiKey]);

  if (error || key === null) {
    return (
      <main id="main" className="form-page">
        <Breadcrumb current="Edit API" />
        <h1>Edit API</h1>
        <ErrorMessage message={error ?? 'There is no such API key on this account: it may have been deleted.'} />
        <Link to="/my-api">Back to My API</Link>
      </main>
    );
  }
  if (key === undefined) {
    return (
      <main id="main" className="form-page" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  const initial: FormValues = { name: key.name, method: key.method, ips: key.ips, authority: key.authority, ownPublicKey: false, publicKey: '' };
  return (
    <main id="main" className="form-page">
      <KeyForm
        mode="edit"
        initial={initial}
        editing={key}
        onVerified={async (values, codes) => {
          await api.editKey(key.apiKey, { name: values.name.trim(), ips: values.ips, authority: values.authority, ...codes });
          flashOnMyApi(`API key "${values.name.trim()}" was saved.`);
          navigate('/my-api');
        }}
      />
    </main>
  );
}
