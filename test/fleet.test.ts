// Several `keygate serve` processes on one PostgreSQL database and one Redis behave like one server
// for the signed API: a replay is refused everywhere, a key changed anywhere is refused on its next
// request everywhere, rate limits hold across the fleet, Redis away fails closed (503) and a Redis
// restarted empty opens no replay window, SIGTERM drains without a failed request.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient, newEchostr } from '../src/client/index.js';
import { ownRedis, startFleet, type Fleet, type FleetServer, type OwnRedis } from './support/fleet.js';
import { signedPost, type Reply } from './support/requests.js';

const RESTRICTIONS = 'supplement/api_Restrictions';

async function newKey(fleet: Fleet, authority: ('read' | 'trade')[] = ['read']) {
  const user = await fleet.admin.accounts.create(`fleet-${newEchostr().slice(0, 10)}@example.com`, undefined);
  const key = await fleet.admin.apiKeys.create(user.id, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority });
  return { userId: user.id, apiKey: key.key.apiKey, secret: key.secret!, client: new LbankClient({ baseUrl: 'http://unused', apiKey: key.key.apiKey, secret: key.secret! }) };
}

const ok = (reply: Reply) => expect(reply.body, JSON.stringify(reply.body)).toMatchObject({ result: 'true', error_code: 0 });
const refused = (reply: Reply, code: number) => {
  expect(reply.status).toBeLessThan(500);
  expect(reply.body).toMatchObject({ result: 'false', error_code: code });
};

describe('a fleet of two servers on PostgreSQL and Redis', () => {
  let fleet: Fleet;
  let a: FleetServer;
  let b: FleetServer;

  beforeAll(async () => {
    fleet = await startFleet(2, { env: { KEYGATE_RATE_LIMITS: 'orders=500,other=30,ip=0' } });
    [a, b] = fleet.servers as [FleetServer, FleetServer];
  });
  afterAll(async () => fleet?.stop());

  it('answers its probes', async () => {
    for (const server of [a, b]) {
      expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, redis: true, draining: false } });
    }
  });

  it('refuses on one server a request already accepted by the other', async () => {
    const { client } = await newKey(fleet);
    const fixed = { timestamp: Date.now(), echostr: newEchostr() };
    ok(await signedPost(a.baseUrl, RESTRICTIONS, client, fixed));
    const replay = await signedPost(b.baseUrl, RESTRICTIONS, client, fixed);
    refused(replay, 10600);
    expect(replay.body.msg).toContain('already used');
    // Copies landing on both servers at once: exactly one is accepted.
    const copy = { timestamp: Date.now(), echostr: newEchostr() };
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => signedPost((i % 2 ? a : b).baseUrl, RESTRICTIONS, client, copy)));
    expect(replies.filter((r) => r.body.result === 'true')).toHaveLength(1);
  });

  it('refuses a key on its next request everywhere once it is disabled, edited or deleted anywhere', async () => {
    const { userId, apiKey, client } = await newKey(fleet);
    // Both servers have the key cached.
    ok(await signedPost(a.baseUrl, RESTRICTIONS, client));
    ok(await signedPost(b.baseUrl, RESTRICTIONS, client));

    await fleet.admin.apiKeys.setStatus(apiKey, 'disabled');
    refused(await signedPost(a.baseUrl, RESTRICTIONS, client), 10005);
    refused(await signedPost(b.baseUrl, RESTRICTIONS, client), 10005);

    await fleet.admin.apiKeys.setStatus(apiKey, 'enabled');
    ok(await signedPost(a.baseUrl, RESTRICTIONS, client));
    ok(await signedPost(b.baseUrl, RESTRICTIONS, client));

    await fleet.admin.apiKeys.update(userId, apiKey, { ips: '10.9.8.7' });
    refused(await signedPost(a.baseUrl, RESTRICTIONS, client), 10022);
    refused(await signedPost(b.baseUrl, RESTRICTIONS, client), 10022);

    await fleet.admin.apiKeys.delete(apiKey);
    refused(await signedPost(a.baseUrl, RESTRICTIONS, client), 10005);
    refused(await signedPost(b.baseUrl, RESTRICTIONS, client), 10005);
  });

  it('counts a key\'s rate limit across the fleet, answering 10004 with HTTP 429', async () => {
    const { client } = await newKey(fleet);
    // 30 per 10 s for this fleet: 15 on each server, then the 31st is refused whichever server gets it.
    const first = await Promise.all(Array.from({ length: 30 }, (_, i) => signedPost((i % 2 ? a : b).baseUrl, RESTRICTIONS, client)));
    for (const reply of first) ok(reply);
    for (const server of [a, b]) {
      const over = await signedPost(server.baseUrl, RESTRICTIONS, client);
      expect(over.status).toBe(429);
      expect(over.body).toMatchObject({ result: 'false', error_code: 10004 });
    }
  });

  it('maps the limit to ccxt\'s RateLimitExceeded', async () => {
    const { apiKey, secret, client } = await newKey(fleet);
    for (let i = 0; i < 30; i++) ok(await signedPost(a.baseUrl, RESTRICTIONS, client));
    const exchange = new ccxt.lbank({ apiKey, secret, urls: { api: { rest: b.baseUrl, contract: b.baseUrl } } });
    await expect(exchange.spotPrivatePostSupplementApiRestrictions()).rejects.toBeInstanceOf(ccxt.RateLimitExceeded);
  });
});

