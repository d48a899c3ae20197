// The email verification code input with its Send link, and the resend cooldown it shows (screen 4).
import { useEffect, useState, type InputHTMLAttributes } from 'react';
import { ApiError, type SentCode } from '../api';
import { InputWithAction } from './Field';

const DEFAULT_COOLDOWN_S = 60;

export interface CodeSender {
  /** Asks for a code; starts the cooldown the server names, also when it refuses for being too soon. */
  send(request: () => Promise<SentCode>): Promise<void>;
  sent: boolean;
  label: string;
  disabled: boolean;
}

export function useCodeSender(): CodeSender {
  const [cooldown, setCooldown] = useState(0);
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState(false);

  useEffect(() => {
    if (cooldown <= 0) return;
    const timer = window.setTimeout(() => setCooldown((s) => s - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [cooldown]);

  return {
    async send(request) {
      setSending(true);
      try {
        const result = await request();
        setSent(true);
        setCooldown(Math.ceil(result.resendAfterSeconds ?? DEFAULT_COOLDOWN_S));
      } catch (error) {
        if (error instanceof ApiError && error.retryAfterMs) setCooldown(Math.ceil(error.retryAfterMs / 1000));
        throw error;
      } finally {
        setSending(false);
      }
    },
    sent,
    label: sending ? 'Sending…' : cooldown > 0 ? `Resend (${cooldown}s)` : sent ? 'Resend' : 'Send',
    disabled: sending || cooldown > 0,
  };
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>;

/** Six digits, with the Send link beside them. */
export function EmailCodeInput({ value, onChange, sender, onSend, ...input }: InputProps & { value: string; onChange: (code: string) => void; sender: CodeSender; onSend: () => void }) {
  return (
    <InputWithAction
      inputMode="numeric"
      autoComplete="one-time-code"
      maxLength={6}
      placeholder="Email verification code"
      {...input}
      value={value}
      onChange={(event) => onChange(event.target.value.replace(/\D/g, '').slice(0, 6))}
      action={
        <button type="button" className="link-button" disabled={sender.disabled} onClick={onSend}>
          {sender.label}
        </button>
      }
    />
  );
}
