// Screen 4: "Security Verification". An email code (Send, then a 60-second wait shown on the button) and
// the Google Authenticator code (Paste), then Confirm. Used to create and edit keys and to unbind the
// authenticator.
import { useId, useState } from 'react';
import { api, ApiError, type CodePurpose } from '../api';
import { SIX_DIGITS } from '../rules';
import { Dialog } from './Dialog';
import { EmailCodeInput, useCodeSender } from './EmailCode';
import { ErrorMessage, Field, InputWithAction } from './Field';
import { HelpIcon } from './icons';


interface Props {
  purpose: CodePurpose;
  email: string;
  onClose: () => void;
  /** Throws an ApiError to show; errors about the codes are shown under their fields. */
  onConfirm: (codes: { emailCode: string; totp: string }) => Promise<void>;
}

export function SecurityVerification({ purpose, email, onClose, onConfirm }: Props) {
  const [emailCode, setEmailCode] = useState('');
  const [totp, setTotp] = useState('');
  const sender = useCodeSender();
  const [submitting, setSubmitting] = useState(false);
  const [errors, setErrors] = useState<{ emailCode?: string; totp?: string; form?: string }>({});
  const [showHelp, setShowHelp] = useState(false);
  const [notice, setNotice] = useState('');
  const helpId = useId();
  const totpHelpId = useId();

  const send = async () => {
    setErrors((e) => ({ ...e, emailCode: undefined, form: undefined }));
    try {
      await sender.send(() => api.sendSecurityCode(purpose));
      setNotice(`A verification code was sent to ${email}.`);
    } catch (error) {
      setErrors((e) => ({ ...e, emailCode: error instanceof Error ? error.message : String(error) }));
    }
  };

  const paste = async () => {
    try {
      const text = await navigator.clipboard.readText();
      const digits = text.replace(/\D/g, '').slice(0, 6);
      if (digits.length === 0) {
        setErrors((e) => ({ ...e, totp: 'The clipboard holds no code: copy the 6 digits from Google Authenticator, or type them.' }));
        return;
      }
      setTotp(digits);
      setErrors((e) => ({ ...e, totp: undefined }));
    } catch {
      setErrors((e) => ({ ...e, totp: 'The browser did not allow reading the clipboard: type the code instead.' }));
    }
  };

  const valid = SIX_DIGITS.test(emailCode) && SIX_DIGITS.test(totp);

  const confirm = async () => {
    if (!valid || submitting) return;
    setSubmitting(true);
    setErrors({});
    try {
      await onConfirm({ emailCode, totp });
    } catch (error) {
      if (error instanceof ApiError && error.field && /email/i.test(error.field)) setErrors({ emailCode: error.message });
      else if (error instanceof ApiError && error.field && /totp|code/i.test(error.field)) setErrors({ totp: error.message });
      else setErrors({ form: error instanceof Error ? error.message : String(error) });
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <Dialog title="Security Verification" onClose={onClose} className="verification-dialog">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void confirm();
        }}
        noValidate
      >
        <Field label={<>Email Verification: {email}</>} error={errors.emailCode}>
          <EmailCodeInput data-autofocus="" value={emailCode} onChange={setEmailCode} sender={sender} onSend={() => void send()} />
        </Field>
        <p className="dialog-notice" role="status">
          {notice}
        </p>
        <Field
          label={<>Google Auth Keygate(No.01): {email}</>}
          note={
            <span className="help-tip" tabIndex={0} aria-describedby={totpHelpId} aria-label="About this code">
              <HelpIcon />
              <span role="tooltip" id={totpHelpId}>
                The 6-digit code that Google Authenticator shows for Keygate. It changes every 30 seconds.
              </span>
            </span>
          }
          error={errors.totp}
        >
          <InputWithAction
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            placeholder="Verification code generated"
            value={totp}
            onChange={(event) => setTotp(event.target.value.replace(/\D/g, '').slice(0, 6))}
            action={
              <button type="button" className="link-button" onClick={() => void paste()}>
                Paste
              </button>
            }
          />
        </Field>
        <ErrorMessage message={errors.form} />
        <button type="submit" className="button primary block" disabled={!valid || submitting}>
          {submitting ? 'Confirming…' : 'Confirm'}
        </button>
        <button type="button" className="link-button help-link" aria-expanded={showHelp} aria-controls={helpId} onClick={() => setShowHelp((v) => !v)}>
          Didn't receive the verification email?
        </button>
        <div id={helpId} hidden={!showHelp} className="help-panel">
          <ul>
            <li>Press Send first: the code is mailed to {email} and is valid for 10 minutes.</li>
            <li>Look in the spam or junk folder, and check that the address above is yours.</li>
            <li>You can ask for a new code 60 seconds after the last one; only the newest code works.</li>
            <li>If no mail arrives at all, ask the operator of this Keygate server: without a mail server configured, codes are written to the server's log.</li>
          </ul>
        </div>
      </form>
    </Dialog>
  );
}
