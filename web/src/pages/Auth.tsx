// Log in (with the authenticator code once one is bound) and sign up (with a code mailed to the address).
import { useState } from 'react';
import { api, ApiError, setCsrfToken } from '../api';
import { EmailCodeInput, useCodeSender } from '../components/EmailCode';
import { ErrorMessage, Field } from '../components/Field';
import { Link, navigate } from '../router';
import { emailError, passwordError, SIX_DIGITS } from '../rules';
import { useSession } from '../session';

function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get('next');
  // Only paths of this site: never an absolute or protocol-relative address.
  return next && /^\/(?!\/)/.test(next) ? next : '/dashboard';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function LoginPage() {
  const { refresh } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [fieldErrors, setFieldErrors] = useState<{ email?: string; password?: string; totp?: string }>({});

  const submit = async () => {
    const errors = { email: emailError(email), password: password ? undefined : 'Please enter your password.', totp: needTotp && !SIX_DIGITS.test(totp) ? 'Enter the 6-digit code from Google Authenticator.' : undefined };
    setFieldErrors(errors);
    if (errors.email || errors.password || errors.totp) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.login(email.trim(), password, needTotp ? totp : undefined);
      if (result?.csrfToken) setCsrfToken(result.csrfToken);
      if (await refresh()) navigate(nextPath(), { replace: true });
      else setError('You are logged in, but the session could not be read: check that the browser accepts cookies from this site.');
    } catch (e) {
      if (e instanceof ApiError && e.code === 'totp_required') {
        setNeedTotp(true);
        setFieldErrors({});
      } else if (e instanceof ApiError && e.field && /totp/i.test(e.field)) {
        setNeedTotp(true);
        setFieldErrors({ totp: e.message });
        setTotp('');
      } else {
        setError(messageOf(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="auth-page">
      <form
        className="auth-card"
        noValidate
        aria-labelledby="login-title"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h1 id="login-title">Log In</h1>
        <Field label="Email" error={fieldErrors.email}>
          <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} disabled={needTotp} />
        </Field>
        <Field label="Password" error={fieldErrors.password}>
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} disabled={needTotp} />
        </Field>
        {needTotp && (
          <>
            <p className="hint">This account is protected by Google Authenticator.</p>
            <Field label="Google Authenticator code" error={fieldErrors.totp}>
              <input
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                placeholder="Verification code generated"
                value={totp}
                autoFocus
                onChange={(e) => setTotp(e.target.value.replace(/\D/g, '').slice(0, 6))}
              />
            </Field>
          </>
        )}
        <ErrorMessage message={error} />
        <button type="submit" className="button primary block" disabled={busy}>
          {busy ? 'Logging in…' : 'Log In'}
        </button>
        <p className="auth-switch">
          No account yet? <Link to="/signup">Sign Up</Link>
        </p>
      </form>
    </main>
  );
}

export function SignupPage() {
  const { refresh } = useSession();
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const sender = useCodeSender();
  const [sentTo, setSentTo] = useState<string>();
  const [error, setError] = useState<string>();
  const [fieldErrors, setFieldErrors] = useState<{ email?: string; emailCode?: string; password?: string }>({});

  const send = async () => {
    const problem = emailError(email);
    setFieldErrors((f) => ({ ...f, email: problem, emailCode: undefined }));
    if (problem) return;
    try {
      await sender.send(() => api.sendSignupCode(email.trim()));
      setSentTo(email.trim());
    } catch (e) {
      setFieldErrors((f) => ({ ...f, [e instanceof ApiError && e.field === 'email' ? 'email' : 'emailCode']: messageOf(e) }));
    }
  };

  const submit = async () => {
    const errors = {
      email: emailError(email),
      emailCode: SIX_DIGITS.test(code) ? undefined : sentTo ? 'Enter the 6-digit code from the email.' : 'Press Send to get a verification code by email, then enter it here.',
      password: passwordError(password),
    };
    setFieldErrors(errors);
    if (errors.email || errors.emailCode || errors.password) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.signup(email.trim(), password, code);
      if (result?.csrfToken) setCsrfToken(result.csrfToken);
      // The API may or may not start a session at sign-up; log in if it did not.
      if (!(await refresh())) {
        const login = await api.login(email.trim(), password);
        if (login?.csrfToken) setCsrfToken(login.csrfToken);
        await refresh();
      }
      navigate('/dashboard', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.field && ['email', 'emailCode', 'password'].includes(e.field)) setFieldErrors({ [e.field]: e.message });
      else setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="auth-page">
      <form
        className="auth-card"
        noValidate
        aria-labelledby="signup-title"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h1 id="signup-title">Sign Up</h1>
        <Field label="Email" error={fieldErrors.email}>
          <input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Email verification code" error={fieldErrors.emailCode} hint={sentTo ? `A code was sent to ${sentTo}. It is valid for 10 minutes.` : undefined}>
          <EmailCodeInput value={code} onChange={setCode} sender={sender} onSend={() => void send()} />
        </Field>
        <Field label="Password" error={fieldErrors.password} hint="At least 10 characters. A passphrase of a few words is strong and easy to remember.">
          <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <ErrorMessage message={error} />
        <button type="submit" className="button primary block" disabled={busy}>
          {busy ? 'Signing up…' : 'Sign Up'}
        </button>
        <p className="auth-switch">
          Already have an account? <Link to="/login">Log In</Link>
        </p>
      </form>
    </main>
  );
}
