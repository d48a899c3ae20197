// LBank's request limits on a lone server (SQLite, and PostgreSQL without Redis): per key over a
// rolling 10 s window, one budget for order placements and cancellations and one for the rest; per
// client IP for public endpoints; 10004 with HTTP 429 past a limit; counted in the owner's audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';
import { RollingWindowCounter } from '../src/domain/rate-limits.js';
import { DATABASE_KINDS } from './support/databases.js';
import { signedPost, readReply, type Reply } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const RESTRICTIONS = 'supplement/api_Restrictions';

describe('KEYGATE_RATE_LIMITS', () => {
  it('defaults to LBank\'s limits, takes overrides or off, and names itself when wrong', () => {
    expect(loadConfig({}).rateLimits).toEqual({ orders: 500, other: 200, publicPerIp: 2000, windowMs: 10_000 });
    expect(loadConfig({ KEYGATE_RATE_LIMITS: 'other=1000, ip=0' }).rateLimits).toMatchObject({ orders: 500, other: 1000, publicPerIp: 0 });
    expect(loadConfig({ KEYGATE_RATE_LIMITS: 'off' }).rateLimits).toMatchObject({ orders: 0, other: 0, publicPerIp: 0 });
    expect(() => loadConfig({ KEYGATE_RATE_LIMITS: 'orders=fast' })).toThrow(/KEYGATE_RATE_LIMITS/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
  });
});

describe('the rolling window of a lone server', () => {
  it('stays exact with a limit far above LBank\'s, across the dropping of old hits', () => {
    const counter = new RollingWindowCounter();
    const charge = { bucket: 'key:other:k', limit: 50_000, windowMs: 10_000 };
    // 10 hits a millisecond for 10 s: the window fills to its limit exactly, then refuses.
    let now = 0;
    let counted = 0;
    for (; now < 10_000; now += 1) for (let i = 0; i < 10; i++) if (counter.hit(charge, now)) counted++;
    expect(counted).toBe(50_000);
    // From then on each millisecond frees the 10 hits counted 10 s before it (at ms 0–4999), and nothing more.
    for (let step = 0; step < 6_000; step++, now++) {
      let taken = 0;
      for (let i = 0; i < 12; i++) if (counter.hit(charge, now)) taken++;
      expect(taken, `at ${now} ms`).toBe(step < 5_000 ? 10 : 0);
    }
  });
});

describe.each(DATABASE_KINDS)('rate limits on a lone %s server', (kind) => {
  let keygate: RunningKeygate;
  let offset = 0;
  const now = () => Date.now() + offset;
  let client: LbankClient;
  let other: LbankClient;
  let apiKey: string;

  beforeAll(async () => {
    keygate = await startKeygate(kind, { now, env: { KEYGATE_RATE_LIMITS: 'orders=5,other=8,ip=12' } });
    const user = await keygate.app.accounts.create(`limits-${kind}@example.com`, undefined);
    await keygate.app.ledger.credit(user.id, 'usdt', '1000');
    const key = await keygate.app.apiKeys.create(user.id, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
    apiKey = key.key.apiKey;
    client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey, secret: key.secret! });
    const second = await keygate.app.apiKeys.create(user.id, { name: 'bot 2', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    other = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: second.key.apiKey, secret: second.secret! });
  });
  afterAll(async () => keygate?.stop());

  const limited = (reply: Reply) => {
    expect(reply.status).toBe(429);
    expect(reply.body).toMatchObject({ result: 'false', error_code: 10004 });
  };

  it('refuses the request past a key\'s budget, per key and per budget, until the window rolls on', async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => signedPost(keygate.baseUrl, RESTRICTIONS, client)));
    expect(replies.every((r) => r.body.result === 'true')).toBe(true);
    limited(await signedPost(keygate.baseUrl, RESTRICTIONS, client));
    // Another key of the same account has a budget of its own…
    expect((await signedPost(keygate.baseUrl, RESTRICTIONS, other)).body.result).toBe('true');
    // …and orders spend a budget of their own: 5 placements, then 10004.
    const order = { symbol: 'btc_usdt', type: 'buy', price: '100', amount: '0.01' };
    for (let i = 0; i < 5; i++) expect((await signedPost(keygate.baseUrl, 'supplement/create_order', client, { params: order })).body).toMatchObject({ result: true });
    limited(await signedPost(keygate.baseUrl, 'supplement/create_order', client, { params: order }));
    limited(await signedPost(keygate.baseUrl, 'supplement/cancel_order_by_symbol', client, { params: { symbol: 'btc_usdt' } }));
    // A rolling window: 10 s later the budget is back.
    offset += 10_001;
    expect((await signedPost(keygate.baseUrl, RESTRICTIONS, client, { timestamp: now() })).body.result).toBe('true');
    expect((await signedPost(keygate.baseUrl, 'supplement/cancel_order_by_symbol', client, { params: { symbol: 'btc_usdt' }, timestamp: now() })).body.result).toBe('true');
  });

  it('counts the refusals in the owner\'s audit log, per key and minute', async () => {
    await keygate.app.audit.flush();
    const user = await keygate.app.accounts.findByEmail(`limits-${kind}@example.com`);
    const events = await keygate.app.audit.list(user!.id, { limit: 50 });
    const rejections = events.filter((e) => e.type === 'signed_request_rejected' && e.detail?.reason === 'rate_limited');
    expect(rejections.reduce((sum, e) => sum + e.count, 0)).toBe(3);
    expect(rejections.every((e) => e.apiKey === apiKey)).toBe(true);
  });

  it('limits public endpoints per client IP', async () => {
    offset += 10_001;
    const replies = await Promise.all(Array.from({ length: 14 }, () => fetch(`${keygate.baseUrl}/v2/timestamp.do`).then(readReply)));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(12);
    for (const reply of replies.filter((r) => r.status !== 200)) limited(reply);
    // Signed requests spend their key's budget, not the address's.
    expect((await signedPost(keygate.baseUrl, RESTRICTIONS, other, { timestamp: now() })).body.result).toBe('true');
    // Probes are not LBank endpoints and spend nothing.
    expect((await fetch(`${keygate.baseUrl}/healthz`)).status).toBe(200);
  });
});
