// GET /metrics over real HTTP, on SQLite and PostgreSQL: the series that signed requests (accepted
// and refused), portal calls, mails and orders leave behind, with their labels; no API key, email, IP
// or secret in the output; a 404 flood adds no series; off by default; a port of its own on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildHttpServer } from '../src/http/server.js';
import { createTestDatabase, DATABASE_KINDS } from './support/databases.js';
import { trader } from './support/exchange.js';
import { SHARED_REDIS_URL } from './support/fleet.js';
import { expectError, type Portal } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { signedPost } from './support/requests.js';
import { openSocket } from './support/ws.js';
import { startKeygate, TEST_MASTER_KEY, type RunningKeygate } from './support/server.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string; samples: Sample[] }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), text, samples: response.status === 200 ? parse(text) : [] };
}

/** The request series (names and labels, not values): what a flood must not grow. */
function requestSeries(samples: Sample[]): string[] {
  return samples
    .filter((s) => s.name.startsWith('keygate_http_request'))
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();
}

const RESTRICTIONS = 'supplement/api_Restrictions';
const RESTRICTIONS_ROUTE = '/v2/supplement/api_Restrictions.do';

describe.each(DATABASE_KINDS)('metrics on the main port (%s)', (kind) => {
  let harness: PortalHarness;
  let portal: Portal;
  let kg: RunningKeygate;
  const email = `metrics-${randomBytes(3).toString('hex')}@example.test`;
  const secrets: string[] = [];

  beforeAll(async () => {
    harness = await startPortal(kind, { env: { KEYGATE_METRICS: 'on' } });
    portal = harness.portal;
    kg = harness.kg;
  });
  afterAll(async () => harness?.stop());

  it('reports signed requests by route and outcome, and refusals by code and reason', async () => {
    const user = await kg.app.accounts.create(`signer-${randomBytes(3).toString('hex')}@example.test`, undefined);
    const key = await kg.app.apiKeys.create(user.id, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    secrets.push(key.key.apiKey, key.secret!);
    const client = new LbankClient({ baseUrl: kg.baseUrl, apiKey: key.key.apiKey, secret: key.secret! });
    const before = (await scrape(`${kg.baseUrl}/metrics`)).samples;

    expect((await signedPost(kg.baseUrl, RESTRICTIONS, client)).body.error_code).toBe(0);
    expect((await signedPost(kg.baseUrl, RESTRICTIONS, client)).body.error_code).toBe(0);
    const bad = await signedPost(kg.baseUrl, RESTRICTIONS, client, { tamper: (p) => (p.params.sign = 'f'.repeat(64)) });
    expect(bad.body.error_code).toBe(10007);
    const unknown = await signedPost(kg.baseUrl, RESTRICTIONS, new LbankClient({ baseUrl: kg.baseUrl, apiKey: 'a8f7e6d5-0000-4000-8000-000000000000', secret: 'F'.repeat(32) }));
    expect(unknown.body.error_code).toBe(10005);

    const { status, type, samples } = await scrape(`${kg.baseUrl}/metrics`);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const delta = (name: string, labels: Record<string, string>) => (value(samples, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    const route = { surface: 'v2', method: 'POST', route: RESTRICTIONS_ROUTE, status: '200' };
    expect(delta('keygate_http_requests_total', { ...route, code: '0' })).toBe(2);
    expect(delta('keygate_http_requests_total', { ...route, code: '10007' })).toBe(1);
    expect(delta('keygate_http_requests_total', { ...route, code: '10005' })).toBe(1);
    expect(delta('keygate_v2_signed_refusals_total', { code: '10007', reason: 'bad_signature' })).toBe(1);
    expect(delta('keygate_v2_signed_refusals_total', { code: '10005', reason: 'unknown_key' })).toBe(1);
    // The latency histogram: every request observed, refusals as errors.
    expect(delta('keygate_http_request_duration_seconds_count', { surface: 'v2', method: 'POST', route: RESTRICTIONS_ROUTE, result: 'ok' })).toBe(2);
    expect(delta('keygate_http_request_duration_seconds_count', { surface: 'v2', method: 'POST', route: RESTRICTIONS_ROUTE, result: 'error' })).toBe(2);
    expect(value(samples, 'keygate_http_request_duration_seconds_bucket', { surface: 'v2', method: 'POST', route: RESTRICTIONS_ROUTE, result: 'ok', le: '+Inf' })).toBeGreaterThanOrEqual(2);
    // Statements timed by kind; the process's own metrics.
    expect(value(samples, 'keygate_db_query_duration_seconds_count', { pool: 'main', statement: 'select', result: 'ok' })).toBeGreaterThan(0);
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    if (kind === 'postgres') {
      expect(value(samples, 'keygate_db_pool_connections', { pool: 'main', state: 'total' })).toBeGreaterThan(0);
      expect(value(samples, 'keygate_db_pool_max', { pool: 'main' })).toBe(10);
      expect(value(samples, 'keygate_db_pool_waiting', { pool: 'relaxed' })).toBe(0);
    } else {
      expect(value(samples, 'keygate_db_pool_connections', { pool: 'main', state: 'total' })).toBeUndefined();
    }
  });

  it('reports portal calls by route template and error code, and the mails sent', async () => {
    const client = await portal.signUp(email);
    const me = await client.get<{ uid: string }>('/api/v1/me');
    expect(me.status).toBe(200);
    expectError(await portal.client().post('/api/v1/auth/login', { email, password: 'not the password at all' }), 401, 'invalid_credentials');
    const missing = await client.delete(`/api/v1/api-keys/${'0'.repeat(8)}-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);

    const { samples } = await scrape(`${kg.baseUrl}/metrics`);
    expect(value(samples, 'keygate_http_requests_total', { surface: 'portal', method: 'POST', route: '/api/v1/auth/signup', status: '201', code: 'ok' })).toBe(1);
    expect(value(samples, 'keygate_http_requests_total', { surface: 'portal', method: 'GET', route: '/api/v1/me', status: '200', code: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'keygate_http_requests_total', { surface: 'portal', method: 'POST', route: '/api/v1/auth/login', status: '401', code: 'invalid_credentials' })).toBe(1);
    // A path parameter stays a template.
    expect(value(samples, 'keygate_http_requests_total', { surface: 'portal', method: 'DELETE', route: '/api/v1/api-keys/:apiKey', status: '404', code: 'api_key_not_found' })).toBe(1);
    expect(value(samples, 'keygate_mails_sent_total')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'keygate_mails_failed_total')).toBe(0);
  });

  it('reports orders placed, filled and cancelled, trades and the engine\'s lag, per market', async () => {
    const seller = await trader(kg, { btc: '1' });
    const buyer = await trader(kg, { usdt: '100000' });
    secrets.push(seller.apiKey, seller.secret, buyer.apiKey, buyer.secret);
    const ask = await seller.client.call<{ order_id: string }>('supplement/create_order', { symbol: 'btc_usdt', type: 'sell', price: '30000', amount: '0.5' });
    await buyer.client.call('supplement/create_order', { symbol: 'btc_usdt', type: 'buy', price: '30000', amount: '0.2' });
    await seller.client.call('supplement/cancel_order', { symbol: 'btc_usdt', orderId: ask.order_id });
    await kg.app.exchange.idle();

    const { samples } = await scrape(`${kg.baseUrl}/metrics`);
    const market = { market: 'btc_usdt' };
    expect(value(samples, 'keygate_orders_placed_total', market)).toBe(2);
    expect(value(samples, 'keygate_orders_filled_total', market)).toBe(1);
    expect(value(samples, 'keygate_orders_cancelled_total', market)).toBe(1);
    expect(value(samples, 'keygate_trades_total', market)).toBe(1);
    expect(value(samples, 'keygate_engine_lag_seconds_count', market)).toBe(2);
    expect(value(samples, 'keygate_orders_placed_total', { market: 'eth_usdt' })).toBeUndefined();
    expect(value(samples, 'keygate_http_requests_total', { surface: 'v2', method: 'POST', route: '/v2/supplement/create_order.do', status: '200', code: '0' })).toBe(2);
  });

  it('counts real WebSocket sockets, subscriptions and messages', async () => {
    const socket = await openSocket(kg.baseUrl);
    socket.send({ action: 'subscribe', subscribe: 'depth', depth: '10', pair: 'btc_usdt' });
    await socket.next((f) => f.type === 'depth');
    socket.send({ action: 'subscribe', subscribe: 'nonsense', pair: 'btc_usdt' });
    await socket.next((f) => f.status === 'error');
    let { samples } = await scrape(`${kg.baseUrl}/metrics`);
    expect(value(samples, 'keygate_ws_sockets')).toBe(1);
    expect(value(samples, 'keygate_ws_subscriptions')).toBe(1);
    expect(value(samples, 'keygate_http_requests_total', { surface: 'ws', method: 'WS', route: 'subscribe:depth', status: '101', code: '0' })).toBe(1);
    expect(value(samples, 'keygate_http_requests_total', { surface: 'ws', method: 'WS', route: 'invalid', status: '101', code: 'error' })).toBe(1);
    await socket.close();
    await expect.poll(async () => value((await scrape(`${kg.baseUrl}/metrics`)).samples, 'keygate_ws_sockets')).toBe(0);
    ({ samples } = await scrape(`${kg.baseUrl}/metrics`));
    expect(value(samples, 'keygate_ws_subscriptions')).toBe(0);
  });

  it('offers the WebSocket server its gauges', async () => {
    expect(value((await scrape(`${kg.baseUrl}/metrics`)).samples, 'keygate_ws_sockets')).toBe(0);
    kg.app.metrics.wsSockets.inc();
    kg.app.metrics.wsSubscriptions.inc(3);
    kg.app.metrics.observeWsMessage('subscribe:trade', '0', 0.001);
    const { samples } = await scrape(`${kg.baseUrl}/metrics`);
    expect(value(samples, 'keygate_ws_sockets')).toBe(1);
    expect(value(samples, 'keygate_ws_subscriptions')).toBe(3);
    expect(value(samples, 'keygate_http_requests_total', { surface: 'ws', method: 'WS', route: 'subscribe:trade', status: '101', code: '0' })).toBe(1);
    expect(value(samples, 'keygate_http_request_duration_seconds_count', { surface: 'ws', route: 'subscribe:trade', result: 'ok' })).toBe(1);
    kg.app.metrics.wsSockets.dec();
    kg.app.metrics.wsSubscriptions.dec(3);
  });

  it('counts, once each, unknown paths refused before the not-found handler runs', async () => {
    // An address past its public budget is refused (10004) by a hook, before any handler.
    const limited = await startKeygate(kind, { env: { KEYGATE_METRICS: 'on', KEYGATE_RATE_LIMITS: 'ip=3' } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await fetch(`${limited.baseUrl}/v2/nothing-here-${i}.do`, { method: 'POST' })).status);
      expect(codes).toEqual([404, 404, 404, 429, 429]);
      const { samples } = await scrape(`${limited.baseUrl}/metrics`);
      expect(value(samples, 'keygate_http_requests_total', { surface: 'v2', method: 'POST', route: 'unmatched', status: '404', code: '404' })).toBe(3);
      expect(value(samples, 'keygate_http_requests_total', { surface: 'v2', method: 'POST', route: 'unmatched', status: '429', code: '10004' })).toBe(2);
    } finally {
      await limited.stop();
    }
  });

  it('does not grow under a flood of unknown paths: they share one "unmatched" route', async () => {
    const flood = async (tag: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const path = `${tag}-${i}-${randomBytes(4).toString('hex')}`;
        await fetch(`${kg.baseUrl}/v2/${path}.do`, { method: 'POST' });
        await fetch(`${kg.baseUrl}/v2/${path}.do`);
        await fetch(`${kg.baseUrl}/api/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        await fetch(`${kg.baseUrl}/${path}.php`);
        await fetch(`${kg.baseUrl}/${path}`, { method: 'PATCH' });
        // A page: the portal's index.html, whatever the path (the app routes in the browser).
        await fetch(`${kg.baseUrl}/${path}`, { headers: { accept: 'text/html' } });
      }
    };
    await flood('warm', 1);
    // A scrape is counted once answered: the first makes the series of the next.
    await scrape(`${kg.baseUrl}/metrics`);
    const before = await scrape(`${kg.baseUrl}/metrics`);
    await flood('flood', 60);
    const after = await scrape(`${kg.baseUrl}/metrics`);
    expect(requestSeries(after.samples)).toEqual(requestSeries(before.samples));
    expect(after.text).not.toMatch(/flood-|warm-/);
    const unmatched = (labels: Record<string, string>) => value(after.samples, 'keygate_http_requests_total', { route: 'unmatched', status: '404', ...labels });
    expect(unmatched({ surface: 'v2', method: 'POST', code: '404' })).toBe(61);
    expect(unmatched({ surface: 'v2', method: 'GET', code: '404' })).toBe(61);
    expect(unmatched({ surface: 'portal', method: 'POST', code: 'not_found' })).toBe(61);
    expect(unmatched({ surface: 'web', method: 'GET', code: 'not_found' })).toBe(61);
    expect(unmatched({ surface: 'web', method: 'PATCH', code: 'not_found' })).toBe(61);
    expect(value(after.samples, 'keygate_http_requests_total', { surface: 'web', method: 'GET', route: '/*' })).toBe(61);
  });

  it('names no API key, secret, email or IP address', async () => {
    const { text } = await scrape(`${kg.baseUrl}/metrics`);
    expect(secrets.length).toBeGreaterThan(4);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain(email);
    expect(text).not.toContain('example.test');
    expect(text).not.toMatch(/\b127\.0\.0\.1\b|\b203\.0\.113\.|\b198\.51\.100\./);
    expect(text).not.toContain('keygate_session');
  });
});

describe.each(DATABASE_KINDS)('where metrics are served (%s)', (kind) => {
  it('is off by default: /metrics is not found', async () => {
    const kg = await startKeygate(kind);
    try {
      const response = await fetch(`${kg.baseUrl}/metrics`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
      expect(kg.app.metrics.endpoint).toBeUndefined();
    } finally {
      await kg.stop();
    }
  });

  it('KEYGATE_METRICS_PORT serves them on 127.0.0.1 on a port of their own, not on the main port; with Redis, its latency', async () => {
    const kg = await startKeygate(kind, {
      env: { KEYGATE_METRICS_PORT: '0', REDIS_URL: SHARED_REDIS_URL, KEYGATE_REDIS_PREFIX: `keygate-test:${randomBytes(6).toString('hex')}:` },
    });
    try {
      const endpoint = kg.app.metrics.endpoint!;
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(endpoint).port).not.toBe(new URL(kg.baseUrl).port);
      expect((await fetch(`${kg.baseUrl}/metrics`)).status).toBe(404);
      expect((await fetch(new URL('/', endpoint))).status).toBe(404);
      expect((await fetch(endpoint, { method: 'POST' })).status).toBe(404);

      const user = await kg.app.accounts.create('port@example.test', undefined);
      const key = await kg.app.apiKeys.create(user.id, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
      const client = new LbankClient({ baseUrl: kg.baseUrl, apiKey: key.key.apiKey, secret: key.secret! });
      expect((await signedPost(kg.baseUrl, RESTRICTIONS, client)).body.error_code).toBe(0);

      const { status, samples } = await scrape(endpoint);
      expect(status).toBe(200);
      expect(value(samples, 'keygate_http_requests_total', { surface: 'v2', route: RESTRICTIONS_ROUTE, code: '0' })).toBe(1);
      // The main port's refused scrape was counted like any request nothing serves.
      expect(value(samples, 'keygate_http_requests_total', { surface: 'ops', route: 'unmatched', status: '404' })).toBe(1);
      expect(value(samples, 'keygate_redis_command_duration_seconds_count', { command: 'claim', result: 'ok' })).toBe(1);
    } finally {
      await kg.stop();
    }
    // Stopped with the server.
    await expect(fetch(kg.app.metrics.endpoint!)).rejects.toThrow();
  });

  it('counts the mails the mail server refuses', async () => {
    const kg = await startKeygate(kind, { env: { KEYGATE_METRICS: 'on', SMTP_URL: 'smtp://127.0.0.1:1' } });
    try {
      const response = await fetch(`${kg.baseUrl}/api/v1/auth/email-code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nobody@example.test', purpose: 'signup' }) });
      expect(response.status).toBe(503);
      const { samples } = await scrape(`${kg.baseUrl}/metrics`);
      expect(value(samples, 'keygate_mails_failed_total')).toBe(1);
      expect(value(samples, 'keygate_mails_sent_total')).toBe(0);
      expect(value(samples, 'keygate_http_requests_total', { surface: 'portal', route: '/api/v1/auth/email-code', status: '503', code: 'mail_unavailable' })).toBe(1);
    } finally {
      await kg.stop();
    }
  });

  it('a metrics port already taken stops the start', async () => {
    const first = await startKeygate(kind, { env: { KEYGATE_METRICS_PORT: '0' } });
    const database = await createTestDatabase(kind);
    const env = { KEYGATE_DATA_DIR: database.dataDir, KEYGATE_MASTER_KEY: TEST_MASTER_KEY, KEYGATE_METRICS_PORT: new URL(first.app.metrics.endpoint!).port, ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}) };
    const app = await createApp(loadConfig(env), { logger: pino({ level: 'silent' }) });
    const server = buildHttpServer(app);
    try {
      await expect(server.listen({ host: '127.0.0.1', port: 0 })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await server.close();
      await app.close();
      await first.stop();
      await database.drop();
    }
  });
});

describe('metrics configuration', () => {
  it('is off unless asked for; a port of its own wins over the main port', () => {
    expect(loadConfig({}).metrics).toEqual({ serve: 'off' });
    expect(loadConfig({ KEYGATE_METRICS: 'off' }).metrics).toEqual({ serve: 'off' });
    expect(loadConfig({ KEYGATE_METRICS: 'on' }).metrics).toEqual({ serve: 'main' });
    expect(loadConfig({ KEYGATE_METRICS_PORT: '9464' }).metrics).toEqual({ serve: 'port', port: 9464 });
    expect(loadConfig({ KEYGATE_METRICS: 'on', KEYGATE_METRICS_PORT: '9464' }).metrics).toEqual({ serve: 'port', port: 9464 });
  });

  it.each([
    [{ KEYGATE_METRICS: 'yes' }, 'KEYGATE_METRICS'],
    [{ KEYGATE_METRICS_PORT: 'ninety' }, 'KEYGATE_METRICS_PORT'],
    [{ KEYGATE_METRICS_PORT: '70000' }, 'KEYGATE_METRICS_PORT'],
    [{ KEYGATE_METRICS: 'off', KEYGATE_METRICS_PORT: '9464' }, 'KEYGATE_METRICS_PORT'],
  ])('refuses %o, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});
