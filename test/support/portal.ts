// A client of the portal's JSON API as a browser would be: it keeps the session cookie, sends the
// CSRF token, and (through a trusted proxy header) comes from an address of its own.
import { expect } from 'vitest';
import { LbankClient } from '../../src/client/index.js';
import { totpCode } from '../../src/domain/totp.js';
import type { RunningKeygate } from './server.js';
import { codeIn, type MailCatcher } from './smtp.js';

/** The portal's error body. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface Profile {
  uid: string;
  email: string;
  totpBound: boolean;
  createdAt: number;
  csrfToken: string;
}

export interface ApiKeyRow {
  name: string;
  apiKey: string;
  method: string;
  ips: string;
  authority: string[];
  validUntil: number | null;
  createdAt: number;
  status: string;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

export interface CreatedKey extends ApiKeyRow {
  secretKey: string;
}

export interface AuditEvent {
  id: number;
  type: string;
  at: number;
  ip: string | null;
  apiKey: string | null;
  count: number;
  detail: Record<string, string> | null;
}

export interface AuditPage {
  events: AuditEvent[];
  nextBefore: number | null;
}

export interface KeyList {
  keys: ApiKeyRow[];
}

/** LBank's envelope. */
export interface Envelope {
  result: string;
  data?: Record<string, unknown>;
  error_code?: number;
  msg?: string;
}

/** Any portal answer, read loosely: a test names the type when it reads deeper. */
export type Body = Record<string, unknown> & Partial<ErrorBody>;

export interface PortalResponse<T = Body> {
  status: number;
  body: T;
  headers: Headers;
}

/** A clock the server reads, moved by tests instead of waiting. */
export class TestClock {
  offset = 0;
  readonly now = (): number => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

let nextAddress = 0;
/** A distinct client address from the documentation ranges (RFC 5737), sent as X-Forwarded-For. */
export function testAddress(): string {
  const n = nextAddress++ % 500;
  return n < 250 ? `203.0.113.${n + 1}` : `198.51.100.${n - 249}`;
}

export class PortalClient {
  cookie: string | undefined;
  csrfToken: string | undefined;
  /** Every Set-Cookie line received, to check its attributes. */
  readonly setCookies: string[] = [];

  constructor(
    readonly baseUrl: string,
    readonly ip: string = testAddress(),
  ) {}

  async request<T = Body>(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean | string; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<PortalResponse<T>> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.ip, ...options.headers };
    if (this.cookie) headers.cookie = `keygate_session=${this.cookie}`;
    const csrf = options.csrf ?? true;
    if (typeof csrf === 'string') headers['x-csrf-token'] = csrf;
    else if (csrf && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    let payload: string | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(new URL(path, this.baseUrl), { method, headers, body: payload });
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const match = /^keygate_session=([^;]*)/.exec(line);
      if (!match) continue;
      const expired = /max-age=0/i.test(line) || /expires=thu, 01 jan 1970/i.test(line) || match[1] === '';
      this.cookie = expired ? undefined : match[1];
    }
    const text = await response.text();
    const parsed = (text ? JSON.parse(text) : undefined) as T;
    if (parsed && typeof parsed === 'object' && 'csrfToken' in parsed && typeof parsed.csrfToken === 'string') this.csrfToken = parsed.csrfToken;
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get<T = Body>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = Body>(path: string, body?: unknown, options?: { csrf?: boolean | string }) {
    return this.request<T>('POST', path, body, options);
  }
  patch<T = Body>(path: string, body?: unknown, options?: { csrf?: boolean | string }) {
    return this.request<T>('PATCH', path, body, options);
  }
  delete<T = Body>(path: string, options?: { csrf?: boolean | string }) {
    return this.request<T>('DELETE', path, undefined, options);
  }
}

/** Expects the portal's error shape with a given status and code; returns the error. */
export function expectError(response: PortalResponse<unknown>, status: number, code: string, field?: string): ErrorBody['error'] {
  const body = response.body as Partial<ErrorBody> | undefined;
  expect({ status: response.status, code: body?.error?.code }).toEqual({ status, code });
  expect(typeof body?.error?.message).toBe('string');
  expect(Object.keys(body ?? {})).toEqual(['error']);
  if (field !== undefined) expect(body?.error?.field).toBe(field);
  return body!.error!;
}

/** Everything a test needs to act as people on one running server. */
export class Portal {
  constructor(
    readonly kg: RunningKeygate,
    readonly mail: MailCatcher,
    readonly clock: TestClock,
  ) {}

  client(ip?: string): PortalClient {
    return new PortalClient(this.kg.baseUrl, ip);
  }

  /** Asks for a code and reads it from the mail that arrives. */
  async emailCode(client: PortalClient, email: string, purpose: string): Promise<string> {
    const before = this.mail.to(email).length;
    const response =
      purpose === 'signup'
        ? await client.post('/api/v1/auth/email-code', { email, purpose })
        : await client.post('/api/v1/security/email-code', { purpose });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const mail = await this.mail.waitFor(email);
    expect(this.mail.to(email).length).toBe(before + 1);
    return codeIn(mail);
  }

  /** A new account, signed in. */
  async signUp(email: string, password = 'a long and unusual passphrase'): Promise<PortalClient> {
    const client = this.client();
    const emailCode = await this.emailCode(client, email, 'signup');
    const response = await client.post('/api/v1/auth/signup', { email, password, emailCode });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return client;
  }

  /** Binds Google Authenticator; returns the seed, as the person's phone would keep it. */
  async bindTotp(client: PortalClient): Promise<string> {
    const setup = await client.post<{ secret: string }>('/api/v1/security/totp/setup');
    expect(setup.status, JSON.stringify(setup.body)).toBe(200);
    const secret = setup.body.secret;
    const me = await client.get<{ email: string }>('/api/v1/me');
    const emailCode = await this.emailCode(client, me.body.email, 'bind_totp');
    const confirmed = await client.post('/api/v1/security/totp/confirm', { code: totpCode(secret, this.clock.now()), emailCode });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    return secret;
  }

  /** The code the phone shows after the next 30-second step (a code is accepted once). */
  nextTotp(secret: string): string {
    this.clock.advance(30_000);
    return totpCode(secret, this.clock.now());
  }

  /** Waits out the email resend cooldown. */
  afterCooldown(): void {
    this.clock.advance(61_000);
  }

  /** Creates a key through the security verification; returns the API information (with the secret). */
  async createKey(client: PortalClient, email: string, secret: string, input: Record<string, unknown>): Promise<CreatedKey> {
    this.afterCooldown();
    const emailCode = await this.emailCode(client, email, 'create_api_key');
    const response = await client.post<CreatedKey>('/api/v1/api-keys', { ...input, emailCode, totp: this.nextTotp(secret) });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  /**
   * Calls a signed v2 endpoint with LbankClient, timestamped by the server's clock (which tests move).
   * Returns LBank's envelope.
   */
  async signed(credentials: { apiKey: string; secretKey: string }, path = 'supplement/api_Restrictions', ip?: string): Promise<Envelope> {
    const client = new LbankClient({ baseUrl: this.kg.baseUrl, apiKey: credentials.apiKey, secret: credentials.secretKey });
    const { params, headers } = client.sign({}, { timestamp: this.clock.now() });
    const response = await fetch(new URL(`/v2/${path}.do`, this.kg.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers, ...(ip ? { 'x-forwarded-for': ip } : {}) },
      body: new URLSearchParams(params).toString(),
    });
    return (await response.json()) as Envelope;
  }
}
