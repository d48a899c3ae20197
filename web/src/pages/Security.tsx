// Security: bind Google Authenticator (QR code, the secret as text, a first code), or unbind it with an
// email code and a current authenticator code.
import { useState } from 'react';
import { api, ApiError, type TotpSetup } from '../api';
import { CopyButton } from '../components/CopyButton';
import { EmailCodeInput, useCodeSender } from '../components/EmailCode';
import { ErrorMessage, Field } from '../components/Field';
import { SecurityVerification } from '../components/SecurityVerification';
import { navigate } from '../router';
import { passwordError, SIX_DIGITS } from '../rules';
import { useMe, useSession } from '../session';

function BindAuthenticator({ email, onDone }: { email: string; onDone: () => Promise<void> }) {
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState('');
  const [emailCode, setEmailCode] = useState('');
  const sender = useCodeSender();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [codeError, setCodeError] = useState<string>();
  const [emailCodeError, setEmailCodeError] = useState<string>();

  // Binding also needs a code mailed to the account, so that a stolen session cannot bind another phone.
  const send = async () => {
    setEmailCodeError(undefined);
    try {
      await sender.send(() => api.sendSecurityCode('bind_totp'));
    } catch (e) {
      setEmailCodeError(e instanceof Error ? e.message : String(e));
    }
  };

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setSetup(await api.totpSetup());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    if (!SIX_DIGITS.test(code)) {
      setCodeError('Enter the 6-digit code that Google Authenticator shows for Keygate.');
      return;
    }
    if (!SIX_DIGITS.test(emailCode)) {
      setEmailCodeError(`Enter the 6-digit code mailed to ${email} (Send).`);
      return;
    }
    setBusy(true);
    setCodeError(undefined);
    setEmailCodeError(undefined);
    setError(undefined);
    try {
      await api.totpConfirm(code, emailCode);
      await onDone();
    } catch (e) {
      if (e instanceof ApiError && e.field === 'emailCode') setEmailCodeError(e.message);
      else if (e instanceof ApiError && (e.field === 'code' || e.code.startsWith('totp_incorrect') || e.code === 'totp_reused')) setCodeError(e.message);
      else setError(e instanceof Error ? e.message : String(e));
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  if (!setup) {
    return (
      <>
        <ErrorMessage message={error} />
        <button type="button" className="button primary" disabled={busy} onClick={() => void start()}>
          Bind
        </button>
      </>
    );
  }

  return (
    <section className="bind-panel" aria-labelledby="bind-title">
      <h3 id="bind-title">Bind Google Authenticator</h3>
      <ol className="bind-steps">
        <li>
          <p>Install Google Authenticator (or any TOTP authenticator) on your phone and scan this QR code.</p>
          <img className="qr" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qrSvg)}`} alt="QR code to add Keygate to Google Authenticator" width={180} height={180} />
        </li>
        <li>
          <p>If you cannot scan it, enter this key in the app by hand. Keep it somewhere safe: it restores the authenticator on a new phone.</p>
          <div className="with-copy secret-box">
            <code data-testid="totp-secret">{setup.secret}</code>
            <CopyButton text={setup.secret} label="Copy authenticator key" />
          </div>
        </li>
        <li>
          <form
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              void confirm();
            }}
          >
            <Field label="Google Authenticator code" error={codeError} hint="The 6-digit code the app now shows for Keygate.">
              <input
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                placeholder="Verification code generated"
                value={code}
                onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
              />
            </Field>
            <Field label={<>Email Verification: {email}</>} error={emailCodeError} hint={sender.sent ? `A verification code was sent to ${email}.` : undefined}>
              <EmailCodeInput value={emailCode} onChange={setEmailCode} sender={sender} onSend={() => void send()} />
            </Field>
            <ErrorMessage message={error} />
            <button type="submit" className="button primary" disabled={busy || !SIX_DIGITS.test(code) || !SIX_DIGITS.test(emailCode)}>
              Confirm
            </button>
          </form>
        </li>
      </ol>
    </section>
  );
}

function ChangePassword({ totpBound }: { totpBound: boolean }) {
  const { signedOut } = useSession();
  const [open, setOpen] = useState(false);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [totp, setTotp] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ currentPassword?: string; newPassword?: string; totp?: string; form?: string }>({});

  const submit = async () => {
    const problems = {
      currentPassword: current ? undefined : 'Please enter your current password.',
      newPassword: passwordError(next),
      totp: totpBound && !SIX_DIGITS.test(totp) ? 'Enter the 6-digit code from Google Authenticator.' : undefined,
    };
    setErrors(problems);
    if (problems.currentPassword || problems.newPassword || problems.totp) return;
    setBusy(true);
    try {
      await api.changePassword(current, next, totpBound ? totp : undefined);
      // Every session of the account ends with the old password, this one too.
      signedOut();
      navigate('/login', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.field && ['currentPassword', 'newPassword', 'totp'].includes(e.field)) setErrors({ [e.field]: e.message });
      else if (e instanceof ApiError && e.code === 'password_incorrect') setErrors({ currentPassword: e.message });
      else setErrors({ form: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card security-item" aria-labelledby="password-title">
      <div className="security-item-head">
        <div>
          <h2 id="password-title">Login password</h2>
          <p className="muted">Changing it logs out every session of this account, this one too.</p>
        </div>
        {!open && (
          <button type="button" className="button ghost" onClick={() => setOpen(true)}>
            Change
          </button>
        )}
      </div>
      {open && (
        <form
          className="password-form"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <Field label="Current password" error={errors.currentPassword}>
            <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
          </Field>
          <Field label="New password" error={errors.newPassword} hint="At least 10 characters.">
            <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
          </Field>
          {totpBound && (
            <Field label="Google Authenticator code" error={errors.totp}>
              <input
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                placeholder="Verification code generated"
                value={totp}
                onChange={(e) => setTotp(e.target.value.replace(/\D/g, '').slice(0, 6))}
              />
            </Field>
          )}
          <ErrorMessage message={errors.form} />
          <div className="form-actions">
            <button type="button" className="button ghost" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="button primary" disabled={busy}>
              Change password
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

export function SecurityPage() {
  const me = useMe();
  const { refresh } = useSession();
  const [unbinding, setUnbinding] = useState(false);
  const [notice, setNotice] = useState<string>();

  return (
    <div className="security-page">
      <h1>Security</h1>
      <p className="page-lead">Google Authenticator protects your login and every change to your API keys.</p>
      <p className="notice" role="status">
        {notice ?? ''}
      </p>
      <section className="card security-item" aria-labelledby="ga-title">
        <div className="security-item-head">
          <div>
            <h2 id="ga-title">Google Authenticator</h2>
            <p className="muted">Used to log in, to create and edit API keys, and to unbind it.</p>
          </div>
          <div className="security-status">
            {me.totpBound ? <span className="tag success">Bound</span> : <span className="tag">Not bound</span>}
            {me.totpBound && (
              <button type="button" className="button ghost" onClick={() => setUnbinding(true)}>
                Unbind
              </button>
            )}
          </div>
        </div>
        {!me.totpBound && (
          <BindAuthenticator
            email={me.email}
            onDone={async () => {
              await refresh();
              setNotice('Google Authenticator is bound. You will need its code to log in and to create or edit API keys.');
            }}
          />
        )}
      </section>
      <section className="card security-item" aria-labelledby="email-title">
        <div className="security-item-head">
          <div>
            <h2 id="email-title">Email</h2>
            <p className="muted">Verification codes are sent to {me.email}.</p>
          </div>
          <span className="tag success">Bound</span>
        </div>
      </section>
      <ChangePassword totpBound={me.totpBound} />
      {unbinding && (
        <SecurityVerification
          purpose="unbind_totp"
          email={me.email}
          onClose={() => setUnbinding(false)}
          onConfirm={async (codes) => {
            await api.totpUnbind(codes.emailCode, codes.totp);
            setUnbinding(false);
            await refresh();
            setNotice('Google Authenticator was unbound. Bind it again before creating or editing API keys.');
          }}
        />
      )}
    </div>
  );
}
