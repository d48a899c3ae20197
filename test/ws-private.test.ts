// Private streams (orderUpdate, assetUpdate) over a real socket on SQLite and PostgreSQL: they reach only
// the subscribe key's account, and stop — with an error frame saying why — when the API key is disabled,
// deleted or all keys deleted, loses Read, or the subscribe key is destroyed or expires; the socket's
// public subscriptions carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { DATABASE_KINDS } from './support/databases.js';
import { trader, type Trader } from './support/exchange.js';
import { signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';
import { openSocket, type Frame, type TestSocket } from './support/ws.js';

describe.each(DATABASE_KINDS)('private streams on %s', (kind) => {
  let keygate: RunningKeygate;
  let shift = 0;
  const at = () => Date.now() + shift;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    keygate = await startKeygate(kind, { now: at });
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await keygate?.stop();
  });

  const subscribeKey = async (t: Trader) => (await signedPost(keygate.baseUrl, 'subscribe/get_key', t.client, { timestamp: at() })).body.data as string;
  const placeOrder = (t: Trader) => signedPost(keygate.baseUrl, 'supplement/create_order', t.client, { timestamp: at(), params: { symbol: 'lbk_usdt', type: 'buy', price: '0.01', amount: '10' } });

  /** A socket with the account's two private streams and one public one, their snapshots received. */
  async function streams(t: Trader, key: string): Promise<TestSocket> {
    const ws = await openSocket(keygate.baseUrl);
    sockets.push(ws);
    ws.send({ action: 'subscribe', subscribe: 'orderUpdate', subscribeKey: key, pair: 'all' });
    ws.send({ action: 'subscribe', subscribe: 'assetUpdate', subscribeKey: key });
    ws.send({ action: 'subscribe', subscribe: 'depth', depth: 10, pair: 'lbk_usdt' });
    await ws.next((f) => f.type === 'assetUpdate');
    await ws.next((f) => f.type === 'depth');
    return ws;
  }

  /** After the error frames: the account's next order reaches the socket no more, the book still does. */
  async function expectStopped(ws: TestSocket, t: Trader, why: RegExp): Promise<void> {
    const errors = [await ws.next((f) => f.status === 'error' && f.subscribe === 'orderUpdate'), await ws.next((f) => f.status === 'error' && f.subscribe === 'assetUpdate')];
    for (const error of errors) {
      expect(error).toMatchObject({ SERVER: 'V2', status: 'error', message: expect.stringMatching(why) });
      expect(JSON.stringify(error)).not.toMatch(/[0-9a-f]{64}/);
    }
    expect(errors[0]).toMatchObject({ pair: 'all' });
    const from = ws.frames.length;
    // The same account trades again: with the key enabled again, or (deleted) with a new one.
    let again = t;
    if ((await keygate.app.apiKeys.ownerOf(t.apiKey)) !== undefined) await keygate.app.apiKeys.setStatus(t.apiKey, 'enabled');
    else {
      const key = await keygate.app.apiKeys.create(t.userId, { name: 'again', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
      again = { ...t, apiKey: key.key.apiKey, client: new LbankClient({ baseUrl: keygate.baseUrl, apiKey: key.key.apiKey, secret: key.secret! }) };
    }
    const placed = await placeOrder(again);
    expect(placed.body.error_code).toBe(0);
    await ws.next((f) => f.type === 'depth', { from });
    ws.send({ action: 'ping', ping: 'done' });
    await ws.next((f) => f.pong === 'done', { from });
    expect(ws.frames.slice(from).filter((f) => f.type === 'orderUpdate' || f.type === 'assetUpdate')).toEqual([]);
  }

  it('sends an account only its own orders and balances', async () => {
    const alice = await trader(keygate, { usdt: '100' });
    const bob = await trader(keygate, { usdt: '100' });
    const ws = await streams(alice, await subscribeKey(alice));
    const from = ws.frames.length;
    await placeOrder(bob);
    const mine = await placeOrder(alice);
    const update = await ws.next((f) => f.type === 'orderUpdate', { from });
    expect((update.orderUpdate as Frame).uuid).toBe((mine.body.data as { order_id: string }).order_id);
    ws.send({ action: 'ping', ping: 'sync' });
    await ws.next((f) => f.pong === 'sync', { from });
    expect(ws.frames.slice(from).filter((f) => f.type === 'orderUpdate')).toHaveLength(1);
  });

  it('stops when the API key is disabled, and stays stopped once it is enabled again', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const ws = await streams(t, await subscribeKey(t));
    await keygate.app.apiKeys.setStatus(t.apiKey, 'disabled');
    await expectStopped(ws, t, /disabled/);
  });

  it('stops when the API key is deleted', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const ws = await streams(t, await subscribeKey(t));
    await keygate.app.apiKeys.delete(t.apiKey);
    await expectStopped(ws, t, /deleted/);
  });

  it('stops when all the account’s keys are deleted', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const ws = await streams(t, await subscribeKey(t));
    await keygate.app.apiKeys.deleteAllOwned(t.userId);
    await expectStopped(ws, t, /deleted/);
  });

  it('stops when the API key loses Read, even behind Keygate’s back', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const ws = await streams(t, await subscribeKey(t));
    await keygate.app.database.db.updateTable('api_keys').set({ authority: 'trade' }).where('api_key', '=', t.apiKey).execute();
    await expectStopped(ws, t, /Read/);
    await keygate.app.database.db.updateTable('api_keys').set({ authority: 'read,trade' }).where('api_key', '=', t.apiKey).execute();
  });

  it('stops when the subscribe key is destroyed', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const key = await subscribeKey(t);
    const ws = await streams(t, key);
    expect((await signedPost(keygate.baseUrl, 'subscribe/destroy_key', t.client, { timestamp: at(), params: { subscribeKey: key } })).body.result).toBe('true');
    await expectStopped(ws, t, /destroyed/);
  });

  it('stops when the subscribe key expires, and goes on while it is refreshed', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const key = await subscribeKey(t);
    const ws = await streams(t, key);
    shift += 50 * 60_000;
    await signedPost(keygate.baseUrl, 'subscribe/refresh_key', t.client, { timestamp: at(), params: { subscribeKey: key } });
    shift += 50 * 60_000;
    const from = ws.frames.length;
    await placeOrder(t);
    await ws.next((f) => f.type === 'orderUpdate', { from });
    shift += 11 * 60_000;
    await expectStopped(ws, t, /expired/);
  });

  it('refuses a wrong, expired or destroyed subscribe key with an error frame', async () => {
    const t = await trader(keygate, { usdt: '100' });
    const ws = await openSocket(keygate.baseUrl);
    sockets.push(ws);
    ws.send({ action: 'subscribe', subscribe: 'assetUpdate', subscribeKey: 'f'.repeat(64) });
    expect(await ws.next((f) => f.status === 'error')).toMatchObject({ message: 'subscribeKey is unknown or was destroyed' });
    const key = await subscribeKey(t);
    shift += 61 * 60_000;
    const from = ws.frames.length;
    ws.send({ action: 'subscribe', subscribe: 'orderUpdate', subscribeKey: key, pair: 'lbk_usdt' });
    expect(await ws.next((f) => f.status === 'error', { from })).toMatchObject({ message: expect.stringMatching(/expired/) });
    ws.send({ action: 'subscribe', subscribe: 'orderUpdate', pair: 'all' });
    expect(await ws.next((f) => f.status === 'error' && f.message !== (ws.frames[from] as Frame).message, { from })).toMatchObject({ message: "Missing parameter ['subscribeKey']" });
  });
});
