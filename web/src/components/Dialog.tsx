// A real modal dialog: the native <dialog> opened with showModal(), so the page behind is inert, Tab
// stays inside, Escape closes it, and it is announced by role and name. Focus goes to the element
// marked data-autofocus (or the first field) and returns to the opener on close.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { CloseIcon } from './icons';

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** alertdialog for confirmations of destructive actions. */
  role?: 'dialog' | 'alertdialog';
  className?: string;
  describedBy?: string;
}

export function Dialog({ title, onClose, children, role = 'dialog', className, describedBy }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>('input, select, textarea');
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      role={role === 'alertdialog' ? 'alertdialog' : undefined}
      aria-modal="true"
      aria-labelledby={titleId}
      aria-describedby={describedBy}
      className={`dialog ${className ?? ''}`}
      onCancel={(event) => {
        // Escape: let React's state decide, so the dialog and the state never disagree.
        event.preventDefault();
        onCloseRef.current();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button dialog-close" aria-label="Close" onClick={() => onCloseRef.current()}>
          <CloseIcon />
        </button>
      </div>
      {children}
    </dialog>
  );
}