describe('a fleet whose Redis goes away and comes back empty', () => {
  let redis: OwnRedis;
  let fleet: Fleet;
  let a: FleetServer;
  let b: FleetServer;

  beforeAll(async () => {
    redis = await ownRedis();
    // The load below sends as fast as it is answered, which a fast machine takes past LBank's 200 per 10 s.
    fleet = await startFleet(2, { redisUrl: redis.url, env: { KEYGATE_RATE_LIMITS: 'off' } });
    [a, b] = fleet.servers as [FleetServer, FleetServer];
  });
  afterAll(async () => {
    await fleet?.stop();
    await redis?.kill();
  });

  it('fails closed while Redis is away, accepts no replay after it restarts empty, and serves again', async () => {
    const { client } = await newKey(fleet);
    const captured = { timestamp: Date.now(), echostr: newEchostr() };
    ok(await signedPost(a.baseUrl, RESTRICTIONS, client, captured));

    // A load on both servers while Redis is killed and restarted with nothing in it.
    let running = true;
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    const load = (async () => {
      while (running) {
        const echostr = newEchostr();
        const reply = await signedPost((accepted.length % 2 ? a : b).baseUrl, RESTRICTIONS, client, { echostr });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.body.result === 'true') accepted.push(echostr);
        else expect([10017, 10600], JSON.stringify(reply.body)).toContain(reply.body.error_code);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    const away = await signedPost(b.baseUrl, RESTRICTIONS, client);
    expect(away.status).toBe(503);
    expect(away.body).toMatchObject({ result: 'false', error_code: 10017 });
    expect(away.body.msg).toContain('Redis');
    const notReady = await fetch(`${a.baseUrl}/readyz`);
    expect(notReady.status).toBe(503);

    await redis.start();
    // The captured request is still inside its receive window, but Redis no longer remembers it.
    let replay: Reply | undefined;
    for (let i = 0; i < 100; i++) {
      replay = await signedPost(b.baseUrl, RESTRICTIONS, client, captured);
      if (replay.status !== 503) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    refused(replay!, 10600);
    expect(Date.now() - captured.timestamp).toBeLessThan(5000);

    // Service is back on both servers.
    for (let i = 0; i < 100; i++) {
      const reply = await signedPost(a.baseUrl, RESTRICTIONS, client);
      if (reply.status === 200 && reply.body.result === 'true') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    ok(await signedPost(a.baseUrl, RESTRICTIONS, client));
    ok(await signedPost(b.baseUrl, RESTRICTIONS, client));
    running = false;
    await load;
    // Only 200 and 503: never a 500.
    expect([...statuses.keys()].every((s) => s === 200 || s === 503), JSON.stringify([...statuses])).toBe(true);
    expect(statuses.get(503)).toBeGreaterThan(0);
    // No echostr was accepted twice.
    expect(new Set(accepted).size).toBe(accepted.length);
  });
});

describe('a server that receives SIGTERM', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet(2, { env: { KEYGATE_DRAIN_SECONDS: '1', KEYGATE_RATE_LIMITS: 'off' } });
  });
  afterAll(async () => fleet?.stop());

  it('drains: it fails /readyz, finishes what it was given, and a load balancer loses no request', async () => {
    const [a, b] = fleet.servers as [FleetServer, FleetServer];
    const { client } = await newKey(fleet);
    // A load balancer in miniature: it sends to the servers its last probe found ready.
    const ready = new Set([a, b]);
    let probing = true;
    const probe = (async () => {
      while (probing) {
        for (const server of [a, b]) {
          const answer = await fetch(`${server.baseUrl}/readyz`).catch(() => undefined);
          if (answer?.status === 200) ready.add(server);
          else ready.delete(server);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const failures: string[] = [];
    let sent = 0;
    let running = true;
    const workers = Array.from({ length: 4 }, async () => {
      while (running) {
        const targets = [...ready];
        const server = targets[sent++ % targets.length]!;
        const reply = await signedPost(server.baseUrl, RESTRICTIONS, client).catch((error: Error) => ({ status: 0, body: { result: 'false', error_code: -1, msg: error.message, ts: 0 } }));
        if (reply.body.result !== 'true') failures.push(`${server.name}: ${reply.status} ${JSON.stringify(reply.body)}`);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    a.signal('SIGTERM');
    expect(await a.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await Promise.all(workers);
    probing = false;
    await probe;
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(20);
    expect(a.logs.join('\n')).toContain('Stopping: draining');
  });
});
