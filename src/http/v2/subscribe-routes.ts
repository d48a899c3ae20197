// Subscribe keys for the WebSocket API's private streams (orderUpdate, assetUpdate): signed, Read.
import type { App } from '../../app.js';
import { LbankError } from './errors.js';
import type { SignedEndpoint } from './signed.js';
import { required } from './views.js';

export function subscribeEndpoints(app: App): SignedEndpoint[] {
  return [
    {
      path: 'subscribe/get_key',
      authority: 'read',
      // ccxt pro refuses anything but the boolean here.
      booleanResult: true,
      async handler({ key }) {
        return (await app.subscribeKeys.create(key.apiKey, key.userId)).subscribeKey;
      },
    },
    {
      path: 'subscribe/refresh_key',
      authority: 'read',
      async handler({ key, params }) {
        const expiresAt = await app.subscribeKeys.refresh(key.apiKey, required(params, 'subscribeKey'));
        if (expiresAt === undefined) throw new LbankError(10003, 'subscribeKey is not a live subscribe key of this API key (unknown, expired, destroyed or revoked)');
        return null;
      },
    },
    {
      path: 'subscribe/destroy_key',
      authority: 'read',
      async handler({ key, params }) {
        if (!(await app.subscribeKeys.destroy(key.apiKey, required(params, 'subscribeKey')))) {
          throw new LbankError(10003, 'subscribeKey is not a subscribe key of this API key');
        }
        return null;
      },
    },
  ];
}
