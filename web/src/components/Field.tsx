// A labelled field with its hint and its error in words, tied to the control for screen readers.
import { cloneElement, useId, type InputHTMLAttributes, type ReactElement, type ReactNode, type SelectHTMLAttributes } from 'react';

interface FieldProps {
  label: ReactNode;
  /** Text after the label (the seed's red notes). */
  note?: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  children: ReactElement<Record<string, unknown>>;
  className?: string;
}

export function Field({ label, note, hint, error, children, className }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${className ?? ''}`}>
      <div className="field-label-row">
        <label htmlFor={id}>{label}</label>
        {note}
      </div>
      {cloneElement(children, { id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      <p className="field-error" id={errorId} aria-live="polite">
        {error ?? ''}
      </p>
    </div>
  );
}

/** A text input with a link-like action inside it on the right (the seed's Send and Paste). */
export function InputWithAction({ action, ...input }: InputHTMLAttributes<HTMLInputElement> & { action: ReactNode }) {
  return (
    <div className="input-with-action">
      <input {...input} />
      {action}
    </div>
  );
}

export function ErrorMessage({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <div className="form-error" role="alert">
      {message}
    </div>
  );
}

/** A native select drawn like the seed's, with its chevron. */
export function Select({ children, ...select }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <div className="select-wrap">
      <select {...select}>{children}</select>
      <svg className="select-chevron" width="14" height="14" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true" focusable="false">
        <path d="M6 9l6 6 6-6" />
      </svg>
    </div>
  );
}
