// A typed client for any LBank v2–compatible server (Keygate or LBank itself): signs with an
// HmacSHA256 secret or an RSA private key and unwraps LBank's envelope.
import { randomBytes, type KeyObject } from 'node:crypto';
import { rsaPrivateKeyObject } from '../domain/keys.js';
import { signParams, type SignatureMethod, type SignedParams } from '../domain/signing.js';

export { buildStringToSign, md5UpperHex, signParams } from '../domain/signing.js';
export type { SignatureMethod, SignedParams } from '../domain/signing.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random bytes drawn in bulk: one call to the CSPRNG serves many echostrs. */
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomByte(): number {
  if (poolAt >= pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

/** A fresh random echostr of 35 alphanumeric characters. */
export function newEchostr(length = 35): string {
  let text = '';
  while (text.length < length) {
    // 248 is the largest multiple of 62 below 256: rejecting above it keeps the draw uniform.
    const byte = randomByte();
    if (byte < 248) text += ALPHANUMERIC[byte % 62];
  }
  return text;
}

export class LbankApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'LbankApiError';
  }
}

export interface ClientOptions {
  /** e.g. http://localhost:8080 — the /v2 prefix is added by the client. */
  baseUrl: string;
  apiKey: string;
  /** HmacSHA256: the 32-character secret. RSA: the private key (base64 PKCS#8 DER, or PEM). */
  secret: string;
  /** Inferred as ccxt does when omitted: secrets longer than 32 characters are RSA keys. */
  method?: SignatureMethod;
  /** Send parameters in the query string with an empty body, as LBank's Go and Java SDKs do. */
  paramsInQuery?: boolean;
}

export interface SignedRequestParts {
  /** Form parameters, including api_key and sign. */
  params: Record<string, string>;
  headers: { timestamp: string; signature_method: SignatureMethod; echostr: string };
  signed: SignedParams;
}

export class LbankClient {
  readonly method: SignatureMethod;
  readonly #secret: string | KeyObject;
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.method = options.method ?? (options.secret.length > 32 ? 'RSA' : 'HmacSHA256');
    this.#secret = this.method === 'RSA' ? rsaPrivateKeyObject(options.secret) : options.secret;
  }

  /** Builds the parameters and headers of a signed request without sending it. */
  sign(params: Record<string, string> = {}, at: { timestamp?: number; echostr?: string } = {}): SignedRequestParts {
    const headers = {
      timestamp: String(at.timestamp ?? Date.now()),
      signature_method: this.method,
      echostr: at.echostr ?? newEchostr(),
    };
    const withKey = { ...params, api_key: this.#options.apiKey };
    const signed = signParams(
      { ...withKey, ...headers },
      this.method === 'RSA' ? { method: 'RSA', privateKey: this.#secret } : { method: 'HmacSHA256', secret: this.#secret as string },
    );
    return { params: { ...withKey, sign: signed.sign }, headers, signed };
  }

  /** Calls a signed endpoint, e.g. call('supplement/api_Restrictions'), and returns its data. */
  async call<T = unknown>(path: string, params: Record<string, string> = {}): Promise<T> {
    const { params: form, headers } = this.sign(params);
    const body = new URLSearchParams(form).toString();
    const url = new URL(`/v2/${path}.do`, this.#options.baseUrl);
    if (this.#options.paramsInQuery) url.search = body;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: this.#options.paramsInQuery ? '' : body,
    });
    return unwrap<T>(response);
  }

  /** Calls a public endpoint, e.g. get('accuracy'). */
  async get<T = unknown>(path: string, params: Record<string, string> = {}): Promise<T> {
    const url = new URL(`/v2/${path}.do`, this.#options.baseUrl);
    url.search = new URLSearchParams(params).toString();
    return unwrap<T>(await fetch(url));
  }
}

async function unwrap<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: { result?: unknown; data?: unknown; error_code?: unknown; msg?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new LbankApiError(-1, `not a JSON response (HTTP ${response.status}): ${text.slice(0, 200)}`, response.status);
  }
  if (body.result === 'true' || body.result === true) return body.data as T;
  throw new LbankApiError(Number(body.error_code ?? -1), typeof body.msg === 'string' ? body.msg : 'request failed', response.status);
}
