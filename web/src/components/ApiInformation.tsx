// Screen 5: "API information", shown once after creation. The secret lives only in this dialog's
// props: once it is closed (or the page reloads) it is gone for good.
import type { CreatedKey } from '../api';
import { CopyButton } from './CopyButton';
import { Dialog } from './Dialog';
import { InfoIcon } from './icons';

export function ApiInformation({ created, onClose }: { created: CreatedKey; onClose: () => void }) {
  const key = created;
  const secret = created.secretKey;
  const rsa = key.method === 'RSA';
  return (
    <Dialog title="API information" onClose={onClose} className="info-dialog">
      <dl className="info-list">
        <div>
          <dt>API Name</dt>
          <dd>{key.name}</dd>
        </div>
        <div>
          <dt>Verification method</dt>
          <dd>{key.method}</dd>
        </div>
        <div>
          <dt>API Key</dt>
          <dd className="with-copy">
            <code data-testid="api-key">{key.apiKey}</code>
            <CopyButton text={key.apiKey} label="Copy API Key" />
          </dd>
        </div>
        <div>
          <dt>{rsa && secret ? 'Secret Key (RSA private key, base64 PKCS#8)' : 'Secret Key'}</dt>
          {secret ? (
            <dd className="with-copy">
              <code data-testid="secret-key" className={rsa ? 'long-secret' : undefined}>
                {secret}
              </code>
              <CopyButton text={secret} label="Copy Secret Key" />
            </dd>
          ) : (
            <dd className="muted">Your own RSA private key: Keygate holds only the public key you gave it.</dd>
          )}
        </div>
      </dl>
      <div className="special-tips">
        <p className="special-tips-title">
          <InfoIcon /> Special tips:
        </p>
        <ul>
          <li>The API information will be shown only once and cannot be recovered after being lost. Please keep it properly.</li>
          <li>Please do not leak the important information, such as your Secret Key and API Key, to avoid asset loss.</li>
          <li>If you forget the Secret Key, please delete the Key pair and apply for a new one.</li>
        </ul>
      </div>
      <button type="button" className="button primary block" data-autofocus="" onClick={onClose}>
        Confirm
      </button>
    </Dialog>
  );
}
