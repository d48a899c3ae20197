// Bad input and abuse on /ws/V2/, over real sockets on SQLite and PostgreSQL: each is refused with
// LBank's error frame ({"SERVER":"V2","status":"error","message":…}) and the server carries on; a
// silent client is closed by the keep-alive, a slow consumer is disconnected. Limits are set low here.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from './support/databases.js';
import { startKeygate, type RunningKeygate } from './support/server.js';
import { openSocket, type TestSocket } from './support/ws.js';

const LIMITS = {
  KEYGATE_WS_MAX_FRAME_BYTES: '512',
  KEYGATE_WS_MAX_SUBSCRIPTIONS: '3',
  KEYGATE_WS_MAX_SOCKETS_PER_IP: '3',
  KEYGATE_WS_MAX_BUFFERED_BYTES: '65536',
  KEYGATE_WS_PING_INTERVAL_MS: '200',
  KEYGATE_WS_PONG_TIMEOUT_MS: '1000',
};

/** A client frame as RFC 6455 wants it from a client: masked. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, masked]);
}

/** A WebSocket client by hand, which can stop reading (a slow consumer). */
async function rawSocket(baseUrl: string): Promise<Socket> {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`GET /ws/V2/ HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      expect(head).toMatch(/^HTTP\/1\.1 101/);
      resolve();
    };
    socket.on('data', onData);
  });
  return socket;
}

describe.each(DATABASE_KINDS)('WebSocket abuse limits on %s', (kind) => {
  let keygate: RunningKeygate;
  const sockets: TestSocket[] = [];
  const socket = async (options?: { answerPings?: boolean }) => {
    const s = await openSocket(keygate.baseUrl, options);
    sockets.push(s);
    return s;
  };
  const errorOf = async (ws: TestSocket, message: unknown) => {
    const from = ws.frames.length;
    ws.send(message);
    return ws.next((f) => f.status === 'error', { from });
  };

  beforeAll(async () => {
    keygate = await startKeygate(kind, { env: LIMITS });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) await s.close();
  });
  afterAll(async () => keygate?.stop());

  it('refuses invalid JSON, a frame that is not an object, and binary frames, and keeps the socket', async () => {
    const ws = await socket();
    expect(await errorOf(ws, '{"action": subscribe')).toEqual({ SERVER: 'V2', status: 'error', message: 'invalid JSON', TS: expect.any(String) });
    expect((await errorOf(ws, '[1,2]')).message).toBe('a frame must be a JSON object');
    const from = ws.frames.length;
    ws.socket.send(Buffer.from('{}'), { binary: true });
    expect((await ws.next((f) => f.status === 'error', { from })).message).toBe('frames must be text (JSON)');
    ws.send({ action: 'ping', ping: 1 });
    expect(await ws.next((f) => f.action === 'pong')).toEqual({ action: 'pong', pong: 1 });
  });

  it('refuses an unknown action, channel, request, pair or kbar, and missing parameters', async () => {
    const ws = await socket();
    expect((await errorOf(ws, { action: 'subscribed', subscribe: 'depth' })).message).toMatch(/^unknown action subscribed/);
    expect((await errorOf(ws, {})).message).toBe("Missing parameter ['action']");
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'candles', pair: 'btc_usdt' })).message).toMatch(/^unknown subscribe candles/);
    expect((await errorOf(ws, { action: 'request', request: 'orders', pair: 'btc_usdt' })).message).toMatch(/^unknown request orders/);
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'trade', pair: 'nope_usdt' })).message).toBe('unknown pair nope_usdt');
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'trade', pair: 'not a pair' })).message).toBe('unknown pair not a pair');
    expect((await errorOf(ws, { action: 'request', request: 'tick', pair: 'nope_usdt' })).message).toBe('unknown pair nope_usdt');
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'kbar', kbar: '2h', pair: 'btc_usdt' })).message).toMatch(/^unknown kbar 2h/);
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'kbar', pair: 'btc_usdt' })).message).toBe("Missing parameter ['kbar']");
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'depth', pair: 'btc_usdt' })).message).toBe("Missing parameter ['depth']");
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'depth', depth: 101, pair: 'btc_usdt' })).message).toBe('depth must be a whole number from 1 to 100');
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'trade', pair: 5 })).message).toBe('pair must be a string');
    expect((await errorOf(ws, { action: 'request', request: 'kbar', kbar: '1min', pair: 'btc_usdt', start: 'yesterday' })).message).toMatch(/^start must be epoch seconds/);
    expect((await errorOf(ws, { action: 'pong', pong: 'never-sent' })).message).toBe('pong does not answer a ping of this server');
    expect(keygate.app.streams.subscriptions).toBe(0);
  });

  it('refuses a frame over the size limit', async () => {
    const ws = await socket();
    const big = JSON.stringify({ action: 'subscribe', subscribe: 'trade', pair: 'btc_usdt', padding: 'x'.repeat(600) });
    expect((await errorOf(ws, big)).message).toBe(`frame too large: ${Buffer.byteLength(big)} bytes, at most 512`);
  });

  it('refuses more subscriptions than the limit on one socket, but not a repeated one', async () => {
    const ws = await socket();
    for (const pair of ['btc_usdt', 'eth_usdt', 'sol_usdt']) ws.send({ action: 'subscribe', subscribe: 'trade', pair });
    ws.send({ action: 'subscribe', subscribe: 'trade', pair: 'btc_usdt' });
    expect((await errorOf(ws, { action: 'subscribe', subscribe: 'tick', pair: 'btc_usdt' })).message).toBe('at most 3 subscriptions per connection');
    expect(ws.frames.filter((f) => f.status === 'error')).toHaveLength(1);
    expect(keygate.app.streams.subscriptions).toBe(3);
  });

  it('refuses more sockets from one address than the limit', async () => {
    await Promise.all([socket(), socket(), socket()]);
    const fourth = await openSocket(keygate.baseUrl);
    const error = await fourth.next((f) => f.status === 'error');
    expect(error.message).toBe('at most 3 connections from one address');
    expect((await fourth.closed).code).toBe(1008);
    await sockets.pop()!.close();
    const again = await socket();
    again.send({ action: 'ping', ping: 'in' });
    await again.next((f) => f.pong === 'in');
  });

  it('closes a client that answers no ping within the pong timeout, and keeps one that does', async () => {
    const silent = await socket({ answerPings: false });
    const polite = await socket();
    const ping = await silent.next((f) => f.action === 'ping');
    expect(ping).toEqual({ action: 'ping', ping: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const closed = await silent.closed;
    expect(closed.code).toBe(1008);
    expect(silent.frames.find((f) => f.status === 'error')).toMatchObject({ message: 'no pong for 1 s: closing' });
    expect(polite.frames.filter((f) => f.action === 'ping').length).toBeGreaterThan(2);
    polite.send({ action: 'ping', ping: 'still here' });
    await polite.next((f) => f.pong === 'still here');
  });

  it('disconnects a consumer whose unsent backlog passes the limit, and the server carries on', async () => {
    // A server of its own: a consumer that reads nothing answers no ping either, and the short
    // keep-alive above would close it first.
    const own = await startKeygate(kind, { env: { KEYGATE_WS_MAX_BUFFERED_BYTES: '65536' } });
    try {
      await slowConsumer(own);
    } finally {
      await own.stop();
    }
  });
});

/** A client that stops reading while it asks for ~30 KB answers: the server lets it go. */
async function slowConsumer(keygate: RunningKeygate): Promise<void> {
  // 600 trades make each trade reply about 30 KB.
  const user = await keygate.app.accounts.create(`slow-${Date.now()}@example.com`, undefined);
  const trades = Array.from({ length: 600 }, (_, i) => ({
    symbol: 'doge_usdt', price: '0.12345678', quantity: `${1000 + i}.12345678`, quote_quantity: '123.45678', taker_side: 'buy',
    maker_order_id: 'm', taker_order_id: 't', maker_user_id: user.id, taker_user_id: user.id, maker_fee: '0', maker_fee_asset: 'usdt', maker_fee_rate: '0',
    taker_fee: '0', taker_fee_asset: 'doge', taker_fee_rate: '0', created_at: Date.now(),
  }));
  await keygate.app.database.db.insertInto('trades').values(trades).execute();
  const slow = await rawSocket(keygate.baseUrl);
  slow.pause();
  const request = maskedText(JSON.stringify({ action: 'request', request: 'trade', pair: 'doge_usdt', size: 600 }));
  const disconnected = () => keygate.logs.some((line) => line.includes('WebSocket client too slow'));
  for (let round = 0; round < 200 && !disconnected(); round++) {
    for (let i = 0; i < 20; i++) slow.write(request);
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(disconnected()).toBe(true);
  slow.destroy();
  const ws = await openSocket(keygate.baseUrl);
  ws.send({ action: 'request', request: 'depth', depth: 5, pair: 'doge_usdt' });
  expect(await ws.next((f) => f.type === 'depth')).toMatchObject({ asks: [], bids: [] });
  await ws.close();
}
