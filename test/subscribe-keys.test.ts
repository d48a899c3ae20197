// Subscribe keys over real HTTP on both databases: made, refreshed and destroyed by signed requests
// of a key holding Read, 60 minutes of life from creation or the last refresh, and dead with their
// API key (disabled, deleted, all deleted) — for good, even once the API key is enabled again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from './support/databases.js';
import { trader, type Trader } from './support/exchange.js';
import { signedPost, type Reply } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const MINUTE = 60_000;

describe.each(DATABASE_KINDS)('subscribe keys on %s', (kind) => {
  let keygate: RunningKeygate;
  let shift = 0;
  const at = () => Date.now() + shift;
  let alice: Trader;

  beforeAll(async () => {
    keygate = await startKeygate(kind, { now: at });
    alice = await trader(keygate, {}, ['read']);
  });
  afterAll(async () => keygate?.stop());

  const post = (t: Trader, path: string, params: Record<string, string> = {}): Promise<Reply> => signedPost(keygate.baseUrl, `subscribe/${path}`, t.client, { params, timestamp: at() });
  const getKey = async (t: Trader) => {
    const reply = await post(t, 'get_key');
    expect(reply.body, JSON.stringify(reply.body)).toMatchObject({ result: true, error_code: 0 });
    return reply.body.data as string;
  };
  const standing = async (subscribeKey: string) => (await keygate.app.subscribeKeys.standings([subscribeKey])).get(subscribeKey)!;

  it('answers get_key with the boolean result ccxt pro needs, refresh and destroy with LBank’s string', async () => {
    const key = await getKey(alice);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await standing(key)).toMatchObject({ live: true, userId: alice.userId, apiKey: alice.apiKey });
    expect((await post(alice, 'refresh_key', { subscribeKey: key })).body).toMatchObject({ result: 'true', error_code: 0 });
    expect((await post(alice, 'destroy_key', { subscribeKey: key })).body).toMatchObject({ result: 'true', error_code: 0 });
    expect(await standing(key)).toEqual({ live: false, reason: 'unknown' });
    // Destroyed: neither refreshed nor destroyed again.
    expect((await post(alice, 'refresh_key', { subscribeKey: key })).body).toMatchObject({ result: 'false', error_code: 10003 });
    expect((await post(alice, 'destroy_key', { subscribeKey: key })).body).toMatchObject({ result: 'false', error_code: 10003 });
  });

  it('stores only a digest of each key', async () => {
    const key = await getKey(alice);
    const rows = await keygate.app.database.db.selectFrom('subscribe_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(key);
  });

  it('lives 60 minutes from its creation, and 60 minutes from each refresh', async () => {
    const key = await getKey(alice);
    shift += 59 * MINUTE;
    expect(await standing(key)).toMatchObject({ live: true });
    expect((await post(alice, 'refresh_key', { subscribeKey: key })).body).toMatchObject({ result: 'true' });
    shift += 59 * MINUTE;
    expect(await standing(key)).toMatchObject({ live: true });
    shift += 1 * MINUTE;
    expect(await standing(key)).toEqual({ live: false, reason: 'expired' });
    // Expired: it cannot be brought back.
    expect((await post(alice, 'refresh_key', { subscribeKey: key })).body).toMatchObject({ result: 'false', error_code: 10003 });
  });

  it('refuses a missing, malformed or another key’s subscribeKey', async () => {
    const bob = await trader(keygate, {}, ['read']);
    const bobs = await getKey(bob);
    expect((await post(alice, 'refresh_key')).body).toMatchObject({ result: 'false', error_code: 10001 });
    expect((await post(alice, 'refresh_key', { subscribeKey: 'nope' })).body).toMatchObject({ result: 'false', error_code: 10003 });
    expect((await post(alice, 'refresh_key', { subscribeKey: bobs })).body).toMatchObject({ result: 'false', error_code: 10003 });
    expect((await post(alice, 'destroy_key', { subscribeKey: bobs })).body).toMatchObject({ result: 'false', error_code: 10003 });
    expect(await standing(bobs)).toMatchObject({ live: true });
  });

  it('needs a signed request: an unknown key is refused with 10005', async () => {
    const reply = await post(alice, 'get_key');
    expect(reply.body.result).toBe(true);
    const forged = await signedPost(keygate.baseUrl, 'subscribe/get_key', alice.client, { timestamp: at(), tamper: (p) => (p.params.api_key = 'f'.repeat(36)) });
    expect(forged.body).toMatchObject({ result: 'false', error_code: 10005 });
  });

  it('dies with its API key: disabled (and stays dead once enabled again), deleted, all deleted', async () => {
    const carol = await trader(keygate, {}, ['read', 'trade']);
    const key = await getKey(carol);
    await keygate.app.apiKeys.setStatus(carol.apiKey, 'disabled');
    expect(await standing(key)).toEqual({ live: false, reason: 'api_key_disabled' });
    await keygate.app.apiKeys.setStatus(carol.apiKey, 'enabled');
    expect(await standing(key)).toEqual({ live: false, reason: 'api_key_disabled' });
    const fresh = await getKey(carol);
    expect(await standing(fresh)).toMatchObject({ live: true });
    await keygate.app.apiKeys.delete(carol.apiKey);
    expect(await standing(fresh)).toEqual({ live: false, reason: 'api_key_deleted' });

    const dave = await trader(keygate, {}, ['read']);
    const daves = await getKey(dave);
    await keygate.app.apiKeys.deleteAllOwned(dave.userId);
    expect(await standing(daves)).toEqual({ live: false, reason: 'api_key_deleted' });
  });

  it('answers with the result type LBank sends for each endpoint (boolean or string)', async () => {
    const t = await trader(keygate, { usdt: '100' }, ['read', 'trade']);
    const call = async (path: string, params: Record<string, string> = {}) => (await signedPost(keygate.baseUrl, path, t.client, { params, timestamp: at() })).body;
    const placed = await call('supplement/create_order', { symbol: 'lbk_usdt', type: 'buy', price: '0.01', amount: '10' });
    expect(placed.result).toBe(true);
    const orderId = (placed.data as { order_id: string }).order_id;
    expect((await call('create_order', { symbol: 'lbk_usdt', type: 'buy', price: '0.01', amount: '10' })).result).toBe(true);
    expect((await call('supplement/orders_info', { symbol: 'lbk_usdt', orderId })).result).toBe(true);
    expect((await call('supplement/orders_info_no_deal', { symbol: 'lbk_usdt', current_page: '1', page_length: '10' })).result).toBe(true);
    expect((await call('orders_info_no_deal', { symbol: 'lbk_usdt', current_page: '1', page_length: '10' })).result).toBe('true');
    expect((await call('supplement/cancel_order', { symbol: 'lbk_usdt', orderId })).result).toBe(true);
    expect((await call('supplement/cancel_order_by_symbol', { symbol: 'lbk_usdt' })).result).toBe('true');
    expect((await call('supplement/user_info')).result).toBe('true');
    expect((await call('supplement/api_Restrictions')).result).toBe('true');
    expect((await call('supplement/create_order', { symbol: 'nope_usdt', type: 'buy', price: '1', amount: '1' })).result).toBe('false');
  });

  it('keeps at most 100 live keys per API key, retiring the oldest', async () => {
    const erin = await trader(keygate, {}, ['read']);
    const first = await getKey(erin);
    for (let i = 0; i < 100; i++) await keygate.app.subscribeKeys.create(erin.apiKey, erin.userId);
    expect(await standing(first)).toEqual({ live: false, reason: 'unknown' });
    const count = await keygate.app.database.db.selectFrom('subscribe_keys').select((eb) => eb.fn.countAll<number | string>().as('n')).where('api_key', '=', erin.apiKey).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(100);
  });
});
