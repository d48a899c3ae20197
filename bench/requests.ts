// One benchmark request, signed afresh by the project's own client (src/client).
import { LbankClient } from '../src/client/index.js';
import type { SignatureMethod } from '../src/domain/signing.js';
import type { Credentials, Leg } from './protocol.js';

export const PUBLIC_PATH = '/v2/timestamp.do';
export const SIGNED_PATH = '/v2/supplement/api_Restrictions.do';

export interface BenchRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export class RequestFactory {
  readonly #clients: Record<SignatureMethod, LbankClient>;

  constructor(baseUrl: string, credentials: Credentials) {
    const client = (method: SignatureMethod) =>
      new LbankClient({ baseUrl, apiKey: credentials[method].apiKey, secret: credentials[method].secret, method });
    this.#clients = { HmacSHA256: client('HmacSHA256'), RSA: client('RSA') };
  }

  /** Signs a fresh parameter set (new echostr and timestamp) with the leg's method. */
  make(leg: Leg): BenchRequest {
    const { params, headers } = this.#clients[leg.method].sign();
    const form = new URLSearchParams(params).toString();
    // The public endpoint ignores the parameters; sending them keeps the two requests alike.
    if (leg.target === 'public') return { method: 'GET', path: `${PUBLIC_PATH}?${form}`, headers: { ...headers }, body: undefined };
    return {
      method: 'POST',
      path: SIGNED_PATH,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(form)) },
      body: form,
    };
  }
}

/** A request only counts if the server accepted it: a broken signature must not look fast. */
export function accepted(status: number | undefined, body: string): boolean {
  return status === 200 && body.includes('"result":"true"');
}
