// The portal's JSON API (/api/v1): one fetch wrapper that sends the CSRF token on every state-changing
// call and turns the API's error body {"error":{"code","message","field"}} into an ApiError.

export type Method = 'HmacSHA256' | 'RSA';
export const AUTHORITIES = ['read', 'trade', 'withdraw', 'futures', 'transfer'] as const;
export type Authority = (typeof AUTHORITIES)[number];
export type CodePurpose = 'bind_totp' | 'create_api_key' | 'edit_api_key' | 'enable_api_key' | 'unbind_totp';

export interface Me {
  uid: string;
  email: string;
  totpBound: boolean;
  createdAt: number;
  csrfToken: string;
}

export interface ApiKeyRow {
  apiKey: string;
  name: string;
  method: Method;
  /** The IP whitelist as typed: comma-separated, no spaces; empty for none. */
  ips: string;
  authority: Authority[];
  status: 'enabled' | 'disabled';
  createdAt: number;
  /** "Remaining valid date": when authority beyond Read lapses; null when permanent. */
  validUntil: number | null;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

/** What creation returns, once: the secret is never served again. */
export interface CreatedKey extends ApiKeyRow {
  /** HMAC: 32 hex characters; RSA: the private key; null when the user brought their own public key. */
  secretKey: string | null;
}

export interface TotpSetup {
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

export interface AuditEvent {
  id: number;
  at: number;
  type: string;
  ip: string | null;
  apiKey: string | null;
  detail: Record<string, string> | null;
  count: number;
}

export interface SentCode {
  sent: true;
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the API says the session is gone, so the app can show the login page. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown };
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Keygate cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (response.ok) return parsed as T;
  const error = (parsed as ErrorBody | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`;
  const message = typeof error?.message === 'string' ? error.message : `The request failed (HTTP ${response.status}).`;
  const field = typeof error?.field === 'string' ? error.field : undefined;
  const retryAfterHeader = Number(response.headers.get('retry-after'));
  const retryAfter = retryAfterHeader > 0 ? retryAfterHeader * 1000 : undefined;
  if (response.status === 401 && path !== '/auth/login' && path !== '/me') onSignedOut();
  throw new ApiError(response.status, code, message, field, retryAfter);
}

const enc = encodeURIComponent;

export const api = {
  me: () => request<Me>('GET', '/me'),
  sendSignupCode: (email: string) => request<SentCode>('POST', '/auth/email-code', { email, purpose: 'signup' }),
  signup: (email: string, password: string, emailCode: string) => request<Me>('POST', '/auth/signup', { email, password, emailCode }),
  login: (email: string, password: string, totp?: string) => request<Me>('POST', '/auth/login', totp ? { email, password, totp } : { email, password }),
  logout: () => request<unknown>('POST', '/auth/logout'),

  totpSetup: () => request<TotpSetup>('POST', '/security/totp/setup'),
  totpConfirm: (code: string, emailCode: string) => request<unknown>('POST', '/security/totp/confirm', { code, emailCode }),
  totpUnbind: (emailCode: string, totp: string) => request<unknown>('POST', '/security/totp/unbind', { emailCode, totp }),
  sendSecurityCode: (purpose: CodePurpose) => request<SentCode>('POST', '/security/email-code', { purpose }),
  changePassword: (currentPassword: string, newPassword: string, totp?: string) =>
    request<unknown>('POST', '/security/password', totp ? { currentPassword, newPassword, totp } : { currentPassword, newPassword }),

  listKeys: async () => (await request<{ keys: ApiKeyRow[] }>('GET', '/api-keys')).keys,
  createKey: (input: { name: string; method: Method; ips: string; authority: Authority[]; publicKey?: string; emailCode: string; totp: string }) =>
    request<CreatedKey>('POST', '/api-keys', input),
  editKey: (apiKey: string, input: { name: string; ips: string; authority: Authority[]; emailCode: string; totp: string }) =>
    request<unknown>('PATCH', `/api-keys/${enc(apiKey)}`, input),
  disableKey: (apiKey: string) => request<ApiKeyRow>('POST', `/api-keys/${enc(apiKey)}/disable`),
  enableKey: (apiKey: string, codes: { emailCode: string; totp: string }) => request<ApiKeyRow>('POST', `/api-keys/${enc(apiKey)}/enable`, codes),
  deleteKey: (apiKey: string) => request<unknown>('DELETE', `/api-keys/${enc(apiKey)}`),
  deleteAllKeys: () => request<unknown>('DELETE', '/api-keys'),

  auditLog: (before?: number) => request<{ events: AuditEvent[]; nextBefore: number | null }>('GET', `/audit-log${before ? `?before=${before}` : ''}`),
};
