// A confirmation for destructive actions (delete a key, delete all keys, unbind).
import { useId, useState, type ReactNode } from 'react';
import { ErrorMessage } from './Field';
import { Dialog } from './Dialog';

interface Props {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const bodyId = useId();
  return (
    <Dialog title={title} onClose={onClose} role="alertdialog" describedBy={bodyId} className="confirm-dialog">
      <div id={bodyId} className="confirm-body">
        {children}
      </div>
      <ErrorMessage message={error} />
      <div className="dialog-actions">
        <button type="button" className="button ghost" data-autofocus="" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError(undefined);
            onConfirm().then(
              () => setBusy(false),
              (e: unknown) => {
                setBusy(false);
                setError(e instanceof Error ? e.message : String(e));
              },
            );
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
